"""The scripts in providers/scripts and docs/operations.md, the contract between providers and scripts, describe the
same operations: every script has its section, and each section's parameter table is the script's param() block
(names, types, Mandatory, defaults, which ones carry a secret)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell

from simulator.powershell import ast
from simulator.powershell.compiler import compile_script

SCRIPTS = Path(__file__).resolve().parent.parent / "providers" / "scripts"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
SCRIPT_NAMES = sorted(p.stem for p in SCRIPTS.glob("*.ps1"))
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
# The helpers several scripts use: one copy each, in the script library the envelope carries.
LIBRARY = Path(__file__).resolve().parent.parent / "providers" / "library.ps1"
SHARED_FUNCTIONS = (
    "Invoke-Delegated", "Get-RoleState", "Get-SsoState", "Get-SecretState", "Get-DtcState", "Get-Quorum",
    "Get-SecretServer", "Get-SsoStartEvent", "Invoke-SsoComMember", "Set-PrivateDirectory",
)


def script_text(name: str) -> str:
    return (SCRIPTS / f"{name}.ps1").read_text(encoding="utf-8")


def secret_parameters(text: str) -> set[str]:
    """Parameters marked as carrying a secret: the PSAvoidUsingPlainTextForPassword suppression attribute."""
    root = PARSER.parse(text.encode("utf-8")).root_node
    block = next(child for child in root.children if child.type == "param_block")
    found = set()
    for parameter_list in (c for c in block.children if c.type == "parameter_list"):
        for parameter in (c for c in parameter_list.children if c.type == "script_parameter"):
            source = (parameter.text or b"").decode("utf-8")
            if "PSAvoidUsingPlainTextForPassword" in source:
                variable = next(c for c in parameter.children if c.type == "variable")
                found.add((variable.text or b"").decode("utf-8").lstrip("$"))
    return found


@dataclass(frozen=True)
class Parameter:
    """One parameter, as a param() block declares it or as operations.md's table documents it."""

    name: str
    type: str
    mandatory: bool
    default: str  # '' when none; a list as its items joined by ', '
    secret: bool


def declared(name: str) -> list[Parameter]:
    """The script's param() block, read by the interpreter's own compiler."""
    compiled = compile_script(script_text(name), f"{name}.ps1")
    assert compiled.block is not None, (name, compiled.parse_failure, compiled.unsupported)
    block = compiled.block.param_block
    source = compiled.block.source.text
    found = []
    for parameter in block.parameters if block is not None else []:
        mandatory = any(
            attribute.name.lower() == "parameter"
            and any(key.lower() == "mandatory" and _true(value) for key, value in attribute.named)
            for attribute in parameter.attributes
        )
        secret = any(
            attribute.name.lower().endswith("suppressmessageattribute")
            and "PSAvoidUsingPlainTextForPassword" in source[attribute.pos.start : attribute.pos.end]
            for attribute in parameter.attributes
        )
        default = ""
        if parameter.default is not None:
            text = source[parameter.default.pos.start : parameter.default.pos.end]
            # a list as its items joined by ', '; an empty string or array as written ('' or @())
            items = re.findall(r"'([^']*)'", text)
            default = text if text in ("''", "@()") else ", ".join(items) if "'" in text else text
        found.append(Parameter(parameter.name, (parameter.type_name or "object").lower(), mandatory, default, secret))
    return found


def _true(value: ast.Node | None) -> bool:
    return value is None or (isinstance(value, ast.Variable) and value.name.lower() == "true")


def documented() -> dict[str, list[Parameter]]:
    """docs/operations.md: the parameter table of each operation's section."""
    docs = DOCS.read_text(encoding="utf-8")
    sections = re.findall(r"^### `(\w+)`\n(.*?)(?=^### |^## |\Z)", docs, re.S | re.M)
    table: dict[str, list[Parameter]] = {}
    for name, body in sections:
        rows = re.findall(r"^\| `(\w+)` \|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|$", body, re.M)
        table[name] = [
            Parameter(p, t.strip().lower(), m.strip() == "yes", d.strip(), s.strip() == "SECRET")
            for p, t, m, d, s in rows
        ]
    return table


def test_every_script_has_its_section_in_the_contract_and_every_section_a_script() -> None:
    assert SCRIPT_NAMES, "no scripts found"
    assert sorted(documented()) == SCRIPT_NAMES


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_param_block_is_the_documented_parameter_table(name: str) -> None:
    script, docs = declared(name), documented()[name]
    assert [p.name for p in script] == [p.name for p in docs]
    for ours, theirs in zip(script, docs, strict=True):
        assert (ours.type, ours.mandatory, ours.secret) == (theirs.type, theirs.mandatory, theirs.secret), ours.name
        assert ours.default == theirs.default, ours.name
    assert secret_parameters(script_text(name)) == {p.name for p in script if p.secret}


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_script_parses_and_follows_the_house_rules(name: str) -> None:
    text = script_text(name)
    assert not PARSER.parse(text.encode("utf-8")).root_node.has_error
    assert "$ErrorActionPreference = 'Stop'" in text
    assert "Set-StrictMode -Version Latest" in text
    if name != "probe_node":  # whose P-19 examines ConvertTo-Json itself
        assert "ConvertTo-Json" not in text, "the bootstrap turns the result into JSON"
    assert not re.search(r"\$env:(?!COMPUTERNAME|CommonProgramW6432|SystemRoot|ProgramData)\w+", text), (
        "scripts read their input from parameters only"
    )
    assert "Invoke-Expression" not in text
    assert "-CheckpointKey" not in text
    assert "Add-ClusterCheckpoint" not in text


def test_shared_functions_exist_once_in_the_library_and_nowhere_else() -> None:
    library = LIBRARY.read_text(encoding="utf-8")
    for function in SHARED_FUNCTIONS:
        definition = re.compile(rf"^function {re.escape(function)} \{{$", re.M)
        assert len(definition.findall(library)) == 1, function
        copies = [name for name in SCRIPT_NAMES if definition.search(script_text(name))]
        assert copies == [], f"{function} is copied into {copies}"
        assert any(re.search(rf"\b{re.escape(function)}\b", script_text(name)) for name in SCRIPT_NAMES), function


def test_delegating_scripts_take_the_delegation_parameters() -> None:
    for name in SCRIPT_NAMES:
        names = {p.name for p in declared(name)}
        # Delegated directly, or through the library's Get-SecretServer (GetDBInfo's own SQL connection).
        uses_helper = "Invoke-Delegated -Work" in script_text(name) or "Get-SecretServer" in script_text(name)
        assert uses_helper == ({"DelegationMode", "TaskUser", "TaskPassword"} <= names), name


def test_updatedb_file_carries_only_the_secret_server_element() -> None:
    text = script_text("secret_server_set")
    written = re.findall(r"WriteElementString\('(\w+)'", text)
    assert written == ["secretServer"]
    assert "ssoAdminAccount" not in text


def test_generic_service_script_sets_what_esso_md_requires() -> None:
    text = script_text("generic_service_set")
    assert "UseNetworkName = 1" in text
    assert "Add-ClusterResourceDependency -Resource $ResourceName -Provider $networkName.Name" in text
    assert "Set-ClusterOwnerNode -Resource $ResourceName" in text  # possible owners on the resource
    assert "Grant-ClusterAccess -User $ServiceAccount -Full" in text
    role = script_text("role_set")
    assert "Set-ClusterOwnerNode -Group $Name" in role  # preferred owners on the group
    assert "ProbePort = $ProbePort; EnableDhcp = 0; OverrideAddressMatch = 1" in role


def test_backup_and_restore_use_the_com_api_not_ssoconfig() -> None:
    library = LIBRARY.read_text(encoding="utf-8")
    assert "$type.InvokeMember($Member, $flags, $null, $config, $Arguments)" in library  # Invoke-SsoComMember
    for name, member in (("secret_backup", "BackupSecret"), ("secret_restore", "RestoreSecret")):
        text = script_text(name)
        assert f"Invoke-SsoComMember -Interface 'ISSOConfigSS' -Member '{member}'" in text
        assert "ssoconfig.exe" not in text.lower()
        assert not re.search(r"^[^#\n]*\bssoconfig\s+-", text, re.I | re.M), "interactive ssoconfig prompts"


def library_functions() -> list[str]:
    return re.findall(r"^function ([\w-]+) \{$", LIBRARY.read_text(encoding="utf-8"), re.M)


def work_blocks(text: str) -> list[str]:
    """The script blocks a script hands to Invoke-Delegated as -Work (by the variable that holds each)."""
    blocks = []
    for variable in re.findall(r"Invoke-Delegated -Work \$(\w+)", text):
        start = re.search(rf"\${variable} = \{{", text)
        assert start, variable
        depth, index = 0, start.end() - 1
        for index in range(start.end() - 1, len(text)):
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            if depth == 0:
                break
        blocks.append(text[start.end() : index])
    return blocks


@pytest.mark.parametrize("name", [*SCRIPT_NAMES, "library"])
def test_a_delegated_work_block_is_self_contained(name: str) -> None:
    # On the scheduled-task route the work runs in a powershell.exe of its own, which has not loaded the library
    # (docs/contracts.md section 1): a work block that called a library function would fail there only.
    text = LIBRARY.read_text(encoding="utf-8") if name == "library" else script_text(name)
    for block in work_blocks(text):
        used = [f for f in library_functions() if re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", block)]
        assert used == [], f"{name}: a delegated work block calls the library's {used}"


def test_an_operation_runs_through_the_simulated_shell_and_bootstrap() -> None:
    import base64
    import json

    from providers import runner_wire
    from simulator.shell import RESULT_MARKER, SimulatedShell
    from simulator.world import WorldHost, seed_world
    from simulator.wsman.backend import Session

    world = seed_world(
        domain_fqdn="corp.example.com",
        domain_netbios="CORP",
        users={"CORP\\svc-install": "pw-1"},
        groups={},
        install_account="CORP\\svc-install",
        sql_server="SQL01",
        nodes={"MSSNODE1": "10.10.1.4"},
    )
    shell = SimulatedShell(WorldHost(world))
    bootstrap = (SCRIPTS.parent / "bootstrap.ps1").read_text(encoding="utf-8")
    envelope = runner_wire.envelope(
        "sso_install", script_text("sso_install"), {"InstallerPath": "C:\\Install\\BizTalk\\Setup.exe"}
    )
    command = shell.prepare(
        Session("MSSNODE1", "CORP\\svc-install", "ntlm", True, False),
        "powershell.exe",
        [
            "-NoProfile",
            "-NonInteractive",
            "-ExecutionPolicy",
            "Bypass",
            "-EncodedCommand",
            base64.b64encode(bootstrap.encode("utf-16-le")).decode("ascii"),
        ],
        envelope,
    )
    outcome = command.execute()
    line = next(x for x in outcome.stdout.decode("utf-8").splitlines() if x.startswith(RESULT_MARKER))
    result = json.loads(line[len(RESULT_MARKER) :])
    assert outcome.exit_code == 0
    assert result["ok"] is True
    # The script's default Features, bound by the real bootstrap, reached setup.exe's command line.
    assert result["result"]["actions"] == [
        "Setup.exe /quiet /ADDLOCAL WMI,BizTalk,AdditionalApps,SSOServer,SSOAdmin"
    ]
    assert world.nodes["MSSNODE1"].products == sorted(
        ["WMI", "BizTalk", "AdditionalApps", "SSOServer", "SSOAdmin"]
    )
