"""A whole stack's settings, the rules that span sections, and the one-line-per-problem errors."""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import Field, ValidationError
from pydantic.alias_generators import to_camel

from settings import reach, windows_names
from settings.model import (
    PROJECT,
    SECRET_KEYS,
    Azure,
    Cluster,
    Directory,
    Domain,
    Dtc,
    Network,
    Node,
    Secrets,
    Simulator,
    Sql,
    Sso,
    Target,
    Tier,
    WinRm,
    _Model,
    is_rfc1918,
    windows_password_problem,
)


class SettingsError(Exception):
    """Bad stack configuration: one line per problem, each naming the config key path."""

    def __init__(self, lines: list[str]) -> None:
        # A refused value is quoted in its line: its line breaks and escape sequences must not
        # forge another problem line or reach the terminal.
        lines = ["".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in line) for line in lines]
        super().__init__("\n".join(lines))
        self.lines = lines


class StackSettings(_Model):
    target: Target
    tier: Tier = Tier.LAB
    protect: bool = False
    domain: Domain
    sql: Sql
    network: Network
    nodes: list[Node] = Field(min_length=2, max_length=8)
    cluster: Cluster
    sso: Sso
    dtc: Dtc = Dtc(enabled=False)
    winrm: WinRm = WinRm()
    directory: Directory | None = None
    simulator: Simulator | None = None
    azure: Azure | None = None
    secrets: Secrets = Secrets()

    @property
    def master(self) -> Node:
        return self.nodes[0]

    def secret(self, key: str) -> str:
        """The plaintext of a secret key (camelCase), for handing to Pulumi as a secret Output."""
        value = getattr(self.secrets, _snake(key))
        if value is None:
            raise KeyError(key)
        return str(value.get_secret_value())


def _snake(camel: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in camel)


def _key(*path: str | int) -> str:
    text = f"{PROJECT}:"
    for index, part in enumerate(path):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if index else "") + part
    return text


_TOP_KEYS = [to_camel(name) for name in StackSettings.model_fields if name != "secrets"]


def _pydantic_lines(error: ValidationError, secret_keys: set[str]) -> list[str]:
    lines = []
    for item in error.errors(include_url=False, include_input=False):
        loc = list(item["loc"])
        if loc and loc[0] == "secrets":
            loc = loc[1:]
        message = item["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        kind = item["type"]
        if kind == "extra_forbidden":
            parent_model = _model_at(loc[:-1])
            known = [to_camel(n) for n in parent_model.model_fields] if parent_model else []
            if parent_model is StackSettings:
                known = _TOP_KEYS + list(SECRET_KEYS)
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            message = "unknown key" + (
                f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"
            )
        elif kind == "missing":
            message = "is required"
            if loc and loc[-1] in secret_keys:
                message += f"; set it with `pulumi config set --secret {_key(str(loc[-1]))}`"
        lines.append(f"{_key(*loc)}: {message}")
    return lines


def _model_at(loc: list[Any]) -> type[_Model] | None:
    model: type[_Model] | None = StackSettings
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(_snake(str(part)))
        if field is None:
            return None
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, _Model)), None)
    return model


def _cluster_resource_names(s: StackSettings) -> dict[str, str]:
    """The resources the stack's cluster holds besides the DTC disk, by name (F-CLU-31): what the scripts name
    (role_set/generic_service_set's ENTSSO, dtc_set's MSDTC-<role>), the roles' network names, and the names the
    cluster gives (assumed: F-CLU-09 P-04, F-CLU-08 P-03, F-CLU-11 P-06)."""
    names = {
        "Cluster Name": "the cluster's core name resource",
        s.sso.network_name: "the ENTSSO role's network name resource",
        f"IP Address {s.sso.ip}": "the ENTSSO role's IP address resource",
        "ENTSSO": "the ENTSSO Generic Service resource",
    }
    if s.cluster.witness == "cloud":
        names["Cloud Witness"] = "the cloud witness resource"
    if s.dtc.enabled:
        names[s.dtc.network_name] = "the DTC role's network name resource"
        names[f"MSDTC-{s.dtc.network_name}"] = "the DTC resource"
        if s.dtc.ip is not None:
            names[f"IP Address {s.dtc.ip}"] = "the DTC role's IP address resource"
    return names


def _reserved_in_subnet(subnet: ipaddress.IPv4Network) -> set[ipaddress.IPv4Address]:
    """Azure keeps the network address, .1 (gateway), .2 and .3 (DNS) and the broadcast address."""
    base = int(subnet.network_address)
    return {ipaddress.IPv4Address(base + i) for i in range(4)} | {subnet.broadcast_address}


def _cross_section_problems(s: StackSettings, stack: str | None) -> Iterable[str]:
    names: dict[str, str] = {}
    host_names = [(_key("nodes", i, "name"), n.name) for i, n in enumerate(s.nodes)]
    host_names += [(_key("cluster", "name"), s.cluster.name), (_key("sso", "networkName"), s.sso.network_name)]
    if s.dtc.enabled:
        host_names.append((_key("dtc", "networkName"), s.dtc.network_name))
    for key, machine in _lab_machines(s):
        host_names.append((f"{key[:-1]}.name", machine.name))
    for key, name in host_names:
        if name.upper() in names:
            yield f"{key}: '{name}' is already used by {names[name.upper()]}; every node and network name must differ"
        else:
            names[name.upper()] = key

    subnet = s.network.node_subnet_cidr
    reserved = _reserved_in_subnet(subnet)
    addresses: dict[ipaddress.IPv4Address, str] = {}
    ips = [(_key("nodes", i, "ip"), n.ip) for i, n in enumerate(s.nodes)] + [(_key("sso", "ip"), s.sso.ip)]
    if s.dtc.enabled and s.dtc.ip is not None:
        ips.append((_key("dtc", "ip"), s.dtc.ip))
    if s.cluster.ip is not None:
        ips.append((_key("cluster", "ip"), s.cluster.ip))
    for key, ip in ips:
        if ip not in subnet:
            yield f"{key}: {ip} is outside the node subnet {subnet}; pick an address inside it"
        elif ip in reserved:
            yield f"{key}: {ip} is one of the addresses Azure reserves in {subnet} (first four and last); pick another"
        elif ip in addresses:
            yield f"{key}: {ip} is already used by {addresses[ip]}; every node and client access point needs its own"
        else:
            addresses[ip] = key
    if s.dtc.enabled and s.dtc.probe_port == s.sso.probe_port:
        yield f"{_key('dtc', 'probePort')}: {s.dtc.probe_port} is the SSO role's probe port; use another"
    if s.cluster.management_point == "Singleton" and s.cluster.ip is None and s.target is Target.SIMULATOR:
        yield f"{_key('cluster', 'ip')}: a Singleton management point needs the cluster's own static address"
    if s.cluster.ip is not None and s.cluster.management_point != "Singleton":
        yield f"{_key('cluster', 'ip')}: only a Singleton management point has a core cluster IP; remove it"
    admin = ipaddress.ip_network(s.network.admin_cidr, strict=True)
    if admin.prefixlen < s.network.admin_cidr_limit:
        yield (
            f"{_key('network', 'adminCidr')}: {admin} is wider than the /{s.network.admin_cidr_limit} "
            f"{_key('network', 'adminCidrLimit')} allows; name the runner's or admins' addresses only"
        )
    if s.dtc.enabled:
        shares = reach.shared_disk_max_shares(s.dtc.disk_size_gb)
        if shares < len(s.nodes):
            yield (
                f"{_key('dtc', 'diskSizeGb')}: {s.dtc.disk_size_gb} GiB ({reach.shared_disk_tier(s.dtc.disk_size_gb)}) "
                f"can be shared by {shares} VMs and the stack has {len(s.nodes)} nodes; pick a larger size "
                "(up to 512 GiB: 3, up to 4096 GiB: 5, up to 32767 GiB: 10)"
            )

    if s.dtc.enabled:
        problem = windows_names.cluster_resource_name_problem(s.dtc.disk, _cluster_resource_names(s))
        if problem:
            yield f"{_key('dtc', 'disk')}: {problem}; give the disk resource a name of its own, e.g. Cluster Disk 1"

    media = s.sso.media
    if media is not None:
        staging = media.staging_directory.rstrip("\\")
        if not s.sso.installer.upper().startswith(staging.upper() + "\\"):
            yield (
                f"{_key('sso', 'installer')}: {s.sso.installer} is not inside sso.media.stagingDirectory "
                f"{media.staging_directory}, where the nodes stage the media; write it as "
                f"{staging}\\<path in the media>"
            )
    if s.target is Target.SIMULATOR:
        if reach.creates_directory(s):
            yield (
                f"{_key('directory', 'source')}: create builds a domain controller and SQL Server on Azure; the "
                "simulator's machines come with their domain and SQL Server (use target azure)"
            )
        if s.sso.media is not None:
            yield f"{_key('sso', 'media')}: the simulator's nodes have their media; only Azure stacks stage it"
        if s.azure is not None:
            yield f"{_key('azure')}: the simulator target builds nothing on Azure; remove it or set target: azure"
        if s.simulator is None:
            yield f"{_key('simulator')}: is required for target simulator"
    else:
        if s.azure is None:
            yield f"{_key('azure')}: is required for target azure"
        if s.simulator is not None:
            yield f"{_key('simulator')}: only the simulator target uses this key; remove it"
        if s.winrm.scheme != "https" or s.winrm.allow_http:
            yield f"{_key('winrm', 'scheme')}: Azure nodes are reached over https only; set scheme https"
        if s.winrm.certificate_validation == "ignore":
            yield f"{_key('winrm', 'certificateValidation')}: 'ignore' is for the simulator; use validate or pin"
        for key in ("vmAdminPassword", "domainJoinPassword"):
            if getattr(s.secrets, _snake(key)) is None:
                yield f"{_key(key)}: is required for target azure; set it with `pulumi config set --secret {_key(key)}`"
        if s.azure is not None:
            yield from _network_problems(s)
            yield from _directory_problems(s)
    for key in ("installPassword", "serviceAccountPassword", "backupPassword"):
        if getattr(s.secrets, _snake(key)) is None:
            yield f"{_key(key)}: is required; set it with `pulumi config set --secret {_key(key)}`"

    production = s.tier is Tier.PRODUCTION
    if stack is not None and stack.lower().startswith("prod") and not production:
        yield f"{_key('tier')}: stack '{stack}' is a production stack; set tier: production"
    if production:
        if s.target is not Target.AZURE:
            yield f"{_key('target')}: a production stack runs on azure"
        if reach.creates_directory(s):
            yield (
                f"{_key('directory', 'source')}: create builds a throwaway forest, SQL Server and accounts for a lab; "
                "production joins your existing directory: set source existing and dnsServers"
            )
        if s.azure is not None:
            if s.azure.placement != "zones":
                yield f"{_key('azure', 'placement')}: production needs availability zones; set placement: zones"
            if s.azure.winrm_access != "private":
                yield f"{_key('azure', 'winrmAccess')}: production reaches WinRM privately; set winrmAccess: private"
            if s.azure.escrow != "keyVault":
                yield f"{_key('azure', 'escrow')}: production escrows the master secret backup; set escrow: keyVault"
            elif s.azure.break_glass_group_id is None:
                yield (
                    f"{_key('azure', 'breakGlassGroupId')}: is required in production: the Entra ID group that may "
                    "read the escrowed master secret backup (Key Vault Secrets User)"
                )
            if not is_rfc1918(ipaddress.ip_network(s.network.admin_cidr)):
                yield (
                    f"{_key('network', 'adminCidr')}: {s.network.admin_cidr} is not a private (RFC 1918) range; "
                    "production admits WinRM only from a private runner or admin network behind the hub"
                )
        if s.winrm.certificate_validation not in ("validate", "pin"):
            yield f"{_key('winrm', 'certificateValidation')}: production validates certificates; use validate or pin"
        if s.winrm.skip_unreachable_on_delete:
            yield f"{_key('winrm', 'skipUnreachableOnDelete')}: production never skips a node on delete; set false"
        if not s.protect:
            yield f"{_key('protect')}: production protects the SSO resources from deletion; set protect: true"


def _lab_machines(s: StackSettings) -> list[tuple[str, Any]]:
    """(key path ending in '.', machine) of the VMs a self-contained lab builds beside the nodes."""
    directory = s.directory
    if directory is None or directory.source != "create":
        return []
    found: list[tuple[str, Any]] = []
    if directory.domain_controller is not None:
        found.append((_key("directory", "domainController") + ".", directory.domain_controller))
    if directory.sql_server is not None:
        found.append((_key("directory", "sqlServer") + ".", directory.sql_server))
    return found


_EXISTING_ONLY = ("dns_servers",)
_CREATE_ONLY = ("subnet_cidr", "domain_controller", "sql_server", "node_admin_group", "sql_service_account")
_CREATE_WHAT = {
    "subnet_cidr": "the subnet of the lab's DC and SQL Server inside network.vnetCidr, e.g. 10.20.2.0/24",
    "domain_controller": "the DC that creates the forest, e.g. {name: MSSLABDC1, ip: 10.20.2.4}",
    "sql_server": "the SQL Server 2022 Developer VM for SSODB, e.g. {name: MSSLABSQL1, ip: 10.20.2.5}",
    "node_admin_group": "the domain group made local Administrator on the nodes, e.g. CORP\\MSS Node Admins",
    "sql_service_account": "the domain account SQL Server runs as, e.g. CORP\\svc-sql",
}
# sAMAccountName: "must be 20 characters or less to support earlier clients" for users
# (learn.microsoft.com/windows/win32/adschema/a-samaccountname); a group's name is its cn, at most 64.
_USER_NAME_LIMIT = 20
_GROUP_NAME_LIMIT = 64
_OU_NAME = re.compile(r'^[^,=+<>#;\\"/]{1,64}$')


def _domain_dn(fqdn: str) -> str:
    return ",".join(f"DC={label}" for label in fqdn.split("."))


def lab_ou_name(s: StackSettings) -> str | None:
    """The cluster OU a self-contained lab creates: the one-level `azure.domainJoinOu`, or None if it is not one."""
    azure = s.azure
    if azure is None or azure.domain_join_ou is None:
        return None
    head, separator, rest = azure.domain_join_ou.partition(",")
    if not separator or not head.upper().startswith("OU=") or rest.upper() != _domain_dn(s.domain.fqdn).upper():
        return None
    name = head[3:]
    return name if _OU_NAME.match(name) else None


def _directory_problems(s: StackSettings) -> Iterable[str]:
    """directory.source: what each mode needs, and a self-contained lab that can be built."""
    directory = s.directory
    if directory is None:
        return
    create = directory.source == "create"
    for field in _CREATE_ONLY if not create else _EXISTING_ONLY:
        if getattr(directory, field) is not None:
            yield (
                f"{_key('directory', to_camel(field))}: only directory.source "
                f"{'create' if not create else 'existing'} uses this key; remove it"
            )
    if not create:
        if not directory.dns_servers:
            yield (
                f"{_key('directory', 'dnsServers')}: is required with source existing: the domain controllers that "
                "serve DNS to the nodes, e.g. [10.0.0.4]"
            )
        return
    for field, what in _CREATE_WHAT.items():
        if getattr(directory, field) is None:
            yield f"{_key('directory', to_camel(field))}: is required with source create: {what}"
    azure = s.azure
    assert azure is not None
    if s.network.existing_subnet_id is not None:
        yield (
            f"{_key('directory', 'source')}: create builds its DC and SQL Server in a subnet of the VNet this stack "
            "creates, but network.existingSubnetId puts the nodes in a network it does not own; remove "
            "existingSubnetId, or use source existing"
        )
    subnet = directory.subnet_cidr
    vnet = reach.vnet_ranges(s)[0]
    if subnet is not None:
        key = _key("directory", "subnetCidr")
        if s.network.vnet_cidr is None or not subnet.subnet_of(vnet):
            yield f"{key}: {subnet} is not inside network.vnetCidr {s.network.vnet_cidr}; pick a subnet of it"
        elif subnet.overlaps(s.network.node_subnet_cidr):
            yield f"{key}: {subnet} overlaps the node subnet {s.network.node_subnet_cidr}; pick another"
        elif subnet.prefixlen > 29:
            yield f"{key}: {subnet} is too small for a DC and SQL Server; use a /29 or larger"
        reserved = _reserved_in_subnet(subnet)
        seen: dict[ipaddress.IPv4Address, str] = {}
        for prefix, machine in _lab_machines(s):
            ip_key = f"{prefix}ip"
            if machine.ip not in subnet:
                yield f"{ip_key}: {machine.ip} is outside directory.subnetCidr {subnet}; pick an address inside it"
            elif machine.ip in reserved:
                yield f"{ip_key}: {machine.ip} is one of the addresses Azure reserves in {subnet}; pick another"
            elif machine.ip in seen:
                yield f"{ip_key}: {machine.ip} is already used by {seen[machine.ip]}; each VM needs its own"
            else:
                seen[machine.ip] = ip_key
    sql_vm = directory.sql_server
    if sql_vm is not None:
        wanted = {sql_vm.name.upper(), f"{sql_vm.name}.{s.domain.fqdn}".upper()}
        if s.sql.server.upper() not in wanted:
            yield (
                f"{_key('sql', 'server')}: '{s.sql.server}' is not the lab's SQL Server; with directory.source create "
                f"set it to {sql_vm.name}.{s.domain.fqdn}"
            )
    if lab_ou_name(s) is None:
        yield (
            f"{_key('azure', 'domainJoinOu')}: the lab creates the cluster's OU at the top of the domain: write it "
            f"as OU=<name>,{_domain_dn(s.domain.fqdn)} (a name without , = + < > # ; \\ \" /)"
        )
    netbios = s.domain.netbios.upper()
    users = {
        _key("domain", "installAccount"): s.domain.install_account,
        _key("domain", "serviceAccount"): s.domain.service_account,
        _key("azure", "domainJoinAccount"): azure.domain_join_account,
    }
    if directory.sql_service_account is not None:
        users[_key("directory", "sqlServiceAccount")] = directory.sql_service_account
    groups = {
        _key("domain", "ssoAdminGroup"): s.domain.sso_admin_group,
        _key("domain", "ssoAffiliateAdminGroup"): s.domain.sso_affiliate_admin_group,
    }
    if directory.node_admin_group is not None:
        groups[_key("directory", "nodeAdminGroup")] = directory.node_admin_group
    names: dict[str, str] = {}
    for kind, entries, limit in (("account", users, _USER_NAME_LIMIT), ("group", groups, _GROUP_NAME_LIMIT)):
        for key, account in entries.items():
            domain, _, name = account.partition("\\")
            if domain.upper() != netbios:
                yield f"{key}: '{account}' is not in domain {netbios}; the lab creates it there: {netbios}\\{name}"
            elif len(name) > limit:
                yield f"{key}: '{name}' is {len(name)} characters; a {kind} the lab creates may have {limit}"
            elif name.upper() in names:
                yield (
                    f"{key}: '{account}' is also {names[name.upper()]}; each account and group the lab creates needs "
                    "its own name (each account gets its own password)"
                )
            else:
                names[name.upper()] = key
    for key in ("dsrmPassword", "sqlServicePassword"):
        if getattr(s.secrets, _snake(key)) is None:
            yield (
                f"{_key(key)}: is required with directory.source create; "
                f"set it with `pulumi config set --secret {_key(key)}`"
            )


# The passwords a self-contained lab sets on the accounts it creates, and the account each belongs to.
def _created_accounts(s: StackSettings) -> dict[str, str | None]:
    return {
        "installPassword": s.domain.install_account,
        "serviceAccountPassword": s.domain.service_account,
        "domainJoinPassword": s.azure.domain_join_account if s.azure else None,
        "sqlServicePassword": s.directory.sql_service_account if s.directory else None,
        "dsrmPassword": None,
    }


def _created_password_problems(s: StackSettings, encrypted: set[str]) -> Iterable[str]:
    """A self-contained lab sets these passwords on new accounts: Windows' complexity rule must accept them."""
    if not reach.creates_directory(s):
        return
    for key, account in _created_accounts(s).items():
        value = getattr(s.secrets, _snake(key))
        if value is None or key in encrypted:
            continue
        problem = windows_password_problem(value.get_secret_value(), account.split("\\")[-1] if account else None)
        if problem:
            yield f"{_key(key)}: {problem}"


def _network_problems(s: StackSettings) -> Iterable[str]:
    """Azure: the nodes reach their DNS servers, the operator reaches the nodes, nothing is wider than asked."""
    azure = s.azure
    assert azure is not None
    network = s.network
    hub = network.hub
    vnet = reach.vnet_ranges(s)[0]
    existing = network.existing_subnet_id is not None

    if existing and hub is not None and hub.vnet_id is not None:
        yield (
            f"{_key('network', 'hub', 'vnetId')}: the nodes go into an existing subnet, whose VNet's peering is its "
            "owners' business; remove vnetId and keep hub.addressSpace (what that peering reaches)"
        )
    for index, cidr in enumerate(reach.hub_ranges(s)):
        if cidr.overlaps(vnet):
            yield (
                f"{_key('network', 'hub', 'addressSpace', index)}: {cidr} overlaps the nodes' network {vnet}; "
                "peered address spaces must not overlap"
            )

    # DNS: every server must be one the nodes can reach, and one that can exist there.
    if s.directory is None:
        yield (
            f"{_key('directory')}: is required for target azure: the domain controllers that serve DNS, "
            "e.g. directory: {source: existing, dnsServers: [10.0.0.4]}, or directory: {source: create} in a lab"
        )
    elif s.directory.source == "existing":
        node_ips = {n.ip for n in s.nodes} | {s.sso.ip} | ({s.dtc.ip} if s.dtc.ip else set())
        for index, server in enumerate(s.directory.dns_servers or []):
            key = _key("directory", "dnsServers", index)
            route = reach.route_to(s, server)
            if server in node_ips:
                yield f"{key}: {server} is a cluster node or client access point, not a domain controller"
            elif route is None:
                where = ", ".join(str(r.cidr) for r in reach.reachable(s))
                yield (
                    f"{key}: {server} is outside every range the nodes reach ({where}); peer the hub that holds "
                    f"your domain controllers ({_key('network', 'hub')}) or list its range in hub.addressSpace"
                )
            elif server in vnet and not existing:
                yield (
                    f"{key}: {server} is inside the VNet this stack builds, where nothing serves DNS; point at "
                    f"domain controllers in the hub, or let a lab build its own ({_key('directory', 'source')}: create)"
                )

    # The operator's way to WinRM.
    admin = ipaddress.ip_network(network.admin_cidr, strict=True)
    key = _key("network", "adminCidr")
    if not isinstance(admin, ipaddress.IPv4Network):
        yield f"{key}: Azure network security rules here are IPv4; give an IPv4 CIDR"
    elif azure.winrm_access == "publicLoadBalancer":
        if is_rfc1918(admin) or not (admin.is_global or admin.is_private):
            yield (
                f"{key}: {admin} cannot reach a public load balancer with its own address; with "
                "winrmAccess publicLoadBalancer give the public address range your traffic leaves from"
            )
        last = azure.public_entry_first_port + len(s.nodes) - 1
        if last > 65535:
            yield f"{_key('azure', 'publicEntryFirstPort')}: node {len(s.nodes)} would need port {last}; lower it"
    else:
        route = reach.route_to(s, admin)
        if not is_rfc1918(admin):
            yield (
                f"{key}: {admin} is not a private (RFC 1918) range, but winrmAccess private reaches the nodes' "
                "private addresses; give the runner's private range, or use winrmAccess publicLoadBalancer (lab)"
            )
        elif route is None:
            yield (
                f"{key}: {admin} cannot arrive at the nodes: it is in neither the VNet nor a peered range "
                f"({', '.join(str(r.cidr) for r in reach.reachable(s))}); add its range to "
                f"{_key('network', 'hub', 'addressSpace')} if the hub routes it"
            )
        elif admin.subnet_of(vnet) and not existing:
            yield (
                f"{key}: {admin} is inside the VNet this stack builds, where no runner can be before the stack "
                "exists; run pulumi up from a network in the hub (hub.addressSpace)"
            )
        elif admin.overlaps(network.node_subnet_cidr):
            yield f"{key}: {admin} overlaps the node subnet {network.node_subnet_cidr}; name the runner's subnet"

    # Private endpoints must resolve: the zones have to be where the nodes' DNS servers look.
    if reach.private_endpoints(s) and s.directory is not None:
        outside = [d for d in reach.dns_servers(s) if d not in vnet]
        zones = network.private_dns_zone_ids
        linked = hub is not None and hub.vnet_id is not None
        if outside and not linked and (zones is None or zones.blob is None or zones.vault is None):
            yield (
                f"{_key('network', 'privateDnsZoneIds')}: the nodes ask DNS servers outside this VNet "
                f"({', '.join(map(str, outside))}) and there is no hub.vnetId to link privatelink zones to; give "
                "the ids of the privatelink.blob.core.windows.net and privatelink.vaultcore.azure.net zones they "
                "resolve"
            )
        if not existing and reach.endpoint_subnet_cidr(s) is None:
            yield (
                f"{_key('network', 'vnetCidr')}: {vnet} has no free /{reach.ENDPOINT_SUBNET_PREFIX} for the private "
                "endpoints' subnet; widen it"
            )

    if s.cluster.management_point == "Singleton":
        yield (
            f"{_key('cluster', 'managementPoint')}: Singleton needs a static core cluster IP behind its own load "
            "balancer frontend and probe, which this project does not build on Azure; use Distributed (Microsoft's "
            "default for clusters on Azure VMs, Windows Server 2019 and later)"
        )
    if azure.bastion == "Developer" and azure.location not in reach.BASTION_DEVELOPER_REGIONS:
        yield (
            f"{_key('azure', 'bastion')}: the Developer SKU is not offered in {azure.location} (Microsoft lists "
            f"{', '.join(sorted(reach.BASTION_DEVELOPER_REGIONS))}); use none, Basic or Standard"
        )
    if azure.bastion in ("Basic", "Standard"):
        if existing:
            yield (
                f"{_key('azure', 'bastion')}: {azure.bastion} needs an AzureBastionSubnet this stack creates, but "
                "network.existingSubnetId puts the nodes in a network it does not own; use none or the hub's Bastion"
            )
        elif reach.bastion_subnet_cidr(s) is None:
            yield (
                f"{_key('network', 'vnetCidr')}: {vnet} has no free /{reach.BASTION_SUBNET_PREFIX} for "
                "AzureBastionSubnet; widen it, or set azure.bastion to none"
            )


def validate_stack(
    config: Mapping[str, Any],
    *,
    stack: str | None = None,
    encrypted: Iterable[str] = (),
    plain_secrets_allowed: bool = True,
) -> StackSettings:
    """Validate a stack's project config (keys without the `entsso-cluster:` prefix).

    `encrypted` names secret keys whose value is ciphertext here (a stack file read without the
    passphrase): they count as present, and their strength is checked when Pulumi decrypts them.
    """
    encrypted_keys = set(encrypted)
    data: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    lines: list[str] = []
    for key, value in config.items():
        if key in SECRET_KEYS:
            if not plain_secrets_allowed and key not in encrypted_keys:
                lines.append(f"{_key(key)}: is stored in plain text; run `pulumi config set --secret {_key(key)}`")
            secrets[key] = value
        else:
            data[key] = value
    data["secrets"] = secrets
    try:
        settings = StackSettings.model_validate(data, context={"encrypted": encrypted_keys})
    except ValidationError as error:
        raise SettingsError(lines + _pydantic_lines(error, set(SECRET_KEYS))) from None
    lines += list(_cross_section_problems(settings, stack))
    lines += list(_created_password_problems(settings, encrypted_keys))
    if lines:
        raise SettingsError(lines)
    return settings
