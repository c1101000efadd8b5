"""The self-contained lab (Pulumi.lab.yaml, directory.source create) under Pulumi's mock runtime.

The real components run against the recording mocks of tests/test_components_azure.py with the real stack
file (secrets replaced by test values and marked secret). The tests check what Azure would be asked to
build and in which order: the DC and SQL Server VMs, the VNet's DNS pointing at the DC, the nodes joining
only after the forest answers, the media's identity and role, every password reaching Azure as a secret,
and a teardown that leaves nothing billable. The in-guest scripts are checked against the Run Commands
that deliver them (every parameter they are sent is one they declare; every secret one is protected).
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tree_sitter
import tree_sitter_powershell
from pulumi.runtime import rpc
from test_components_azure import (  # noqa: F401 - `build` is the shared fixture
    RUN_COMMAND,
    TEST_SECRETS,
    Built,
    Registered,
    build,
    plain_strings,
    secret_paths,
    unwrap,
)

from components import guest, lab_plan
from components.media import STORAGE_BLOB_DATA_READER, container_scope
from components.network import DC_TCP_PORTS, DC_UDP_PORTS

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "components" / "scripts"
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
EXTENSION = "azure-native:compute:VirtualMachineExtension"

LAB_TYPES = {
    "entsso:network:Network": 1,
    "entsso:network:OperatorEntry": 1,
    "entsso:directory:LabDirectory": 1,
    "entsso:sql:LabSqlServer": 1,
    "entsso:cluster:ClusterInfrastructure": 1,
    "entsso:compute:WindowsNode": 2,
    "entsso:escrow:KeyVaultEscrow": 1,
    "azure-native:resources:ResourceGroup": 1,
    "azure-native:network:NetworkSecurityGroup": 2,  # the nodes' and snet-infra's
    "azure-native:network:PublicIPAddress": 2,  # the NAT gateway's and the operator entry's
    "azure-native:network:NatGateway": 1,
    "azure-native:network:VirtualNetwork": 1,
    "azure-native:network:Subnet": 2,  # snet-nodes, snet-infra
    "azure-native:storage:StorageAccount": 1,  # the witness; the media account is the user's
    "azure-native:network:LoadBalancer": 2,
    "azure-native:compute:AvailabilitySet": 1,
    "azure-native:network:NetworkInterface": 4,  # two nodes, the DC, SQL Server
    "azure-native:compute:VirtualMachine": 4,
    EXTENSION: 3,  # the joins of SQL Server and the two nodes
    # CreateForest, DirectoryAccounts, ClusterOu; SQL: WaitForDirectory, ConfigureSql;
    # per node: WaitForDirectory, EnableWinRmHttps, NodeAdministrators, StageMedia
    RUN_COMMAND: 3 + 2 + 2 * 4,
    "azure-native:keyvault:Vault": 1,
    "azure-native:authorization:RoleAssignment": 3,  # break-glass on the vault, media reader per node
}


def decoded(value: str) -> str:
    return base64.b64decode(value).decode("utf-8")


def parameters(command: Registered) -> dict[str, str]:
    return {p["name"]: p["value"] for p in command.inputs["parameters"]}


def protected(command: Registered) -> dict[str, str]:
    value = command.inputs.get("protectedParameters")
    if value is None:
        return {}
    assert rpc.is_rpc_secret(value), f"{command.name}: protectedParameters is not a secret"
    return {p["name"]: p["value"] for p in rpc.unwrap_rpc_secret(value)}


def named(built: Built, name: str) -> Registered:
    found = [r for r in built.mocks.resources if r.name == name]
    assert len(found) == 1, f"expected one resource named {name}, got {len(found)}"
    return found[0]


def depends(built: Built, dependent: str, *on: str) -> bool:
    """Whether `dependent` declares a dependency on every resource named in `on`."""
    urns = set(named(built, dependent).dependencies)
    return all(named(built, name).urn in urns for name in on)


def reaches(built: Built, start: str, target: str) -> bool:
    """Whether `target` is among the transitive dependencies of `start`."""
    by_urn = {r.urn: r for r in built.mocks.resources}
    goal = named(built, target).urn
    seen: set[str] = set()
    todo = [named(built, start).urn]
    while todo:
        urn = todo.pop()
        for dependency in by_urn[urn].dependencies if urn in by_urn else []:
            if dependency == goal:
                return True
            if dependency not in seen:
                seen.add(dependency)
                todo.append(dependency)
    return False


@pytest.fixture
def lab(build: Callable[..., Built]) -> Built:
    return build("lab")


# ---------------------------------------------------------------------------------------------
# The graph


def test_the_self_contained_lab_builds_its_dc_sql_server_and_nodes(lab: Built) -> None:
    assert dict(Counter(r.typ for r in lab.mocks.resources)) == LAB_TYPES
    components = {r.urn for r in lab.mocks.resources if not r.custom}
    for resource in lab.mocks.resources:
        if resource.custom and resource.typ != "azure-native:compute:AvailabilitySet":
            assert resource.parent in components, f"{resource.name} is not inside a component"
    vms = sorted(vm.inputs["vmName"] for vm in lab.of_type("compute:VirtualMachine"))
    assert vms == ["MSSLAB1", "MSSLAB2", "MSSLABDC1", "MSSLABSQL1"]
    assert lab.foundation.directory is not None and lab.foundation.sql is not None
    assert lab.foundation.directory.dc_ip == "10.20.2.4"
    # No peering, no hub: a self-contained lab needs nothing outside its own VNet.
    assert lab.of_type("network:VirtualNetworkPeering") == []


def test_the_dc_is_a_trusted_launch_windows_server_2022_with_its_database_on_an_uncached_disk(lab: Built) -> None:
    dc = named(lab, "directory-dc-vm").inputs
    assert dc["storageProfile"]["imageReference"] == {
        "publisher": "MicrosoftWindowsServer",
        "offer": "WindowsServer",
        "sku": "2022-datacenter-azure-edition",
        "version": "latest",
    }
    assert dc["hardwareProfile"] == {"vmSize": "Standard_B2s"}
    assert dc["securityProfile"]["securityType"] == "TrustedLaunch"
    assert dc["storageProfile"]["dataDisks"] == [
        {
            "name": "datadisk-msslabdc1-ntds",
            "lun": 0,
            "createOption": "Empty",
            "diskSizeGB": 32,
            "caching": "None",
            "managedDisk": {"storageAccountType": "StandardSSD_LRS"},
            "deleteOption": "Delete",
        }
    ]
    nic = named(lab, "directory-dc-nic").inputs["ipConfigurations"][0]
    assert (nic["privateIPAllocationMethod"], nic["privateIPAddress"]) == ("Static", "10.20.2.4")
    assert nic["subnet"]["id"] == "network-infra_id"
    assert "publicIPAddress" not in nic and "loadBalancerBackendAddressPools" not in nic


def test_sql_server_is_the_2022_developer_marketplace_image_in_snet_infra(lab: Built) -> None:
    sql = named(lab, "sql-vm").inputs
    assert sql["storageProfile"]["imageReference"] == {
        "publisher": "MicrosoftSQLServer",
        "offer": "sql2022-ws2022",
        "sku": "sqldev-gen2",
        "version": "latest",
    }
    assert sql["securityProfile"]["securityType"] == "TrustedLaunch"
    assert unwrap(sql["osProfile"])["computerName"] == "MSSLABSQL1"
    nic = named(lab, "sql-nic").inputs["ipConfigurations"][0]
    assert (nic["privateIPAddress"], nic["subnet"]["id"]) == ("10.20.2.5", "network-infra_id")
    # sql.server names it, so SsoServer creates SSODB there.
    assert lab.config.sql.server == "MSSLABSQL1.lab.entsso.test"


def test_the_vnet_and_the_nodes_ask_the_lab_dc_for_dns(lab: Built) -> None:
    vnet = lab.one("network:VirtualNetwork").inputs
    assert vnet["dhcpOptions"] == {"dnsServers": ["10.20.2.4"]}
    vnet_range = ipaddress.IPv4Network(vnet["addressSpace"]["addressPrefixes"][0])
    infra = named(lab, "network-infra").inputs
    assert infra["subnetName"] == "snet-infra"
    assert ipaddress.IPv4Address("10.20.2.4") in ipaddress.IPv4Network(infra["addressPrefix"])
    assert ipaddress.IPv4Network(infra["addressPrefix"]).subnet_of(vnet_range)
    assert infra["natGateway"] == {"id": "network-nat_id"} and infra["defaultOutboundAccess"] is False
    for node in lab.config.nodes:
        nic = named(lab, f"node-{node.name.lower()}-nic").inputs
        assert nic["dnsSettings"] == {"dnsServers": ["10.20.2.4"]}
    for machine in ("directory-dc-nic", "sql-nic"):  # the VNet's DNS: the DC asks itself once it is one
        assert "dnsSettings" not in named(lab, machine).inputs
    # The two subnets of one VNet are written one after the other (AnotherOperationInProgress otherwise).
    assert depends(lab, "network-infra", "network-nodes")


def test_the_forest_gets_its_names_as_parameters_and_the_dsrm_password_protected(lab: Built) -> None:
    forest = named(lab, "directory-forest")
    assert forest.inputs["runCommandName"] == "CreateForest"
    assert forest.inputs["source"] == {"script": guest.script("dc_forest")}
    assert forest.inputs["treatFailureAsDeploymentFailure"] is True and forest.inputs["asyncExecution"] is False
    assert {k: decoded(v) for k, v in parameters(forest).items()} == {
        "DomainNameBase64": "lab.entsso.test",
        "NetbiosNameBase64": "ENTSSOLAB",
    }
    assert {k: decoded(v) for k, v in protected(forest).items()} == {"DsrmPasswordBase64": TEST_SECRETS["dsrmPassword"]}
    assert depends(lab, "directory-forest", "directory-dc-vm")
    assert "lab.entsso.test" not in forest.inputs["source"]["script"]


def test_nothing_joins_before_the_forest_answers(lab: Built) -> None:
    """Error 1355 (mspnp/reference-architectures#75): every join waits for a WaitForDirectory that waits for the forest."""
    joins = lab.of_type("compute:VirtualMachineExtension")
    assert sorted(j.name for j in joins) == ["node-msslab1-join", "node-msslab2-join", "sql-join"]
    for join in joins:
        owner = join.name.removesuffix("-join")
        wait = named(lab, f"{owner}-wait-directory")
        assert wait.inputs["runCommandName"] == "WaitForDirectory"
        assert wait.inputs["vmName"] == join.inputs["vmName"]
        assert parameters(wait)["DomainControllerAddress"] == "10.20.2.4"
        assert decoded(parameters(wait)["DomainNameBase64"]) == "lab.entsso.test"
        assert depends(lab, f"{owner}-wait-directory", "directory-forest")
        assert depends(lab, join.name, f"{owner}-wait-directory")
        assert reaches(lab, join.name, "directory-forest")
        assert reaches(lab, join.name, "directory-accounts")  # the join account exists
    # The nodes join into the cluster OU, which must exist with its rights; SQL Server into Computers.
    for node in lab.config.nodes:
        join = named(lab, f"node-{node.name.lower()}-join")
        assert depends(lab, join.name, "directory-cluster-ou")
        assert join.inputs["settings"]["OUPath"] == "OU=MSS Cluster,DC=lab,DC=entsso,DC=test"
        assert join.inputs["settings"]["User"] == "ENTSSOLAB\\svc-join"
    assert "OUPath" not in named(lab, "sql-join").inputs["settings"]


def test_the_dc_works_on_again_only_after_its_restart_is_observed_from_another_machine(lab: Built) -> None:
    """The forest script schedules the DC's restart: the DC's next Run Command waits for SQL Server's wait."""
    assert depends(lab, "directory-accounts", "directory-forest", "sql-wait-directory")
    assert named(lab, "sql-wait-directory").inputs["vmName"] == "MSSLABSQL1"
    assert depends(lab, "directory-cluster-ou", "directory-accounts")
    # SQL Server: wait -> join (after the accounts) -> configure.
    assert depends(lab, "sql-join", "sql-wait-directory", "directory-accounts")
    assert depends(lab, "sql-configure", "sql-join")


def test_each_node_runs_its_steps_in_order_and_the_procedure_waits_for_them_and_for_sql(lab: Built) -> None:
    for node in lab.config.nodes:
        prefix = f"node-{node.name.lower()}"
        chain = ["wait-directory", "join", "winrm", "administrators", "media"]
        for before, after in itertools.pairwise(chain):
            assert depends(lab, f"{prefix}-{after}", f"{prefix}-{before}"), (before, after)
        admins = named(lab, f"{prefix}-administrators")
        assert decoded(parameters(admins)["MemberBase64"]) == "ENTSSOLAB\\MSS Node Admins"
    # The nodes' WinRM endpoints resolve only after each node's media and SQL Server's configuration.
    assert lab.resolved["endpoints"] == [f"https://{_entry_ip()}:{p}/wsman" for p in (50001, 50002)]


def _entry_ip() -> str:
    from test_components_azure import public_ip_of

    return public_ip_of("entry-pip")


def test_sql_server_is_configured_as_its_own_administrator_with_the_service_password_protected(lab: Built) -> None:
    configure = named(lab, "sql-configure")
    assert configure.inputs["runCommandName"] == "ConfigureSql"
    # The local administrator (the image's sysadmin), not the domain's administrator of the same name.
    assert configure.inputs["runAsUser"] == "MSSLABSQL1\\azadmin"
    assert rpc.is_rpc_secret(configure.inputs["runAsPassword"])
    assert rpc.unwrap_rpc_secret(configure.inputs["runAsPassword"]) == TEST_SECRETS["vmAdminPassword"]
    assert {k: (decoded(v) if k.endswith("Base64") else v) for k, v in parameters(configure).items()} == {
        "InstallAccountBase64": "ENTSSOLAB\\svc-mss-install",
        "SqlServiceAccountBase64": "ENTSSOLAB\\svc-sql",
        "ClientCidr": "10.20.1.0/24",
    }
    assert {k: decoded(v) for k, v in protected(configure).items()} == {
        "SqlServicePasswordBase64": TEST_SECRETS["sqlServicePassword"]
    }


def test_the_accounts_get_their_passwords_from_stack_secrets_as_protected_parameters(lab: Built) -> None:
    accounts = named(lab, "directory-accounts")
    assert {k: decoded(v) for k, v in parameters(accounts).items()} == {
        "DomainNameBase64": "lab.entsso.test",
        "InstallAccountBase64": "ENTSSOLAB\\svc-mss-install",
        "ServiceAccountBase64": "ENTSSOLAB\\svc-entsso",
        "SqlServiceAccountBase64": "ENTSSOLAB\\svc-sql",
        "JoinAccountBase64": "ENTSSOLAB\\svc-join",
        "SsoAdminGroupBase64": "ENTSSOLAB\\SSO Administrators",
        "SsoAffiliateAdminGroupBase64": "ENTSSOLAB\\SSO Affiliate Administrators",
        "NodeAdminGroupBase64": "ENTSSOLAB\\MSS Node Admins",
        "SqlServerHostBase64": "MSSLABSQL1.lab.entsso.test",
    }
    assert {k: decoded(v) for k, v in protected(accounts).items()} == {
        "InstallPasswordBase64": TEST_SECRETS["installPassword"],
        "ServicePasswordBase64": TEST_SECRETS["serviceAccountPassword"],
        "SqlServicePasswordBase64": TEST_SECRETS["sqlServicePassword"],
        "JoinPasswordBase64": TEST_SECRETS["domainJoinPassword"],
    }
    ou = named(lab, "directory-cluster-ou")
    assert {k: decoded(v) for k, v in parameters(ou).items()} == {
        "DomainNameBase64": "lab.entsso.test",
        "OuNameBase64": "MSS Cluster",
        "ClusterNameBase64": "MSSLABWSFC",
        "InstallAccountBase64": "ENTSSOLAB\\svc-mss-install",
        "JoinAccountBase64": "ENTSSOLAB\\svc-join",
    }
    assert protected(ou) == {}


def test_every_password_reaches_azure_as_a_secret_and_nowhere_in_plain_text(lab: Built) -> None:
    plain_forms = set(TEST_SECRETS.values()) | {guest.encoded(v) for v in TEST_SECRETS.values()}
    for resource in lab.mocks.resources:
        leaked = {s for s in plain_strings(resource.inputs) if any(form in s for form in plain_forms)}
        assert not leaked, f"{resource.name} carries a password in plain text"
    # Each password arrives where it is used, as a secret.
    where: dict[str, set[str]] = {key: set() for key in TEST_SECRETS}
    for resource in lab.mocks.resources:
        for path, value in secret_paths(resource.inputs):
            for key, password in TEST_SECRETS.items():
                text = repr(value)
                if password in text or guest.encoded(password) in text:
                    where[key].add(f"{resource.name}:{path}")
    assert where["dsrmPassword"] == {"directory-forest:protectedParameters"}
    assert where["sqlServicePassword"] == {"directory-accounts:protectedParameters", "sql-configure:protectedParameters"}
    assert where["installPassword"] == {"directory-accounts:protectedParameters"}
    assert where["serviceAccountPassword"] == {"directory-accounts:protectedParameters"}
    assert where["domainJoinPassword"] == {
        "directory-accounts:protectedParameters",
        "sql-join:protectedSettings",
        "node-msslab1-join:protectedSettings",
        "node-msslab2-join:protectedSettings",
    }
    assert where["vmAdminPassword"] == {
        "directory-dc-vm:osProfile",
        "sql-vm:osProfile",
        "node-msslab1-vm:osProfile",
        "node-msslab2-vm:osProfile",
        "sql-configure:runAsPassword",
    }
    assert where["backupPassword"] == set()  # the dynamic providers hold it, not Azure


# ---------------------------------------------------------------------------------------------
# Install media


def test_each_node_reads_the_media_with_its_own_identity_and_a_data_plane_role(lab: Built) -> None:
    media = lab.config.sso.media
    assert media is not None
    readers = [r for r in lab.of_type("authorization:RoleAssignment") if r.name.endswith("-media-reader")]
    assert len(readers) == len(lab.config.nodes)
    for node in lab.config.nodes:
        prefix = f"node-{node.name.lower()}"
        vm = named(lab, f"{prefix}-vm")
        assert vm.inputs["identity"] == {"type": "SystemAssigned"}
        reader = named(lab, f"{prefix}-media-reader").inputs
        assert reader["principalId"] == f"{prefix}-vm-principal"  # the identity Azure gave that VM
        assert reader["principalType"] == "ServicePrincipal"
        assert reader["roleDefinitionId"].endswith(f"/roleDefinitions/{STORAGE_BLOB_DATA_READER}")
        assert reader["scope"] == container_scope(media)  # the container only, not the account
        assert reader["scope"].endswith("/storageAccounts/entssomedia/blobServices/default/containers/entsso-media")
        stage = named(lab, f"{prefix}-media")
        assert stage.inputs["runCommandName"] == "StageMedia"
        assert depends(lab, stage.name, f"{prefix}-media-reader", f"{prefix}-administrators")
        given = parameters(stage)
        assert given["AccountName"] == "entssomedia" and given["ContainerName"] == "entsso-media"
        assert given["Sha256"] == media.sha256 and re.fullmatch(r"[0-9A-F]{64}", given["Sha256"])
        assert decoded(given["BlobNameBase64"]) == "BizTalkServer2020-Developer.iso"
        assert decoded(given["StagingDirectoryBase64"]) == "C:\\Install\\BizTalk"
        assert decoded(given["InstallerPathBase64"]) == lab.config.sso.installer == "C:\\Install\\BizTalk\\Setup.exe"
        assert protected(stage) == {}
    # No key and no SAS: the program never lists the media account's keys nor creates the account.
    keys = [c.args["accountName"] for c in lab.mocks.calls if c.token.endswith("listStorageAccountKeys")]
    assert "entssomedia" not in keys
    assert [a.inputs["accountName"] for a in lab.of_type("storage:StorageAccount")] != ["entssomedia"]
    for resource in lab.mocks.resources:
        assert not any("sig=" in s or "SharedAccessSignature" in s for s in plain_strings(resource.inputs))


def test_a_lab_without_media_stages_nothing(build: Callable[..., Built]) -> None:
    def without_media(values: dict[str, Any]) -> None:
        values["sso"].pop("media")

    built = build("lab", change=without_media)
    assert [r.name for r in built.mocks.resources if r.name.endswith(("-media", "-media-reader"))] == []


# ---------------------------------------------------------------------------------------------
# Network


def _rules(built: Built, nsg: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in named(built, nsg).inputs["securityRules"]}


def test_snet_infra_admits_the_directory_from_the_vnet_and_sql_server_from_the_nodes_only(lab: Built) -> None:
    rules = _rules(lab, "network-infra-nsg")
    members = ["10.20.1.0/24", "10.20.2.0/24"]
    tcp, udp = rules["AllowDirectoryTcp"], rules["AllowDirectoryUdp"]
    assert (tcp["sourceAddressPrefixes"], tcp["destinationAddressPrefix"]) == (members, "10.20.2.4/32")
    assert tcp["destinationPortRanges"] == DC_TCP_PORTS and udp["destinationPortRanges"] == DC_UDP_PORTS
    for port in ("53", "88", "389", "445", "636"):
        assert port in tcp["destinationPortRanges"], port
    sql = rules["AllowSqlFromNodes"]
    assert (sql["sourceAddressPrefixes"], sql["destinationAddressPrefix"]) == (["10.20.1.0/24"], "10.20.2.5/32")
    assert "1433" in sql["destinationPortRanges"]
    deny = max(rules.values(), key=lambda r: r["priority"])
    assert (deny["access"], deny["priority"], deny["sourceAddressPrefix"]) == ("Deny", 4096, "*")
    allows = [r for r in rules.values() if r["access"] == "Allow"]
    assert all(r["sourceAddressPrefixes"] != ["*"] for r in allows)
    assert not any("5986" in r.get("destinationPortRanges", []) for r in allows)  # no WinRM to the DC or SQL
    # MSDTC answers from SQL Server reach the nodes, from that one address.
    node_rules = _rules(lab, "network-nsg")
    msdtc = node_rules["AllowMsdtcFromLabSql"]
    assert (msdtc["sourceAddressPrefix"], msdtc["destinationPortRanges"]) == ("10.20.2.5/32", ["135", "49152-65535"])


# ---------------------------------------------------------------------------------------------
# Teardown


def test_destroy_leaves_nothing_billable_behind(lab: Built) -> None:
    rg = "rg-entsso-lab"
    assert lab.one("resources:ResourceGroup").inputs["resourceGroupName"] == rg
    # Nothing survives a destroy: no protect, no retainOnDelete anywhere in a lab.
    assert not any(r.protect or r.retain_on_delete for r in lab.mocks.resources)
    for vm in lab.of_type("compute:VirtualMachine"):
        storage = vm.inputs["storageProfile"]
        assert storage["osDisk"]["deleteOption"] == "Delete", vm.name
        for disk in storage.get("dataDisks", []):  # the DC's directory disk is created with it, goes with it
            assert (disk["createOption"], disk["deleteOption"]) == ("Empty", "Delete"), vm.name
    # Every billable resource the stack creates is a Pulumi resource in the stack's group, so destroy deletes
    # it after what depends on it; the role assignments on the user's media container are deleted too.
    for resource in lab.mocks.resources:
        if not resource.custom or resource.typ.endswith(("ResourceGroup", "RoleAssignment", "Secret")):
            continue
        assert resource.inputs.get("resourceGroupName") == rg, resource.name
    outside = [r for r in lab.of_type("authorization:RoleAssignment") if r.name.endswith("-media-reader")]
    assert outside and all("/storageAccounts/entssomedia/" in r.inputs["scope"] for r in outside)
    # The public addresses are resources of their own (deleted by destroy), never inline on a VM.
    for vm in lab.of_type("compute:VirtualMachine"):
        assert "networkInterfaceConfigurations" not in vm.inputs["networkProfile"]
    # Reverse order: a Run Command or join goes before its VM, a VM before its NIC, a NIC before its subnet.
    for command in [r for r in lab.mocks.resources if r.typ in (RUN_COMMAND, EXTENSION)]:
        vm = next(v for v in lab.of_type("compute:VirtualMachine") if v.inputs["vmName"] == command.inputs["vmName"])
        assert reaches(lab, command.name, vm.name), command.name
    assert reaches(lab, "directory-dc-vm", "network-infra") and reaches(lab, "sql-vm", "network-infra")


# ---------------------------------------------------------------------------------------------
# The scripts the Run Commands deliver


def script_parameters(text: str) -> dict[str, tuple[bool, bool]]:
    """name -> (mandatory, marked as a password) for every parameter of a script's param() block."""
    root = PARSER.parse(text.encode("utf-8")).root_node
    block = next(child for child in root.children if child.type == "param_block")
    found: dict[str, tuple[bool, bool]] = {}
    for parameter_list in (c for c in block.children if c.type == "parameter_list"):
        for parameter in (c for c in parameter_list.children if c.type == "script_parameter"):
            source = (parameter.text or b"").decode("utf-8")
            variable = next(c for c in parameter.children if c.type == "variable")
            name = (variable.text or b"").decode("utf-8").lstrip("$")
            found[name] = ("Mandatory = $true" in source, "PSAvoidUsingPlainTextForPassword" in source)
    return found


LAB_SCRIPTS = sorted({*lab_plan.SCRIPT_OF.values()})


@pytest.mark.parametrize("name", LAB_SCRIPTS)
def test_each_in_guest_script_parses_and_follows_the_conventions(name: str) -> None:
    text = guest.script(name)  # as the Run Command sends it, its shared library in place
    assert not any(line.startswith(guest.INCLUDE) for line in text.splitlines())
    assert not PARSER.parse(text.encode("utf-8")).root_node.has_error
    assert "[CmdletBinding()]\nparam(" in text
    assert "$ErrorActionPreference = 'Stop'" in text
    assert "Set-StrictMode -Version Latest" in text
    assert "Invoke-Expression" not in text and "iex " not in text
    assert not re.search(r"\$env:(?!COMPUTERNAME)\w+", text), "scripts read their input from parameters only"
    lines = [line for line in text.rstrip().splitlines() if line.strip()]
    assert re.match(r"^(Write-Output \(ConvertTo-Json -InputObject \$result -Compress\)|Write-Result .*)$", lines[-1])
    # Every free-text parameter arrives base64-encoded; passwords are marked as such.
    for parameter, (_, secret) in script_parameters(text).items():
        if secret:
            assert parameter.endswith("Base64"), parameter


def test_every_run_command_sends_what_its_script_declares_and_protects_every_password(lab: Built) -> None:
    commands = lab.of_type("compute:VirtualMachineRunCommandByVirtualMachine")
    assert {c.inputs["runCommandName"] for c in commands} == set(lab_plan.SCRIPT_OF)
    for command in commands:
        text = command.inputs["source"]["script"]
        assert text == guest.script(lab_plan.SCRIPT_OF[command.inputs["runCommandName"]])
        declared = script_parameters(text)
        sent, hidden = parameters(command), protected(command)
        assert not set(sent) & set(hidden)
        assert set(sent) | set(hidden) <= set(declared), command.name
        for parameter, (mandatory, secret) in declared.items():
            if mandatory:
                assert parameter in sent or parameter in hidden, (command.name, parameter)
            if secret and (parameter in sent or parameter in hidden):
                assert parameter in hidden, f"{command.name}: {parameter} is a password sent in the clear"
        # Every ...Base64 value really is base64, and no name, path or password is spliced into the script.
        for parameter, value in {**sent, **hidden}.items():
            if parameter.endswith("Base64"):
                plain = base64.b64decode(value, validate=True).decode("utf-8")
                assert plain not in text, (command.name, parameter)


# ---------------------------------------------------------------------------------------------
# The runbook


def lab_table(text: str) -> list[list[str]]:
    section = text.split("## Self-contained lab", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| #")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


def test_the_runbook_lists_dc_sql_accounts_media_and_cluster_steps_in_order() -> None:
    from ops import graph, runbook

    text = runbook.render(ROOT, "lab")
    rows = lab_table(text)
    phases = [row[1] for row in rows]
    # DC before SQL Server's wait, the accounts before any join, the nodes' steps, the media, then the procedure.
    assert phases == [
        "network",
        "directory",
        "directory",
        "sql",
        "sql",
        "accounts",
        "accounts",
        "sql",
        "sql",
        *["cluster nodes"] * 5,
        "media",
        "media",
        "procedure",
    ]
    assert not any("missing from the program" in row[3] for row in rows)
    waits = {row[3]: set(row[6].split(", ")) for row in rows}
    assert "directory-forest" in waits["`sql-wait-directory`"]
    assert {"directory-forest", "sql-wait-directory"} <= waits["`directory-accounts`"]
    assert "directory-cluster-ou" in waits["`node-msslab1-join`, `node-msslab2-join`"]
    assert {"node-msslab1-media-reader", "node-msslab2-media-reader"} <= waits["`node-msslab1-media`, `node-msslab2-media`"]
    assert {"sql-configure", "node-msslab1-media", "node-msslab2-media"} <= waits["`mss-cluster`"]
    assert "Run Command CreateForest: components/scripts/dc_forest.ps1" in text
    assert text.count("azure-native:compute:VirtualMachine`") == 4
    assert graph.STAND_IN_SECRET not in text
    assert guest.encoded(graph.STAND_IN_SECRET) not in text


# ---------------------------------------------------------------------------------------------
# docs/lab.md: what each script asks of Windows (the simulated Windows' specification) is complete

EVERY_SCRIPT = {"Set-StrictMode", "Write-Output", "ConvertTo-Json"}
ACCELERATORS = {"[int]", "[string]", "[bool]", "[ordered]", "[scriptblock]", "[guid]", "[Convert]", "[Text.Encoding]"}


def calls_of(text: str) -> tuple[set[str], set[str]]:
    """(commands, .NET type literals) a script uses, without the functions it defines itself."""
    root = PARSER.parse(text.encode("utf-8")).root_node
    commands: set[str] = set()
    types: set[str] = set()
    functions: set[str] = set()

    def walk(node: tree_sitter.Node) -> None:
        if node.type == "command_name":
            commands.add((node.text or b"").decode("utf-8"))
        elif node.type == "type_literal":
            types.add((node.text or b"").decode("utf-8"))
        elif node.type == "function_statement":
            name = next(c for c in node.children if c.type == "function_name")
            functions.add((name.text or b"").decode("utf-8"))
        for child in node.children:
            walk(child)

    walk(root)
    return commands - functions, types - ACCELERATORS


@pytest.mark.parametrize("name", [n for n in LAB_SCRIPTS if n != "enable_winrm_https"])
def test_docs_name_every_call_each_script_makes(name: str) -> None:
    doc = (ROOT / "docs" / "lab.md").read_text(encoding="utf-8")
    section = doc.split(f"### {name}.ps1", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    commands, types = calls_of(guest.script(name))
    missing = [c for c in sorted(commands - EVERY_SCRIPT) if f"`{c}`" not in section and f"`{c} " not in section]
    assert not missing, f"docs/lab.md, {name}.ps1 does not name {missing}"
    missing_types = [t for t in sorted(types) if t.strip("[]").split("]")[0] not in section]
    assert not missing_types, f"docs/lab.md, {name}.ps1 does not name {missing_types}"


def first_use(text: str, command: str) -> int:
    """The offset of a command's first call (a command_name node, so comments do not count)."""
    found: list[int] = []

    def walk(node: tree_sitter.Node) -> None:
        if node.type == "command_name" and (node.text or b"").decode("utf-8") == command:
            found.append(node.start_byte)
        for child in node.children:
            walk(child)

    data = text.encode("utf-8")
    walk(PARSER.parse(data).root_node)
    return len(data[: min(found)].decode("utf-8"))


# The everyday cmdlets every script leans on are cited once, in the script's header comment.
BASICS = {
    "Set-StrictMode",
    "Write-Output",
    "ConvertTo-Json",
    "Where-Object",
    "ForEach-Object",
    "Select-Object",
    "Sort-Object",
    "Out-Null",
    "Get-Date",
    "Start-Sleep",
    "Join-Path",
}


@pytest.mark.parametrize("name", [n for n in LAB_SCRIPTS if n != "enable_winrm_https"])
def test_each_cmdlet_is_cited_at_its_first_use(name: str) -> None:
    """A Microsoft Learn page names each cmdlet and executable, in a comment above its first use."""
    text = guest.script(name)
    commands, _ = calls_of(text)
    header = text.split("#>", 1)[0]
    for command in sorted(commands):
        page = command.lower().removesuffix(".exe")
        if command in BASICS:
            assert re.search(rf"[/,]\s*{re.escape(page)}\b", header), f"{name}: {command} is not cited in the header"
            continue
        before = text[: first_use(text, command)]
        cited = [line for line in before.splitlines() if line.lstrip().startswith("#") and "learn.microsoft.com" in line]
        assert any(re.search(rf"[/ ,]{re.escape(page)}\b", line) for line in cited), (
            f"{name}: {command} has no Microsoft Learn citation above its first use"
        )
