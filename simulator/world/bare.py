"""The self-contained lab's machines as Azure hands them over: no forest, no accounts, nothing joined.

`bare_world` builds what `pulumi up -s lab` finds before its first Run Command (docs/lab.md "Order, and why"):
- the would-be domain controller: Windows Server 2022, workgroup (DomainRole 2), its Azure admin account (the
  renamed built-in Administrator), a RAW data disk at LUN 0 for the directory database;
- the SQL Server VM of the marketplace image sql2022-ws2022 / sqldev-gen2: workgroup, SQL Server 2022 Developer's
  default instance running as NT Service\\MSSQLSERVER, TCP/IP disabled (F-SQL-02), the image's admin a sysadmin
  (F-SQL-06);
- the cluster nodes: workgroup, a system-assigned managed identity, no media.
The lab's scripts (components/scripts/*.ps1) then turn it into the world `seed_world` builds for a stack whose
directory exists (tests/test_world_lab.py compares the two).
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid
from collections.abc import Mapping

from simulator.world.model import (
    Disk,
    Domain,
    FirewallRule,
    Node,
    Service,
    SqlServer,
    User,
    World,
    key,
    path_key,
)
from simulator.world.seed import STANDARD_DIRECTORIES

DATA_DISK_BYTES = 32 * 1024**3  # components/directory.py NTDS_DISK_GB
SQL_SERVICE = "MSSQLSERVER"
SQL_VIRTUAL_ACCOUNT = "NT Service\\MSSQLSERVER"
# The built-in MSDTC rules of Windows Server ("Distributed Transaction Coordinator" group, disabled by default;
# names as `Get-NetFirewallRule -DisplayGroup` lists them, assumed: F-NET-06).
DTC_RULES = (
    ("MSDTC-In-TCP", "Distributed Transaction Coordinator (TCP-In)", "Inbound"),
    ("MSDTC-Out-TCP", "Distributed Transaction Coordinator (TCP-Out)", "Outbound"),
    ("MSDTC-RPCSS-In-TCP", "Distributed Transaction Coordinator (RPC-EPMAP)", "Inbound"),
    ("MSDTC-KTMRMTM-In-TCP", "Distributed Transaction Coordinator (RPC)", "Inbound"),
)
DTC_GROUP = "Distributed Transaction Coordinator"


def machine_sid(name: str) -> str:
    digest = hashlib.sha256(("machine:" + name.lower()).encode("utf-8")).digest()
    return "S-1-5-21-" + "-".join(str(int.from_bytes(digest[i : i + 4], "little")) for i in (0, 4, 8))


def _machine(name: str, ip: str, admin: str, password: str, subnet: str | None) -> Node:
    node = Node(name=name, ip=ip, domain_role=2)
    local = User.with_password(admin, password)
    local.sid = machine_sid(name) + "-500"  # Azure's admin account is the renamed built-in Administrator (F-AD-02)
    node.local_users[key(admin)] = local
    node.administrators = [f"{name}\\{admin}"]
    if subnet is not None:
        network = ipaddress.IPv4Network(subnet, strict=False)
        node.prefix_length, node.gateway = network.prefixlen, str(network.network_address + 1)
    for service, display, account in (
        ("MSDTC", "Distributed Transaction Coordinator", "NT AUTHORITY\\NetworkService"),
        ("WinRM", "Windows Remote Management (WS-Management)", "NT AUTHORITY\\NetworkService"),
    ):
        node.services[key(service)] = Service(service, display, "Running", "Auto", account, "scm")
    for folder in STANDARD_DIRECTORIES:
        node.directories[path_key(folder)] = folder
    for rule_name, display, direction in DTC_RULES:
        node.firewall_rules[key(rule_name)] = FirewallRule(
            rule_name, display, direction, "Allow", False, "Any", "TCP", group=DTC_GROUP
        )
    return node


def bare_world(
    *,
    domain_controller: tuple[str, str],
    sql_server: tuple[str, str],
    sql_dns_name: str,
    nodes: Mapping[str, str],
    admin_username: str,
    admin_password: str,
    infra_subnet: str | None = None,
    node_subnet: str | None = None,
) -> World:
    """The lab's VMs before any Run Command: (name, ip) of the DC and of SQL Server, the cluster nodes by name."""
    world = World(domain=Domain(fqdn="", netbios="", online=False), sql=SqlServer(name=sql_dns_name))
    dc_name, dc_ip = domain_controller
    dc = _machine(dc_name, dc_ip, admin_username, admin_password, infra_subnet)
    # The data disk Azure attached for the directory database: RAW, the first data disk (disk 2 after the OS and
    # temporary disks; F-AZ-03 for how a data disk arrives).
    dc.data_disks.append(
        Disk(
            number=2,
            lun=0,
            size=DATA_DISK_BYTES,
            unique_id="{" + str(uuid.uuid5(uuid.NAMESPACE_DNS, f"ntds.{dc_name}")) + "}",
        )
    )
    world.nodes[key(dc_name)] = dc

    sql_name, sql_ip = sql_server
    sql = _machine(sql_name, sql_ip, admin_username, admin_password, infra_subnet)
    sql.services[key(SQL_SERVICE)] = Service(
        SQL_SERVICE, "SQL Server (MSSQLSERVER)", "Running", "Auto", SQL_VIRTUAL_ACCOUNT, "scm"
    )
    world.nodes[key(sql_name)] = sql
    world.sql = SqlServer(
        name=sql_dns_name,
        host=sql_name,
        # F-SQL-06: the image's administrator is a sysadmin; the service's virtual account is one by default
        sysadmins=[f"{sql_name}\\{admin_username}", SQL_VIRTUAL_ACCOUNT],
        logins=["NT AUTHORITY\\SYSTEM"],
        service_account=SQL_VIRTUAL_ACCOUNT,
        tcp_enabled=False,  # F-SQL-02
    )

    for name, ip in nodes.items():
        node = _machine(name, ip, admin_username, admin_password, node_subnet)
        world.nodes[key(name)] = node
    return world
