"""The master secret: per node under HKLM\\SOFTWARE\\Microsoft\\ENTSSO\\SSOSS, and its backup file.

The layout (implements F-SSO-04, F-SSO-05): SSOSS holds one subkey per master secret, named by its MSID (a
GUID in braces: documented). The value names are the simulator's assumption, since no public source
names them: `CurrentMSID` on SSOSS, and on each secret's subkey the encrypted secret (`Secret`, with the
service account it is encrypted for, `Account`: the simulator's stand-in for the encryption) and
`PreviousMSID` only when there was a previous secret. Scripts must read them defensively.

A backup file holds the secret encrypted with a key derived from the backup password (AES-GCM over
PBKDF2), so a wrong password is detected the way ENTSSO detects it and the escrowed bytes never
hold the secret in clear.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from simulator.world.model import SSOSS_KEY, Node, key

MAGIC = b"ENTSSO-BACKUP-1\n"
_ITERATIONS = 20_000


@dataclass(frozen=True)
class MasterSecret:
    secret_id: str  # MSID, a GUID in braces as ENTSSO names the SSOSS subkey
    secret: bytes
    previous_id: str = ""

    def __repr__(self) -> str:  # the secret never reaches a log or an assertion message
        return f"MasterSecret(secret_id={self.secret_id!r})"


class WrongPassword(Exception):
    pass


class NotABackup(Exception):
    pass


def generate() -> MasterSecret:
    return MasterSecret("{" + str(uuid.uuid4()).upper() + "}", os.urandom(32))


def current(node: Node) -> MasterSecret | None:
    msid = (node.registry_key(SSOSS_KEY) or {}).get("CurrentMSID", "")
    values = node.registry_key(f"{SSOSS_KEY}\\{msid}") if msid else None
    if values is None:
        return None
    return MasterSecret(msid, base64.b64decode(values["Secret"]), values.get("PreviousMSID", ""))


def store(node: Node, secret: MasterSecret, account: str) -> None:
    """Write the secret under SSOSS, bound to the service account that will decrypt it (esso.md pitfall 3)."""
    previous = current(node)
    previous_id = (
        previous.secret_id if previous and previous.secret_id != secret.secret_id else secret.previous_id
    )
    values = {"Secret": base64.b64encode(secret.secret).decode("ascii"), "Account": account}
    if previous_id:
        # implements F-SSO-05 (assumed names): a fresh master has no previous secret, and no value for it.
        values["PreviousMSID"] = previous_id
    node.registry[key(f"{SSOSS_KEY}\\{secret.secret_id}")] = values
    node.registry.setdefault(key(SSOSS_KEY), {})["CurrentMSID"] = secret.secret_id


def _key(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, _ITERATIONS)


def backup_bytes(secret: MasterSecret, password: str, reminder: str) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    header = {"reminder": reminder, "salt": salt.hex(), "nonce": nonce.hex()}
    payload = json.dumps(
        {"id": secret.secret_id, "previous": secret.previous_id, "secret": secret.secret.hex()}
    )
    sealed = AESGCM(_key(password, salt)).encrypt(nonce, payload.encode("utf-8"), MAGIC)
    return MAGIC + json.dumps(header).encode("utf-8") + b"\n" + sealed


def _split(content: bytes) -> tuple[dict[str, str], bytes]:
    if not content.startswith(MAGIC) or b"\n" not in content[len(MAGIC) :]:
        raise NotABackup
    header_line, sealed = content[len(MAGIC) :].split(b"\n", 1)
    try:
        header = json.loads(header_line)
    except ValueError:
        raise NotABackup from None
    return header, sealed


def reminder(content: bytes) -> str:
    header, _ = _split(content)
    return str(header.get("reminder", ""))


def open_backup(content: bytes, password: str) -> MasterSecret:
    header, sealed = _split(content)
    try:
        payload = AESGCM(_key(password, bytes.fromhex(header["salt"]))).decrypt(
            bytes.fromhex(header["nonce"]), sealed, MAGIC
        )
    except InvalidTag:
        raise WrongPassword from None
    data = json.loads(payload)
    return MasterSecret(data["id"], bytes.fromhex(data["secret"]), data.get("previous", ""))
