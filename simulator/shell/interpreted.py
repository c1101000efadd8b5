"""powershell.exe on a node: every script runs in the interpreter (simulator/powershell) on the node's machine.

The bootstrap, the library and the operation's script run as Windows PowerShell 5.1 runs them; what the
process writes becomes the command's stdout, its error records stderr as the console host writes them.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.powershell.engine import ProcessResult, run_process
from simulator.powershell.errors import ErrorRecord
from simulator.powershell.machine import Machine
from simulator.shell.errors import ErrorView, Position, clixml_stderr, plain_stderr
from simulator.shell.host import NodeHost, ProcessHost
from simulator.wsman.backend import Outcome, Session


def run_on_host(host: NodeHost, session: Session, operation: str | None, run: Callable[[], Outcome]) -> Outcome:
    """The process, run by the host when it wants to (its lock, its faults, its persistence); else as is."""
    if isinstance(host, ProcessHost):
        return host.run_process(session, operation, run)
    return run()


def run(machine: Machine, script: str, stdin: bytes, clixml: bool) -> Outcome:
    """powershell.exe running `script` (the bootstrap, or any other text) with `stdin` on `machine`."""
    result = run_process(machine, script, stdin.decode("cp437"))
    return outcome(result, script, clixml)


def outcome(result: ProcessResult, script: str, clixml: bool) -> Outcome:
    views = [_view(record, script) for record in result.errors]
    if result.terminating is not None:
        views.append(_view(result.terminating, script))
    stderr = b""
    if views:
        stderr = clixml_stderr(views) if clixml else plain_stderr(views)
    stdout = result.stdout.encode("cp437", errors="replace")
    return Outcome(stdout=stdout, stderr=stderr, exit_code=result.exit_code)


def _view(record: ErrorRecord, script: str) -> ErrorView:
    info = record.invocation_info
    position = None
    if info.script_line_number:
        lines = script.split("\n")
        text = lines[info.script_line_number - 1].rstrip("\r") if info.script_line_number <= len(lines) else info.line
        position = Position(info.script_line_number, max(1, info.offset_in_line), max(1, info.width), text)
    category = record.category_info
    parse_error = category.category == "ParserError"
    return ErrorView(
        record.message,
        category.category,
        record.error_id,
        position=position,
        command=info.command_name,
        target=category.target_name,
        target_type=category.target_type,
        activity=category.activity,
        reason="ParentContainsErrorRecordException" if parse_error else category.reason or "RuntimeException",
        position_first=parse_error,
    )
