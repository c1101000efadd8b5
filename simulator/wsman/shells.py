"""The WinRS shells of one node and the life of their commands, independent of HTTP.

A command is prepared (`ShellBackend.prepare`) once its stdin has ended, or at its first Receive when
no stdin was sent, and its Directive then decides how the Receives go. Output is executed lazily and
handed out in pieces that fit the client's MaxEnvelopeSize.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.wsman import soap
from simulator.wsman.backend import Outcome, PreparedCommand, Session, ShellBackend

log = logging.getLogger(__name__)


class DropConnection(Exception):
    """Close the TCP connection without answering, as a network reset would."""


@dataclass(frozen=True)
class CounterSnapshot:
    http_requests: int
    shells_created: int
    commands_run: int
    command_lines: tuple[tuple[str, tuple[str, ...]], ...]  # (command, arguments) as received
    actions: tuple[str, ...]  # WS-Man action of every SOAP request, e.g. "Receive"
    encrypted_messages: int  # SOAP bodies that arrived MS-WSMV message-encrypted
    plaintext_messages: int  # SOAP bodies that arrived in clear over plain HTTP
    tls_requests: int


@dataclass
class Counters:
    """Per-node counters; every method is thread-safe."""

    http_requests: int = 0
    shells_created: int = 0
    commands_run: int = 0
    command_lines: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    encrypted_messages: int = 0
    plaintext_messages: int = 0
    tls_requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def record(self, name: str, item: object) -> None:
        with self._lock:
            getattr(self, name).append(item)

    def snapshot(self) -> CounterSnapshot:
        with self._lock:
            return CounterSnapshot(
                self.http_requests,
                self.shells_created,
                self.commands_run,
                tuple(self.command_lines),
                tuple(self.actions),
                self.encrypted_messages,
                self.plaintext_messages,
                self.tls_requests,
            )

    def reset(self) -> None:
        with self._lock:
            self.http_requests = self.shells_created = self.commands_run = 0
            self.encrypted_messages = self.plaintext_messages = self.tls_requests = 0
            self.command_lines.clear()
            self.actions.clear()


@dataclass
class Command:
    id: str
    session: Session
    command: str
    arguments: list[str]
    stdin: bytearray = field(default_factory=bytearray)
    stdin_ended: bool = False
    prepared: PreparedCommand | None = None
    started_at: float = 0.0
    timeouts_left: int = 0
    outcome: Outcome | None = None
    sent_stdout: int = 0
    sent_stderr: int = 0
    gate: threading.Lock = field(default_factory=threading.Lock)  # prepare and execute run once


@dataclass
class Shell:
    id: str
    owner: str
    commands: dict[str, Command] = field(default_factory=dict)


class ShellHost:
    def __init__(self, backend: ShellBackend, counters: Counters) -> None:
        self._backend = backend
        self._counters = counters
        self._changed = threading.Condition()
        self._shells: dict[str, Shell] = {}
        self._closing = False

    def create(self, owner: str) -> str:
        shell = Shell(str(uuid.uuid4()).upper(), owner)
        with self._changed:
            self._shells[shell.id] = shell
        self._counters.add("shells_created")
        return shell.id

    def delete(self, shell_id: str) -> None:
        with self._changed:
            if self._shells.pop(shell_id.upper(), None) is None:
                raise soap.shell_not_found(shell_id)
            self._changed.notify_all()

    def open_commands(self) -> int:
        """Commands the node still holds across its shells: running, or Done and never signalled.

        A client need not signal a command that reached CommandState Done: deleting the shell
        releases it with the shell, as the WinRM service does.
        """
        with self._changed:
            return sum(len(shell.commands) for shell in self._shells.values())

    def drop_all(self) -> None:
        with self._changed:
            self._shells.clear()
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closing = True
            self._shells.clear()
            self._changed.notify_all()

    def command(self, session: Session, shell_id: str, command: str, arguments: list[str]) -> str:
        self._counters.record("command_lines", (command, tuple(arguments)))
        cmd = Command(str(uuid.uuid4()).upper(), session, command, arguments)
        with self._changed:
            self._shell(shell_id).commands[cmd.id] = cmd
        return cmd.id

    def send(self, shell_id: str, stream: soap.StreamInput) -> None:
        with self._changed:
            cmd = self._command(shell_id, stream.command_id)
            if cmd.stdin_ended:
                raise soap.command_not_found()  # the process has closed its stdin
            cmd.stdin += stream.data
            cmd.stdin_ended = stream.end
            self._changed.notify_all()
        if stream.end:
            with cmd.gate:
                self._prepare(shell_id, cmd)

    def signal(self, shell_id: str, command_id: str, code: str) -> None:
        if code.lower() not in soap.SIGNAL_CODES:
            raise soap.invalid_soap()
        with self._changed:
            self._shell(shell_id).commands.pop(self._command(shell_id, command_id).id)
            self._changed.notify_all()

    def receive(
        self, shell_id: str, command_id: str, timeout: float, budget: int
    ) -> tuple[bytes, bytes, int | None]:
        """Next output of a command: (stdout, stderr, exit code or None while it runs)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            cmd = self._command(shell_id, command_id)
        alive = self._alive(shell_id, cmd)
        # A process that got part of its stdin waits for the rest before it can finish.
        if not self._wait(lambda: cmd.stdin_ended or not cmd.stdin or not alive(), deadline):
            raise soap.operation_timeout()
        with cmd.gate:
            prepared = self._prepare(shell_id, cmd)
            if cmd.timeouts_left:
                cmd.timeouts_left -= 1
                raise soap.operation_timeout()
        directive = prepared.directive
        finish_at = float("inf") if directive.hang else cmd.started_at + directive.duration
        self._wait(lambda: not alive(), min(finish_at, deadline))
        if not alive():
            raise (
                soap.command_not_found()
                if shell_id.upper() in self._shells
                else soap.shell_not_found(shell_id)
            )
        if time.monotonic() < finish_at:
            raise soap.operation_timeout()
        with cmd.gate:
            if cmd.outcome is None:
                cmd.outcome = prepared.execute()
                self._counters.add("commands_run")
                if directive.reset_after:
                    self._forget(shell_id, cmd)
                    raise DropConnection()
            return self._next_piece(cmd, cmd.outcome, budget)

    def _prepare(self, shell_id: str, cmd: Command) -> PreparedCommand:
        """Prepare the command once (caller holds cmd.gate) and apply the directive's refusals."""
        if cmd.prepared is not None:
            return cmd.prepared
        prepared = self._backend.prepare(cmd.session, cmd.command, cmd.arguments, bytes(cmd.stdin))
        if prepared.directive.reset_before or prepared.directive.http_500:
            self._forget(shell_id, cmd)
            if prepared.directive.reset_before:
                raise DropConnection()
            raise soap.internal_error()
        cmd.prepared, cmd.started_at = prepared, time.monotonic()
        cmd.timeouts_left = prepared.directive.timeouts
        return prepared

    @staticmethod
    def _next_piece(cmd: Command, outcome: Outcome, budget: int) -> tuple[bytes, bytes, int | None]:
        stdout = outcome.stdout[cmd.sent_stdout : cmd.sent_stdout + budget]
        stderr = outcome.stderr[cmd.sent_stderr : cmd.sent_stderr + budget - len(stdout)]
        cmd.sent_stdout += len(stdout)
        cmd.sent_stderr += len(stderr)
        finished = cmd.sent_stdout == len(outcome.stdout) and cmd.sent_stderr == len(outcome.stderr)
        return stdout, stderr, outcome.exit_code if finished else None

    def _shell(self, shell_id: str) -> Shell:
        shell = self._shells.get(shell_id.upper())
        if shell is None:
            raise soap.shell_not_found(shell_id)
        return shell

    def _command(self, shell_id: str, command_id: str) -> Command:
        cmd = self._shell(shell_id).commands.get(command_id.upper())
        if cmd is None:
            raise soap.command_not_found()
        return cmd

    def _forget(self, shell_id: str, cmd: Command) -> None:
        with self._changed:
            shell = self._shells.get(shell_id.upper())
            if shell is not None:
                shell.commands.pop(cmd.id, None)
            self._changed.notify_all()

    def _alive(self, shell_id: str, cmd: Command) -> Callable[[], bool]:
        def alive() -> bool:
            shell = self._shells.get(shell_id.upper())
            return not self._closing and shell is not None and shell.commands.get(cmd.id) is cmd

        return alive

    def _wait(self, done: Callable[[], bool], until: float) -> bool:
        """Block until `done()` or the monotonic time `until`; True when done."""
        with self._changed:
            while not done():
                remaining = until - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True
