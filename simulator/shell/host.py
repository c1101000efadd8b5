"""What the simulated shell needs from the world behind it (docs/contracts.md section 2)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from simulator.wsman.backend import Directive, Session


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
