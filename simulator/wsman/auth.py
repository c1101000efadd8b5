"""Accounts, authentication contexts and MS-WSMV message encryption for the WS-Management server.

NTLM, SPNEGO and CredSSP are accepted through pyspnego's acceptors. pyspnego's NTLM acceptor looks
accounts up in the file named by the process-wide `NTLM_USER_FILE`, so every server of the process
registers its accounts in one shared file (`NtlmUserFile`).
"""

from __future__ import annotations

import atexit
import base64
import binascii
import hmac
import os
import re
import struct
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import spnego
from cryptography import x509
from cryptography.hazmat.primitives import hashes

# pyspnego exposes no public NT-hash helper; the file stores hashes so no password sits on disk.
from spnego._ntlm_raw.crypto import ntowfv1
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import SpnegoError

MECHANISMS = frozenset({"basic", "ntlm", "negotiate", "credssp"})
SPNEGO_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
CREDSSP_PROTOCOL = "application/HTTP-CredSSP-session-encrypted"
BOUNDARY = b"--Encrypted Boundary"
CREDSSP_CHUNK = 16384  # MS-WSMV 2.2.9.1.3: CredSSP seals messages in 16 KiB pieces


class AuthenticationFailed(Exception):
    """The credentials were rejected (HTTP 401). Deliberately carries no detail a log could leak."""


@dataclass(frozen=True)
class Account:
    domain: str  # NetBIOS domain; "" for a local account of the node
    name: str
    password: str = field(repr=False)


class Accounts:
    """The accounts one node accepts, under every spelling Windows accepts for a logon name."""

    def __init__(self, node: str, users: dict[str, str], dns_domains: dict[str, str]) -> None:
        self.node = node
        self._dns = {k.upper(): v.upper() for k, v in dns_domains.items()}
        self._accounts: list[Account] = []
        for given, password in users.items():
            domain, _, name = given.rpartition("\\")
            if not name or "@" in name:
                raise ValueError(f"user {given!r}: write it as DOMAIN\\name or name")
            local = domain in ("", ".") or domain.upper() == node.upper()
            self._accounts.append(Account("" if local else domain, name, password))

    def find(self, given: str) -> Account | None:
        """The account a logon name denotes: DOMAIN\\name, .\\name, name@domain or a bare name."""
        if "\\" in given:
            domain, name = given.split("\\", 1)
            local = domain in ("", ".") or domain.upper() == self.node.upper()
            return self._match(
                name, lambda a: (a.domain == "") if local else a.domain.upper() == domain.upper()
            )
        if "@" in given:
            name, suffix = given.rsplit("@", 1)
            return self._match(
                name, lambda a: suffix.upper() in (a.domain.upper(), self._dns.get(a.domain.upper()))
            )
        return self._match(given, lambda a: a.domain == "") or self._match(given, lambda a: True)

    def _match(self, name: str, domain_ok: Callable[[Account], bool]) -> Account | None:
        found = [a for a in self._accounts if a.name.upper() == name.upper() and domain_ok(a)]
        return found[0] if len(found) == 1 else None

    def verify(self, given: str, password: str) -> Account | None:
        account = self.find(given)
        if account is None or not hmac.compare_digest(account.password.encode(), password.encode()):
            return None
        return account

    def ntlm_spellings(self) -> list[tuple[str, str]]:
        """(logon name as an NTLM AUTHENTICATE message carries it, password) for every account."""
        spellings: list[tuple[str, str]] = []
        for a in self._accounts:
            if a.domain:
                names = [f"{a.domain}\\{a.name}", f"{a.name}@{a.domain}"]
                if a.domain.upper() in self._dns:
                    names.append(f"{a.name}@{self._dns[a.domain.upper()]}")
                if self.find(a.name) is a:
                    names.append(a.name)
            else:
                names = [a.name, f".\\{a.name}", f"{self.node}\\{a.name}"]
            spellings += [(n, a.password) for n in names]
        return spellings


class NtlmUserFile:
    """The process-wide credential file pyspnego's NTLM acceptor reads (append-only, hashes only)."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _path: ClassVar[str | None] = None
    _hashes: ClassVar[dict[str, str]] = {}

    @classmethod
    def register(cls, accounts: Accounts) -> None:
        with cls._lock:
            fresh: dict[str, tuple[str, str]] = {}
            for logon, password in accounts.ntlm_spellings():
                key, nt_hash = logon.upper(), ntowfv1(password).hex().upper()
                if cls._hashes.get(key, nt_hash) != nt_hash:
                    raise ValueError(
                        f"account {logon!r} is already registered in this process with another password; "
                        "NTLM_USER_FILE is process-wide, so servers of one process must agree on it"
                    )
                if key not in cls._hashes:
                    fresh[key] = (logon, nt_hash)
            if cls._path is None:
                fd, cls._path = tempfile.mkstemp(prefix="wsman-ntlm-", suffix=".users")
                os.close(fd)
                atexit.register(os.unlink, cls._path)
            with open(cls._path, "a", encoding="utf-8") as handle:
                # smbpasswd lines: NAME:UID:LM_HASH:NT_HASH:FLAGS:LCT (no LM hash; NTLMv2 needs only NT).
                handle.writelines(
                    f"{logon}:0:{'0' * 32}:{nt_hash}:[U]:LCT-00000000\n" for logon, nt_hash in fresh.values()
                )
            cls._hashes.update({key: nt_hash for key, (_, nt_hash) in fresh.items()})
            os.environ["NTLM_USER_FILE"] = cls._path


def channel_bindings(certificate_der: bytes) -> GssChannelBindings:
    """RFC 5929 tls-server-end-point bindings, hashed the way requests-ntlm and pypsrp hash them."""
    certificate = x509.load_der_x509_certificate(certificate_der)
    algorithm = certificate.signature_hash_algorithm
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(certificate_der)
    return GssChannelBindings(application_data=b"tls-server-end-point:" + digest.finalize())


@dataclass(frozen=True)
class Identity:
    user: str
    auth: str  # "basic" | "ntlm" | "negotiate" | "credssp"
    delegated: bool = False


def basic_identity(header_value: str, accounts: Accounts) -> Identity:
    try:
        user, _, password = base64.b64decode(header_value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise AuthenticationFailed() from exc
    if accounts.verify(user, password) is None:
        raise AuthenticationFailed()
    return Identity(user, "basic")


class SecurityContext:
    """One connection's NTLM/SPNEGO/CredSSP acceptor: the handshake, then message encryption."""

    def __init__(self, auth: str, bindings: GssChannelBindings | None) -> None:
        self.auth = auth
        protocol = "credssp" if auth == "credssp" else "negotiate"
        self._context = spnego.server(channel_bindings=bindings, protocol=protocol)
        self.protocol_string = CREDSSP_PROTOCOL if auth == "credssp" else SPNEGO_PROTOCOL

    @staticmethod
    def kind_of(scheme: str, token: bytes) -> str | None:
        """The mechanism a first token starts, or None when it continues an exchange."""
        if scheme.lower() == "credssp":
            return "credssp" if token[:1] == b"\x16" else None  # a TLS handshake record opens CredSSP
        if token[:8] == b"NTLMSSP\x00" and token[8:12] == b"\x01\x00\x00\x00":
            return "ntlm"
        return "negotiate" if token[:1] == b"\x60" else None

    def step(self, token: bytes) -> bytes | None:
        try:
            return self._context.step(token)
        except (SpnegoError, ValueError, struct.error) as exc:
            raise AuthenticationFailed() from exc

    @property
    def complete(self) -> bool:
        return self._context.complete

    def identity(self, accounts: Accounts) -> Identity:
        """Who completed the handshake, refused unless this node has that account."""
        user = self._context.client_principal or ""
        if accounts.find(user) is None:
            raise AuthenticationFailed()
        if self.auth != "credssp":
            return Identity(user, self.auth)
        delegated = self._context.get_extra_info("client_credential")
        domain = getattr(delegated, "domain_name", "")
        logon = (
            f"{domain}\\{getattr(delegated, 'username', '')}"
            if domain
            else getattr(delegated, "username", "")
        )
        if accounts.verify(logon, getattr(delegated, "password", "")) is not accounts.find(user):
            raise AuthenticationFailed()
        return Identity(user, "credssp", delegated=True)

    def decrypt(self, body: bytes) -> bytes:
        """The SOAP envelope inside a multipart/encrypted (or x-multi-encrypted) body."""
        parts = [p for p in body.split(BOUNDARY + b"\r\n") if p]
        if len(parts) < 2 or len(parts) % 2:
            raise AuthenticationFailed()
        message = b""
        for header, payload in zip(parts[::2], parts[1::2], strict=True):
            length = re.search(rb"Length=(\d+)", header)
            payload = payload.removesuffix(BOUNDARY + b"--\r\n")
            payload = payload.removeprefix(b"\tContent-Type: application/octet-stream\r\n")
            if length is None or len(payload) < 4:
                raise AuthenticationFailed()
            try:
                if self.auth == "credssp":
                    # pywinrm puts the TLS trailer length first, pypsrp the header length; both precede
                    # the complete TLS records.
                    plain = self._context.unwrap(payload[4:]).data
                else:
                    (sig_len,) = struct.unpack("<I", payload[:4])
                    plain = self._context.unwrap_winrm(payload[4 : 4 + sig_len], payload[4 + sig_len :])
            except (SpnegoError, ValueError, struct.error) as exc:
                raise AuthenticationFailed() from exc
            if len(plain) != int(length.group(1)):
                raise AuthenticationFailed()
            message += plain
        return message

    def encrypt(self, message: bytes) -> tuple[str, bytes]:
        """(Content-Type, body) of an encrypted response, chunked for CredSSP as Windows does."""
        chunked = self.auth == "credssp" and len(message) > CREDSSP_CHUNK
        pieces = (
            [message[i : i + CREDSSP_CHUNK] for i in range(0, len(message), CREDSSP_CHUNK)]
            if chunked
            else [message]
        )
        body = b""
        for piece in pieces:
            wrapped = self._context.wrap_winrm(piece)
            body += (
                BOUNDARY + b"\r\n\tContent-Type: " + self.protocol_string.encode() + b"\r\n"
                b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
                + str(len(piece) + wrapped.padding_length).encode()
                + b"\r\n"
                + BOUNDARY
                + b"\r\n\tContent-Type: application/octet-stream\r\n"
                + struct.pack("<I", len(wrapped.header))
                + wrapped.header
                + wrapped.data
            )
        kind = "multipart/x-multi-encrypted" if chunked else "multipart/encrypted"
        content_type = f'{kind};protocol="{self.protocol_string}";boundary="Encrypted Boundary"'
        return content_type, body + BOUNDARY + b"--\r\n"
