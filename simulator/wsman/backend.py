"""The interface between the WS-Management server and the simulated shell (docs/contracts.md, section 2).

`simulator/wsman` calls a `ShellBackend`; `simulator/shell` implements it. Change this file only
together with every side that depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Session:
    """What the server knows about the caller."""

    node: str  # the node this endpoint serves, e.g. "MSSNODE1"
    user: str  # authenticated user as given, e.g. "CORP\\svc-install"
    auth: str  # "basic" | "ntlm" | "negotiate" | "credssp" | "certificate"
    encrypted: bool  # TLS or NTLM/CredSSP message encryption
    delegated: bool  # True only for CredSSP (credentials delegated to the node)
    # The account Windows resolved the logon to, DOMAIN\\name with the NetBIOS domain (the computer
    # name for a local account): what `whoami` prints, lower-cased. "" when the caller does not say.
    account: str = ""


@dataclass
class Directive:
    """Fault and latency decisions for one command, taken before it runs."""

    reset_before: bool = False  # drop the TCP connection on Command; the command never runs
    http_500: bool = False  # answer the Command with HTTP 500 (an internal error fault)
    timeouts: int = 0  # OperationTimeout faults on Receive before the output is delivered
    hang: bool = False  # never completes: every Receive times out
    reset_after: bool = False  # run it, then drop the connection on the Receive that would deliver
    duration: float = 0.0  # seconds the command takes (Receive waits, up to OperationTimeout)


@dataclass
class Outcome:
    stdout: bytes
    stderr: bytes
    exit_code: int


class PreparedCommand(Protocol):
    directive: Directive
    operation: str | None  # the envelope's operation, when the command is the bootstrap

    def execute(self) -> Outcome:  # runs once, at most
        ...


class ShellBackend(Protocol):
    def prepare(
        self, session: Session, command: str, arguments: list[str], stdin: bytes
    ) -> PreparedCommand: ...

    def request_delay(self) -> float:  # round-trip delay to add to every HTTP request
        ...
