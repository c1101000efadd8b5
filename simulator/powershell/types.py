"""Types and conversions: type literals, casts, `-is`/`-as`, and PowerShell's LanguagePrimitives rules.

Sources: about_Type_Accelerators, about_Type_Conversion and about_Booleans (PowerShell-Docs,
reference/5.1); LanguagePrimitives.cs and ExtendedTypeSystem.resx of PowerShell/PowerShell at
v6.0.0-alpha.10 (the 5.1 code base) for error ids and wordings.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from simulator.powershell import values as v
from simulator.powershell.errors import (
    ErrorRecord,
    NetException,
    PSTerminatingError,
    exception_lineage,
    make_record,
)

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
_INT_RANGES = {
    "System.Int32": INT32,
    "System.Int64": INT64,
    "System.Int16": (-(2**15), 2**15 - 1),
    "System.Byte": (0, 255),
    "System.SByte": (-128, 127),
    "System.UInt16": (0, 2**16 - 1),
    "System.UInt32": (0, 2**32 - 1),
    "System.UInt64": (0, 2**64 - 1),
}
_INT_CLASSES: dict[str, type[v.TypedInt] | None] = {
    "System.Int32": None,
    "System.Int64": v.Int64,
    "System.Int16": v.Int16,
    "System.Byte": v.Byte,
    "System.UInt16": v.UInt16,
    "System.UInt32": v.UInt32,
    "System.UInt64": v.UInt64,
    "System.SByte": None,
}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$")


class ConversionError(Exception):
    """A value that does not convert: carries PowerShell's error id and message."""

    def __init__(self, message: str, error_id: str = "ConvertToFinalInvalidCastException", inner: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.error_id = error_id
        self.inner = inner  # the inner exception's message, when there is one

    def record(self) -> ErrorRecord:
        inner = NetException("System.FormatException", self.inner) if self.inner else None
        return make_record(
            "System.Management.Automation.PSInvalidCastException",
            self.message,
            self.error_id,
            "InvalidArgument",
            inner=inner,
        )

    def terminating(self) -> PSTerminatingError:
        return PSTerminatingError(self.record(), statement_only=True)


class PSType:
    """A .NET type as a script can name it: `[int]`, `[Text.Encoding]`, `[Microsoft.X.Y]`."""

    def __init__(
        self,
        full_name: str,
        is_instance: Callable[[object], bool] | None = None,
        convert: Callable[[object], object] | None = None,
        bases: tuple[str, ...] = (),
    ) -> None:
        self.full_name = full_name
        self._is_instance = is_instance
        self._convert = convert
        self.bases = bases
        self.static_properties: dict[str, Callable[[], object]] = {}
        self.static_methods: dict[str, Callable[..., object]] = {}
        self.constructor: Callable[..., object] | None = None
        self.enum: v.EnumType | None = None

    @property
    def name(self) -> str:
        return self.full_name.rsplit(".", 1)[-1]

    def is_instance(self, value: object) -> bool:
        if self._is_instance is not None:
            return self._is_instance(value)
        if isinstance(value, v.DotNetObject):
            names = {value.ps_type_name().lower(), *(b.lower() for b in value.ps_base_types())}
            return self.full_name.lower() in names
        return False

    def convert(self, value: object) -> object:
        if self._convert is not None:
            return self._convert(value)
        if value is None or self.is_instance(value):
            return value
        raise cannot_convert(value, self.full_name)

    def lineage(self) -> list[str]:
        return [self.full_name, *self.bases]

    def add_static(self, name: str, function: Callable[..., object]) -> None:
        self.static_methods[name.lower()] = function

    def add_static_property(self, name: str, getter: Callable[[], object]) -> None:
        self.static_properties[name.lower()] = getter

    def __repr__(self) -> str:
        return f"[{self.full_name}]"


class TypeValue(v.DotNetObject):
    """A System.Type value (what `[int]` evaluates to)."""

    TYPE_NAME = "System.RuntimeType"
    BASE_TYPES = ("System.Type", "System.Reflection.MemberInfo")
    PROPERTIES = ("FullName", "Name", "Namespace", "IsEnum", "IsArray", "BaseType")
    METHODS = ("ToString", "GetType", "IsInstanceOfType", "GetEnumNames", "GetEnumValues", "InvokeMember")

    def __init__(self, pstype: PSType) -> None:
        self.pstype = pstype

    @property
    def FullName(self) -> str:
        return self.pstype.full_name

    @property
    def Name(self) -> str:
        return self.pstype.name

    @property
    def Namespace(self) -> str:
        return self.pstype.full_name.rsplit(".", 1)[0] if "." in self.pstype.full_name else ""

    @property
    def IsEnum(self) -> bool:
        return self.pstype.enum is not None

    @property
    def IsArray(self) -> bool:
        return self.pstype.full_name.endswith("[]")

    @property
    def BaseType(self) -> object:
        return None

    def ToString(self) -> str:
        return self.pstype.full_name

    def ps_to_string(self) -> str:
        return self.pstype.full_name

    def IsInstanceOfType(self, value: object) -> bool:
        return self.pstype.is_instance(value)

    def GetEnumNames(self) -> list[object]:
        return [name for name, _ in self.pstype.enum.members] if self.pstype.enum else []

    def GetEnumValues(self) -> list[object]:
        enum = self.pstype.enum
        return [v.EnumValue(enum, number) for _, number in enum.members] if enum else []

    def InvokeMember(self, *args: object) -> object:
        from simulator.powershell import dotnet  # the reflection machinery lives with the .NET types

        return dotnet.invoke_member(self, list(args))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TypeValue) and other.pstype.full_name.lower() == self.pstype.full_name.lower()

    def __hash__(self) -> int:
        return hash(self.pstype.full_name.lower())


# --- string form ---------------------------------------------------------------------------------


def format_double(number: float) -> str:
    """Double.ToString() of .NET Framework: 15 significant digits, "E+XX" exponents."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    text = f"{number:.15G}"
    if "E" in text:
        mantissa, exponent = text.split("E")
        sign = exponent[0]
        digits = exponent[1:].lstrip("0").rjust(2, "0")
        return f"{mantissa}E{sign}{digits}"
    return text


def to_string(value: object, ofs: str = " ") -> str:
    """PowerShell's string form of a value (LanguagePrimitives.ConvertTo string, $OFS between elements)."""
    if value is None or value is v.AUTOMATION_NULL:
        return ""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return format_double(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f") if value == value.to_integral() or abs(value) >= 1 else str(value)
    if isinstance(value, bytearray | bytes):
        return ofs.join(str(b) for b in value)
    if isinstance(value, list):
        return ofs.join(to_string(item, ofs) for item in value)
    if isinstance(value, v.Hashtable):
        return value.TYPE_NAME
    if isinstance(value, v.PSCustomObject):
        inner = "; ".join(f"{p.name}={to_string(p.value, ofs)}" for p in value.properties())
        return "@{" + inner + "}"
    if isinstance(value, v.EnumValue):
        return str(value)
    if isinstance(value, v.ScriptBlock):
        return value.text
    if isinstance(value, v.SecureString):
        return v.SecureString.TYPE_NAME
    if isinstance(value, v.SwitchParameter):
        return "True" if value.is_present else "False"
    if isinstance(value, v.PSReference):
        return v.PSReference.TYPE_NAME
    if isinstance(value, v.DateTime | v.TimeSpan):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, v.DotNetObject):
        return value.ps_to_string()
    return str(value)


def type_name(value: object) -> str:
    """The .NET full type name of a value ($x.GetType().FullName)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, v.TypedInt):
        return value.TYPE_NAME
    if isinstance(value, int):
        return "System.Int32" if INT32[0] <= value <= INT32[1] else "System.Int64"
    if isinstance(value, float):
        return "System.Double"
    if isinstance(value, decimal.Decimal):
        return "System.Decimal"
    if isinstance(value, v.PSChar):
        return "System.Char"
    if isinstance(value, str):
        return "System.String"
    if isinstance(value, bytearray | bytes):
        return "System.Byte[]"
    if isinstance(value, v.TypedArray):
        return value.element_type + "[]"
    if isinstance(value, list):
        return "System.Object[]"
    if isinstance(value, v.Hashtable):
        return value.TYPE_NAME
    if isinstance(value, v.PSCustomObject):
        return value.TYPE_NAME
    if isinstance(value, v.EnumValue):
        return value.enum.full_name
    if isinstance(value, uuid.UUID):
        return "System.Guid"
    if isinstance(value, v.DotNetObject):
        return value.ps_type_name()
    for kind in (v.ScriptBlock, v.SecureString, v.SwitchParameter, v.PSReference, v.DateTime, v.TimeSpan):
        if isinstance(value, kind):
            return str(kind.TYPE_NAME)
    return "System.Object"


def is_true(value: object) -> bool:
    """LanguagePrimitives.IsTrue (about_Booleans)."""
    if value is None or value is v.AUTOMATION_NULL:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return len(value) > 0
    if isinstance(value, int | float | decimal.Decimal):
        return value != 0
    if isinstance(value, v.SwitchParameter):
        return value.is_present
    if isinstance(value, bytearray | bytes):
        if len(value) == 0:
            return False
        return len(value) > 1 or value[0] != 0
    if isinstance(value, list):
        if not value:
            return False
        if len(value) == 1:
            return is_true(value[0])
        return True
    if isinstance(value, v.DotNetObject):
        items = value.ps_enumerate()
        if items is not None:
            return is_true(list(items))
    return True


# --- conversion ----------------------------------------------------------------------------------


def cannot_convert(value: object, target: str) -> ConversionError:
    # ExtendedTypeSystem.InvalidCastException
    return ConversionError(
        f'Cannot convert the "{to_string(value)}" value of type "{type_name(value)}" to type "{target}".'
    )


def failed_with(value: object, target: str, inner: str, error_id: str) -> ConversionError:
    # ExtendedTypeSystem.InvalidCastExceptionWithInnerException
    return ConversionError(
        f'Cannot convert value "{to_string(value)}" to type "{target}". Error: "{inner}"', error_id, inner
    )


def parse_number(text: str) -> int | float:
    """A string as PowerShell's numeric conversion reads it (whitespace, hex, exponent)."""
    stripped = text.strip()
    if stripped == "":
        return 0
    lower = stripped.lower()
    if lower.startswith(("0x", "+0x", "-0x")):
        return int(lower, 16)
    if not _NUMBER.match(stripped):
        raise ValueError(text)
    return int(stripped) if re.fullmatch(r"[+-]?\d+", stripped) else float(stripped)


def to_integer(value: object, target: str = "System.Int32") -> int:
    low, high = _INT_RANGES[target]
    short = target.rsplit(".", 1)[1]
    if value is None or value is v.AUTOMATION_NULL:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, v.EnumValue):
        return value.value
    if isinstance(value, v.PSChar):
        number: int | float = ord(value)
    elif isinstance(value, int):
        number = int(value)
    elif isinstance(value, float | decimal.Decimal):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = parse_number(value)
        except ValueError:
            raise failed_with(
                value, target, "Input string was not in a correct format.", "InvalidCastFromStringToInteger"
            ) from None
    elif isinstance(value, v.SwitchParameter):
        return int(value.is_present)
    else:
        raise cannot_convert(value, target)
    if isinstance(number, float):
        if not math.isfinite(number):
            raise failed_with(
                value, target, f"Value was either too large or too small for an {short}.", "InvalidCastIConvertible"
            )
        number = round(number)  # banker's rounding, as [int]2.5 -> 2
    if not low <= number <= high:
        article = "an" if short[0] in "AEIOU" else "a"
        raise failed_with(
            value, target, f"Value was either too large or too small for {article} {short}.", "InvalidCastIConvertible"
        )
    return number


def to_double(value: object) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float | decimal.Decimal):
        return float(value)
    if isinstance(value, v.EnumValue):
        return float(value.value)
    if isinstance(value, str):
        try:
            return float(parse_number(value))
        except ValueError:
            raise failed_with(
                value, "System.Double", "Input string was not in a correct format.", "InvalidCastFromStringToDouble"
            ) from None
    raise cannot_convert(value, "System.Double")


def to_char(value: object) -> v.PSChar:
    if isinstance(value, v.PSChar):
        return value
    if isinstance(value, str):
        if len(value) == 1:
            return v.PSChar(value)
        raise failed_with(
            value, "System.Char", "String must be exactly one character long.", "InvalidCastParseTargetInvocation"
        )
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFF:
        return v.PSChar(chr(value))
    raise cannot_convert(value, "System.Char")


def enum_convert(enum: v.EnumType, value: object) -> v.EnumValue:
    if isinstance(value, v.EnumValue):
        if value.enum == enum:
            return value
        return v.EnumValue(enum, value.value)
    if isinstance(value, bool):
        raise cannot_convert(value, enum.full_name)
    if isinstance(value, int):
        return v.EnumValue(enum, value)
    if isinstance(value, str):
        total = 0
        names = [part.strip() for part in value.split(",")] if enum.flags else [value.strip()]
        for name in names:
            number = enum.by_name(name)
            if number is None:
                if re.fullmatch(r"-?\d+", name):
                    number = int(name)
                else:
                    choices = ", ".join(member for member, _ in enum.members)
                    # EnumExpressionEvaluatorStrings.NoEnumNameMatch
                    inner = (
                        f"Unable to match the identifier name {name} to a valid enumerator name. Specify one of "
                        f"the following enumerator names and try again:\n{choices}"
                    )
                    raise failed_with(value, enum.full_name, inner, "RuntimeException")
            total |= number
        return v.EnumValue(enum, total)
    if isinstance(value, list) and enum.flags:
        total = 0
        for item in value:
            total |= enum_convert(enum, item).value
        return v.EnumValue(enum, total)
    raise cannot_convert(value, enum.full_name)


def to_hashtable(value: object) -> v.Hashtable | None:
    if value is None:
        return None
    if isinstance(value, v.Hashtable):
        return value if type(value) is v.Hashtable else v.Hashtable(value.items())
    raise cannot_convert(value, "System.Collections.Hashtable")


def to_guid(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip().strip("{}"))
        except ValueError:
            raise failed_with(
                value,
                "System.Guid",
                "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).",
                "InvalidCastParseTargetInvocation",
            ) from None
    raise cannot_convert(value, "System.Guid")


def to_datetime(value: object) -> v.DateTime:
    if isinstance(value, v.DateTime):
        return value
    if isinstance(value, str):
        for pattern in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                return v.DateTime(_dt.datetime.strptime(value.strip(), pattern))
            except ValueError:
                continue
        raise failed_with(
            value,
            "System.DateTime",
            "String was not recognized as a valid DateTime.",
            "InvalidCastParseTargetInvocation",
        )
    raise cannot_convert(value, "System.DateTime")


def enumerate_items(value: object) -> list[object] | None:
    """The elements PowerShell enumerates for a value, or None for a scalar (strings and dictionaries are scalars)."""
    if isinstance(value, list):
        return value
    if isinstance(value, bytearray | bytes):
        return [v.Byte(b) for b in value]
    if isinstance(value, v.DotNetObject):
        return value.ps_enumerate()
    return None


def to_array(value: object, element: PSType | None, element_name: str) -> object:
    if value is None:
        return None
    items = enumerate_items(value)
    if items is None:
        items = [value]
    if element is None:
        return list(items)
    converted = [None if item is None and element_name != "System.String" else element.convert(item) for item in items]
    if element_name == "System.Byte":
        return bytearray(int(b) for b in converted if isinstance(b, int))
    if element_name == "System.Object":
        return converted
    return v.TypedArray(converted, element_name)


class TypeRegistry:
    """Every type a script can name: accelerators, the .NET types the interpreter models, the machine's."""

    def __init__(self) -> None:
        self._types: dict[str, PSType] = {}
        self._accelerators: dict[str, str] = {}

    def add(self, pstype: PSType, *accelerators: str) -> PSType:
        self._types[pstype.full_name.lower()] = pstype
        for alias in accelerators:
            self._accelerators[alias.lower()] = pstype.full_name
        return pstype

    def add_enum(self, enum: v.EnumType, *accelerators: str) -> PSType:
        pstype = PSType(
            enum.full_name,
            is_instance=lambda value: isinstance(value, v.EnumValue) and value.enum.full_name == enum.full_name,
            convert=lambda value: None if value is None else enum_convert(enum, value),
            bases=("System.Enum", "System.ValueType"),
        )
        pstype.enum = enum
        for member, number in enum.members:
            pstype.add_static_property(member, _enum_member(enum, number))
        return self.add(pstype, *accelerators)

    def resolve(self, written: str) -> PSType | None:
        name = "".join(written.split())
        lower = name.lower()
        if lower.endswith("[]"):
            element = self.resolve(name[:-2])
            if element is None:
                return None
            return self.array_of(element)
        generic = re.fullmatch(r"(.+?)`?\d*\[(.+)\]", name)
        if generic is not None and "[" in name and not lower.endswith("[]"):
            return None
        full = self._accelerators.get(lower)
        if full is not None:
            return self._types[full.lower()]
        found = self._types.get(lower) or self._types.get("system." + lower)
        return found

    def array_of(self, element: PSType) -> PSType:
        full = element.full_name + "[]"
        known = self._types.get(full.lower())
        if known is not None:
            return known
        element_name = element.full_name

        def is_instance(value: object) -> bool:
            if element_name == "System.Object":
                return isinstance(value, list) and not isinstance(value, v.TypedArray)
            if element_name == "System.Byte":
                return isinstance(value, bytearray | bytes)
            return isinstance(value, v.TypedArray) and value.element_type == element_name

        pstype = PSType(
            full,
            is_instance=is_instance,
            # An array that already is of the type is itself, not a copy (LanguagePrimitives returns the same
            # instance): a function's [object[]] parameter sees the caller's array, as InvokeMember's out values need.
            convert=lambda value: value
            if is_instance(value)
            else to_array(value, None if element_name == "System.Object" else element, element_name),
            bases=("System.Array",),
        )
        return self.add(pstype)

    def names(self) -> Iterable[str]:
        return self._types.keys()


def _enum_member(enum: v.EnumType, number: int) -> Callable[[], object]:
    return lambda: v.EnumValue(enum, number)


def _exception_check(name: str) -> Callable[[object], bool]:
    return lambda x: isinstance(x, NetException) and x.is_a(name)


def _is_int32(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool | v.TypedInt) and INT32[0] <= value <= INT32[1]


def _is_int64(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool) and type(value) is int and not _is_int32(value)) or (
        isinstance(value, v.Int64)
    )


def _int_type(full: str) -> PSType:
    cls = _INT_CLASSES.get(full)

    def convert(value: object) -> object:
        number = to_integer(value, full)
        return number if cls is None else cls(number)

    def is_instance(value: object) -> bool:
        if full == "System.Int32":
            return _is_int32(value)
        if full == "System.Int64":
            return _is_int64(value)
        return cls is not None and isinstance(value, cls)

    return PSType(full, is_instance=is_instance, convert=convert, bases=("System.ValueType",))


def _to_bool(value: object) -> bool:
    return is_true(value)


def _string_convert(value: object) -> object:
    if value is None:
        return ""  # [string]$null is the empty string
    return to_string(value)


def _object_is(value: object) -> bool:
    return value is not None


def _psobject_convert(value: object) -> object:
    return value


def builtin_types() -> TypeRegistry:
    """The types every session knows, with the accelerators of about_Type_Accelerators (5.1)."""
    registry = TypeRegistry()
    registry.add(PSType("System.Object", is_instance=_object_is, convert=lambda value: value), "object")
    # CIM objects (the CDXML modules' -InputObject / -Action / -CimSession): a machine's DotNetObject whose
    # BASE_TYPES name them is an instance. Accelerators [ciminstance], [cimsession] (about_Type_Accelerators).
    registry.add(PSType("Microsoft.Management.Infrastructure.CimInstance"), "ciminstance")
    registry.add(PSType("Microsoft.Management.Infrastructure.CimSession"), "cimsession")
    registry.add(
        PSType(
            "System.String",
            is_instance=lambda x: isinstance(x, str) and not isinstance(x, v.PSChar),
            convert=_string_convert,
        ),
        "string",
    )
    registry.add(PSType("System.Char", is_instance=lambda x: isinstance(x, v.PSChar), convert=to_char), "char")
    registry.add(PSType("System.Boolean", is_instance=lambda x: isinstance(x, bool), convert=_to_bool), "bool")
    for full, alias in (
        ("System.Int32", "int"),
        ("System.Int64", "long"),
        ("System.Int16", "int16"),
        ("System.Byte", "byte"),
        ("System.SByte", "sbyte"),
        ("System.UInt16", "uint16"),
        ("System.UInt32", "uint32"),
        ("System.UInt64", "uint64"),
    ):
        registry.add(_int_type(full), alias)
    registry.add(PSType("System.Double", is_instance=lambda x: isinstance(x, float), convert=to_double), "double")
    registry.add(PSType("System.Single", is_instance=lambda x: False, convert=to_double), "float", "single")
    registry.add(
        PSType(
            "System.Decimal",
            is_instance=lambda x: isinstance(x, decimal.Decimal),
            convert=lambda x: decimal.Decimal(str(to_double(x))) if not isinstance(x, decimal.Decimal) else x,
        ),
        "decimal",
    )
    registry.add(
        PSType(
            "System.Array",
            is_instance=lambda x: isinstance(x, list | bytearray),
            convert=lambda x: to_array(x, None, "System.Object"),
        ),
        "array",
    )
    registry.add(
        PSType(
            "System.Collections.Hashtable",
            is_instance=lambda x: isinstance(x, v.Hashtable) and type(x) is v.Hashtable,
            convert=to_hashtable,
            bases=("System.Collections.IDictionary",),
        ),
        "hashtable",
    )
    registry.add(
        PSType(
            "System.Collections.Specialized.OrderedDictionary",
            is_instance=lambda x: isinstance(x, v.OrderedHashtable),
            bases=("System.Collections.IDictionary",),
        ),
        "ordered",
    )
    registry.add(
        PSType("System.Collections.IDictionary", is_instance=lambda x: isinstance(x, v.Hashtable)),
    )
    registry.add(
        PSType(
            "System.Management.Automation.PSCustomObject",
            is_instance=lambda x: isinstance(x, v.PSCustomObject),
            convert=_psobject_convert,
        ),
        "pscustomobject",
    )
    registry.add(
        PSType("System.Management.Automation.PSObject", is_instance=_object_is, convert=_psobject_convert), "psobject"
    )
    registry.add(
        PSType("System.Management.Automation.ScriptBlock", is_instance=lambda x: isinstance(x, v.ScriptBlock)),
        "scriptblock",
    )
    registry.add(
        PSType(
            "System.Management.Automation.SwitchParameter",
            is_instance=lambda x: isinstance(x, v.SwitchParameter),
            convert=lambda x: v.SwitchParameter(is_true(x)),
        ),
        "switch",
    )
    registry.add(
        PSType("System.Security.SecureString", is_instance=lambda x: isinstance(x, v.SecureString)), "securestring"
    )
    registry.add(
        PSType(
            "System.Management.Automation.PSReference",
            is_instance=lambda x: isinstance(x, v.PSReference),
            convert=lambda x: x if isinstance(x, v.PSReference) else v.PSReference(x),
        ),
        "ref",
    )
    registry.add(PSType("System.Guid", is_instance=lambda x: isinstance(x, uuid.UUID), convert=to_guid), "guid")
    registry.add(
        PSType("System.DateTime", is_instance=lambda x: isinstance(x, v.DateTime), convert=to_datetime), "datetime"
    )
    registry.add(PSType("System.TimeSpan", is_instance=lambda x: isinstance(x, v.TimeSpan)), "timespan")
    registry.add(PSType("System.Void", is_instance=lambda x: False, convert=lambda x: v.AUTOMATION_NULL), "void")
    registry.add(
        PSType("System.Type", is_instance=lambda x: isinstance(x, TypeValue), bases=("System.Reflection.MemberInfo",)),
        "type",
    )
    registry.add(
        PSType("System.ValueType", is_instance=lambda x: isinstance(x, int | float | bool | v.EnumValue | v.DateTime)),
    )
    registry.add(PSType("System.Enum", is_instance=lambda x: isinstance(x, v.EnumValue)))
    registry.add(
        PSType(
            "System.Collections.IEnumerable",
            is_instance=lambda x: isinstance(x, str | list | bytearray | v.Hashtable) or enumerate_items(x) is not None,
        )
    )
    for exception in list(_EXCEPTION_NAMES()):
        registry.add(PSType(exception, is_instance=_exception_check(exception)))
    registry.add(
        PSType(
            "System.Management.Automation.ErrorRecord",
            is_instance=lambda x: isinstance(x, ErrorRecord),
        )
    )
    return registry


def _EXCEPTION_NAMES() -> Iterable[str]:
    from simulator.powershell.errors import EXCEPTION_BASES

    names = set(EXCEPTION_BASES) | set(EXCEPTION_BASES.values())
    return sorted(names)


def exception_type(registry: TypeRegistry, full_name: str) -> PSType:
    """A PSType for an exception type registered after the session started."""
    found = registry.resolve(full_name)
    if found is not None:
        return found
    return registry.add(PSType(full_name, is_instance=lambda x: isinstance(x, NetException) and x.is_a(full_name)))


def lineage_of(value: object) -> list[str]:
    """The value's type and its bases, for -is against a base type (catch and -is)."""
    if isinstance(value, NetException):
        return exception_lineage(value.type_name)
    if isinstance(value, v.DotNetObject):
        return [value.ps_type_name(), *value.ps_base_types()]
    return [type_name(value)]


def convert_with(pstype: PSType, value: object) -> Any:
    """`[T]$value`: raises ConversionError."""
    if value is v.AUTOMATION_NULL:
        value = None
    return pstype.convert(value)
