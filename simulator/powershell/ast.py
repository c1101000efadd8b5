"""The interpreter's syntax tree: what `compiler.compile_script` makes of tree-sitter's concrete tree.

Every node carries its `Pos` (line, column, and character offsets into its `Source`), so an
error can name its line and `Extent.Text` can be answered for the bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Source:
    """The text of one script, with line lookup."""

    def __init__(self, text: str, name: str = "") -> None:
        self.text = text
        self.name = name
        self._lines = text.split("\n")

    def line_text(self, line: int) -> str:
        return self._lines[line - 1].rstrip("\r") if 0 < line <= len(self._lines) else ""


class Pos(NamedTuple):
    line: int  # 1-based
    column: int  # 1-based, in characters
    start: int  # character offsets into the source text
    end: int


@dataclass(slots=True)
class Node:
    pos: Pos


# --- expressions ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Constant(Node):
    value: object


@dataclass(slots=True)
class ExpandableString(Node):
    parts: list[str | Node]


@dataclass(slots=True)
class Variable(Node):
    name: str  # without $ or scope, as written
    scope: str = ""  # "", "script", "global", "local", "private", "env", "variable", "using"
    splat: bool = False


@dataclass(slots=True)
class Member(Node):
    target: Node
    name: str | Node
    static: bool = False


@dataclass(slots=True)
class InvokeMember(Node):
    target: Node
    name: str | Node
    arguments: list[Node]
    static: bool = False


@dataclass(slots=True)
class Index(Node):
    target: Node
    index: Node


@dataclass(slots=True)
class Unary(Node):
    op: str  # "-not" "!" "-" "+" "-bnot" "," "++" "--" "post++" "post--" "-split" "-join"
    operand: Node


@dataclass(slots=True)
class Binary(Node):
    op: str  # lower case: "-eq" "-and" "+" "-f" ".." ...
    left: Node
    right: Node


@dataclass(slots=True)
class ArrayLiteral(Node):
    items: list[Node]


@dataclass(slots=True)
class ArrayExpr(Node):
    statements: list[Node]


@dataclass(slots=True)
class SubExpr(Node):
    statements: list[Node]


@dataclass(slots=True)
class Paren(Node):
    statement: Node


@dataclass(slots=True)
class HashLiteral(Node):
    entries: list[tuple[Node, Node]]


@dataclass(slots=True)
class ScriptBlockExpr(Node):
    block: ScriptBlockNode


@dataclass(slots=True)
class TypeLiteral(Node):
    name: str  # as written inside the brackets, e.g. "Management.Automation.PSCustomObject", "string[]"


@dataclass(slots=True)
class Cast(Node):
    type_name: str
    operand: Node


# --- commands and pipelines ----------------------------------------------------------------------


@dataclass(slots=True)
class CommandParameter(Node):
    name: str  # without the dash, as written
    value: Node | None = None  # the -Name:value form
    text: str = ""  # e.g. "-Name" (a parameter token that binds to nothing is passed on as this text)


@dataclass(slots=True)
class CommandArgument(Node):
    value: Node
    splat: bool = False
    bareword: bool = False  # a generic token: text, not an expression


@dataclass(slots=True)
class Redirection(Node):
    source_stream: str  # "1".."6" or "*"
    merge_to: str = ""  # "1" for 2>&1
    target: Node | None = None  # file target ($null)
    append: bool = False


@dataclass(slots=True)
class Command(Node):
    name: str | None  # a bareword command name
    name_expr: Node | None  # & $sb, & (Join-Path ...), & 'C:\x.exe'
    invocation: str  # "", "&" or "."
    elements: list[Node]  # CommandParameter | CommandArgument
    redirections: list[Redirection] = field(default_factory=list)


@dataclass(slots=True)
class Pipeline(Node):
    elements: list[Node]  # the first may be an expression; the rest are Commands


# --- statements ----------------------------------------------------------------------------------


@dataclass(slots=True)
class PipelineStatement(Node):
    pipeline: Pipeline


@dataclass(slots=True)
class Assignment(Node):
    target: Node
    op: str  # "=" "+=" "-=" "*=" "/=" "%="
    value: Node  # a statement: Pipeline, If, Switch, ...


@dataclass(slots=True)
class Block(Node):
    statements: list[Node]


@dataclass(slots=True)
class If(Node):
    clauses: list[tuple[Node, Block]]
    otherwise: Block | None


@dataclass(slots=True)
class Foreach(Node):
    variable: Variable
    iterable: Node
    body: Block
    label: str | None = None


@dataclass(slots=True)
class For(Node):
    init: Node | None
    condition: Node | None
    step: Node | None
    body: Block
    label: str | None = None


@dataclass(slots=True)
class While(Node):
    condition: Node
    body: Block
    label: str | None = None


@dataclass(slots=True)
class DoLoop(Node):
    body: Block
    condition: Node
    until: bool
    label: str | None = None


@dataclass(slots=True)
class SwitchClause:
    condition: Node | None  # None: default
    body: Block


@dataclass(slots=True)
class Switch(Node):
    options: frozenset[str]  # "regex" "wildcard" "exact" "casesensitive"
    subject: Node
    clauses: list[SwitchClause]
    label: str | None = None


@dataclass(slots=True)
class Catch:
    type_names: list[str]
    body: Block
    pos: Pos


@dataclass(slots=True)
class Try(Node):
    body: Block
    catches: list[Catch]
    final: Block | None


@dataclass(slots=True)
class Throw(Node):
    value: Node | None


@dataclass(slots=True)
class Return(Node):
    value: Node | None


@dataclass(slots=True)
class Exit(Node):
    value: Node | None


@dataclass(slots=True)
class Break(Node):
    label: str | None = None


@dataclass(slots=True)
class Continue(Node):
    label: str | None = None


@dataclass(slots=True)
class FunctionDefinition(Node):
    name: str
    body: ScriptBlockNode


# --- script blocks -------------------------------------------------------------------------------


@dataclass(slots=True)
class AttributeNode(Node):
    name: str
    positional: list[Node]
    named: list[tuple[str, Node | None]]


@dataclass(slots=True)
class ParameterNode(Node):
    name: str
    type_name: str | None
    attributes: list[AttributeNode]
    default: Node | None


@dataclass(slots=True)
class ParamBlock(Node):
    attributes: list[AttributeNode]
    parameters: list[ParameterNode]


@dataclass(slots=True)
class ScriptBlockNode(Node):
    source: Source
    param_block: ParamBlock | None
    begin: list[Node] | None
    process: list[Node] | None
    end: list[Node] | None
    body_text: str  # ScriptBlock.ToString()
    functions: list[FunctionDefinition] = field(default_factory=list)
    signature_cache: object = None  # the CommandSignature the interpreter built from the param block

    @property
    def advanced(self) -> bool:
        """[CmdletBinding()] or any [Parameter()]: common parameters apply, unknown names are refused."""
        block = self.param_block
        if block is None:
            return False
        if any(a.name.lower() == "cmdletbinding" for a in block.attributes):
            return True
        return any(a.name.lower() == "parameter" for p in block.parameters for a in p.attributes)
