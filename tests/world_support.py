"""Run an operation on a node of a simulated world the way the runner does, through the interpreter.

The real bootstrap (providers/bootstrap.ps1) reads the real envelope (providers/runner_wire.py: the
library and the operation's script from providers/scripts/) and runs it on the node's `NodeMachine`,
as the session's user. Nothing here knows what an operation does: the script decides, Windows (the
world's surface) answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from providers import runner_wire
from simulator.powershell.machine import Identity
from simulator.world.machine import run_script
from simulator.world.model import World
from simulator.wsman.backend import Session

SCRIPTS = Path(__file__).resolve().parent.parent / "providers" / "scripts"


class ScriptFailed(Exception):
    """The operation's script ended with an error (the bootstrap's `ok: false` result)."""

    def __init__(self, outcome: runner_wire.ScriptOutcome) -> None:
        super().__init__(outcome.message)
        self.message = outcome.message
        self.category = outcome.category
        self.error_id = outcome.error_id
        self.line = outcome.line


def session(node: str, user: str, delegated: bool = False, auth: str = "ntlm") -> Session:
    return Session(node=node, user=user, auth="credssp" if delegated else auth, encrypted=True, delegated=delegated)


def invoke(
    world: World,
    session: Session,
    operation: str,
    identity: Identity | None = None,
    **parameters: Any,
) -> dict[str, Any]:
    """The operation's result on `session.node`; raises ScriptFailed with the script's error."""
    script = (SCRIPTS / f"{operation}.ps1").read_text(encoding="utf-8")
    stdin = runner_wire.envelope(operation, script, parameters).decode("ascii")
    bootstrap = runner_wire.BOOTSTRAP_PATH.read_text(encoding="utf-8")
    process = run_script(world, session.node, bootstrap, session, stdin=stdin, identity=identity)
    outcome = runner_wire.read_result(process.stdout.encode("utf-8"))
    if outcome is None:
        raise AssertionError(f"{operation}: no result line; stdout={process.stdout!r} errors={process.errors!r}")
    if not outcome.ok:
        raise ScriptFailed(outcome)
    return outcome.result
