"""A pywinrm `Protocol` for one node connection, with certificate pinning where asked for."""

from __future__ import annotations

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


class _PinnedTransport(Transport):
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
        transport = _PinnedTransport(auth_method=_PYWINRM_TRANSPORT[node.transport], **options)  # type: ignore[arg-type]
        transport.fingerprint = node.thumbprint
        protocol.transport = transport
    return protocol
