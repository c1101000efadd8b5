"""A fresh world for a stack, from plain values (the lead maps stack settings onto these arguments)."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping, Sequence

from simulator.world.model import (
    ComputerObject,
    Disk,
    Domain,
    Group,
    Node,
    Service,
    SqlServer,
    User,
    World,
    key,
    path_key,
)

INSTALLER_PLACEHOLDER = b"MZ simulated BizTalk/HIS setup media"
# Host Integration Server ships as an .msi (F-SSO-27): an OLE compound file, as every Windows Installer package.
MSI_PLACEHOLDER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 simulated Host Integration Server package"


# The folders every Windows Server has (the scripts write under C:\Windows\Temp and C:\ProgramData).
STANDARD_DIRECTORIES = (
    "C:\\Windows",
    "C:\\Windows\\System32",
    "C:\\Windows\\Temp",
    "C:\\ProgramData",
    "C:\\Program Files",
    "C:\\Program Files\\Common Files",
    "C:\\Program Files (x86)",
    "C:\\Users",
)

SHARED_DISK_BYTES = 32 * 1024**3  # the stacks' default shared disk, a P4 (settings dtc.diskSizeGb)


def _sam(account: str) -> str:
    return account.split("\\", 1)[-1].split("@", 1)[0]


def seed_world(
    *,
    domain_fqdn: str,
    domain_netbios: str,
    users: Mapping[str, str],
    groups: Mapping[str, Sequence[str]],
    install_account: str,
    sql_server: str,
    nodes: Mapping[str, str],
    database: str = "SSODB",
    cluster_disks: Sequence[str] = (),
    installer_path: str = r"C:\Install\BizTalk\Setup.exe",
    administrators: Sequence[str] | None = None,
    sql_sysadmins: Sequence[str] | None = None,
    computer_creators: Sequence[str] | None = None,
    node_subnet: str | None = None,
) -> World:
    """Build the world before step 1: domain-joined nodes with the setup media, SQL up, no SSODB, no cluster.

    `users` maps account (DOMAIN\\name or name) to password; the domain keeps its NT hash only.
    `groups` maps group to its members. The install account is a local administrator on every node,
    a SQL sysadmin and may create computer objects unless the three lists say otherwise.
    `node_subnet` (CIDR) gives the nodes' subnet mask and gateway (its first address); default /24.
    """
    domain = Domain(fqdn=domain_fqdn, netbios=domain_netbios)
    for account, password in users.items():
        domain.users[key(_sam(account))] = User.with_password(_sam(account), password)
    for group, members in groups.items():
        domain.groups[key(_sam(group))] = Group(_sam(group), [_sam(m) for m in members])
    domain.computer_creators = list(computer_creators if computer_creators is not None else [install_account])
    sql = SqlServer(
        name=sql_server, sysadmins=list(sql_sysadmins if sql_sysadmins is not None else [install_account])
    )
    world = World(domain=domain, sql=sql)
    # The shared disks arrive RAW, attached to every node at LUN 0, 1, ... (F-AZ-03); on an Azure VM the OS
    # disk is disk 0 and the temporary disk 1, so the first data disk is disk 2.
    world.disks = [
        Disk(
            number=2 + lun,
            lun=lun,
            size=SHARED_DISK_BYTES,
            unique_id="{" + str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{lun}.{name}.disks.{domain_fqdn}")) + "}",
        )
        for lun, name in enumerate(cluster_disks)
    ]
    admins = list(administrators if administrators is not None else [install_account])
    _ = database  # SSODB does not exist until SSO is configured (Create); the name comes with that step
    for name, ip in nodes.items():
        node = Node(name=name, ip=ip, administrators=list(admins))
        if node_subnet is not None:
            subnet = ipaddress.IPv4Network(node_subnet, strict=False)
            if ipaddress.IPv4Address(ip) not in subnet:
                raise ValueError(f"node {name} ({ip}) is outside its subnet {node_subnet}")
            node.prefix_length, node.gateway = subnet.prefixlen, str(subnet.network_address + 1)
        node.services[key("MSDTC")] = Service(
            "MSDTC",
            "Distributed Transaction Coordinator",
            "Running",
            "Auto",
            "NT AUTHORITY\\NetworkService",
            "scm",
        )
        node.services[key("WinRM")] = Service(
            "WinRM",
            "Windows Remote Management (WS-Management)",
            "Running",
            "Auto",
            "NT AUTHORITY\\NetworkService",
            "scm",
        )
        for folder in STANDARD_DIRECTORIES:
            node.directories[path_key(folder)] = folder
        media = MSI_PLACEHOLDER if installer_path.lower().endswith(".msi") else INSTALLER_PLACEHOLDER
        node.write_file(installer_path, media)
        world.nodes[key(name)] = node
        domain.computers[key(name)] = ComputerObject(name, "computer")
    return world
