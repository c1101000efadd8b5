"""Reading `secure:` values of a passphrase stack, as the Pulumi CLI decrypts them.

Pulumi's passphrase secrets provider (pulumi/pulumi pkg/secrets/passphrase/manager.go and
sdk/go/common/resource/config/crypt.go): the stack file's `encryptionsalt` is
`v1:<base64 salt>:<ciphertext of "pulumi">`; the key is PBKDF2-HMAC-SHA256 of the passphrase over
that salt, 1,000,000 iterations, 32 bytes; each value is `v1:<base64 nonce>:<base64 AES-256-GCM
ciphertext and tag>`. A wrong passphrase fails on the salt's "pulumi" check, as the CLI's does.
tests/test_engine.py checks this reader against the CLI's own `pulumi config get`.

Only simulator stacks are decrypted when their settings are loaded (`settings.load_stack_file`):
with PULUMI_CONFIG_PASSPHRASE / PULUMI_CONFIG_PASSPHRASE_FILE if set and it opens the stack, else
with the published sample passphrase below, which protects nothing real.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SAMPLE_PASSPHRASE = "entsso-sim-sample-passphrase"  # noqa: S105 (published with the sim stack; protects nothing)
PBKDF2_ITERATIONS = 1_000_000
KEY_BYTES = 32


class DecryptError(ValueError):
    """A value or salt that is not Pulumi's v1 format, or a passphrase that does not open it."""


@functools.lru_cache(maxsize=8)
def _key(passphrase: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, PBKDF2_ITERATIONS, KEY_BYTES)


def _decrypt(key: bytes, value: str) -> str:
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != "v1":
        raise DecryptError("not a Pulumi v1 secure value")
    try:
        nonce, sealed = base64.b64decode(parts[1], validate=True), base64.b64decode(parts[2], validate=True)
        return AESGCM(key).decrypt(nonce, sealed, None).decode("utf-8")
    except (binascii.Error, InvalidTag, ValueError):
        raise DecryptError("the value does not open with this passphrase") from None


def crypter_key(passphrase: str, encryption_salt: str) -> bytes:
    """The stack's key, after checking that the passphrase opens the salt's "pulumi"."""
    version, salt_text, check = [*encryption_salt.split(":", 2), "", ""][:3]
    if version != "v1" or not check:
        raise DecryptError("the stack's encryptionsalt is not Pulumi's v1 format")
    try:
        salt = base64.b64decode(salt_text, validate=True)
    except binascii.Error:
        raise DecryptError("the stack's encryptionsalt is not Pulumi's v1 format") from None
    key = _key(passphrase, salt)
    try:
        opened = _decrypt(key, check)
    except DecryptError:
        opened = ""
    if opened != "pulumi":
        raise DecryptError("incorrect passphrase")
    return key


def decrypt(key: bytes, value: str) -> str:
    return _decrypt(key, value)


def passphrases_from_environment() -> Iterator[str]:
    """The passphrase the CLI would read (pkg/secrets/passphrase/manager.go readPassphrase)."""
    if "PULUMI_CONFIG_PASSPHRASE" in os.environ:
        yield os.environ["PULUMI_CONFIG_PASSPHRASE"]
    elif os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        try:
            yield Path(os.environ["PULUMI_CONFIG_PASSPHRASE_FILE"]).read_text(encoding="utf-8").strip()
        except OSError:
            return


def simulator_key(encryption_salt: str) -> tuple[str, bytes]:
    """(passphrase, key) for a simulator stack: the environment's passphrase if it opens the stack,
    else the sample passphrase. Raises DecryptError when neither does."""
    for passphrase in [*passphrases_from_environment(), SAMPLE_PASSPHRASE]:
        try:
            return passphrase, crypter_key(passphrase, encryption_salt)
        except DecryptError as error:
            if str(error) != "incorrect passphrase":
                raise
    raise DecryptError("neither PULUMI_CONFIG_PASSPHRASE nor the sample passphrase opens it")
