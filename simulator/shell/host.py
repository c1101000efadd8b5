"""What the simulated shell needs from the world behind it (docs/contracts.md section 2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from simulator.wsman.backend import Directive, Session

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

    def machine(self, session: Session) -> Machine:
        """The node the session is connected to, as the interpreter sees it (its identity is the session's)."""
        ...
