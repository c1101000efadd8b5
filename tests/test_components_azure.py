"""The Azure side of the program under Pulumi's mock runtime: the lab-hub and prod resource graphs.

(The self-contained lab, Pulumi.lab.yaml, is tests/test_components_lab.py.)

Each test runs the real components against a recording mock engine fed with the real stack files
(secrets replaced by test values and marked secret), then checks what Azure would be asked to build.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
import tree_sitter
import tree_sitter_powershell
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

import settings
from components.azure import AzureFoundation, azure_foundation
from components.escrow import vault_name
from components.failover_cluster import witness_account_name
from components.windows_node import WINRM_SCRIPT, thumbprint_from_output

PROJECT_DIR = Path(__file__).resolve().parent.parent

TEST_SECRETS = {
    "installPassword": "Install-Pa55!word",
    "serviceAccountPassword": "Service-Pa55!word",
    "backupPassword": "Backup-Pa55!word",
    "vmAdminPassword": "VmAdmin-Pa55!word",
    "domainJoinPassword": "DomainJoin-Pa55!word",
    "dsrmPassword": "Dsrm-Pa55!word",
    "sqlServicePassword": "Sql-Engine-Pa55!word",
}
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"

# The physical-name input of each azure-native type, echoed as the `name` output as Azure would.
NAME_INPUTS = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:Subnet": "subnetName",
    "azure-native:network:NetworkSecurityGroup": "networkSecurityGroupName",
    "azure-native:network:PublicIPAddress": "publicIpAddressName",
    "azure-native:network:NatGateway": "natGatewayName",
    "azure-native:network:BastionHost": "bastionHostName",
    "azure-native:network:NetworkInterface": "networkInterfaceName",
    "azure-native:network:LoadBalancer": "loadBalancerName",
    "azure-native:compute:AvailabilitySet": "availabilitySetName",
    "azure-native:compute:VirtualMachine": "vmName",
    "azure-native:compute:VirtualMachineExtension": "vmExtensionName",
    "azure-native:compute:VirtualMachineRunCommandByVirtualMachine": "runCommandName",
    "azure-native:compute:Disk": "diskName",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:network:VirtualNetworkPeering": "virtualNetworkPeeringName",
    "azure-native:network:PrivateEndpoint": "privateEndpointName",
    "azure-native:network:PrivateDnsZoneGroup": "privateDnsZoneGroupName",
    "azure-native:privatedns:PrivateZone": "privateZoneName",
    "azure-native:privatedns:VirtualNetworkLink": "virtualNetworkLinkName",
    "azure-native:authorization:RoleAssignment": "roleAssignmentName",
}
SUBSCRIPTION_ID = "11111111-2222-3333-4444-555555555555"
RUN_COMMAND = "azure-native:compute:VirtualMachineRunCommandByVirtualMachine"
# Azure has no tags on these (or they are sub-resources of something tagged).
UNTAGGABLE = {
    "azure-native:network:Subnet",
    "azure-native:network:VirtualNetworkPeering",
    "azure-native:network:PrivateDnsZoneGroup",
    "azure-native:authorization:RoleAssignment",
    "pulumi:providers:azure-native",
}


def public_ip_of(name: str) -> str:
    """The address Azure would allocate to a public IP resource: TEST-NET-3, one per resource."""
    return f"203.0.113.{int(hashlib.sha256(name.encode()).hexdigest(), 16) % 250 + 1}"


def fake_thumbprint(vm_name: str) -> str:
    return hashlib.sha1(vm_name.encode()).hexdigest().upper()  # noqa: S324 - a fixture value, not crypto


def run_command_view(vm_name: str) -> dict[str, Any]:
    result = {"ok": True, "computerName": vm_name, "thumbprint": fake_thumbprint(vm_name)}
    output = f"Success Restart Needed Exit Code Feature Result\r\n\r\n{json.dumps(result)}\r\n"
    return {"executionState": "Succeeded", "exitCode": 0, "output": output}


@dataclass
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]
    custom: bool
    urn: str = ""
    parent: str = ""
    protect: bool = False
    retain_on_delete: bool = False
    dependencies: list[str] = field(default_factory=list)


class RecordingMocks(Mocks):
    """Deterministic outputs (id = name + "_id"), every registration and call recorded."""

    def __init__(self, *, instance_view_on_create: bool = True, instance_view_on_read: bool = False) -> None:
        self.instance_view_on_create = instance_view_on_create
        self.instance_view_on_read = instance_view_on_read
        self.resources: list[Registered] = []
        self.by_key: dict[tuple[str, str], Registered] = {}
        self.calls: list[MockCallArgs] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        registered = Registered(args.typ, args.name, dict(args.inputs), bool(args.custom))
        self.resources.append(registered)
        self.by_key[(args.typ, args.name)] = registered
        state = dict(args.inputs)
        state["name"] = args.inputs.get(NAME_INPUTS.get(args.typ, ""), args.name)
        if args.typ == RUN_COMMAND and self.instance_view_on_create:
            state["instanceView"] = run_command_view(args.inputs["vmName"])
        if args.typ == "azure-native:compute:VirtualMachine":
            state["identity"] = {"type": "SystemAssigned", "principalId": f"{args.name}-principal"}
        if args.typ == "azure-native:network:PublicIPAddress":
            state["ipAddress"] = public_ip_of(args.name)
        if args.typ == "azure-native:keyvault:Vault":
            state["properties"] = {
                **args.inputs["properties"],
                "vaultUri": f"https://{state['name']}.vault.azure.net/",
            }
        return f"{args.name}_id", state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append(args)
        if args.token == "azure-native:authorization:getClientConfig":
            return {"clientId": "c", "objectId": "o", "subscriptionId": SUBSCRIPTION_ID, "tenantId": TENANT_ID}, []
        if args.token == "azure-native:storage:listStorageAccountKeys":
            key = f"key1-of-{args.args['accountName']}"
            return {"keys": [{"keyName": "key1", "permissions": "FULL", "value": key}]}, []
        if args.token == "azure-native:compute:getVirtualMachineRunCommandByVirtualMachine":
            if self.instance_view_on_read and args.args.get("expand") == "instanceView":
                return {
                    "name": args.args["runCommandName"],
                    "instanceView": run_command_view(args.args["vmName"]),
                }, []
            return {"name": args.args["runCommandName"]}, []
        raise AssertionError(f"unexpected invoke {args.token}")


class RecordingMonitor(MockMonitor):
    """Keeps the resource options the engine would see (protect, retainOnDelete, parent, dependsOn)."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording = mocks

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            # Registrations arrive on several threads: find this one by its (type, name).
            registered = self.recording.by_key[(request.type, request.name)]
            registered.urn = response.urn
            registered.parent = request.parent
            registered.protect = request.protect
            registered.retain_on_delete = request.retainOnDelete
            registered.dependencies = list(request.dependencies)
        return response


@dataclass
class Built:
    config: settings.StackSettings
    mocks: RecordingMocks
    foundation: AzureFoundation
    resolved: dict[str, Any]

    def of_type(self, short: str) -> list[Registered]:
        """Resources of one type by logical name: registration order depends on thread timing."""
        found = [r for r in self.mocks.resources if r.typ == f"azure-native:{short}"]
        return sorted(found, key=lambda r: r.name)

    def vms_by_name(self) -> dict[str, Registered]:
        return {vm.inputs["vmName"]: vm for vm in self.of_type("compute:VirtualMachine")}

    def one_of(self, typ: str) -> Registered:
        found = [r for r in self.mocks.resources if r.typ == typ]
        assert len(found) == 1, f"expected one {typ}, got {[r.name for r in found]}"
        return found[0]

    def one(self, short: str) -> Registered:
        found = self.of_type(short)
        assert len(found) == 1, f"expected one {short}, got {[r.name for r in found]}"
        return found[0]


def stack_values(stack: str) -> dict[str, Any]:
    """The project config of a stack file, with test values for every encrypted secret."""
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    values: dict[str, Any] = {}
    for full_key, value in document["config"].items():
        namespace, _, key = full_key.partition(":")
        if namespace != settings.PROJECT:
            continue
        values[key] = TEST_SECRETS[key] if isinstance(value, dict) and set(value) == {"secure"} else value
    return values


def as_config_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def secret_paths(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, plaintext) of every secret-wrapped value in a mock's inputs."""
    if rpc.is_rpc_secret(value):
        yield path, rpc.unwrap_rpc_secret(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from secret_paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from secret_paths(item, f"{path}[{index}]")


def plain_strings(value: Any) -> Iterator[str]:
    """Every string in a mock's inputs that is NOT inside a secret wrapper."""
    if rpc.is_rpc_secret(value):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from plain_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from plain_strings(item)


def unwrap(value: Any) -> Any:
    return rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value


@pytest.fixture
def build() -> Iterator[Callable[..., Built]]:
    """Runs the Azure foundation of a stack under fresh mocks; set_mocks is process-wide, so per test."""

    def run(
        stack: str,
        *,
        mocks: RecordingMocks | None = None,
        change: Callable[[dict[str, Any]], None] | None = None,
    ) -> Built:
        recording = mocks if mocks is not None else RecordingMocks()
        pulumi.runtime.set_mocks(
            recording,
            project=settings.PROJECT,
            stack=stack,
            preview=False,
            monitor=RecordingMonitor(recording),
        )
        values = stack_values(stack)
        if change is not None:
            change(values)
        pulumi.runtime.set_all_config(
            {f"{settings.PROJECT}:{key}": as_config_text(value) for key, value in values.items()},
            [f"{settings.PROJECT}:{key}" for key in TEST_SECRETS],
        )
        config = settings.from_pulumi_config()  # what __main__.py does
        holder: dict[str, Any] = {}

        @pulumi.runtime.test  # type: ignore[untyped-decorator]
        def program() -> pulumi.Output[Any]:
            foundation = azure_foundation(config)
            holder["foundation"] = foundation
            witness = foundation.witness
            assert witness is not None
            key_is_secret: Awaitable[bool] = pulumi.Output.from_input(witness.access_key).is_secret()
            outputs: dict[str, Any] = {
                "endpoints": pulumi.Output.all(*[node.endpoint for node in foundation.nodes]),
                "thumbprints": pulumi.Output.all(*[node.thumbprint for node in foundation.nodes]),
                "witness_name": witness.account_name,
                "witness_key": witness.access_key,
                "witness_key_secret": pulumi.Output.from_input(key_is_secret),
                "escrow_vault": foundation.escrow.vault_name if foundation.escrow else None,
                "shared_disk": foundation.shared_disk.id if foundation.shared_disk else None,
            }
            return pulumi.Output.all(**outputs).apply(lambda values: holder.update(resolved=values))

        program()
        return Built(config, recording, holder["foundation"], holder["resolved"])

    yield run
    pulumi.runtime.set_all_config({}, [])


# ---------------------------------------------------------------------------------------------
# The graph per stack


LAB_TYPES = {
    "entsso:network:Network": 1,
    "entsso:network:OperatorEntry": 1,
    "entsso:cluster:ClusterInfrastructure": 1,
    "entsso:compute:WindowsNode": 2,
    "entsso:escrow:KeyVaultEscrow": 1,
    "azure-native:resources:ResourceGroup": 1,
    "azure-native:network:NetworkSecurityGroup": 1,
    "azure-native:network:PublicIPAddress": 2,  # the NAT gateway's and the operator entry's
    "azure-native:network:NatGateway": 1,
    "azure-native:network:VirtualNetwork": 1,
    "azure-native:network:Subnet": 1,
    "azure-native:network:VirtualNetworkPeering": 2,  # lab -> hub and hub -> lab
    "pulumi:providers:azure-native": 1,  # the hub's subscription, for the hub side
    "azure-native:storage:StorageAccount": 1,
    "azure-native:network:LoadBalancer": 2,  # the internal one (access points) and the entry
    "azure-native:compute:AvailabilitySet": 1,
    "azure-native:network:NetworkInterface": 2,
    "azure-native:compute:VirtualMachine": 2,
    "azure-native:compute:VirtualMachineExtension": 2,
    RUN_COMMAND: 2,
    "azure-native:keyvault:Vault": 1,
    "azure-native:authorization:RoleAssignment": 1,  # Key Vault Secrets User for the break-glass group
}
PROD_TYPES = {
    **{
        key: count
        for key, count in LAB_TYPES.items()
        if key
        not in (
            "azure-native:compute:AvailabilitySet",
            "entsso:network:OperatorEntry",
            "pulumi:providers:azure-native",
        )
    },
    "azure-native:network:PublicIPAddress": 2,  # NAT gateway + Bastion Standard; no entry
    "azure-native:network:LoadBalancer": 1,  # internal only
    "azure-native:network:VirtualNetworkPeering": 1,  # the hub's owners create hub -> spoke
    "azure-native:network:Subnet": 3,  # nodes, AzureBastionSubnet, private endpoints
    "azure-native:network:BastionHost": 1,
    "azure-native:network:PrivateEndpoint": 2,  # witness (blob), escrow (vault)
    "azure-native:network:PrivateDnsZoneGroup": 2,
    "azure-native:privatedns:PrivateZone": 2,  # privatelink.blob..., privatelink.vaultcore...
    "azure-native:privatedns:VirtualNetworkLink": 4,  # each zone to the spoke and to the hub
    "azure-native:compute:Disk": 1,  # the clustered DTC's shared disk
}


def entry_endpoints(built: Built) -> list[str]:
    balancer = next(b for b in built.of_type("network:LoadBalancer") if b.name == "entry-lb")
    address = public_ip_of("entry-pip")
    ports = [int(rule["frontendPort"]) for rule in balancer.inputs["inboundNatRules"]]
    return [f"https://{address}:{port}/wsman" for port in ports]


@pytest.mark.parametrize(("stack", "expected"), [("lab-hub", LAB_TYPES), ("prod", PROD_TYPES)])
def test_stack_builds_the_expected_resource_graph(
    build: Callable[..., Built], stack: str, expected: dict[str, int]
) -> None:
    built = build(stack)
    assert dict(Counter(r.typ for r in built.mocks.resources)) == expected
    components = {r.urn for r in built.mocks.resources if not r.custom}
    for resource in built.mocks.resources:
        if resource.custom and resource.typ != "azure-native:compute:AvailabilitySet":
            assert resource.parent in components, f"{resource.name} is not inside a component"
    if stack == "lab-hub":  # through the public entry, one port per node
        assert built.resolved["endpoints"] == entry_endpoints(built)
        assert built.resolved["endpoints"] == [f"https://{public_ip_of('entry-pip')}:{p}/wsman" for p in (50001, 50002)]
    else:  # straight to the private addresses, through the hub peering
        assert built.resolved["endpoints"] == [f"https://{n.ip}:5986/wsman" for n in built.config.nodes]
    assert [n.name for n in built.foundation.nodes] == [n.name for n in built.config.nodes]


@pytest.mark.parametrize("stack", ["lab-hub", "prod"])
def test_every_azure_resource_carries_the_stack_tags(build: Callable[..., Built], stack: str) -> None:
    built = build(stack)
    tier = "production" if stack == "prod" else "lab"
    expected = {"project": "entsso-cluster", "stack": stack, "tier": tier}
    for resource in built.mocks.resources:
        if resource.custom and resource.typ not in UNTAGGABLE:
            assert resource.inputs.get("tags") == expected, resource.name


# ---------------------------------------------------------------------------------------------
# Network exposure


def test_prod_has_no_public_ip_on_any_node(build: Callable[..., Built]) -> None:
    built = build("prod")
    for nic in built.of_type("network:NetworkInterface"):
        for ip_config in nic.inputs["ipConfigurations"]:
            assert "publicIPAddress" not in ip_config, nic.name
            assert ip_config["privateIPAllocationMethod"] == "Static"
    for vm in built.of_type("compute:VirtualMachine"):
        profile = vm.inputs["networkProfile"]
        assert "networkInterfaceConfigurations" not in profile  # no VM-created NIC could carry a public IP
        assert [ref["id"] for ref in profile["networkInterfaces"]] == [f"{vm.name.removesuffix('-vm')}-nic_id"]

    # The only public addresses: the NAT gateway's (outbound) and Bastion Standard's (required by Azure).
    public_ids = {f"{r.name}_id" for r in built.of_type("network:PublicIPAddress")}
    referenced_by: dict[str, list[str]] = {pid: [] for pid in public_ids}
    for resource in built.mocks.resources:
        for text in plain_strings(resource.inputs):
            if text in public_ids:
                referenced_by[text].append(resource.typ)
    assert sorted(typ for typs in referenced_by.values() for typ in typs) == [
        "azure-native:network:BastionHost",
        "azure-native:network:NatGateway",
    ]
    nat = built.one("network:NatGateway")
    subnet = next(s for s in built.of_type("network:Subnet") if s.inputs["subnetName"] == "snet-nodes")
    assert subnet.inputs["natGateway"]["id"] == f"{nat.name}_id"
    assert subnet.inputs["defaultOutboundAccess"] is False


def test_lab_has_no_bastion_by_default_and_developer_needs_no_public_ip_where_it_is_offered(
    build: Callable[..., Built],
) -> None:
    assert build("lab-hub").of_type("network:BastionHost") == []

    def developer(values: dict[str, Any]) -> None:
        values["azure"]["bastion"] = "Developer"
        values["azure"]["location"] = "northeurope"  # a region Microsoft lists for the Developer SKU

    built = build("lab-hub", change=developer)
    bastion = built.one("network:BastionHost")
    assert bastion.inputs["sku"] == {"name": "Developer"}
    assert "ipConfigurations" not in bastion.inputs
    assert bastion.inputs["virtualNetwork"]["id"] == "network-vnet_id"
    assert sorted(r.name for r in built.of_type("network:PublicIPAddress")) == ["entry-pip", "network-nat-pip"]


def _ports(rule: dict[str, Any]) -> list[str]:
    return [rule["destinationPortRange"]] if "destinationPortRange" in rule else rule["destinationPortRanges"]


def _allows_tcp(rule: dict[str, Any], port: int) -> bool:
    """Whether an inbound Allow rule lets TCP traffic to `port` through."""
    return rule["access"] == "Allow" and rule["protocol"] in ("Tcp", "*") and _covers(_ports(rule), port)


def _covers(ports: list[str], port: int) -> bool:
    for text in ports:
        if text == "*":
            return True
        low, _, high = text.partition("-")
        if int(low) <= port <= int(high or low):
            return True
    return False


@pytest.mark.parametrize("stack", ["lab-hub", "prod"])
def test_winrm_is_reachable_only_from_the_admin_cidr_and_everything_else_is_denied(
    build: Callable[..., Built], stack: str
) -> None:
    built = build(stack)
    admin_cidr = built.config.network.admin_cidr
    rules = built.one("network:NetworkSecurityGroup").inputs["securityRules"]
    inbound = sorted((r for r in rules if r["direction"] == "Inbound"), key=lambda r: r["priority"])
    assert len({r["priority"] for r in inbound}) == len(inbound)

    winrm_allows = [r for r in inbound if _allows_tcp(r, 5986)]
    assert winrm_allows, "no rule lets the runner reach WinRM"
    for rule in winrm_allows:
        assert rule["sourceAddressPrefix"] == admin_cidr, rule["name"]
        assert "sourceAddressPrefixes" not in rule
        assert rule["protocol"] == "Tcp"
    assert all(
        r["sourceAddressPrefix"] not in ("*", "Internet", "0.0.0.0/0") for r in inbound if r["access"] == "Allow"
    )

    deny = inbound[-1]
    assert (deny["access"], deny["protocol"], deny["sourceAddressPrefix"]) == ("Deny", "*", "*")
    assert (deny["destinationAddressPrefix"], deny["destinationPortRange"]) == ("*", "*")

    probes = {int(r["destinationPortRange"]) for r in inbound if r["sourceAddressPrefix"] == "AzureLoadBalancer"}
    expected_probes = {built.config.sso.probe_port} | (
        {built.config.dtc.probe_port} if built.config.dtc.enabled else set()
    )
    assert probes == expected_probes

    # The guest firewall narrows WinRM to the same CIDR: the Run Command gets it as a parameter.
    for command in built.of_type("compute:VirtualMachineRunCommandByVirtualMachine"):
        parameters = {p["name"]: p["value"] for p in command.inputs["parameters"]}
        assert parameters["AdminCidr"] == admin_cidr


def test_a_different_admin_cidr_moves_the_winrm_rule_with_it(build: Callable[..., Built]) -> None:
    def narrow(values: dict[str, Any]) -> None:
        values["network"]["adminCidr"] = "52.174.10.0/29"

    built = build("lab-hub", change=narrow)
    rules = built.one("network:NetworkSecurityGroup").inputs["securityRules"]
    winrm = [r for r in rules if _allows_tcp(r, 5986)]
    assert [r["sourceAddressPrefix"] for r in winrm] == ["52.174.10.0/29"]


def test_rdp_comes_only_from_the_bastion_subnet(build: Callable[..., Built]) -> None:
    built = build("prod")
    bastion_subnet = next(s for s in built.of_type("network:Subnet") if s.inputs["subnetName"] == "AzureBastionSubnet")
    cidr = ipaddress.IPv4Network(bastion_subnet.inputs["addressPrefix"])
    assert cidr.prefixlen == 26
    assert cidr.subnet_of(ipaddress.IPv4Network("10.30.0.0/16"))
    assert not cidr.overlaps(ipaddress.IPv4Network("10.30.1.0/24"))
    assert not cidr.overlaps(ipaddress.IPv4Network(built.config.network.admin_cidr))
    rules = built.one("network:NetworkSecurityGroup").inputs["securityRules"]
    rdp = [r for r in rules if _allows_tcp(r, 3389)]
    assert [r["sourceAddressPrefix"] for r in rdp] == [str(cidr)]


# ---------------------------------------------------------------------------------------------
# Placement, VMs, secrets


def test_prod_nodes_land_in_different_zones(build: Callable[..., Built]) -> None:
    built = build("prod")
    vms = built.vms_by_name()
    first, second = (node.name for node in built.config.nodes)
    assert (vms[first].inputs["zones"], vms[second].inputs["zones"]) == (["1"], ["2"])
    assert all("availabilitySet" not in vm.inputs for vm in vms.values())


def test_lab_nodes_share_one_availability_set(build: Callable[..., Built]) -> None:
    built = build("lab-hub")
    avset = built.one("compute:AvailabilitySet")
    assert avset.inputs["platformFaultDomainCount"] == 2
    assert avset.inputs["sku"] == {"name": "Aligned"}
    vms = built.of_type("compute:VirtualMachine")
    assert {vm.inputs["availabilitySet"]["id"] for vm in vms} == {f"{avset.name}_id"}
    assert len(vms) == 2
    assert all("zones" not in vm.inputs for vm in vms)


@pytest.mark.parametrize(("stack", "patch_mode"), [("lab-hub", "AutomaticByPlatform"), ("prod", "Manual")])
def test_every_vm_is_trusted_launch_azure_edition(build: Callable[..., Built], stack: str, patch_mode: str) -> None:
    built = build(stack)
    vms = built.vms_by_name()
    assert sorted(vms) == sorted(n.name for n in built.config.nodes)
    for vm in vms.values():
        security = vm.inputs["securityProfile"]
        assert security["securityType"] == "TrustedLaunch"
        assert security["uefiSettings"] == {"secureBootEnabled": True, "vTpmEnabled": True}
        image = vm.inputs["storageProfile"]["imageReference"]
        assert (image["publisher"], image["offer"], image["sku"]) == (
            "MicrosoftWindowsServer",
            "WindowsServer",
            "2022-datacenter-azure-edition",
        )
        assert image["version"] == "latest"
        assert vm.inputs["storageProfile"]["osDisk"]["deleteOption"] == "Delete"
        assert vm.inputs["identity"] == {"type": "SystemAssigned"}
        assert vm.inputs["diagnosticsProfile"] == {"bootDiagnostics": {"enabled": True}}
        windows = unwrap(vm.inputs["osProfile"])["windowsConfiguration"]
        assert windows["patchSettings"]["patchMode"] == patch_mode
        assert windows["enableAutomaticUpdates"] is (patch_mode != "Manual")


@pytest.mark.parametrize("stack", ["lab-hub", "prod"])
def test_every_secret_reaches_azure_as_a_secret(build: Callable[..., Built], stack: str) -> None:
    built = build(stack)
    for vm in built.of_type("compute:VirtualMachine"):
        # The SDK marks the whole os profile secret because the password inside it is.
        secrets = dict(secret_paths(vm.inputs))
        assert list(secrets) == ["osProfile"]
        assert secrets["osProfile"]["adminPassword"] == TEST_SECRETS["vmAdminPassword"]
    for join in built.of_type("compute:VirtualMachineExtension"):
        assert join.inputs["type"] == "JsonADDomainExtension"
        assert rpc.is_rpc_secret(join.inputs["protectedSettings"])
        assert rpc.unwrap_rpc_secret(join.inputs["protectedSettings"]) == {
            "Password": TEST_SECRETS["domainJoinPassword"]
        }
        assert join.inputs["settings"] == {
            "Name": built.config.domain.fqdn,
            "User": built.config.azure.domain_join_account if built.config.azure else None,
            "Restart": "true",
            "Options": "3",
            "OUPath": built.config.azure.domain_join_ou if built.config.azure else None,
        }
    # No secret value travels in plain text anywhere in the graph.
    for resource in built.mocks.resources:
        leaked = set(plain_strings(resource.inputs)) & set(TEST_SECRETS.values())
        assert not leaked, f"{resource.name} carries a secret in plain text"

    account = built.one("storage:StorageAccount")
    assert built.resolved["witness_key"] == f"key1-of-{account.inputs['accountName']}"
    assert built.resolved["witness_key_secret"] is True
    assert built.resolved["witness_name"] == account.inputs["accountName"]


# ---------------------------------------------------------------------------------------------
# Load balancer, witness, shared disk


@pytest.mark.parametrize("stack", ["lab-hub", "prod"])
def test_load_balancer_is_ha_ports_with_floating_ip_and_the_settings_probe_port(
    build: Callable[..., Built], stack: str
) -> None:
    built = build(stack)
    config = built.config
    balancer = next(b for b in built.of_type("network:LoadBalancer") if b.name == "cluster-ilb")
    assert balancer.inputs["sku"]["name"] == "Standard"
    assert all("publicIPAddress" not in f for f in balancer.inputs["frontendIPConfigurations"])
    frontends = {f["name"]: f for f in balancer.inputs["frontendIPConfigurations"]}
    probes = {p["name"]: p for p in balancer.inputs["probes"]}
    pools = {p["name"] for p in balancer.inputs["backendAddressPools"]}
    expected = {"sso": (str(config.sso.ip), config.sso.probe_port)}
    if config.dtc.enabled:
        expected["dtc"] = (str(config.dtc.ip), config.dtc.probe_port)
    assert len(balancer.inputs["loadBalancingRules"]) == len(expected)

    for rule in balancer.inputs["loadBalancingRules"]:
        assert (rule["protocol"], rule["frontendPort"], rule["backendPort"]) == ("All", 0, 0)
        assert rule["enableFloatingIP"] is True
        frontend = rule["frontendIPConfiguration"]["id"].removeprefix("$self/frontendIPConfigurations/")
        probe = rule["probe"]["id"].removeprefix("$self/probes/")
        pool = rule["backendAddressPool"]["id"].removeprefix("$self/backendAddressPools/")
        assert frontend in frontends, "a $self reference points nowhere"
        assert probe in probes, "a $self reference points nowhere"
        assert pool in pools, "a $self reference points nowhere"
        role = frontend.removeprefix("fe-")
        ip, probe_port = expected.pop(role)
        assert frontends[frontend]["privateIPAddress"] == ip
        assert frontends[frontend]["privateIPAllocationMethod"] == "Static"
        assert (probes[probe]["protocol"], probes[probe]["port"]) == ("Tcp", probe_port)
    assert not expected

    pool_id = f"{balancer.name}_id/backendAddressPools/be-nodes"
    nics = built.of_type("network:NetworkInterface")
    assert [n.inputs["ipConfigurations"][0]["loadBalancerBackendAddressPools"] for n in nics] == [[{"id": pool_id}]] * 2
    addresses = {n.inputs["networkInterfaceName"]: n.inputs["ipConfigurations"][0]["privateIPAddress"] for n in nics}
    assert addresses == {f"nic-{n.name.lower()}": str(n.ip) for n in config.nodes}
    assert built.foundation.sso_access_point.probe_port == config.sso.probe_port
    assert built.foundation.sso_access_point.ip == str(config.sso.ip)


def test_witness_account_meets_the_cloud_witness_requirements(build: Callable[..., Built]) -> None:
    built = build("prod")
    account = built.one("storage:StorageAccount").inputs
    assert account["kind"] == "StorageV2"
    assert account["sku"] == {"name": "Standard_LRS"}
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False
    assert account["enableHttpsTrafficOnly"] is True
    assert account["allowSharedKeyAccess"] is True  # the cluster signs witness requests with the key
    assert re.fullmatch(r"[a-z0-9]{3,24}", account["accountName"])
    keys_calls = [c for c in built.mocks.calls if c.token == "azure-native:storage:listStorageAccountKeys"]
    assert [c.args["accountName"] for c in keys_calls] == [account["accountName"]]


def test_prod_shared_disk_is_attached_to_both_nodes_at_lun_0(build: Callable[..., Built]) -> None:
    built = build("prod")
    disk = built.one("compute:Disk")
    assert disk.inputs["maxShares"] == 2
    assert disk.inputs["sku"] == {"name": "Premium_ZRS"}  # the nodes are in two zones
    assert disk.inputs["creationData"] == {"createOption": "Empty"}
    for vm in built.of_type("compute:VirtualMachine"):
        assert vm.inputs["storageProfile"]["dataDisks"] == [
            {
                "lun": 0,
                "createOption": "Attach",
                "managedDisk": {"id": f"{disk.name}_id"},
                "caching": "None",
                "deleteOption": "Detach",
            }
        ]
    assert built.resolved["shared_disk"] == f"{disk.name}_id"
    assert built.foundation.shared_disk is not None
    assert built.foundation.shared_disk.lun == 0


def test_lab_without_dtc_has_no_shared_disk_and_no_dtc_frontend(build: Callable[..., Built]) -> None:
    built = build("lab-hub")
    assert built.of_type("compute:Disk") == []
    assert all("dataDisks" not in vm.inputs["storageProfile"] for vm in built.of_type("compute:VirtualMachine"))
    assert built.foundation.dtc_access_point is None
    assert built.resolved["shared_disk"] is None


# ---------------------------------------------------------------------------------------------
# Escrow and protection


def test_prod_key_vault_has_purge_protection_and_irreplaceable_pieces_are_protected(
    build: Callable[..., Built],
) -> None:
    built = build("prod")
    vault = built.one("keyvault:Vault")
    properties = vault.inputs["properties"]
    assert properties["enablePurgeProtection"] is True
    assert properties["enableRbacAuthorization"] is True
    assert properties["enableSoftDelete"] is True
    assert properties["publicNetworkAccess"] == "Disabled"
    assert properties["tenantId"] == TENANT_ID
    assert vault.inputs["vaultName"] == vault_name("prod", built.config)  # a name people can find again
    # The vault, the witness and the break-glass group's right to read the vault outlive a destroy.
    irreplaceables = [vault, built.one("storage:StorageAccount"), built.one("authorization:RoleAssignment")]
    for irreplaceable in irreplaceables:
        assert (irreplaceable.protect, irreplaceable.retain_on_delete) == (True, True), irreplaceable.name
    assert not any(r.protect for r in built.mocks.resources if r.custom and r not in irreplaceables)
    assert built.resolved["escrow_vault"] == vault.inputs["vaultName"]


def test_lab_key_vault_stays_purgeable_and_nothing_is_protected(build: Callable[..., Built]) -> None:
    built = build("lab-hub")
    properties = built.one("keyvault:Vault").inputs["properties"]
    assert "enablePurgeProtection" not in properties
    assert properties["softDeleteRetentionInDays"] == 7
    assert properties["publicNetworkAccess"] == "Enabled"
    assert properties["networkAcls"]["defaultAction"] == "Deny"
    # The stack file's 198.51.100.16/28 is a documentation range: Key Vault would refuse it as an IP rule.
    assert "ipRules" not in properties["networkAcls"]
    assert not any(r.protect or r.retain_on_delete for r in built.mocks.resources)


def test_lab_key_vault_lets_a_public_admin_cidr_through_its_firewall(build: Callable[..., Built]) -> None:
    def public_admin(values: dict[str, Any]) -> None:
        values["network"]["adminCidr"] = "52.174.10.0/28"

    built = build("lab-hub", change=public_admin)
    acls = built.one("keyvault:Vault").inputs["properties"]["networkAcls"]
    assert acls["ipRules"] == [{"value": "52.174.10.0/28"}]


# ---------------------------------------------------------------------------------------------
# WinRM bootstrap


def test_run_command_follows_the_domain_join_and_passes_names_as_parameters(
    build: Callable[..., Built],
) -> None:
    built = build("prod")
    joins = {j.inputs["vmName"]: j for j in built.of_type("compute:VirtualMachineExtension")}
    script = WINRM_SCRIPT.read_text(encoding="utf-8")
    for command in built.of_type("compute:VirtualMachineRunCommandByVirtualMachine"):
        assert joins[command.inputs["vmName"]].urn in command.dependencies
        assert command.inputs["source"] == {"script": script}
        assert command.inputs["treatFailureAsDeploymentFailure"] is True
        assert {p["name"]: p["value"] for p in command.inputs["parameters"]} == {
            "DomainFqdn": built.config.domain.fqdn,
            "AdminCidr": built.config.network.admin_cidr,
            "Port": "5986",
            "ProbePorts": "59999,59998",  # the SSO and DTC access points' probes
        }
    assert built.config.domain.fqdn not in script
    assert built.config.network.admin_cidr not in script


def test_node_access_pins_the_thumbprint_the_run_command_printed(build: Callable[..., Built]) -> None:
    built = build("lab-hub")
    assert built.resolved["thumbprints"] == [fake_thumbprint(n.name) for n in built.config.nodes]
    assert not [c for c in built.mocks.calls if "RunCommand" in c.token]


def test_thumbprint_is_read_back_when_the_create_response_has_no_instance_view(
    build: Callable[..., Built],
) -> None:
    built = build("lab-hub", mocks=RecordingMocks(instance_view_on_create=False, instance_view_on_read=True))
    assert built.resolved["thumbprints"] == [fake_thumbprint(n.name) for n in built.config.nodes]
    reads = [c for c in built.mocks.calls if c.token.endswith("getVirtualMachineRunCommandByVirtualMachine")]
    assert sorted(c.args["vmName"] for c in reads) == sorted(n.name for n in built.config.nodes)
    assert {c.args["expand"] for c in reads} == {"instanceView"}


def test_thumbprint_is_none_when_no_instance_view_is_available(build: Callable[..., Built]) -> None:
    built = build("lab-hub", mocks=RecordingMocks(instance_view_on_create=False))
    assert built.resolved["thumbprints"] == [None, None]


def test_thumbprint_parser_takes_the_last_json_line_and_rejects_anything_else() -> None:
    thumbprint = "a" * 40
    assert thumbprint_from_output(f'noise\r\n{{"thumbprint": "{thumbprint}"}}\r\n\r\n') == "A" * 40
    assert thumbprint_from_output(None) is None
    assert thumbprint_from_output("  \r\n") is None
    with pytest.raises(ValueError, match="JSON result line"):
        thumbprint_from_output('{"thumbprint": "' + "B" * 40 + '"}\r\nWARNING: trailing text')
    with pytest.raises(ValueError, match="no SHA-1 thumbprint"):
        thumbprint_from_output('{"thumbprint": "not-a-thumbprint"}')


def test_winrm_script_is_valid_powershell_with_the_project_conventions() -> None:
    source = WINRM_SCRIPT.read_bytes()
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    assert parser.parse(source).root_node.has_error is False
    text = source.decode("utf-8")
    param_block = text[text.index("param(") : text.index(")\n\n")]
    assert all(f"${name}" in param_block for name in ("DomainFqdn", "AdminCidr", "Port"))
    assert "$ErrorActionPreference = 'Stop'" in text
    assert "Set-StrictMode -Version Latest" in text
    assert "-RemoteAddress $AdminCidr" in text  # the guest firewall narrows 5986 too
    assert "Auth\\Basic' -Value $false" in text
    assert text.rstrip().splitlines()[-1].startswith("Write-Output (ConvertTo-Json")


# ---------------------------------------------------------------------------------------------
# Existing network, names


EXISTING_SUBNET = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-spoke/providers/"
    "Microsoft.Network/virtualNetworks/vnet-spoke/subnets/snet-mss"
)


def into_an_existing_peered_spoke(values: dict[str, Any]) -> None:
    """Mode (b): the nodes go into a subnet of a spoke its owners already peered to the hub."""
    values["azure"]["resourceGroup"]["create"] = False
    values["network"]["existingSubnetId"] = EXISTING_SUBNET
    values["network"]["vnetCidr"] = "10.20.0.0/16"  # the spoke's own range
    values["network"]["hub"] = {"addressSpace": ["10.0.0.0/16"]}  # what its peering reaches


def test_existing_resource_group_and_subnet_are_used_not_created(build: Callable[..., Built]) -> None:
    def existing(values: dict[str, Any]) -> None:
        into_an_existing_peered_spoke(values)
        values["azure"]["bastion"] = "Developer"
        values["azure"]["location"] = "northeurope"

    built = build("lab-hub", change=existing)
    created = Counter(r.typ.rsplit(":", 1)[-1] for r in built.mocks.resources)
    for absent in ("ResourceGroup", "VirtualNetwork", "Subnet", "NatGateway", "VirtualNetworkPeering"):
        assert created[absent] == 0, absent
    nsg = built.one("network:NetworkSecurityGroup")
    for nic in built.of_type("network:NetworkInterface"):
        assert nic.inputs["ipConfigurations"][0]["subnet"]["id"] == EXISTING_SUBNET
        assert nic.inputs["networkSecurityGroup"] == {"id": f"{nsg.name}_id"}
        assert nic.inputs["resourceGroupName"] == "rg-entsso-lab"
        # The spoke's DNS is its owners'; the NIC still points at the domain controllers.
        assert nic.inputs["dnsSettings"] == {"dnsServers": ["10.0.0.4", "10.0.0.5"]}
    bastion = built.one("network:BastionHost")
    assert bastion.inputs["virtualNetwork"]["id"] == EXISTING_SUBNET.rsplit("/subnets/", 1)[0]


def test_prod_in_an_existing_spoke_puts_its_private_endpoints_there_and_uses_the_central_zones(
    build: Callable[..., Built],
) -> None:
    zones = "/subscriptions/0/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/"

    def existing(values: dict[str, Any]) -> None:
        into_an_existing_peered_spoke(values)
        values["network"]["vnetCidr"] = "10.30.0.0/16"
        values["azure"]["bastion"] = "none"
        values["network"]["privateDnsZoneIds"] = {
            "blob": zones + "privatelink.blob.core.windows.net",
            "vault": zones + "privatelink.vaultcore.azure.net",
        }

    built = build("prod", change=existing)
    assert built.of_type("privatedns:PrivateZone") == []
    assert built.of_type("privatedns:VirtualNetworkLink") == []
    endpoints = built.of_type("network:PrivateEndpoint")
    assert [e.inputs["subnet"]["id"] for e in endpoints] == [EXISTING_SUBNET] * 2
    groups = {
        g.name: g.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"]
        for g in built.of_type("network:PrivateDnsZoneGroup")
    }
    assert groups == {
        "cluster-witness-pe-dns": zones + "privatelink.blob.core.windows.net",
        "escrow-vault-pe-dns": zones + "privatelink.vaultcore.azure.net",
    }


def test_bastion_standard_in_an_existing_subnet_is_refused_with_the_keys_to_change(
    build: Callable[..., Built],
) -> None:
    def existing(values: dict[str, Any]) -> None:
        into_an_existing_peered_spoke(values)
        values["network"]["vnetCidr"] = "10.30.0.0/16"

    with pytest.raises(settings.SettingsError, match=r"azure\.bastion: Standard needs an AzureBastionSubnet"):
        build("prod", change=existing)


@pytest.mark.parametrize("cluster_name", ["MSSLABWSFC", "AB", "X-1", "ABCDEFGHIJKLMNO"])  # AB: the shortest host name
def test_witness_and_vault_names_are_legal_and_stable(cluster_name: str) -> None:
    values = stack_values("prod")
    values["cluster"]["name"] = cluster_name
    config = settings.validate_stack(values, stack="prod")
    account = witness_account_name("prod", config)
    vault = vault_name("prod", config)
    assert re.fullmatch(r"[a-z0-9]{3,24}", account)
    assert re.fullmatch(r"[a-z][a-z0-9-]{1,22}[a-z0-9]", vault)
    assert "--" not in vault
    assert account == witness_account_name("prod", config)
    assert vault == vault_name("prod", config)
    assert account != witness_account_name("prod2", config)


# ---------------------------------------------------------------------------------------------
# Issue 13: reachable directory, the operator's way in, probes, cluster ports, escrow and witness paths

HUB_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub"


@pytest.mark.parametrize("stack", ["lab-hub", "prod"])
def test_dns_points_at_domain_controllers_the_peering_reaches(build: Callable[..., Built], stack: str) -> None:
    built = build(stack)
    config = built.config
    assert config.directory is not None and config.network.hub is not None
    servers = [str(ip) for ip in config.directory.dns_servers]
    vnet = built.one("network:VirtualNetwork")
    assert vnet.inputs["dhcpOptions"] == {"dnsServers": servers}
    hub_space = [ipaddress.IPv4Network(c) for c in config.network.hub.address_space]
    for server in servers:  # every DNS server sits in a range the peering reaches, none in the VNet
        assert any(ipaddress.IPv4Address(server) in cidr for cidr in hub_space)
        assert ipaddress.IPv4Address(server) not in ipaddress.IPv4Network(
            vnet.inputs["addressSpace"]["addressPrefixes"][0]
        )
    for nic in built.of_type("network:NetworkInterface"):
        assert nic.inputs["dnsSettings"] == {"dnsServers": servers}

    peerings = {p.name: p for p in built.of_type("network:VirtualNetworkPeering")}
    spoke = peerings["network-to-hub"]
    assert spoke.inputs["virtualNetworkName"] == vnet.inputs["virtualNetworkName"]
    assert spoke.inputs["remoteVirtualNetwork"] == {"id": HUB_ID}
    assert (spoke.inputs["allowVirtualNetworkAccess"], spoke.inputs["allowForwardedTraffic"]) == (True, True)
    if stack == "lab-hub":  # createHubSide: the hub's side too, in the hub's own group, through its subscription's provider
        hub_side = peerings["network-from-hub"]
        assert (hub_side.inputs["resourceGroupName"], hub_side.inputs["virtualNetworkName"]) == ("rg-hub", "vnet-hub")
        assert hub_side.inputs["remoteVirtualNetwork"] == {"id": "network-vnet_id"}
        assert spoke.urn in hub_side.dependencies
        provider = built.one_of("pulumi:providers:azure-native")
        assert provider.inputs["subscriptionId"] == "00000000-0000-0000-0000-000000000000"
    else:  # the hub's owners create hub -> spoke: the README gives them the command
        assert list(peerings) == ["network-to-hub"]


def test_lab_entry_forwards_one_port_per_node_to_winrm_and_admits_only_the_admin_cidr(
    build: Callable[..., Built],
) -> None:
    built = build("lab-hub")
    config = built.config
    entry = next(b for b in built.of_type("network:LoadBalancer") if b.name == "entry-lb")
    assert entry.inputs["sku"]["name"] == "Standard"
    (frontend,) = entry.inputs["frontendIPConfigurations"]
    assert frontend["publicIPAddress"] == {"id": "entry-pip_id"}
    # NAT rules only: nothing is load balanced from the internet and no other port is forwarded.
    assert "loadBalancingRules" not in entry.inputs and "backendAddressPools" not in entry.inputs
    rules = {r["name"]: r for r in entry.inputs["inboundNatRules"]}
    assert {name: (r["protocol"], int(r["frontendPort"]), int(r["backendPort"])) for name, r in rules.items()} == {
        "winrm-msslab1": ("Tcp", 50001, 5986),
        "winrm-msslab2": ("Tcp", 50002, 5986),
    }
    assert all(r["enableFloatingIP"] is False for r in rules.values())
    for nic in built.of_type("network:NetworkInterface"):
        node = nic.inputs["networkInterfaceName"].removeprefix("nic-")
        ip_config = nic.inputs["ipConfigurations"][0]
        assert ip_config["loadBalancerInboundNatRules"] == [{"id": f"entry-lb_id/inboundNatRules/winrm-{node}"}]
        assert "publicIPAddress" not in ip_config  # the node itself stays private
    # The NSG admits 5986 from adminCidr only, and the guest firewall gets the same CIDR.
    nsg_rules = built.one("network:NetworkSecurityGroup").inputs["securityRules"]
    assert [r["sourceAddressPrefix"] for r in nsg_rules if _allows_tcp(r, 5986)] == [config.network.admin_cidr]
    for command in built.of_type("compute:VirtualMachineRunCommandByVirtualMachine"):
        assert {p["name"]: p["value"] for p in command.inputs["parameters"]}["AdminCidr"] == config.network.admin_cidr
    # The pin survives the detour through the entry: same thumbprint per node, endpoint by IP and port.
    assert built.resolved["thumbprints"] == [fake_thumbprint(n.name) for n in config.nodes]
    assert config.winrm.certificate_validation == "pin"


def test_prod_has_no_public_entry(build: Callable[..., Built]) -> None:
    built = build("prod")
    for balancer in built.of_type("network:LoadBalancer"):
        assert all("publicIPAddress" not in f for f in balancer.inputs["frontendIPConfigurations"])
        assert "inboundNatRules" not in balancer.inputs
    for nic in built.of_type("network:NetworkInterface"):
        assert "loadBalancerInboundNatRules" not in nic.inputs["ipConfigurations"][0]
    for endpoint in built.resolved["endpoints"]:
        assert ipaddress.IPv4Address(endpoint.split("//")[1].split(":")[0]).is_private
    admin = ipaddress.IPv4Network(built.config.network.admin_cidr)
    assert admin.is_private and admin.prefixlen >= 24


def test_probe_ports_are_opened_in_the_guest_from_the_azure_platform_address_only(
    build: Callable[..., Built],
) -> None:
    built = build("prod")
    probes = {str(built.config.sso.probe_port), str(built.config.dtc.probe_port)}
    for command in built.of_type("compute:VirtualMachineRunCommandByVirtualMachine"):
        parameters = {p["name"]: p["value"] for p in command.inputs["parameters"]}
        assert set(parameters["ProbePorts"].split(",")) == probes
    script = WINRM_SCRIPT.read_text(encoding="utf-8")
    assert "$probeSource = '168.63.129.16'" in script
    assert "-LocalPort $probeList -RemoteAddress $probeSource" in script
    assert "[string]$ProbePorts = ''" in script
    # The NSG lets the probes in from the AzureLoadBalancer tag, which is the same address.
    rules = built.one("network:NetworkSecurityGroup").inputs["securityRules"]
    assert {r["destinationPortRange"] for r in rules if r["sourceAddressPrefix"] == "AzureLoadBalancer"} == probes


@pytest.mark.parametrize("stack", ["lab-hub", "prod"])
def test_the_nodes_reach_each_other_on_the_cluster_ports_and_nothing_else_inside_the_subnet(
    build: Callable[..., Built], stack: str
) -> None:
    built = build(stack)
    subnet = str(built.config.network.node_subnet_cidr)
    rules = built.one("network:NetworkSecurityGroup").inputs["securityRules"]
    between = [r for r in rules if r["access"] == "Allow" and r["sourceAddressPrefix"] == subnet]
    allowed = {(r["protocol"], port) for r in between for port in _ports(r)}
    assert allowed == {
        ("Tcp", "135"),  # RPC endpoint mapper
        ("Tcp", "445"),  # SMB
        ("Tcp", "3343"),  # cluster service
        ("Tcp", "49152-65535"),  # dynamic RPC: ENTSSO and MSDTC between the nodes
        ("Udp", "3343"),  # cluster heartbeats
        ("Icmp", "*"),  # validation pings
    }
    assert all(r["destinationAddressPrefix"] == subnet for r in between)
    # WinRM between the nodes is not among them: no script reaches one node from the other over WinRM.
    assert not any(_allows_tcp(r, 5985) or _allows_tcp(r, 5986) for r in between)
    deny = max((r for r in rules if r["direction"] == "Inbound"), key=lambda r: r["priority"])
    assert (deny["access"], deny["priority"]) == ("Deny", 4096)
    assert all(r["priority"] < 4096 for r in between)


def test_shared_disk_is_a_p4_shared_by_the_nodes_and_zone_redundant_across_zones(build: Callable[..., Built]) -> None:
    built = build("prod")
    disk = built.one("compute:Disk").inputs
    assert (disk["diskSizeGB"], disk["maxShares"], disk["sku"]) == (32, 2, {"name": "Premium_ZRS"})
    assert (disk["networkAccessPolicy"], disk["publicNetworkAccess"]) == ("DenyAll", "Disabled")

    def avset_with_dtc(values: dict[str, Any]) -> None:
        values["dtc"] = {"enabled": True, "networkName": "MSSLABDTC", "ip": "10.20.1.51", "diskSizeGb": 64}

    lrs = build("lab-hub", change=avset_with_dtc).one("compute:Disk").inputs
    assert (lrs["diskSizeGB"], lrs["maxShares"], lrs["sku"]) == (64, 2, {"name": "Premium_LRS"})


@pytest.mark.parametrize(("stack", "disk_type"), [("lab-hub", "StandardSSD_LRS"), ("prod", "Premium_LRS")])
def test_os_disks_are_standard_ssd_in_the_lab(build: Callable[..., Built], stack: str, disk_type: str) -> None:
    for vm in build(stack).of_type("compute:VirtualMachine"):
        assert vm.inputs["storageProfile"]["osDisk"]["managedDisk"] == {"storageAccountType": disk_type}


def _endpoint_for(built: Built, kind: str) -> Registered:
    (endpoint,) = [
        e
        for e in built.of_type("network:PrivateEndpoint")
        if e.inputs["privateLinkServiceConnections"][0]["groupIds"] == [kind]
    ]
    return endpoint


def _zone_of(built: Built, endpoint: Registered) -> Registered:
    (group,) = [g for g in built.of_type("network:PrivateDnsZoneGroup") if g.name == f"{endpoint.name}-dns"]
    zone_id = group.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"]
    return next(z for z in built.of_type("privatedns:PrivateZone") if f"{z.name}_id" == zone_id)


def test_prod_witness_is_reached_through_a_blob_private_endpoint_and_closed_to_the_internet(
    build: Callable[..., Built],
) -> None:
    built = build("prod")
    account = built.one("storage:StorageAccount")
    assert account.inputs["publicNetworkAccess"] == "Disabled"
    assert account.inputs["networkRuleSet"] == {"defaultAction": "Deny", "bypass": "AzureServices"}
    endpoint = _endpoint_for(built, "blob")
    assert endpoint.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == f"{account.name}_id"
    endpoints_subnet = next(s for s in built.of_type("network:Subnet") if s.inputs["subnetName"] == "snet-endpoints")
    assert endpoint.inputs["subnet"]["id"] == f"{endpoints_subnet.name}_id"
    cidr = ipaddress.IPv4Network(endpoints_subnet.inputs["addressPrefix"])
    assert cidr.prefixlen == 27 and not cidr.overlaps(built.config.network.node_subnet_cidr)
    zone = _zone_of(built, endpoint)
    assert zone.inputs["privateZoneName"] == "privatelink.blob.core.windows.net"
    # Linked to the spoke and to the hub, where the domain controllers that answer the nodes resolve it.
    links = [
        link
        for link in built.of_type("privatedns:VirtualNetworkLink")
        if link.inputs["privateZoneName"] == zone.inputs["privateZoneName"]
    ]
    assert sorted(link.inputs["virtualNetwork"]["id"] for link in links) == sorted(["network-vnet_id", HUB_ID])
    assert all(link.inputs["registrationEnabled"] is False for link in links)
    # No zone-bound hop: the NAT gateway is not on the witness's path, so one zone cannot take both.


def test_lab_witness_admits_only_the_nodes_outbound_address(build: Callable[..., Built]) -> None:
    built = build("lab-hub")
    account = built.one("storage:StorageAccount").inputs
    assert account["publicNetworkAccess"] == "Enabled"
    assert account["networkRuleSet"] == {
        "defaultAction": "Deny",
        "bypass": "AzureServices",
        "ipRules": [{"iPAddressOrRange": public_ip_of("network-nat-pip"), "action": "Allow"}],
    }
    assert built.of_type("network:PrivateEndpoint") == []


def test_prod_vault_has_a_private_endpoint_and_the_break_glass_group_may_read_it(
    build: Callable[..., Built],
) -> None:
    built = build("prod")
    vault = built.one("keyvault:Vault")
    endpoint = _endpoint_for(built, "vault")
    assert endpoint.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == f"{vault.name}_id"
    assert _zone_of(built, endpoint).inputs["privateZoneName"] == "privatelink.vaultcore.azure.net"
    assignment = built.one("authorization:RoleAssignment").inputs
    assert assignment["scope"] == f"{vault.name}_id"
    assert assignment["principalType"] == "Group"
    assert assignment["principalId"] == built.config.azure.break_glass_group_id  # type: ignore[union-attr]
    assert assignment["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
        "4633458b-17de-408a-b874-0445c86b69e6"  # Key Vault Secrets User
    )
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", assignment["roleAssignmentName"]
    )


def test_a_lab_vault_gets_a_new_name_per_deployment(build: Callable[..., Built]) -> None:
    vault = build("lab-hub").one("keyvault:Vault")
    # No physical name: Pulumi auto-names it (logical name + random suffix, kept in state), so a rebuilt
    # lab never asks for the name its soft-deleted predecessor still holds.
    assert "vaultName" not in vault.inputs
    assert vault.protect is False and vault.retain_on_delete is False


def test_a_pinned_connection_to_an_ip_and_port_accepts_a_certificate_named_for_the_host(tmp_path: Path) -> None:
    """The entry's endpoint is https://<public IP>:<port>/wsman; the node's certificate names MSSLAB1.<domain>.

    Pinning compares the certificate itself (urllib3's assert_fingerprint), never its name: the right
    thumbprint connects, a wrong one is refused, and without a pin the name mismatch is refused.
    """
    import http.server
    import ssl
    import threading

    import requests
    import trustme

    from providers.runner_models import NodeConnection, RunnerConfig
    from providers.runner_transport import build_protocol

    ca = trustme.CA()
    certificate = ca.issue_cert("MSSLAB1.corp.contoso.com", "MSSLAB1")  # what the Run Command's cert names
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"https://127.0.0.1:{server.server_address[1]}/wsman"  # an address, as through the entry
    der = ssl.PEM_cert_to_DER_cert(certificate.cert_chain_pems[0].bytes().decode())
    thumbprint = hashlib.sha1(der).hexdigest().upper()  # noqa: S324 - what Windows shows as Thumbprint

    def session(**options: Any) -> requests.Session:
        node = NodeConnection(
            name="MSSLAB1", endpoint=endpoint, transport="ntlm", username="CORP\\u", password="p", **options
        )
        return build_protocol(node, RunnerConfig()).transport.build_session()

    try:
        assert session(validation="pin", thumbprint=thumbprint).post(endpoint, data=b"", timeout=10).status_code == 200
        with pytest.raises(requests.exceptions.SSLError, match="Fingerprints did not match"):
            session(validation="pin", thumbprint="AB" * 20).post(endpoint, data=b"", timeout=10)
        ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        with pytest.raises(requests.exceptions.SSLError):  # validate: the name is not 127.0.0.1
            session(validation="validate", ca_bundle=str(ca_file)).post(endpoint, data=b"", timeout=10)
    finally:
        server.shutdown()
