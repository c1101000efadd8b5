"""PowerShell's operators (about_Comparison_Operators, about_Arithmetic_Operators, about_Split,
about_Join, about_Operators: -f, 5.1).

Comparisons are case-insensitive unless the operator starts with `c`; the right operand is
converted to the left operand's type; a left operand that is a collection filters.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
from collections.abc import Callable

from simulator.powershell import regex as psregex
from simulator.powershell import values as v
from simulator.powershell.errors import PSTerminatingError, make_record
from simulator.powershell.types import (
    ConversionError,
    enum_convert,
    enumerate_items,
    is_true,
    parse_number,
    to_double,
    to_integer,
    to_string,
    type_name,
)


def runtime_error(message: str, error_id: str, category: str = "InvalidOperation") -> PSTerminatingError:
    return PSTerminatingError(
        make_record("System.Management.Automation.RuntimeException", message, error_id, category),
        statement_only=True,
    )


# --- equality and ordering -----------------------------------------------------------------------


def _number(value: object) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def _convert_like(left: object, right: object) -> object:
    """The right operand converted to the left operand's type, as LanguagePrimitives.Equals/Compare do."""
    if isinstance(left, bool):
        return is_true(right)
    if isinstance(left, v.EnumValue):
        return enum_convert(left.enum, right)
    if isinstance(left, v.PSChar):
        if isinstance(right, str):
            return right
        if _number(right):
            return v.PSChar(chr(int(right)))  # type: ignore[call-overload]
        return to_string(right)
    if _number(left):
        if _number(right):
            return right
        if isinstance(right, bool):
            return int(right)
        if isinstance(right, str):
            if isinstance(left, float | decimal.Decimal):
                return to_double(right)
            number = parse_number(right) if right.strip() else 0
            return number
        if isinstance(right, v.EnumValue):
            return right.value
        if isinstance(right, v.PSChar):
            return ord(right)
        raise ConversionError(
            f'Cannot convert the "{to_string(right)}" value of type "{type_name(right)}" to type "{type_name(left)}".'
        )
    return right


def equals(left: object, right: object, case_sensitive: bool = False) -> bool:
    if left is v.AUTOMATION_NULL:
        left = None
    if right is v.AUTOMATION_NULL:
        right = None
    if left is None:
        return right is None
    if right is None:
        return False
    if isinstance(left, str) and not isinstance(left, v.PSChar):
        text = to_string(right)
        return left == text if case_sensitive else left.lower() == text.lower()
    try:
        converted = _convert_like(left, right)
    except (ConversionError, ValueError):
        return False
    if isinstance(left, v.PSChar) and isinstance(converted, str):
        return left == converted if case_sensitive else left.lower() == converted.lower()
    if isinstance(left, v.EnumValue) and isinstance(converted, v.EnumValue):
        return left.value == converted.value
    if isinstance(left, bool) or _number(left):
        return bool(left == converted)
    if isinstance(left, v.DateTime | v.TimeSpan):
        return left == converted
    if isinstance(left, v.DotNetObject | v.Hashtable | v.PSCustomObject | list | v.ScriptBlock):
        return left is right or (isinstance(left, v.DotNetObject) and left == right)
    return bool(left == converted)


def compare(left: object, right: object, case_sensitive: bool = False) -> int:
    """-1, 0 or 1 (LanguagePrimitives.Compare); raises for operands that cannot be compared."""
    if left is v.AUTOMATION_NULL:
        left = None
    if right is v.AUTOMATION_NULL:
        right = None
    if left is None and right is None:
        return 0
    if left is None:
        return -1 if not (_number(right) and right < 0) else 1  # type: ignore[operator]
    if right is None:
        return 1 if not (_number(left) and left < 0) else -1  # type: ignore[operator]
    if isinstance(left, str) and not isinstance(left, v.PSChar):
        a, b = left, to_string(right)
        if not case_sensitive:
            a, b = a.lower(), b.lower()
        return (a > b) - (a < b)
    try:
        converted = _convert_like(left, right)
    except (ConversionError, ValueError) as problem:
        inner = (
            problem.message
            if isinstance(problem, ConversionError)
            else (
                f'Cannot convert value "{to_string(right)}" to type "{type_name(left)}". Error: "Input string was '
                'not in a correct format."'
            )
        )
        # ExtendedTypeSystem.ComparisonFailure
        raise runtime_error(
            f'Could not compare "{to_string(left)}" to "{to_string(right)}". Error: "{inner}"', "ComparisonFailure"
        ) from None
    a_value: object = left.value if isinstance(left, v.EnumValue) else left
    b_value: object = converted.value if isinstance(converted, v.EnumValue) else converted
    if isinstance(a_value, v.PSChar) and isinstance(b_value, str):
        a_value, b_value = (a_value, b_value) if case_sensitive else (a_value.lower(), b_value.lower())
    try:
        return int((a_value > b_value) - (a_value < b_value))  # type: ignore[operator]
    except TypeError:
        raise runtime_error(
            f'Cannot compare "{to_string(left)}" because it is not IComparable.', "NotIcomparable"
        ) from None


# --- wildcards and regular expressions ------------------------------------------------------------


def wildcard_regex(pattern: str) -> str:
    """A WildcardPattern as a Python regex (about_Wildcards: * ? [a-z], backtick escapes)."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "`" and index + 1 < len(pattern):
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                out.append("[" + pattern[index + 1 : end].replace("\\", "\\\\") + "]")
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    return "^" + "".join(out) + "$"


def like(text: object, pattern: object, case_sensitive: bool = False) -> bool:
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    return re.match(wildcard_regex(to_string(pattern)), to_string(text), flags) is not None


# --- the comparison operators ---------------------------------------------------------------------

ComparisonResult = tuple[object, "v.Hashtable | None"]  # the value, and $Matches to set (or None)


def _base(op: str) -> tuple[str, bool]:
    """'-ceq' -> ('-eq', True); '-eq' -> ('-eq', False)."""
    if op.startswith("-c") and op not in ("-contains",):
        return "-" + op[2:], True
    return op, False


def comparison(op: str, left: object, right: object) -> ComparisonResult:
    base, case = _base(op)
    if base in ("-contains", "-notcontains"):
        items = enumerate_items(left)
        collection = [left] if items is None else items
        found = any(equals(item, right, case) for item in collection)
        return (found if base == "-contains" else not found), None
    if base in ("-in", "-notin"):
        items = enumerate_items(right)
        collection = [right] if items is None else items
        found = any(equals(item, left, case) for item in collection)
        return (found if base == "-in" else not found), None
    if base in ("-replace",):
        return _replace(left, right, case), None
    if base == "-split":
        return split(left, right, case), None
    items = enumerate_items(left)
    if items is not None:
        if base in ("-match", "-notmatch"):
            return [item for item in items if _match(item, right, case)[0] == (base == "-match")], None
        return [item for item in items if _scalar(base, item, right, case)], None
    if base in ("-match", "-notmatch"):
        matched, groups = _match(left, right, case)
        result = matched if base == "-match" else not matched
        return result, groups if matched else None
    return _scalar(base, left, right, case), None


def _scalar(base: str, left: object, right: object, case: bool) -> bool:
    if base == "-eq":
        return equals(left, right, case)
    if base == "-ne":
        return not equals(left, right, case)
    if base == "-like":
        return like(left, right, case)
    if base == "-notlike":
        return not like(left, right, case)
    if base in ("-match", "-notmatch"):
        return _match(left, right, case)[0] == (base == "-match")
    order = compare(left, right, case)
    return {"-gt": order > 0, "-ge": order >= 0, "-lt": order < 0, "-le": order <= 0}[base]


def _match(text: object, pattern: object, case: bool) -> tuple[bool, v.Hashtable | None]:
    compiled = psregex.compile_pattern(to_string(pattern), ignore_case=not case)
    found = compiled.search(to_string(text))
    if found is None:
        return False, None
    return True, psregex.matches_table(compiled, found)


def _replace(left: object, right: object, case: bool) -> object:
    operands = enumerate_items(right)
    parts = [right] if operands is None else operands
    if len(parts) > 2:
        raise runtime_error(
            f"The -replace operator allows only two elements to follow it, not {len(parts)}.", "BadReplaceArgument"
        )
    pattern = to_string(parts[0])
    replacement = to_string(parts[1]) if len(parts) > 1 else ""
    compiled = psregex.compile_pattern(pattern, ignore_case=not case)

    def one(item: object) -> str:
        return psregex.replace(compiled, to_string(item), replacement)

    items = enumerate_items(left)
    if items is not None:
        return [one(item) for item in items]
    return one(left)


def split(left: object, right: object, case: bool = False) -> list[object]:
    operands = enumerate_items(right)
    parts = [right] if operands is None else operands
    pattern = to_string(parts[0]) if parts else " "
    limit = to_integer(parts[1]) if len(parts) > 1 else 0
    compiled = psregex.compile_pattern(pattern, ignore_case=not case)
    items = enumerate_items(left)
    texts = [left] if items is None else items
    out: list[object] = []
    for text in texts:
        out.extend(psregex.split(compiled, to_string(text), limit))
    return out


def split_whitespace(value: object) -> list[object]:
    items = enumerate_items(value)
    texts = [value] if items is None else items
    out: list[object] = []
    for text in texts:
        out.extend(part for part in re.split(r"\s+", to_string(text).strip()) if part)
    return out


def join(left: object, separator: object, ofs: str = " ") -> str:
    items = enumerate_items(left)
    collection = [left] if items is None else items
    return to_string(separator).join(to_string(item, ofs) for item in collection)


# --- arithmetic ----------------------------------------------------------------------------------


def _numeric(value: object, op: str) -> int | float | decimal.Decimal:
    if value is None or value is v.AUTOMATION_NULL:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, v.EnumValue):
        return value.value
    if isinstance(value, int | float | decimal.Decimal):
        return value
    if isinstance(value, v.PSChar):
        return ord(value)
    if isinstance(value, str):
        try:
            return parse_number(value)
        except ValueError:
            target = "System.Int32"
            raise ConversionError(
                f'Cannot convert value "{value}" to type "{target}". '
                'Error: "Input string was not in a correct format."',
                "InvalidCastFromStringToInteger",
                "Input string was not in a correct format.",
            ).terminating() from None
    method = f"op_{_OP_NAMES.get(op, op)}"
    raise runtime_error(
        f"Method invocation failed because [{type_name(value)}] does not contain a method named '{method}'.",
        "MethodNotFound",
    )


_OP_NAMES = {"+": "Addition", "-": "Subtraction", "*": "Multiply", "/": "Division", "%": "Modulus"}


def _fit(number: int | float | decimal.Decimal) -> int | float | decimal.Decimal:
    if isinstance(number, int) and not -(2**63) <= number < 2**63:
        return float(number)
    return number


def add(left: object, right: object, ofs: str = " ") -> object:
    if left is v.AUTOMATION_NULL:
        left = None
    if right is v.AUTOMATION_NULL:
        right = None
    if left is None:
        if right is None:
            return None
        if isinstance(right, str | list | v.Hashtable):
            return right
        return _numeric(right, "+")
    if isinstance(left, str):
        return str(left) + to_string(right, ofs)
    if isinstance(left, bytearray):
        left = [v.Byte(b) for b in left]
    if isinstance(left, list):
        extra = enumerate_items(right)
        return list(left) + (list(extra) if extra is not None else [right])
    if isinstance(left, v.Hashtable):
        if not isinstance(right, v.Hashtable):
            raise runtime_error("A hash table can only be added to another hash table.", "AddHashTableToNonHashTable")
        merged = left.copy()
        for key, value in right.items():
            if key in merged:
                # mscorlib Argument_AddingDuplicate
                raise PSTerminatingError(
                    make_record(
                        "System.ArgumentException",
                        f"Item has already been added. Key in dictionary: '{to_string(key)}'  Key being added: "
                        f"'{to_string(key)}'",
                        "System.ArgumentException",
                        "NotSpecified",
                    ),
                    statement_only=True,
                )
            merged[key] = value
        return merged
    if isinstance(left, v.DateTime) and isinstance(right, v.TimeSpan):
        return v.DateTime(left.moment + right.delta)
    if isinstance(left, v.EnumValue):
        return v.EnumValue(left.enum, left.value + int(_numeric(right, "+")))
    a, b = _numeric(left, "+"), _numeric(right, "+")
    return _fit(_mixed(a, b, lambda x, y: x + y))  # type: ignore[operator]


def _mixed(
    a: int | float | decimal.Decimal,
    b: int | float | decimal.Decimal,
    function: Callable[[object, object], object],
) -> int | float | decimal.Decimal:
    if isinstance(a, decimal.Decimal) or isinstance(b, decimal.Decimal):
        if isinstance(a, float) or isinstance(b, float):
            return function(float(a), float(b))  # type: ignore[return-value]
        return function(decimal.Decimal(a), decimal.Decimal(b))  # type: ignore[return-value]
    return function(a, b)  # type: ignore[return-value]


def arithmetic(op: str, left: object, right: object, ofs: str = " ") -> object:
    if op == "+":
        return add(left, right, ofs)
    if left is v.AUTOMATION_NULL:
        left = None
    if op == "*":
        if isinstance(left, str):
            return str(left) * int(to_integer(right))
        if isinstance(left, list):
            return list(left) * int(to_integer(right))
    if op == "-" and isinstance(left, v.DateTime):
        if isinstance(right, v.DateTime):
            return v.TimeSpan(left.moment - right.moment)
        if isinstance(right, v.TimeSpan):
            return v.DateTime(left.moment - right.delta)
    a, b = _numeric(left, op), _numeric(right, op)
    if op == "-":
        return _fit(_mixed(a, b, lambda x, y: x - y))  # type: ignore[operator]
    if op == "*":
        return _fit(_mixed(a, b, lambda x, y: x * y))  # type: ignore[operator]
    if op in ("/", "%"):
        if b == 0:
            raise PSTerminatingError(
                make_record(
                    "System.Management.Automation.RuntimeException",
                    "Attempted to divide by zero.",
                    "RuntimeException",
                    "NotSpecified",
                    inner=None,
                ),
                statement_only=True,
            )
        if op == "%":
            if isinstance(a, int) and isinstance(b, int):
                return int(a - b * int(a / b))  # .NET remainder takes the dividend's sign
            return _mixed(a, b, lambda x, y: x - y * int(x / y))  # type: ignore[operator]
        if isinstance(a, int) and isinstance(b, int):
            return a // b if a % b == 0 else a / b
        return _mixed(a, b, lambda x, y: x / y)  # type: ignore[operator]
    raise runtime_error(f"The operator {op} is not supported.", "OperatorNotSupported")


def bitwise(op: str, left: object, right: object) -> object:
    if isinstance(left, v.EnumValue):
        other = enum_convert(left.enum, right).value if not isinstance(right, v.EnumValue) else right.value
        number = {"-band": left.value & other, "-bor": left.value | other, "-bxor": left.value ^ other}[op]
        return v.EnumValue(left.enum, number)
    a = to_integer(left, "System.Int64")
    b = to_integer(right, "System.Int64")
    return {"-band": a & b, "-bor": a | b, "-bxor": a ^ b, "-shl": a << b, "-shr": a >> b}[op]


# --- -f ------------------------------------------------------------------------------------------

_FORMAT_ITEM = re.compile(r"\{\{|\}\}|\{(\d+)(?:\s*,\s*(-?\d+))?(?::([^}]*))?\}|\{|\}")


def format_string(template: str, arguments: list[object], ofs: str = " ") -> str:
    """String.Format with PowerShell's arguments (the -f operator)."""
    out: list[str] = []
    cursor = 0
    for found in _FORMAT_ITEM.finditer(template):
        out.append(template[cursor : found.start()])
        cursor = found.end()
        token = found.group(0)
        if token == "{{":
            out.append("{")
            continue
        if token == "}}":
            out.append("}")
            continue
        if found.group(1) is None:
            raise _format_error("Input string was not in a correct format.")
        index = int(found.group(1))
        if index >= len(arguments):
            raise _format_error(
                "Index (zero based) must be greater than or equal to zero and less than the size of the argument list."
            )
        text = format_value(arguments[index], found.group(3) or "", ofs)
        width = found.group(2)
        if width is not None:
            size = int(width)
            text = text.rjust(size) if size > 0 else text.ljust(-size)
        out.append(text)
    out.append(template[cursor:])
    return "".join(out)


def _format_error(inner: str) -> PSTerminatingError:
    # ParserStrings.FormatError: "Error formatting a string: {0}."
    return PSTerminatingError(
        make_record(
            "System.Management.Automation.RuntimeException",
            f"Error formatting a string: {inner}.",
            "FormatError",
            "InvalidOperation",
        ),
        statement_only=True,
    )


def format_value(value: object, spec: str, ofs: str = " ") -> str:
    if not spec:
        return to_string(value, ofs)
    if isinstance(value, v.EnumValue):
        value = value.value if spec[0] in "dDxX" else value
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return to_string(value, ofs)
    if isinstance(value, v.DateTime):
        return format_datetime(value.moment, spec)
    if isinstance(value, int | float | decimal.Decimal):
        return _format_number(value, spec)
    return to_string(value, ofs)


def _format_number(number: int | float | decimal.Decimal, spec: str) -> str:
    kind, digits_text = spec[0], spec[1:]
    if digits_text == "" or digits_text.isdigit():
        digits = int(digits_text) if digits_text else None
        upper = kind.upper()
        if upper == "X" and isinstance(number, int):
            bits = 64 if not -(2**31) <= number < 2**32 else 32
            value = number & (2**bits - 1) if number < 0 else number
            text = format(value, "X" if kind == "X" else "x")
            return text.rjust(digits or 0, "0")
        if upper == "D" and isinstance(number, int):
            text = str(abs(number)).rjust(digits or 0, "0")
            return ("-" if number < 0 else "") + text
        if upper == "N":
            return f"{float(number):,.{2 if digits is None else digits}f}"
        if upper == "F":
            return f"{float(number):.{2 if digits is None else digits}f}"
        if upper == "P":
            return f"{float(number) * 100:,.{2 if digits is None else digits}f} %"
        if upper == "G":
            return to_string(number)
        if upper == "E":
            text = f"{float(number):.{6 if digits is None else digits}E}"
            mantissa, exponent = text.split("E")
            return f"{mantissa}E{exponent[0]}{exponent[1:].rjust(3, '0')}"
    if re.fullmatch(r"[0#,]+(\.[0#]+)?", spec):
        decimals = len(spec.split(".")[1]) if "." in spec else 0
        minimum = len(spec.split(".")[0].replace("#", "").replace(",", ""))
        grouped = "," in spec.split(".")[0]
        text = f"{abs(float(number)):{',' if grouped else ''}.{decimals}f}"
        whole, _, fraction = text.partition(".")
        whole = whole.rjust(minimum, "0") if minimum else whole.lstrip("0") or ("" if decimals else "0")
        text = whole + ("." + fraction if decimals else "")
        return ("-" if number < 0 else "") + text
    raise _format_error(f"the format specifier '{spec}' is not modelled by the simulator")


_DATE_TOKENS = [
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("dddd", "%A"),
    ("ddd", "%a"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("hh", "%I"),
    ("mm", "%M"),
    ("ss", "%S"),
    ("tt", "%p"),
]


def format_datetime(moment: _dt.datetime, spec: str) -> str:
    if spec == "o" or spec == "O":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond * 10:07d}"
    if spec == "s":
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if spec == "u":
        return moment.strftime("%Y-%m-%d %H:%M:%SZ")
    out: list[str] = []
    index = 0
    while index < len(spec):
        for token, code in _DATE_TOKENS:
            if spec.startswith(token, index):
                out.append(moment.strftime(code))
                index += len(token)
                break
        else:
            if spec.startswith("fff", index):
                out.append(f"{moment.microsecond // 1000:03d}")
                index += 3
            elif spec[index] in "Mdhms" and (index + 1 >= len(spec) or spec[index + 1] != spec[index]):
                number = {
                    "M": moment.month,
                    "d": moment.day,
                    "h": moment.hour % 12 or 12,
                    "m": moment.minute,
                    "s": moment.second,
                }[spec[index]]
                out.append(str(number))
                index += 1
            elif spec[index] == "\\" and index + 1 < len(spec):
                out.append(spec[index + 1])
                index += 2
            elif spec[index] in "'\"":
                end = spec.find(spec[index], index + 1)
                end = len(spec) if end < 0 else end
                out.append(spec[index + 1 : end])
                index = end + 1
            else:
                out.append(spec[index])
                index += 1
    return "".join(out)
