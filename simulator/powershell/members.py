"""Properties and methods of values: `$x.Name`, `$x.Name = 1`, `$x.Method(...)`, `[T]::Member`.

Rules (PowerShell/PowerShell v6.0.0-alpha.10, Binders.cs, PSGetMemberBinder):
- A dictionary's keys shadow its properties; a missing key falls back to the properties.
- A member a value does not have: $null, or PropertyNotFoundStrict under StrictMode 2+.
- `.Count`/`.Length` of a scalar: 1 (0 for $null), but PropertyNotFoundStrict under StrictMode 2+
  in Windows PowerShell 5.1 (the intrinsic members were exempted only in PowerShell 7).
- A collection without the member enumerates it (member-access enumeration, PowerShell 3+):
  one result is returned as itself, none under StrictMode is PropertyNotFoundStrict.
- .NET exceptions thrown by a method become MethodInvocationException
  ('Exception calling "M" with "N" argument(s): "..."'), a TargetInvocationException unwrapped once
  (ExceptionHandlingOps.ConvertToMethodInvocationException, MiscOps.cs).
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from simulator.powershell import values as v
from simulator.powershell.errors import (
    DotNetError,
    NetException,
    PSTerminatingError,
    make_record,
)
from simulator.powershell.types import (
    PSType,
    TypeValue,
    enumerate_items,
    to_integer,
    to_string,
    type_name,
)

if TYPE_CHECKING:
    from simulator.powershell.interpreter import Interpreter


class _Missing:
    pass


MISSING = _Missing()


def property_not_found_strict(name: str) -> PSTerminatingError:
    # ParserStrings.PropertyNotFoundStrict
    return PSTerminatingError(
        make_record(
            "System.Management.Automation.PropertyNotFoundException",
            f"The property '{name}' cannot be found on this object. Verify that the property exists.",
            "PropertyNotFoundStrict",
            "InvalidOperation",  # Set-StrictMode (5.1), Example 2
        ),
        statement_only=True,
    )


def property_not_settable(name: str) -> PSTerminatingError:
    # ParserStrings.PropertyNotFound
    return PSTerminatingError(
        make_record(
            "System.Management.Automation.RuntimeException",
            f"The property '{name}' cannot be found on this object. Verify that the property exists and can be set.",
            "PropertyNotFound",
            "InvalidOperation",
        ),
        statement_only=True,
    )


def method_not_found(target_type: str, name: str) -> PSTerminatingError:
    # ParserStrings.MethodNotFound
    return PSTerminatingError(
        make_record(
            "System.Management.Automation.RuntimeException",
            f"Method invocation failed because [{target_type}] does not contain a method named '{name}'.",
            "MethodNotFound",
            "InvalidOperation",
        ),
        statement_only=True,
    )


def method_on_null() -> PSTerminatingError:
    return PSTerminatingError(
        make_record(
            "System.Management.Automation.RuntimeException",
            "You cannot call a method on a null-valued expression.",
            "InvokeMethodOnNull",
            "InvalidOperation",
        ),
        statement_only=True,
    )


def overload_not_found(name: str, count: int) -> PSTerminatingError:
    # ExtendedTypeSystem.MethodCountCouldNotFindBest
    return PSTerminatingError(
        make_record(
            "System.Management.Automation.MethodException",
            f'Cannot find an overload for "{name}" and the argument count: "{count}".',
            "MethodCountCouldNotFindBest",
            "NotSpecified",
        ),
        statement_only=True,
    )


def method_invocation_error(name: str, count: int, exception: NetException) -> PSTerminatingError:
    """MethodInvocationException as ConvertToMethodInvocationException builds it."""
    if exception.is_a("System.Reflection.TargetInvocationException") and exception.InnerException is not None:
        exception = exception.InnerException
    short = exception.type_name.rsplit(".", 1)[-1]
    message = f'Exception calling "{name}" with "{count}" argument(s): "{exception.Message}"'
    record = make_record(
        "System.Management.Automation.MethodInvocationException",
        message,
        short,
        "NotSpecified",
        inner=exception,
    )
    return PSTerminatingError(record, statement_only=True)


# --- the PSObject view ---------------------------------------------------------------------------


class PSPropertyInfo(v.DotNetObject):
    TYPE_NAME = "System.Management.Automation.PSNoteProperty"
    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "Name",
        "Value",
        "MemberType",
        "TypeNameOfValue",
        "IsSettable",
        "IsGettable",
    )
    SETTABLE: ClassVar[tuple[str, ...]] = ("Value",)

    def __init__(
        self,
        name: str,
        getter: Callable[[], object],
        member_type: str = "NoteProperty",
        setter: Callable[[object], None] | None = None,
    ) -> None:
        self.Name = name
        self._getter = getter
        self._setter = setter
        self.MemberType = member_type
        self.IsGettable = True
        self.IsSettable = setter is not None

    @property
    def Value(self) -> object:
        return self._getter()

    @Value.setter
    def Value(self, value: object) -> None:
        if self._setter is not None:
            self._setter(value)

    @property
    def TypeNameOfValue(self) -> str:
        return type_name(self._getter()) or "System.Object"

    def ps_to_string(self) -> str:
        return f"{self.TypeNameOfValue} {self.Name}={to_string(self.Value)}"


class PropertyCollection(v.DotNetObject):
    TYPE_NAME = "System.Management.Automation.PSMemberInfoIntegratingCollection`1"
    METHODS: ClassVar[tuple[str, ...]] = ("Match",)

    def __init__(self, properties: list[PSPropertyInfo]) -> None:
        self._properties = properties

    def ps_enumerate(self) -> list[object] | None:
        return list(self._properties)

    def index(self, key: object) -> object:
        wanted = to_string(key).lower()
        return next((p for p in self._properties if p.Name.lower() == wanted), None)

    def Match(self, pattern: object) -> list[object]:
        from simulator.powershell.operators import like

        return [p for p in self._properties if like(p.Name, pattern)]


class PSObjectView(v.DotNetObject):
    """`$x.PSObject`: Properties, BaseObject, TypeNames."""

    TYPE_NAME = "System.Management.Automation.PSObject"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Properties", "BaseObject", "ImmediateBaseObject", "TypeNames", "Members")

    def __init__(self, value: object) -> None:
        self._value = value

    @property
    def Properties(self) -> PropertyCollection:
        return PropertyCollection(properties_of(self._value))

    @property
    def Members(self) -> PropertyCollection:
        return self.Properties

    @property
    def BaseObject(self) -> object:
        return self._value

    @property
    def ImmediateBaseObject(self) -> object:
        return self._value

    @property
    def TypeNames(self) -> list[object]:
        from simulator.powershell.types import lineage_of

        names: list[object] = list(lineage_of(self._value))
        return names + ([] if type_name(self._value) == "System.Object" else ["System.Object"])


def _constant(value: object) -> Callable[[], object]:
    return lambda: value


def _note_getter(prop: v.NoteProperty) -> Callable[[], object]:
    return lambda: prop.value


def _note_setter(prop: v.NoteProperty) -> Callable[[object], None]:
    def assign(new: object) -> None:
        prop.value = new

    return assign


def _member_getter(owner: v.DotNetObject, name: str) -> Callable[[], object]:
    return lambda: owner.ps_get(name)


def _member_setter(owner: v.DotNetObject, name: str) -> Callable[[object], None]:
    return lambda new: owner.ps_set(name, new)


def properties_of(value: object) -> list[PSPropertyInfo]:
    """The properties `$x.PSObject.Properties` lists (and ConvertTo-Json / Select-Object use)."""
    if isinstance(value, v.PSCustomObject):
        return [PSPropertyInfo(p.name, _note_getter(p), "NoteProperty", _note_setter(p)) for p in value.properties()]
    if isinstance(value, v.PSString):
        return [PSPropertyInfo(n.name, _note_getter(n)) for n in value.notes.values()] + [
            PSPropertyInfo("Length", _constant(len(value)), "Property")
        ]
    if isinstance(value, str):
        return [PSPropertyInfo("Length", _constant(len(value)), "Property")]
    if isinstance(value, v.Hashtable):
        table = value
        names = ("IsReadOnly", "IsFixedSize", "IsSynchronized", "Keys", "Values", "SyncRoot", "Count")
        return [PSPropertyInfo(n, _constant(_hashtable_property(table, n)), "Property") for n in names]
    if isinstance(value, v.DotNetObject):
        owner = value
        return [
            PSPropertyInfo(
                n,
                _member_getter(owner, n),
                "Property",
                _member_setter(owner, n) if owner.ps_can_set(n) else None,
            )
            for n in owner.ps_property_names()
        ]
    if isinstance(value, v.DateTime):
        moment = value
        return [PSPropertyInfo(n, _constant(_datetime_property(moment, n)), "Property") for n in _DATETIME_PROPERTIES]
    if isinstance(value, list | bytearray):
        size = len(value)
        return [PSPropertyInfo(n, _constant(size), "Property") for n in ("Length", "LongLength", "Count")] + [
            PSPropertyInfo("Rank", _constant(1), "Property")
        ]
    return []


def _hashtable_property(table: v.Hashtable, name: str) -> object:
    if name == "Count":
        return len(table)
    if name == "Keys":
        return v.Collection(table.keys(), "System.Collections.Hashtable+KeyCollection")
    if name == "Values":
        return v.Collection(table.values(), "System.Collections.Hashtable+ValueCollection")
    if name in ("IsReadOnly", "IsFixedSize", "IsSynchronized"):
        return False
    return table


_DATETIME_PROPERTIES = (
    "Year",
    "Month",
    "Day",
    "Hour",
    "Minute",
    "Second",
    "Millisecond",
    "DayOfWeek",
    "DayOfYear",
    "Date",
    "Ticks",
    "Kind",
    "TimeOfDay",
)


def _datetime_property(value: v.DateTime, name: str) -> object:
    moment = value.moment
    if name == "Millisecond":
        return moment.microsecond // 1000
    if name == "DayOfWeek":
        return moment.strftime("%A")
    if name == "DayOfYear":
        return moment.timetuple().tm_yday
    if name == "Date":
        return v.DateTime(_dt.datetime(moment.year, moment.month, moment.day))
    if name == "Ticks":
        return int((moment - _dt.datetime(1, 1, 1)).total_seconds() * 10_000_000)
    if name == "Kind":
        return "Local"
    if name == "TimeOfDay":
        return v.TimeSpan(moment - _dt.datetime(moment.year, moment.month, moment.day))
    return getattr(moment, name.lower())


# --- getting -------------------------------------------------------------------------------------


class Members:
    """Member access for one interpreter (it knows the strict mode and the types)."""

    def __init__(self, interpreter: Interpreter) -> None:
        self.interp = interpreter

    def get(self, target: object, name: str) -> object:
        found = self._get(target, name)
        if found is not MISSING:
            return found
        strict = self.interp.strict_version() >= 2
        if target is not None and target is not v.AUTOMATION_NULL and not isinstance(target, str | v.Hashtable):
            items = enumerate_items(target)
            if items is not None:
                return self._enumerate(items, name, strict)
        if name.lower() in ("count", "length"):
            if strict:
                raise property_not_found_strict(name)
            return 0 if target is None or target is v.AUTOMATION_NULL else 1
        if strict:
            raise property_not_found_strict(name)
        return None

    def _enumerate(self, items: list[object], name: str, strict: bool) -> object:
        results: list[object] = []
        for item in items:
            if item is None:
                results.append(None)
                continue
            value = self._get(item, name)
            if value is MISSING:
                nested = enumerate_items(item) if not isinstance(item, str | v.Hashtable) else None
                if nested is not None:
                    inner = self._enumerate(nested, name, strict)
                    if isinstance(inner, list):
                        results.extend(inner)
                    elif inner is not None:
                        results.append(inner)
                    continue
                if strict:
                    raise property_not_found_strict(name)
                continue
            results.append(value)
        if len(results) == 1:
            return results[0]
        if not results:
            if strict:
                raise property_not_found_strict(name)
            return None
        return results

    def _get(self, target: object, name: str) -> object:
        lower = name.lower()
        if target is None or target is v.AUTOMATION_NULL:
            return MISSING
        if lower == "psobject":
            return PSObjectView(target)
        if lower == "pstypenames":
            return PSObjectView(target).TypeNames
        if lower == "psbase":
            return target
        if isinstance(target, v.Hashtable):
            if name in target:
                return target[name]
            if lower in ("count", "keys", "values", "isreadonly", "isfixedsize", "issynchronized", "syncroot"):
                canonical = {
                    p.lower(): p
                    for p in ("Count", "Keys", "Values", "IsReadOnly", "IsFixedSize", "IsSynchronized", "SyncRoot")
                }[lower]
                return _hashtable_property(target, canonical)
            return MISSING
        if isinstance(target, v.PSCustomObject):
            prop = target.get_property(name)
            return MISSING if prop is None else prop.value
        if isinstance(target, str):
            if isinstance(target, v.PSString) and lower in target.notes:
                return target.notes[lower].value
            if lower == "length":
                return len(target)
            return MISSING
        if isinstance(target, list | bytearray):
            if lower in ("length", "count", "longlength"):
                return len(target)
            if lower == "rank":
                return 1
            if lower == "issynchronized" or lower == "isfixedsize" or lower == "isreadonly":
                return lower == "isfixedsize"
            return MISSING
        if isinstance(target, v.DotNetObject):
            real = target.ps_has_property(name)
            if real is None:
                return MISSING
            try:
                return target.ps_get(real)
            except DotNetError as problem:
                # ExtendedTypeSystem.ExceptionWhenGetting
                raise PSTerminatingError(
                    make_record(
                        "System.Management.Automation.GetValueInvocationException",
                        f'Exception getting "{real}": "{problem.exception.Message}"',
                        "ExceptionWhenGetting",
                        "NotSpecified",
                        inner=problem.exception,
                    ),
                    statement_only=True,
                ) from None
        if isinstance(target, v.DateTime):
            found = next((p for p in _DATETIME_PROPERTIES if p.lower() == lower), None)
            return MISSING if found is None else _datetime_property(target, found)
        if isinstance(target, v.TimeSpan):
            seconds = target.delta.total_seconds()
            spans = {
                "totalseconds": seconds,
                "totalminutes": seconds / 60,
                "totalhours": seconds / 3600,
                "totaldays": seconds / 86400,
                "totalmilliseconds": seconds * 1000,
                "days": target.delta.days,
                "hours": int(seconds // 3600) % 24,
                "minutes": int(seconds // 60) % 60,
                "seconds": int(seconds) % 60,
            }
            return spans.get(lower, MISSING)
        if isinstance(target, v.SecureString):
            return target.length if lower == "length" else MISSING
        if isinstance(target, v.PSReference):
            return target.value if lower == "value" else MISSING
        if isinstance(target, v.SwitchParameter):
            return target.is_present if lower == "ispresent" else MISSING
        if isinstance(target, v.ScriptBlock):
            if lower == "file":
                return target.file or None
            if lower == "ast":
                from simulator.powershell.dotnet import ScriptBlockAst

                return ScriptBlockAst(target.node)
            return MISSING
        if isinstance(target, v.EnumValue):
            return target.value if lower == "value__" else MISSING
        if isinstance(target, uuid.UUID):
            return MISSING
        return MISSING

    def get_static(self, pstype: PSType, name: str) -> object:
        getter = pstype.static_properties.get(name.lower())
        if getter is not None:
            return getter()
        if self.interp.strict_version() >= 2:
            raise property_not_found_strict(name)
        return None

    # --- setting ---------------------------------------------------------------------------------

    def set(self, target: object, name: str, value: object) -> None:
        if target is None or target is v.AUTOMATION_NULL:
            # ParserStrings.PropertyNotFound (setting a property of $null)
            raise property_not_settable(name)
        if isinstance(target, v.Hashtable):
            target[name] = value
            return
        if isinstance(target, v.PSCustomObject):
            prop = target.get_property(name)
            if prop is None:
                raise property_not_settable(name)
            prop.value = value
            return
        if isinstance(target, v.PSReference) and name.lower() == "value":
            target.value = value
            return
        if isinstance(target, v.DotNetObject):
            real = target.ps_can_set(name)
            if real is None:
                raise property_not_settable(name)
            try:
                target.ps_set(real, value)
            except DotNetError as problem:
                raise PSTerminatingError(
                    make_record(
                        "System.Management.Automation.SetValueInvocationException",
                        f'Exception setting "{real}": "{problem.exception.Message}"',
                        "ExceptionWhenSetting",
                        "NotSpecified",
                        inner=problem.exception,
                    ),
                    statement_only=True,
                ) from None
            return
        raise property_not_settable(name)

    # --- methods ---------------------------------------------------------------------------------

    def invoke(self, target: object, name: str, arguments: list[object]) -> object:
        if target is None or target is v.AUTOMATION_NULL:
            raise method_on_null()
        function = self._method(target, name)
        if function is None:
            items = enumerate_items(target) if not isinstance(target, str | v.Hashtable) else None
            if items is not None and isinstance(target, list):
                return [self.invoke(item, name, arguments) for item in items]
            raise method_not_found(type_name(target) or "System.Object", name)
        return self.call(function, name, arguments)

    def call(self, function: Callable[..., Any], name: str, arguments: list[object]) -> object:
        try:
            result = function(*arguments)
            if result is None:
                return v.AUTOMATION_NULL  # a void method writes nothing
            return None if result is v.NULL else result
        except DotNetError as problem:
            raise method_invocation_error(name, len(arguments), problem.exception) from None
        except _WrongArguments:
            raise overload_not_found(name, len(arguments)) from None
        except TypeError as problem:
            if "positional argument" in str(problem) or "required" in str(problem) or "takes" in str(problem):
                raise overload_not_found(name, len(arguments)) from None
            raise

    def invoke_static(self, pstype: PSType, name: str, arguments: list[object]) -> object:
        function = pstype.static_methods.get(name.lower())
        if function is None:
            raise method_not_found(pstype.full_name, name)
        return self.call(function, name, arguments)

    def _method(self, target: object, name: str) -> Callable[..., Any] | None:
        lower = name.lower()
        if lower == "gettype":
            return lambda: TypeValue(self.interp.type_of(target))
        if isinstance(target, v.DotNetObject):
            found = target.ps_method(name)
            if found is not None:
                return found
            if lower == "tostring":
                return lambda *args: target.ps_to_string()
            if lower == "equals":
                return lambda other: target is other or target == other
            if lower == "gethashcode":
                return lambda: id(target) & 0x7FFFFFFF
            return None
        if isinstance(target, str):
            return _string_method(target, lower)
        if isinstance(target, v.Hashtable):
            return _hashtable_method(target, lower)
        if isinstance(target, list | bytearray):
            return _list_method(target, lower)
        if isinstance(target, v.DateTime):
            return _datetime_method(target, lower)
        if isinstance(target, v.ScriptBlock):
            if lower in ("invoke", "invokereturnasis"):
                return lambda *args: self.interp.invoke_block_value(target, list(args))
            if lower == "getnewclosure":
                return lambda: target
        if isinstance(target, v.SecureString):
            if lower == "dispose":
                return lambda: None
            if lower == "makereadonly":
                return lambda: None
        if lower == "tostring":
            return lambda *args: _to_string_with(target, args)
        if lower == "equals":
            from simulator.powershell.operators import equals

            return lambda other: equals(target, other, case_sensitive=True)
        if lower == "compareto" and isinstance(target, int | float):
            return lambda other: (target > other) - (target < other)
        if lower == "gethashcode":
            return lambda: hash(target) & 0x7FFFFFFF
        return None


class _WrongArguments(Exception):
    pass


def _to_string_with(value: object, args: tuple[object, ...]) -> str:
    if isinstance(value, uuid.UUID):
        spec = to_string(args[0]).upper() if args and args[0] else "D"
        forms = {"N": value.hex, "D": str(value), "B": "{" + str(value) + "}", "P": "(" + str(value) + ")"}
        if spec not in forms:
            raise DotNetError(
                NetException(
                    "System.FormatException",
                    'Format String can be only "D", "d", "N", "n", "P", "p", "B", "b", "X" or "x".',
                )
            )
        return forms[spec]
    if args and isinstance(args[0], str):
        from simulator.powershell.operators import format_value

        return format_value(value, args[0])
    return to_string(value)


def _chars(value: object) -> str:
    if value is None:
        return ""
    items = enumerate_items(value)
    if items is not None:
        return "".join(to_string(item) for item in items)
    return to_string(value)


def _string_method(text: str, name: str) -> Callable[..., Any] | None:
    methods: dict[str, Callable[..., Any]] = {
        "replace": lambda old, new: text.replace(to_string(old), to_string(new)) if to_string(old) else _empty_old(),
        "split": lambda *sep: _string_split(text, sep),
        "trim": lambda *chars: text.strip(_chars(chars) if chars else None),
        "trimstart": lambda *chars: text.lstrip(_chars(chars) if chars else None),
        "trimend": lambda *chars: text.rstrip(_chars(chars) if chars else None),
        "toupper": lambda *args: text.upper(),
        "tolower": lambda *args: text.lower(),
        "toupperinvariant": lambda: text.upper(),
        "tolowerinvariant": lambda: text.lower(),
        "startswith": lambda prefix, *mode: _compare_mode(mode)(text).startswith(
            _compare_mode(mode)(to_string(prefix))
        ),
        "endswith": lambda suffix, *mode: _compare_mode(mode)(text).endswith(_compare_mode(mode)(to_string(suffix))),
        "contains": lambda part: to_string(part) in text,
        "indexof": lambda part, *start: text.find(to_string(part), *(to_integer(s) for s in start)),
        "lastindexof": lambda part: text.rfind(to_string(part)),
        "substring": lambda start, *length: _substring(text, to_integer(start), *(to_integer(n) for n in length)),
        "padleft": lambda width, *fill: text.rjust(to_integer(width), to_string(fill[0]) if fill else " "),
        "padright": lambda width, *fill: text.ljust(to_integer(width), to_string(fill[0]) if fill else " "),
        "insert": lambda index, part: text[: to_integer(index)] + to_string(part) + text[to_integer(index) :],
        "remove": lambda start, *length: _remove(text, to_integer(start), *(to_integer(n) for n in length)),
        "tochararray": lambda: v.TypedArray([v.PSChar(c) for c in text], "System.Char"),
        "tostring": lambda *args: str.__str__(text),
        "equals": lambda other, *mode: _compare_mode(mode)(text) == _compare_mode(mode)(to_string(other)),
        "compareto": lambda other: (text > to_string(other)) - (text < to_string(other)),
        "gethashcode": lambda: hash(text) & 0x7FFFFFFF,
        "normalize": lambda *args: text,
        "clone": lambda: text,
    }
    return methods.get(name)


def _empty_old() -> str:
    raise DotNetError(
        NetException("System.ArgumentException", "String cannot be of zero length.\r\nParameter name: oldValue")
    )


def _compare_mode(mode: tuple[object, ...]) -> Callable[[str], str]:
    if mode and ("ignorecase" in to_string(mode[0]).lower() or mode[0] is True):
        return str.lower
    return lambda text: text


def _substring(text: str, start: int, length: int | None = None) -> str:
    if start < 0 or start > len(text) or (length is not None and (length < 0 or start + length > len(text))):
        parameter = "startIndex" if length is None or start > len(text) or start < 0 else "length"
        message = (
            "startIndex cannot be larger than length of string."
            if parameter == "startIndex"
            else "Index and length must refer to a location within the string."
        )
        raise DotNetError(
            NetException("System.ArgumentOutOfRangeException", f"{message}\r\nParameter name: {parameter}")
        )
    return text[start:] if length is None else text[start : start + length]


def _remove(text: str, start: int, length: int | None = None) -> str:
    return text[:start] if length is None else text[:start] + text[start + length :]


def _string_split(text: str, separators: tuple[object, ...]) -> list[object]:
    if not separators:
        return list(text.split(" ")) if text else [""]
    first = separators[0]
    items = enumerate_items(first)
    if items is not None:
        chars = [to_string(item) for item in items]
    else:
        chars = list(to_string(first)) if not isinstance(first, str) or len(separators) == 1 else [to_string(first)]
        if isinstance(first, str) and len(separators) == 1:
            chars = list(first)  # String.Split(params char[]): a string argument is its characters
    remove_empty = len(separators) > 1 and "removeempty" in to_string(separators[-1]).lower()
    parts = [text]
    for sep in chars:
        if not sep:
            continue
        parts = [piece for part in parts for piece in part.split(sep)]
    return [p for p in parts if p or not remove_empty]


def _hashtable_method(table: v.Hashtable, name: str) -> Callable[..., Any] | None:
    def add(key: object, value: object) -> None:
        if key is None:
            raise DotNetError(
                NetException("System.ArgumentNullException", "Key cannot be null.\r\nParameter name: key")
            )
        if not table.add(key, value):
            raise DotNetError(
                NetException(
                    "System.ArgumentException",
                    f"Item has already been added. Key in dictionary: '{to_string(key)}'  Key being added: "
                    f"'{to_string(key)}'",
                )
            )

    methods: dict[str, Callable[..., Any]] = {
        "containskey": lambda key: key in table,
        "contains": lambda key: key in table,
        "containsvalue": lambda value: any(item == value for item in table.values()),
        "add": add,
        "remove": lambda key: table.remove(key),
        "clear": lambda: _clear(table),
        "getenumerator": lambda: DictionaryEnumerator(table),
        "clone": lambda: table.copy(),
        "tostring": lambda: table.TYPE_NAME,
        "get_item": lambda key: table[key],
        "set_item": lambda key, value: table.__setitem__(key, value),
    }
    return methods.get(name)


def _clear(table: v.Hashtable) -> None:
    for key in list(table):
        table.remove(key)


class DictionaryEntry(v.DotNetObject):
    TYPE_NAME = "System.Collections.DictionaryEntry"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Key", "Value", "Name")

    def __init__(self, key: object, value: object) -> None:
        self.Key = key
        self.Value = value

    @property
    def Name(self) -> object:
        return self.Key


class DictionaryEnumerator(v.DotNetObject):
    TYPE_NAME = "System.Collections.Hashtable+HashtableEnumerator"

    def __init__(self, table: v.Hashtable) -> None:
        self._entries: list[object] = [DictionaryEntry(key, value) for key, value in table.items()]

    def ps_enumerate(self) -> list[object] | None:
        return list(self._entries)


def _list_method(items: list[object] | bytearray, name: str) -> Callable[..., Any] | None:
    from simulator.powershell.operators import equals

    methods: dict[str, Callable[..., Any]] = {
        "contains": lambda value: any(equals(item, value, True) for item in items),
        "indexof": lambda value: next((i for i, item in enumerate(items) if equals(item, value, True)), -1),
        "clone": lambda: items.copy(),
        "getvalue": lambda index: items[to_integer(index)],
        "tostring": lambda: type_name(items),
        "getenumerator": lambda: v.Collection(list(items)),
        "getlength": lambda dimension: len(items),
    }
    return methods.get(name)


def _datetime_method(value: v.DateTime, name: str) -> Callable[..., Any] | None:
    moment = value.moment

    def add(**unit: float) -> Callable[[object], v.DateTime]:
        key = next(iter(unit))
        return lambda amount: v.DateTime(moment + _dt.timedelta(**{key: float(to_double_any(amount))}))

    def add_months(amount: object) -> v.DateTime:
        months = moment.month - 1 + to_integer(amount)
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(
            moment.day,
            [
                31,
                29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ][month - 1],
        )
        return v.DateTime(moment.replace(year=year, month=month, day=day))

    methods: dict[str, Callable[..., Any]] = {
        "addseconds": add(seconds=1),
        "addminutes": add(minutes=1),
        "addhours": add(hours=1),
        "adddays": add(days=1),
        "addmilliseconds": add(milliseconds=1),
        "addmonths": add_months,
        "addyears": lambda amount: add_months(to_integer(amount) * 12),
        "tostring": lambda *spec: _to_string_with(value, spec),
        "touniversaltime": lambda: value,
        "tolocaltime": lambda: value,
        "subtract": lambda other: (
            v.TimeSpan(moment - other.moment) if isinstance(other, v.DateTime) else v.DateTime(moment - other.delta)
        ),
        "compareto": lambda other: (value > other) - (value < other),
    }
    return methods.get(name)


def to_double_any(value: object) -> float:
    from simulator.powershell.types import to_double

    return to_double(value)
