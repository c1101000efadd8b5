"""Settings of the self-contained lab (directory.source create) and of the install media (sso.media).

Each rule refuses bad input with one line that names the key path to change; production refuses
`create`; the network computations keep the lab's snet-infra clear of every other subnet.
"""

from __future__ import annotations

import copy
import ipaddress
from pathlib import Path
from typing import Any

import pytest
import yaml

from settings import SettingsError, load_stack_file, reach, validate_stack

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "entsso-cluster:"
SECRETS = {
    "installPassword": "Install-Pa55!word",
    "serviceAccountPassword": "Service-Pa55!word",
    "backupPassword": "Backup-Pa55!word",
    "vmAdminPassword": "VmAdmin-Pa55!word",
    "domainJoinPassword": "DomainJoin-Pa55!word",
    "dsrmPassword": "Dsrm-Pa55!word",
    "sqlServicePassword": "Sql-Engine-Pa55!word",
}


def stack(name: str) -> dict[str, Any]:
    """A stack file's config without the namespace, with plain test values for its secrets."""
    document = yaml.safe_load((ROOT / f"Pulumi.{name}.yaml").read_text())
    config: dict[str, Any] = {}
    for key, value in document["config"].items():
        short = key.removeprefix(PREFIX)
        config[short] = SECRETS[short] if isinstance(value, dict) and "secure" in value else value
    return copy.deepcopy(config)


def lines_for(config: dict[str, Any], name: str = "lab") -> list[str]:
    with pytest.raises(SettingsError) as caught:
        validate_stack(config, stack=name)
    return caught.value.lines


def test_the_lab_sample_is_a_valid_self_contained_lab() -> None:
    loaded = load_stack_file(ROOT / "Pulumi.lab.yaml")
    assert loaded.directory is not None and loaded.directory.source == "create"
    assert reach.creates_directory(loaded)
    assert reach.dns_servers(loaded) == [ipaddress.IPv4Address("10.20.2.4")]
    assert loaded.network.hub is None
    assert loaded.sso.media is not None and loaded.sso.media.container == "entsso-media"
    plain = validate_stack(stack("lab"), stack="lab")
    assert plain.secrets.dsrm_password is not None


def test_production_refuses_create_with_one_line() -> None:
    config = stack("prod")
    config["directory"] = stack("lab")["directory"]
    lines = [line for line in lines_for(config, "prod") if line.startswith(f"{PREFIX}directory.source:")]
    assert lines == [
        f"{PREFIX}directory.source: create builds a throwaway forest, SQL Server and accounts for a lab; production "
        "joins your existing directory: set source existing and dnsServers"
    ]


def test_the_simulator_refuses_create_and_media() -> None:
    config = stack("sim")
    config["directory"] = {"source": "create"}
    config["sso"]["media"] = stack("lab")["sso"]["media"]
    lines = lines_for(config, "sim")
    assert any(line.startswith(f"{PREFIX}directory.source: create builds a domain controller") for line in lines)
    assert any(line.startswith(f"{PREFIX}sso.media: the simulator") for line in lines)


def mutate(change: Any) -> list[str]:
    config = stack("lab")
    change(config)
    return lines_for(config)


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        # what each mode needs, and what it does not take
        (lambda c: c["directory"].pop("domainController"), "directory.domainController", "is required with source create"),
        (lambda c: c["directory"].pop("sqlServer"), "directory.sqlServer", "is required with source create"),
        (lambda c: c["directory"].pop("subnetCidr"), "directory.subnetCidr", "is required with source create"),
        (lambda c: c["directory"].pop("nodeAdminGroup"), "directory.nodeAdminGroup", "is required"),
        (lambda c: c["directory"].pop("sqlServiceAccount"), "directory.sqlServiceAccount", "is required"),
        (lambda c: c["directory"].update(dnsServers=["10.20.2.4"]), "directory.dnsServers", "only directory.source existing"),
        (lambda c: c["directory"].update(source="existing"), "directory.subnetCidr", "only directory.source create"),
        (lambda c: c["directory"].update(source="existing"), "directory.dnsServers", "is required with source existing"),
        (lambda c: c.pop("dsrmPassword"), "dsrmPassword", "pulumi config set --secret"),
        (lambda c: c.pop("sqlServicePassword"), "sqlServicePassword", "pulumi config set --secret"),
        # where the DC and SQL Server live
        (lambda c: c["directory"].update(subnetCidr="10.99.2.0/24"), "directory.subnetCidr", "not inside network.vnetCidr"),
        (lambda c: c["directory"].update(subnetCidr="10.20.1.0/25"), "directory.subnetCidr", "overlaps the node subnet"),
        (lambda c: c["directory"].update(subnetCidr="10.20.2.0/30"), "directory.subnetCidr", "too small"),
        (lambda c: c["directory"]["domainController"].update(ip="10.20.3.4"), "directory.domainController.ip", "outside"),
        (lambda c: c["directory"]["domainController"].update(ip="10.20.2.1"), "directory.domainController.ip", "reserves"),
        (lambda c: c["directory"]["sqlServer"].update(ip="10.20.2.4"), "directory.sqlServer.ip", "already used"),
        (lambda c: c["directory"]["sqlServer"].update(name="MSSLAB1"), "directory.sqlServer.name", "already used"),
        (lambda c: c["directory"]["domainController"].update(name="DC_1"), "directory.domainController.name", "'_'"),
        (lambda c: c["network"].update(existingSubnetId=SPOKE_SUBNET), "directory.source", "existingSubnetId"),
        # what the program builds must match what the procedure is told
        (lambda c: c["sql"].update(server="SQLLAB01.corp.contoso.com"), "sql.server", "MSSLABSQL1.lab.entsso.test"),
        (lambda c: c["azure"].update(domainJoinOu="OU=MSS,OU=Servers,DC=lab,DC=entsso,DC=test"), "azure.domainJoinOu", "top"),
        (lambda c: c["azure"].update(domainJoinOu="OU=MSS Cluster,DC=corp,DC=contoso,DC=com"), "azure.domainJoinOu", "top"),
        (lambda c: c["azure"].pop("domainJoinOu"), "azure.domainJoinOu", "OU=<name>,DC=lab,DC=entsso,DC=test"),
        # the accounts and groups the lab creates
        (lambda c: c["directory"].update(sqlServiceAccount="ENTSSOLAB\\svc-entsso"), "directory.sqlServiceAccount", "its own name"),
        (lambda c: c["azure"].update(domainJoinAccount="ENTSSOLAB\\svc-mss-install"), "azure.domainJoinAccount", "its own name"),
        (lambda c: c["directory"].update(nodeAdminGroup="ENTSSOLAB\\SSO Administrators"), "directory.nodeAdminGroup", "its own"),
        (lambda c: c["directory"].update(nodeAdminGroup="OTHER\\MSS Node Admins"), "directory.nodeAdminGroup", "not in domain"),
        (lambda c: c["directory"].update(sqlServiceAccount="svc-sql"), "directory.sqlServiceAccount", "DOMAIN\\name"),
        (lambda c: c["azure"].update(domainJoinAccount="CORP\\svc-join"), "azure.domainJoinAccount", "not in domain ENTSSOLAB"),
        (
            lambda c: c["directory"].update(sqlServiceAccount="ENTSSOLAB\\svc-sql-server-engine"),
            "directory.sqlServiceAccount",
            "may have 20",
        ),
        # passwords the lab sets on new accounts: Windows' complexity rule (never echoed)
        (lambda c: c.update(dsrmPassword="alllowercase1"), "dsrmPassword", "three of"),
        (lambda c: c.update(sqlServicePassword="Short1!"), "sqlServicePassword", "shorter than 8"),
        (lambda c: c.update(installPassword="svc-mss-install-Pa55"), "installPassword", "contains the account name"),
        (lambda c: c.update(domainJoinPassword="password"), "domainJoinPassword", "three of"),
        # media
        (lambda c: c["sso"]["media"].update(sha256="abc"), "sso.media.sha256", "64 hexadecimal"),
        (lambda c: c["sso"]["media"].update(container="Entsso_Media"), "sso.media.container", "container name"),
        (lambda c: c["sso"]["media"].update(blob="BizTalk.rar"), "sso.media.blob", ".iso, .zip, .exe or .msi"),
        (lambda c: c["sso"]["media"].update(storageAccountId="entssomedia"), "sso.media.storageAccountId", "resource id"),
        (lambda c: c["sso"].update(installer="D:\\Setup.exe"), "sso.installer", "stagingDirectory"),
        (lambda c: c["sso"]["media"].update(sasToken="sv=2022"), "sso.media.sasToken", "unknown key"),
    ],
)
def test_each_lab_rule_names_its_key(change: Any, key: str, words: str) -> None:
    lines = mutate(change)
    matching = [line for line in lines if line.startswith(f"{PREFIX}{key}:")]
    assert matching, lines
    assert any(words in line for line in matching), matching
    for secret in SECRETS.values():
        assert not any(secret in line for line in lines)


SPOKE_SUBNET = (
    "/subscriptions/0/resourceGroups/rg-spoke/providers/Microsoft.Network/virtualNetworks/vnet-spoke/subnets/s"
)


def test_a_weak_password_is_refused_without_echoing_it() -> None:
    config = stack("lab")
    config["dsrmPassword"] = "weakweakweak"
    lines = lines_for(config)
    assert any(line.startswith(f"{PREFIX}dsrmPassword:") for line in lines)
    assert not any("weakweakweak" in line for line in lines)


def test_encrypted_passwords_are_checked_when_pulumi_decrypts_them() -> None:
    """In a stack file read without the passphrase the ciphertext stands in: complexity is not judged on it."""
    loaded = load_stack_file(ROOT / "Pulumi.lab.yaml")
    assert loaded.secrets.dsrm_password is not None


def test_an_existing_directory_lab_with_media_is_valid_and_creates_nothing() -> None:
    config = stack("lab-hub")
    config["sso"]["media"] = stack("lab")["sso"]["media"]
    loaded = validate_stack(config, stack="lab-hub")
    assert not reach.creates_directory(loaded)
    assert reach.infra_subnet_cidr(loaded) is None
    assert reach.dns_servers(loaded) == [ipaddress.IPv4Address("10.0.0.4"), ipaddress.IPv4Address("10.0.0.5")]
    paths = {to: how for _, to, how in reach.network_paths(loaded)}
    assert "managed identity" in paths["install media"]


def test_the_lab_subnets_never_overlap() -> None:
    config = stack("lab")
    config["azure"]["bastion"] = "Standard"
    loaded = validate_stack(config, stack="lab")
    infra = reach.infra_subnet_cidr(loaded)
    bastion = reach.bastion_subnet_cidr(loaded)
    endpoints = reach.endpoint_subnet_cidr(loaded)
    assert infra == ipaddress.IPv4Network("10.20.2.0/24")
    taken = [loaded.network.node_subnet_cidr, infra, bastion, endpoints]
    assert all(n is not None for n in taken)
    for index, first in enumerate(taken):
        for second in taken[index + 1 :]:
            assert first is not None and second is not None and not first.overlaps(second), (first, second)


def test_the_lab_network_paths_name_the_dc_sql_server_and_the_media() -> None:
    loaded = load_stack_file(ROOT / "Pulumi.lab.yaml")
    paths = {to: how for _, to, how in reach.network_paths(loaded)}
    assert "snet-infra" in paths["AD/DNS 10.20.2.4"]
    assert "10.20.2.5" in paths["SQL Server MSSLABSQL1.lab.entsso.test"]
    assert "entssomedia.blob.core.windows.net" in paths["install media"]
    assert all("no route" not in how for how in paths.values())
