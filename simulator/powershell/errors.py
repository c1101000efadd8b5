"""Errors as PowerShell has them: .NET exceptions, ErrorRecords, and the signals that carry them.

Two worlds meet here. A script sees *values*: an exception object (`NetException`) with its
Message, InnerException and HResult, inside an `ErrorRecord` with its CategoryInfo,
FullyQualifiedErrorId and InvocationInfo. The interpreter moves them around as *Python
exceptions*: `PSTerminatingError` (a terminating error, caught by try/catch), `DotNetError`
(raised by a .NET method of the machine, wrapped as PowerShell wraps it) and the flow-control
signals (`ReturnSignal`, `BreakSignal`, `ContinueSignal`, `ExitSignal`).

Wordings come from PowerShell's resource strings (PowerShell/PowerShell at tag v6.0.0-alpha.10,
the Windows PowerShell 5.1 code base: src/System.Management.Automation/resources/*.resx).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from simulator.powershell.values import DotNetObject

# child -> parent, for `catch [Type]` and `-is`. The world may add its own (register_exception_type).
EXCEPTION_BASES: dict[str, str] = {
    "System.SystemException": "System.Exception",
    "System.ApplicationException": "System.Exception",
    "System.Management.Automation.RuntimeException": "System.SystemException",
    "System.Management.Automation.ParameterBindingException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.ParameterBindingValidationException": (
        "System.Management.Automation.ParameterBindingException"
    ),
    "System.Management.Automation.ParameterBindingArgumentTransformationException": (
        "System.Management.Automation.ParameterBindingException"
    ),
    "System.Management.Automation.CommandNotFoundException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.SessionStateException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.ItemNotFoundException": "System.Management.Automation.SessionStateException",
    "System.Management.Automation.DriveNotFoundException": "System.Management.Automation.SessionStateException",
    "System.Management.Automation.ExtendedTypeSystemException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.PropertyNotFoundException": (
        "System.Management.Automation.ExtendedTypeSystemException"
    ),
    "System.Management.Automation.MethodException": "System.Management.Automation.ExtendedTypeSystemException",
    "System.Management.Automation.MethodInvocationException": "System.Management.Automation.MethodException",
    "System.Management.Automation.SetValueInvocationException": (
        "System.Management.Automation.ExtendedTypeSystemException"
    ),
    "System.Management.Automation.GetValueInvocationException": (
        "System.Management.Automation.ExtendedTypeSystemException"
    ),
    "System.Management.Automation.ActionPreferenceStopException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.PipelineStoppedException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.RemoteException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.ValidationMetadataException": "System.Management.Automation.MetadataException",
    "System.Management.Automation.MetadataException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.ArgumentTransformationMetadataException": (
        "System.Management.Automation.MetadataException"
    ),
    "System.Management.Automation.PSInvalidCastException": "System.InvalidCastException",
    "System.Management.Automation.PSArgumentException": "System.ArgumentException",
    "System.Management.Automation.PSArgumentNullException": "System.ArgumentNullException",
    "System.Management.Automation.PSInvalidOperationException": "System.InvalidOperationException",
    "System.Management.Automation.PSNotSupportedException": "System.NotSupportedException",
    "System.Management.Automation.ParseException": "System.Management.Automation.RuntimeException",
    "System.Management.Automation.WildcardPatternException": "System.Management.Automation.RuntimeException",
    "System.InvalidCastException": "System.SystemException",
    "System.InvalidOperationException": "System.SystemException",
    "System.NotSupportedException": "System.SystemException",
    "System.NotImplementedException": "System.SystemException",
    "System.ArgumentException": "System.SystemException",
    "System.ArgumentNullException": "System.ArgumentException",
    "System.ArgumentOutOfRangeException": "System.ArgumentException",
    "System.FormatException": "System.SystemException",
    "System.IndexOutOfRangeException": "System.SystemException",
    "System.NullReferenceException": "System.SystemException",
    "System.OverflowException": "System.ArithmeticException",
    "System.ArithmeticException": "System.SystemException",
    "System.DivideByZeroException": "System.ArithmeticException",
    "System.TimeoutException": "System.SystemException",
    "System.UnauthorizedAccessException": "System.SystemException",
    "System.IO.IOException": "System.SystemException",
    "System.IO.FileNotFoundException": "System.IO.IOException",
    "System.IO.DirectoryNotFoundException": "System.IO.IOException",
    "System.Reflection.TargetInvocationException": "System.ApplicationException",
    "System.Runtime.InteropServices.ExternalException": "System.SystemException",
    "System.Runtime.InteropServices.COMException": "System.Runtime.InteropServices.ExternalException",
    "System.ComponentModel.Win32Exception": "System.Runtime.InteropServices.ExternalException",
    "System.Security.Cryptography.CryptographicException": "System.SystemException",
    "System.Management.Automation.Remoting.PSRemotingTransportException": (
        "System.Management.Automation.RuntimeException"
    ),
    "Microsoft.Management.Infrastructure.CimException": "System.SystemException",
}


def register_exception_type(full_name: str, base: str) -> None:
    """Teach the interpreter an exception type of the machine (e.g. a cluster cmdlet's exception)."""
    EXCEPTION_BASES[full_name] = base


def exception_lineage(full_name: str) -> list[str]:
    """The type and its bases, most derived first, ending in System.Object."""
    chain = [full_name]
    while chain[-1] in EXCEPTION_BASES:
        chain.append(EXCEPTION_BASES[chain[-1]])
    if chain[-1] != "System.Exception":
        chain.append("System.Exception")
    chain.append("System.Object")
    return chain


class NetException(DotNetObject):
    """A .NET exception object as a script sees it (`$_.Exception`)."""

    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "Message",
        "InnerException",
        "HResult",
        "Source",
        "StackTrace",
        "TargetSite",
        "Data",
        "HelpLink",
    )
    METHODS: ClassVar[tuple[str, ...]] = ("GetBaseException", "ToString", "GetType")

    def __init__(
        self,
        type_name: str,
        message: str,
        inner: NetException | None = None,
        hresult: int | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        self.type_name = type_name
        self.Message = message
        self.InnerException = inner
        self.HResult = _DEFAULT_HRESULTS.get(type_name, -2146233088) if hresult is None else hresult
        self.Source = ""
        self.StackTrace = ""
        self.TargetSite = None
        self.Data = None
        self.HelpLink = None
        self.extra = dict(extra or {})
        self.error_record: ErrorRecord | None = None  # RuntimeException.ErrorRecord

    def ps_type_name(self) -> str:
        return self.type_name

    def ps_base_types(self) -> tuple[str, ...]:
        return tuple(exception_lineage(self.type_name)[1:])

    def ps_property_names(self) -> list[str]:
        names = list(self.PROPERTIES) + list(self.extra)
        if "System.Management.Automation.RuntimeException" in exception_lineage(self.type_name):
            names += ["ErrorRecord", "WasThrownFromThrowStatement"]
        return names

    def ps_get(self, name: str) -> object:
        if name in self.extra:
            return self.extra[name]
        if name == "ErrorRecord":
            return self.error_record
        if name == "WasThrownFromThrowStatement":
            return bool(self.extra.get("_thrown", False))
        return getattr(self, name)

    def GetBaseException(self) -> NetException:
        found = self
        while found.InnerException is not None:
            found = found.InnerException
        return found

    def ToString(self) -> str:
        text = f"{self.type_name}: {self.Message}"
        if self.InnerException is not None:
            text += f" ---> {self.InnerException.ToString()}"
        return text

    def ps_to_string(self) -> str:
        return self.ToString()

    def is_a(self, full_name: str) -> bool:
        return full_name.lower() in (t.lower() for t in exception_lineage(self.type_name))


_DEFAULT_HRESULTS = {
    "System.Management.Automation.RuntimeException": -2146233087,
    "System.IO.FileNotFoundException": -2147024894,
    "System.IO.DirectoryNotFoundException": -2147024893,
    "System.UnauthorizedAccessException": -2147024891,
    "System.Reflection.TargetInvocationException": -2146232828,
    "System.Runtime.InteropServices.COMException": -2147467259,
    "System.ArgumentException": -2147024809,
    "System.InvalidOperationException": -2146233079,
    "System.FormatException": -2146233033,
    "System.InvalidCastException": -2147467262,
    "System.NullReferenceException": -2147467261,
    "System.IndexOutOfRangeException": -2146233080,
}

# TargetInvocationException's own message (mscorlib Arg_TargetInvocationException).
TARGET_INVOCATION_MESSAGE = "Exception has been thrown by the target of an invocation."


@dataclass
class InvocationInfo(DotNetObject):
    """Where an error arose (`$_.InvocationInfo`)."""

    command_name: str = ""
    script_line_number: int = 0
    offset_in_line: int = 0
    line: str = ""
    script_name: str = ""
    width: int = 0  # the extent the console's error view underlines (0: one character)
    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "ScriptLineNumber",
        "OffsetInLine",
        "Line",
        "PositionMessage",
        "MyCommand",
        "InvocationName",
        "ScriptName",
        "PSCommandPath",
        "PSScriptRoot",
    )
    TYPE_NAME: ClassVar[str] = "System.Management.Automation.InvocationInfo"

    @property
    def ScriptLineNumber(self) -> int:
        return self.script_line_number

    @property
    def OffsetInLine(self) -> int:
        return self.offset_in_line

    @property
    def Line(self) -> str:
        return self.line

    @property
    def PositionMessage(self) -> str:
        if not self.script_line_number:
            return ""
        where = (
            f"At {self.script_name}:{self.script_line_number}"
            if self.script_name
            else (f"At line:{self.script_line_number}")
        )
        return f"{where} char:{self.offset_in_line}\n+ {self.line.rstrip()}"

    @property
    def MyCommand(self) -> CommandRef | None:
        return CommandRef(self.command_name) if self.command_name else None

    @property
    def InvocationName(self) -> str:
        return self.command_name

    @property
    def ScriptName(self) -> str:
        return self.script_name

    @property
    def PSCommandPath(self) -> str:
        return self.script_name

    @property
    def PSScriptRoot(self) -> str:
        return self.script_name.rsplit("\\", 1)[0] if "\\" in self.script_name else ""


@dataclass
class CommandRef(DotNetObject):
    name: str
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Name",)
    TYPE_NAME: ClassVar[str] = "System.Management.Automation.CommandInfo"

    @property
    def Name(self) -> str:
        return self.name

    def ps_to_string(self) -> str:
        return self.name


@dataclass
class CategoryInfo(DotNetObject):
    category: str = "NotSpecified"
    activity: str = ""
    reason: str = ""
    target_name: str = ""
    target_type: str = ""
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Category", "Activity", "Reason", "TargetName", "TargetType")
    METHODS: ClassVar[tuple[str, ...]] = ("GetMessage", "ToString")
    TYPE_NAME: ClassVar[str] = "System.Management.Automation.ErrorCategoryInfo"

    @property
    def Category(self) -> str:
        return self.category

    @property
    def Activity(self) -> str:
        return self.activity

    @property
    def Reason(self) -> str:
        return self.reason

    @property
    def TargetName(self) -> str:
        return self.target_name

    @property
    def TargetType(self) -> str:
        return self.target_type

    def GetMessage(self) -> str:
        return self.ToString()

    def ToString(self) -> str:
        # ErrorCategoryStrings: "{Category}: ({TargetName}:{TargetType}) [{Activity}], {Reason}"
        return f"{self.category}: ({self.target_name}:{self.target_type}) [{self.activity}], {self.reason}"

    def ps_to_string(self) -> str:
        return self.ToString()


@dataclass
class ErrorRecord(DotNetObject):
    """System.Management.Automation.ErrorRecord (`$_` in a catch block)."""

    exception: NetException
    error_id: str  # FullyQualifiedErrorId, e.g. "PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand"
    category_info: CategoryInfo = field(default_factory=CategoryInfo)
    invocation_info: InvocationInfo = field(default_factory=InvocationInfo)
    target_object: object = None
    error_details: str | None = None
    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "Exception",
        "TargetObject",
        "CategoryInfo",
        "FullyQualifiedErrorId",
        "ErrorDetails",
        "InvocationInfo",
        "ScriptStackTrace",
        "PipelineIterationInfo",
    )
    METHODS: ClassVar[tuple[str, ...]] = ("ToString", "GetType")
    TYPE_NAME: ClassVar[str] = "System.Management.Automation.ErrorRecord"

    @property
    def Exception(self) -> NetException:
        return self.exception

    @property
    def TargetObject(self) -> object:
        return self.target_object

    @property
    def CategoryInfo(self) -> CategoryInfo:
        return self.category_info

    @property
    def FullyQualifiedErrorId(self) -> str:
        return self.error_id

    @property
    def ErrorDetails(self) -> str | None:
        return self.error_details

    @property
    def InvocationInfo(self) -> InvocationInfo:
        return self.invocation_info

    @property
    def ScriptStackTrace(self) -> str:
        line = self.invocation_info.script_line_number
        return f"at <ScriptBlock>, <No file>: line {line}" if line else ""

    @property
    def PipelineIterationInfo(self) -> list[int]:
        return []

    @property
    def message(self) -> str:
        return self.error_details if self.error_details else self.exception.Message

    def ToString(self) -> str:
        return self.message

    def ps_to_string(self) -> str:
        return self.message


def make_record(
    type_name: str,
    message: str,
    error_id: str,
    category: str = "NotSpecified",
    target: object = None,
    inner: NetException | None = None,
    hresult: int | None = None,
    command: str = "",
) -> ErrorRecord:
    """An ErrorRecord as `new ErrorRecord(new T(message, inner), id, category, target)` builds it.

    `command` is the implementing type (a cmdlet) or function name that qualifies the error id
    ("PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand").
    """
    exception = NetException(type_name, message, inner, hresult)
    qualified = f"{error_id},{command}" if command else error_id
    reason = type_name.rsplit(".", 1)[-1]
    target_name = "" if target is None else _target_text(target)
    target_type = "" if target is None else _target_type(target)
    record = ErrorRecord(
        exception,
        qualified,
        CategoryInfo(category, "", reason, target_name, target_type),
        target_object=target,
    )
    if exception.is_a("System.Management.Automation.RuntimeException"):
        exception.error_record = record
    return record


def _target_text(target: object) -> str:
    if isinstance(target, str):
        return target
    if isinstance(target, DotNetObject):
        return target.ps_to_string()
    return str(target)


def _target_type(target: object) -> str:
    if isinstance(target, str):
        return "String"
    if isinstance(target, DotNetObject):
        return target.ps_type_name().rsplit(".", 1)[-1]
    return type(target).__name__


class PSTerminatingError(Exception):
    """A terminating error on its way to a catch block (or to the end of the script).

    `statement_only` marks a statement-terminating error (a cmdlet's ThrowTerminatingError, a
    parameter binding failure, a .NET method's exception): outside any try/catch it stops only
    its statement, unless $ErrorActionPreference is Stop. `throw`, and a non-terminating error
    escalated by the Stop preference, end the script (about_Error_Handling, 5.1).
    """

    def __init__(self, record: ErrorRecord, statement_only: bool = False) -> None:
        super().__init__(record.message)
        self.record = record
        self.statement_only = statement_only


class DotNetError(Exception):
    """Raised by a .NET member of the machine: the exception object the member threw."""

    def __init__(self, exception: NetException) -> None:
        super().__init__(exception.Message)
        self.exception = exception


def dotnet_error(
    type_name: str, message: str, inner: NetException | None = None, hresult: int | None = None
) -> DotNetError:
    return DotNetError(NetException(type_name, message, inner, hresult))


class FlowSignal(Exception):
    """return, break, continue and exit travel as these."""


class ReturnSignal(FlowSignal):
    pass


class BreakSignal(FlowSignal):
    def __init__(self, label: str | None = None) -> None:
        super().__init__(label)
        self.label = label


class ContinueSignal(FlowSignal):
    def __init__(self, label: str | None = None) -> None:
        super().__init__(label)
        self.label = label


class ExitSignal(FlowSignal):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class StopUpstream(FlowSignal):
    """Select-Object -First has what it needs: the commands before it stop (StopUpstreamCommandsException)."""

    def __init__(self, owner: object) -> None:
        super().__init__()
        self.owner = owner


class UnsupportedConstruct(Exception):
    """The script uses PowerShell the simulator does not model: it fails, loudly, before or as it runs."""

    def __init__(self, construct: str, line: int) -> None:
        super().__init__(f"The simulated Windows PowerShell does not support {construct} (line {line}).")
        self.construct = construct
        self.line = line
