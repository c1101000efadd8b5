"""Deterministic stand-ins for resources and functions of non-dynamic providers (e.g. azure-native).

A mocked resource's outputs are its inputs, plus id "<name>-id", plus the few computed outputs a
small table knows for its type. Values are derived from the type and name only, so two runs agree.
Extend the tables when a program reads another computed output; unknown types just echo inputs.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

ComputedOutputs = Callable[[str, dict[str, Any]], dict[str, Any]]


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


def _public_ip(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"ipAddress": f"203.0.113.{_digest('ip', name)[0] % 254 + 1}"}  # TEST-NET-3


def _storage_account(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    account = str(inputs.get("accountName", name))
    return {
        "primaryEndpoints": {
            "blob": f"https://{account}.blob.core.windows.net/",
            "file": f"https://{account}.file.core.windows.net/",
        }
    }


def _key_vault(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    vault = str(inputs.get("vaultName", name))
    properties = dict(inputs.get("properties") or {})
    properties.setdefault("vaultUri", f"https://{vault}.vault.azure.net/")
    return {"properties": properties}


RESOURCE_OUTPUTS: dict[str, ComputedOutputs] = {
    "azure-native:network:PublicIPAddress": _public_ip,
    "azure-native:storage:StorageAccount": _storage_account,
    "azure-native:keyvault:Vault": _key_vault,
}


def _storage_keys(args: dict[str, Any]) -> dict[str, Any]:
    account = str(args.get("accountName", ""))
    return {
        "keys": [
            {
                "keyName": f"key{i}",
                "permissions": "FULL",
                "value": base64.b64encode(_digest("storage-key", account, str(i)) * 2).decode(),
            }
            for i in (1, 2)
        ]
    }


def _client_config(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "clientId": "00000000-0000-0000-0000-00000000c11e",
        "objectId": "00000000-0000-0000-0000-0000000000b1",
        "subscriptionId": "00000000-0000-0000-0000-000000000005",
        "tenantId": "00000000-0000-0000-0000-00000000000e",
    }


CALL_RESULTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "azure-native:storage:listStorageAccountKeys": _storage_keys,
    "azure-native:authorization:getClientConfig": _client_config,
}


def mock_id(name: str) -> str:
    return f"{name}-id"


def computed_outputs(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The outputs a real provider would compute that are not inputs (empty for unknown types)."""
    outputs: dict[str, Any] = {}
    if type_.startswith("azure-native:") and "name" not in inputs:
        outputs["name"] = name
    if type_ in RESOURCE_OUTPUTS:
        outputs.update(RESOURCE_OUTPUTS[type_](name, inputs))
    return outputs


class MockCloud(Mocks):
    """The `Mocks` behind the SDK mock monitor, used for invokes and `Resource.get` reads; resource
    registrations go through mock_runtime.RecordingMonitor instead."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        inputs = dict(args.inputs)
        return args.resource_id or mock_id(args.name), {
            **inputs,
            **computed_outputs(args.typ, args.name, inputs),
        }

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        result = CALL_RESULTS.get(args.token)
        # An empty failure list, not None: MockMonitor.Invoke iterates it.
        return (result(dict(args.args)) if result else {}), []
