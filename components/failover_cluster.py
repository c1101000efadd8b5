"""Azure infrastructure a failover cluster needs: `entsso:cluster:ClusterInfrastructure`.

The cloud witness storage account (in production behind a blob private endpoint, its public access
closed), the internal Standard load balancer that carries the client access points (HA ports,
floating IP, one probe per clustered IP) and, with a clustered DTC, the Azure shared disk. The
in-guest FailoverCluster resource (New-Cluster, quorum, roles, the probe port on each cluster IP)
is not here: `components/sso_cluster.py` adds it with the dynamic providers in `providers/`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import compute, network, storage

from components.network import PrivateDns, private_endpoint
from settings import StackSettings, Tier, reach

BACKEND_POOL = "be-nodes"
SHARED_DISK_LUN = 0
WITNESS_ENDPOINT_SUFFIX = "core.windows.net"


@dataclass(frozen=True)
class ClientAccessPoint:
    """One clustered IP behind the load balancer; the in-guest provider sets `probe_port` on it."""

    role: str  # "sso" or "dtc"
    network_name: str
    ip: str
    probe_port: int


def client_access_points(config: StackSettings) -> list[ClientAccessPoint]:
    sso, dtc = config.sso, config.dtc
    points = [ClientAccessPoint("sso", sso.network_name, str(sso.ip), sso.probe_port)]
    if dtc.enabled and dtc.ip is not None:
        points.append(ClientAccessPoint("dtc", dtc.network_name, str(dtc.ip), dtc.probe_port))
    return points


def stable_suffix(*parts: str, length: int = 8) -> str:
    """A short hex digest that is the same on every run for the same stack and settings."""
    return hashlib.sha256("/".join(parts).encode("utf-8")).hexdigest()[:length]


def witness_account_name(stack: str, config: StackSettings) -> str:
    """A legal, deterministic storage account name: 3-24 lower-case letters and digits."""
    azure = config.azure
    if azure is None:
        raise ValueError("entsso-cluster:azure: is required for target azure")
    stem = "".join(ch for ch in config.cluster.name.lower() if ch.isascii() and ch.isalnum())[:13]
    suffix = stable_suffix(stack, azure.resource_group.name, azure.location, config.cluster.name)
    return f"{stem}w{suffix}"


class ClusterInfrastructure(pulumi.ComponentResource):
    witness_account_name: pulumi.Output[str] | None
    witness_access_key: pulumi.Output[str] | None  # secret
    load_balancer_id: pulumi.Output[str]
    backend_pool_id: pulumi.Output[str]
    shared_disk_id: pulumi.Output[str] | None
    access_points: list[ClientAccessPoint]

    def __init__(
        self,
        name: str,
        config: StackSettings,
        *,
        stack: str,
        resource_group_name: pulumi.Input[str],
        subnet_id: pulumi.Input[str],
        tags: Mapping[str, str],
        endpoint_subnet_id: pulumi.Input[str] | None = None,
        private_dns: PrivateDns | None = None,
        egress_ip: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("entsso:cluster:ClusterInfrastructure", name, None, opts)
        azure = config.azure
        if azure is None:
            raise ValueError("entsso-cluster:azure: is required for target azure")
        child = pulumi.ResourceOptions(parent=self)
        production = config.tier is Tier.PRODUCTION
        zonal = azure.placement == "zones"
        base = config.cluster.name.lower()
        tag_map = dict(tags)
        self.access_points = client_access_points(config)

        self.witness_account_name = None
        self.witness_access_key = None
        self.witness_account: storage.StorageAccount | None = None
        self.witness_endpoint_id: pulumi.Output[str] | None = None
        private = reach.private_endpoints(config)
        if config.cluster.witness == "cloud":
            if private:
                # Production: only the private endpoint reaches the account, in whichever zone a node
                # survives; no public network path at all.
                public_access: str | None = "Disabled"
                witness_rules: storage.NetworkRuleSetArgs | None = storage.NetworkRuleSetArgs(
                    default_action=storage.DefaultAction.DENY, bypass="AzureServices"
                )
            elif egress_ip is not None:
                # Lab: the nodes leave through the NAT gateway's address; nobody else reaches the witness.
                public_access = "Enabled"
                witness_rules = storage.NetworkRuleSetArgs(
                    default_action=storage.DefaultAction.DENY,
                    bypass="AzureServices",
                    ip_rules=[storage.IPRuleArgs(i_p_address_or_range=egress_ip, action=storage.Action.ALLOW)],
                )
            else:
                # An existing subnet leaves through its owners' egress, which this stack does not know.
                public_access, witness_rules = "Enabled", None
            # Cloud witness rules: general purpose, Standard, LRS; the cluster signs with the account key,
            # so shared-key access must stay on.
            account = storage.StorageAccount(
                f"{name}-witness",
                account_name=witness_account_name(stack, config),
                resource_group_name=resource_group_name,
                location=azure.location,
                kind="StorageV2",
                sku=storage.SkuArgs(name="Standard_LRS"),
                access_tier=storage.AccessTier.HOT,
                minimum_tls_version="TLS1_2",
                allow_blob_public_access=False,
                enable_https_traffic_only=True,
                allow_shared_key_access=True,
                public_network_access=public_access,
                network_rule_set=witness_rules,
                tags=tag_map,
                # Losing the witness account in production loses quorum's tie-breaker.
                opts=pulumi.ResourceOptions(parent=self, protect=production, retain_on_delete=production),
            )
            self.witness_account = account
            if private:
                if endpoint_subnet_id is None or private_dns is None:
                    raise ValueError("a production witness needs the private endpoints' subnet and DNS zones")
                # The witness blob is written over HTTPS to <account>.blob.core.windows.net; with the
                # privatelink zone that name resolves to this endpoint (learn.microsoft.com/azure/storage/
                # common/storage-private-endpoints). Cloud witness through a private endpoint is not
                # verified on a real cluster here: docs/network.md lists it among the open checks.
                endpoint = private_endpoint(
                    f"{name}-witness-pe",
                    kind="blob",
                    target_id=account.id,
                    resource_group_name=resource_group_name,
                    location=azure.location,
                    subnet_id=endpoint_subnet_id,
                    dns=private_dns,
                    endpoint_name=f"pe-{base}-witness",
                    tags=tag_map,
                    parent=self,
                )
                self.witness_endpoint_id = endpoint.id
            self.witness_account_name = account.name
            # `account.name` is unknown until the account exists, so preview never lists keys of an
            # account that is not there yet.
            keys = storage.list_storage_account_keys_output(
                resource_group_name=resource_group_name, account_name=account.name
            )
            self.witness_access_key = pulumi.Output.secret(keys.keys[0].value)

        frontends = []
        probes = []
        rules = []
        for point in self.access_points:
            frontends.append(
                network.FrontendIPConfigurationArgs(
                    name=f"fe-{point.role}",
                    private_ip_allocation_method="Static",
                    private_ip_address=point.ip,
                    private_ip_address_version="IPv4",
                    subnet=network.SubnetArgs(id=subnet_id),
                    # Zone-redundant, so the access point survives the loss of either node's zone.
                    zones=["1", "2", "3"] if zonal else None,
                )
            )
            probes.append(
                network.ProbeArgs(
                    name=f"probe-{point.role}",
                    protocol="Tcp",
                    port=point.probe_port,
                    interval_in_seconds=5,
                    number_of_probes=2,
                    probe_threshold=2,
                )
            )
            # HA ports (All/0/0): ENTSSO and MSDTC speak RPC on dynamic ports. Floating IP: the node
            # that owns the cluster IP answers on the frontend address itself.
            rules.append(
                network.LoadBalancingRuleArgs(
                    name=f"ha-ports-{point.role}",
                    protocol="All",
                    frontend_port=0,
                    backend_port=0,
                    enable_floating_ip=True,
                    idle_timeout_in_minutes=30,
                    load_distribution="Default",
                    frontend_ip_configuration=network.SubResourceArgs(
                        id=f"$self/frontendIPConfigurations/fe-{point.role}"
                    ),
                    backend_address_pool=network.SubResourceArgs(id=f"$self/backendAddressPools/{BACKEND_POOL}"),
                    probe=network.SubResourceArgs(id=f"$self/probes/probe-{point.role}"),
                )
            )
        # Pools, probes and rules are inline only (never also as separate resources: they would fight).
        balancer = network.LoadBalancer(
            f"{name}-ilb",
            load_balancer_name=f"ilb-{base}",
            resource_group_name=resource_group_name,
            location=azure.location,
            sku=network.LoadBalancerSkuArgs(name="Standard", tier="Regional"),
            frontend_ip_configurations=frontends,
            backend_address_pools=[network.BackendAddressPoolArgs(name=BACKEND_POOL)],
            probes=probes,
            load_balancing_rules=rules,
            tags=tag_map,
            opts=child,
        )
        self.load_balancer_id = balancer.id
        self.backend_pool_id = pulumi.Output.concat(balancer.id, f"/backendAddressPools/{BACKEND_POOL}")

        self.shared_disk_id = None
        if config.dtc.enabled:
            # A clustered DTC needs a disk every node can see. ZRS for zones: LRS lives in one zone.
            # A P4 (32 GiB) is plenty for DTC's log and, like every size up to P20, may be shared by up to
            # 3 VMs (learn.microsoft.com/azure/virtual-machines/disks-shared; settings check the count).
            # The disk arrives RAW: the in-guest DTC script initializes and formats it (issue 12, finding 14),
            # finding it at LUN SHARED_DISK_LUN under the cluster disk name dtc.disk.
            disk = compute.Disk(
                f"{name}-dtc-disk",
                disk_name=f"disk-{base}-dtc",
                resource_group_name=resource_group_name,
                location=azure.location,
                creation_data=compute.CreationDataArgs(create_option="Empty"),
                disk_size_gb=config.dtc.disk_size_gb,
                max_shares=len(config.nodes),
                sku=compute.DiskSkuArgs(name="Premium_ZRS" if zonal else "Premium_LRS"),
                network_access_policy="DenyAll",
                public_network_access="Disabled",
                tags=tag_map,
                opts=child,
            )
            self.shared_disk_id = disk.id

        self.register_outputs(
            {
                "witnessAccountName": self.witness_account_name,
                "witnessAccessKey": self.witness_access_key,
                "loadBalancerId": self.load_balancer_id,
                "backendPoolId": self.backend_pool_id,
                "sharedDiskId": self.shared_disk_id,
                "witnessEndpointId": self.witness_endpoint_id,
                "accessPoints": [point.__dict__ for point in self.access_points],
            }
        )
