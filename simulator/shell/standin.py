"""A minimal OperationHost for tests and the foundation slice: echo, fail and sleep.

The matching scripts live in tests/data/standin/ (not in providers/scripts: they are not
operations of the product).
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque

from simulator.shell.errors import PowerShellError
from simulator.wsman.backend import Directive, Session


class StandInHost:
    """`echo` returns its parameters, `fail` raises, `sleep` takes `sleep_seconds` (a Directive)."""

    def __init__(self, sleep_seconds: float = 0.5) -> None:
        self.sleep_seconds = sleep_seconds
        self.invocations: list[tuple[str, str, dict[str, object]]] = []  # (node, operation, parameters)
        self._planned: defaultdict[str, deque[Directive]] = defaultdict(deque)
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

    def invoke(self, session: Session, operation: str, parameters: dict[str, object]) -> dict[str, object]:
        with self._lock:
            self.invocations.append((session.node, operation, dict(parameters)))
        if operation == "echo":
            return dict(parameters)
        if operation == "fail":
            raise PowerShellError(
                str(parameters.get("Message", "The stand-in operation failed.")),
                "InvalidOperation",
                str(parameters.get("ErrorId", "StandInFailure")),
            )
        if operation == "sleep":
            return {"slept": self.sleep_seconds}
        raise PowerShellError(
            f"The term '{operation}' is not recognized as the name of a cmdlet, function, script file, or "
            "operable program. Check the spelling of the name, or if a path was included, verify that the "
            "path is correct and try again.",
            "ObjectNotFound",
            "CommandNotFoundException",
        )
