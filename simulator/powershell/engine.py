"""powershell.exe: one process running one script text in a new runspace on a machine.

`run_process(machine, text, stdin)` runs the text at global scope (as -Command / -EncodedCommand
do), with `[Console]::In` reading `stdin` and `[Console]::Out` collected, and reports what the
process would: its stdout (console writes and the formatted output objects), the error records
that reached the error stream, the terminating error that ended it (if any) and its exit code
(`exit N` gives N; an uncaught terminating error gives 1; otherwise 0).

`run_file(machine, text, arguments)` is powershell.exe -File: the script's parameters bound from
named arguments (what a scheduled task's action or Invoke-Command needs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.powershell import values as v
from simulator.powershell.binder import NamedArgument, PositionalArgument
from simulator.powershell.compiler import compile_script
from simulator.powershell.core_cmdlets import format_for_host
from simulator.powershell.errors import ErrorRecord, ExitSignal, FlowSignal, PSTerminatingError, StopUpstream
from simulator.powershell.interpreter import Interpreter
from simulator.powershell.machine import BufferConsole, Machine


@dataclass
class ProcessResult:
    stdout: str
    exit_code: int
    errors: list[ErrorRecord] = field(default_factory=list)  # non-terminating errors shown on the error stream
    terminating: ErrorRecord | None = None  # the error that ended the script
    host_lines: list[tuple[str, str]] = field(default_factory=list)  # (stream, text): warnings, verbose, Write-Host
    output: list[object] = field(default_factory=list)  # the output objects, before formatting


def run_process(machine: Machine, text: str, stdin: str = "", name: str = "") -> ProcessResult:
    console = BufferConsole(stdin)
    interp = Interpreter(machine, console)
    output: list[object] = []
    exit_code = 0
    terminating: ErrorRecord | None = None
    compiled = compile_script(text, name)
    try:
        if compiled.block is None:
            raise interp.compile_problem(compiled)
        interp.run_block_here(compiled.block, output.append)
    except ExitSignal as signal:
        exit_code = signal.code
    except PSTerminatingError as error:
        terminating = error.record
        exit_code = 1
    except StopUpstream:
        raise
    except FlowSignal:
        exit_code = 0  # break/continue/return at the top level end the script quietly
    if exit_code == 0 and terminating is None and not interp.last_statement_ok:
        exit_code = 1  # -Command: 1 when the last statement failed ($? false)
    lines = [v.python_text(format_for_host(item)) for item in output if item is not v.AUTOMATION_NULL]
    stdout = console.text() + "".join(line + "\r\n" for line in lines)
    return ProcessResult(
        stdout, exit_code, list(interp.streams.errors), terminating, list(interp.streams.host_lines), output
    )


def run_file(
    machine: Machine,
    text: str,
    arguments: dict[str, object] | None = None,
    name: str = "",
    positional: list[object] | None = None,
) -> ProcessResult:
    """powershell.exe -File script.ps1 -Name value ...: the script's param() bound from the arguments.

    Also what a remote runspace does with Invoke-Command -ScriptBlock {...} -ArgumentList a, b: the block's
    text with `positional` arguments, on the other machine (a new runspace, nothing shared).
    """
    interp = Interpreter(machine, BufferConsole(""))
    output: list[object] = []
    compiled = compile_script(text, name)
    exit_code = 0
    terminating: ErrorRecord | None = None
    try:
        if compiled.block is None:
            raise interp.compile_problem(compiled)
        bound: list[NamedArgument | PositionalArgument] = [
            NamedArgument(key, value, True, f"-{key}") for key, value in (arguments or {}).items()
        ]
        bound.extend(PositionalArgument(value) for value in positional or [])
        interp.invoke_script_block(compiled.block, bound, output.append, name=name, kind="script")
    except ExitSignal as signal:
        exit_code = signal.code
    except PSTerminatingError as error:
        terminating = error.record
        exit_code = 1
    except StopUpstream:
        raise
    except FlowSignal:
        exit_code = 0
    lines = [format_for_host(item) for item in output]
    stdout = interp.console.text() if isinstance(interp.console, BufferConsole) else ""
    stdout += "".join(line + "\r\n" for line in lines)
    return ProcessResult(
        stdout, exit_code, list(interp.streams.errors), terminating, list(interp.streams.host_lines), output
    )
