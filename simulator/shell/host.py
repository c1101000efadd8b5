"""What the simulated shell needs from the world behind it (docs/contracts.md section 2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from simulator.wsman.backend import Directive, Outcome, Session

if TYPE_CHECKING:
    from simulator.powershell.machine import Machine


class OperationHost(Protocol):
    def directive(self, session: Session, operation: str) -> Directive: ...

    def invoke(self, session: Session, operation: str, parameters: dict[str, object]) -> dict[str, object]:
        """Runs one operation; raises simulator.shell.PowerShellError for a script error."""
        ...


@runtime_checkable
class ScriptHost(Protocol):
    """Optional: an OperationHost that also answers free-form scripts (pywinrm `run_ps`)."""

    def run_script(self, session: Session, script: str) -> str | None:
        """The script's output text; None when the host does not know the script's commands.

        Raises simulator.shell.PowerShellError for an error the script ends with.
        """
        ...


@runtime_checkable
class MachineHost(Protocol):
    """Optional: a host whose nodes run scripts in the PowerShell interpreter (simulator/powershell).

    A host that has `machine` is switched over: powershell.exe on its nodes runs the real
    providers/bootstrap.ps1, which runs the envelope's library and script, against the `Machine`
    of the session's node. A host without it keeps the step-for-step emulation of the bootstrap
    (simulator/shell/bootstrap.py) and answers operations through `invoke`.
    """

    def machine(self, session: Session) -> Machine | None:
        """The node the session is connected to, as the interpreter sees it (its identity is the session's).

        None while the host still answers operations by name (a host switched over by a setting).
        """
        ...


@runtime_checkable
class ProcessHost(Protocol):
    """Optional, with MachineHost: a host that runs each interpreted powershell.exe process itself.

    The shell hands it the process (`run`, which interprets the command on the host's machine) and the
    envelope's operation (None for a free-form script): the host holds its locks, applies the faults that
    strike while the command runs, and keeps what the process changed.
    """

    def run_process(self, session: Session, operation: str | None, run: Callable[[], Outcome]) -> Outcome: ...
