"""The lab operator's way in to WinRM: `entsso:network:OperatorEntry`.

A Standard public load balancer with one inbound NAT rule per node: `<entry IP>:<first port + i>`
forwards to node i's private address on 5986 (learn.microsoft.com/azure/load-balancer/
inbound-nat-rules, "single virtual machine" rules). It has no load-balancing rule and no backend
pool: nothing but WinRM is forwarded, and only to the node each port names. The node NSG admits
5986 from `network.adminCidr` only, and so does each node's Windows Firewall (the provisioning Run
Command); a Standard load balancer is closed to inbound flows unless an NSG allows them
(learn.microsoft.com/azure/load-balancer/load-balancer-overview, "secure by default"), and it keeps
the client's source address, which is what both filters see.

Each NIC stays in the internal load balancer's backend pool too: an ip configuration may belong to
one public and one internal load balancer (the pattern of Microsoft's shared-disk cluster templates,
robotechredmond/301-shared-disk-wfc, whose NICs sit behind an internal LB and a public SNAT LB).

The runner pins each node's certificate thumbprint, so reaching the node by the entry's IP and port
(not by its name) loses nothing: a pinned connection compares the certificate itself, never its name.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import network

from settings import StackSettings, reach

FRONTEND = "fe-entry"


def nat_rule_name(node_name: str) -> str:
    return f"winrm-{node_name.lower()}"


class OperatorEntry(pulumi.ComponentResource):
    load_balancer_id: pulumi.Output[str]
    public_ip_address: pulumi.Output[str]
    ports: dict[str, int]  # node name -> the entry's port for it

    def __init__(
        self,
        name: str,
        config: StackSettings,
        *,
        resource_group_name: pulumi.Input[str],
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("entsso:network:OperatorEntry", name, None, opts)
        azure = config.azure
        if azure is None or azure.winrm_access != "publicLoadBalancer":
            raise ValueError("OperatorEntry is for entsso-cluster:azure.winrmAccess publicLoadBalancer")
        child = pulumi.ResourceOptions(parent=self)
        base = config.cluster.name.lower()
        zonal = azure.placement == "zones"

        address = network.PublicIPAddress(
            f"{name}-pip",
            public_ip_address_name=f"pip-{base}-entry",
            resource_group_name=resource_group_name,
            location=azure.location,
            sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            zones=["1", "2", "3"] if zonal else None,
            tags=dict(tags),
            opts=child,
        )
        self.ports = {node.name: reach.public_entry_port(config, i) for i, node in enumerate(config.nodes)}
        rules = [
            network.InboundNatRuleArgs(
                name=nat_rule_name(node_name),
                protocol="Tcp",
                frontend_ip_configuration=network.SubResourceArgs(id=f"$self/frontendIPConfigurations/{FRONTEND}"),
                frontend_port=port,
                backend_port=config.winrm.port,
                enable_floating_ip=False,
                enable_tcp_reset=True,
                idle_timeout_in_minutes=30,  # a long WinRM Receive stays open
            )
            for node_name, port in self.ports.items()
        ]
        balancer = network.LoadBalancer(
            f"{name}-lb",
            load_balancer_name=f"lbe-{base}",
            resource_group_name=resource_group_name,
            location=azure.location,
            sku=network.LoadBalancerSkuArgs(name="Standard", tier="Regional"),
            frontend_ip_configurations=[
                network.FrontendIPConfigurationArgs(
                    name=FRONTEND, public_ip_address=network.PublicIPAddressArgs(id=address.id)
                )
            ],
            # NAT rules only (inline, never also as separate resources): no pool, no load balancing.
            inbound_nat_rules=rules,
            tags=dict(tags),
            opts=child,
        )
        self.load_balancer_id = balancer.id
        self.public_ip_address = address.ip_address.apply(lambda ip: ip or "")
        self.register_outputs(
            {"loadBalancerId": self.load_balancer_id, "publicIpAddress": self.public_ip_address, "ports": self.ports}
        )

    def nat_rule_id(self, node_name: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.load_balancer_id, f"/inboundNatRules/{nat_rule_name(node_name)}")

    def endpoint(self, node_name: str, ready: pulumi.Output[str]) -> pulumi.Output[str]:
        """`https://<entry IP>:<port>/wsman`, known once `ready` (the node's listener) resolves."""
        port = self.ports[node_name]
        return pulumi.Output.all(self.public_ip_address, ready).apply(
            lambda values: f"https://{values[0]}:{port}/wsman"
        )
