"""Runs the project's PowerShell scripts on Windows nodes over WinRM (docs/contracts.md section 1).

One WinRS shell per resource operation (`WinRmRunner.session`), one command per script
(`RemoteSession.run`): powershell.exe runs the fixed bootstrap given as -EncodedCommand, and the
script and its parameters travel on stdin inside the (message-encrypted or TLS) envelope. The
password stays in the auth layer, parameters stay in the envelope, and the command line holds
nothing but the bootstrap.

The authenticated HTTP connection under a shell (a pywinrm Protocol: its requests session, NTLM or
CredSSP context and message encryption) outlives the shell: a session that ended cleanly hands it to
a module-level pool, and the next session for the same endpoint, account and trust settings takes it
instead of authenticating again. A connection that met any fault is closed, never pooled.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import requests
import tenacity
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol

from providers import runner_wire
from providers.runner_models import NodeConnection, RunnerConfig
from providers.runner_transport import build_protocol
from providers.runner_wire import Masker

__all__ = [
    "NodeConnection",
    "RemoteOperationError",
    "RemoteSession",
    "RunnerConfig",
    "WinRmRunner",
    "load_script",
]

logger = logging.getLogger("entsso.runner")

SCRIPTS_DIR = Path(__file__).with_name("scripts")
ErrorKind = Literal["transport", "auth", "certificate", "timeout", "script"]

_INTERNAL_ERROR = 1359  # ERROR_INTERNAL_ERROR in a WS-Man fault: the service failed, try again
_SHELL_GONE = 2150858843  # the shell or command no longer exists (a restarted service or node)
_ACCESS_DENIED = 5
_ADVICE: dict[str, str] = {
    "transport": "check that the node is up and its WinRM listener answers at {endpoint}",
    "auth": "check the user name and password (or client certificate) of this node connection",
    "certificate": "check the CA bundle or the pinned thumbprint against the node's WinRM certificate",
    "timeout": "the command was stopped; look for a hung process on the node or raise the deadline",
    "script": "the script reported this error on the node; fix its cause and run again",
}


class RemoteOperationError(Exception):
    """An operation that failed on a node. Every secret value is already masked as ***."""

    def __init__(
        self,
        node: str,
        operation: str,
        exit_code: int | None,
        message: str,
        kind: ErrorKind,
        *,
        advice: str = "",
        error_id: str = "",
        category: str = "",
        line: int = 0,
        stderr: str = "",
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.node, self.operation, self.exit_code = node, operation, exit_code
        self.message, self.kind, self.advice = message, kind, advice or _ADVICE[kind]
        self.error_id, self.category, self.line = error_id, category, line
        self.stderr, self.attempts = stderr, attempts

    def __reduce__(self) -> tuple[object, ...]:
        # Exceptions pickle as cls(*args); this one needs its keyword details back too.
        details = {
            "advice": self.advice,
            "error_id": self.error_id,
            "category": self.category,
            "line": self.line,
            "stderr": self.stderr,
            "attempts": self.attempts,
        }
        return (_rebuild_error, (self.node, self.operation, self.exit_code, self.message, self.kind, details))

    def __str__(self) -> str:
        facts: list[str] = [self.kind]
        if self.exit_code is not None:
            facts.append(f"exit code {self.exit_code}")
        if self.error_id:
            facts.append(self.error_id)
        if self.line:
            facts.append(f"line {self.line}")
        if self.attempts > 1:
            facts.append(f"{self.attempts} attempts")
        return f"{self.operation} on {self.node} failed ({', '.join(facts)}): {self.message} - {self.advice}"


def _rebuild_error(
    node: str, operation: str, exit_code: int | None, message: str, kind: ErrorKind, details: dict[str, Any]
) -> RemoteOperationError:
    return RemoteOperationError(node, operation, exit_code, message, kind, **details)


class _DeadlineReached(Exception):
    pass


def load_script(operation: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", operation):
        raise ValueError(f"{operation!r} is not an operation name (the stem of a file in providers/scripts)")
    return (SCRIPTS_DIR / f"{operation}.ps1").read_text(encoding="utf-8")


# --- authenticated connections kept between resource operations -----------------------------------

POOL_IDLE_LIMIT_S = 30.0  # well inside the WinRM service's idle-connection timeout (HTTP.sys: 120 s)
POOL_PER_KEY = 4  # the provider host runs four threads
POOL_TOTAL = 16

PoolKey = tuple[object, ...]


@dataclass
class _Idle:
    protocol: Protocol
    since: float  # monotonic


class ConnectionPool:
    """Idle authenticated connections (pywinrm Protocols), each used by one thread at a time.

    `check_out` hands a connection to one session, which owns it until it gives it back with
    `check_in` (after a clean end) or closes it (after any fault). The pool keeps no secret of its
    own: a connection is handed out only to a caller whose password matches, constant-time, the one
    its pywinrm transport already holds. Connections idle longer than `idle_limit_s` are closed.
    """

    def __init__(
        self, idle_limit_s: float = POOL_IDLE_LIMIT_S, per_key: int = POOL_PER_KEY, total: int = POOL_TOTAL
    ) -> None:
        self.idle_limit_s, self.per_key, self.total = idle_limit_s, per_key, total
        self._lock = threading.Lock()
        self._idle: dict[PoolKey, list[_Idle]] = {}

    def check_out(self, key: PoolKey, password: str) -> Protocol | None:
        """The most recently used live connection for `key` and this password, or None."""
        closing: list[Protocol] = []
        found: Protocol | None = None
        with self._lock:
            closing += self._expire(time.monotonic())
            entries = self._idle.get(key, [])
            while entries and found is None:
                protocol = entries.pop().protocol
                if _holds_password(protocol, password):
                    found = protocol
                else:
                    closing.append(protocol)  # another password for the same account: never reused
            if not entries:
                self._idle.pop(key, None)
        if found is not None and not _connection_alive(found):
            # The node closed it (restart, reboot, idle timeout): the others to that node went with it.
            closing += [found, *self.forget(key, close=False)]
            found = None
        _close_all(closing)
        return found

    def check_in(self, key: PoolKey, protocol: Protocol) -> None:
        closing: list[Protocol] = []
        with self._lock:
            now = time.monotonic()
            closing += self._expire(now)
            entries = self._idle.setdefault(key, [])
            entries.append(_Idle(protocol, now))
            while len(entries) > self.per_key:
                closing.append(entries.pop(0).protocol)
            while sum(len(idle) for idle in self._idle.values()) > self.total:
                oldest = min(self._idle, key=lambda k: self._idle[k][0].since)
                closing.append(self._idle[oldest].pop(0).protocol)
                if not self._idle[oldest]:
                    del self._idle[oldest]
        _close_all(closing)

    def forget(self, key: PoolKey, *, close: bool = True) -> list[Protocol]:
        """Drops every idle connection for `key` (after a fault on one of them); returns them if not closed."""
        with self._lock:
            dropped = [entry.protocol for entry in self._idle.pop(key, [])]
        if close:
            _close_all(dropped)
            return []
        return dropped

    def clear(self) -> None:
        with self._lock:
            dropped = [entry.protocol for entries in self._idle.values() for entry in entries]
            self._idle.clear()
        _close_all(dropped)

    def idle(self, key: PoolKey | None = None) -> int:
        with self._lock:
            if key is not None:
                return len(self._idle.get(key, []))
            return sum(len(entries) for entries in self._idle.values())

    def _expire(self, now: float) -> list[Protocol]:
        """Removes (caller holds the lock) and returns the connections idle for too long."""
        expired: list[Protocol] = []
        for key in list(self._idle):
            kept = [entry for entry in self._idle[key] if now - entry.since <= self.idle_limit_s]
            expired += [entry.protocol for entry in self._idle[key] if now - entry.since > self.idle_limit_s]
            if kept:
                self._idle[key] = kept
            else:
                del self._idle[key]
        return expired


def _holds_password(protocol: Protocol, password: str) -> bool:
    held = getattr(protocol.transport, "password", None) or ""
    return isinstance(held, str) and hmac.compare_digest(held.encode("utf-8"), password.encode("utf-8"))


def _connection_alive(protocol: Protocol) -> bool:
    """Whether the protocol's requests session still holds an open TCP connection to its endpoint.

    NTLM and CredSSP authenticate the TCP connection: once the node closed it, a request on a new
    one would meet a 401 (and a message sealed for the old context), so such a connection is not
    worth handing out. Anything unexpected in requests' or urllib3's objects counts as closed.
    """
    session = getattr(protocol.transport, "session", None)
    if session is None:
        return False
    try:
        manager: Any = session.get_adapter(protocol.transport.endpoint).poolmanager
        for pool_key in list(manager.pools.keys()):
            pool = manager.pools.get(pool_key)
            waiting = getattr(getattr(pool, "pool", None), "queue", ())
            if any(connection is not None and connection.is_connected for connection in list(waiting)):
                return True
    except Exception:  # a shape we do not know: build a new connection instead
        return False
    return False


def _close_connection(protocol: Protocol) -> None:
    try:
        protocol.transport.close_session()
    except Exception as problem:  # closing a dead connection may fail; it is gone either way
        logger.debug("closing a WinRM connection failed: %s", type(problem).__name__)


def _close_all(protocols: Iterable[Protocol]) -> None:
    for protocol in protocols:
        _close_connection(protocol)


CONNECTIONS = ConnectionPool()  # per process; shared by every runner and provider thread in it


class WinRmRunner:
    def __init__(
        self,
        config: RunnerConfig | None = None,
        protocol_factory: Callable[[NodeConnection, RunnerConfig], Protocol] = build_protocol,
    ) -> None:
        self.config = config or RunnerConfig()
        self._protocol_factory = protocol_factory

    @contextmanager
    def session(self, node: NodeConnection, operation_label: str) -> Iterator[RemoteSession]:
        """One shell on `node` for one resource operation; closed when the block ends."""
        remote = RemoteSession(self, node, operation_label)
        try:
            yield remote
        finally:
            remote.close()

    def run_script(
        self,
        node: NodeConnection,
        operation: str,
        parameters: Mapping[str, object],
        secret_parameters: Collection[str] = (),
    ) -> dict[str, object]:
        """Runs providers/scripts/<operation>.ps1 in a shell of its own."""
        script = load_script(operation)
        with self.session(node, operation) as remote:
            return remote.run(operation, script, parameters, secret_parameters)

    def new_protocol(self, node: NodeConnection) -> Protocol:
        return self._protocol_factory(node, self.config)

    def pool_key(self, node: NodeConnection) -> PoolKey:
        """What a pooled connection must share to serve `node`: everything that shapes the connection
        (endpoint, account, auth, trust, timeouts, the factory that built it), never the password."""
        return (
            self._protocol_factory,
            node.endpoint,
            node.transport,
            node.username,
            node.validation,
            node.thumbprint,
            str(node.ca_bundle or ""),
            str(node.client_certificate or ""),
            str(node.client_key or ""),
            self.config.operation_timeout_s,
            self.config.read_timeout_s,
        )


class RemoteSession:
    """A shell on one node, opened at the first command and reopened after a transport fault.

    Its connection comes from the pool when one is idle there, and goes back when the session ends
    cleanly. After any fault the connection is closed, and the rest of the session (its retries)
    authenticates a new one.
    """

    def __init__(self, runner: WinRmRunner, node: NodeConnection, label: str) -> None:
        self._runner = runner
        self._config = runner.config
        self.node = node
        self.label = label
        self._protocol: Protocol | None = None
        self._shell_id: str | None = None
        self._pool_key = runner.pool_key(node)
        self._pooled = False  # the connection came from the pool and has not answered in this session yet
        self._clean = True  # no exchange was cut short: the connection may go back to the pool
        self._fresh_only = False  # a fault happened: no pooled connection for the rest of this session

    def run(
        self,
        operation: str,
        script_text: str,
        parameters: Mapping[str, object],
        secret_parameters: Collection[str] = (),
    ) -> dict[str, object]:
        """Runs one script with these parameters and returns its result object."""
        masker = Masker(
            [*Masker.values(parameters, secret_parameters), self.node.password.get_secret_value()]
        )
        stdin = runner_wire.envelope(operation, script_text, parameters)
        deadline = time.monotonic() + self._config.deadline_s
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_is_transient),
            stop=tenacity.stop_after_attempt(self._config.retry_attempts)
            | tenacity.stop_before_delay(self._config.deadline_s),
            wait=tenacity.wait_exponential_jitter(
                multiplier=self._config.backoff_initial_s,
                max=self._config.backoff_max_s,
                jitter=self._config.backoff_jitter_s,
            ),
            before_sleep=lambda state: self._log_retry(operation, state, masker),
            reraise=True,
        )
        started = time.monotonic()
        try:
            stdout, stderr, exit_code = retrying(self._attempt, operation, stdin, deadline)
        except Exception as problem:
            attempts = int(retrying.statistics.get("attempt_number", 1))
            raise self._failure(operation, problem, masker, attempts) from None
        logger.info(
            "%s: %s on %s finished in %.2f s (exit code %d)",
            self.label,
            operation,
            self.node.name,
            time.monotonic() - started,
            exit_code,
        )
        return self._interpret(operation, stdout, stderr, exit_code, masker)

    def close(self) -> None:
        """Deletes the shell (which releases its commands) and pools the connection if it is healthy."""
        self._release(reuse=self._clean)

    def _release(self, *, reuse: bool) -> None:
        protocol, shell_id = self._protocol, self._shell_id
        self._protocol = self._shell_id = None
        if protocol is None:
            return
        if shell_id is not None:
            try:
                protocol.close_shell(shell_id, close_session=False)
                logger.debug("%s: shell on %s closed", self.label, self.node.name)
            except Exception as problem:  # the shell dies with the connection or the idle timeout anyway
                reuse = False
                logger.warning(
                    "%s: closing the shell on %s failed: %s", self.label, self.node.name, type(problem).__name__
                )
        if reuse:
            CONNECTIONS.check_in(self._pool_key, protocol)
        else:
            _close_connection(protocol)

    # --- one attempt --------------------------------------------------------------------------

    def _attempt(self, operation: str, stdin: bytes, deadline: float) -> tuple[bytes, bytes, int]:
        self._clean = False  # until the command's output is in: an exchange cut short poisons the connection
        try:
            protocol, shell_id = self._shell()
            logger.debug("%s: running %s on %s", self.label, operation, self.node.name)
            command_id = protocol.run_command(
                shell_id, runner_wire.POWERSHELL, runner_wire.bootstrap_arguments()
            )
            chunk = self._config.stdin_chunk_bytes
            for start in range(0, len(stdin), chunk):
                last = start + chunk >= len(stdin)
                protocol.send_command_input(shell_id, command_id, stdin[start : start + chunk], end=last)
            output = self._receive(protocol, shell_id, command_id, deadline)
        except _DeadlineReached:
            raise
        except Exception:
            self._discard()  # a fresh connection and shell for the next attempt or command
            raise
        # The command reached CommandState Done: no terminate Signal. Deleting the shell at the end
        # of the resource operation releases it with the shell's other commands, as Windows does.
        self._clean = True
        return output

    def _shell(self) -> tuple[Protocol, str]:
        if self._protocol is None:
            self._protocol = self._connect()
        if self._shell_id is None:
            self._shell_id = self._open_shell(self._protocol)
            logger.info("%s: shell opened on %s", self.label, self.node.name)
        return self._protocol, self._shell_id

    def _connect(self) -> Protocol:
        if not self._fresh_only:
            pooled = CONNECTIONS.check_out(self._pool_key, self.node.password.get_secret_value())
            if pooled is not None:
                logger.debug("%s: reusing an authenticated connection to %s", self.label, self.node.name)
                self._pooled = True
                return pooled
        self._pooled = False
        return self._runner.new_protocol(self.node)

    def _open_shell(self, protocol: Protocol) -> str:
        try:
            return protocol.open_shell()
        except Exception as problem:
            if not self._pooled or not _stale_connection(problem):
                raise
            # The node closed the pooled connection after the pool last looked (a 401 on the new TCP
            # connection, or the old context's sealed message refused): not a fault of this session.
            logger.debug(
                "%s: the pooled connection to %s was closed (%s); authenticating a new one",
                self.label,
                self.node.name,
                type(problem).__name__,
            )
            _close_connection(protocol)
            CONNECTIONS.forget(self._pool_key)
            self._protocol = self._runner.new_protocol(self.node)
            return self._protocol.open_shell()
        finally:
            self._pooled = False

    def _receive(
        self, protocol: Protocol, shell_id: str, command_id: str, deadline: float
    ) -> tuple[bytes, bytes, int]:
        stdout: list[bytes] = []
        stderr: list[bytes] = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._stop(protocol, shell_id, command_id)
                    raise _DeadlineReached
                # Have the server answer by the deadline rather than a full OperationTimeout later.
                protocol.operation_timeout_sec = max(
                    1, min(self._config.operation_timeout_s, math.ceil(remaining))
                )
                try:
                    out, err, exit_code, done = protocol.get_command_output_raw(shell_id, command_id)
                except WinRMOperationTimeoutError:
                    continue  # the command is still running
                stdout.append(out)
                stderr.append(err)
                if done:
                    return b"".join(stdout), b"".join(stderr), exit_code
        finally:
            protocol.operation_timeout_sec = self._config.operation_timeout_s

    def _stop(self, protocol: Protocol, shell_id: str, command_id: str) -> None:
        """At the deadline: terminate the command, close its shell and its connection."""
        try:
            protocol.cleanup_command(shell_id, command_id)
        except Exception as problem:
            logger.debug("%s: terminate signal failed: %s", self.label, type(problem).__name__)
        self._fresh_only = True
        self._release(reuse=False)

    def _discard(self) -> None:
        """After a fault: delete the shell if the node still answers, close the connection, and
        drop the idle ones to that node too (they likely met the same fate)."""
        self._fresh_only = True
        self._release(reuse=False)
        CONNECTIONS.forget(self._pool_key)

    def _log_retry(self, operation: str, state: tenacity.RetryCallState, masker: Masker) -> None:
        problem = state.outcome.exception() if state.outcome is not None else None
        logger.warning(
            "%s: %s on %s hit a transient fault (%s); attempt %d of %d again in %.1f s",
            self.label,
            operation,
            self.node.name,
            masker(_describe(problem)),
            state.attempt_number + 1,
            self._config.retry_attempts,
            state.upcoming_sleep,
        )

    # --- results and failures -----------------------------------------------------------------

    def _interpret(
        self, operation: str, stdout: bytes, stderr: bytes, exit_code: int, masker: Masker
    ) -> dict[str, object]:
        outcome = runner_wire.read_result(stdout)
        if outcome is not None and outcome.ok:
            return outcome.result
        errors = masker(runner_wire.stderr_text(stderr))
        if outcome is None:
            message = f"the node printed no result line (exit code {exit_code})"
            if errors:
                message += f"; stderr: {errors}"
            raise self._error(operation, exit_code, message, "script", stderr=errors)
        logger.warning(
            "%s: %s on %s failed: %s", self.label, operation, self.node.name, masker(outcome.message)
        )
        raise self._error(
            operation,
            exit_code,
            masker(outcome.message),
            "script",
            error_id=outcome.error_id,
            category=outcome.category,
            line=outcome.line,
            stderr=errors,
        )

    def _failure(
        self, operation: str, problem: Exception, masker: Masker, attempts: int
    ) -> RemoteOperationError:
        if isinstance(problem, RemoteOperationError):
            return problem
        if isinstance(problem, _DeadlineReached):
            message = f"timed out after {self._config.deadline_s:g} s"
            logger.error("%s: %s on %s %s", self.label, operation, self.node.name, message)
            return self._error(operation, None, message, "timeout", attempts=attempts)
        kind = _kind(problem)
        message = masker(_describe(problem))
        if kind == "auth":
            user = self.node.username or "the client certificate"
            message = f"the node refused the credentials of {user} ({self.node.transport}): {message}"
        logger.error("%s: %s on %s failed: %s", self.label, operation, self.node.name, message)
        return self._error(operation, None, message, kind, attempts=attempts)

    def _error(
        self,
        operation: str,
        exit_code: int | None,
        message: str,
        kind: ErrorKind,
        *,
        error_id: str = "",
        category: str = "",
        line: int = 0,
        stderr: str = "",
        attempts: int = 1,
    ) -> RemoteOperationError:
        return RemoteOperationError(
            self.node.name,
            operation,
            exit_code,
            message,
            kind,
            advice=_ADVICE[kind].format(endpoint=self.node.endpoint),
            error_id=error_id,
            category=category,
            line=line,
            stderr=stderr,
            attempts=attempts,
        )


def _stale_connection(problem: BaseException) -> bool:
    """What the first request on a pooled connection the node has closed runs into."""
    if isinstance(problem, requests.exceptions.ConnectionError) and not isinstance(
        problem, requests.exceptions.SSLError
    ):
        return True
    if isinstance(problem, InvalidCredentialsError):
        return True
    return isinstance(problem, WinRMTransportError) and problem.code == 400


def _is_transient(problem: BaseException) -> bool:
    """Faults of the network or the WinRM service that a fresh shell may not meet again."""
    if isinstance(problem, requests.exceptions.SSLError):
        return False
    if isinstance(problem, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return True
    if isinstance(problem, requests.exceptions.ChunkedEncodingError | WinRMOperationTimeoutError):
        return True
    if isinstance(problem, WSManFaultError):
        return problem.wsman_fault_code in (_INTERNAL_ERROR, _SHELL_GONE) or (
            problem.fault_subcode or ""
        ).endswith("InternalError")
    if isinstance(problem, WinRMTransportError):
        return problem.code >= 500
    return False


def _kind(problem: BaseException) -> ErrorKind:
    if isinstance(problem, InvalidCredentialsError):
        return "auth"
    if isinstance(problem, requests.exceptions.SSLError):
        return "certificate"
    if isinstance(problem, WSManFaultError) and problem.wsman_fault_code == _ACCESS_DENIED:
        return "auth"
    return "transport"


def _describe(problem: BaseException | None) -> str:
    if problem is None:
        return "unknown fault"
    if isinstance(problem, WSManFaultError):
        return f"WS-Management fault {problem.wsman_fault_code}: {problem.reason.strip()}"
    if isinstance(problem, WinRMTransportError):
        return f"HTTP {problem.code} from the WinRM service"
    if isinstance(problem, WinRMOperationTimeoutError):
        return "the WinRM service timed out (OperationTimeout)"
    if isinstance(problem, requests.exceptions.SSLError):
        return f"TLS: {_innermost(problem)}"
    if isinstance(problem, requests.exceptions.RequestException):
        return f"{type(problem).__name__}: {_innermost(problem)}"
    if isinstance(problem, WinRMError):
        return f"{type(problem).__name__}: {problem}"
    return f"{type(problem).__name__}: {problem}"


def _innermost(problem: BaseException) -> str:
    """requests wraps urllib3's MaxRetryError, whose `reason` is what actually went wrong."""
    reason = getattr(problem.args[0], "reason", None) if problem.args else None
    while isinstance(reason, BaseException) and reason.args and isinstance(reason.args[0], BaseException):
        reason = reason.args[0]
    if isinstance(reason, BaseException):
        return str(reason) or type(reason).__name__
    return str(problem)
