"""powershell.exe as a program on a simulated node: what a scheduled task's action or a script's child runs.

`powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File <script.ps1> -Dir <dir>` reads the
script from the node's disk and runs it in a new process (a new runspace: nothing shared with its parent),
with the script's parameters bound from the arguments after the file, as powershell.exe -File binds them
(PSD reference/5.1/Microsoft.PowerShell.Core/About/about_PowerShell_exe.md: "-File ... Runs the specified
script in the local scope ... Enter the script file path and any parameters"). `-Command` / `-EncodedCommand`
run their text as the bootstrap does (simulator/powershell/engine.run_process). The exit code is the
script's `exit N`, 1 after a terminating error, else 0; what the process writes to its console is its
stdout, its error records its stderr.
"""

from __future__ import annotations

from simulator.powershell.engine import ProcessResult, run_file, run_process
from simulator.powershell.machine import NativeResult
from simulator.shell import powershell as console_host
from simulator.world import surface
from simulator.world.machine import NodeMachine

POWERSHELL_EXE = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
EXIT_BAD_COMMAND_LINE = console_host.EXIT_BAD_COMMAND_LINE


def child_machine(parent: NodeMachine) -> NodeMachine:
    """The machine of a process `parent` starts: same node, same token (a child inherits its parent's)."""
    spawn = getattr(parent, "child", None)
    if callable(spawn):
        child = spawn()
        assert isinstance(child, NodeMachine)
        return child
    return NodeMachine(parent.world, parent.node, parent.session, parent.identity())


def script_arguments(tokens: list[str]) -> tuple[dict[str, object], list[object]]:
    """The arguments after -File's script: `-Name value`, `-Name:value`, `-Switch`, or positional."""
    named: dict[str, object] = {}
    positional: list[object] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.startswith("-") and len(token) > 1 and not token[1:2].isdigit():
            name, colon, value = token[1:].partition(":")
            if colon:
                named[name] = value
            elif index < len(tokens) and not (tokens[index].startswith("-") and len(tokens[index]) > 1):
                named[name] = tokens[index]
                index += 1
            else:
                named[name] = True
            continue
        positional.append(token)
    return named, positional


def _file_index(arguments: list[str], file: str) -> int:
    for index in range(1, len(arguments)):
        switch = arguments[index - 1].lstrip("-/").lower()
        if arguments[index] == file and switch and "file".startswith(switch):
            return index
    return len(arguments) - 1


def _decode(data: bytes) -> str:
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    return data.decode("utf-8", errors="replace")


def _native(result: ProcessResult) -> NativeResult:
    stderr = [record.message for record in result.errors]
    if result.terminating is not None:
        stderr.append(result.terminating.message)
    return NativeResult(result.exit_code, result.stdout.splitlines(), stderr)


class PowerShellExe:
    """One powershell.exe process on `machine`."""

    name = "powershell.exe"

    def __init__(self, machine: NodeMachine) -> None:
        self.machine = machine

    def run(self, arguments: list[str], stdin: str | None) -> NativeResult:
        invocation = console_host.parse_arguments(arguments)
        if invocation.error:
            return NativeResult(EXIT_BAD_COMMAND_LINE, [], [invocation.error])
        if invocation.file is not None:
            path = invocation.file.strip('"')
            entry = self.machine.filesystem.stat(path)
            if entry is None or entry.is_directory:
                message = console_host.missing_file(path).stderr.decode("cp437").rstrip("\r\n")
                return NativeResult(EXIT_BAD_COMMAND_LINE, [], [message])
            text = _decode(self.machine.filesystem.read_bytes(path))
            named, positional = script_arguments(arguments[_file_index(arguments, invocation.file) + 1 :])
            return _native(run_file(self.machine, text, named, path, positional))
        if invocation.from_stdin or invocation.script is None:
            return _native(run_process(self.machine, stdin or "", ""))
        return _native(run_process(self.machine, invocation.script, stdin or ""))


@surface.executable(POWERSHELL_EXE, on_path=True)
def powershell_exe(machine: NodeMachine) -> PowerShellExe:
    return PowerShellExe(child_machine(machine))
