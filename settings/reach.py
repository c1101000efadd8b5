"""What a stack's network can reach, and the values Azure stacks derive from their settings.

Pure functions of `StackSettings`, shared by the settings rules (`settings/stack.py`), the Azure
components and the runbook, so that what validation promises and what the program builds are one
computation. docs/network.md explains the model.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from settings.model import Target, Tier

if TYPE_CHECKING:
    from settings.stack import StackSettings

# Azure's platform address: the load balancer's health probes come from it
# (learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16).
AZURE_PLATFORM_ADDRESS = "168.63.129.16"

# Bastion's Developer SKU runs in some regions only. Microsoft's list
# (MicrosoftDocs/azure-docs includes/bastion-developer-sku-regions.md, 2023-10, and
# learn.microsoft.com/azure/bastion/configuration-settings#developer-sku) names these; check the
# page for newer regions before adding one here.
BASTION_DEVELOPER_REGIONS = frozenset(
    {"centraluseuap", "eastus2euap", "westcentralus", "northcentralus", "westus", "northeurope"}
)

# Premium/Standard SSD shared disks: the largest maxShares each size allows
# (learn.microsoft.com/azure/virtual-machines/disks-shared, "Premium SSD ranges":
# P1-P20 (up to 512 GiB) 3, P30-P50 (up to 4 TiB) 5, P60-P80 (up to 32 TiB) 10).
SHARED_DISK_LIMITS: tuple[tuple[int, int], ...] = ((512, 3), (4096, 5), (32767, 10))

# Where the stack's own private endpoints live when it builds the VNet.
ENDPOINT_SUBNET_PREFIX = 27
BASTION_SUBNET_PREFIX = 26  # the smallest subnet Bastion Basic/Standard accept


@dataclass(frozen=True)
class Range:
    cidr: ipaddress.IPv4Network
    via: str  # how the nodes get there, for messages and the runbook


def is_azure(s: StackSettings) -> bool:
    return s.target is Target.AZURE and s.azure is not None


def vnet_ranges(s: StackSettings) -> list[ipaddress.IPv4Network]:
    """The address space of the nodes' own VNet, as far as the settings know it."""
    return [s.network.vnet_cidr or s.network.node_subnet_cidr]


def hub_ranges(s: StackSettings) -> list[ipaddress.IPv4Network]:
    return list(s.network.hub.address_space) if s.network.hub is not None else []


def peering_word(s: StackSettings) -> str:
    hub = s.network.hub
    if hub is None:
        return "no peering"
    return "the stack's peering to the hub" if hub.vnet_id else "the spoke's existing peering"


def reachable(s: StackSettings) -> list[Range]:
    """Every range the nodes reach without a public address: their VNet, then the hub's."""
    ranges = [Range(cidr, "the nodes' own virtual network") for cidr in vnet_ranges(s)]
    ranges += [Range(cidr, peering_word(s)) for cidr in hub_ranges(s)]
    return ranges


def route_to(s: StackSettings, address: ipaddress.IPv4Address | ipaddress.IPv4Network) -> Range | None:
    for candidate in reachable(s):
        if (
            (address in candidate.cidr)
            if isinstance(address, ipaddress.IPv4Address)
            else address.subnet_of(candidate.cidr)
        ):
            return candidate
    return None


def builds_vnet(s: StackSettings) -> bool:
    return s.network.existing_subnet_id is None


def creates_directory(s: StackSettings) -> bool:
    """A self-contained lab: the stack builds the forest's DC, SQL Server and the accounts (issue 14)."""
    return s.directory is not None and s.directory.source == "create"


def dns_servers(s: StackSettings) -> list[ipaddress.IPv4Address]:
    """The DNS servers of the nodes' VNet and NICs: the lab's own DC, or the existing directory's DCs."""
    directory = s.directory
    if directory is None:
        return []
    if directory.source == "create":
        return [directory.domain_controller.ip] if directory.domain_controller is not None else []
    return list(directory.dns_servers or [])


def infra_subnet_cidr(s: StackSettings) -> ipaddress.IPv4Network | None:
    """The self-contained lab's infrastructure subnet (its DC and SQL Server), None otherwise."""
    return s.directory.subnet_cidr if creates_directory(s) and s.directory is not None else None


def media_account_name(storage_account_id: str) -> str:
    """The storage account's name: the last segment of its resource id."""
    return storage_account_id.rstrip("/").rsplit("/", 1)[-1]


def private_endpoints(s: StackSettings) -> bool:
    """Production reaches the witness and the vault over private endpoints, never a public endpoint."""
    return is_azure(s) and s.tier is Tier.PRODUCTION


def os_disk_type(s: StackSettings) -> str:
    azure = s.azure
    if azure is not None and azure.os_disk_type is not None:
        return azure.os_disk_type
    return "Premium_LRS" if s.tier is Tier.PRODUCTION else "StandardSSD_LRS"


def shared_disk_max_shares(size_gb: int) -> int:
    for largest, shares in SHARED_DISK_LIMITS:
        if size_gb <= largest:
            return shares
    return 0


def shared_disk_tier(size_gb: int) -> str:
    """The Premium SSD tier a size bills as (P1 4 GiB ... P80 32 TiB)."""
    tiers = [(4, "P1"), (8, "P2"), (16, "P3"), (32, "P4"), (64, "P6"), (128, "P10"), (256, "P15"), (512, "P20")]
    tiers += [(1024, "P30"), (2048, "P40"), (4096, "P50"), (8192, "P60"), (16384, "P70"), (32767, "P80")]
    return next(name for largest, name in tiers if size_gb <= largest)


def public_entry_port(s: StackSettings, index: int) -> int:
    assert s.azure is not None
    return s.azure.public_entry_first_port + index


def entry_kind(s: StackSettings) -> Literal["private", "publicLoadBalancer", "simulator"]:
    if s.azure is None:
        return "simulator"
    return s.azure.winrm_access


def free_subnet(
    vnet: ipaddress.IPv4Network, prefix: int, taken: Sequence[ipaddress.IPv4Network], *, highest: bool
) -> ipaddress.IPv4Network | None:
    """The lowest (or highest) subnet of `prefix` in `vnet` that overlaps none of `taken`; deterministic."""
    if vnet.prefixlen > prefix:
        return None
    candidates = list(vnet.subnets(new_prefix=prefix))
    for candidate in reversed(candidates) if highest else candidates:
        if not any(candidate.overlaps(other) for other in taken):
            return candidate
    return None


def _taken(s: StackSettings) -> list[ipaddress.IPv4Network]:
    taken = [s.network.node_subnet_cidr]
    infra = infra_subnet_cidr(s)
    if infra is not None:
        taken.append(infra)
    admin = ipaddress.ip_network(s.network.admin_cidr, strict=False)
    if isinstance(admin, ipaddress.IPv4Network):
        taken.append(admin)
    return taken


def bastion_subnet_cidr(s: StackSettings) -> ipaddress.IPv4Network | None:
    """AzureBastionSubnet: the highest free /26 of the VNet, away from the nodes (Basic/Standard only)."""
    return free_subnet(vnet_ranges(s)[0], BASTION_SUBNET_PREFIX, _taken(s), highest=True)


def endpoint_subnet_cidr(s: StackSettings) -> ipaddress.IPv4Network | None:
    """The private endpoints' subnet: the lowest free /27 of the VNet, clear of the Bastion subnet."""
    taken = _taken(s)
    if s.azure is not None and s.azure.bastion in ("Basic", "Standard"):
        bastion = bastion_subnet_cidr(s)
        if bastion is not None:
            taken.append(bastion)
    return free_subnet(vnet_ranges(s)[0], ENDPOINT_SUBNET_PREFIX, taken, highest=False)


def network_paths(s: StackSettings) -> list[tuple[str, str, str]]:
    """(from, to, path) for the runbook: operator -> each node, each node -> DNS, SQL and the witness."""
    if not is_azure(s):
        return [("runner", node.name, "the simulator, on 127.0.0.1 (no network)") for node in s.nodes]
    azure = s.azure
    assert azure is not None
    admin = s.network.admin_cidr
    paths: list[tuple[str, str, str]] = []
    for index, node in enumerate(s.nodes):
        if azure.winrm_access == "publicLoadBalancer":
            how = (
                f"internet -> public entry load balancer port {public_entry_port(s, index)} (NAT rule) -> "
                f"NSG AllowWinRmHttpsFromAdmin ({admin}) -> Windows Firewall ({admin}) -> {node.ip}:{s.winrm.port}, "
                "certificate pinned"
            )
        else:
            route = route_to(s, ipaddress.IPv4Network(admin))
            via = route.via if route is not None else "no route (settings refuse this)"
            how = (
                f"{via} -> NSG AllowWinRmHttpsFromAdmin ({admin}) -> Windows Firewall ({admin}) -> "
                f"{node.ip}:{s.winrm.port}, certificate pinned"
            )
        paths.append((f"operator ({admin})", node.name, how))
    nodes = "every node"
    infra = infra_subnet_cidr(s)
    for server in dns_servers(s):
        route = route_to(s, server)
        if infra is not None:
            how = (
                f"the lab's own DC in snet-infra ({infra}), inside the VNet; NSG nsg-*-infra admits the AD ports "
                "from the VNet (DNS 53, Kerberos 88, RPC 135, LDAP 389/636, SMB 445, GC 3268-3269, dynamic RPC)"
            )
        else:
            how = f"{route.via if route else 'no route'} (DNS 53, Kerberos 88, LDAP 389)"
        paths.append((nodes, f"AD/DNS {server}", how))
    ranges = ", ".join(str(r.cidr) for r in reachable(s))
    if infra is not None and s.directory is not None and s.directory.sql_server is not None:
        sql_how = (
            f"by name through the lab DC's DNS to {s.directory.sql_server.ip} in snet-infra, TCP 1433 "
            "(and RPC 135 + dynamic for MSDTC), admitted from the node subnet only"
        )
    else:
        sql_how = f"by name through the DCs' DNS, then TCP 1433 inside {ranges}"
    paths.append((nodes, f"SQL Server {s.sql.server}", sql_how))
    media = s.sso.media
    if media is not None:
        account = media_account_name(media.storage_account_id)
        way = "NAT gateway" if builds_vnet(s) else "the existing spoke's outbound path"
        paths.append(
            (
                nodes,
                "install media",
                f"{way} -> {account}.blob.core.windows.net:443, container {media.container}, as the node's "
                "managed identity (Storage Blob Data Reader on that container; no key, no SAS)",
            )
        )
    if s.cluster.witness == "cloud":
        if private_endpoints(s):
            where = f"{endpoint_subnet_cidr(s)} (snet-endpoints)" if builds_vnet(s) else "the existing subnet"
            witness = (
                f"blob private endpoint in {where}, privatelink.blob.core.windows.net; public access closed; "
                "no zonal NAT gateway on the way"
            )
        elif builds_vnet(s):
            witness = "NAT gateway -> <account>.blob.core.windows.net:443; the account admits only that address"
        else:
            witness = "the existing spoke's outbound path -> <account>.blob.core.windows.net:443"
        paths.append((nodes, "cloud witness", witness))
    if azure.escrow == "keyVault":
        if private_endpoints(s):
            escrow = "vault private endpoint, privatelink.vaultcore.azure.net; read by the break-glass group only"
        else:
            escrow = f"public endpoint, vault firewall admits {admin} when it is a public range"
        paths.append(("break-glass group", "escrow Key Vault", escrow))
    return paths
