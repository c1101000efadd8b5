"""Run an operation on a node of a simulated world the way the runner does, through the interpreter.

The real bootstrap (providers/bootstrap.ps1) reads the real envelope (providers/runner_wire.py: the
library and the operation's script from providers/scripts/) and runs it on the node's `NodeMachine`,
as the session's user. Nothing here knows what an operation does: the script decides, Windows (the
world's surface) answers.

- `invoke(world, session, operation, **parameters)`: on a bare world (no lock, no faults);
- `run_operation(host, session, operation, **parameters)`: as a `WorldHost` runs a powershell.exe that
  WinRM started (its lock, the fault plan's world faults keyed by the operation, persistence);
- `as_admin(host, node, text)`: an administrator's own PowerShell on a node (Stop-Service, Move-ClusterGroup,
  Set-ClusterParameter, ...), the way a change outside the stack is made; raises AdminFailed on an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from providers import runner_wire
from simulator.powershell.engine import ProcessResult
from simulator.powershell.machine import Identity
from simulator.shell import interpreted
from simulator.world.host import WorldHost
from simulator.world.machine import run_script
from simulator.world.model import World
from simulator.wsman.backend import Outcome, Session

SCRIPTS = Path(__file__).resolve().parent.parent / "providers" / "scripts"
INSTALL_ACCOUNT = "CORP\\svc-install"


class ScriptFailed(Exception):
    """The operation's script ended with an error (the bootstrap's `ok: false` result)."""

    def __init__(self, outcome: runner_wire.ScriptOutcome) -> None:
        super().__init__(outcome.message)
        self.message = outcome.message
        self.category = outcome.category
        self.error_id = outcome.error_id
        self.line = outcome.line


class AdminFailed(Exception):
    """An administrator's command ended with an error: its message and FullyQualifiedErrorId."""

    def __init__(self, message: str, error_id: str) -> None:
        super().__init__(f"{message} ({error_id})")
        self.message = message
        self.error_id = error_id


def session(node: str, user: str, delegated: bool = False, auth: str = "ntlm") -> Session:
    return Session(node=node, user=user, auth="credssp" if delegated else auth, encrypted=True, delegated=delegated)


def _envelope(operation: str, parameters: dict[str, Any]) -> str:
    script = (SCRIPTS / f"{operation}.ps1").read_text(encoding="utf-8")
    return runner_wire.envelope(operation, script, parameters).decode("ascii")


def _result(operation: str, stdout: str, detail: object) -> dict[str, Any]:
    outcome = runner_wire.read_result(stdout.encode("utf-8"))
    if outcome is None:
        raise AssertionError(f"{operation}: no result line; stdout={stdout!r} {detail!r}")
    if not outcome.ok:
        raise ScriptFailed(outcome)
    return outcome.result


def invoke(
    world: World,
    session: Session,
    operation: str,
    identity: Identity | None = None,
    **parameters: Any,
) -> dict[str, Any]:
    """The operation's result on `session.node`; raises ScriptFailed with the script's error."""
    bootstrap = runner_wire.BOOTSTRAP_PATH.read_text(encoding="utf-8")
    stdin = _envelope(operation, parameters)
    process = run_script(world, session.node, bootstrap, session, stdin=stdin, identity=identity)
    return _result(operation, process.stdout, process.errors)


def run_operation(host: WorldHost, session: Session, operation: str, **parameters: Any) -> dict[str, Any]:
    """The operation's result as the host runs the powershell.exe that WinRM would start for it."""
    bootstrap = runner_wire.BOOTSTRAP_PATH.read_text(encoding="utf-8")
    stdin = _envelope(operation, parameters).encode("ascii")

    def process() -> Outcome:
        return interpreted.run(host.machine(session), bootstrap, stdin, clixml=False)

    outcome = host.run_process(session, operation, process)
    return _result(operation, outcome.stdout.decode("cp437"), outcome.stderr)


def as_admin(host: WorldHost, node: str, text: str, user: str = INSTALL_ACCOUNT) -> ProcessResult:
    """`text` run by an administrator on `node` (a local administrator's session, no delegated credentials)."""
    result = host.powershell(session(node, user), "$ErrorActionPreference = 'Stop'\n" + text)
    if result.terminating is not None:
        raise AdminFailed(result.terminating.message, result.terminating.error_id)
    return result


SSOMANAGE = "& (Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On\\ssomanage.exe')"


def point_secret_server(host: WorldHost, node: str, name: str) -> ProcessResult:
    """An administrator on `node` points SSODB's secret server at `name` as Microsoft's text does it: a file with
    only <secretServer> and `ssomanage -updatedb` (F-SSO-14), with ENTSSO started for ssomanage (F-SSO-13) and
    left as it was found."""
    return as_admin(
        host,
        node,
        "$was = (Get-Service -Name ENTSSO).Status\n"
        "if ($was -ne 'Running') { Start-Service -Name ENTSSO }\n"
        "$file = 'C:\\Windows\\Temp\\secret-server.xml'\n"
        f"Set-Content -LiteralPath $file -Value '<sso><globalInfo><secretServer>{name}</secretServer></globalInfo></sso>'\n"
        f"{SSOMANAGE} -updatedb $file | Out-Null\n"
        "Remove-Item -LiteralPath $file\n"
        "if ($was -ne 'Running') { Stop-Service -Name ENTSSO }",
    )
