"""Property values as the engine holds them: JSON-like values where a secret is wrapped in `Secret`.

On the wire (program <-> monitor) a secret is the SDK's signature map
`{"4dabf...": "1b470...", "value": v}` and an unknown is the `UNKNOWN` sentinel string. The
dynamic-provider host accepts no secrets (its Configure answers acceptSecrets=False), so what goes
to it is `reveal`ed, and the engine itself remembers which properties were secret.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 (the SDK's secret marker, not a secret)
PROVIDER_KEY = "__provider"
MASK = "[secret]"

PropertyMap = dict[str, Any]


@dataclass(frozen=True)
class Secret:
    value: Any


def from_wire(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Secret(from_wire(value.get("value")))
        return {k: from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    return value


def to_wire(value: Any) -> Any:
    if isinstance(value, Secret):
        return {SIG_KEY: SECRET_SIG, "value": to_wire(value.value)}
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    return value


def reveal(value: Any) -> Any:
    """The value with every secret wrapper removed (what a provider without secret support gets)."""
    if isinstance(value, Secret):
        return reveal(value.value)
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    """True when the value is, or contains, a secret."""
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(is_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(is_secret(v) for v in value)
    return False


def is_unknown(value: Any) -> bool:
    """True when the value is, or contains, a preview unknown."""
    if isinstance(value, Secret):
        return is_unknown(value.value)
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(is_unknown(v) for v in value)
    return isinstance(value, str) and value == UNKNOWN


def struct_to_map(struct: struct_pb2.Struct) -> PropertyMap:
    as_dict: dict[str, Any] = json_format.MessageToDict(struct)
    return {k: from_wire(v) for k, v in as_dict.items()}


def map_to_struct(props: PropertyMap) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(to_wire(props))
    return struct


def plain_struct(props: PropertyMap) -> struct_pb2.Struct:
    """A Struct for the provider host: secrets revealed, as the engine sends to a provider without secrets."""
    struct = struct_pb2.Struct()
    struct.update(reveal(props))
    return struct


def secure_outputs(
    outputs: PropertyMap, inputs: PropertyMap, additional_secret_outputs: tuple[str, ...] | list[str]
) -> PropertyMap:
    """Mark outputs secret as the engine does: additionalSecretOutputs, outputs whose same-named
    input was secret, outputs that already were secret, and always the serialized provider."""
    secured: PropertyMap = {}
    for key, value in outputs.items():
        secret = (
            key == PROVIDER_KEY or key in additional_secret_outputs or is_secret(inputs.get(key)) or is_secret(value)
        )
        secured[key] = Secret(reveal(value)) if secret else value
    return secured


def secure_like(values: PropertyMap, template: PropertyMap) -> PropertyMap:
    """Re-mark values (e.g. a provider's checked inputs, which come back plain) secret where the
    same-named template value was secret."""
    return {
        k: Secret(reveal(v)) if (k == PROVIDER_KEY or is_secret(template.get(k)) or is_secret(v)) else v
        for k, v in values.items()
    }


def changed_keys(olds: PropertyMap, news: PropertyMap, ignore: tuple[str, ...] = (PROVIDER_KEY,)) -> list[str]:
    """Top-level keys whose revealed values differ (the engine's fallback diff of inputs)."""
    keys = sorted((set(olds) | set(news)) - set(ignore))
    return [k for k in keys if reveal(olds.get(k)) != reveal(news.get(k))]


def masked(value: Any) -> Any:
    """A printable copy with secrets replaced by "[secret]"."""
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


class SecretMasker:
    """Removes known secret strings from free text (provider tracebacks, host logs) before it is shown."""

    MIN_LENGTH = 4  # shorter values would mask ordinary words

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: Any) -> None:
        """Remember every string inside `value`; call with secret values only."""
        strings: list[str] = []
        _collect_strings(reveal(value), strings)
        with self._lock:
            self._values.update(s for s in strings if len(s) >= self.MIN_LENGTH)

    def add_secrets_in(self, props: PropertyMap) -> None:
        for value in props.values():
            _collect_secret_strings(value, self)

    def mask(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        if not values:
            return text
        pattern = re.compile("|".join(re.escape(v) for v in values))
        return pattern.sub(MASK, text)


def _collect_strings(value: Any, into: list[str]) -> None:
    if isinstance(value, str):
        into.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _collect_strings(v, into)
    elif isinstance(value, list):
        for v in value:
            _collect_strings(v, into)


def _collect_secret_strings(value: Any, masker: SecretMasker) -> None:
    if isinstance(value, Secret):
        masker.add(value.value)
    elif isinstance(value, dict):
        for v in value.values():
            _collect_secret_strings(v, masker)
    elif isinstance(value, list):
        for v in value:
            _collect_secret_strings(v, masker)
