"""How the runner reaches one Windows node: endpoint, authentication, TLS trust, timeouts, retries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

Transport = Literal["ntlm", "kerberos", "credssp", "basic", "certificate"]
Validation = Literal["validate", "pin", "ignore"]

_HEX = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


class NodeConnection(BaseModel):
    """One node's WinRM endpoint and the credentials and trust to use it with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="computer name, for messages (e.g. MSSNODE1)")
    endpoint: str = Field(description="https://host:5986/wsman, or http:// only with allow_http")
    transport: Transport = "ntlm"
    username: str = ""
    password: SecretStr = SecretStr("")
    validation: Validation = "validate"
    ca_bundle: Path | None = Field(default=None, description="PEM CA bundle for validation=validate")
    thumbprint: str | None = Field(
        default=None, description="SHA-1 or SHA-256 of the server certificate (pin)"
    )
    client_certificate: Path | None = None
    client_key: Path | None = None
    allow_insecure: bool = Field(default=False, description="permits validation=ignore (the simulator)")
    allow_http: bool = Field(default=False, description="permits plain http endpoints (the simulator)")

    @field_validator("thumbprint")
    @classmethod
    def _normalise_thumbprint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = re.sub(r"[\s:]", "", value).lower()
        if not _HEX.match(digits):
            raise ValueError(
                "thumbprint must be the SHA-1 (40 hex digits) or SHA-256 (64) of the certificate"
            )
        return digits

    @model_validator(mode="after")
    def _check(self) -> NodeConnection:
        url = urlsplit(self.endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"endpoint {self.endpoint!r} is not an http(s)://host:port/wsman URL")
        https = url.scheme == "https"
        if not https and not self.allow_http:
            raise ValueError(
                f"endpoint {self.endpoint} is plain http: WinRM over http is refused unless allow_http is "
                "set (meant for the local simulator); use an https:// listener"
            )
        if self.validation == "pin" and self.thumbprint is None:
            raise ValueError("validation=pin needs the thumbprint of the node's WinRM certificate")
        if self.thumbprint is not None and self.validation != "pin":
            raise ValueError("a thumbprint is only used with validation=pin")
        if self.validation == "ignore" and https and not self.allow_insecure:
            raise ValueError("validation=ignore accepts any certificate: set allow_insecure (simulator only)")
        if self.ca_bundle is not None and self.validation != "validate":
            raise ValueError("ca_bundle is only used with validation=validate")
        if self.transport == "certificate":
            if not https or self.client_certificate is None or self.client_key is None:
                raise ValueError("transport=certificate needs https and client_certificate plus client_key")
        elif not self.username:
            raise ValueError(f"transport={self.transport} needs a username")
        return self

    @property
    def https(self) -> bool:
        return self.endpoint.lower().startswith("https:")


class RunnerConfig(BaseModel):
    """Timeouts and retry policy of the runner."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    operation_timeout_s: int = Field(default=20, ge=1, description="WS-Man OperationTimeout of one request")
    read_timeout_s: int = Field(default=30, ge=2, description="HTTP read timeout; above operation_timeout_s")
    deadline_s: float = Field(default=900.0, gt=0, description="one script, retries included")
    retry_attempts: int = Field(
        default=4, ge=1, description="attempts in all, for transient transport faults"
    )
    backoff_initial_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    backoff_jitter_s: float = Field(default=1.0, ge=0)
    stdin_chunk_bytes: int = Field(
        default=65536, ge=1024, description="stdin per Send (MaxEnvelopeSize 150 KiB)"
    )

    @model_validator(mode="after")
    def _check(self) -> RunnerConfig:
        if self.read_timeout_s <= self.operation_timeout_s:
            raise ValueError(
                "read_timeout_s must exceed operation_timeout_s (the server may hold a Receive that long)"
            )
        return self
