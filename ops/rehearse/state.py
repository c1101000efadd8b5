"""The stack state: one JSON file per stack, secrets encrypted at rest, written atomically.

Layout (version 1)::

    {"version": 1,
     "encryption": {"kdf": "scrypt", "salt": "<b64>", "n": 32768, "r": 8, "p": 1, "check": {<envelope>}},
     "resources": [ {urn, type, custom, id, parent, inputs, outputs, dependencies, propertyDependencies,
                     protect, retainOnDelete, deleteBeforeReplace, additionalSecretOutputs, delete}, ... ],
     "pendingOperations": [ {kind: creating|updating|deleting, urn, type, id}, ... ]}

A value that was secret is stored as ``{"ciphertext": "<b64 nonce+AES-GCM ciphertext>", "secure": true}``;
everything else stays readable. The key is derived (scrypt, per-state salt) from a passphrase: the
environment variable ``ENTSSO_STATE_PASSPHRASE`` when set, otherwise the contents of the project's
``.entsso/state.key`` (32 random bytes, created on first use with mode 0600). A record with
``delete: true`` is the old half of a create-before-delete replacement, still to be deleted.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ops.rehearse.model import DYNAMIC_TYPE_PREFIX, urn_name
from ops.rehearse.properties import PropertyMap, Secret, reveal

STATE_VERSION = 1
PASSPHRASE_ENV = "ENTSSO_STATE_PASSPHRASE"  # noqa: S105 (a variable name)
KEY_FILE = Path(".entsso") / "state.key"
_AAD = b"entsso-state/v1"
_CHECK_PLAINTEXT = "entsso-state"
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


class StateError(Exception):
    """The state file cannot be read or decrypted; the message says what to do."""


class PendingKind:
    CREATING = "creating"
    UPDATING = "updating"
    DELETING = "deleting"


@dataclass
class ResourceState:
    urn: str
    type: str
    custom: bool
    id: str = ""
    parent: str = ""
    inputs: PropertyMap = field(default_factory=dict)
    outputs: PropertyMap = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    additional_secret_outputs: list[str] = field(default_factory=list)
    delete: bool = False

    @property
    def name(self) -> str:
        return urn_name(self.urn)

    @property
    def is_dynamic(self) -> bool:
        return self.type.startswith(DYNAMIC_TYPE_PREFIX)

    def depends_on(self) -> set[str]:
        """Every URN this resource needs to exist: dependencies, property dependencies, parent."""
        needed = set(self.dependencies)
        for urns in self.property_dependencies.values():
            needed.update(urns)
        if self.parent:
            needed.add(self.parent)
        needed.discard(self.urn)
        return needed


@dataclass
class PendingOperation:
    """An operation started but not known to have finished (the run may have been killed)."""

    kind: str
    urn: str
    type: str
    id: str = ""


@dataclass
class StackState:
    resources: list[ResourceState] = field(default_factory=list)
    pending_operations: list[PendingOperation] = field(default_factory=list)

    def live(self, urn: str) -> ResourceState | None:
        for record in self.resources:
            if record.urn == urn and not record.delete:
                return record
        return None

    def condemned(self) -> list[ResourceState]:
        return [r for r in self.resources if r.delete]

    def live_resources(self) -> list[ResourceState]:
        return [r for r in self.resources if not r.delete]

    def upsert(self, record: ResourceState) -> None:
        """Put a live record in place of the live one with the same URN, or append it."""
        for index, existing in enumerate(self.resources):
            if existing.urn == record.urn and not existing.delete:
                self.resources[index] = record
                return
        self.resources.append(record)

    def remove(self, record: ResourceState) -> None:
        self.resources = [r for r in self.resources if r is not record]

    def begin(self, operation: PendingOperation) -> None:
        self.pending_operations.append(operation)

    def end(self, operation: PendingOperation) -> None:
        self.pending_operations = [p for p in self.pending_operations if p is not operation]


class StateCipher:
    """AES-256-GCM over JSON values, with a key derived by scrypt from the passphrase and a salt."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def derive(cls, passphrase: bytes, salt: bytes) -> StateCipher:
        kdf = Scrypt(salt=salt, length=32, n=_SCRYPT["n"], r=_SCRYPT["r"], p=_SCRYPT["p"])
        return cls(kdf.derive(passphrase))

    def encrypt(self, value: Any) -> dict[str, Any]:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, json.dumps(value).encode(), _AAD)
        return {"ciphertext": base64.b64encode(nonce + sealed).decode(), "secure": True}

    def decrypt(self, envelope: dict[str, Any]) -> Any:
        raw = base64.b64decode(envelope["ciphertext"])
        return json.loads(self._aead.decrypt(raw[:12], raw[12:], _AAD))


def passphrase_source(project_dir: Path) -> Callable[[bool], bytes]:
    """Where the state passphrase comes from: the env var, else the project's key file.

    The returned function takes `create`: whether a missing key file may be created (only when
    nothing encrypted exists yet, otherwise a fresh key could never open the old state).
    """

    def passphrase(create: bool) -> bytes:
        from_env = os.environ.get(PASSPHRASE_ENV, "")
        if from_env:
            return from_env.encode()
        key_file = project_dir / KEY_FILE
        if key_file.exists():
            return key_file.read_bytes().strip()
        if not create:
            raise StateError(
                f"the state is encrypted but there is no passphrase: set {PASSPHRASE_ENV} or restore {key_file}"
            )
        key_file.parent.mkdir(parents=True, exist_ok=True)
        material = base64.b64encode(secrets.token_bytes(32))
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(material + b"\n")
        return material

    return passphrase


class StateStore:
    """Loads and saves one stack's state file. Not thread-safe: callers serialise `save`."""

    def __init__(self, path: Path, passphrase: Callable[[bool], bytes]) -> None:
        self.path = path
        self._passphrase = passphrase
        self._salt: bytes | None = None
        self._check: dict[str, Any] | None = None
        self._cipher: StateCipher | None = None

    def load(self) -> StackState:
        if not self.path.exists():
            return StackState()
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise StateError(f"cannot read state file {self.path}: {error}") from error
        if document.get("version") != STATE_VERSION:
            raise StateError(f"state file {self.path} has unsupported version {document.get('version')!r}")
        encryption = document.get("encryption")
        if encryption:
            self._salt = base64.b64decode(encryption["salt"])
            self._check = encryption["check"]
        return StackState(
            resources=[self._record_from_json(r) for r in document.get("resources", [])],
            pending_operations=[
                PendingOperation(kind=p["kind"], urn=p["urn"], type=p["type"], id=p.get("id", ""))
                for p in document.get("pendingOperations", [])
            ],
        )

    def unlock(self) -> None:
        """Get the key now (creating the key file if this is a new state), so that a wrong
        passphrase stops a run before it changes anything rather than at its first save."""
        self._ensure_cipher(create=True)

    def save(self, state: StackState) -> None:
        cipher = self._ensure_cipher(create=True)
        assert self._salt is not None
        assert self._check is not None
        document = {
            "version": STATE_VERSION,
            "encryption": {
                "kdf": "scrypt",
                "salt": base64.b64encode(self._salt).decode(),
                **_SCRYPT,
                "check": self._check,
            },
            "resources": [self._record_to_json(r, cipher) for r in state.resources],
            "pendingOperations": [
                {"kind": p.kind, "urn": p.urn, "type": p.type, "id": p.id} for p in state.pending_operations
            ],
        }
        _atomic_write(self.path, json.dumps(document, indent=2, sort_keys=False) + "\n")

    def _ensure_cipher(self, create: bool) -> StateCipher:
        if self._cipher is not None:
            return self._cipher
        if self._salt is None:
            self._salt = secrets.token_bytes(16)
            self._cipher = StateCipher.derive(self._passphrase(create), self._salt)
            self._check = self._cipher.encrypt(_CHECK_PLAINTEXT)
            return self._cipher
        cipher = StateCipher.derive(self._passphrase(False), self._salt)
        try:
            if self._check is None or cipher.decrypt(self._check) != _CHECK_PLAINTEXT:
                raise InvalidTag
        except InvalidTag:
            raise StateError(
                f"cannot decrypt {self.path}: the passphrase ({PASSPHRASE_ENV} or {KEY_FILE}) "
                "is not the one the state was written with"
            ) from None
        self._cipher = cipher
        return cipher

    def _encode(self, value: Any, cipher: StateCipher) -> Any:
        if isinstance(value, Secret):
            return cipher.encrypt(reveal(value))
        if isinstance(value, dict):
            return {k: self._encode(v, cipher) for k, v in value.items()}
        if isinstance(value, list):
            return [self._encode(v, cipher) for v in value]
        return value

    def _decode(self, value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("secure") is True and "ciphertext" in value:
                return Secret(self._ensure_cipher(create=False).decrypt(value))
            return {k: self._decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._decode(v) for v in value]
        return value

    def _record_to_json(self, record: ResourceState, cipher: StateCipher) -> dict[str, Any]:
        return {
            "urn": record.urn,
            "type": record.type,
            "custom": record.custom,
            "id": record.id,
            "parent": record.parent,
            "inputs": self._encode(record.inputs, cipher),
            "outputs": self._encode(record.outputs, cipher),
            "dependencies": record.dependencies,
            "propertyDependencies": record.property_dependencies,
            "protect": record.protect,
            "retainOnDelete": record.retain_on_delete,
            "deleteBeforeReplace": record.delete_before_replace,
            "additionalSecretOutputs": record.additional_secret_outputs,
            "delete": record.delete,
        }

    def _record_from_json(self, data: dict[str, Any]) -> ResourceState:
        return ResourceState(
            urn=data["urn"],
            type=data["type"],
            custom=bool(data.get("custom", True)),
            id=data.get("id", ""),
            parent=data.get("parent", ""),
            inputs=self._decode(data.get("inputs", {})),
            outputs=self._decode(data.get("outputs", {})),
            dependencies=list(data.get("dependencies", [])),
            property_dependencies={k: list(v) for k, v in data.get("propertyDependencies", {}).items()},
            protect=bool(data.get("protect", False)),
            retain_on_delete=bool(data.get("retainOnDelete", False)),
            delete_before_replace=bool(data.get("deleteBeforeReplace", False)),
            additional_secret_outputs=list(data.get("additionalSecretOutputs", [])),
            delete=bool(data.get("delete", False)),
        )


def _atomic_write(path: Path, text: str) -> None:
    """Replace `path` so that a reader (or a crash) sees the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
