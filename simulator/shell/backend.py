"""`ShellBackend` of a simulated Windows node: cmd.exe, then powershell.exe running in the interpreter."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.shell import bootstrap, cmdline, interpreted, powershell
from simulator.shell.host import NodeHost
from simulator.wsman.backend import Directive, Outcome, Session


@dataclass
class SimulatedCommand:
    """A command line, understood and ready to run once (`PreparedCommand`)."""

    directive: Directive
    operation: str | None
    _run: Callable[[], Outcome]
    _outcome: Outcome | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def execute(self) -> Outcome:
        with self._lock:
            if self._outcome is None:
                self._outcome = self._run()
            return self._outcome


class SimulatedShell:
    """cmd.exe and powershell.exe of one node, in front of the host that gives its machine."""

    def __init__(self, host: NodeHost, request_delay: float = 0.0) -> None:
        self.host = host
        self._request_delay = request_delay

    def request_delay(self) -> float:
        delay = getattr(self.host, "request_delay", None)
        return float(delay()) if callable(delay) else self._request_delay

    def prepare(self, session: Session, command: str, arguments: list[str], stdin: bytes) -> SimulatedCommand:
        line = cmdline.command_line(command, arguments)
        if len(line) > cmdline.MAX_COMMAND_LINE:
            return _fixed(cmdline.TOO_LONG)
        argv = cmdline.split(line)
        if not argv:
            return _fixed(Outcome(b"", b"", 0))
        program = cmdline.program_key(argv[0])
        if program == "powershell":
            return self._powershell(session, argv[1:], stdin)
        if program == "echo":
            return _fixed(cmdline.echo(line))
        if program == "hostname":
            return _fixed(cmdline.hostname(session))
        if program == "whoami":
            return _fixed(cmdline.whoami(session))
        if program == "ipconfig":
            machine = self.host if isinstance(self.host, cmdline.MachineFacts) else None
            return SimulatedCommand(
                Directive(),
                None,
                lambda: cmdline.ipconfig(argv[1:], machine.adapters(session.node) if machine else []),
            )
        return _fixed(cmdline.not_recognized(argv[0]))

    def _powershell(self, session: Session, args: list[str], stdin: bytes) -> SimulatedCommand:
        invocation = powershell.parse_arguments(args)
        if invocation.error:
            return _fixed(powershell.command_line_error(invocation))
        if invocation.help:
            return _fixed(powershell.help_text())
        if invocation.file is not None:
            return _fixed(powershell.missing_file(invocation.file))
        script = (
            stdin.decode("cp437") if invocation.from_stdin or invocation.script is None else invocation.script
        )
        operation = None
        if bootstrap.is_bootstrap(script) and not invocation.from_stdin:
            envelope = bootstrap.read_envelope(stdin)
            operation = envelope.operation if envelope is not None else None
        directive = self.host.directive(session, operation) if operation is not None else Directive()
        standard_input = b"" if invocation.from_stdin else stdin
        clixml = invocation.clixml

        def process() -> Outcome:
            return interpreted.run(self.host.machine(session), script, standard_input, clixml)

        return SimulatedCommand(
            directive, operation, lambda: interpreted.run_on_host(self.host, session, operation, process)
        )


def _fixed(outcome: Outcome) -> SimulatedCommand:
    return SimulatedCommand(Directive(), None, lambda: outcome)
