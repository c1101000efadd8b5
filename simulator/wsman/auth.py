"""Accounts, authentication contexts and MS-WSMV message encryption for the WS-Management server.

NTLM, SPNEGO and CredSSP are accepted through pyspnego's acceptors. The node keeps NT hashes, never
passwords (`nt_hash`, what a Windows SAM or AD keeps): Basic and CredSSP hash the password the
client sent and compare, and pyspnego's NTLM acceptor reads the hashes from the file named by the
process-wide `NTLM_USER_FILE`. That "file" is an anonymous memory file (`NtlmUserFile`): nothing
password-equivalent reaches a disk, and it vanishes with the process, even after a kill -9.

Three things pyspnego's acceptor does not do as Windows does, and this module adds:
- the CHALLENGE_MESSAGE names pyspnego's host ("WORKSTATION", socket.gethostname()); Windows puts
  the node's own computer and domain names in it (`NodeNames`, MS-NLMP 2.2.1.2 and 3.2.5.1.1);
- channel binding: pyspnego either ignores it or requires it; WinRM's CbtHardeningLevel Relaxed
  checks a token only when the client sent one (`check_channel_binding`);
- Basic is for local accounts only (`basic_identity`).
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import hmac
import os
import re
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import spnego
from cryptography import x509
from cryptography.hazmat.primitives import hashes

# pyspnego has no public API for these: the NT hash, the NTLM messages, the SPNEGO tokens and the
# acceptor's CHALLENGE builder. Pinned in constraints.txt; tests/test_wsman_server.py decodes what a
# real client receives, so a change in pyspnego shows there.
from spnego._ntlm import NTLMProxy
from spnego._ntlm_raw.crypto import ntowfv1
from spnego._ntlm_raw.messages import (
    Authenticate,
    AvId,
    Challenge,
    FileTime,
    NegotiateFlags,
    NTClientChallengeV2,
    TargetInfo,
)
from spnego._spnego import NegTokenInit, NegTokenResp, unpack_token
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import SpnegoError

MECHANISMS = frozenset({"basic", "ntlm", "negotiate", "credssp"})
# winrm/config/service/auth as Windows installs it ("Installation and configuration for Windows Remote
# Management", learn.microsoft.com/windows/win32/winrm/installation-and-configuration-for-windows-remote-management):
# Basic false, Kerberos true, Negotiate true, Certificate false, CredSSP false. Negotiate carries NTLM
# (raw or inside SPNEGO); Kerberos needs a KDC the simulator does not have.
DEFAULT_MECHANISMS = frozenset({"ntlm", "negotiate"})
CbtHardeningLevel = Literal["None", "Relaxed", "Strict"]
CBT_HARDENING_LEVELS: tuple[CbtHardeningLevel, ...] = ("None", "Relaxed", "Strict")
SPNEGO_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
CREDSSP_PROTOCOL = "application/HTTP-CredSSP-session-encrypted"
BOUNDARY = b"--Encrypted Boundary"
CREDSSP_CHUNK = 16384  # MS-WSMV 2.2.9.1.3: CredSSP seals messages in 16 KiB pieces
NT_HASH_BYTES = 16


class AuthenticationFailed(Exception):
    """The credentials were rejected (HTTP 401). Deliberately carries no detail a log could leak."""


def nt_hash(password: str) -> bytes:
    """The NT one-way function: MD4 of the UTF-16LE password (MS-NLMP 3.3.1 NTOWFv1), what Windows keeps."""
    return bytes(ntowfv1(password))


@dataclass(frozen=True)
class Account:
    domain: str  # NetBIOS domain; "" for a local account of the node
    name: str
    nt_hash: bytes = field(repr=False)

    @property
    def local(self) -> bool:
        return not self.domain


class Accounts:
    """The accounts one node accepts, under every spelling Windows accepts for a logon name.

    `users` maps a logon name (DOMAIN\\name, or name / .\\name / NODE\\name for a local account) to its
    NT hash (16 bytes), or to a password, which is hashed at once and not kept.
    """

    def __init__(self, node: str, users: Mapping[str, str | bytes], dns_domains: Mapping[str, str]) -> None:
        self.node = node
        self._dns = {k.upper(): v.upper() for k, v in dns_domains.items()}
        self._accounts: list[Account] = []
        for given, credential in users.items():
            domain, _, name = given.rpartition("\\")
            if not name or "@" in name:
                raise ValueError(f"user {given!r}: write it as DOMAIN\\name or name")
            digest = nt_hash(credential) if isinstance(credential, str) else bytes(credential)
            if len(digest) != NT_HASH_BYTES:
                raise ValueError(f"user {given!r}: an NT hash has {NT_HASH_BYTES} bytes")
            local = domain in ("", ".") or domain.upper() == node.upper()
            self._accounts.append(Account("" if local else domain, name, digest))

    def find(self, given: str) -> Account | None:
        """The account a logon name denotes: DOMAIN\\name, .\\name, name@domain or a bare name."""
        if "\\" in given:
            domain, name = given.split("\\", 1)
            local = domain in ("", ".") or domain.upper() == self.node.upper()
            return self._match(
                name,
                lambda a: a.local
                if local
                else a.domain.upper() == domain.upper() or self._dns.get(a.domain.upper()) == domain.upper(),
            )
        if "@" in given:
            name, suffix = given.rsplit("@", 1)
            return self._match(
                name, lambda a: suffix.upper() in (a.domain.upper(), self._dns.get(a.domain.upper()))
            )
        return self._match(given, lambda a: a.local) or self._match(given, lambda a: True)

    def _match(self, name: str, domain_ok: Callable[[Account], bool]) -> Account | None:
        found = [a for a in self._accounts if a.name.upper() == name.upper() and domain_ok(a)]
        return found[0] if len(found) == 1 else None

    def verify(self, given: str, password: str) -> Account | None:
        account = self.find(given)
        if account is None or not hmac.compare_digest(account.nt_hash, nt_hash(password)):
            return None
        return account

    def resolved(self, account: Account) -> str:
        """DOMAIN\\name as Windows resolves the logon: the NetBIOS domain, or the computer for a local account."""
        return f"{account.domain or self.node}\\{account.name}"

    def ntlm_spellings(self) -> list[tuple[str, bytes]]:
        """(logon name as an NTLM AUTHENTICATE message carries it, NT hash) for every account."""
        spellings: list[tuple[str, bytes]] = []
        for a in self._accounts:
            if a.domain:
                names = [f"{a.domain}\\{a.name}", f"{a.name}@{a.domain}"]
                if a.domain.upper() in self._dns:
                    names += [f"{self._dns[a.domain.upper()]}\\{a.name}", f"{a.name}@{self._dns[a.domain.upper()]}"]
                if self.find(a.name) is a:
                    names.append(a.name)
            else:
                names = [a.name, f".\\{a.name}", f"{self.node}\\{a.name}"]
            spellings += [(n, a.nt_hash) for n in names]
        return spellings


class NtlmUserFile:
    """The process-wide credential store pyspnego's NTLM acceptor reads (append-only, hashes only).

    It lives in an anonymous memory file (memfd_create): the acceptor opens it by the name
    /proc/self/fd/N, and it never exists on a disk, so a SIGKILL leaves nothing behind. Where
    memfd_create is missing (not Linux), a temporary file is unlinked as soon as it is opened and is
    reached through /dev/fd/N instead; the kernel frees it with the process.
    """

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _fd: ClassVar[int | None] = None
    _path: ClassVar[str | None] = None
    _hashes: ClassVar[dict[str, bytes]] = {}

    @classmethod
    def register(cls, accounts: Accounts) -> None:
        with cls._lock:
            fresh: dict[str, tuple[str, bytes]] = {}
            for logon, digest in accounts.ntlm_spellings():
                key = logon.upper()
                if not hmac.compare_digest(cls._hashes.get(key, digest), digest):
                    raise ValueError(
                        f"account {logon!r} is already registered in this process with another password; "
                        "NTLM_USER_FILE is process-wide, so servers of one process must agree on it"
                    )
                if key not in cls._hashes:
                    fresh[key] = (logon, digest)
            fd, path = cls._open()
            # smbpasswd lines: NAME:UID:LM_HASH:NT_HASH:FLAGS:LCT (no LM hash; NTLMv2 needs only NT).
            lines = "".join(
                f"{logon}:0:{'0' * 32}:{digest.hex().upper()}:[U]:LCT-00000000\n"
                for logon, digest in fresh.values()
            )
            os.lseek(fd, 0, os.SEEK_END)
            os.write(fd, lines.encode("utf-8"))
            cls._hashes.update({key: digest for key, (_, digest) in fresh.items()})
            os.environ["NTLM_USER_FILE"] = path

    @classmethod
    def _open(cls) -> tuple[int, str]:
        if cls._fd is None or cls._path is None:
            if hasattr(os, "memfd_create"):
                cls._fd = os.memfd_create("wsman-ntlm-users", os.MFD_CLOEXEC)
                cls._path = f"/proc/self/fd/{cls._fd}"
            else:  # pragma: no cover - not Linux
                handle, name = tempfile.mkstemp(prefix="wsman-ntlm-")
                os.unlink(name)
                cls._fd, cls._path = handle, f"/dev/fd/{handle}"
        return cls._fd, cls._path


def channel_bindings(certificate_der: bytes) -> GssChannelBindings:
    """RFC 5929 tls-server-end-point bindings, hashed the way requests-ntlm and pypsrp hash them."""
    certificate = x509.load_der_x509_certificate(certificate_der)
    algorithm = certificate.signature_hash_algorithm
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(certificate_der)
    return GssChannelBindings(application_data=b"tls-server-end-point:" + digest.finalize())


def check_channel_binding(token: bytes, bindings: GssChannelBindings, level: CbtHardeningLevel) -> None:
    """Apply CbtHardeningLevel to an NTLM AUTHENTICATE message (raw or inside SPNEGO); other tokens pass.

    WinRM's CbtHardeningLevel: "None" does not check, "Relaxed" (Windows' default) checks a channel
    binding token the client sent but accepts a client that sent none, "Strict" requires one that
    matches (MS-WSMV 3.1.4.1.29.2; docs.ansible.com os_guide/windows_winrm, CbtHardeningLevel). An
    NTLMv2 client sends the token as the MsvAvChannelBindings AV pair, MD5 of the bindings, and all
    zeros when it has none (MS-NLMP 2.2.2.1). The pair is covered by the NTProofStr, which pyspnego's
    acceptor then verifies, so a token a client did not send cannot be spliced in.
    """
    if level == "None":
        return
    authenticate = _ntlm_authenticate(token)
    if authenticate is None:
        return
    sent = b""
    response = authenticate.nt_challenge_response or b""
    if len(response) > 24:  # NTLMv2: NTProofStr (16 bytes), then the client challenge with the AV pairs
        try:
            pairs = NTClientChallengeV2.unpack(response[16:]).av_pairs
        except (ValueError, struct.error) as exc:
            raise AuthenticationFailed() from exc
        sent = bytes(pairs.get(AvId.channel_bindings, b""))
    absent = not sent or sent == b"\x00" * 16
    if absent:
        if level == "Strict":
            raise AuthenticationFailed()
        return
    expected = hashes.Hash(hashes.MD5())  # noqa: S303 - MS-NLMP fixes MD5 for MsvAvChannelBindings
    expected.update(bindings.pack())
    if not hmac.compare_digest(sent, expected.finalize()):
        raise AuthenticationFailed()


def _ntlm_authenticate(token: bytes) -> Authenticate | None:
    raw: bytes | None = token
    if not token.startswith(b"NTLMSSP\x00"):
        try:
            message: Any = unpack_token(token)
        except (ValueError, struct.error, SpnegoError):
            return None
        if isinstance(message, NegTokenResp):
            raw = message.response_token
        elif isinstance(message, NegTokenInit):
            raw = message.mech_token
        else:
            raw = None
    if raw is None or not raw.startswith(b"NTLMSSP\x00") or raw[8:12] != b"\x03\x00\x00\x00":
        return None
    try:
        return Authenticate.unpack(raw)
    except (ValueError, struct.error) as exc:
        raise AuthenticationFailed() from exc


@dataclass(frozen=True)
class NodeNames:
    """The names a node's NTLM CHALLENGE_MESSAGE carries (MS-NLMP 2.2.1.2, AV_PAIR 2.2.2.1).

    For a domain member, MS-NLMP 3.2.5.1.1: TargetName is the NetBIOS domain name with
    NTLMSSP_TARGET_TYPE_DOMAIN set, and TargetInfo holds MsvAvNbDomainName, MsvAvNbComputerName,
    MsvAvDnsDomainName, MsvAvDnsComputerName, MsvAvDnsTreeName (the forest; a one-domain forest here)
    and MsvAvTimestamp, in the order Windows sends them. In a workgroup the computer is its own
    "domain": every name is the computer's and TargetName is the computer name (TARGET_TYPE_SERVER).
    """

    computer: str  # NetBIOS computer name, e.g. MSSNODE1
    domain: str | None = None  # NetBIOS domain name, e.g. CORP; None in a workgroup
    dns_domain: str | None = None  # e.g. corp.contoso.test

    @property
    def dns_computer(self) -> str:
        return f"{self.computer}.{self.dns_domain}" if self.dns_domain else self.computer

    def target_info(self) -> TargetInfo:
        info = TargetInfo()
        info[AvId.nb_domain_name] = self.domain or self.computer
        info[AvId.nb_computer_name] = self.computer
        info[AvId.dns_domain_name] = self.dns_domain or self.computer
        info[AvId.dns_computer_name] = self.dns_computer
        if self.dns_domain:
            info[AvId.dns_tree_name] = self.dns_domain
        info[AvId.timestamp] = FileTime.now()
        return info

    def challenge(self, original: Challenge) -> Challenge:
        """`original` (pyspnego's) with this node's names: same flags, server challenge and version."""
        flags = original.flags & ~(NegotiateFlags.target_type_server | NegotiateFlags.target_type_domain)
        flags |= NegotiateFlags.target_type_domain if self.domain else NegotiateFlags.target_type_server
        return Challenge(
            flags,
            original.server_challenge,
            target_name=self.domain or self.computer,
            target_info=self.target_info(),
            version=original.version,
        )


_NODE_NAMES: contextvars.ContextVar[NodeNames | None] = contextvars.ContextVar("wsman_node_names", default=None)


def _install_node_names() -> None:
    """Make pyspnego's NTLM acceptor put the serving node's names in its CHALLENGE_MESSAGE.

    The acceptor is created inside pyspnego (also by its SPNEGO acceptor), so the names travel in a
    context variable set around each step (`SecurityContext.step`); without one, pyspnego is unchanged.
    The rebuilt challenge also replaces the one the acceptor keeps, so the MIC it checks covers what
    the client received.
    """
    original = NTLMProxy._step_accept_negotiate
    if getattr(original, "_names_the_node", False):
        return

    def step_accept_negotiate(self: NTLMProxy, token: bytes) -> bytes:
        packed: bytes = original(self, token)
        names = _NODE_NAMES.get()
        if names is None:
            return packed
        if self._temp_challenge is None:  # pyspnego always keeps it after building a challenge
            return packed
        rebuilt = names.challenge(self._temp_challenge)
        self._temp_challenge = rebuilt
        return bytes(rebuilt.pack())

    step_accept_negotiate._names_the_node = True  # type: ignore[attr-defined]
    NTLMProxy._step_accept_negotiate = step_accept_negotiate  # type: ignore[method-assign]


_install_node_names()


@contextmanager
def _serving(names: NodeNames) -> Iterator[None]:
    token = _NODE_NAMES.set(names)
    try:
        yield
    finally:
        _NODE_NAMES.reset(token)


@dataclass(frozen=True)
class Identity:
    user: str  # the logon name as the client gave it
    auth: str  # "basic" | "ntlm" | "negotiate" | "credssp"
    account: str  # DOMAIN\\name as Windows resolved it (the computer name for a local account)
    delegated: bool = False


def basic_identity(header_value: str, accounts: Accounts) -> Identity:
    """Basic: local accounts only (ConnectionOptions.UserName, learn.microsoft.com/windows/win32/winrm/
    connectionoptions-username: "... or for a local account with Basic authentication"). A domain
    account is refused like a wrong password, HTTP 401 (docs.ansible.com os_guide/windows_setup, "HTTP
    401/Credentials Rejected": "Domain accounts do not work with Basic and Certificate authentication").
    """
    try:
        user, _, password = base64.b64decode(header_value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise AuthenticationFailed() from exc
    account = accounts.verify(user, password)
    if account is None or not account.local:
        raise AuthenticationFailed()
    return Identity(user, "basic", accounts.resolved(account))


class SecurityContext:
    """One connection's NTLM/SPNEGO/CredSSP acceptor: the handshake, then message encryption."""

    def __init__(
        self,
        auth: str,
        names: NodeNames,
        bindings: GssChannelBindings | None = None,
        cbt_hardening_level: CbtHardeningLevel = "Relaxed",
    ) -> None:
        self.auth = auth
        self._names = names
        self._bindings = bindings
        self._level = cbt_hardening_level
        protocol = "credssp" if auth == "credssp" else "negotiate"
        # pyspnego gets no bindings: it would require them (Strict); check_channel_binding applies the level.
        self._context = spnego.server(protocol=protocol)
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
        if self._bindings is not None and self.auth != "credssp":
            check_channel_binding(token, self._bindings, self._level)
        try:
            with _serving(self._names):
                return self._context.step(token)
        except (SpnegoError, ValueError, struct.error) as exc:
            raise AuthenticationFailed() from exc

    @property
    def complete(self) -> bool:
        return self._context.complete

    def identity(self, accounts: Accounts) -> Identity:
        """Who completed the handshake, refused unless this node has that account."""
        user = self._context.client_principal or ""
        account = accounts.find(user)
        if account is None:
            raise AuthenticationFailed()
        if self.auth != "credssp":
            return Identity(user, self.auth, accounts.resolved(account))
        delegated = self._context.get_extra_info("client_credential")
        domain = getattr(delegated, "domain_name", "")
        logon = (
            f"{domain}\\{getattr(delegated, 'username', '')}"
            if domain
            else getattr(delegated, "username", "")
        )
        if accounts.verify(logon, getattr(delegated, "password", "")) is not account:
            raise AuthenticationFailed()
        return Identity(user, "credssp", accounts.resolved(account), delegated=True)

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
