"""A pywinrm `Protocol` for one node connection, with certificate pinning where asked for."""

from __future__ import annotations

import threading
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from winrm.protocol import Protocol
from winrm.transport import Transport

from providers.runner_models import NodeConnection, RunnerConfig

_PYWINRM_TRANSPORT = {
    "ntlm": "ntlm",
    "kerberos": "kerberos",
    "credssp": "credssp",
    "basic": "basic",
    "certificate": "certificate",
}


class _FingerprintAdapter(HTTPAdapter):
    """Accepts exactly the server certificate with this SHA-1/SHA-256 fingerprint (urllib3 checks it)."""

    def __init__(self, fingerprint: str) -> None:
        self._fingerprint = fingerprint
        super().__init__()

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["assert_fingerprint"] = self._fingerprint
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


# requests looks proxies up with `no_proxy` by setting and deleting os.environ["no_proxy"] around the
# lookup, without a lock (psf/requests#4997); pywinrm's proxy=None passes no_proxy="*" on every request.
# Two provider threads doing that at once fail one request with KeyError: 'no_proxy'.
_ENVIRONMENT_LOOKUP = threading.Lock()


class _Transport(Transport):
    """pywinrm's Transport, whose session never reads (or writes) the process environment once built.

    pywinrm builds the session with one proxy lookup (serialised here); the session then has
    `trust_env` off before its first request, so requests never touch os.environ again. Proxies stay
    off, as proxy=None asks.
    """

    _holding_lookup: bool = False

    def build_session(self) -> requests.Session:
        if self.session is not None:
            return self.session
        _ENVIRONMENT_LOOKUP.acquire()
        self._holding_lookup = True
        try:
            session = super().build_session()
        finally:
            self._end_lookup()
        session.trust_env = False
        return session

    def setup_encryption(self, session: requests.Session) -> None:
        # Called from inside build_session before its first request (the NTLM handshake): the lookup
        # is over, and the handshake must neither read the environment nor hold the lock.
        session.trust_env = False
        self._end_lookup()
        super().setup_encryption(session)

    def _end_lookup(self) -> None:
        if self._holding_lookup:
            self._holding_lookup = False
            _ENVIRONMENT_LOOKUP.release()


class _PinnedTransport(_Transport):
    """pywinrm's Transport, with the fingerprint adapter mounted before the first request."""

    fingerprint: str = ""

    def _mount(self, session: requests.Session) -> None:
        if not isinstance(session.get_adapter("https://"), _FingerprintAdapter):
            session.mount("https://", _FingerprintAdapter(self.fingerprint))

    def setup_encryption(self, session: requests.Session) -> None:
        self._mount(session)  # message encryption sends its first request from inside build_session
        super().setup_encryption(session)

    def build_session(self) -> requests.Session:
        session = super().build_session()
        self._mount(session)
        return session


def build_protocol(node: NodeConnection, config: RunnerConfig) -> Protocol:
    """A Protocol whose password lives only in its auth layer, and which ignores proxy variables."""
    if node.validation == "validate":
        validation: str | None = "validate"
    elif node.validation == "ignore":
        validation = "ignore"
    else:
        validation = None  # pinned: the adapter checks the fingerprint, not a CA chain
    options: dict[str, Any] = {
        "endpoint": node.endpoint,
        "username": node.username or None,
        "password": node.password.get_secret_value() if node.transport != "certificate" else None,
        "ca_trust_path": str(node.ca_bundle) if node.ca_bundle is not None else None,
        "cert_pem": str(node.client_certificate) if node.client_certificate else None,
        "cert_key_pem": str(node.client_key) if node.client_key else None,
        "server_cert_validation": validation,
        "read_timeout_sec": config.read_timeout_s,
        "message_encryption": "auto",
        "proxy": None,
    }
    protocol = Protocol(
        transport=_PYWINRM_TRANSPORT[node.transport],  # type: ignore[arg-type]
        operation_timeout_sec=config.operation_timeout_s,
        **options,
    )
    if node.validation == "pin" and node.thumbprint is not None:
        pinned = _PinnedTransport(auth_method=_PYWINRM_TRANSPORT[node.transport], **options)  # type: ignore[arg-type]
        pinned.fingerprint = node.thumbprint
        protocol.transport = pinned
    else:
        protocol.transport = _Transport(auth_method=_PYWINRM_TRANSPORT[node.transport], **options)  # type: ignore[arg-type]
    return protocol
