"""A WS-Management endpoint for one simulated Windows node, on 127.0.0.1.

HTTP/1.1 keep-alive (NTLM authenticates the TCP connection), TCP_NODELAY, optional TLS. The order of
checks follows the WinRM service: URL, request size, authentication, message protection, then SOAP.

Unless told otherwise the listener has the WinRM service's default configuration ("Installation and
configuration for Windows Remote Management", learn.microsoft.com/windows/win32/winrm/
installation-and-configuration-for-windows-remote-management, the `winrm get winrm/config` defaults):

    Service/Auth/Basic        false     `mechanisms` (DEFAULT_MECHANISMS: Negotiate, i.e. NTLM and SPNEGO)
    Service/Auth/CredSSP      false     `mechanisms`
    Service/Auth/Negotiate    true      `mechanisms`
    Service/Auth/CbtHardeningLevel Relaxed   `cbt_hardening_level`
    Service/AllowUnencrypted  false     `allow_unencrypted`
    MaxEnvelopeSizekb         500       `max_envelope_size_kb`

A test or a stack that needs another setting passes it, as an administrator would run `winrm set`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from simulator.wsman import soap
from simulator.wsman.auth import (
    CBT_HARDENING_LEVELS,
    DEFAULT_MECHANISMS,
    MECHANISMS,
    Accounts,
    AuthenticationFailed,
    CbtHardeningLevel,
    Identity,
    NodeNames,
    NtlmUserFile,
    SecurityContext,
    basic_identity,
    channel_bindings,
)
from simulator.wsman.backend import Session, ShellBackend
from simulator.wsman.shells import Counters, DropConnection, ShellHost

log = logging.getLogger(__name__)

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"


@dataclass(frozen=True)
class TlsMaterial:
    """PEM certificate chain (server certificate first) and private key of an HTTPS listener."""

    certificate_chain_pem: bytes
    private_key_pem: bytes


class Unauthorized(Exception):
    def __init__(self, challenges: list[str]) -> None:
        super().__init__("401")
        self.challenges = challenges


class WsManServer:
    """The WinRM service of one node: WinRS shells over HTTP or HTTPS."""

    def __init__(
        self,
        node: str,
        backend: ShellBackend,
        users: Mapping[str, str | bytes],
        *,
        mechanisms: Iterable[str] = DEFAULT_MECHANISMS,
        tls: TlsMaterial | None = None,
        allow_unencrypted: bool = False,
        cbt_hardening_level: CbtHardeningLevel = "Relaxed",
        domain: str | None = None,
        dns_domains: Mapping[str, str] | None = None,
        max_envelope_size_kb: int = 500,
        port: int = 0,
    ) -> None:
        """`users`: logon name -> NT hash (or a password, hashed at once; see auth.Accounts).

        `domain` is the NetBIOS name of the domain the node is joined to (None: a workgroup); its DNS
        name comes from `dns_domains` (NetBIOS -> DNS name of every domain whose accounts log on here).
        """
        self.node = node
        self.backend = backend
        self.mechanisms = frozenset(mechanisms)
        if not self.mechanisms <= MECHANISMS:
            raise ValueError(f"unknown auth mechanisms {sorted(self.mechanisms - MECHANISMS)}")
        if cbt_hardening_level not in CBT_HARDENING_LEVELS:
            raise ValueError(f"CbtHardeningLevel is one of {', '.join(CBT_HARDENING_LEVELS)}")
        self.cbt_hardening_level = cbt_hardening_level
        dns = {k.upper(): v for k, v in (dns_domains or {}).items()}
        if domain is not None and domain.upper() not in dns:
            raise ValueError(f"domain {domain!r} needs its DNS name in dns_domains")
        self.names = NodeNames(node.upper(), domain.upper() if domain else None, dns.get((domain or "").upper()))
        self.accounts = Accounts(node, dict(users), dns)
        if self.mechanisms - {"basic"}:
            NtlmUserFile.register(self.accounts)
        self.allow_unencrypted = allow_unencrypted
        offers = {
            "Negotiate": {"ntlm", "negotiate"},
            'Basic realm="WSMAN"': {"basic"},
            "CredSSP": {"credssp"},
        }
        self.challenges = [offer for offer, needs in offers.items() if needs & self.mechanisms]
        self.max_envelope_bytes = max_envelope_size_kb * 1024
        self.counters = Counters()
        self.shells = ShellHost(backend, self.counters)
        self.tls_context: ssl.SSLContext | None = None
        self.bindings = None
        if tls is not None:
            self.tls_context = _server_context(tls)
            # Channel binding exists only over TLS: it binds the authentication to this certificate.
            self.bindings = channel_bindings(ssl.PEM_cert_to_DER_cert(tls.certificate_chain_pem.decode()))
        self._httpd = _HttpServer(("127.0.0.1", port), self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls_context else "http"
        return f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}/wsman"

    def start(self) -> WsManServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"wsman-{self.node}"
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; returns once all request threads have ended."""
        self.shells.close()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.close_connections()
        self._httpd.server_close()

    def drop_shells(self) -> None:
        """Forget every shell, as a reboot of the node does."""
        self.shells.drop_all()

    def __enter__(self) -> WsManServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def dispatch(self, request: soap.Request, session: Session, client_ip: str) -> bytes:
        """Run one SOAP request against the shells; faults propagate as soap.WsManFault."""
        self.counters.record("actions", request.action)
        if request.resource_uri.lower() != soap.SHELL_CMD_URI.lower():
            raise soap.resource_not_found()
        envelope = request.max_envelope_size or self.max_envelope_bytes
        if envelope < soap.MIN_ENVELOPE_SIZE:
            raise soap.envelope_too_small()
        mid, shell_id = request.message_id, request.shell_id
        if request.action == "Create":
            new_id = self.shells.create(session.user)
            return soap.create_response(mid, self.url, new_id, session.user, client_ip)
        if request.action not in ("Command", "Send", "Receive", "Signal", "Delete"):
            raise soap.action_not_supported(request.action)
        if not shell_id:
            raise soap.invalid_selector_value()
        if request.action == "Command":
            command, arguments = soap.command_line(request.body)
            return soap.command_response(mid, self.shells.command(session, shell_id, command, arguments))
        if request.action == "Send":
            self.shells.send(shell_id, soap.send_input(request.body))
            return soap.send_response(mid)
        if request.action == "Receive":
            budget = (min(envelope, self.max_envelope_bytes) - soap.RECEIVE_OVERHEAD) // 4 * 3
            command_id = soap.receive_command_id(request.body)
            stdout, stderr, exit_code = self.shells.receive(
                shell_id, command_id, request.operation_timeout, budget
            )
            return soap.receive_response(mid, command_id, stdout, stderr, exit_code)
        if request.action == "Signal":
            self.shells.signal(shell_id, *soap.signal(request.body))
            return soap.signal_response(mid)
        self.shells.delete(shell_id)
        return soap.delete_response(mid)


def _server_context(tls: TlsMaterial) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # load_cert_chain reads only files; the key lives on disk just for this call.
    folder = Path(tempfile.mkdtemp(prefix="wsman-tls-"))
    try:
        (folder / "cert.pem").write_bytes(tls.certificate_chain_pem)
        (folder / "key.pem").write_bytes(tls.private_key_pem)
        context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    finally:
        shutil.rmtree(folder)
    return context


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins request threads, so none outlives stop()

    def __init__(self, address: tuple[str, int], wsman: WsManServer) -> None:
        self.wsman = wsman
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        sock, address = self.socket.accept()
        if self.wsman.tls_context is not None:
            # The handshake runs in the request thread, so a slow client cannot stall accept().
            sock = self.wsman.tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._connections_lock:
            self._connections.add(sock)
        return sock, address

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            for sock in self._connections:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        self.security: SecurityContext | None = None  # NTLM/CredSSP authenticate the connection
        self.identity: Identity | None = None
        self.final_token: str | None = None

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.client_address[0], *args)

    def do_POST(self) -> None:
        wsman = self.server.wsman
        wsman.counters.add("http_requests")
        tls = wsman.tls_context is not None
        if tls:
            wsman.counters.add("tls_requests")
        delay = wsman.backend.request_delay()
        if delay > 0:
            time.sleep(delay)
        length = int(self.headers.get("Content-Length") or 0)
        if length > wsman.max_envelope_bytes:
            # Over MaxEnvelopeSizekb: HTTP 413, which clients report as the MaxEnvelopeSize quota.
            # The body is drained first so the client reads the answer rather than a broken pipe.
            remaining = length
            while remaining > 0 and (chunk := self.rfile.read(min(65536, remaining))):
                remaining -= len(chunk)
            self.close_connection = True  # the client sealed a message the server never unsealed
            self._reply(413, b"")
            return
        body = self.rfile.read(length)
        if self.path.split("?", 1)[0].rstrip("/").lower() != "/wsman":
            self._reply(404, b"")
            return
        try:
            identity = self._authenticate(tls)
        except Unauthorized as refusal:
            self._reply(401, b"", challenges=refusal.challenges)
            return
        self._serve(identity, body, tls)

    def _authenticate(self, tls: bool) -> Identity:
        wsman = self.server.wsman
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        refuse = Unauthorized(wsman.challenges)
        self.final_token = None
        if scheme.lower() == "basic":
            self.security = self.identity = None
            # Basic=false, or Basic over HTTP with AllowUnencrypted=false: HTTP 401, what the WinRM
            # service answers (docs.ansible.com os_guide/windows_setup, "HTTP 401/Credentials Rejected").
            if "basic" not in wsman.mechanisms or not (tls or wsman.allow_unencrypted):
                raise refuse
            try:
                return basic_identity(value.strip(), wsman.accounts)
            except AuthenticationFailed:
                raise refuse from None
        if scheme.lower() in ("negotiate", "ntlm", "credssp"):
            return self._step_context(scheme, value.strip(), refuse)
        if not scheme and self.security is not None and self.identity is not None:
            return self.identity
        raise refuse

    def _step_context(self, scheme: str, value: str, refuse: Unauthorized) -> Identity:
        wsman = self.server.wsman
        try:
            token = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise refuse from None
        kind = SecurityContext.kind_of(scheme, token)
        if kind is not None:
            if kind not in wsman.mechanisms:
                raise refuse
            self.security = SecurityContext(kind, wsman.names, wsman.bindings, wsman.cbt_hardening_level)
            self.identity = None
        if self.security is None or self.identity is not None:
            raise refuse
        try:
            out = self.security.step(token)
            if not self.security.complete:
                raise Unauthorized([f"{scheme} {base64.b64encode(out or b'').decode()}"])
            self.identity = self.security.identity(wsman.accounts)
        except AuthenticationFailed:
            self.security = self.identity = None
            raise refuse from None
        if out:
            self.final_token = f"{scheme} {base64.b64encode(out).decode()}"
        return self.identity

    def _serve(self, identity: Identity, body: bytes, tls: bool) -> None:
        wsman = self.server.wsman
        if not body:
            self._reply(200, b"")  # the empty POST that sets up message encryption
            return
        encrypted = self.headers.get("Content-Type", "").lower().startswith("multipart/")
        if encrypted:
            if self.security is None:
                self._reply(400, b"")
                return
            try:
                xml = self.security.decrypt(body)
            except AuthenticationFailed:
                self._reply(400, b"")
                return
            wsman.counters.add("encrypted_messages")
        else:
            if not tls:
                wsman.counters.add("plaintext_messages")
                if not wsman.allow_unencrypted:
                    # AllowUnencrypted=false: the WinRM service answers 500 and logs that it received an
                    # unencrypted message (diyan/pywinrm#129).
                    self._reply(500, b"")
                    return
            xml = body
        session = Session(
            wsman.node, identity.user, identity.auth, tls or encrypted, identity.delegated, identity.account
        )
        relates_to = ""
        try:
            request = soap.parse_request(xml)
            relates_to = request.message_id
            status, answer = 200, wsman.dispatch(request, session, self.client_address[0])
        except soap.WsManFault as fault:
            status, answer = 500, soap.fault_response(fault, relates_to, wsman.node)
        except DropConnection:
            self._drop()
            return
        except Exception:
            # A backend bug must not look like a network reset; the client sees an internal error.
            log.exception("WS-Man request on %s failed", wsman.node)
            status, answer = 500, soap.fault_response(soap.internal_error(), relates_to, wsman.node)
        self._reply(status, answer, encrypt=encrypted)

    def _reply(
        self,
        status: int,
        body: bytes,
        *,
        challenges: Iterable[str] = (),
        encrypt: bool = False,
    ) -> None:
        content_type = SOAP_CONTENT_TYPE
        if encrypt and body and self.security is not None:
            content_type, body = self.security.encrypt(body)
        self.send_response(status)
        for challenge in challenges:
            self.send_header("WWW-Authenticate", challenge)
        if self.final_token:
            self.send_header("WWW-Authenticate", self.final_token)
            self.final_token = None
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        """Reset the connection: RST instead of an answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
