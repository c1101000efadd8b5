"""Stand-in nodes for the transport tests: plain in-memory Windows machines, no world behind them.

Each powershell.exe runs in the interpreter on the session's node, a `MemoryMachine` (nothing installed; a
disk and a registry that last as long as the host). The scripts the tests send (tests/data/standin: echo,
fail, sleep) run for real; this host knows none of them. It keeps what reached it: `invocations` lists
(node, operation, the script's result, None when the script failed) of every bootstrap that got as far as
running its script, that is, whose result line is not a refusal made before anything ran (a malformed
envelope, a parameter refused: line 0; a script that does not parse: ParserError). `plan` queues directives (transport
faults, latency) for an operation's next commands; `sleep` takes `sleep_seconds` unless planned otherwise.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable

from simulator.powershell.memory import MemoryMachine
from simulator.shell.bootstrap import RESULT_MARKER
from simulator.wsman.backend import Directive, Outcome, Session


class StandInHost:
    """In-memory nodes, one per node name; the fault plan is `plan`, keyed by the envelope's operation."""

    def __init__(self, sleep_seconds: float = 0.5) -> None:
        self.sleep_seconds = sleep_seconds
        self.invocations: list[tuple[str, str, object]] = []  # (node, operation, result or None)
        self._planned: defaultdict[str, deque[Directive]] = defaultdict(deque)
        self._machines: dict[str, MemoryMachine] = {}
        self._lock = threading.Lock()

    def plan(self, operation: str, *directives: Directive) -> None:
        """Directives for the next commands of `operation`, one each, in order (then none)."""
        with self._lock:
            self._planned[operation].extend(directives)

    def directive(self, session: Session, operation: str) -> Directive:
        with self._lock:
            planned = self._planned[operation]
            if planned:
                return planned.popleft()
        return Directive(duration=self.sleep_seconds) if operation == "sleep" else Directive()

    def machine(self, session: Session) -> MemoryMachine:
        with self._lock:
            found = self._machines.get(session.node.upper())
            if found is None:
                found = self._machines[session.node.upper()] = MemoryMachine(session.node, session.user)
            return found

    def run_process(self, session: Session, operation: str | None, run: Callable[[], Outcome]) -> Outcome:
        outcome = run()
        if operation is not None:
            reached, result = _reached(outcome.stdout)
            if reached:
                with self._lock:
                    self.invocations.append((session.node, operation, result))
        return outcome


def _reached(stdout: bytes) -> tuple[bool, object]:
    """Whether the bootstrap ran its script (docs/contracts.md section 1: line 0 is a refusal before it), and
    the script's result."""
    for line in stdout.decode("ascii", errors="replace").splitlines():
        if line.startswith(RESULT_MARKER):
            document = json.loads(line[len(RESULT_MARKER) :])
            if document.get("ok"):
                return True, document.get("result")
            error = document.get("error") or {}
            before = error.get("category") == "ParserError" or int(error.get("line") or 0) == 0
            return not before, None
    return False, None
