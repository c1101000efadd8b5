"""ConvertTo-Json and ConvertFrom-Json as Windows PowerShell 5.1 does them.

5.1's ConvertTo-Json (Microsoft.PowerShell.Commands.Utility, ConvertToJsonCommand.cs at
PowerShell/PowerShell v6.0.0-alpha.10, the non-CORECLR path) walks the object to `-Depth`
(default 2), turning anything deeper that is not a primitive into its string form
(a hashtable into "System.Collections.Hashtable", a PSCustomObject into "@{a=1}"), enums into
their numbers, then serializes with System.Web.Script.Serialization.JavaScriptSerializer and,
without -Compress, re-indents the text with its own pretty printer ("key":  value, two spaces).
ConvertFrom-Json deserializes with JavaScriptSerializer: objects become PSCustomObjects, arrays
object[], whole numbers Int32 (Int64 when larger), fractions Decimal.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import uuid
from collections.abc import Callable

from simulator.powershell import values as v
from simulator.powershell.errors import DotNetError, NetException
from simulator.powershell.types import INT32, to_string

DEFAULT_DEPTH = 2
MAX_DEPTH = 100
_EPOCH = _dt.datetime(1970, 1, 1)


class NonStringKey(Exception):
    def __init__(self, type_name: str) -> None:
        super().__init__(type_name)
        self.type_name = type_name


class _Raw:
    """A JSON text fragment already serialized (a number, true/false/null)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


Plain = object  # dict[str, Plain] | list[Plain] | str | _Raw


def prepare(value: object, depth: int, max_depth: int, members: Callable[[object], list[tuple[str, object]]]) -> Plain:
    """ConvertToJsonCommand.ProcessValue: the value reduced to JSON's shapes."""
    if isinstance(value, v.PSString) and value.notes:
        out: dict[str, Plain] = {"value": str.__str__(value)}
        for note in value.notes.values():
            out.setdefault(note.name, prepare(note.value, depth + 1, max_depth, members))
        return out
    if value is None or value is v.AUTOMATION_NULL:
        return _Raw("null")
    if isinstance(value, bool):
        return _Raw("true" if value else "false")
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return _Raw(int.__repr__(int(value)))
    if isinstance(value, float):
        return _Raw(_double(value))
    if isinstance(value, decimal.Decimal):
        return _Raw(format(value, "f") if value == value.to_integral() else str(value))
    if isinstance(value, v.DateTime):
        milliseconds = int((value.moment - _EPOCH).total_seconds() * 1000)
        return _Raw(f'"\\/Date({milliseconds})\\/"')  # JavaScriptSerializer's date form
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, v.EnumValue):
        return _Raw(str(value.value))
    if depth > max_depth:
        return to_string(value)
    if isinstance(value, v.Hashtable):
        table: dict[str, Plain] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NonStringKey(value.TYPE_NAME)
            table[key] = prepare(item, depth + 1, max_depth, members)
        return table
    if isinstance(value, bytearray | bytes):
        return [_Raw(str(b)) for b in value]
    if isinstance(value, list):
        return [prepare(item, depth + 1, max_depth, members) for item in value]
    if isinstance(value, v.PSCustomObject):
        return {p.name: prepare(p.value, depth + 1, max_depth, members) for p in value.properties()}
    if isinstance(value, v.SwitchParameter):
        return {"IsPresent": _Raw("true" if value.is_present else "false")}
    if isinstance(value, v.DotNetObject):
        items = value.ps_enumerate()
        if items is not None:
            return [prepare(item, depth + 1, max_depth, members) for item in items]
        return {name: prepare(item, depth + 1, max_depth, members) for name, item in members(value)}
    return to_string(value)


def _double(number: float) -> str:
    if math.isnan(number) or math.isinf(number):
        return {"nan": "NaN"}.get(str(number), "Infinity" if number > 0 else "-Infinity")
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    text = repr(number)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa.upper()}E{sign}{exponent.lstrip('+-').rjust(2, '0')}"
    return text


def javascript_string(text: str) -> str:
    """HttpUtility.JavaScriptStringEncode, as JavaScriptSerializer writes strings."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\b":
            out.append("\\b")
        elif char == "\f":
            out.append("\\f")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or char in "<>&'":
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def serialize(plain: Plain) -> str:
    if isinstance(plain, _Raw):
        return plain.text
    if isinstance(plain, str):
        return javascript_string(plain)
    if isinstance(plain, list):
        return "[" + ",".join(serialize(item) for item in plain) + "]"
    assert isinstance(plain, dict)
    return "{" + ",".join(javascript_string(key) + ":" + serialize(item) for key, item in plain.items()) + "}"


def pretty(json_text: str) -> str:
    """ConvertToJsonCommand.ConvertToPrettyJsonString: 4-space indents, "key":  value, CRLF."""
    if not json_text.startswith(("{", "[")):
        return json_text
    out: list[str] = [json_text[0]]
    if json_text[0] == "{":
        _dictionary(json_text, 1, out, "", 0)
    else:
        _list(json_text, 1, out, "", 0)
    return "".join(out)


def _quoted(text: str, index: int, out: list[str]) -> int:
    position = index
    while position < len(text):
        out.append(text[position])
        if text[position] == '"':
            back = position
            escaped = False
            while back > 0 and text[back - 1] == "\\":
                escaped = not escaped
                back -= 1
            if not escaped:
                return position
        position += 1
    raise ValueError("unterminated string")


def _list(text: str, index: int, out: list[str], pad: str, spaces: int) -> int:
    out.append("\r\n")
    inner = pad + " " * spaces + " " * 4
    head = True
    position = index
    while position < len(text):
        char = text[position]
        if char == "{":
            out.append(inner + char)
            position = _dictionary(text, position + 1, out, inner, 0)
            head = False
        elif char == "[":
            out.append(inner + char)
            position = _list(text, position + 1, out, inner, 0)
            head = False
        elif char == "]":
            out.append("\r\n" + pad + " " * spaces + char)
            return position
        elif char == '"':
            if head:
                out.append(inner)
            out.append(char)
            position = _quoted(text, position + 1, out)
            head = False
        elif char == ",":
            out.append(",\r\n")
            head = True
        else:
            if head:
                out.append(inner)
            out.append(char)
            head = False
        position += 1
    raise ValueError("unterminated list")


def _dictionary(text: str, index: int, out: list[str], pad: str, spaces: int) -> int:
    out.append("\r\n")
    inner = pad + " " * spaces + " " * 4
    head = True
    before_quote = True
    new_spaces = 0
    position = index
    while position < len(text):
        char = text[position]
        if char == "{":
            out.append(char)
            position = _dictionary(text, position + 1, out, inner, new_spaces)
            head = False
        elif char == "[":
            out.append(char)
            position = _list(text, position + 1, out, inner, new_spaces)
            head = False
        elif char == "}":
            out.append("\r\n" + pad + " " * spaces + char)
            return position
        elif char == '"':
            if head:
                out.append(inner)
            out.append(char)
            end = _quoted(text, position + 1, out)
            if before_quote:
                new_spaces += end - position + 1
            position = end
            head = False
        elif char == ":":
            out.append(":  ")
            new_spaces += 3
            head = False
            before_quote = False
        elif char == ",":
            out.append(",\r\n")
            head = True
            before_quote = True
            new_spaces = 0
        else:
            if head:
                out.append(inner)
            out.append(char)
            if before_quote:
                new_spaces += 1
            head = False
        position += 1
    raise ValueError("unterminated object")


def convert_to_json(
    value: object, depth: int, compress: bool, members: Callable[[object], list[tuple[str, object]]]
) -> str:
    text = serialize(prepare(value, 0, depth, members))
    return text if compress else pretty(text)


# --- ConvertFrom-Json ----------------------------------------------------------------------------


class _Invalid(Exception):
    pass


def _object(pairs: list[tuple[str, object]]) -> v.PSCustomObject:
    result = v.PSCustomObject()
    seen: dict[str, str] = {}
    for key, value in pairs:
        lower = key.lower()
        if lower in seen and seen[lower] != key:
            # WebCmdletStrings.DuplicateKeysInJsonString
            raise DotNetError(
                NetException(
                    "System.InvalidOperationException",
                    "Cannot convert the JSON string because a dictionary that was converted from the string contains "
                    f"the duplicated keys '{seen[lower]}' and '{key}'.",
                )
            )
        seen[lower] = key
        result.add(key, value)
    return result


def _number(text: str) -> object:
    if any(c in text for c in ".eE"):
        return decimal.Decimal(text)
    number = int(text)
    if INT32[0] <= number <= INT32[1]:
        return number
    if -(2**63) <= number < 2**63:
        return number
    return decimal.Decimal(text)


def _constant(name: str) -> object:
    raise _Invalid(name)


def _arrays(value: object) -> object:
    if isinstance(value, str):
        return v.dotnet_text(value)
    if isinstance(value, list):
        return [_arrays(item) for item in value]
    if isinstance(value, v.PSCustomObject):
        renamed = v.PSCustomObject()
        for prop in value.properties():
            renamed.add(v.dotnet_text(prop.name), _arrays(prop.value))
        return renamed
    return value


def convert_from_json(text: str) -> object:
    """JavaScriptSerializer.DeserializeObject, then PSCustomObjects; raises DotNetError(ArgumentException)."""
    try:
        parsed = json.loads(
            text, object_pairs_hook=_object, parse_float=_number, parse_int=_number, parse_constant=_constant
        )
    except (ValueError, _Invalid) as problem:
        word = text.strip().split()[0] if text.strip() else ""
        raise DotNetError(
            NetException("System.ArgumentException", f"Invalid JSON primitive: {word[:20]}.")
        ) from problem
    return _arrays(parsed)
