"""Runs the project's PowerShell scripts on Windows nodes over WinRM (docs/contracts.md section 1).

One WinRS shell per resource operation (`WinRmRunner.session`), one command per script
(`RemoteSession.run`): powershell.exe runs the fixed bootstrap given as -EncodedCommand, and the
script and its parameters travel on stdin inside the (message-encrypted or TLS) envelope. The
password stays in the auth layer, parameters stay in the envelope, and the command line holds
nothing but the bootstrap.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
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


class RemoteSession:
    """A shell on one node, opened at the first command and reopened after a transport fault."""

    def __init__(self, runner: WinRmRunner, node: NodeConnection, label: str) -> None:
        self._runner = runner
        self._config = runner.config
        self.node = node
        self.label = label
        self._protocol: Protocol | None = None
        self._shell_id: str | None = None

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
        protocol, shell_id = self._protocol, self._shell_id
        self._protocol = self._shell_id = None
        if protocol is None:
            return
        try:
            if shell_id is not None:
                protocol.close_shell(shell_id)
                logger.debug("%s: shell on %s closed", self.label, self.node.name)
            else:
                protocol.transport.close_session()
        except Exception as problem:  # the shell dies with the connection or the idle timeout anyway
            logger.warning(
                "%s: closing the shell on %s failed: %s", self.label, self.node.name, type(problem).__name__
            )

    # --- one attempt --------------------------------------------------------------------------

    def _attempt(self, operation: str, stdin: bytes, deadline: float) -> tuple[bytes, bytes, int]:
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
        try:
            protocol.cleanup_command(shell_id, command_id)
        except Exception as problem:
            logger.debug("%s: terminate signal failed: %s", self.label, type(problem).__name__)
            self._discard()
        return output

    def _shell(self) -> tuple[Protocol, str]:
        if self._protocol is None:
            self._protocol = self._runner.new_protocol(self.node)
        if self._shell_id is None:
            self._shell_id = self._protocol.open_shell()
            logger.info("%s: shell opened on %s", self.label, self.node.name)
        return self._protocol, self._shell_id

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
        """At the deadline: terminate the command and close its shell."""
        try:
            protocol.cleanup_command(shell_id, command_id)
        except Exception as problem:
            logger.debug("%s: terminate signal failed: %s", self.label, type(problem).__name__)
        self.close()

    def _discard(self) -> None:
        protocol, shell_id = self._protocol, self._shell_id
        self._protocol = self._shell_id = None
        if protocol is None:
            return
        try:
            if shell_id is not None:
                protocol.close_shell(shell_id)
        except Exception:
            protocol.transport.close_session()

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
