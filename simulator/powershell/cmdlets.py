"""The cmdlet framework: how a command implemented in Python is declared, bound and run.

A cmdlet is a `Cmdlet` subclass with a `CommandSignature` (its parameters, parameter sets,
positions, pipeline binding, aliases, validation), registered as a `CommandDefinition`. The
interpreter binds every invocation against the signature exactly as PowerShell would (binder.py)
and refuses what PowerShell refuses, with PowerShell's words, before `begin` runs. Then:

    class GetThing(Cmdlet):
        SIGNATURE = CommandSignature("Get-Thing", (
            parameter("Name", "string[]", position=0),
            parameter("InputObject", "psobject", pipeline=True, sets=["InputObject"]),
        ), default_set="Name", qualifier="Contoso.Commands.GetThingCommand")

        def process(self) -> None:
            for name in self.get("Name") or []:
                if name not in self.machine.things:
                    self.write_error(self.error("System.Management.Automation.ItemNotFoundException",
                                                f"No thing named '{name}'.", "ThingNotFound", "ObjectNotFound", name))
                    continue
                self.write_object(self.machine.things[name])

`write_error` is a non-terminating error: -ErrorAction / $ErrorActionPreference decide whether it
stops, is shown, or is silenced. `throw_terminating_error` is a terminating error: -ErrorAction
SilentlyContinue does not silence it (about_CommonParameters, 5.1). Error ids are qualified with
the signature's `qualifier` ("ThingNotFound,Contoso.Commands.GetThingCommand").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from simulator.powershell.binder import BoundCall, CommandSignature
from simulator.powershell.errors import ErrorRecord, NetException, PSTerminatingError, StopUpstream, make_record
from simulator.powershell.types import enumerate_items

if TYPE_CHECKING:
    from simulator.powershell.interpreter import CommandContext, Interpreter
    from simulator.powershell.machine import Machine


@dataclass(frozen=True)
class CommandDefinition:
    """A command a session can run: its signature and (when modelled) its implementation.

    A definition without an implementation binds by its signature and then fails loudly: the
    simulator knows the command exists but not what it does.
    """

    signature: CommandSignature
    implementation: type[Cmdlet] | None
    module: str = ""

    @property
    def name(self) -> str:
        return self.signature.name


class Cmdlet:
    """Base class of commands written in Python. Override `begin`, `process` and/or `end`."""

    SIGNATURE: ClassVar[CommandSignature]

    def __init__(
        self, interpreter: Interpreter, context: CommandContext, call: BoundCall, output: Callable[[object], None]
    ) -> None:
        self.interp = interpreter
        self.context = context
        self.call = call
        self._output = output
        self.params: dict[str, object] = dict(call.values)

    # --- what the cmdlet was given ---------------------------------------------------------------

    @property
    def machine(self) -> Machine:
        return self.interp.machine

    @property
    def parameter_set(self) -> str:
        return self.call.parameter_set

    def has(self, name: str) -> bool:
        """Was the parameter bound (on the command line or from the current pipeline object)?"""
        return name in self.params

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def flag(self, name: str) -> bool:
        return bool(self.params.get(name, False))

    # --- lifecycle -------------------------------------------------------------------------------

    def begin(self) -> None:
        return None

    def process(self) -> None:
        return None

    def end(self) -> None:
        return None

    # --- output and errors -----------------------------------------------------------------------

    def write_object(self, value: object, enumerate_collection: bool = False) -> None:
        if enumerate_collection:
            items = enumerate_items(value)
            if items is not None:
                for item in items:
                    self._output(item)
                return
        self._output(value)

    def error(
        self,
        exception_type: str,
        message: str,
        error_id: str,
        category: str = "NotSpecified",
        target: object = None,
        inner: NetException | None = None,
        hresult: int | None = None,
    ) -> ErrorRecord:
        """An ErrorRecord of this cmdlet ("Id,Qualifier"), positioned on its invocation."""
        record = make_record(
            exception_type,
            message,
            error_id,
            category,
            target=target,
            inner=inner,
            hresult=hresult,
            command=self.call.signature.qualifier,
        )
        record.category_info.activity = self.call.signature.name
        record.invocation_info = self.context.invocation_info()
        return record

    def write_error(self, record: ErrorRecord) -> None:
        """A non-terminating error (WriteError)."""
        self.interp.write_error(record, self.context)

    def throw_terminating_error(self, record: ErrorRecord) -> None:
        """A terminating error (ThrowTerminatingError): -ErrorAction does not silence it."""
        raise PSTerminatingError(record, statement_only=True)

    def write_warning(self, message: str) -> None:
        self.interp.write_stream("warning", message, self.context)

    def write_verbose(self, message: str) -> None:
        self.interp.write_stream("verbose", message, self.context)

    def write_debug(self, message: str) -> None:
        self.interp.write_stream("debug", message, self.context)

    def write_information(self, message: str) -> None:
        self.interp.write_stream("information", message, self.context)

    def write_host(self, message: str) -> None:
        self.interp.streams.write("host", message)

    def should_process(self, target: str, action: str | None = None) -> bool:
        """-WhatIf: say what would happen and do nothing. -Confirm is not interactive here: it proceeds."""
        what_if = self.call.common.get("WhatIf")
        if what_if is None:
            what_if = bool(self.interp.get_variable("WhatIfPreference", strict=False))
        if what_if:
            verb = action or self.call.signature.name
            self.write_host(f'What if: Performing the operation "{verb}" on target "{target}".')
            return False
        return True

    def stop_upstream(self) -> None:
        """Select-Object -First: the commands before this one stop (StopUpstreamCommandsException)."""
        raise StopUpstream(self)


class NotModelledCmdlet(Cmdlet):
    """A command the simulator knows by signature only: it binds, then fails loudly."""

    def begin(self) -> None:
        signature = self.call.signature
        record = self.error(
            "System.Management.Automation.RuntimeException",
            f"The simulated node does not model what {signature.name} does: its parameters bound by the real "
            "signature, but no behaviour is implemented.",
            "SimulatorCommandNotModelled",
            "NotImplemented",
        )
        self.throw_terminating_error(record)
