"""The network the cluster nodes live in: `entsso:network:Network`.

Resource group (or an existing one), VNet and node subnet (or an existing subnet), the node NSG,
a NAT gateway for outbound traffic, and optionally Azure Bastion. No node ever gets a public IP:
the only public addresses are the NAT gateway's and, for the Basic/Standard Bastion SKUs, Bastion's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network, resources

from settings import StackSettings

BASTION_SUBNET_NAME = "AzureBastionSubnet"  # Azure requires exactly this name
BASTION_SUBNET_PREFIX = 26  # the smallest subnet Bastion Basic/Standard accept
# Bastion Developer has no subnet of its own: it reaches the VM from the Azure platform address.
BASTION_DEVELOPER_SOURCE = "168.63.129.16/32"

# Intra-cluster traffic between the nodes: RPC endpoint mapper, SMB, the cluster service and
# dynamic RPC (Windows' default range). WinRM (5985/5986) is deliberately not in this list.
CLUSTER_TCP_PORTS = ["135", "445", "3343", "49152-65535"]
CLUSTER_UDP_PORTS = ["3343"]
# ENTSSO and MSDTC clients reach the client access points over RPC: the endpoint mapper, then a
# dynamic port.
RPC_CLIENT_PORTS = ["135", "49152-65535"]

DENY_ALL_PRIORITY = 4096  # the last custom priority, so every allow rule above wins


@dataclass(frozen=True)
class ProbeRule:
    name: str
    port: int


def security_rules(config: StackSettings, bastion_source: str | None) -> list[network.SecurityRuleArgs]:
    """The node NSG's inbound rules, most specific first and an explicit deny-all last."""
    subnet = str(config.network.node_subnet_cidr)
    rules = [
        network.SecurityRuleArgs(
            name="AllowWinRmHttpsFromAdmin",
            description="WinRM over HTTPS from the admin/runner CIDR only",
            priority=100,
            direction="Inbound",
            access="Allow",
            protocol="Tcp",
            source_address_prefix=config.network.admin_cidr,
            source_port_range="*",
            destination_address_prefix=subnet,
            destination_port_range=str(config.winrm.port),
        )
    ]
    for offset, probe in enumerate(probe_rules(config)):
        rules.append(
            network.SecurityRuleArgs(
                name=probe.name,
                description="Azure load balancer health probe for a clustered IP",
                priority=110 + offset,
                direction="Inbound",
                access="Allow",
                protocol="Tcp",
                source_address_prefix="AzureLoadBalancer",
                source_port_range="*",
                destination_address_prefix=subnet,
                destination_port_range=str(probe.port),
            )
        )
    if bastion_source is not None:
        rules.append(
            network.SecurityRuleArgs(
                name="AllowRdpFromBastion",
                description="RDP from Azure Bastion only",
                priority=120,
                direction="Inbound",
                access="Allow",
                protocol="Tcp",
                source_address_prefix=bastion_source,
                source_port_range="*",
                destination_address_prefix=subnet,
                destination_port_range="3389",
            )
        )
    rules += [
        network.SecurityRuleArgs(
            name="AllowClusterTcpBetweenNodes",
            description="failover cluster traffic between the nodes",
            priority=130,
            direction="Inbound",
            access="Allow",
            protocol="Tcp",
            source_address_prefix=subnet,
            source_port_range="*",
            destination_address_prefix=subnet,
            destination_port_ranges=CLUSTER_TCP_PORTS,
        ),
        network.SecurityRuleArgs(
            name="AllowClusterUdpBetweenNodes",
            description="failover cluster heartbeats between the nodes",
            priority=131,
            direction="Inbound",
            access="Allow",
            protocol="Udp",
            source_address_prefix=subnet,
            source_port_range="*",
            destination_address_prefix=subnet,
            destination_port_ranges=CLUSTER_UDP_PORTS,
        ),
        network.SecurityRuleArgs(
            name="AllowIcmpBetweenNodes",
            description="cluster validation pings the other nodes",
            priority=132,
            direction="Inbound",
            access="Allow",
            protocol="Icmp",
            source_address_prefix=subnet,
            source_port_range="*",
            destination_address_prefix=subnet,
            destination_port_range="*",
        ),
        network.SecurityRuleArgs(
            name="AllowRpcClientsToAccessPoints",
            description="SSO/DTC clients in the virtual network reach the clustered access points",
            priority=140,
            direction="Inbound",
            access="Allow",
            protocol="Tcp",
            source_address_prefix="VirtualNetwork",
            source_port_range="*",
            destination_address_prefixes=[f"{ip}/32" for ip in access_point_ips(config)],
            destination_port_ranges=RPC_CLIENT_PORTS,
        ),
        network.SecurityRuleArgs(
            name="DenyAllInbound",
            description="everything not allowed above, including Azure's default AllowVnetInBound",
            priority=DENY_ALL_PRIORITY,
            direction="Inbound",
            access="Deny",
            protocol="*",
            source_address_prefix="*",
            source_port_range="*",
            destination_address_prefix="*",
            destination_port_range="*",
        ),
    ]
    return rules


def probe_rules(config: StackSettings) -> list[ProbeRule]:
    rules = [ProbeRule("AllowLbProbeSso", config.sso.probe_port)]
    if config.dtc.enabled:
        rules.append(ProbeRule("AllowLbProbeDtc", config.dtc.probe_port))
    return rules


def access_point_ips(config: StackSettings) -> list[str]:
    ips = [str(config.sso.ip)]
    if config.dtc.enabled and config.dtc.ip is not None:
        ips.append(str(config.dtc.ip))
    return ips


def bastion_subnet_cidr(vnet: ipaddress.IPv4Network, taken: Sequence[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """The highest /26 of the VNet that overlaps none of `taken` (deterministic, away from the nodes)."""
    if vnet.prefixlen > BASTION_SUBNET_PREFIX:
        raise ValueError(
            f"entsso-cluster:network.vnetCidr {vnet} is smaller than the /{BASTION_SUBNET_PREFIX} "
            "Azure Bastion needs; widen it, or set azure.bastion to Developer or none"
        )
    for candidate in reversed(list(vnet.subnets(new_prefix=BASTION_SUBNET_PREFIX))):
        if not any(candidate.overlaps(other) for other in taken):
            return candidate
    raise ValueError(
        f"entsso-cluster:network.vnetCidr {vnet} has no free /{BASTION_SUBNET_PREFIX} for "
        "AzureBastionSubnet; widen it, or set azure.bastion to Developer or none"
    )


def _vnet_id_of_subnet(subnet_id: str) -> str:
    head, separator, _ = subnet_id.rpartition("/subnets/")
    if not separator or "/virtualNetworks/" not in head:
        raise ValueError(
            f"entsso-cluster:network.existingSubnetId '{subnet_id}' is not a subnet resource id "
            "(/subscriptions/.../virtualNetworks/<vnet>/subnets/<subnet>)"
        )
    return head


class Network(pulumi.ComponentResource):
    """Where the nodes live; every public output is what the rest of the program attaches to."""

    resource_group_name: pulumi.Output[str]
    subnet_id: pulumi.Output[str]
    nsg_id: pulumi.Output[str]
    nic_security_group_id: pulumi.Output[str] | None  # set when the NSG cannot sit on the subnet
    vnet_id: pulumi.Output[str] | None
    nat_public_ip_id: pulumi.Output[str] | None
    bastion_id: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        config: StackSettings,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("entsso:network:Network", name, None, opts)
        azure = config.azure
        if azure is None:
            raise ValueError("entsso-cluster:azure: is required for target azure")
        child = pulumi.ResourceOptions(parent=self)
        location = azure.location
        base = config.cluster.name.lower()
        tag_map = dict(tags)
        existing_subnet = config.network.existing_subnet_id

        if azure.resource_group.create:
            group = resources.ResourceGroup(
                f"{name}-rg",
                resource_group_name=azure.resource_group.name,
                location=location,
                tags=tag_map,
                opts=child,
            )
            self.resource_group_name = group.name
        else:
            self.resource_group_name = pulumi.Output.from_input(azure.resource_group.name)
        rg = self.resource_group_name

        bastion_cidr: ipaddress.IPv4Network | None = None
        if azure.bastion in ("Basic", "Standard"):
            if existing_subnet is not None:
                raise ValueError(
                    f"entsso-cluster:azure.bastion {azure.bastion} needs an AzureBastionSubnet this stack "
                    "creates, but network.existingSubnetId puts the nodes in a network it does not own; "
                    "use bastion Developer or none, or the Bastion of your hub network"
                )
            vnet_cidr = config.network.vnet_cidr or config.network.node_subnet_cidr
            taken = [config.network.node_subnet_cidr]
            admin = ipaddress.ip_network(config.network.admin_cidr)
            if isinstance(admin, ipaddress.IPv4Network):
                taken.append(admin)
            bastion_cidr = bastion_subnet_cidr(vnet_cidr, taken)
        bastion_source = (
            str(bastion_cidr)
            if bastion_cidr is not None
            else BASTION_DEVELOPER_SOURCE
            if azure.bastion == "Developer"
            else None
        )

        nsg = network.NetworkSecurityGroup(
            f"{name}-nsg",
            network_security_group_name=f"nsg-{base}-nodes",
            resource_group_name=rg,
            location=location,
            security_rules=security_rules(config, bastion_source),
            tags=tag_map,
            opts=child,
        )
        self.nsg_id = nsg.id

        self.nat_public_ip_id = None
        self.vnet_id = None
        self.nic_security_group_id = None
        if existing_subnet is None:
            nat_ip = network.PublicIPAddress(
                f"{name}-nat-pip",
                public_ip_address_name=f"pip-{base}-nat",
                resource_group_name=rg,
                location=location,
                sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
                public_ip_allocation_method="Static",
                public_ip_address_version="IPv4",
                tags=tag_map,
                opts=child,
            )
            self.nat_public_ip_id = nat_ip.id
            nat = network.NatGateway(
                f"{name}-nat",
                nat_gateway_name=f"ng-{base}",
                resource_group_name=rg,
                location=location,
                sku=network.NatGatewaySkuArgs(name="Standard"),
                public_ip_addresses=[network.SubResourceArgs(id=nat_ip.id)],
                idle_timeout_in_minutes=4,
                tags=tag_map,
                opts=child,
            )
            vnet = network.VirtualNetwork(
                f"{name}-vnet",
                virtual_network_name=f"vnet-{base}",
                resource_group_name=rg,
                location=location,
                address_space=network.AddressSpaceArgs(
                    address_prefixes=[str(config.network.vnet_cidr or config.network.node_subnet_cidr)]
                ),
                dhcp_options=network.DhcpOptionsArgs(dns_servers=[str(ip) for ip in azure.dns_servers]),
                tags=tag_map,
                # No inline `subnets`: they are separate Subnet resources, and mixing both fights.
                opts=child,
            )
            self.vnet_id = vnet.id
            subnet = network.Subnet(
                f"{name}-nodes",
                subnet_name="snet-nodes",
                resource_group_name=rg,
                virtual_network_name=vnet.name,
                address_prefix=str(config.network.node_subnet_cidr),
                network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
                nat_gateway=network.SubResourceArgs(id=nat.id),
                default_outbound_access=False,
                opts=child,
            )
            self.subnet_id = subnet.id
            vnet_ref = vnet.id
            bastion_subnet: network.Subnet | None = None
            if bastion_cidr is not None:
                bastion_subnet = network.Subnet(
                    f"{name}-bastion-subnet",
                    subnet_name=BASTION_SUBNET_NAME,
                    resource_group_name=rg,
                    virtual_network_name=vnet.name,
                    address_prefix=str(bastion_cidr),
                    # Two subnets of one VNet cannot be written at the same time (AnotherOperationInProgress).
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[subnet]),
                )
        else:
            # The subnet belongs to another team's network: the NSG goes on the NICs instead, and
            # outbound access is that network's business.
            self.subnet_id = pulumi.Output.from_input(existing_subnet)
            self.nic_security_group_id = nsg.id
            vnet_ref = pulumi.Output.from_input(_vnet_id_of_subnet(existing_subnet))
            bastion_subnet = None

        self.bastion_id = None
        if azure.bastion == "Developer":
            # The Developer SKU is a shared service: no public IP and no AzureBastionSubnet.
            bastion = network.BastionHost(
                f"{name}-bastion",
                bastion_host_name=f"bas-{base}",
                resource_group_name=rg,
                location=location,
                sku=network.SkuArgs(name="Developer"),
                virtual_network=network.SubResourceArgs(id=vnet_ref),
                tags=tag_map,
                opts=child,
            )
            self.bastion_id = bastion.id
        elif azure.bastion in ("Basic", "Standard") and bastion_subnet is not None:
            bastion_ip = network.PublicIPAddress(
                f"{name}-bastion-pip",
                public_ip_address_name=f"pip-{base}-bastion",
                resource_group_name=rg,
                location=location,
                sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
                public_ip_allocation_method="Static",
                public_ip_address_version="IPv4",
                tags=tag_map,
                opts=child,
            )
            bastion = network.BastionHost(
                f"{name}-bastion",
                bastion_host_name=f"bas-{base}",
                resource_group_name=rg,
                location=location,
                sku=network.SkuArgs(name=azure.bastion),
                ip_configurations=[
                    network.BastionHostIPConfigurationArgs(
                        name="bastion-ipconfig",
                        subnet=network.SubResourceArgs(id=bastion_subnet.id),
                        public_ip_address=network.SubResourceArgs(id=bastion_ip.id),
                    )
                ],
                # Native-client tunnels (az network bastion tunnel) exist only from Standard up.
                enable_tunneling=azure.bastion == "Standard",
                tags=tag_map,
                opts=child,
            )
            self.bastion_id = bastion.id

        self.register_outputs(
            {
                "resourceGroupName": self.resource_group_name,
                "subnetId": self.subnet_id,
                "nsgId": self.nsg_id,
                "vnetId": self.vnet_id,
                "natPublicIpId": self.nat_public_ip_id,
                "bastionId": self.bastion_id,
            }
        )
