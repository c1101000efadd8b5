"""The cmdlets that are pure language: Where-Object, ForEach-Object, Select-Object, Sort-Object,
Out-Null, Out-String, Write-*, ConvertTo-Json, ConvertFrom-Json, ConvertTo-SecureString,
New-Object, Add-Type, Get-Date, Start-Sleep, Join-Path, Split-Path, Set-StrictMode, Start-Process.

Signatures follow the 5.1 cmdlets' declarations (PowerShell/PowerShell v6.0.0-alpha.10:
InternalCommands.cs for Where-Object/ForEach-Object; commands/utility/*.cs; the 5.1 reference
pages under MicrosoftDocs/PowerShell-Docs reference/5.1 for the rest).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from typing import ClassVar

from simulator.powershell import jsonconv
from simulator.powershell import operators as ops
from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet, CommandDefinition
from simulator.powershell.errors import DotNetError, PSTerminatingError
from simulator.powershell.members import MISSING, properties_of
from simulator.powershell.types import (
    ConversionError,
    TypeValue,
    enumerate_items,
    is_true,
    to_integer,
    to_string,
)

UTILITY = "Microsoft.PowerShell.Commands"
CORE = "Microsoft.PowerShell.Commands"


def _sig(
    name: str, *params: object, default_set: str | None = None, qualifier: str = "", should_process: bool = False
) -> CommandSignature:
    return CommandSignature(
        name,
        tuple(params),  # type: ignore[arg-type]
        default_set,
        qualifier or f"{UTILITY}.{name.replace('-', '')}Command",
        supports_should_process=should_process,
    )


def _pipeline_value(cmdlet: Cmdlet, name: str = "InputObject") -> tuple[bool, object]:
    if name in cmdlet.params:
        return True, cmdlet.params[name]
    return False, None


# --- Where-Object --------------------------------------------------------------------------------

_WHERE_OPERATORS = [
    ("EQ", "EqualSet", "-eq", ("IEQ",)),
    ("CEQ", "CaseSensitiveEqualSet", "-ceq", ()),
    ("NE", "NotEqualSet", "-ne", ("INE",)),
    ("CNE", "CaseSensitiveNotEqualSet", "-cne", ()),
    ("GT", "GreaterThanSet", "-gt", ("IGT",)),
    ("CGT", "CaseSensitiveGreaterThanSet", "-cgt", ()),
    ("LT", "LessThanSet", "-lt", ("ILT",)),
    ("CLT", "CaseSensitiveLessThanSet", "-clt", ()),
    ("GE", "GreaterOrEqualSet", "-ge", ("IGE",)),
    ("CGE", "CaseSensitiveGreaterOrEqualSet", "-cge", ()),
    ("LE", "LessOrEqualSet", "-le", ("ILE",)),
    ("CLE", "CaseSensitiveLessOrEqualSet", "-cle", ()),
    ("Like", "LikeSet", "-like", ("ILike",)),
    ("CLike", "CaseSensitiveLikeSet", "-clike", ()),
    ("NotLike", "NotLikeSet", "-notlike", ("INotLike",)),
    ("CNotLike", "CaseSensitiveNotLikeSet", "-cnotlike", ()),
    ("Match", "MatchSet", "-match", ("IMatch",)),
    ("CMatch", "CaseSensitiveMatchSet", "-cmatch", ()),
    ("NotMatch", "NotMatchSet", "-notmatch", ("INotMatch",)),
    ("CNotMatch", "CaseSensitiveNotMatchSet", "-cnotmatch", ()),
    ("Contains", "ContainsSet", "-contains", ("IContains",)),
    ("CContains", "CaseSensitiveContainsSet", "-ccontains", ()),
    ("NotContains", "NotContainsSet", "-notcontains", ("INotContains",)),
    ("CNotContains", "CaseSensitiveNotContainsSet", "-cnotcontains", ()),
    ("In", "InSet", "-in", ("IIn",)),
    ("CIn", "CaseSensitiveInSet", "-cin", ()),
    ("NotIn", "NotInSet", "-notin", ("INotIn",)),
    ("CNotIn", "CaseSensitiveNotInSet", "-cnotin", ()),
    ("Is", "IsSet", "-is", ()),
    ("IsNot", "IsNotSet", "-isnot", ()),
]
_WHERE_SETS = [entry[1] for entry in _WHERE_OPERATORS]


class WhereObject(Cmdlet):
    SIGNATURE: ClassVar[CommandSignature]  # _where_signature(), below

    def process(self) -> None:
        present, item = _pipeline_value(self)
        if not present:
            return
        if self.parameter_set == "ScriptBlockSet":
            block = self.get("FilterScript")
            result = self.interp.invoke_block_value(block, [], dollar_under=item, new_scope=False)
            if is_true(result):
                self.write_object(item)
            return
        name = to_string(self.get("Property"))
        value = self.interp.members._get(item, name)
        if value is MISSING:
            value = None
            if self.interp.strict_version() >= 2 and item is not None:
                value = None
        operator = next((op for switch, set_name, op, _ in _WHERE_OPERATORS if set_name == self.parameter_set), "-eq")
        if self.parameter_set == "EqualSet" and not self.has("EQ") and not self.has("Value"):
            if is_true(value):
                self.write_object(item)
            return
        target = self.get("Value")
        if operator in ("-is", "-isnot"):
            pstype = target.pstype if isinstance(target, TypeValue) else self.interp.resolve_type(to_string(target))
            result = value is not None and self.interp._is(value, pstype)
            matched = result if operator == "-is" else not result
        else:
            outcome, _ = ops.comparison(operator, value, target)
            matched = is_true(outcome) if not isinstance(outcome, list) else bool(outcome)
        if matched:
            self.write_object(item)


def _where_signature() -> CommandSignature:
    params = [
        parameter("InputObject", "psobject", pipeline=True),
        parameter("FilterScript", "scriptblock", mandatory=True, position=0, sets=["ScriptBlockSet"]),
        parameter("Property", "string", mandatory=True, position=0, sets=_WHERE_SETS),
        parameter("Value", "object", position=1, sets=_WHERE_SETS),
    ]
    for switch, set_name, _, aliases in _WHERE_OPERATORS:
        params.append(parameter(switch, "switch", mandatory=set_name != "EqualSet", sets=[set_name], aliases=aliases))
    return CommandSignature("Where-Object", tuple(params), "EqualSet", f"{CORE}.WhereObjectCommand")


WhereObject.SIGNATURE = _where_signature()


# --- ForEach-Object ------------------------------------------------------------------------------


class ForEachObject(Cmdlet):
    SIGNATURE = CommandSignature(
        "ForEach-Object",
        (
            parameter("InputObject", "psobject", pipeline=True, sets=["ScriptBlockSet", "PropertyAndMethodSet"]),
            parameter("Begin", "scriptblock", sets=["ScriptBlockSet"]),
            parameter("Process", "scriptblock[]", mandatory=True, position=0, sets=["ScriptBlockSet"]),
            parameter("End", "scriptblock", sets=["ScriptBlockSet"]),
            parameter("RemainingScripts", "scriptblock[]", sets=["ScriptBlockSet"]),
            parameter("MemberName", "string", mandatory=True, position=0, sets=["PropertyAndMethodSet"]),
            parameter("ArgumentList", "object[]", sets=["PropertyAndMethodSet"], aliases=["Args"]),
        ),
        "ScriptBlockSet",
        f"{CORE}.ForEachObjectCommand",
    )

    def _run(self, block: object, item: object) -> None:
        if not isinstance(block, v.ScriptBlock):
            return
        output: list[object] = []
        from simulator.powershell.errors import ReturnSignal

        with contextlib.suppress(ReturnSignal):
            self.interp.invoke_script_block(block.node, [], output.append, dollar_under=item, new_scope=False)
        for value in output:
            self.write_object(value)

    def begin(self) -> None:
        if self.has("Begin"):
            self._run(self.get("Begin"), None)

    def process(self) -> None:
        present, item = _pipeline_value(self)
        if self.parameter_set == "PropertyAndMethodSet":
            if not present:
                return
            name = to_string(self.get("MemberName"))
            if self.has("ArgumentList"):
                self.write_object(self.interp.members.invoke(item, name, list(self.get("ArgumentList") or [])), True)
            else:
                self.write_object(self.interp.members.get(item, name), True)
            return
        for block in self.get("Process") or []:
            self._run(block, item if present else None)

    def end(self) -> None:
        if self.has("End"):
            self._run(self.get("End"), None)


# --- Select-Object -------------------------------------------------------------------------------


class SelectObject(Cmdlet):
    SIGNATURE = CommandSignature(
        "Select-Object",
        (
            parameter("InputObject", "psobject", pipeline=True),
            parameter("Property", "object[]", position=0, sets=["DefaultParameter", "SkipLastParameter"]),
            parameter("ExcludeProperty", "string[]", sets=["DefaultParameter", "SkipLastParameter"]),
            parameter("ExpandProperty", "string", sets=["DefaultParameter", "SkipLastParameter"]),
            parameter("Unique", "switch"),
            parameter("Last", "int", sets=["DefaultParameter"]),
            parameter("First", "int", sets=["DefaultParameter"]),
            parameter("Skip", "int", sets=["DefaultParameter"]),
            parameter("SkipLast", "int", sets=["SkipLastParameter"]),
            parameter("Wait", "switch", sets=["DefaultParameter", "IndexParameter"]),
            parameter("Index", "int[]", sets=["IndexParameter"]),
        ),
        "DefaultParameter",
        f"{UTILITY}.SelectObjectCommand",
    )

    def begin(self) -> None:
        self.seen = 0
        self.emitted = 0
        self.buffer: list[object] = []
        self.unique: list[object] = []

    def _shape(self, item: object) -> list[object]:
        if self.has("ExpandProperty"):
            name = to_string(self.get("ExpandProperty"))
            value = self.interp.members._get(item, name)
            if value is MISSING:
                record = self.error(
                    "System.Management.Automation.PSArgumentException",
                    f'Property "{name}" cannot be found.',
                    "ExpandPropertyNotFound",
                    "InvalidArgument",
                    target=item,
                )
                self.write_error(record)
                return []
            items = enumerate_items(value) if not isinstance(value, str) else None
            return [value] if items is None else list(items)
        properties = self.get("Property")
        if properties is None:
            return [item]
        selected = v.PSCustomObject()
        for spec in properties:
            if isinstance(spec, v.Hashtable):
                name, expression = _calculated(spec)
                if isinstance(expression, v.ScriptBlock):
                    value = self.interp.invoke_block_value(expression, [], dollar_under=item, new_scope=False)
                    value = None if value is v.AUTOMATION_NULL else value
                else:
                    found = self.interp.members._get(item, to_string(expression))
                    value = None if found is MISSING else found
                selected.add(name, value)
                continue
            pattern = to_string(spec)
            if any(c in pattern for c in "*?["):
                for prop in properties_of(item):
                    if ops.like(prop.Name, pattern):
                        selected.add(prop.Name, prop.Value)
                continue
            found = self.interp.members._get(item, pattern)
            selected.add(pattern, None if found is MISSING else found)
        return [selected]

    def process(self) -> None:
        present, item = _pipeline_value(self)
        if not present:
            return
        self.seen += 1
        if self.has("Skip") and self.seen <= to_integer(self.get("Skip")):
            return
        if self.has("Index"):
            if self.seen - 1 in [to_integer(i) for i in self.get("Index")]:
                self._emit(item)
            return
        if self.has("Last") or self.has("SkipLast") or self.flag("Unique"):
            self.buffer.append(item)
            return
        if self.has("First"):
            if self.emitted >= to_integer(self.get("First")):
                self.stop_upstream()
            self._emit(item)
            if self.emitted >= to_integer(self.get("First")):
                self.stop_upstream()
            return
        self._emit(item)

    def _emit(self, item: object) -> None:
        self.emitted += 1
        for shaped in self._shape(item):
            self.write_object(shaped)

    def end(self) -> None:
        items = self.buffer
        if not (self.has("Last") or self.has("SkipLast") or self.flag("Unique")):
            return
        if self.flag("Unique"):
            unique: list[object] = []
            for item in items:
                if not any(ops.equals(item, seen, True) for seen in unique):
                    unique.append(item)
            items = unique
        if self.has("First"):
            items = items[: to_integer(self.get("First"))]
        if self.has("Last"):
            count = to_integer(self.get("Last"))
            items = items[-count:] if count else []
        if self.has("SkipLast"):
            count = to_integer(self.get("SkipLast"))
            items = items[:-count] if count else items
        for item in items:
            for shaped in self._shape(item):
                self.write_object(shaped)


def _calculated(spec: v.Hashtable) -> tuple[str, object]:
    name = ""
    expression: object = None
    for key, value in spec.items():
        lower = to_string(key).lower()
        if "name".startswith(lower) or "label".startswith(lower):
            name = to_string(value)
        elif "expression".startswith(lower):
            expression = value
    if expression is None:
        raise PSTerminatingError(
            __import__("simulator.powershell.errors", fromlist=["x"]).make_record(
                "System.Management.Automation.RuntimeException",
                'The "Expression" key is missing.',
                "DictionaryKeyMissingKey",
                "InvalidArgument",
            ),
            statement_only=True,
        )
    if not name:
        name = to_string(expression)
    return name, expression


# --- Sort-Object ---------------------------------------------------------------------------------


class SortObject(Cmdlet):
    SIGNATURE = _sig(
        "Sort-Object",
        parameter("InputObject", "psobject", pipeline=True),
        parameter("Property", "object[]", position=0),
        parameter("Descending", "switch"),
        parameter("Unique", "switch"),
        parameter("CaseSensitive", "switch"),
        parameter("Culture", "string"),
    )

    def begin(self) -> None:
        self.items: list[object] = []

    def process(self) -> None:
        present, item = _pipeline_value(self)
        if present:
            self.items.append(item)

    def _key(self, item: object) -> list[object]:
        properties = self.get("Property")
        if properties is None:
            return [item]
        keys = []
        for spec in properties:
            if isinstance(spec, v.ScriptBlock):
                keys.append(self.interp.invoke_block_value(spec, [], dollar_under=item, new_scope=False))
            elif isinstance(spec, v.Hashtable):
                _, expression = _calculated(spec)
                keys.append(
                    self.interp.invoke_block_value(expression, [], dollar_under=item, new_scope=False)
                    if isinstance(expression, v.ScriptBlock)
                    else self.interp.members._get(item, to_string(expression))
                )
            else:
                found = self.interp.members._get(item, to_string(spec))
                keys.append(None if found is MISSING else found)
        return keys

    def end(self) -> None:
        import functools

        case = self.flag("CaseSensitive")

        def compare(a: list[object], b: list[object]) -> int:
            for left, right in zip(a, b, strict=False):
                try:
                    order = ops.compare(left, right, case)
                except PSTerminatingError:
                    order = ops.compare(to_string(left), to_string(right), case)
                if order:
                    return order
            return 0

        keyed: list[tuple[list[object], object]] = [(self._key(item), item) for item in self.items]

        def by_key(x: tuple[list[object], object], y: tuple[list[object], object]) -> int:
            return compare(x[0], y[0])

        keyed.sort(key=functools.cmp_to_key(by_key), reverse=self.flag("Descending"))
        result = [item for _, item in keyed]
        if self.flag("Unique"):
            unique: list[object] = []
            for item in result:
                if not any(ops.equals(item, seen, case) for seen in unique):
                    unique.append(item)
            result = unique
        for item in result:
            self.write_object(item)


# --- output and streams --------------------------------------------------------------------------


class OutNull(Cmdlet):
    SIGNATURE = _sig(
        "Out-Null", parameter("InputObject", "psobject", pipeline=True), qualifier=f"{CORE}.OutNullCommand"
    )


class OutString(Cmdlet):
    SIGNATURE = _sig(
        "Out-String",
        parameter("InputObject", "psobject", pipeline=True),
        parameter("Stream", "switch"),
        parameter("Width", "int"),
    )

    def begin(self) -> None:
        self.lines: list[str] = []

    def process(self) -> None:
        present, item = _pipeline_value(self)
        if present:
            text = format_for_host(item)
            if self.flag("Stream"):
                for line in text.split("\n"):
                    self.write_object(line)
            else:
                self.lines.append(text)

    def end(self) -> None:
        if not self.flag("Stream"):
            self.write_object("".join(line + "\r\n" for line in self.lines))


def format_for_host(item: object) -> str:
    """A simple text form for the host (Out-Default): strings as they are, objects as their string form."""
    if isinstance(item, v.PSCustomObject):
        width = max((len(p.name) for p in item.properties()), default=0)
        return "\n".join(f"{p.name.ljust(width)} : {to_string(p.value)}" for p in item.properties())
    if isinstance(item, v.Hashtable):
        return "\n".join(f"{to_string(k)} {to_string(val)}" for k, val in item.items())
    return to_string(item)


class WriteOutput(Cmdlet):
    SIGNATURE = CommandSignature(
        "Write-Output",
        (
            parameter(
                "InputObject",
                "psobject[]",
                mandatory=True,
                position=0,
                pipeline=True,
                allow_null=True,
                allow_empty_collection=True,
            ),
            parameter("NoEnumerate", "switch"),
        ),
        None,
        f"{UTILITY}.WriteOutputCommand",
    )

    def process(self) -> None:
        value = self.get("InputObject")
        if self.flag("NoEnumerate"):
            self.write_object(value)
            return
        self.write_object(value, enumerate_collection=True)


class WriteHost(Cmdlet):
    SIGNATURE = _sig(
        "Write-Host",
        parameter("Object", "object", position=0, pipeline=True),
        parameter("NoNewline", "switch"),
        parameter("Separator", "object"),
        parameter("ForegroundColor", "string"),
        parameter("BackgroundColor", "string"),
    )

    def process(self) -> None:
        value = self.get("Object")
        items = enumerate_items(value) if not isinstance(value, str) else None
        separator = to_string(self.get("Separator", " "))
        text = separator.join(to_string(i) for i in items) if items is not None else to_string(value)
        self.write_host(text)


class _StreamWriter(Cmdlet):
    STREAM = "verbose"

    def process(self) -> None:
        message = self.get("Message")
        if message is None:
            message = self.get("MessageData")
        if (
            self.STREAM == "verbose"
            and not self.flag("Verbose")
            and self.interp.preference("VerbosePreference") in ("SilentlyContinue", "Ignore")
        ):
            return
        self.interp.write_stream(self.STREAM, to_string(message), self.context)


class WriteVerbose(_StreamWriter):
    SIGNATURE = _sig(
        "Write-Verbose",
        parameter(
            "Message", "string", mandatory=True, position=0, pipeline=True, aliases=["Msg"], allow_empty_string=True
        ),
    )
    STREAM = "verbose"


class WriteDebug(_StreamWriter):
    SIGNATURE = _sig(
        "Write-Debug",
        parameter(
            "Message", "string", mandatory=True, position=0, pipeline=True, aliases=["Msg"], allow_empty_string=True
        ),
    )
    STREAM = "debug"


class WriteWarning(_StreamWriter):
    SIGNATURE = _sig(
        "Write-Warning",
        parameter(
            "Message", "string", mandatory=True, position=0, pipeline=True, aliases=["Msg"], allow_empty_string=True
        ),
    )
    STREAM = "warning"


class WriteInformation(_StreamWriter):
    SIGNATURE = _sig(
        "Write-Information",
        parameter("MessageData", "object", mandatory=True, position=0, aliases=["Msg"]),
        parameter("Tags", "string[]", position=1),
    )
    STREAM = "information"


class WriteError(Cmdlet):
    SIGNATURE = CommandSignature(
        "Write-Error",
        (
            parameter(
                "Message",
                "string",
                mandatory=True,
                position=0,
                pipeline=True,
                sets=["NoException"],
                aliases=["Msg"],
                allow_null=True,
                allow_empty_string=True,
            ),
            parameter("Exception", "System.Exception", mandatory=True, sets=["WithException"]),
            parameter("ErrorRecord", "System.Management.Automation.ErrorRecord", mandatory=True, sets=["ErrorRecord"]),
            parameter("Category", "string", sets=["NoException", "WithException"]),
            parameter("ErrorId", "string", sets=["NoException", "WithException"]),
            parameter("TargetObject", "object", sets=["NoException", "WithException"]),
            parameter("RecommendedAction", "string"),
            parameter("CategoryActivity", "string", aliases=["Activity"]),
            parameter("CategoryReason", "string", aliases=["Reason"]),
            parameter("CategoryTargetName", "string", aliases=["TargetName"]),
            parameter("CategoryTargetType", "string", aliases=["TargetType"]),
        ),
        "NoException",
        f"{UTILITY}.WriteErrorCommand",
    )

    def process(self) -> None:
        from simulator.powershell.errors import ErrorRecord, NetException, make_record

        if self.parameter_set == "ErrorRecord":
            record = self.get("ErrorRecord")
            assert isinstance(record, ErrorRecord)
        else:
            exception = self.get("Exception")
            message = to_string(self.get("Message")) if exception is None else exception.Message
            error_id = to_string(self.get("ErrorId")) or "Microsoft.PowerShell.Commands.WriteErrorException"
            caller = self.interp.function_name()
            record = make_record(
                "Microsoft.PowerShell.Commands.WriteErrorException",
                message,
                error_id,
                to_string(self.get("Category")) or "NotSpecified",
                target=self.get("TargetObject"),
                command=caller,
            )
            if isinstance(exception, NetException):
                record.exception = exception
        self.write_error(record)


# --- JSON ----------------------------------------------------------------------------------------


class ConvertToJson(Cmdlet):
    SIGNATURE = _sig(
        "ConvertTo-Json",
        parameter(
            "InputObject",
            "object",
            mandatory=True,
            position=0,
            pipeline=True,
            allow_null=True,
            allow_empty_collection=True,
            allow_empty_string=True,
        ),
        parameter("Depth", "int", validate_range=(1, 2**31 - 1)),
        parameter("Compress", "switch"),
    )

    def begin(self) -> None:
        depth = to_integer(self.get("Depth", jsonconv.DEFAULT_DEPTH))
        if depth > jsonconv.MAX_DEPTH:
            # WebCmdletStrings.ReachedMaximumDepthAllowed
            self.throw_terminating_error(
                self.error(
                    "System.InvalidOperationException",
                    f"The maximum depth allowed for serialization is {jsonconv.MAX_DEPTH}.",
                    "ReachedMaximumDepthAllowed",
                    "InvalidOperation",
                )
            )
        self.items: list[object] = []

    def process(self) -> None:
        value = self.get("InputObject")
        if value is not None:
            self.items.append(value)

    def end(self) -> None:
        if not self.items:
            return
        value = self.items if len(self.items) > 1 else self.items[0]
        depth = to_integer(self.get("Depth", jsonconv.DEFAULT_DEPTH))

        def members(item: object) -> list[tuple[str, object]]:
            out = []
            for prop in properties_of(item):
                try:
                    out.append((prop.Name, prop.Value))
                except DotNetError:
                    out.append((prop.Name, None))
            return out

        try:
            text = jsonconv.convert_to_json(value, depth, self.flag("Compress"), members)
        except jsonconv.NonStringKey as problem:
            self.throw_terminating_error(
                self.error(
                    "System.InvalidOperationException",
                    f"The type '{problem.type_name}' is not supported for serialization or deserialization of a "
                    "dictionary. Keys must be strings.",
                    "NonStringKeyInDictionary",
                    "InvalidOperation",
                )
            )
            return
        self.write_object(text)


class ConvertFromJson(Cmdlet):
    SIGNATURE = _sig(
        "ConvertFrom-Json",
        parameter("InputObject", "string", mandatory=True, position=0, pipeline=True, allow_empty_string=True),
    )

    def begin(self) -> None:
        self.texts: list[str] = []

    def process(self) -> None:
        self.texts.append(to_string(self.get("InputObject")))

    def end(self) -> None:
        text = "\n".join(self.texts) if len(self.texts) != 1 else self.texts[0]
        try:
            result = jsonconv.convert_from_json(text)
        except DotNetError as problem:
            exception = problem.exception
            error_id = (
                exception.type_name if exception.is_a("System.ArgumentException") else "DuplicateKeysInJsonString"
            )
            self.throw_terminating_error(
                self.error(
                    exception.type_name,
                    exception.Message,
                    error_id,
                    "NotSpecified" if error_id != "DuplicateKeysInJsonString" else "InvalidOperation",
                )
            )
            return
        self.write_object(result)  # 5.1 writes a JSON array as one object[]: it is not unrolled


# --- types and objects ---------------------------------------------------------------------------


class ConvertToSecureString(Cmdlet):
    SIGNATURE = CommandSignature(
        "ConvertTo-SecureString",
        (
            parameter(
                "String", "string", mandatory=True, position=0, pipeline=True, sets=["Secure", "PlainText", "Open"]
            ),
            parameter("AsPlainText", "switch", mandatory=True, position=1, sets=["PlainText"]),
            parameter("Force", "switch", position=2, sets=["PlainText"]),
            parameter("SecureKey", "securestring", position=1, sets=["Secure"]),
            parameter("Key", "byte[]", sets=["Open"]),
        ),
        "Secure",
        "Microsoft.PowerShell.Commands.ConvertToSecureStringCommand",
    )

    def process(self) -> None:
        if self.parameter_set != "PlainText":
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    "The simulated Windows PowerShell models ConvertTo-SecureString -AsPlainText only.",
                    "SimulatorNotModelled",
                    "NotImplemented",
                )
            )
        if not self.flag("Force"):
            # SecureStringCommands.SecureStringPlainTextNotSupported (5.1 requires -Force with -AsPlainText)
            self.throw_terminating_error(
                self.error(
                    "System.ArgumentException",
                    "The system cannot protect plain text input. To suppress this warning and convert the plain text "
                    "to a SecureString, reissue the command specifying the Force parameter. For more information, "
                    "type: get-help ConvertTo-SecureString.",
                    "ImportSecureString",
                    "InvalidArgument",
                )
            )
        self.write_object(v.SecureString(to_string(self.get("String"))))


class NewObject(Cmdlet):
    SIGNATURE = CommandSignature(
        "New-Object",
        (
            parameter("TypeName", "string", mandatory=True, position=0, sets=["Net"]),
            parameter("ArgumentList", "object[]", position=1, sets=["Net"], aliases=["Args"]),
            parameter("ComObject", "string", mandatory=True, position=0, sets=["Com"]),
            parameter("Strict", "switch", sets=["Com"]),
            parameter("Property", "System.Collections.IDictionary"),
        ),
        "Net",
        f"{UTILITY}.NewObjectCommand",
    )

    def end(self) -> None:
        if self.parameter_set == "Com":
            progid = to_string(self.get("ComObject"))
            factory = self.machine.com_class(progid)
            if factory is None:
                # NewObjectStrings.CannotLoadComObjectType, with the COM error .NET reports
                self.throw_terminating_error(
                    self.error(
                        "System.Runtime.InteropServices.COMException",
                        "Retrieving the COM class factory for component with CLSID "
                        "{00000000-0000-0000-0000-000000000000} failed due to the following error: 80040154 Class "
                        "not registered (Exception from HRESULT: 0x80040154 (REGDB_E_CLASSNOTREG)).",
                        "NoCOMClassIdentified",
                        "ResourceUnavailable",
                        hresult=-2147221164,
                    )
                )
            made = factory()  # type: ignore[misc]
            self._apply_properties(made)
            self.write_object(made)
            return
        name = to_string(self.get("TypeName"))
        arguments = list(self.get("ArgumentList") or [])
        lower = name.lower().replace("system.", "", 1) if name.lower().startswith("system.") else name.lower()
        if lower in (
            "psobject",
            "management.automation.psobject",
            "pscustomobject",
            "management.automation.pscustomobject",
        ):
            bag = v.PSCustomObject()
            properties = self.get("Property")
            if isinstance(properties, v.Hashtable):
                for key, value in properties.items():
                    bag.add(to_string(key), value)
            self.write_object(bag)
            return
        pstype = self.interp.types.resolve(name)
        if pstype is None:
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.PSArgumentException",
                    f"Cannot find type [{name}]: verify that the assembly containing this type is loaded.",
                    "TypeNotFound",
                    "InvalidType",
                )
            )
            return
        if pstype.full_name.endswith("[]"):
            size = to_integer(arguments[0]) if arguments else 0
            if pstype.full_name == "System.Byte[]":
                self.write_object(bytearray(size))
            else:
                self.write_object(pstype.convert([None] * size))
            return
        if pstype.constructor is None:
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.PSArgumentException",
                    f"A constructor was not found. Cannot find an appropriate constructor for type {name}.",
                    "CannotFindAppropriateCtor",
                    "ObjectNotFound",
                )
            )
            return
        try:
            created = pstype.constructor(*arguments)
        except DotNetError as problem:
            from simulator.powershell.members import method_invocation_error

            error = method_invocation_error(".ctor", len(arguments), problem.exception)
            record = error.record
            record.error_id = "ConstructorInvokedThrowException,Microsoft.PowerShell.Commands.NewObjectCommand"
            self.throw_terminating_error(record)
            return
        except (TypeError, ConversionError):
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.MethodException",
                    f'Cannot find an overload for "new" and the argument count: "{len(arguments)}".',
                    "ConstructorInvokedThrowException",
                    "InvalidOperation",
                )
            )
            return
        self._apply_properties(created)
        self.write_object(created)

    def _apply_properties(self, created: object) -> None:
        properties = self.get("Property")
        if isinstance(properties, v.Hashtable):
            for key, value in properties.items():
                self.interp.members.set(created, to_string(key), value)


class AddType(Cmdlet):
    SIGNATURE = CommandSignature(
        "Add-Type",
        (
            parameter("TypeDefinition", "string", mandatory=True, position=0, sets=["FromSource"]),
            parameter("Name", "string", mandatory=True, position=0, sets=["FromMember"]),
            parameter("MemberDefinition", "string[]", mandatory=True, position=1, sets=["FromMember"]),
            parameter("Path", "string[]", mandatory=True, position=0, sets=["FromPath"]),
            parameter("LiteralPath", "string[]", mandatory=True, sets=["FromLiteralPath"], aliases=["PSPath"]),
            parameter("AssemblyName", "string[]", mandatory=True, sets=["FromAssemblyName"], aliases=["AN"]),
            parameter("PassThru", "switch"),
            parameter("IgnoreWarnings", "switch"),
        ),
        "FromSource",
        f"{UTILITY}.AddTypeCommand",
    )

    def end(self) -> None:
        if self.parameter_set == "FromAssemblyName":
            for name in self.get("AssemblyName"):
                if not self.interp.load_assembly_name(to_string(name)):
                    self.throw_terminating_error(
                        self.error(
                            "System.Exception",
                            f"Cannot add type. The assembly '{to_string(name)}' could not be found.",
                            "ASSEMBLY_NOT_FOUND",
                            "ObjectNotFound",
                            target=to_string(name),
                        )
                    )
            return
        if self.parameter_set in ("FromPath", "FromLiteralPath"):
            paths = self.get("Path") if self.parameter_set == "FromPath" else self.get("LiteralPath")
            for path in paths:
                text = to_string(path)
                entry = self.machine.filesystem.stat(text)
                if entry is None:
                    self.throw_terminating_error(
                        self.error(
                            "System.Management.Automation.ItemNotFoundException",
                            f"Cannot find path '{text}' because it does not exist.",
                            "PathNotFound",
                            "ObjectNotFound",
                            target=text,
                        )
                    )
                try:
                    types = list(self.machine.load_assembly(text))
                except DotNetError as problem:
                    self.throw_terminating_error(
                        self.error(
                            problem.exception.type_name,
                            problem.exception.Message,
                            "ASSEMBLY_LOAD_ERRORS",
                            "InvalidData",
                            inner=problem.exception.InnerException,
                        )
                    )
                    return
                for pstype in types:
                    self.interp.types.add(pstype)
            return
        self.throw_terminating_error(
            self.error(
                "System.Management.Automation.RuntimeException",
                "The simulated Windows PowerShell does not compile code: Add-Type -TypeDefinition/-MemberDefinition "
                "is not modelled.",
                "SimulatorNotModelled",
                "NotImplemented",
            )
        )


# --- time ----------------------------------------------------------------------------------------


class GetDate(Cmdlet):
    SIGNATURE = CommandSignature(
        "Get-Date",
        (
            parameter("Date", "datetime", position=0, pipeline=True, by_property_name=True, aliases=["LastWriteTime"]),
            parameter("Year", "int"),
            parameter("Month", "int"),
            parameter("Day", "int"),
            parameter("Hour", "int"),
            parameter("Minute", "int"),
            parameter("Second", "int"),
            parameter("Millisecond", "int"),
            parameter("DisplayHint", "string", validate_set=["Date", "Time", "DateTime"]),
            parameter("Format", "string", sets=["net"]),
            parameter("UFormat", "string", sets=["UFormat"]),
        ),
        "net",
        f"{UTILITY}.GetDateCommand",
    )

    def process(self) -> None:
        moment = self.get("Date").moment if self.has("Date") else self.machine.now()
        changes = {
            k.lower(): to_integer(self.get(k))
            for k in ("Year", "Month", "Day", "Hour", "Minute", "Second")
            if self.has(k)
        }
        if changes:
            moment = moment.replace(**changes)  # type: ignore[arg-type]
        if self.has("Format"):
            self.write_object(ops.format_datetime(moment, to_string(self.get("Format"))))
            return
        if self.has("UFormat"):
            self.write_object(moment.strftime(to_string(self.get("UFormat"))))
            return
        self.write_object(v.DateTime(moment))


class StartSleep(Cmdlet):
    SIGNATURE = CommandSignature(
        "Start-Sleep",
        (
            parameter(
                "Seconds", "int", mandatory=True, position=0, pipeline=True, by_property_name=True, sets=["Seconds"]
            ),
            parameter(
                "Milliseconds",
                "int",
                mandatory=True,
                pipeline=True,
                by_property_name=True,
                sets=["Milliseconds"],
                aliases=["ms"],
            ),
        ),
        "Seconds",
        f"{UTILITY}.StartSleepCommand",
    )

    def process(self) -> None:
        if self.parameter_set == "Milliseconds":
            self.machine.sleep(to_integer(self.get("Milliseconds")) / 1000.0)
        else:
            self.machine.sleep(float(to_integer(self.get("Seconds"))))


# --- the session ---------------------------------------------------------------------------------


class SetStrictMode(Cmdlet):
    SIGNATURE = CommandSignature(
        "Set-StrictMode",
        (
            parameter("Version", "string", mandatory=True, sets=["Version"], aliases=["v"]),
            parameter("Off", "switch", mandatory=True, sets=["Off"]),
        ),
        "Version",
        f"{UTILITY}.SetStrictModeCommand",
    )

    def end(self) -> None:
        if self.parameter_set == "Off":
            self.interp.scope.strict = 0
            return
        written = to_string(self.get("Version")).strip()
        if written.lower() == "latest":
            version = 3  # Windows PowerShell 5.1: Latest is 3.0 (Set-StrictMode, 5.1)
        else:
            try:
                major = int(float(written)) if written else -1
            except ValueError:
                major = -1
            if major < 1:
                self.throw_terminating_error(
                    self.error(
                        "System.Management.Automation.PSArgumentException",
                        f"Cannot validate argument on parameter 'Version'. The {written} argument is not valid. "
                        "Specify a valid PowerShell version.",
                        "ParameterArgumentValidationError",
                        "InvalidData",
                    )
                )
            version = min(major, 3)
        self.interp.scope.strict = version


class RemoveVariable(Cmdlet):
    """Remove-Variable -Name n: the variable leaves the current scope (PSD reference/5.1/Microsoft.PowerShell.Utility/
    Remove-Variable.md). A name not found there is VariableNotFound (PSSRC VariableCommandStrings; the same in 5.1
    assumed)."""

    SIGNATURE = CommandSignature(
        "Remove-Variable",
        (
            parameter("Name", "string[]", mandatory=True, position=0, by_property_name=True),
            parameter("Include", "string[]"),
            parameter("Exclude", "string[]"),
            parameter("Force", "switch"),
            parameter("Scope", "string"),
        ),
        None,
        f"{UTILITY}.RemoveVariableCommand",
        supports_should_process=True,
    )

    def process(self) -> None:
        scope = self.interp.scope
        for name in [to_string(n) for n in self.get("Name") or []]:
            if scope.variables.pop(name.lower(), None) is None:
                self.write_error(
                    self.error(
                        "System.Management.Automation.ItemNotFoundException",
                        f"Cannot find a variable with the name '{name}'.",
                        "VariableNotFound",
                        "ObjectNotFound",
                        target=name,
                    )
                )


class StartProcess(Cmdlet):
    """Start-Process over the machine's executables: -Wait -PassThru gives the exit code."""

    SIGNATURE = CommandSignature(
        "Start-Process",
        (
            parameter("FilePath", "string", mandatory=True, position=0, aliases=["PSPath"]),
            parameter("ArgumentList", "string[]", position=1, aliases=["Args"]),
            parameter("Credential", "pscredential", sets=["Default"], aliases=["RunAs"]),
            parameter("WorkingDirectory", "string"),
            parameter("LoadUserProfile", "switch", sets=["Default"], aliases=["Lup"]),
            parameter("NoNewWindow", "switch", sets=["Default"], aliases=["nnw"]),
            parameter("PassThru", "switch"),
            parameter("RedirectStandardError", "string", sets=["Default"], aliases=["RSE"]),
            parameter("RedirectStandardInput", "string", sets=["Default"], aliases=["RSI"]),
            parameter("RedirectStandardOutput", "string", sets=["Default"], aliases=["RSO"]),
            parameter("Verb", "string", sets=["UseShellExecute"]),
            parameter("WindowStyle", "string"),
            parameter("Wait", "switch"),
            parameter("UseNewEnvironment", "switch", sets=["Default"]),
        ),
        "Default",
        "Microsoft.PowerShell.Commands.StartProcessCommand",
    )

    def end(self) -> None:
        path = to_string(self.get("FilePath"))
        executable = self.machine.find_executable(path)
        if executable is None:
            # ProcessResources.InvalidStartProcess, with Win32's "file not found"
            self.throw_terminating_error(
                self.error(
                    "System.InvalidOperationException",
                    "This command cannot be run due to the error: The system cannot find the file specified.",
                    "InvalidOperationException",
                    "InvalidOperation",
                )
            )
            return
        # Start-Process joins ArgumentList into one command line with single spaces, and the program splits it
        # again by the C runtime's rules: an element with a space splits unless the script quoted it.
        arguments = split_command_line(" ".join(to_string(a) for a in (self.get("ArgumentList") or [])))
        for redirect in ("RedirectStandardInput",):
            if self.has(redirect):
                self.throw_terminating_error(
                    self.error(
                        "System.Management.Automation.RuntimeException",
                        f"The simulator does not model Start-Process -{redirect}.",
                        "SimulatorNotModelled",
                        "NotImplemented",
                    )
                )
        result = executable.run(arguments, None)
        for key, stream in (("RedirectStandardOutput", result.stdout), ("RedirectStandardError", result.stderr)):
            if self.has(key):
                data = "".join(line + "\r\n" for line in stream).encode("utf-8")
                self.machine.filesystem.write_bytes(to_string(self.get(key)), data)
        if self.flag("PassThru"):
            self.write_object(ProcessInfo(executable.name, result.exit_code if self.flag("Wait") else None))


def split_command_line(line: str) -> list[str]:
    """A command line as a Windows program's C runtime splits it (CommandLineToArgvW's quoting rules)."""
    words: list[str] = []
    current: list[str] = []
    quoted = started = False
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\":
            run = len(line) - index - len(line[index:].lstrip("\\"))
            if index + run < len(line) and line[index + run] == '"':
                current.append("\\" * (run // 2))
                index += run
                if run % 2:
                    current.append('"')
                    index += 1
                started = True
                continue
            current.append("\\" * run)
            index += run
            started = True
            continue
        if char == '"':
            quoted, started = not quoted, True
        elif char in " \t" and not quoted:
            if started:
                words.append("".join(current))
                current, started = [], False
        else:
            current.append(char)
            started = True
        index += 1
    if started:
        words.append("".join(current))
    return words


class ProcessInfo(v.DotNetObject):
    TYPE_NAME = "System.Diagnostics.Process"
    PROPERTIES = ("ExitCode", "HasExited", "Id", "ProcessName", "StartTime")
    METHODS = ("WaitForExit", "Refresh", "Kill")

    def __init__(self, name: str, exit_code: int | None) -> None:
        self.ProcessName = name.rsplit("\\", 1)[-1].rsplit(".", 1)[0]
        self._exit_code = exit_code
        self.Id = 4242
        self.StartTime = v.DateTime(_dt.datetime.now())

    @property
    def ExitCode(self) -> int | None:
        return self._exit_code

    @property
    def HasExited(self) -> bool:
        return True

    def WaitForExit(self, *timeout: object) -> bool:
        return True

    def Refresh(self) -> None:
        return None

    def Kill(self) -> None:
        return None


CORE_CMDLETS: tuple[type[Cmdlet], ...] = (
    WhereObject,
    ForEachObject,
    SelectObject,
    SortObject,
    OutNull,
    OutString,
    WriteOutput,
    WriteHost,
    WriteVerbose,
    WriteDebug,
    WriteWarning,
    WriteInformation,
    WriteError,
    ConvertToJson,
    ConvertFromJson,
    ConvertToSecureString,
    NewObject,
    AddType,
    GetDate,
    StartSleep,
    SetStrictMode,
    StartProcess,
    RemoveVariable,
)


def definitions() -> list[CommandDefinition]:
    return [CommandDefinition(cmdlet.SIGNATURE, cmdlet, "Microsoft.PowerShell.Utility") for cmdlet in CORE_CMDLETS]
