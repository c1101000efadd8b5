"""The production policy pack (policy/) against the program's real lab and prod graphs, without the CLI.

The whole program (`__main__.py`: Azure components and the SSO dynamic resources) runs under the
SDK's mock runtime with the stack files' config (secrets replaced by stand-ins, marked secret). A
monitor wrapped around the SDK's MockMonitor keeps every RegisterResourceRequest: type, name,
camelCase inputs as the engine receives them, options (protect, parent) and property dependencies.
Each registration then goes to the pack's own analyzer servicer as the engine sends it: one
AnalyzeRequest per resource and one AnalyzeStackRequest for the stack, with the stack config in
PULUMI_CONFIG, as the CLI hands it to a policy pack.
"""

from __future__ import annotations

import copy
import json
import os
import runpy
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pulumi
import pytest
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

import settings
from ops.mock_cloud import MockCloud
from policy import policies

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
PACK_DIR = ROOT / "policy"
PACK_NAME = "entsso-cluster-prod"
PREFIX = f"{settings.PROJECT}:"
STAND_IN_SECRETS = {
    "installPassword": "Install-Pa55!word",
    "serviceAccountPassword": "Service-Pa55!word",
    "backupPassword": "Backup-Pa55!word",
    "vmAdminPassword": "VmAdmin-Pa55!word",
    "domainJoinPassword": "DomainJoin-Pa55!word",
    "dsrmPassword": "Dsrm-Pa55!word",
    "sqlServicePassword": "Sql-Engine-Pa55!word",
}
POLICY_NAMES = [
    "node-no-public-ip",
    "public-ip-only-for-nat-or-bastion",
    "winrm-https-only",
    "winrm-from-named-cidr",
    "winrm-source-narrow",
    "witness-closed-in-production",
    "private-paths-in-production",
    "node-in-one-zone",
    "nodes-in-different-zones",
    "node-trusted-launch",
    "witness-storage-hardened",
    "key-vault-purge-protection",
    "sso-resources-protected",
]
ZONE_POLICIES = {"node-in-one-zone", "nodes-in-different-zones"}
SSO_PREFIX = "pulumi-python:dynamic/entsso:"


# ---------------------------------------------------------------------------------------------
# The program's graph, as registered


@dataclass
class Registered:
    """One RegisterResource call: what the engine would hand an analyzer about the resource."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]  # wire form (secrets as signature maps), as the engine gets them
    outputs: dict[str, Any]
    protect: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)

    def edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Apply one change to the inputs and the outputs alike (preview outputs echo the inputs)."""
        change(self.inputs)
        change(self.outputs)

    def options(self) -> analyzer_pb2.AnalyzerResourceOptions:
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=self.protect,
            ignoreChanges=self.ignore_changes,
            deleteBeforeReplace=self.delete_before_replace,
            deleteBeforeReplaceDefined=self.delete_before_replace,
            additionalSecretOutputs=self.additional_secret_outputs,
            parent=self.parent,
        )


@dataclass
class Graph:
    stack: str
    config: dict[str, str]  # the stack config as the CLI passes it to a policy pack (PULUMI_CONFIG)
    resources: list[Registered]

    def named(self, name: str) -> Registered:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"{name}: {len(found)} resources"
        return found[0]

    def of_type(self, resource_type: str) -> list[Registered]:
        return sorted((r for r in self.resources if r.type == resource_type), key=lambda r: r.name)

    def sso_resources(self) -> list[Registered]:
        return sorted((r for r in self.resources if r.type.startswith(SSO_PREFIX)), key=lambda r: r.name)


class CapturingMonitor(MockMonitor):
    """The SDK's MockMonitor, keeping each RegisterResourceRequest and the urn/outputs it answered."""

    def __init__(self) -> None:
        super().__init__(MockCloud())
        self._lock = threading.Lock()  # the SDK registers from several executor threads
        self.registered: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        registered = Registered(
            type=request.type,
            name=request.name,
            urn=response.urn,
            parent=request.parent,
            custom=bool(request.custom),
            inputs=json_format.MessageToDict(request.object),
            outputs=json_format.MessageToDict(response.object),
            protect=bool(request.protect),
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            delete_before_replace=bool(request.deleteBeforeReplace),
            ignore_changes=list(request.ignoreChanges),
            additional_secret_outputs=list(request.additionalSecretOutputs),
        )
        with self._lock:
            self.registered.append(registered)
        return response


def stack_config(stack: str) -> tuple[dict[str, str], list[str]]:
    """The stack file's config as text values, stand-ins for the encrypted secrets, and the secret keys."""
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in document["config"].items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = STAND_IN_SECRETS[key.removeprefix(PREFIX)]
            secret_keys.append(key)
        else:
            config[key] = value if isinstance(value, str) else json.dumps(value)
    return config, secret_keys


def build_graph(stack: str) -> Graph:
    """Run `__main__.py` for `stack` under fresh mocks and return every registration."""
    monitor = CapturingMonitor()
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]  # a root stack of this stack, not the last one's
    pulumi.runtime.set_mocks(MockCloud(), project=settings.PROJECT, stack=stack, preview=False, monitor=monitor)
    config, secret_keys = stack_config(stack)
    pulumi.runtime.set_all_config(config, secret_keys)
    try:

        @pulumi.runtime.test  # type: ignore[untyped-decorator]
        def program() -> None:
            runpy.run_path(str(PROGRAM), run_name="__main__")

        program()
    finally:
        pulumi.runtime.set_all_config({}, [])
    return Graph(stack, config, list(monitor.registered))


@pytest.fixture(scope="module")
def built() -> Iterator[dict[str, Graph]]:
    """Both graphs, each built once under its own mocks (about 2 s apiece); tests get copies."""
    yield {stack: build_graph(stack) for stack in ("lab-hub", "prod")}
    pulumi.runtime.set_all_config({}, [])


@pytest.fixture
def prod(built: dict[str, Graph]) -> Graph:
    return copy.deepcopy(built["prod"])


@pytest.fixture
def lab(built: dict[str, Graph]) -> Graph:
    return copy.deepcopy(built["lab-hub"])


# ---------------------------------------------------------------------------------------------
# Running the pack the way the engine calls it


@dataclass(frozen=True)
class Finding:
    policy: str
    resource: str  # the resource's logical name (last URN segment); "" for the stack
    message: str
    level: int


@dataclass
class Verdict:
    findings: list[Finding]
    not_applicable: set[tuple[str, str]]  # (policy, resource name or "" for the stack)

    def pairs(self) -> set[tuple[str, str]]:
        return {(f.policy, f.resource) for f in self.findings}


def resource_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else ""


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(props)
    return struct


def analyze_request(resource: Registered) -> analyzer_pb2.AnalyzeRequest:
    return analyzer_pb2.AnalyzeRequest(
        type=resource.type,
        properties=to_struct(resource.inputs),
        urn=resource.urn,
        name=resource.name,
        options=resource.options(),
    )


def analyze_stack_request(graph: Graph) -> analyzer_pb2.AnalyzeStackRequest:
    return analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                properties=to_struct(r.outputs),
                urn=r.urn,
                name=r.name,
                options=r.options(),
                parent=r.parent,
                dependencies=r.dependencies,
                propertyDependencies={
                    k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v) for k, v in r.property_dependencies.items()
                },
            )
            for r in graph.resources
        ]
    )


def new_servicer() -> Any:
    return _PolicyAnalyzerServicer(
        PACK_NAME, "0.0.1", policies.POLICIES, EnforcementLevel.MANDATORY, None, None, None, None, None, None, None
    )


@pytest.fixture
def run_pack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Verdict]]:
    """Analyze + AnalyzeStack over a graph, with the stack's config in PULUMI_CONFIG (or none)."""

    def run(graph: Graph, *, with_stack_config: bool = True) -> Verdict:
        pulumi.runtime.set_all_config({}, [])
        if with_stack_config:
            monkeypatch.setenv("PULUMI_CONFIG", json.dumps(graph.config))
        else:
            monkeypatch.delenv("PULUMI_CONFIG", raising=False)
        servicer = new_servicer()
        findings: list[Finding] = []
        not_applicable: set[tuple[str, str]] = set()
        for resource in graph.resources:
            response = servicer.Analyze(analyze_request(resource), None)
            findings += [
                Finding(d.policyName, resource.name, d.message, d.enforcementLevel) for d in response.diagnostics
            ]
            not_applicable |= {(n.policy_name, resource.name) for n in response.not_applicable}
        response = servicer.AnalyzeStack(analyze_stack_request(graph), None)
        findings += [
            Finding(d.policyName, resource_name(d.urn), d.message, d.enforcementLevel) for d in response.diagnostics
        ]
        not_applicable |= {(n.policy_name, "") for n in response.not_applicable}
        pulumi.runtime.set_all_config({}, [])
        return Verdict(findings, not_applicable)

    yield run
    pulumi.runtime.set_all_config({}, [])


# ---------------------------------------------------------------------------------------------
# The pack itself


def test_pack_declares_every_policy_mandatory() -> None:
    info = new_servicer().GetAnalyzerInfo(None, None)
    assert info.name == PACK_NAME
    assert [p.name for p in info.policies] == POLICY_NAMES
    assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}
    kinds = {p.name: p.policy_type for p in info.policies}
    assert {n for n, k in kinds.items() if k == analyzer_pb2.POLICY_TYPE_STACK} == {
        "public-ip-only-for-nat-or-bastion",
        "private-paths-in-production",
        "nodes-in-different-zones",
    }
    pack = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert pack["runtime"]["name"] == "python"
    requirements = (PACK_DIR / "requirements.txt").read_text(encoding="utf-8").splitlines()
    constraints = set((ROOT / "constraints.txt").read_text(encoding="utf-8").lower().replace("_", "-").splitlines())
    pins = [line for line in requirements if line and not line.startswith("#")]
    assert "pulumi-policy==1.21.0" in pins
    for pin in pins:
        if not pin.startswith("setuptools=="):  # setuptools comes with the venv, not from constraints.txt
            assert pin.lower().replace("_", "-") in constraints, pin


def test_pack_runs_as_the_cli_runs_it_and_answers_over_grpc() -> None:
    """`python -m pulumi.policy <engine> policy/`: what pulumi-analyzer-policy-python starts."""
    prod_config, _ = stack_config("prod")
    env = {**os.environ, "PULUMI_CONFIG": json.dumps(prod_config)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pulumi.policy", "127.0.0.1:1", str(PACK_DIR)],
        cwd=PACK_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().decode().strip() or "0")
        assert port > 0, process.stderr.read().decode() if process.stderr else ""
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            assert [p.name for p in info.policies] == POLICY_NAMES
            vm = {"zones": [], "securityProfile": {"securityType": "TrustedLaunch"}}
            response = stub.Analyze(
                analyzer_pb2.AnalyzeRequest(
                    type=policies.VIRTUAL_MACHINE,
                    properties=to_struct(vm),
                    urn="urn:pulumi:prod::entsso-cluster::azure-native:compute:VirtualMachine::node-x-vm",
                    name="node-x-vm",
                ),
                timeout=30,
            )
        found = {d.policyName: d for d in response.diagnostics}
        assert set(found) == {"node-in-one-zone", "node-trusted-launch"}
        assert "'node-x-vm'" in found["node-in-one-zone"].message
        assert "vTpmEnabled is not true" in found["node-trusted-launch"].message
        assert found["node-trusted-launch"].enforcementLevel == analyzer_pb2.MANDATORY
    finally:
        process.kill()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


# ---------------------------------------------------------------------------------------------
# Prod passes, lab fails exactly the production-only policies it should


def test_prod_graph_passes_every_policy(prod: Graph, run_pack: Callable[..., Verdict]) -> None:
    # The graph is the whole program, so the pass is not vacuous.
    assert len(prod.of_type(policies.VIRTUAL_MACHINE)) == 2
    assert len(prod.of_type(policies.PUBLIC_IP_ADDRESS)) == 2  # NAT gateway + Bastion Standard
    assert [r.name for r in prod.sso_resources()] == [
        "mss-backup",
        "mss-cluster",
        "mss-dtc",
        "mss-entsso",
        "mss-features-mssprd1",
        "mss-features-mssprd2",
        "mss-restore",
        "mss-role",
        "mss-secret-server",
        "mss-sso-install-mssprd1",
        "mss-sso-install-mssprd2",
        "mss-sso-master-mssprd1",
        "mss-sso-member-mssprd2",
    ]
    for graph_config in (True, False):  # with the stack's config, and with none (the pack presumes prod)
        verdict = run_pack(prod, with_stack_config=graph_config)
        assert verdict.findings == []
        assert verdict.not_applicable == set()


def test_prod_passes_in_preview_when_ids_are_unknown(prod: Graph, run_pack: Callable[..., Verdict]) -> None:
    """In preview every id is unknown; the policies follow property dependencies, so none gives up."""

    def unknown_ids(value: Any) -> Any:
        if isinstance(value, str) and "-id" in value:  # MockCloud ids are "<name>-id"
            return UNKNOWN_STRING_VALUE
        if isinstance(value, dict):
            return {k: unknown_ids(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unknown_ids(v) for v in value]
        return value

    replaced = set()
    for resource in prod.resources:
        before = json.dumps(resource.inputs)
        resource.inputs = unknown_ids(resource.inputs)
        resource.outputs = unknown_ids(resource.outputs)
        if before != json.dumps(resource.inputs):
            replaced.add(resource.name)
    assert replaced == {
        "network-nat",
        "network-nodes",
        "network-bastion",
        "network-zone-blob-nodes",
        "network-zone-vault-nodes",
        "cluster-witness-pe",
        "cluster-witness-pe-dns",
        "escrow-vault-pe",
        "escrow-vault-pe-dns",
        "escrow-break-glass",
        "cluster-ilb",
        "node-mssprd1-nic",
        "node-mssprd2-nic",
        "node-mssprd1-vm",
        "node-mssprd2-vm",
    }
    verdict = run_pack(prod)
    assert verdict.findings == []  # not even the advisory "can't run policy during preview"


LAB_SSO_RESOURCES = {
    "mss-backup",
    "mss-cluster",
    "mss-entsso",
    "mss-features-msslab1",
    "mss-features-msslab2",
    "mss-restore",
    "mss-role",
    "mss-secret-server",
    "mss-sso-install-msslab1",
    "mss-sso-install-msslab2",
    "mss-sso-master-msslab1",
    "mss-sso-member-msslab2",
}


def test_lab_graph_fails_purge_protection_and_protect_and_is_spared_zones(
    lab: Graph, run_pack: Callable[..., Verdict]
) -> None:
    verdict = run_pack(lab)
    assert verdict.pairs() == {("key-vault-purge-protection", "escrow-vault")} | {
        ("sso-resources-protected", name) for name in LAB_SSO_RESOURCES
    }
    # entsso-cluster:tier is lab: the production-only policies step aside instead of passing silently,
    # and the lab's public WinRM entry (a load balancer) is allowed.
    assert verdict.not_applicable == {
        ("node-in-one-zone", "node-msslab1-vm"),
        ("node-in-one-zone", "node-msslab2-vm"),
        ("nodes-in-different-zones", ""),
        ("witness-closed-in-production", "cluster-witness"),
        ("private-paths-in-production", ""),
    }
    vault = next(f for f in verdict.findings if f.policy == "key-vault-purge-protection")
    assert "enablePurgeProtection is None" in vault.message


def test_self_contained_lab_graph_fails_only_what_any_lab_fails(run_pack: Callable[..., Verdict]) -> None:
    """The DC and SQL Server of directory.source create are Trusted Launch VMs with no public IP and no WinRM."""
    graph = build_graph("lab")
    assert len(graph.of_type(policies.VIRTUAL_MACHINE)) == 4
    verdict = run_pack(graph)
    assert verdict.pairs() == {("key-vault-purge-protection", "escrow-vault")} | {
        ("sso-resources-protected", name) for name in LAB_SSO_RESOURCES
    }
    assert verdict.not_applicable == {
        ("node-in-one-zone", name) for name in ("node-msslab1-vm", "node-msslab2-vm", "directory-dc-vm", "sql-vm")
    } | {
        ("nodes-in-different-zones", ""),
        ("witness-closed-in-production", "cluster-witness"),
        ("private-paths-in-production", ""),
    }


def test_lab_graph_without_stack_config_also_fails_zones(lab: Graph, run_pack: Callable[..., Verdict]) -> None:
    """Run where the pack cannot see the tier, it presumes production: the availability set fails."""
    verdict = run_pack(lab, with_stack_config=False)
    assert verdict.pairs() == (
        {("key-vault-purge-protection", "escrow-vault")}
        | {("sso-resources-protected", name) for name in LAB_SSO_RESOURCES}
        | {("node-in-one-zone", "node-msslab1-vm"), ("node-in-one-zone", "node-msslab2-vm")}
        # everything that makes the lab a lab: its public entry, its public adminCidr, its public witness
        # and vault without private endpoints
        | {("public-ip-only-for-nat-or-bastion", "entry-lb"), ("winrm-source-narrow", "network-nsg")}
        | {("witness-closed-in-production", "cluster-witness")}
        | {("private-paths-in-production", "cluster-witness"), ("private-paths-in-production", "escrow-vault")}
    )
    assert verdict.not_applicable == set()
    zone = next(f for f in verdict.findings if f.policy == "node-in-one-zone")
    assert "has no availability zone" in zone.message


# ---------------------------------------------------------------------------------------------
# Each violation is caught, by the right policy, naming the resource


def _rule(name: str, port: str, source: str, priority: int) -> dict[str, Any]:
    return {
        "name": name,
        "priority": priority,
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "Tcp",
        "sourceAddressPrefix": source,
        "sourcePortRange": "*",
        "destinationAddressPrefix": "10.30.1.0/24",
        "destinationPortRange": port,
    }


def public_ip_on_a_nic(graph: Graph) -> None:
    nat_ip = graph.named("network-nat-pip")
    node_ip = copy.deepcopy(nat_ip)
    node_ip.name = "node-mssprd1-pip"
    node_ip.urn = nat_ip.urn.replace("::network-nat-pip", "::node-mssprd1-pip")
    graph.resources.append(node_ip)
    nic = graph.named("node-mssprd1-nic")

    def attach(props: dict[str, Any]) -> None:
        props["ipConfigurations"][0]["publicIPAddress"] = {"id": "node-mssprd1-pip-id"}

    nic.edit(attach)
    nic.property_dependencies["ipConfigurations"].append(node_ip.urn)


def orphan_public_ip(graph: Graph) -> None:
    nat_ip = graph.named("network-nat-pip")
    spare = copy.deepcopy(nat_ip)
    spare.name = "spare-pip"
    spare.urn = nat_ip.urn.replace("::network-nat-pip", "::spare-pip")
    graph.resources.append(spare)


def public_load_balancer(graph: Graph) -> None:
    balancer_ip = copy.deepcopy(graph.named("network-nat-pip"))
    balancer_ip.name = "ilb-pip"
    balancer_ip.urn = balancer_ip.urn.replace("::network-nat-pip", "::ilb-pip")
    graph.resources.append(balancer_ip)
    balancer = graph.named("cluster-ilb")
    balancer.edit(lambda props: props["frontendIPConfigurations"][0].update(publicIPAddress={"id": "ilb-pip-id"}))
    balancer.property_dependencies["frontendIPConfigurations"].append(balancer_ip.urn)


def winrm_https_from(source: str) -> Callable[[Graph], None]:
    def change(graph: Graph) -> None:
        def open_rule(props: dict[str, Any]) -> None:
            rule = next(r for r in props["securityRules"] if r["name"] == "AllowWinRmHttpsFromAdmin")
            rule["sourceAddressPrefix"] = source

        graph.named("network-nsg").edit(open_rule)

    return change


def winrm_http_rule(graph: Graph) -> None:
    graph.named("network-nsg").edit(
        lambda props: props["securityRules"].append(_rule("AllowWinRmHttp", "5985", "10.30.9.0/28", 101))
    )


def winrm_http_in_a_range(graph: Graph) -> None:
    def widen(props: dict[str, Any]) -> None:
        rule = next(r for r in props["securityRules"] if r["name"] == "AllowWinRmHttpsFromAdmin")
        rule["destinationPortRange"] = "5985-5986"

    graph.named("network-nsg").edit(widen)


def drop_a_zone(graph: Graph) -> None:
    graph.named("node-mssprd2-vm").edit(lambda props: props.pop("zones"))


def both_nodes_in_zone_1(graph: Graph) -> None:
    graph.named("node-mssprd2-vm").edit(lambda props: props.update(zones=["1"]))


def drop_trusted_launch(graph: Graph) -> None:
    graph.named("node-mssprd1-vm").edit(lambda props: props.pop("securityProfile"))


def vtpm_off(graph: Graph) -> None:
    graph.named("node-mssprd1-vm").edit(
        lambda props: props["securityProfile"]["uefiSettings"].update(vTpmEnabled=False)
    )


def public_blob_access(graph: Graph) -> None:
    graph.named("cluster-witness").edit(lambda props: props.update(allowBlobPublicAccess=True))


def tls_1_0(graph: Graph) -> None:
    graph.named("cluster-witness").edit(lambda props: props.update(minimumTlsVersion="TLS1_0"))


def purge_protection_off(graph: Graph) -> None:
    graph.named("escrow-vault").edit(lambda props: props["properties"].update(enablePurgeProtection=False))


def protect_off(graph: Graph) -> None:
    graph.named("mss-backup").protect = False


def witness_open(graph: Graph) -> None:
    graph.named("cluster-witness").edit(lambda props: props.update(publicNetworkAccess="Enabled"))


def without(*names: str) -> Callable[[Graph], None]:
    def change(graph: Graph) -> None:
        graph.resources = [r for r in graph.resources if r.name not in names]

    return change


MUTATIONS: list[tuple[str, Callable[[Graph], None], set[tuple[str, str]], str]] = [
    (
        "public-ip-on-a-nic",
        public_ip_on_a_nic,
        {("node-no-public-ip", "node-mssprd1-nic"), ("public-ip-only-for-nat-or-bastion", "node-mssprd1-vm")},
        "Remove publicIPAddress",
    ),
    (
        "public-ip-on-the-load-balancer",
        public_load_balancer,
        {("public-ip-only-for-nat-or-bastion", "cluster-ilb")},
        "attached to 'cluster-ilb' (azure-native:network:LoadBalancer, property frontendIPConfigurations)",
    ),
    ("orphan-public-ip", orphan_public_ip, {("public-ip-only-for-nat-or-bastion", "spare-pip")}, "Delete it"),
    ("5986-open-to-star", winrm_https_from("*"), {("winrm-from-named-cidr", "network-nsg")}, "'*' (anyone)"),
    ("5986-from-internet", winrm_https_from("Internet"), {("winrm-from-named-cidr", "network-nsg")}, "'Internet'"),
    (
        "5986-from-0/0",
        winrm_https_from("0.0.0.0/0"),
        {("winrm-from-named-cidr", "network-nsg"), ("winrm-source-narrow", "network-nsg")},
        "'0.0.0.0/0'",
    ),
    ("5986-from-any", winrm_https_from("Any"), {("winrm-from-named-cidr", "network-nsg")}, "'Any' (anyone)"),
    (
        "5986-from-a-service-tag",
        winrm_https_from("VirtualNetwork"),
        {("winrm-from-named-cidr", "network-nsg")},
        "a service tag, not a CIDR",
    ),
    ("5985-rule", winrm_http_rule, {("winrm-https-only", "network-nsg")}, "rule 'AllowWinRmHttp'"),
    ("5985-in-a-range", winrm_http_in_a_range, {("winrm-https-only", "network-nsg")}, "ports 5985-5986"),
    ("no-zone", drop_a_zone, {("node-in-one-zone", "node-mssprd2-vm")}, "has no availability zone"),
    (
        "one-zone-for-both",
        both_nodes_in_zone_1,
        {("nodes-in-different-zones", "node-mssprd1-vm"), ("nodes-in-different-zones", "node-mssprd2-vm")},
        "shares availability zone 1 with 'node-mssprd",
    ),
    ("no-trusted-launch", drop_trusted_launch, {("node-trusted-launch", "node-mssprd1-vm")}, "not 'TrustedLaunch'"),
    ("no-vtpm", vtpm_off, {("node-trusted-launch", "node-mssprd1-vm")}, "vTpmEnabled is not true"),
    (
        "public-blob-access",
        public_blob_access,
        {("witness-storage-hardened", "cluster-witness")},
        "allowBlobPublicAccess is True",
    ),
    ("tls-1.0", tls_1_0, {("witness-storage-hardened", "cluster-witness")}, "minimumTlsVersion is 'TLS1_0'"),
    (
        "purge-protection-off",
        purge_protection_off,
        {("key-vault-purge-protection", "escrow-vault")},
        "enablePurgeProtection is False",
    ),
    ("protect-off", protect_off, {("sso-resources-protected", "mss-backup")}, "(SecretBackup) is not protected"),
    (
        "5986-from-a-/16",
        winrm_https_from("10.0.0.0/16"),
        {("winrm-source-narrow", "network-nsg")},
        "10.0.0.0/16 is wider than /24",
    ),
    (
        "5986-from-a-public-range-in-production",
        winrm_https_from("52.174.10.0/28"),
        {("winrm-source-narrow", "network-nsg")},
        "not a private (RFC 1918) range",
    ),
    (
        "witness-open-to-the-internet",
        witness_open,
        {("witness-closed-in-production", "cluster-witness")},
        "publicNetworkAccess 'Enabled'",
    ),
    (
        "witness-without-its-private-endpoint",
        without("cluster-witness-pe", "cluster-witness-pe-dns"),
        {("private-paths-in-production", "cluster-witness")},
        "has no blob private endpoint",
    ),
    (
        "vault-without-its-private-endpoint",
        without("escrow-vault-pe", "escrow-vault-pe-dns"),
        {("private-paths-in-production", "escrow-vault")},
        "nobody could read the escrowed backup",
    ),
    (
        "vault-without-a-reader",
        without("escrow-break-glass"),
        {("private-paths-in-production", "escrow-vault")},
        "grants no one Key Vault Secrets User",
    ),
]


@pytest.mark.parametrize(("mutate", "expected", "hint"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS])
def test_each_violation_is_caught_and_names_the_resource(
    prod: Graph,
    run_pack: Callable[..., Verdict],
    mutate: Callable[[Graph], None],
    expected: set[tuple[str, str]],
    hint: str,
) -> None:
    mutate(prod)
    verdict = run_pack(prod)
    assert verdict.pairs() == expected
    for finding in verdict.findings:
        assert f"'{finding.resource}'" in finding.message, finding.message
        assert finding.level == analyzer_pb2.MANDATORY
    assert any(hint in f.message for f in verdict.findings), [f.message for f in verdict.findings]


# ---------------------------------------------------------------------------------------------
# The rules' edges, on single resources


def validate(policy_name: str, resource_type: str, props: dict[str, Any], *, protect: bool = False) -> list[str]:
    policy = next(p for p in policies.POLICIES if p.name == policy_name)
    assert isinstance(policy, ResourceValidationPolicy)
    options = PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    args = ResourceValidationArgs(resource_type, props, f"urn:pulumi:prod::p::{resource_type}::r", "r", options, None)
    messages: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        messages.append(message)

    policy.validate(args, report)
    return messages


@pytest.mark.parametrize(
    ("rule", "http_flagged", "https_flagged"),
    [
        (_rule("r", "5986", "10.30.9.0/28", 100), False, False),
        (_rule("r", "5986", "10.30.9.5", 100), False, False),  # a single address is a /32
        (_rule("r", "*", "Internet", 100), True, True),
        (_rule("r", "5000-6000", "203.0.113.0/24", 100), True, False),
        ({**_rule("r", "5985", "*", 100), "access": "Deny"}, False, False),
        ({**_rule("r", "5985", "*", 100), "protocol": "Udp"}, False, False),
        ({**_rule("r", "5985", "*", 100), "direction": "Outbound"}, False, False),
        ({**_rule("r", "5986", "*", 100), "protocol": "*"}, False, True),
        (
            {**_rule("r", "3389", "10.0.0.0/8", 100), "destinationPortRanges": ["5986"], "sourceAddressPrefixes": []},
            False,
            False,
        ),
        (
            {
                **_rule("r", "443", "10.0.0.0/8", 100),
                "destinationPortRanges": ["5986"],
                "sourceAddressPrefixes": ["::/0"],
            },
            False,
            True,
        ),
        ({k: v for k, v in _rule("r", "5986", "x", 100).items() if k != "sourceAddressPrefix"}, False, True),
    ],
)
def test_nsg_rules_are_judged_by_direction_access_protocol_ports_and_source(
    rule: dict[str, Any], http_flagged: bool, https_flagged: bool
) -> None:
    for resource_type, props in (
        ("azure-native:network:NetworkSecurityGroup", {"securityRules": [rule]}),
        ("azure-native:network/v20240501:NetworkSecurityGroup", {"securityRules": [rule]}),
        ("azure-native:network:SecurityRule", {**rule, "securityRuleName": "r"}),
    ):
        assert bool(validate("winrm-https-only", resource_type, props)) is http_flagged, (resource_type, rule)
        assert bool(validate("winrm-from-named-cidr", resource_type, props)) is https_flagged, (resource_type, rule)


def test_a_vm_that_creates_its_own_nic_with_a_public_ip_is_caught() -> None:
    props = {
        "networkProfile": {
            "networkInterfaceConfigurations": [
                {"name": "nic0", "ipConfigurations": [{"name": "ip0", "publicIPAddressConfiguration": {"name": "p"}}]}
            ]
        }
    }
    (message,) = validate("node-no-public-ip", policies.VIRTUAL_MACHINE, props)
    assert "creates NIC 'nic0' with a public IP" in message
    assert validate("node-no-public-ip", policies.VIRTUAL_MACHINE, {"networkProfile": {"networkInterfaces": []}}) == []


def test_protect_is_read_from_the_resource_options_of_sso_resources_only() -> None:
    sso_type = "pulumi-python:dynamic/entsso:SsoServer"
    assert validate("sso-resources-protected", sso_type, {}, protect=True) == []
    (message,) = validate("sso-resources-protected", sso_type, {}, protect=False)
    assert "'r' (SsoServer) is not protected" in message
    assert validate("sso-resources-protected", "azure-native:compute:VirtualMachine", {}, protect=False) == []


def test_witness_storage_wants_storagev2_standard_lrs_and_accepts_tls_1_3() -> None:
    good = {
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "minimumTlsVersion": "TLS1_3",
        "allowBlobPublicAccess": False,
    }
    assert validate("witness-storage-hardened", policies.STORAGE_ACCOUNT, good) == []
    (message,) = validate(
        "witness-storage-hardened",
        policies.STORAGE_ACCOUNT,
        {**good, "kind": "BlobStorage", "sku": {"name": "Premium_LRS"}, "enableHttpsTrafficOnly": False},
    )
    assert "kind is 'BlobStorage'" in message
    assert "sku.name is 'Premium_LRS'" in message
    assert "enableHttpsTrafficOnly is false" in message
    (unset,) = validate(
        "witness-storage-hardened",
        policies.STORAGE_ACCOUNT,
        {k: v for k, v in good.items() if k != "allowBlobPublicAccess"},
    )
    assert "allowBlobPublicAccess is None (set it to false)" in unset


def test_key_vault_soft_delete_off_is_caught_with_purge_protection_on() -> None:
    props = {"properties": {"enablePurgeProtection": True, "enableSoftDelete": False}}
    (message,) = validate("key-vault-purge-protection", policies.KEY_VAULT, props)
    assert "enableSoftDelete is false" in message
