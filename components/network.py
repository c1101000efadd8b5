"""The network the cluster nodes live in: `entsso:network:Network`.

Resource group (or an existing one), VNet and node subnet (or an existing subnet of a spoke that is
already peered), the peering to the hub that holds AD/DNS and SQL Server, the node NSG, a NAT gateway
for outbound traffic, the private endpoints' subnet and privatelink DNS zones (production), and
optionally Azure Bastion. No node ever gets a public IP. docs/network.md draws the paths.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import network, privatedns, resources

from settings import StackSettings, reach

BASTION_SUBNET_NAME = "AzureBastionSubnet"  # Azure requires exactly this name
ENDPOINT_SUBNET_NAME = "snet-endpoints"
# Bastion Developer has no subnet of its own: it reaches the VM from the Azure platform address.
BASTION_DEVELOPER_SOURCE = f"{reach.AZURE_PLATFORM_ADDRESS}/32"

# Intra-cluster traffic between the nodes (learn.microsoft.com/troubleshoot/windows-server/networking/
# service-overview-and-network-port-requirements, "Cluster service"): the cluster service on 3343
# TCP/UDP, the RPC endpoint mapper (135) and Windows' dynamic RPC range (49152-65535) that ENTSSO and
# MSDTC use between the nodes, SMB (445) for the cluster's file shares. WinRM (5985/5986) between
# nodes is deliberately absent: no script reaches one node from another over WinRM (issue 12, finding 19).
CLUSTER_TCP_PORTS = ["135", "445", "3343", "49152-65535"]
CLUSTER_UDP_PORTS = ["3343"]
# ENTSSO and MSDTC clients reach the client access points over RPC: the endpoint mapper, then a
# dynamic port.
RPC_CLIENT_PORTS = ["135", "49152-65535"]
# The self-contained lab's DC, as every domain member reaches it (learn.microsoft.com/troubleshoot/windows-server/
# active-directory/config-firewall-for-ad-domains-and-trusts, "Windows Server 2008 and later versions"): DNS 53,
# Kerberos 88, the RPC endpoint mapper 135, LDAP 389, SMB 445, Kerberos password change 464, LDAPS 636, the
# global catalog 3268-3269, the dynamic RPC range; over UDP DNS, Kerberos, NTP 123, the LDAP ping 389, 464.
DC_TCP_PORTS = ["53", "88", "135", "389", "445", "464", "636", "3268-3269", "49152-65535"]
DC_UDP_PORTS = ["53", "88", "123", "389", "464"]
# ... and its SQL Server: TDS 1433, and MSDTC (the endpoint mapper and dynamic RPC) between SQL and the nodes.
SQL_TCP_PORTS = ["1433", "135", "49152-65535"]
INFRA_SUBNET_NAME = "snet-infra"
# privatelink zones by endpoint kind (learn.microsoft.com/azure/private-link/private-endpoint-dns,
# "Storage: blob" and "Key Vault: vault").
PRIVATE_DNS_ZONES = {"blob": "privatelink.blob.core.windows.net", "vault": "privatelink.vaultcore.azure.net"}

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
        *_lab_sql_to_nodes(config),
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


def _lab_sql_to_nodes(config: StackSettings) -> list[network.SecurityRuleArgs]:
    """A self-contained lab's SQL Server answers the nodes' distributed transactions over RPC (MSDTC)."""
    directory = config.directory
    if not reach.creates_directory(config) or directory is None or directory.sql_server is None:
        return []
    return [
        network.SecurityRuleArgs(
            name="AllowMsdtcFromLabSql",
            description="MSDTC from the lab's SQL Server back to the nodes (RPC endpoint mapper, dynamic RPC)",
            priority=141,
            direction="Inbound",
            access="Allow",
            protocol="Tcp",
            source_address_prefix=f"{directory.sql_server.ip}/32",
            source_port_range="*",
            destination_address_prefix=str(config.network.node_subnet_cidr),
            destination_port_ranges=["135", "49152-65535"],
        )
    ]


def infra_security_rules(config: StackSettings, bastion_source: str | None) -> list[network.SecurityRuleArgs]:
    """The self-contained lab's snet-infra: the DC to every machine of the VNet, SQL Server to the nodes, no more."""
    directory = config.directory
    assert directory is not None and directory.domain_controller is not None and directory.sql_server is not None
    infra = reach.infra_subnet_cidr(config)
    assert infra is not None
    members = [str(config.network.node_subnet_cidr), str(infra)]
    dc = f"{directory.domain_controller.ip}/32"
    sql = f"{directory.sql_server.ip}/32"

    def allow(
        name: str, description: str, priority: int, protocol: str, sources: list[str], target: str, ports: list[str]
    ) -> network.SecurityRuleArgs:
        return network.SecurityRuleArgs(
            name=name,
            description=description,
            priority=priority,
            direction="Inbound",
            access="Allow",
            protocol=protocol,
            source_address_prefixes=sources,
            source_port_range="*",
            destination_address_prefix=target,
            destination_port_ranges=ports,
        )

    rules = [
        allow("AllowDirectoryTcp", "the domain members reach the lab DC", 100, "Tcp", members, dc, DC_TCP_PORTS),
        allow("AllowDirectoryUdp", "the domain members reach the lab DC", 101, "Udp", members, dc, DC_UDP_PORTS),
        allow("AllowSqlFromNodes", "the nodes reach SSODB's SQL Server", 110, "Tcp", [members[0]], sql, SQL_TCP_PORTS),
        allow(
            "AllowIcmpWithinVnet",
            "Test-NetConnection pings before it connects",
            120,
            "Icmp",
            members,
            str(infra),
            ["*"],
        ),
    ]
    if bastion_source is not None:
        rules.append(
            allow(
                "AllowRdpFromBastion", "RDP from Azure Bastion only", 130, "Tcp", [bastion_source], str(infra), ["3389"]
            )
        )
    rules.append(
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
        )
    )
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


def _vnet_id_of_subnet(subnet_id: str) -> str:
    head, separator, _ = subnet_id.rpartition("/subnets/")
    if not separator or "/virtualNetworks/" not in head:
        raise ValueError(
            f"entsso-cluster:network.existingSubnetId '{subnet_id}' is not a subnet resource id "
            "(/subscriptions/.../virtualNetworks/<vnet>/subnets/<subnet>)"
        )
    return head


def parse_vnet_id(vnet_id: str) -> tuple[str, str, str]:
    """(subscription, resource group, VNet name) of a virtual network resource id."""
    parts = vnet_id.strip("/").split("/")
    lowered = [part.lower() for part in parts]
    try:
        subscription = parts[lowered.index("subscriptions") + 1]
        group = parts[lowered.index("resourcegroups") + 1]
        name = parts[lowered.index("virtualnetworks") + 1]
    except (ValueError, IndexError):
        raise ValueError(f"'{vnet_id}' is not a virtual network resource id") from None
    return subscription, group, name


@dataclass(frozen=True)
class PrivateDns:
    """Where each kind of private endpoint registers its address: a zone id per kind ("blob", "vault")."""

    zone_ids: Mapping[str, pulumi.Input[str]]


class Network(pulumi.ComponentResource):
    """Where the nodes live; every public output is what the rest of the program attaches to."""

    resource_group_name: pulumi.Output[str]
    subnet_id: pulumi.Output[str]
    nsg_id: pulumi.Output[str]
    nic_security_group_id: pulumi.Output[str] | None  # set when the NSG cannot sit on the subnet
    vnet_id: pulumi.Output[str] | None  # the VNet this stack builds
    endpoint_subnet_id: pulumi.Output[str] | None  # production: where private endpoints go
    private_dns: PrivateDns | None  # production: the privatelink zones the endpoints register in
    nat_public_ip_id: pulumi.Output[str] | None
    nat_public_ip_address: pulumi.Output[str] | None  # the nodes' outbound address (lab witness firewall)
    infra_subnet_id: pulumi.Output[str] | None  # the self-contained lab's snet-infra (its DC and SQL Server)
    infra_nsg_id: pulumi.Output[str] | None
    bastion_id: pulumi.Output[str] | None
    peering_ids: list[pulumi.Output[str]]

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
        hub = config.network.hub
        dns_servers = [str(ip) for ip in reach.dns_servers(config)]

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
                    f"entsso-cluster:azure.bastion {azure.bastion} needs an AzureBastionSubnet this stack creates, but "
                    "network.existingSubnetId puts the nodes in a network it does not own; "
                    "use bastion none, or the Bastion of your hub network"
                )
            bastion_cidr = reach.bastion_subnet_cidr(config)
            if bastion_cidr is None:
                raise ValueError("entsso-cluster:network.vnetCidr has no free /26 for AzureBastionSubnet")
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
        self.nat_public_ip_address = None
        self.vnet_id = None
        self.nic_security_group_id = None
        self.endpoint_subnet_id = None
        self.infra_subnet_id = None
        self.infra_nsg_id = None
        self.peering_ids = []
        bastion_subnet: network.Subnet | None = None
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
            self.nat_public_ip_address = nat_ip.ip_address.apply(lambda ip: ip or "")
            # A Standard NAT gateway is zonal ("no zone" lets Azure pick one: learn.microsoft.com/azure/
            # nat-gateway/nat-availability-zones). It carries only what may pause with one zone: Windows
            # Update and the install media. The witness and the vault are reached over private endpoints
            # in production, so a zone outage cannot take a node and the witness path together.
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
                address_space=network.AddressSpaceArgs(address_prefixes=[str(reach.vnet_ranges(config)[0])]),
                # The domain controllers: reached through the hub peering, or the lab's own DC in snet-infra
                # (settings refuse any other). A self-contained lab's VNet names its DC from the start: see
                # components/directory.py for why nothing needs that DNS server before the forest answers.
                dhcp_options=network.DhcpOptionsArgs(dns_servers=dns_servers),
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
            vnet_ref: pulumi.Output[str] = vnet.id
            last_subnet: network.Subnet = subnet
            infra_cidr = reach.infra_subnet_cidr(config)
            if infra_cidr is not None:
                infra_nsg = network.NetworkSecurityGroup(
                    f"{name}-infra-nsg",
                    network_security_group_name=f"nsg-{base}-infra",
                    resource_group_name=rg,
                    location=location,
                    security_rules=infra_security_rules(config, bastion_source),
                    tags=tag_map,
                    opts=child,
                )
                self.infra_nsg_id = infra_nsg.id
                infra = network.Subnet(
                    f"{name}-infra",
                    subnet_name=INFRA_SUBNET_NAME,
                    resource_group_name=rg,
                    virtual_network_name=vnet.name,
                    address_prefix=str(infra_cidr),
                    network_security_group=network.NetworkSecurityGroupArgs(id=infra_nsg.id),
                    # Windows activation, updates and the forest's root hints leave through the NAT gateway.
                    nat_gateway=network.SubResourceArgs(id=nat.id),
                    default_outbound_access=False,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[last_subnet]),
                )
                self.infra_subnet_id = infra.id
                last_subnet = infra
            if bastion_cidr is not None:
                bastion_subnet = network.Subnet(
                    f"{name}-bastion-subnet",
                    subnet_name=BASTION_SUBNET_NAME,
                    resource_group_name=rg,
                    virtual_network_name=vnet.name,
                    address_prefix=str(bastion_cidr),
                    # Two subnets of one VNet cannot be written at the same time (AnotherOperationInProgress).
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[last_subnet]),
                )
                last_subnet = bastion_subnet
            if reach.private_endpoints(config):
                endpoint_cidr = reach.endpoint_subnet_cidr(config)
                if endpoint_cidr is None:
                    raise ValueError("entsso-cluster:network.vnetCidr has no free /27 for the private endpoints")
                endpoints = network.Subnet(
                    f"{name}-endpoints",
                    subnet_name=ENDPOINT_SUBNET_NAME,
                    resource_group_name=rg,
                    virtual_network_name=vnet.name,
                    address_prefix=str(endpoint_cidr),
                    default_outbound_access=False,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[last_subnet]),
                )
                self.endpoint_subnet_id = endpoints.id
                last_subnet = endpoints
            if hub is not None and hub.vnet_id is not None:
                self.peering_ids = self._peer(name, config, rg, vnet, hub.vnet_id, after=last_subnet)
        else:
            # The subnet belongs to a spoke that is already peered: the NSG goes on the NICs instead, and
            # outbound access, DNS and the peering are that network's business.
            self.subnet_id = pulumi.Output.from_input(existing_subnet)
            self.nic_security_group_id = nsg.id
            vnet_ref = pulumi.Output.from_input(_vnet_id_of_subnet(existing_subnet))
            if reach.private_endpoints(config):
                self.endpoint_subnet_id = self.subnet_id

        self.private_dns = None
        if reach.private_endpoints(config):
            self.private_dns = self._private_dns(name, config, rg, vnet_ref, tag_map)

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
                "endpointSubnetId": self.endpoint_subnet_id,
                "natPublicIpId": self.nat_public_ip_id,
                "infraSubnetId": self.infra_subnet_id,
                "bastionId": self.bastion_id,
                "peeringIds": self.peering_ids,
            }
        )

    def _peer(
        self,
        name: str,
        config: StackSettings,
        rg: pulumi.Output[str],
        vnet: network.VirtualNetwork,
        hub_id: str,
        *,
        after: pulumi.Resource,
    ) -> list[pulumi.Output[str]]:
        """Spoke -> hub always; hub -> spoke when the settings say the stack may write to the hub.

        A peering carries traffic only once both directions exist (learn.microsoft.com/azure/
        virtual-network/virtual-network-manage-peering); without createHubSide the hub's owners create
        theirs (README "Deploy to Azure" gives the command).
        """
        hub = config.network.hub
        assert hub is not None
        base = config.cluster.name.lower()
        _, hub_group, hub_name = parse_vnet_id(hub_id)
        spoke = network.VirtualNetworkPeering(
            f"{name}-to-hub",
            virtual_network_peering_name=f"peer-{base}-to-{hub_name}"[:80],
            resource_group_name=rg,
            virtual_network_name=vnet.name,
            remote_virtual_network=network.SubResourceArgs(id=hub_id),
            allow_virtual_network_access=True,
            # Traffic the hub forwards (its firewall, on-premises through its gateway) may come back.
            allow_forwarded_traffic=True,
            allow_gateway_transit=False,
            use_remote_gateways=hub.use_remote_gateways,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[after]),
        )
        ids = [spoke.id]
        if hub.create_hub_side:
            subscription, _, _ = parse_vnet_id(hub_id)
            # The hub may live in another subscription of the tenant: its side goes through a provider for it.
            hub_provider = azure_native.Provider(
                f"{name}-hub-provider",
                subscription_id=subscription,
                opts=pulumi.ResourceOptions(parent=self),
            )
            hub_side = network.VirtualNetworkPeering(
                f"{name}-from-hub",
                virtual_network_peering_name=f"peer-{hub_name}-to-{base}"[:80],
                resource_group_name=hub_group,
                virtual_network_name=hub_name,
                remote_virtual_network=network.SubResourceArgs(id=vnet.id),
                allow_virtual_network_access=True,
                allow_forwarded_traffic=True,
                # The hub lends its VPN/ExpressRoute gateway when the spoke asks to use it.
                allow_gateway_transit=hub.use_remote_gateways,
                use_remote_gateways=False,
                opts=pulumi.ResourceOptions(parent=self, provider=hub_provider, depends_on=[spoke]),
            )
            ids.append(hub_side.id)
        return ids

    def _private_dns(
        self,
        name: str,
        config: StackSettings,
        rg: pulumi.Output[str],
        vnet_id: pulumi.Input[str],
        tags: dict[str, str],
    ) -> PrivateDns:
        """The privatelink zones the private endpoints register in, where the nodes' DNS servers look.

        Given zone ids (central zones, usually in the hub) are used as they are. Otherwise the stack
        creates both zones and links them to its VNet and to the hub VNet, where the domain controllers
        that answer the nodes forward to Azure DNS (learn.microsoft.com/azure/private-link/
        private-endpoint-dns-integration, "Virtual network workloads with a custom DNS server").
        """
        given = config.network.private_dns_zone_ids
        hub = config.network.hub
        zone_ids: dict[str, pulumi.Input[str]] = {}
        for kind, zone_name in PRIVATE_DNS_ZONES.items():
            existing = getattr(given, kind) if given is not None else None
            if existing is not None:
                zone_ids[kind] = existing
                continue
            zone = privatedns.PrivateZone(
                f"{name}-zone-{kind}",
                private_zone_name=zone_name,
                resource_group_name=rg,
                location="global",
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            zone_ids[kind] = zone.id
            links: list[tuple[str, pulumi.Input[str]]] = [("nodes", vnet_id)]
            if hub is not None and hub.vnet_id is not None:
                links.append(("hub", hub.vnet_id))
            for link_name, linked_vnet in links:
                privatedns.VirtualNetworkLink(
                    f"{name}-zone-{kind}-{link_name}",
                    virtual_network_link_name=f"link-{link_name}",
                    private_zone_name=zone.name,
                    resource_group_name=rg,
                    location="global",
                    virtual_network=privatedns.SubResourceArgs(id=linked_vnet),
                    registration_enabled=False,
                    tags=tags,
                    opts=pulumi.ResourceOptions(parent=self),
                )
        return PrivateDns(zone_ids=zone_ids)


def private_endpoint(
    name: str,
    *,
    kind: str,
    target_id: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    location: str,
    subnet_id: pulumi.Input[str],
    dns: PrivateDns,
    endpoint_name: str,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> network.PrivateEndpoint:
    """A private endpoint for `target_id` (group `kind`: blob or vault) and its DNS registration."""
    endpoint = network.PrivateEndpoint(
        name,
        private_endpoint_name=endpoint_name,
        resource_group_name=resource_group_name,
        location=location,
        subnet=network.SubnetArgs(id=subnet_id),
        private_link_service_connections=[
            network.PrivateLinkServiceConnectionArgs(
                name=f"{endpoint_name}-{kind}", private_link_service_id=target_id, group_ids=[kind]
            )
        ],
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    network.PrivateDnsZoneGroup(
        f"{name}-dns",
        private_dns_zone_group_name="default",
        private_endpoint_name=endpoint.name,
        resource_group_name=resource_group_name,
        private_dns_zone_configs=[
            network.PrivateDnsZoneConfigArgs(name=kind, private_dns_zone_id=dns.zone_ids[kind]),
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return endpoint
