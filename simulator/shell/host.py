"""What the simulated shell needs from the machines behind it (docs/contracts.md section 2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from simulator.wsman.backend import Directive, Outcome, Session

if TYPE_CHECKING:
    from simulator.powershell.machine import Machine


class NodeHost(Protocol):
    """The nodes behind a simulated shell: every powershell.exe runs in the interpreter on a node's `Machine`.

    The shell knows no operation: it reads the envelope's operation name only to ask for the fault plan's
    `directive` (transport faults and latency keyed by operation, decided before the command runs).
    """

    def directive(self, session: Session, operation: str) -> Directive: ...

    def machine(self, session: Session) -> Machine:
        """The node the session is connected to, as the interpreter sees it (its identity is the session's)."""
        ...


@runtime_checkable
class ProcessHost(Protocol):
    """Optional: a host that runs each powershell.exe process itself.

    The shell hands it the process (`run`, which interprets the command on the host's machine) and the
    envelope's operation (None for any other script): the host holds its locks, applies the faults that
    strike while the command runs, and keeps what the process changed.
    """

    def run_process(self, session: Session, operation: str | None, run: Callable[[], Outcome]) -> Outcome: ...
