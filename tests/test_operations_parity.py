"""docs/operations.md is the contract between providers and scripts (issue 11 item 4): since the twins are gone,
nothing else holds an operation's parameters, so each documented table must be exactly its script's param() block.

The script side is read with the interpreter's own compiler (what the node binds), the doc side from its table:
name and order, type, mandatory, constant default, and SECRET (a plain-text password parameter, which the script
marks for PSScriptAnalyzer with PSAvoidUsingPlainTextForPassword).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulator.powershell import ast
from simulator.powershell.compiler import compile_script

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "providers" / "scripts"
OPERATIONS_MD = ROOT / "docs" / "operations.md"
SECTION = re.compile(r"^### `([a-z_]+)`\s*$")
ROW = re.compile(r"^\|\s*`([A-Za-z][A-Za-z0-9]*)`\s*\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|\s*$")


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    mandatory: bool
    default: str
    secret: bool


def documented() -> dict[str, list[Parameter]]:
    """Each `### \\`operation\\`` section of docs/operations.md with the rows of its parameter table."""
    sections: dict[str, list[Parameter]] = {}
    current: list[Parameter] | None = None
    for line in OPERATIONS_MD.read_text(encoding="utf-8").splitlines():
        heading = SECTION.match(line)
        if heading:
            current = sections.setdefault(heading.group(1), [])
            continue
        if line.startswith("## "):
            current = None
            continue
        row = ROW.match(line)
        if current is not None and line.startswith("| `"):
            assert row, f"docs/operations.md: a parameter row this check cannot read: {line}"
        if row and current is not None:
            name, type_, mandatory, default, secret = (cell.strip() for cell in row.groups())
            current.append(Parameter(name, type_, mandatory == "yes", default.strip("`"), secret == "SECRET"))
    return sections


def _literal(node: ast.Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, ast.Variable) and node.name.lower() in ("true", "false", "null"):
        return node.name.lower()  # $true, $false, $null
    if isinstance(node, ast.ArrayExpr | ast.ArrayLiteral):  # @('a', 'b') as the table writes it: a, b
        items = node.statements if isinstance(node, ast.ArrayExpr) else node.items
        while len(items) == 1 and isinstance(items[0], ast.PipelineStatement | ast.Pipeline | ast.ArrayLiteral):
            only = items[0]
            if isinstance(only, ast.PipelineStatement):
                items = [only.pipeline]
            elif isinstance(only, ast.Pipeline):
                items = only.elements
            else:
                items = only.items
        return ", ".join(_literal(item) for item in items)
    if isinstance(node, ast.Constant):
        value = node.value
        return str(value).lower() if isinstance(value, bool) else str(value)
    return f"<{type(node).__name__}>"


def declared(script: Path) -> list[Parameter]:
    compiled = compile_script(script.read_text(encoding="utf-8"), script.name)
    assert compiled.block is not None, f"{script.name} does not compile"
    block = compiled.block.param_block
    parameters: list[Parameter] = []
    for parameter in block.parameters if block is not None else []:
        mandatory = any(
            attribute.name.lower() == "parameter"
            and any(name.lower() == "mandatory" and _literal(value) in ("true", "1") for name, value in attribute.named)
            for attribute in parameter.attributes
        )
        secret = any(
            attribute.name.lower().endswith("suppressmessageattribute")
            and any(_literal(value) == "PSAvoidUsingPlainTextForPassword" for value in attribute.positional)
            for attribute in parameter.attributes
        )
        parameters.append(
            Parameter(
                parameter.name,
                (parameter.type_name or "object").lower(),
                mandatory,
                _literal(parameter.default),
                secret,
            )
        )
    return parameters


DOCUMENTED = documented()
SCRIPT_NAMES = sorted(path.stem for path in SCRIPTS.glob("*.ps1"))


def test_every_script_is_documented_and_every_documented_operation_has_its_script() -> None:
    assert sorted(DOCUMENTED) == SCRIPT_NAMES


@pytest.mark.parametrize("operation", SCRIPT_NAMES)
def test_the_documented_parameters_are_the_script_s_param_block(operation: str) -> None:
    script = declared(SCRIPTS / f"{operation}.ps1")
    documentation = DOCUMENTED.get(operation, [])
    assert [p.name for p in documentation] == [p.name for p in script], "names and their order"
    for doc, real in zip(documentation, script, strict=True):
        assert doc == real, f"{operation} -{real.name}: docs/operations.md says {doc}, the script declares {real}"


def test_the_parity_check_sees_a_drifted_table() -> None:
    """The check can fail: a parameter the doc makes optional while the script makes it mandatory is caught."""
    script = declared(SCRIPTS / "role_get.ps1")
    assert script[0] == Parameter("Name", "string", True, "", False)
    assert DOCUMENTED["role_get"][0] == script[0]
    assert Parameter("Name", "string", False, "", False) != script[0]
