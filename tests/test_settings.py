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


@pytest.mark.parametrize("stack", ["sim", "lab", "prod"])
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
