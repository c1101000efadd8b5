"""The production baseline of entsso-cluster as Pulumi policies (pulumi-policy 1.21.0).

`__main__.py` serves them as the `entsso-cluster-prod` pack (`pulumi preview -s prod --policy-pack policy`);
this module only defines them, so tests import it without starting the pack's gRPC server.

Properties arrive as the engine sends them to an analyzer: camelCase azure-native inputs (stack
policies see outputs), secrets unwrapped, and during preview unknown values that raise
`UnknownValueError` when read. The policies read references between resources from property
dependencies (URNs), never from resource ids, because ids are unknown until a resource exists.
"""

from __future__ import annotations

import ipaddress
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pulumi
from pulumi_policy import (
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

PROJECT = "entsso-cluster"
TIER_CONFIG_KEY = f"{PROJECT}:tier"
PRODUCTION_TIER = "production"

VIRTUAL_MACHINE = "azure-native:compute:VirtualMachine"
NETWORK_INTERFACE = "azure-native:network:NetworkInterface"
PUBLIC_IP_ADDRESS = "azure-native:network:PublicIPAddress"
NAT_GATEWAY = "azure-native:network:NatGateway"
BASTION_HOST = "azure-native:network:BastionHost"
SECURITY_GROUP = "azure-native:network:NetworkSecurityGroup"
SECURITY_RULE = "azure-native:network:SecurityRule"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
KEY_VAULT = "azure-native:keyvault:Vault"
LOAD_BALANCER = "azure-native:network:LoadBalancer"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
NETWORK_CONFIG_KEY = f"{PROJECT}:network"
DEFAULT_ADMIN_CIDR_LIMIT = 24  # settings' network.adminCidrLimit default
# Key Vault Secrets User (learn.microsoft.com/azure/role-based-access-control/built-in-roles/security).
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
SSO_TYPE_PREFIX = "pulumi-python:dynamic/entsso:"

PUBLIC_IP_HOLDERS = frozenset({NAT_GATEWAY, BASTION_HOST})
# Properties that name a public IP's address without attaching the IP: the witness firewall's rule for
# the nodes' outbound address.
ADDRESS_READERS = frozenset({(STORAGE_ACCOUNT, "networkRuleSet"), (KEY_VAULT, "properties")})
WINRM_HTTP_PORT = 5985
WINRM_HTTPS_PORT = 5986
# Sources that let anyone in; compared case-insensitively, as Azure does.
OPEN_SOURCES = {"*", "any", "internet", "0.0.0.0", "0.0.0.0/0", "::/0"}  # noqa: S104 - values to refuse
MAX_ZONES = 3  # no Azure region has more
ACCEPTED_TLS = {"TLS1_2", "TLS1_3"}
WITNESS_KIND = "StorageV2"
WITNESS_SKU = "Standard_LRS"


# ---------------------------------------------------------------------------------------------
# Reading properties


def base_type(resource_type: str) -> str:
    """`azure-native:network/v20240501:NetworkInterface` -> `azure-native:network:NetworkInterface`."""
    package, _, rest = resource_type.partition(":")
    module, _, name = rest.rpartition(":")
    if package == "azure-native" and "/" in module:
        module = module.split("/", 1)[0]
    return f"{package}:{module}:{name}" if module else resource_type


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Any]:
    """A list property as a list (the analyzer hands out read-only sequence proxies), or []."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return []


def is_set(props: Mapping[str, Any], key: str) -> bool:
    """True when `key` holds a value; a value unknown during preview is still a value."""
    try:
        return props.get(key) is not None
    except UnknownValueError:
        return True


def stack_tier() -> str | None:
    """The stack's `entsso-cluster:tier`, which the CLI hands policy packs in PULUMI_CONFIG; None if absent."""
    value = pulumi.runtime.get_config(TIER_CONFIG_KEY)
    return value if isinstance(value, str) and value else None


def production_only(args: ResourceValidationArgs | StackValidationArgs) -> None:
    """Marks the policy not applicable on a stack that says it is not production; without config it applies."""
    tier = stack_tier()
    if tier is not None and tier != PRODUCTION_TIER:
        args.not_applicable(f"{TIER_CONFIG_KEY} is '{tier}': availability zones are required of production stacks only")


def admin_cidr_limit() -> int:
    """`entsso-cluster:network.adminCidrLimit` from the stack config the CLI hands the pack, else /24."""
    text = pulumi.runtime.get_config(NETWORK_CONFIG_KEY)
    try:
        value = json.loads(text).get("adminCidrLimit") if isinstance(text, str) else None
    except (ValueError, AttributeError):
        value = None
    return value if isinstance(value, int) and 1 <= value <= 32 else DEFAULT_ADMIN_CIDR_LIMIT


def is_production() -> bool:
    """A stack that does not say its tier is held to the production baseline."""
    tier = stack_tier()
    return tier is None or tier == PRODUCTION_TIER


def zones_of(props: Mapping[str, Any]) -> list[str]:
    return [str(zone) for zone in items(props.get("zones"))]


# ---------------------------------------------------------------------------------------------
# No public IP on a node


def check_no_public_ip_on_node(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = base_type(args.resource_type)
    if kind == NETWORK_INTERFACE:
        for config in items(args.props.get("ipConfigurations")):
            config = mapping(config)
            if is_set(config, "publicIPAddress"):
                report(
                    f"network interface '{args.name}' gives ip configuration '{config.get('name', '?')}' a public "
                    "IP address: cluster nodes have private addresses only. Remove publicIPAddress; admins reach "
                    "the nodes through Bastion, the runner through the VNet.",
                    None,
                )
    elif kind == VIRTUAL_MACHINE:
        profile = mapping(args.props.get("networkProfile"))
        for nic in items(profile.get("networkInterfaceConfigurations")):
            nic = mapping(nic)
            for config in items(nic.get("ipConfigurations")):
                config = mapping(config)
                if is_set(config, "publicIPAddressConfiguration"):
                    report(
                        f"virtual machine '{args.name}' creates NIC '{nic.get('name', '?')}' with a public IP "
                        f"(ip configuration '{config.get('name', '?')}'): cluster nodes have private addresses only. "
                        "Remove publicIPAddressConfiguration.",
                        None,
                    )


def _referrers(resources: Sequence[PolicyResource], targets: set[str]) -> dict[str, list[tuple[PolicyResource, str]]]:
    """For each target URN, the (resource, property) pairs whose property value depends on it."""
    found: dict[str, list[tuple[PolicyResource, str]]] = defaultdict(list)
    for resource in resources:
        for prop, dependencies in resource.property_dependencies.items():
            for dependency in dependencies:
                if dependency.urn in targets and dependency.urn != resource.urn:
                    found[dependency.urn].append((resource, prop))
    return found


def check_public_ips_only_for_nat_or_bastion(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = args.resources
    public_ips = {r.urn: r for r in resources if base_type(r.resource_type) == PUBLIC_IP_ADDRESS}
    users = _referrers(resources, set(public_ips))

    reported_nics: set[str] = set()
    for vm in (r for r in resources if base_type(r.resource_type) == VIRTUAL_MACHINE):
        for nic in vm.property_dependencies.get("networkProfile", []):
            if base_type(nic.resource_type) != NETWORK_INTERFACE:
                continue
            referenced = [public_ips[d.urn].name for d in _dependencies(nic) if d.urn in public_ips]
            literal = any(is_set(mapping(c), "publicIPAddress") for c in items(nic.props.get("ipConfigurations")))
            if referenced or literal:
                reported_nics.add(nic.urn)
                which = f"public IP {', '.join(repr(n) for n in referenced)}" if referenced else "a public IP address"
                report(
                    f"node VM '{vm.name}' uses network interface '{nic.name}', which references {which}: a node "
                    "must not be reachable from the internet. Remove the public IP from the NIC.",
                    vm.urn,
                )

    production = is_production()
    for urn, public_ip in public_ips.items():
        holders = users.get(urn, [])
        if not holders:
            report(
                f"public IP '{public_ip.name}' is not attached to the NAT gateway or a Bastion host: public IPs "
                "exist only for outbound NAT and Bastion. Delete it.",
                urn,
            )
        for holder, prop in holders:
            kind = base_type(holder.resource_type)
            if kind in PUBLIC_IP_HOLDERS or holder.urn in reported_nics:
                continue
            if kind == LOAD_BALANCER and not production:
                continue  # a lab's operator entry (winrmAccess publicLoadBalancer); production has none
            if holder.resource_type.startswith(SSO_TYPE_PREFIX) or (kind, prop) in ADDRESS_READERS:
                continue  # reads the address (a WinRM endpoint, a firewall rule), attaches nothing
            report(
                f"public IP '{public_ip.name}' is attached to '{holder.name}' ({kind}, property {prop}): public IPs "
                "exist only for the NAT gateway and Bastion. Remove the reference and delete the public IP.",
                holder.urn,
            )


def _dependencies(resource: PolicyResource) -> Iterator[PolicyResource]:
    for dependencies in resource.property_dependencies.values():
        yield from dependencies


# ---------------------------------------------------------------------------------------------
# WinRM: HTTPS only, from a named CIDR


def security_rules(args: ResourceValidationArgs) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(rule name, rule properties) of an NSG's inline rules or of a standalone SecurityRule."""
    kind = base_type(args.resource_type)
    if kind == SECURITY_GROUP:
        for rule in items(args.props.get("securityRules")):
            rule = mapping(rule)
            yield str(rule.get("name", "?")), rule
    elif kind == SECURITY_RULE:
        yield str(args.props.get("securityRuleName") or args.name), args.props


def allows_inbound_tcp(rule: Mapping[str, Any]) -> bool:
    return (
        str(rule.get("direction", "")).lower() == "inbound"
        and str(rule.get("access", "")).lower() == "allow"
        and str(rule.get("protocol", "*")).lower() in ("tcp", "*")
    )


def port_ranges(rule: Mapping[str, Any]) -> list[str]:
    ranges = [str(rule["destinationPortRange"])] if is_set(rule, "destinationPortRange") else []
    return ranges + [str(r) for r in items(rule.get("destinationPortRanges"))]


def covers(port_range: str, port: int) -> bool:
    """Whether an NSG port range ("*", "5986", "5000-6000") includes `port`; an unreadable one counts as yes."""
    text = port_range.strip()
    if text == "*":
        return True
    low, dash, high = text.partition("-")
    try:
        first = int(low)
        last = int(high) if dash else first
    except ValueError:
        return True
    return first <= port <= last


def rules_opening(args: ResourceValidationArgs, port: int) -> Iterator[tuple[str, Mapping[str, Any], list[str]]]:
    for name, rule in security_rules(args):
        if allows_inbound_tcp(rule):
            matching = [r for r in port_ranges(rule) if covers(r, port)]
            if matching:
                yield name, rule, matching


def check_winrm_https_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for name, _, matching in rules_opening(args, WINRM_HTTP_PORT):
        report(
            f"security rule '{name}' of '{args.name}' allows WinRM over HTTP (port {WINRM_HTTP_PORT}, destination "
            f"ports {', '.join(matching)}) inbound: WinRM is HTTPS-only on {WINRM_HTTPS_PORT}. Take "
            f"{WINRM_HTTP_PORT} out of the rule's destination ports, or make the rule Deny.",
            None,
        )


def source_problem(source: str) -> str | None:
    """Why a rule source is not a named CIDR, or None when it is one."""
    text = source.strip()
    if text.lower() in OPEN_SOURCES:
        return f"'{text}' (anyone)"
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return f"'{text}' (a service tag, not a CIDR)"
    if network.prefixlen == 0:
        return f"'{text}' (every address)"
    return None


def check_winrm_from_named_cidr(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for name, rule, _ in rules_opening(args, WINRM_HTTPS_PORT):
        sources = [str(rule["sourceAddressPrefix"])] if is_set(rule, "sourceAddressPrefix") else []
        sources += [str(s) for s in items(rule.get("sourceAddressPrefixes"))]
        problems = [p for p in (source_problem(s) for s in sources) if p is not None]
        if not sources:
            problems = ["no source address prefix"]
        if problems:
            report(
                f"security rule '{name}' of '{args.name}' allows WinRM over HTTPS ({WINRM_HTTPS_PORT}) from "
                f"{', '.join(problems)}: WinRM is reachable only from a named CIDR. Set the rule's source to the "
                f"admin or runner CIDR ({PROJECT}:network.adminCidr).",
                None,
            )


def check_winrm_source_narrow(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """The source of every rule that opens 5986 is no wider than adminCidrLimit, and private in production."""
    limit = admin_cidr_limit()
    production = is_production()
    for name, rule, _ in rules_opening(args, WINRM_HTTPS_PORT):
        sources = [str(rule["sourceAddressPrefix"])] if is_set(rule, "sourceAddressPrefix") else []
        sources += [str(s) for s in items(rule.get("sourceAddressPrefixes"))]
        for source in sources:
            try:
                network = ipaddress.ip_network(source.strip(), strict=False)
            except ValueError:
                continue  # not a CIDR at all: winrm-from-named-cidr reports it
            problems = []
            if network.prefixlen < limit:
                problems.append(f"{network} is wider than /{limit} ({PROJECT}:network.adminCidrLimit)")
            private = isinstance(network, ipaddress.IPv4Network) and any(network.subnet_of(r) for r in RFC1918)
            if production and not private:
                problems.append(f"{network} is not a private (RFC 1918) range, and production admits WinRM privately")
            if problems:
                report(
                    f"security rule '{name}' of '{args.name}' allows WinRM over HTTPS from {'; '.join(problems)}. "
                    f"Name the runner's or admins' own range in {PROJECT}:network.adminCidr.",
                    None,
                )


# ---------------------------------------------------------------------------------------------
# Production reaches the witness and the escrow privately, and someone can read the escrow


def check_witness_closed_in_production(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if base_type(args.resource_type) != STORAGE_ACCOUNT:
        return
    production_only(args)
    if args.props.get("publicNetworkAccess") != "Disabled":
        report(
            f"storage account '{args.name}' (the cloud witness) has publicNetworkAccess "
            f"{args.props.get('publicNetworkAccess')!r}: production reaches the witness over its blob private "
            "endpoint only. Set public_network_access='Disabled'.",
            None,
        )


def _endpoint_targets(resources: Sequence[PolicyResource]) -> dict[str, set[str]]:
    """URN of each resource a private endpoint connects to -> the group ids (blob, vault) it serves."""
    targets: dict[str, set[str]] = defaultdict(set)
    for endpoint in (r for r in resources if base_type(r.resource_type) == PRIVATE_ENDPOINT):
        groups = {
            str(group)
            for connection in items(endpoint.props.get("privateLinkServiceConnections"))
            for group in items(mapping(connection).get("groupIds"))
        }
        for dependency in endpoint.property_dependencies.get("privateLinkServiceConnections", []):
            targets[dependency.urn] |= groups
    return targets


def check_private_paths_in_production(args: StackValidationArgs, report: ReportViolation) -> None:
    """Each witness account has a blob private endpoint and each vault a vault one; each vault has a reader."""
    production_only(args)
    targets = _endpoint_targets(args.resources)
    readers: dict[str, list[PolicyResource]] = defaultdict(list)
    for assignment in (r for r in args.resources if base_type(r.resource_type) == ROLE_ASSIGNMENT):
        role = str(assignment.props.get("roleDefinitionId") or "")
        if role.lower().endswith(KEY_VAULT_SECRETS_USER):
            for dependency in assignment.property_dependencies.get("scope", []):
                readers[dependency.urn].append(assignment)
    for resource in args.resources:
        kind = base_type(resource.resource_type)
        if kind == STORAGE_ACCOUNT and "blob" not in targets.get(resource.urn, set()):
            report(
                f"storage account '{resource.name}' (the cloud witness) has no blob private endpoint: with its public "
                "access closed the cluster could not reach its witness. Add a PrivateEndpoint with group 'blob'.",
                resource.urn,
            )
        elif kind == KEY_VAULT:
            if "vault" not in targets.get(resource.urn, set()):
                report(
                    f"key vault '{resource.name}' has no private endpoint: with public access closed nobody could "
                    "read the escrowed backup. Add a PrivateEndpoint with group 'vault'.",
                    resource.urn,
                )
            if not readers.get(resource.urn):
                report(
                    f"key vault '{resource.name}' grants no one Key Vault Secrets User: the escrowed master secret "
                    f"backup could not be read when it is needed. Set {PROJECT}:azure.breakGlassGroupId.",
                    resource.urn,
                )


# ---------------------------------------------------------------------------------------------
# Availability zones (production)


def check_node_in_one_zone(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if base_type(args.resource_type) != VIRTUAL_MACHINE:
        return
    production_only(args)
    zones = zones_of(args.props)
    if len(zones) != 1:
        found = f"zones {zones}" if zones else "no availability zone"
        report(
            f"virtual machine '{args.name}' has {found}: a production node is in exactly one availability zone. "
            f"Set {PROJECT}:azure.placement to zones and {PROJECT}:azure.zones to one zone per node, e.g. ['1', '2'].",
            None,
        )


def check_nodes_in_different_zones(args: StackValidationArgs, report: ReportViolation) -> None:
    production_only(args)
    vms = [r for r in args.resources if base_type(r.resource_type) == VIRTUAL_MACHINE]
    by_zone: dict[str, list[PolicyResource]] = defaultdict(list)
    for vm in vms:
        zones = zones_of(vm.props)
        if len(zones) == 1:  # a VM with none or several is check_node_in_one_zone's finding
            by_zone[zones[0]].append(vm)
    zoned = sum(len(members) for members in by_zone.values())
    if len(by_zone) >= min(zoned, MAX_ZONES):
        return
    for zone, members in sorted(by_zone.items()):
        if len(members) < 2:
            continue
        for vm in members:
            others = ", ".join(f"'{other.name}'" for other in members if other is not vm)
            report(
                f"virtual machine '{vm.name}' shares availability zone {zone} with {others}: losing that zone would "
                f"take those nodes down together. Give each node its own zone ({PROJECT}:azure.zones).",
                vm.urn,
            )


# ---------------------------------------------------------------------------------------------
# Trusted Launch


def check_trusted_launch(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if base_type(args.resource_type) != VIRTUAL_MACHINE:
        return
    profile = mapping(args.props.get("securityProfile"))
    uefi = mapping(profile.get("uefiSettings"))
    missing = []
    if profile.get("securityType") != "TrustedLaunch":
        missing.append(f"securityProfile.securityType is {profile.get('securityType')!r}, not 'TrustedLaunch'")
    if uefi.get("secureBootEnabled") is not True:
        missing.append("securityProfile.uefiSettings.secureBootEnabled is not true")
    if uefi.get("vTpmEnabled") is not True:
        missing.append("securityProfile.uefiSettings.vTpmEnabled is not true")
    if missing:
        report(
            f"virtual machine '{args.name}' is not a Trusted Launch VM with Secure Boot and vTPM: "
            f"{'; '.join(missing)}. Set security_profile=SecurityProfileArgs(security_type='TrustedLaunch', "
            "uefi_settings=UefiSettingsArgs(secure_boot_enabled=True, v_tpm_enabled=True)).",
            None,
        )


# ---------------------------------------------------------------------------------------------
# Witness storage, Key Vault


def check_witness_storage(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if base_type(args.resource_type) != STORAGE_ACCOUNT:
        return
    props = args.props
    problems = []
    if props.get("allowBlobPublicAccess") is not False:
        problems.append(f"allowBlobPublicAccess is {props.get('allowBlobPublicAccess')!r} (set it to false)")
    if props.get("minimumTlsVersion") not in ACCEPTED_TLS:
        problems.append(f"minimumTlsVersion is {props.get('minimumTlsVersion')!r} (set it to 'TLS1_2')")
    if props.get("enableHttpsTrafficOnly") is False:
        problems.append("enableHttpsTrafficOnly is false (set it to true)")
    if props.get("kind") != WITNESS_KIND:
        problems.append(f"kind is {props.get('kind')!r} (a cloud witness needs '{WITNESS_KIND}')")
    sku = mapping(props.get("sku")).get("name")
    if sku != WITNESS_SKU:
        problems.append(f"sku.name is {sku!r} (a cloud witness needs '{WITNESS_SKU}')")
    if problems:
        report(f"storage account '{args.name}' (the cloud witness): {'; '.join(problems)}.", None)


def check_key_vault_purge_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if base_type(args.resource_type) != KEY_VAULT:
        return
    properties = mapping(args.props.get("properties"))
    problems = []
    if properties.get("enablePurgeProtection") is not True:
        problems.append(f"enablePurgeProtection is {properties.get('enablePurgeProtection')!r} (set it to true)")
    if properties.get("enableSoftDelete") is False:
        problems.append("enableSoftDelete is false (leave it on)")
    if problems:
        report(
            f"key vault '{args.name}' escrows the master secret backup but could be purged: {'; '.join(problems)}. "
            "A purged vault takes the only copy of the backup with it.",
            None,
        )


# ---------------------------------------------------------------------------------------------
# Protected SSO resources


def check_sso_resources_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith(SSO_TYPE_PREFIX):
        return
    if not args.opts.protect:
        step = args.resource_type.removeprefix(SSO_TYPE_PREFIX)
        report(
            f"SSO resource '{args.name}' ({step}) is not protected: a stray destroy or replace would undo the "
            f"master secret server's configuration. Register it with protect=True (set {PROJECT}:tier to "
            f"{PRODUCTION_TIER} and {PROJECT}:protect to true).",
            None,
        )


# ---------------------------------------------------------------------------------------------

POLICIES: list[Policy] = [
    ResourceValidationPolicy(
        name="node-no-public-ip",
        description="Cluster nodes have no public IP: no NIC ip configuration carries a public IP address.",
        validate=check_no_public_ip_on_node,
    ),
    StackValidationPolicy(
        name="public-ip-only-for-nat-or-bastion",
        description="Public IPs exist only for the NAT gateway and Bastion (and a lab's operator entry load "
        "balancer); no node VM's NIC references one.",
        validate=check_public_ips_only_for_nat_or_bastion,
    ),
    ResourceValidationPolicy(
        name="winrm-https-only",
        description=f"WinRM is HTTPS only: no NSG rule allows TCP {WINRM_HTTP_PORT} inbound.",
        validate=check_winrm_https_only,
    ),
    ResourceValidationPolicy(
        name="winrm-from-named-cidr",
        description=f"An NSG rule that allows WinRM over HTTPS ({WINRM_HTTPS_PORT}) names a specific source CIDR.",
        validate=check_winrm_from_named_cidr,
    ),
    ResourceValidationPolicy(
        name="winrm-source-narrow",
        description=f"An NSG rule that allows WinRM over HTTPS ({WINRM_HTTPS_PORT}) names no wider a source than "
        "network.adminCidrLimit (/24 by default), and in production a private (RFC 1918) one.",
        validate=check_winrm_source_narrow,
    ),
    ResourceValidationPolicy(
        name="witness-closed-in-production",
        description="Production: the witness storage account has public network access disabled.",
        validate=check_witness_closed_in_production,
    ),
    StackValidationPolicy(
        name="private-paths-in-production",
        description="Production: the witness and the escrow vault each have a private endpoint, and the vault grants "
        "Key Vault Secrets User to someone (the break-glass group).",
        validate=check_private_paths_in_production,
    ),
    ResourceValidationPolicy(
        name="node-in-one-zone",
        description="Production: each node VM is in exactly one availability zone.",
        validate=check_node_in_one_zone,
    ),
    StackValidationPolicy(
        name="nodes-in-different-zones",
        description="Production: the cluster nodes are spread over different availability zones.",
        validate=check_nodes_in_different_zones,
    ),
    ResourceValidationPolicy(
        name="node-trusted-launch",
        description="Node VMs are Trusted Launch VMs with Secure Boot and vTPM.",
        validate=check_trusted_launch,
    ),
    ResourceValidationPolicy(
        name="witness-storage-hardened",
        description="The witness storage account allows no public blob access, requires TLS 1.2, and is StorageV2 "
        "Standard_LRS.",
        validate=check_witness_storage,
    ),
    ResourceValidationPolicy(
        name="key-vault-purge-protection",
        description="The escrow Key Vault has purge protection and soft delete on.",
        validate=check_key_vault_purge_protection,
    ),
    ResourceValidationPolicy(
        name="sso-resources-protected",
        description="The SSO resources (pulumi-python:dynamic/entsso:*) are registered with protect.",
        validate=check_sso_resources_protected,
    ),
]
