"""Everything Azure under the SSO cluster, in one call for `__main__.py` (target azure).

    foundation = azure_foundation(config)
    SsoMasterSecretCluster("mss", config, foundation.nodes, foundation.witness, foundation.escrow)

Order: network (VNet, hub peering, privatelink zones; a self-contained lab's snet-infra) -> in a
self-contained lab (directory.source create) its domain controller and forest, its SQL Server, the
accounts and the cluster OU -> the lab's operator entry -> cluster infrastructure (witness, internal load
balancer, shared disk) -> the nodes, whose NICs join the load balancer's backend pool (and the entry's NAT
rules), whose VMs attach the shared disk, and which in a self-contained lab join only once the forest
answers -> escrow vault. docs/network.md shows the traffic this builds; `ops runbook` lists the steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components.access import Escrow, NodeAccess, WitnessAccess
from components.directory import JoinGate, LabDirectory
from components.entry import OperatorEntry
from components.escrow import KeyVaultEscrow
from components.failover_cluster import (
    SHARED_DISK_LUN,
    WITNESS_ENDPOINT_SUFFIX,
    ClientAccessPoint,
    ClusterInfrastructure,
)
from components.network import Network
from components.sql import LabSqlServer
from components.windows_node import WindowsNode, WindowsNodeArgs, availability_set
from settings import PROJECT, StackSettings, Target, reach


def stack_tags(stack: str, config: StackSettings) -> dict[str, str]:
    return {"project": PROJECT, "stack": stack, "tier": config.tier.value}


@dataclass(frozen=True)
class SharedDisk:
    """The clustered DTC's disk, attached to every node at `lun`; Windows names it `cluster_disk_name`."""

    id: pulumi.Output[str]
    lun: int
    cluster_disk_name: str


@dataclass(frozen=True)
class AzureFoundation:
    nodes: list[NodeAccess]  # in settings order: nodes[0] is the master
    witness: WitnessAccess | None  # None only when cluster.witness is "none"
    escrow: Escrow | None  # None only when azure.escrow is "none"
    sso_access_point: ClientAccessPoint  # the ILB frontend IP and the probe port for the SSO role's IP
    dtc_access_point: ClientAccessPoint | None
    shared_disk: SharedDisk | None
    network: Network
    entry: OperatorEntry | None  # lab: the public load balancer in front of WinRM
    cluster: ClusterInfrastructure
    node_components: list[WindowsNode]
    escrow_vault: KeyVaultEscrow | None
    directory: LabDirectory | None = None  # self-contained lab: the DC, the forest, the accounts, the cluster OU
    sql: LabSqlServer | None = None  # self-contained lab: SQL Server 2022 Developer for SSODB


def azure_foundation(
    config: StackSettings,
    *,
    stack: str | None = None,
    tags: Mapping[str, str] | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> AzureFoundation:
    azure = config.azure
    if config.target is not Target.AZURE or azure is None:
        raise ValueError("azure_foundation is for target azure stacks (entsso-cluster:target: azure)")
    stack = stack if stack is not None else pulumi.get_stack()
    tag_map = dict(tags) if tags is not None else stack_tags(stack, config)

    net = Network("network", config, tag_map, opts=opts)
    directory, sql, gate = _self_contained_lab(config, net, tag_map, opts)
    entry = None
    if azure.winrm_access == "publicLoadBalancer":
        entry = OperatorEntry("entry", config, resource_group_name=net.resource_group_name, tags=tag_map, opts=opts)
    infra = ClusterInfrastructure(
        "cluster",
        config,
        stack=stack,
        resource_group_name=net.resource_group_name,
        subnet_id=net.subnet_id,
        tags=tag_map,
        endpoint_subnet_id=net.endpoint_subnet_id,
        private_dns=net.private_dns,
        egress_ip=net.nat_public_ip_address,
        opts=opts,
    )

    avset_id: pulumi.Output[str] | None = None
    if azure.placement == "availabilitySet":
        avset = availability_set(
            "nodes-avset",
            config,
            net.resource_group_name,
            tag_map,
            opts=opts,
        )
        avset_id = avset.id

    nodes = []
    for index, node in enumerate(config.nodes):
        zone = azure.zones[index % len(azure.zones)] if azure.placement == "zones" else None
        nodes.append(
            WindowsNode(
                f"node-{node.name.lower()}",
                WindowsNodeArgs(
                    config=config,
                    node=node,
                    resource_group_name=net.resource_group_name,
                    subnet_id=net.subnet_id,
                    backend_pool_id=infra.backend_pool_id,
                    tags=tag_map,
                    nic_security_group_id=net.nic_security_group_id,
                    availability_set_id=avset_id,
                    zone=zone,
                    shared_disk_id=infra.shared_disk_id,
                    entry=entry,
                    directory=gate,
                ),
                opts=opts,
            )
        )

    vault = None
    if azure.escrow == "keyVault":
        vault = KeyVaultEscrow(
            "escrow",
            config,
            stack=stack,
            resource_group_name=net.resource_group_name,
            tags=tag_map,
            endpoint_subnet_id=net.endpoint_subnet_id,
            private_dns=net.private_dns,
            opts=opts,
        )

    witness = None
    if infra.witness_account_name is not None and infra.witness_access_key is not None:
        witness = WitnessAccess(
            account_name=infra.witness_account_name,
            access_key=infra.witness_access_key,
            endpoint_suffix=WITNESS_ENDPOINT_SUFFIX,
        )

    points = {point.role: point for point in infra.access_points}
    shared_disk = (
        SharedDisk(id=infra.shared_disk_id, lun=SHARED_DISK_LUN, cluster_disk_name=config.dtc.disk)
        if infra.shared_disk_id is not None
        else None
    )
    return AzureFoundation(
        nodes=[node.access for node in nodes],
        witness=witness,
        escrow=vault.escrow if vault is not None else None,
        sso_access_point=points["sso"],
        dtc_access_point=points.get("dtc"),
        shared_disk=shared_disk,
        network=net,
        entry=entry,
        cluster=infra,
        node_components=nodes,
        escrow_vault=vault,
        directory=directory,
        sql=sql,
    )


def _self_contained_lab(
    config: StackSettings,
    net: Network,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions | None,
) -> tuple[LabDirectory | None, LabSqlServer | None, JoinGate | None]:
    """directory.source create: the DC and its forest, SQL Server, then the accounts and the OU, in that order.

    The DC's next step after its promotion waits for SQL Server's WaitForDirectory (the forest answers only
    after the DC's restart), and SQL Server joins only once the accounts exist: see components/directory.py.
    """
    if not reach.creates_directory(config):
        return None, None, None
    directory_settings = config.directory
    if net.infra_subnet_id is None or directory_settings is None or directory_settings.node_admin_group is None:
        raise ValueError("a self-contained lab needs its snet-infra and directory.nodeAdminGroup")
    directory = LabDirectory(
        "directory",
        config,
        resource_group_name=net.resource_group_name,
        subnet_id=net.infra_subnet_id,
        tags=tags,
        opts=opts,
    )
    sql = LabSqlServer(
        "sql",
        config,
        resource_group_name=net.resource_group_name,
        subnet_id=net.infra_subnet_id,
        dc_address=directory.dc_ip,
        forest=directory.forest,
        tags=tags,
        opts=opts,
    )
    directory.populate(answered=sql.directory_answers)
    sql.configure(accounts=directory.accounts)
    gate = JoinGate(
        dc_address=directory.dc_ip,
        forest=directory.forest,
        joinable=[directory.cluster_ou],
        ready=[sql.configured],
        node_admin_group=directory_settings.node_admin_group,
    )
    return directory, sql, gate
