"""The values a PowerShell script handles, as Python objects.

| PowerShell (.NET)                         | Python                                   |
|-------------------------------------------|------------------------------------------|
| `$null`                                   | `None`                                   |
| AutomationNull (a command that wrote nothing) | `AUTOMATION_NULL`                    |
| Boolean, String                           | `bool`, `str`                            |
| Int32 / Int64                             | `int` (Int32 when it fits, else Int64)   |
| UInt32, UInt64, Int16, Byte (typed)       | `TypedInt` subclasses of `int`           |
| Double, Decimal                           | `float`, `decimal.Decimal`               |
| Char                                      | `PSChar` (a one-character `str`)         |
| Object[]                                  | `list`                                   |
| T[] (String[], Int32[], ...)              | `TypedArray` (a `list` that knows T)     |
| Byte[]                                    | `bytearray`                              |
| Hashtable / OrderedDictionary             | `Hashtable` / `OrderedHashtable`         |
| PSCustomObject                            | `PSCustomObject`                         |
| ScriptBlock                               | `ScriptBlock`                            |
| an enum value                             | `EnumValue`                              |
| SecureString, DateTime, [ref], switch     | `SecureString`, `DateTime`, `PSReference`, `SwitchParameter` |
| any other .NET object                     | a `DotNetObject` subclass                |

A .NET object of the simulated machine (a COM object, a cluster resource, a service) is a
`DotNetObject`: it declares its PowerShell-visible properties and methods by name
(`PROPERTIES`, `METHODS`), looked up case-insensitively.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from simulator.powershell.ast import ScriptBlockNode


class _AutomationNull:
    """What a pipeline that wrote nothing evaluates to (System.Management.Automation.Internal.AutomationNull)."""

    _instance: _AutomationNull | None = None

    def __new__(cls) -> _AutomationNull:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "AUTOMATION_NULL"

    def __bool__(self) -> bool:
        return False


AUTOMATION_NULL = _AutomationNull()


class _Null:
    """What a .NET method returns for a null result: a method that returns None is void."""

    _instance: _Null | None = None

    def __new__(cls) -> _Null:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NULL"


NULL = _Null()


def dotnet_text(text: str) -> str:
    """A string as .NET holds it: UTF-16 code units, so a character beyond U+FFFF is two (a surrogate pair)."""
    if text.isascii() or all(ord(c) <= 0xFFFF for c in text):
        return text
    return "".join(
        c if ord(c) <= 0xFFFF else chr(0xD800 + ((ord(c) - 0x10000) >> 10)) + chr(0xDC00 + ((ord(c) - 0x10000) & 0x3FF))
        for c in text
    )


def python_text(text: str) -> str:
    """Back from UTF-16 code units: surrogate pairs joined into one character (lone ones kept)."""
    if text.isascii():
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


class PSChar(str):
    """System.Char."""


class TypedInt(int):
    """An integer of a specific .NET type (UInt32, UInt64, Int16, Byte, ...)."""

    TYPE_NAME: ClassVar[str] = "System.Int32"


class UInt32(TypedInt):
    TYPE_NAME = "System.UInt32"


class UInt64(TypedInt):
    TYPE_NAME = "System.UInt64"


class Int16(TypedInt):
    TYPE_NAME = "System.Int16"


class UInt16(TypedInt):
    TYPE_NAME = "System.UInt16"


class Byte(TypedInt):
    TYPE_NAME = "System.Byte"


class Int64(TypedInt):
    """An Int64 that happens to fit in 32 bits (e.g. [long]1)."""

    TYPE_NAME = "System.Int64"


class TypedArray(list):  # type: ignore[type-arg]
    """A .NET array of a declared element type (String[], Int32[], ...)."""

    def __init__(self, items: Iterable[object], element_type: str) -> None:
        super().__init__(items)
        self.element_type = element_type  # full .NET name, e.g. "System.String"


def _key(key: object) -> object:
    if isinstance(key, str):
        return ("s", key.lower())
    return (type(key).__name__, key)


class Hashtable:
    """System.Collections.Hashtable as `@{}` makes it: keys compared case-insensitively.

    It enumerates in insertion order. .NET enumerates a Hashtable in bucket order, which the
    simulator does not reproduce (assumed harmless: the project's results are ordered
    dictionaries or are read as JSON objects, where order carries no meaning).
    """

    TYPE_NAME: ClassVar[str] = "System.Collections.Hashtable"

    def __init__(self, items: Iterable[tuple[object, object]] = ()) -> None:
        self._data: dict[object, list[object]] = {}
        for key, value in items:
            self[key] = value

    def __getitem__(self, key: object) -> object:
        entry = self._data.get(_key(key))
        return None if entry is None else entry[1]

    def __setitem__(self, key: object, value: object) -> None:
        normal = _key(key)
        entry = self._data.get(normal)
        if entry is None:
            self._data[normal] = [key, value]
        else:
            entry[1] = value

    def __contains__(self, key: object) -> bool:
        return _key(key) in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[object]:
        return iter(self.keys())

    def add(self, key: object, value: object) -> bool:
        """Hashtable.Add: False when the key is already there."""
        if key in self:
            return False
        self[key] = value
        return True

    def remove(self, key: object) -> None:
        self._data.pop(_key(key), None)

    def keys(self) -> list[object]:
        return [entry[0] for entry in self._data.values()]

    def values(self) -> list[object]:
        return [entry[1] for entry in self._data.values()]

    def items(self) -> list[tuple[object, object]]:
        return [(entry[0], entry[1]) for entry in self._data.values()]

    def copy(self) -> Hashtable:
        return type(self)(self.items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.items()!r})"

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__


class OrderedHashtable(Hashtable):
    """System.Collections.Specialized.OrderedDictionary (`[ordered]@{}`)."""

    TYPE_NAME = "System.Collections.Specialized.OrderedDictionary"


@dataclass
class NoteProperty:
    name: str
    value: object


class PSCustomObject:
    """System.Management.Automation.PSCustomObject: note properties in order, names case-insensitive."""

    TYPE_NAME: ClassVar[str] = "System.Management.Automation.PSCustomObject"

    def __init__(self, properties: Iterable[tuple[str, object]] = ()) -> None:
        self._properties: dict[str, NoteProperty] = {}
        for name, value in properties:
            self.add(name, value)

    def add(self, name: str, value: object) -> None:
        self._properties[name.lower()] = NoteProperty(name, value)

    def get_property(self, name: str) -> NoteProperty | None:
        return self._properties.get(name.lower())

    def properties(self) -> list[NoteProperty]:
        return list(self._properties.values())

    def __repr__(self) -> str:
        return "PSCustomObject(" + ", ".join(f"{p.name}={p.value!r}" for p in self.properties()) + ")"


class PSString(str):
    """A string that carries note properties (as Invoke-Command's output does: PSComputerName, ...)."""

    notes: dict[str, NoteProperty]

    def __new__(cls, value: str, notes: Iterable[tuple[str, object]] = ()) -> PSString:
        made = super().__new__(cls, value)
        made.notes = {name.lower(): NoteProperty(name, item) for name, item in notes}
        return made


class ScriptBlock:
    """System.Management.Automation.ScriptBlock: compiled code, not a closure (PowerShell scopes are dynamic)."""

    TYPE_NAME: ClassVar[str] = "System.Management.Automation.ScriptBlock"

    def __init__(self, node: ScriptBlockNode, text: str, file: str = "") -> None:
        self.node = node
        self.text = text  # ToString(): the text between the braces
        self.file = file

    def __repr__(self) -> str:
        return f"ScriptBlock({self.text[:40]!r})"


@dataclass(frozen=True)
class EnumType:
    """A .NET enumeration: member names to values; `flags` for [Flags] enums."""

    full_name: str
    members: tuple[tuple[str, int], ...]
    flags: bool = False

    def by_name(self, name: str) -> int | None:
        wanted = name.strip().lower()
        for member, value in self.members:
            if member.lower() == wanted:
                return value
        return None

    def name_of(self, value: int) -> str:
        for member, number in self.members:
            if number == value:
                return member
        if self.flags and value:
            names = [m for m, n in self.members if n and value & n == n]
            covered = 0
            for m, n in self.members:
                if m in names:
                    covered |= n
            if covered == value:
                return ", ".join(names)
        return str(value)


class EnumValue:
    """A value of an enum type: its string form is the member name, its number the value."""

    def __init__(self, enum: EnumType, value: int) -> None:
        self.enum = enum
        self.value = int(value)

    def __str__(self) -> str:
        return self.enum.name_of(self.value)

    def __repr__(self) -> str:
        return f"[{self.enum.full_name}]::{self}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnumValue) and other.enum == self.enum and other.value == self.value

    def __hash__(self) -> int:
        return hash((self.enum.full_name, self.value))


class SecureString:
    """System.Security.SecureString: its text never reaches a string conversion."""

    TYPE_NAME: ClassVar[str] = "System.Security.SecureString"

    def __init__(self, text: str) -> None:
        self._text = text

    def reveal(self) -> str:
        """The plain text, for the machine (a cmdlet that takes a SecureString)."""
        return self._text

    @property
    def length(self) -> int:
        return len(self._text)

    def __repr__(self) -> str:
        return "SecureString(***)"


@dataclass
class PSReference:
    """[ref]: a box a method can write through."""

    value: object = None
    TYPE_NAME: ClassVar[str] = "System.Management.Automation.PSReference"


@dataclass(frozen=True)
class SwitchParameter:
    is_present: bool
    TYPE_NAME: ClassVar[str] = "System.Management.Automation.SwitchParameter"

    def __bool__(self) -> bool:
        return self.is_present


@dataclass(frozen=True, order=True)
class DateTime:
    """System.DateTime (local time of the simulated machine)."""

    moment: _dt.datetime
    TYPE_NAME: ClassVar[str] = "System.DateTime"

    def __str__(self) -> str:
        # The en-US short date and long time pattern, as [string](Get-Date) gives it.
        hour = self.moment.hour % 12 or 12
        suffix = "AM" if self.moment.hour < 12 else "PM"
        m = self.moment
        return f"{m.month}/{m.day}/{m.year} {hour}:{m.minute:02d}:{m.second:02d} {suffix}"


@dataclass(frozen=True, order=True)
class TimeSpan:
    delta: _dt.timedelta
    TYPE_NAME: ClassVar[str] = "System.TimeSpan"

    def __str__(self) -> str:
        total = self.delta.total_seconds()
        sign = "-" if total < 0 else ""
        total = abs(total)
        days, rest = divmod(int(total), 86400)
        hours, rest = divmod(rest, 3600)
        minutes, seconds = divmod(rest, 60)
        head = f"{days}." if days else ""
        return f"{sign}{head}{hours:02d}:{minutes:02d}:{seconds:02d}"


class DotNetObject:
    """A .NET object of the simulated machine.

    Subclasses list the members a script may use: `PROPERTIES` (names of Python attributes or
    properties, as PowerShell spells them) and `METHODS` (names of Python methods taking the
    script's arguments positionally). A member not listed does not exist: reading it under
    StrictMode throws PropertyNotFoundStrict, calling it throws MethodNotFound.
    `SETTABLE` lists the properties a script may assign. A method that returns None is void (it
    writes nothing to the pipeline); one whose result is null returns `values.NULL`.
    """

    TYPE_NAME: ClassVar[str] = "System.Object"
    BASE_TYPES: ClassVar[tuple[str, ...]] = ()
    PROPERTIES: ClassVar[tuple[str, ...]] = ()
    SETTABLE: ClassVar[tuple[str, ...]] = ()
    METHODS: ClassVar[tuple[str, ...]] = ()

    def ps_type_name(self) -> str:
        return self.TYPE_NAME

    def ps_base_types(self) -> tuple[str, ...]:
        return self.BASE_TYPES

    def ps_property_names(self) -> list[str]:
        return list(self.PROPERTIES)

    def ps_has_property(self, name: str) -> str | None:
        wanted = name.lower()
        return next((p for p in self.ps_property_names() if p.lower() == wanted), None)

    def ps_get(self, name: str) -> object:
        """The property's value; only called for a name `ps_has_property` accepted."""
        return getattr(self, name)

    def ps_set(self, name: str, value: object) -> None:
        setattr(self, name, value)

    def ps_can_set(self, name: str) -> str | None:
        wanted = name.lower()
        return next((p for p in self.SETTABLE if p.lower() == wanted), None)

    def ps_method(self, name: str) -> Callable[..., Any] | None:
        wanted = name.lower()
        found = next((m for m in self.METHODS if m.lower() == wanted), None)
        return None if found is None else getattr(self, found)

    def ps_to_string(self) -> str:
        return self.ps_type_name()

    def ps_enumerate(self) -> list[object] | None:
        """The elements, for a collection (a pipeline unrolls it); None for a scalar."""
        return None


@dataclass
class Collection(DotNetObject):
    """A read-only .NET collection (MatchCollection, KeyCollection, ...): enumerable, Count, indexer."""

    items: list[object] = field(default_factory=list)
    type_name: str = "System.Collections.ObjectModel.Collection`1[[System.Object]]"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Count",)

    def ps_type_name(self) -> str:
        return self.type_name

    @property
    def Count(self) -> int:
        return len(self.items)

    def ps_enumerate(self) -> list[object] | None:
        return list(self.items)
