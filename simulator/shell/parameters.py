"""The `param()` block of a script, read with the tree-sitter grammar."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import tree_sitter

from simulator.powershell import syntax

# Type names as written -> the name the simulator models them by ("string[]" for [System.String[]]).
_TYPE_ALIASES = {
    "string": "string",
    "int": "int",
    "int32": "int",
    "long": "long",
    "int64": "long",
    "bool": "bool",
    "boolean": "bool",
    "switch": "switch",
    "management.automation.switchparameter": "switch",
    "switchparameter": "switch",
    "hashtable": "hashtable",
    "collections.hashtable": "hashtable",
    "securestring": "securestring",
    "security.securestring": "securestring",
    "object": "object",
    "psobject": "object",
}
MODELLED_TYPES = frozenset(
    {"string", "string[]", "int", "int[]", "long", "bool", "switch", "hashtable", "securestring", "object"}
)


class NotLiteral(Exception):
    """A default value the simulator cannot evaluate without running PowerShell."""


@dataclass(frozen=True)
class ScriptParameter:
    """One parameter of a script's `param()` block."""

    name: str  # as declared, e.g. "NodeName"
    type_name: str = (
        "object"  # "string", "string[]", "int", "bool", "switch", "hashtable", "securestring", ...
    )
    mandatory: bool = False
    has_default: bool = False
    default: object = None  # the literal default, as written (None when not literal)
    default_source: str = ""  # the default expression as written
    default_is_literal: bool = True
    aliases: tuple[str, ...] = ()
    validate_set: tuple[str, ...] = ()
    validate_not_null: bool = False
    validate_not_null_or_empty: bool = False
    allow_null: bool = False
    allow_empty_string: bool = False
    allow_empty_collection: bool = False

    @property
    def modelled(self) -> bool:
        return self.type_name in MODELLED_TYPES


@dataclass(frozen=True)
class ScriptSignature:
    parameters: tuple[ScriptParameter, ...]
    advanced: bool  # [CmdletBinding()] or a [Parameter()] attribute: common parameters apply


class ScriptParseError(ValueError):
    """The script does not parse, so it has no parameters to speak of."""

    def __init__(self, failure: syntax.ParseFailure) -> None:
        super().__init__(f"{failure.position.message()}\n{failure.message}")
        self.failure = failure


def script_parameters(text: str) -> tuple[ScriptParameter, ...]:
    """The parameters a script declares, in order; raises ScriptParseError if it does not parse."""
    return signature(text).parameters


@functools.lru_cache(maxsize=512)
def signature(text: str) -> ScriptSignature:
    failure = syntax.check(text)
    if failure is not None:
        raise ScriptParseError(failure)
    root = syntax.parse(text).root_node
    block = next((child for child in root.children if child.type == "param_block"), None)
    if block is None:
        return ScriptSignature((), advanced=False)
    advanced = any(_attribute_name(a) == "cmdletbinding" for a in _attributes(block))
    params = []
    for node in _children(block, "parameter_list"):
        for param in _children(node, "script_parameter"):
            parsed = _parameter(param)
            advanced = advanced or any(_attribute_name(a) == "parameter" for a in _attributes(param))
            params.append(parsed)
    return ScriptSignature(tuple(params), advanced)


def _children(node: tree_sitter.Node, node_type: str) -> list[tree_sitter.Node]:
    return [child for child in node.children if child.type == node_type]


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8")


def _attributes(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    return [
        attr for attr_list in _children(node, "attribute_list") for attr in _children(attr_list, "attribute")
    ]


def _attribute_name(attribute: tree_sitter.Node) -> str:
    names = _children(attribute, "attribute_name")
    return _text(names[0]).lower() if names else ""


def _parameter(node: tree_sitter.Node) -> ScriptParameter:
    name = _text(_children(node, "variable")[0]).lstrip("$").strip("{}")
    fields: dict[str, object] = {"name": name}
    for attribute in _attributes(node):
        type_literal = _children(attribute, "type_literal")
        if type_literal:
            spec = _children(type_literal[0], "type_spec")
            fields["type_name"] = _type_name(_text(spec[0]) if spec else "object")
            continue
        _read_attribute(attribute, fields)
    defaults = _children(node, "script_parameter_default")
    if defaults:
        expression = defaults[0].children[-1]
        fields["has_default"] = True
        fields["default_source"] = _text(expression)
        try:
            fields["default"] = literal(expression)
        except NotLiteral:
            fields["default_is_literal"] = False
    return ScriptParameter(**fields)  # type: ignore[arg-type]


def _type_name(written: str) -> str:
    text = "".join(written.split()).lower()
    suffix = ""
    if text.endswith("[]"):
        text, suffix = text[:-2], "[]"
    if text.startswith("system."):
        text = text[len("system.") :]
    return _TYPE_ALIASES.get(text, text) + suffix


def _read_attribute(attribute: tree_sitter.Node, fields: dict[str, object]) -> None:
    kind = _attribute_name(attribute)
    arguments = [
        arg
        for args in _children(attribute, "attribute_arguments")
        for arg in _children(args, "attribute_argument")
    ]
    if kind == "parameter":
        for argument in arguments:
            named = _children(argument, "simple_name")
            if named and _text(named[0]).lower() == "mandatory":
                value = argument.children[-1] if len(argument.children) > 1 else None
                fields["mandatory"] = value is None or bool(literal(value))
    elif kind == "alias":
        fields["aliases"] = tuple(str(literal(argument.children[-1])) for argument in arguments)
    elif kind == "validateset":
        fields["validate_set"] = tuple(str(literal(argument.children[-1])) for argument in arguments)
    elif kind in (
        "validatenotnull",
        "validatenotnullorempty",
        "allownull",
        "allowemptystring",
        "allowemptycollection",
    ):
        flag = {
            "validatenotnull": "validate_not_null",
            "validatenotnullorempty": "validate_not_null_or_empty",
            "allownull": "allow_null",
            "allowemptystring": "allow_empty_string",
            "allowemptycollection": "allow_empty_collection",
        }[kind]
        fields[flag] = True


def literal(node: tree_sitter.Node) -> object:
    """The value of a constant expression: strings, numbers, $true/$false/$null, @(), @{}, a, b."""
    while True:
        kind = node.type
        if kind in ("array_literal_expression", "statement_list") and node.named_child_count > 1:
            return [literal(child) for child in node.named_children]
        if kind in _LITERAL_KINDS:
            return _LITERAL_KINDS[kind](node)
        if node.child_count != 1:
            raise NotLiteral(_text(node))
        node = node.children[0]


def _integer(node: tree_sitter.Node) -> object:
    text = _text(node).lower()
    return int(text, 16) if text.startswith("0x") else int(text)


def _variable(node: tree_sitter.Node) -> object:
    constants: dict[str, object] = {"$true": True, "$false": False, "$null": None}
    name = _text(node).lower()
    if name not in constants:
        raise NotLiteral(name)
    return constants[name]


def _signed(node: tree_sitter.Node) -> object:
    sign = node.children[0].type
    value = literal(node.children[-1])
    if (
        node.child_count != 2
        or sign not in ("-", "+")
        or isinstance(value, bool)
        or not isinstance(value, int | float)
    ):
        raise NotLiteral(_text(node))
    return -value if sign == "-" else value


def _array(node: tree_sitter.Node) -> object:
    inner = node.named_children
    if not inner:
        return []
    value = literal(inner[0])
    return value if isinstance(value, list) else [value]


def _string(text: str) -> str:
    quote, body = text[0], text[1:-1]
    if quote in "'\u2018\u2019\u201a\u201b":
        return body.replace("''", "'")
    if "$" in body or "`" in body:
        raise NotLiteral(text)
    return body.replace('""', '"')


def _hashtable(node: tree_sitter.Node) -> object:
    table: dict[str, object] = {}
    for body in _children(node, "hash_literal_body"):
        for entry in _children(body, "hash_entry"):
            key_node = _children(entry, "key_expression")[0]
            key = (
                _text(key_node)
                if key_node.named_child_count == 0 or key_node.children[0].type == "simple_name"
                else str(literal(key_node))
            )
            table[key] = literal(entry.children[-1] if entry.children[-1].type != ";" else entry.children[-2])
    return table


_LITERAL_KINDS = {
    "string_literal": lambda node: _string(_text(node)),
    "integer_literal": _integer,
    "real_literal": lambda node: float(_text(node)),
    "variable": _variable,
    "expression_with_unary_operator": _signed,
    "array_expression": _array,
    "hash_literal_expression": _hashtable,
}
