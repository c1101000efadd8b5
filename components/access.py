"""What the SSO component needs from the platform below it (docs/contracts.md section 5).

Plain dataclasses with no Pulumi resources: the simulator stack builds them from its settings
alone, the Azure stack from `components.azure_foundation.build_azure_foundation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class NodeAccess:
    name: str  # computer name, e.g. MSSNODE1
    ip: str  # private IP
    endpoint: pulumi.Input[str]  # https://10.20.1.11:5986/wsman  or  http://127.0.0.1:45985/wsman
    thumbprint: pulumi.Input[str] | None  # SHA-1 thumbprint the Run Command returned (pin); None otherwise


@dataclass(frozen=True)
class WitnessAccess:
    account_name: pulumi.Input[str]
    access_key: pulumi.Input[str]  # a secret Output
    endpoint_suffix: str = "core.windows.net"


@dataclass(frozen=True)
class Escrow:  # where the SSO component escrows the backup (Key Vault)
    vault_name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
