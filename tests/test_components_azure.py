"""The Azure side of the program under Pulumi's mock runtime: the lab and prod resource graphs.

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
    "entsso:cluster:ClusterInfrastructure": 1,
    "entsso:compute:WindowsNode": 2,
    "entsso:escrow:KeyVaultEscrow": 1,
    "azure-native:resources:ResourceGroup": 1,
    "azure-native:network:NetworkSecurityGroup": 1,
    "azure-native:network:PublicIPAddress": 1,  # the NAT gateway's; Bastion Developer has none
    "azure-native:network:NatGateway": 1,
    "azure-native:network:VirtualNetwork": 1,
    "azure-native:network:Subnet": 1,  # no AzureBastionSubnet for the Developer SKU
    "azure-native:network:BastionHost": 1,
    "azure-native:storage:StorageAccount": 1,
    "azure-native:network:LoadBalancer": 1,
    "azure-native:compute:AvailabilitySet": 1,
    "azure-native:network:NetworkInterface": 2,
    "azure-native:compute:VirtualMachine": 2,
    "azure-native:compute:VirtualMachineExtension": 2,
    RUN_COMMAND: 2,
    "azure-native:keyvault:Vault": 1,
}
PROD_TYPES = {
    **{key: count for key, count in LAB_TYPES.items() if key != "azure-native:compute:AvailabilitySet"},
    "azure-native:network:PublicIPAddress": 2,  # NAT gateway + Bastion Standard
    "azure-native:network:Subnet": 2,  # nodes + AzureBastionSubnet
    "azure-native:compute:Disk": 1,  # the clustered DTC's shared disk
}


@pytest.mark.parametrize(("stack", "expected"), [("lab", LAB_TYPES), ("prod", PROD_TYPES)])
def test_stack_builds_the_expected_resource_graph(
    build: Callable[..., Built], stack: str, expected: dict[str, int]
) -> None:
    built = build(stack)
    assert dict(Counter(r.typ for r in built.mocks.resources)) == expected
    components = {r.urn for r in built.mocks.resources if not r.custom}
    for resource in built.mocks.resources:
        if resource.custom and resource.typ != "azure-native:compute:AvailabilitySet":
            assert resource.parent in components, f"{resource.name} is not inside a component"
    assert built.resolved["endpoints"] == [f"https://{n.ip}:5986/wsman" for n in built.config.nodes]
    assert [n.name for n in built.foundation.nodes] == [n.name for n in built.config.nodes]


@pytest.mark.parametrize("stack", ["lab", "prod"])
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


def test_lab_bastion_developer_needs_no_public_ip_and_no_bastion_subnet(build: Callable[..., Built]) -> None:
    built = build("lab")
    bastion = built.one("network:BastionHost")
    assert bastion.inputs["sku"] == {"name": "Developer"}
    assert "ipConfigurations" not in bastion.inputs
    assert bastion.inputs["virtualNetwork"]["id"] == "network-vnet_id"
    assert [r.name for r in built.of_type("network:PublicIPAddress")] == ["network-nat-pip"]


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


@pytest.mark.parametrize("stack", ["lab", "prod"])
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
        values["network"]["adminCidr"] = "10.20.250.0/29"

    built = build("lab", change=narrow)
    rules = built.one("network:NetworkSecurityGroup").inputs["securityRules"]
    winrm = [r for r in rules if _allows_tcp(r, 5986)]
    assert [r["sourceAddressPrefix"] for r in winrm] == ["10.20.250.0/29"]


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
    built = build("lab")
    avset = built.one("compute:AvailabilitySet")
    assert avset.inputs["platformFaultDomainCount"] == 2
    assert avset.inputs["sku"] == {"name": "Aligned"}
    vms = built.of_type("compute:VirtualMachine")
    assert {vm.inputs["availabilitySet"]["id"] for vm in vms} == {f"{avset.name}_id"}
    assert len(vms) == 2
    assert all("zones" not in vm.inputs for vm in vms)


@pytest.mark.parametrize(("stack", "patch_mode"), [("lab", "AutomaticByPlatform"), ("prod", "Manual")])
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


@pytest.mark.parametrize("stack", ["lab", "prod"])
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


@pytest.mark.parametrize("stack", ["lab", "prod"])
def test_load_balancer_is_ha_ports_with_floating_ip_and_the_settings_probe_port(
    build: Callable[..., Built], stack: str
) -> None:
    built = build(stack)
    config = built.config
    balancer = built.one("network:LoadBalancer")
    assert balancer.inputs["sku"]["name"] == "Standard"
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
    built = build("lab")
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
    for irreplaceable in (vault, built.one("storage:StorageAccount")):
        assert (irreplaceable.protect, irreplaceable.retain_on_delete) == (True, True), irreplaceable.name
    assert not any(
        r.protect for r in built.mocks.resources if r.custom and r not in (vault, built.one("storage:StorageAccount"))
    )
    assert built.resolved["escrow_vault"] == vault.inputs["vaultName"]


def test_lab_key_vault_stays_purgeable_and_nothing_is_protected(build: Callable[..., Built]) -> None:
    built = build("lab")
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

    built = build("lab", change=public_admin)
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
        }
    assert built.config.domain.fqdn not in script
    assert built.config.network.admin_cidr not in script


def test_node_access_pins_the_thumbprint_the_run_command_printed(build: Callable[..., Built]) -> None:
    built = build("lab")
    assert built.resolved["thumbprints"] == [fake_thumbprint(n.name) for n in built.config.nodes]
    assert not [c for c in built.mocks.calls if "RunCommand" in c.token]


def test_thumbprint_is_read_back_when_the_create_response_has_no_instance_view(
    build: Callable[..., Built],
) -> None:
    built = build("lab", mocks=RecordingMocks(instance_view_on_create=False, instance_view_on_read=True))
    assert built.resolved["thumbprints"] == [fake_thumbprint(n.name) for n in built.config.nodes]
    reads = [c for c in built.mocks.calls if c.token.endswith("getVirtualMachineRunCommandByVirtualMachine")]
    assert sorted(c.args["vmName"] for c in reads) == sorted(n.name for n in built.config.nodes)
    assert {c.args["expand"] for c in reads} == {"instanceView"}


def test_thumbprint_is_none_when_no_instance_view_is_available(build: Callable[..., Built]) -> None:
    built = build("lab", mocks=RecordingMocks(instance_view_on_create=False))
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


def test_existing_resource_group_and_subnet_are_used_not_created(build: Callable[..., Built]) -> None:
    subnet_id = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub/providers/"
        "Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-mss"
    )

    def existing(values: dict[str, Any]) -> None:
        values["azure"]["resourceGroup"]["create"] = False
        values["network"]["existingSubnetId"] = subnet_id

    built = build("lab", change=existing)
    created = Counter(r.typ.rsplit(":", 1)[-1] for r in built.mocks.resources)
    for absent in ("ResourceGroup", "VirtualNetwork", "Subnet", "NatGateway", "PublicIPAddress"):
        assert created[absent] == 0, absent
    nsg = built.one("network:NetworkSecurityGroup")
    for nic in built.of_type("network:NetworkInterface"):
        assert nic.inputs["ipConfigurations"][0]["subnet"]["id"] == subnet_id
        assert nic.inputs["networkSecurityGroup"] == {"id": f"{nsg.name}_id"}
        assert nic.inputs["resourceGroupName"] == "rg-entsso-lab"
    bastion = built.one("network:BastionHost")
    assert bastion.inputs["virtualNetwork"]["id"] == subnet_id.rsplit("/subnets/", 1)[0]


def test_bastion_standard_in_an_existing_subnet_is_refused_with_the_keys_to_change(
    build: Callable[..., Built],
) -> None:
    def existing(values: dict[str, Any]) -> None:
        values["network"]["existingSubnetId"] = (
            "/subscriptions/x/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
        )

    with pytest.raises(ValueError, match=r"azure\.bastion Standard"):
        build("prod", change=existing)


@pytest.mark.parametrize("cluster_name", ["MSSLABWSFC", "A", "X-1", "ABCDEFGHIJKLMNO"])
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
