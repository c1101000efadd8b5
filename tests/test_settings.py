"""Stack settings: the three sample stacks are valid, and each rule refuses bad input by key path."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import settings
from settings import SettingsError, load_stack_file, validate_stack

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "entsso-cluster:"


def stack_config(stack: str) -> tuple[dict[str, Any], list[str]]:
    """A stack file's project config without the namespace, and which keys are encrypted."""
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    config, encrypted = {}, []
    for key, value in document["config"].items():
        short = key.removeprefix(PREFIX)
        if isinstance(value, dict) and "secure" in value:
            encrypted.append(short)
            value = "(encrypted)"
        config[short] = value
    return config, encrypted


def problems(config: dict[str, Any], stack: str = "sim", encrypted: list[str] | None = None) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        validate_stack(config, stack=stack, encrypted=encrypted or [])
    return caught.value.lines


@pytest.mark.parametrize("stack", ["sim", "lab", "lab-hub", "prod"])
def test_sample_stacks_are_valid(stack: str) -> None:
    loaded = load_stack_file(ROOT / f"Pulumi.{stack}.yaml")
    assert len(loaded.nodes) == 2
    assert loaded.nodes[0].name != loaded.nodes[1].name


def test_sim_stack_has_no_azure_and_prod_is_production() -> None:
    sim = load_stack_file(ROOT / "Pulumi.sim.yaml")
    prod = load_stack_file(ROOT / "Pulumi.prod.yaml")
    assert sim.target is settings.Target.SIMULATOR and sim.azure is None
    assert prod.tier is settings.Tier.PRODUCTION and prod.azure is not None and prod.azure.placement == "zones"


def sim() -> dict[str, Any]:
    config, encrypted = stack_config("sim")
    loaded = load_stack_file(ROOT / "Pulumi.sim.yaml")  # the sample secrets, decrypted
    return copy.deepcopy({**config, **{key: loaded.secret(key) for key in encrypted}})


@pytest.mark.parametrize(
    ("mutate", "key", "words"),
    [
        (lambda c: c["sso"].update(networkName="MSS_CLUSTER"), "sso.networkName", "use 'MSSCLUSTER'"),
        (lambda c: c["cluster"].update(name="ACLUSTERNAMETOOLONG"), "cluster.name", "NetBIOS allows 15"),
        (lambda c: c["nodes"][1].update(name="MSS NODE2"), "nodes[1].name", "' '"),
        (lambda c: c["nodes"][1].update(name="12345"), "nodes[1].name", "all digits"),
        (lambda c: c["nodes"][1].update(name="-NODE2"), "nodes[1].name", "start and end"),
        (lambda c: c["nodes"][1].update(name="mssnode1"), "nodes[1].name", "already used"),
        (lambda c: c["sso"].update(networkName="MSSWSFC"), "sso.networkName", "already used"),
        (lambda c: c["network"].update(nodeSubnetCidr="10.10.1.0/33"), "network.nodeSubnetCidr", ""),
        (lambda c: c["network"].update(nodeSubnetCidr="10.10.1.5/24"), "network.nodeSubnetCidr", "host bits"),
        (lambda c: c["nodes"][0].update(ip="10.10.2.11"), "nodes[0].ip", "outside the node subnet"),
        (lambda c: c["sso"].update(ip="10.10.1.12"), "sso.ip", "already used"),
        (lambda c: c["nodes"][0].update(ip="10.10.1.1"), "nodes[0].ip", "Azure reserves"),
        (lambda c: c["nodes"][0].update(ip="10.10.1.3"), "nodes[0].ip", "Azure reserves"),
        (lambda c: c["nodes"][0].update(ip="10.10.1.255"), "nodes[0].ip", "Azure reserves"),
        (lambda c: c["network"].update(adminCidr="0.0.0.0/0"), "network.adminCidr", "everyone"),
        (lambda c: c["network"].update(adminCidr="*"), "network.adminCidr", "everyone"),
        (lambda c: c["network"].update(adminCidr="10.10.9.0/40"), "network.adminCidr", "not a CIDR"),
        (lambda c: c.update(backupPassword="short1!"), "backupPassword", "shorter than 8"),
        (lambda c: c.update(backupPassword="alllowercaseletters"), "backupPassword", "three of"),
        (lambda c: c.pop("backupPassword"), "backupPassword", "pulumi config set --secret"),
        (lambda c: c.pop("installPassword"), "installPassword", "pulumi config set --secret"),
        (lambda c: c["winrm"].update(transprt="ntlm"), "winrm.transprt", "did you mean 'transport'"),
        (lambda c: c.update(nodez=[]), "nodez", "did you mean 'nodes'"),
        (lambda c: c["winrm"].update(allowHttp=False), "winrm", "allowHttp"),
        (lambda c: c["winrm"].update(transport="basic"), "winrm", "clear text"),
        (lambda c: c["domain"].update(serviceAccount="svc-entsso"), "domain.serviceAccount", "DOMAIN\\name"),
        (lambda c: c["domain"].update(serviceAccount="OTHER\\svc-entsso"), "domain", "not in domain CORP"),
        (lambda c: c["dtc"].update(ip=None), "dtc", "needs its own client access point"),
        (lambda c: c["dtc"].update(probePort=59999), "dtc.probePort", "use another"),
        (lambda c: c["sso"].update(probePort="many"), "sso.probePort", "integer"),
        (lambda c: c.pop("sql"), "sql", "is required"),
    ],
)
def test_each_rule_names_its_key(mutate: Any, key: str, words: str) -> None:
    config = sim()
    mutate(config)
    lines = problems(config)
    matching = [line for line in lines if line.startswith(f"{PREFIX}{key}:")]
    assert matching, lines
    assert any(words in line for line in matching), matching


def test_problem_lines_never_echo_a_secret() -> None:
    config = sim()
    config["backupPassword"] = "weakpassword"
    lines = problems(config)
    assert not any("weakpassword" in line for line in lines)


def broken_prod() -> dict[str, Any]:
    config, _ = stack_config("prod")
    return copy.deepcopy(config)


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda c: c["azure"].update(placement="availabilitySet"), "azure.placement"),
        (lambda c: c["azure"].update(winrmAccess="adminCidr"), "azure.winrmAccess"),
        (lambda c: c["winrm"].update(certificateValidation="ignore"), "winrm.certificateValidation"),
        (lambda c: c["azure"].update(escrow="none"), "azure.escrow"),
        (lambda c: c.update(protect=False), "protect"),
        (lambda c: c.update(tier="lab"), "tier"),
        (lambda c: c.pop("vmAdminPassword"), "vmAdminPassword"),
        (lambda c: c["winrm"].update(scheme="http", allowHttp=True), "winrm.scheme"),
    ],
)
def test_production_baseline(mutate: Any, key: str) -> None:
    config = broken_prod()
    mutate(config)
    encrypted = [k for k, v in config.items() if v == "(encrypted)"]
    lines = problems(config, stack="prod", encrypted=encrypted)
    assert any(line.startswith(f"{PREFIX}{key}:") for line in lines), lines


def test_plain_secret_in_an_azure_stack_file_is_refused(tmp_path: Path) -> None:
    text = (
        (ROOT / "Pulumi.lab.yaml")
        .read_text()
        .replace(
            "entsso-cluster:backupPassword:\n    secure: v1:REPLACE-with-pulumi-config-set--secret",
            "entsso-cluster:backupPassword: Plain-Text-Pa55!",
        )
    )
    path = tmp_path / "Pulumi.lab.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_stack_file(path)
    assert any("backupPassword: is stored in plain text" in line for line in caught.value.lines)
    assert not any("Plain-Text-Pa55!" in line for line in caught.value.lines)


def run_validate(stack: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops", "validate", "--stack", stack],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin"},
    )


def test_ops_validate_passes_prod_and_fails_a_broken_copy_with_exit_2(tmp_path: Path) -> None:
    good = run_validate("prod", ROOT)
    assert good.returncode == 0, good.stderr
    assert "valid" in good.stdout

    broken = (ROOT / "Pulumi.prod.yaml").read_text()
    broken = broken.replace("networkName: MSSPRDSSO ", "networkName: MSS_PRD_SSO ").replace(
        "transport: ntlm", "transprt: ntlm"
    )
    (tmp_path / "Pulumi.broken.yaml").write_text(broken)
    import shutil

    shutil.copytree(ROOT / "ops", tmp_path / "ops")
    shutil.copytree(ROOT / "settings", tmp_path / "settings")
    result = subprocess.run(
        [sys.executable, "-m", "ops", "validate", "--stack", "broken"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert (
        "entsso-cluster:sso.networkName: 'MSS_PRD_SSO' contains '_', which DNS host names cannot hold; use 'MSSPRDSSO'"
        in lines
    )
    assert "entsso-cluster:winrm.transprt: unknown key; did you mean 'transport'?" in lines


def test_missing_stack_file_is_a_clear_error() -> None:
    result = run_validate("nosuchstack", ROOT)
    assert result.returncode == 2
    assert "no such stack file" in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------------------------
# Issue 13: what the nodes and the operator can reach, one line per refusal naming its key


def lab() -> dict[str, Any]:
    """The lab joined to an existing directory through a hub (issue 13's network model)."""
    return copy.deepcopy(stack_config("lab-hub")[0])


def lab_problems(config: dict[str, Any], stack: str = "lab") -> list[str]:
    encrypted = [k for k, v in config.items() if v == "(encrypted)"]
    return problems(config, stack=stack, encrypted=encrypted)


HUB_VNET = "/subscriptions/0/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub"
SPOKE_SUBNET = (
    "/subscriptions/0/resourceGroups/rg-spoke/providers/Microsoft.Network/virtualNetworks/vnet-spoke/subnets/s"
)


@pytest.mark.parametrize(
    ("stack", "mutate", "key", "words"),
    [
        # DNS servers the nodes cannot reach, or that cannot exist where they point
        (
            "lab",
            lambda c: c["directory"].update(dnsServers=["192.168.50.4"]),
            "directory.dnsServers[0]",
            "outside every range",
        ),
        (
            "lab",
            lambda c: c["directory"].update(dnsServers=["10.20.5.4"]),
            "directory.dnsServers[0]",
            "nothing serves DNS",
        ),
        ("lab", lambda c: c["directory"].update(dnsServers=["10.20.1.11"]), "directory.dnsServers[0]", "cluster node"),
        ("lab", lambda c: c.pop("directory"), "directory", "is required for target azure"),
        ("lab", lambda c: c["network"].pop("hub"), "directory.dnsServers[0]", "outside every range"),
        ("lab", lambda c: c["azure"].update(dnsServers=["10.0.0.4"]), "azure.dnsServers", "unknown key"),
        # the hub
        (
            "lab",
            lambda c: c["network"]["hub"].update(addressSpace=["10.20.0.0/16"]),
            "network.hub.addressSpace[0]",
            "overlaps",
        ),
        ("lab", lambda c: c["network"]["hub"].update(vnetId="vnet-hub"), "network.hub.vnetId", "not a virtual network"),
        ("lab", lambda c: c["network"]["hub"].pop("vnetId"), "network.hub", "createHubSide needs vnetId"),
        (
            "lab",
            lambda c: c["network"].update(existingSubnetId=SPOKE_SUBNET),
            "network.hub.vnetId",
            "existing subnet",
        ),
        ("lab", lambda c: c["network"].update(existingSubnetId="snet-mss"), "network.existingSubnetId", "not a subnet"),
        # adminCidr: width, and whether it can arrive
        ("lab", lambda c: c["network"].update(adminCidr="198.51.0.0/16"), "network.adminCidr", "wider than the /24"),
        ("sim", lambda c: c["network"].update(adminCidr="10.10.0.0/20"), "network.adminCidr", "wider than the /24"),
        (
            "lab",
            lambda c: c["network"].update(adminCidr="198.51.100.0/26", adminCidrLimit=28),
            "network.adminCidr",
            "wider than the /28",
        ),
        ("lab", lambda c: c["network"].update(adminCidr="10.0.9.0/28"), "network.adminCidr", "public load balancer"),
        ("prod", lambda c: c["network"].update(adminCidr="10.30.9.0/28"), "network.adminCidr", "inside the VNet"),
        ("prod", lambda c: c["network"].update(adminCidr="172.16.9.0/28"), "network.adminCidr", "cannot arrive"),
        ("prod", lambda c: c["network"].update(adminCidr="52.174.10.0/28"), "network.adminCidr", "not a private"),
        ("prod", lambda c: c["azure"].update(winrmAccess="publicLoadBalancer"), "azure.winrmAccess", "privately"),
        ("lab", lambda c: c["azure"].update(winrmAccess="adminCidr"), "azure.winrmAccess", "'private' or"),
        # what production must be able to read, and how it resolves private endpoints
        ("prod", lambda c: c["azure"].pop("breakGlassGroupId"), "azure.breakGlassGroupId", "is required in production"),
        ("prod", lambda c: c["azure"].update(breakGlassGroupId="SSO-BreakGlass"), "azure.breakGlassGroupId", "GUID"),
        (
            "prod",
            lambda c: (
                c["network"].update(existingSubnetId=SPOKE_SUBNET, hub={"addressSpace": ["10.0.0.0/16"]}),
                c["azure"].update(bastion="none"),
            ),
            "network.privateDnsZoneIds",
            "privatelink.blob.core.windows.net",
        ),
        # management point, Bastion, shared disk
        ("prod", lambda c: c["cluster"].update(managementPoint="Singleton"), "cluster.managementPoint", "Distributed"),
        ("sim", lambda c: c["cluster"].update(managementPoint="Singleton"), "cluster.ip", "static address"),
        ("sim", lambda c: c["cluster"].update(ip="10.10.1.60"), "cluster.ip", "only a Singleton"),
        ("lab", lambda c: c["azure"].update(bastion="Developer"), "azure.bastion", "not offered in westeurope"),
        ("prod", lambda c: c["dtc"].update(diskSizeGb=1024), None, None),  # a P30 shares 5: fine
        (
            "prod",
            lambda c: c.update(nodes=[{"name": f"MSSPRD{i}", "ip": f"10.30.1.{10 + i}"} for i in range(1, 5)]),
            "dtc.diskSizeGb",
            "can be shared by 3 VMs and the stack has 4 nodes",
        ),
        ("prod", lambda c: c["dtc"].update(diskSizeGb=2), "dtc.diskSizeGb", "greater than or equal to 4"),
    ],
)
def test_reach_rules_name_their_key(stack: str, mutate: Any, key: str | None, words: str | None) -> None:
    config = lab() if stack == "lab" else broken_prod() if stack == "prod" else sim()
    mutate(config)
    if key is None:
        encrypted = [k for k, v in config.items() if v == "(encrypted)"]
        validate_stack(config, stack=stack, encrypted=encrypted)
        return
    lines = lab_problems(config, stack)
    matching = [line for line in lines if line.startswith(f"{PREFIX}{key}:")]
    assert matching, lines
    assert any(words in line for line in matching), matching


def test_an_existing_peered_spoke_validates_with_the_ranges_its_peering_reaches() -> None:
    config = lab()
    config["azure"]["resourceGroup"]["create"] = False
    config["network"]["existingSubnetId"] = SPOKE_SUBNET
    config["network"]["hub"] = {"addressSpace": ["10.0.0.0/16"]}
    config["directory"]["dnsServers"] = ["10.0.0.4", "10.20.0.4"]  # a hub DC and one in the spoke itself
    settings_ = validate_stack(config, stack="lab", encrypted=[k for k, v in config.items() if v == "(encrypted)"])
    assert settings_.network.hub is not None and settings_.network.hub.vnet_id is None


def test_validate_prints_one_line_per_reach_problem_and_exits_2(tmp_path: Path) -> None:
    import shutil

    broken = (ROOT / "Pulumi.lab-hub.yaml").read_text()
    broken = broken.replace("dnsServers: [10.0.0.4, 10.0.0.5]", "dnsServers: [192.168.50.4, 10.0.0.5]")
    broken = broken.replace("adminCidr: 198.51.100.16/28", "adminCidr: 198.51.0.0/16")
    (tmp_path / "Pulumi.broken.yaml").write_text(broken)
    shutil.copytree(ROOT / "ops", tmp_path / "ops")
    shutil.copytree(ROOT / "settings", tmp_path / "settings")
    result = subprocess.run(
        [sys.executable, "-m", "ops", "validate", "--stack", "broken"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(":", 2)[1] for line in lines] == ["network.adminCidr", "directory.dnsServers[0]"], lines


@pytest.mark.parametrize("stack", ["lab-hub", "prod"])
def test_runbook_paths_reach_every_node_and_every_dependency(stack: str) -> None:
    from settings import reach

    config = load_stack_file(ROOT / f"Pulumi.{stack}.yaml")
    paths = reach.network_paths(config)
    operator = [p for p in paths if p[0].startswith("operator")]
    assert [p[1] for p in operator] == [n.name for n in config.nodes]
    for (_, node, path), item in zip(operator, config.nodes, strict=True):
        assert f"{item.ip}:5986" in path and config.network.admin_cidr in path
        assert ("public entry load balancer" in path) is (stack == "lab-hub"), node
    targets = [p[1] for p in paths if p[0] == "every node"]
    assert targets == ["AD/DNS 10.0.0.4", "AD/DNS 10.0.0.5", f"SQL Server {config.sql.server}", "cloud witness"]
    assert all("no route" not in p[2] for p in paths)
    witness = next(p[2] for p in paths if p[1] == "cloud witness")
    assert ("private endpoint" in witness) is (stack == "prod")
