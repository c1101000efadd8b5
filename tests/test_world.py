"""The simulated Windows world: the documented procedure, the rules Windows enforces, faults, persistence.

Every operation runs its real script through the bootstrap in the interpreter, as the host runs the
powershell.exe WinRM starts (tests/world_support.run_operation); a change made outside the stack is an
administrator's own PowerShell on the node (world_support.as_admin).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from simulator.world import (
    Fault,
    FaultPlan,
    WorldHost,
    load_world,
    save_world,
    seed_world,
    sso_client_can_get_secret,
    store,
)
from simulator.world.model import EVENT_RESTORE_OK, EVENT_SECRET_SERVER_CHANGED, SSOSS_KEY, World, key
from simulator.wsman.auth import nt_hash
from simulator.wsman.backend import Session
from tests.world_support import AdminFailed, ScriptFailed, as_admin, run_operation

N1, N2, N3 = "MSSNODE1", "MSSNODE2", "MSSNODE3"
INSTALL, INSTALL_PASSWORD = "CORP\\svc-install", "Inst@ll-pw1"
SERVICE, SERVICE_PASSWORD = "CORP\\svc-entsso", "S3rvice<&>'\"pw"
OUTSIDER, OUTSIDER_PASSWORD = "CORP\\jdoe", "Jd0e-pw!"
BACKUP = r"C:\ProgramData\EntssoCluster\SSO478AD.bak"
BACKUP_PASSWORD = "B@ckup-pw-<1>&"
CAP, WSFC, DTC = "MSSCLUSTER", "MSSWSFC", "MSSDTC"
TASK = {"DelegationMode": "ScheduledTask", "TaskUser": INSTALL, "TaskPassword": INSTALL_PASSWORD}
SSO = {"SqlServer": "SQL01", "Database": "SSODB"}
CONFIGURE = {
    **SSO,
    "ServiceAccount": SERVICE,
    "ServiceAccountPassword": SERVICE_PASSWORD,
    "AdminGroup": "CORP\\SSO Administrators",
    "AffiliateAdminGroup": "CORP\\SSO Affiliate Administrators",
    **TASK,
}


def new_world(nodes: int = 2) -> World:
    return seed_world(
        domain_fqdn="corp.example.com",
        domain_netbios="CORP",
        users={INSTALL: INSTALL_PASSWORD, SERVICE: SERVICE_PASSWORD, OUTSIDER: OUTSIDER_PASSWORD},
        groups={
            "CORP\\SSO Administrators": ["svc-install", "svc-entsso"],
            "CORP\\SSO Affiliate Administrators": ["svc-install"],
        },
        install_account=INSTALL,
        sql_server="SQL01",
        nodes={n: f"10.10.1.{4 + i}" for i, n in enumerate([N1, N2, N3][:nodes])},
        cluster_disks=["Cluster Disk 1"],
    )


@pytest.fixture
def host() -> WorldHost:
    return WorldHost(new_world())


def session(node: str, user: str = INSTALL, delegated: bool = False) -> Session:
    return Session(
        node=node, user=user, auth="credssp" if delegated else "ntlm", encrypted=True, delegated=delegated
    )


def run(host: WorldHost, node: str, operation: str, delegated: bool = False, **parameters: Any) -> dict[str, Any]:
    return run_operation(host, session(node, delegated=delegated), operation, **parameters)


def fails(host: WorldHost, node: str, operation: str, delegated: bool = False, **parameters: Any) -> ScriptFailed:
    with pytest.raises(ScriptFailed) as caught:
        run(host, node, operation, delegated=delegated, **parameters)
    return caught.value


def cluster_and_sso(host: WorldHost) -> dict[str, Any]:
    """Prerequisites and steps 1-8: features, cluster, witness, install, Create, Join, backup."""
    for node in (N1, N2):
        run(host, node, "feature_install", Features=["Failover-Clustering", "RSAT-Clustering-PowerShell"])
    assert run(host, N1, "cluster_test", Nodes=[N1, N2], **TASK)["passed"]
    run(host, N1, "cluster_new", Name=WSFC, Nodes=[N1, N2], **TASK)
    run(host, N1, "cluster_quorum_set", WitnessAccountName="msswitness", WitnessAccessKey="a2V5")
    for node in (N1, N2):
        run(host, node, "sso_install", InstallerPath=r"C:\Install\BizTalk\Setup.exe")
    run(
        host,
        N1,
        "sso_configure",
        Mode="Create",
        BackupFile=r"C:\ProgramData\EntssoCluster\wizard.bak",
        BackupPassword=BACKUP_PASSWORD,
        BackupReminder="the usual",
        **CONFIGURE,
    )
    run(host, N2, "sso_configure", Mode="Join", **CONFIGURE)
    return run(
        host, N1, "secret_backup", BackupFile=BACKUP, BackupPassword=BACKUP_PASSWORD, BackupReminder="hint"
    )


def cluster_the_secret_server(host: WorldHost) -> dict[str, Any]:
    """Steps 9-22 in the safe order (docs/windows-facts.md section 9): secret server = CAP while ENTSSO runs on
    node 1 (ssomanage needs it, F-SSO-13), then ENTSSO stopped and Manual everywhere, clustered DTC, the role and
    its Generic Service."""
    run(host, N1, "secret_server_set", SecretServer=CAP, **SSO, **TASK)
    for node in (N1, N2):
        run(host, node, "sso_service_set", State="Stopped", StartupType="Manual")
    run(host, N1, "dtc_set", Name=DTC, StaticAddress="10.10.1.60", Disk="Cluster Disk 1", **TASK)
    run(
        host, N1, "role_set", Name=CAP, StaticAddress="10.10.1.50", ProbePort=59999, PreferredOwners=[N1, N2], **TASK
    )
    return run(
        host, N1, "generic_service_set", Name=CAP, ServiceAccount=SERVICE, PossibleOwners=[N1, N2]
    )


def whole_procedure(host: WorldHost) -> dict[str, Any]:
    backup = cluster_and_sso(host)
    cluster_the_secret_server(host)
    run(host, N1, "role_move", Name=CAP, Node=N2)
    run(host, N2, "file_put", Path=BACKUP, ContentBase64=backup["contentBase64"], Sha256=backup["sha256"])
    run(
        host,
        N2,
        "secret_restore",
        BackupFile=BACKUP,
        BackupPassword=BACKUP_PASSWORD,
        ExpectedSecretId=backup["secretId"],
    )
    run(host, N1, "role_move", Name=CAP, Node=N1)
    return backup


def client_ok(host: WorldHost) -> bool:
    ok, _ = sso_client_can_get_secret(host.world)
    return ok


def client_error(host: WorldHost) -> str:
    ok, detail = sso_client_can_get_secret(host.world)
    assert not ok
    return detail


# ------------------------------------------------------------------------------------------ the procedure


def test_whole_procedure_in_documented_order_serves_the_secret_from_either_node(host: WorldHost) -> None:
    backup = whole_procedure(host)
    assert client_ok(host)
    for owner in (N2, N1, N2):
        role = run(host, N1, "role_move", Name=CAP, Node=owner)
        assert role["ownerNode"] == owner
        assert role["state"] == "Online"
        check = run(host, owner, "sso_client_check", **SSO)
        assert check == {"computerName": owner, "ok": True, "secretServer": CAP, "error": ""}
    for node in (N1, N2):
        secret = run(host, node, "secret_get")
        assert secret["present"]
        assert secret["secretId"] == backup["secretId"]
    role = run(host, N1, "role_get", Name=CAP)
    assert role["service"]["useNetworkName"] == 1
    assert role["service"]["dependencies"] == [CAP]
    assert role["service"]["possibleOwners"] == [N1, N2]
    assert role["preferredOwners"] == [N1, N2]
    assert role["ipAddress"]["probePort"] == 59999
    assert role["ipAddress"]["subnetMask"] == "255.255.255.255"
    assert role["ipAddress"]["enableDhcp"] == 0
    assert role["ipAddress"]["overrideAddressMatch"] == 1
    assert {"account": SERVICE, "access": "Full", "type": "Allow"} in role["clusterAccess"]
    assert run(host, N2, "file_get", Path=BACKUP)["exists"] is False  # the restore removed its copy


def test_set_operations_are_idempotent_on_a_second_run(host: WorldHost) -> None:
    backup = whole_procedure(host)
    again = [
        run(host, N1, "feature_install", Features=["Failover-Clustering"]),
        run(host, N1, "cluster_new", Name=WSFC, Nodes=[N1, N2], **TASK),
        run(host, N1, "cluster_quorum_set", WitnessAccountName="msswitness", WitnessAccessKey="a2V5"),
        run(host, N2, "sso_install", InstallerPath=r"C:\Install\BizTalk\Setup.exe"),
        run(host, N2, "sso_configure", Mode="Join", **CONFIGURE),
        run(host, N1, "secret_server_set", SecretServer=CAP, **SSO, **TASK),
        run(host, N1, "dtc_set", Name=DTC, StaticAddress="10.10.1.60", Disk="Cluster Disk 1", **TASK),
        run(
            host,
            N1,
            "role_set",
            Name=CAP,
            StaticAddress="10.10.1.50",
            ProbePort=59999,
            PreferredOwners=[N1, N2],
            **TASK,
        ),
        run(host, N1, "generic_service_set", Name=CAP, ServiceAccount=SERVICE, PossibleOwners=[N1, N2]),
        run(
            host,
            N2,
            "secret_restore",
            BackupFile=BACKUP,
            BackupPassword="ignored",
            ExpectedSecretId=backup["secretId"],
        ),
    ]
    assert [result["actions"] for result in again] == [[]] * len(again)
    assert client_ok(host)


# ------------------------------------------------------------------------------------------ wrong orders


def test_restore_before_the_role_moved_there_fails_and_removes_the_copy(host: WorldHost) -> None:
    backup = cluster_and_sso(host)
    cluster_the_secret_server(host)
    run(host, N2, "file_put", Path=BACKUP, ContentBase64=backup["contentBase64"], Sha256=backup["sha256"])
    error = fails(host, N2, "secret_restore", BackupFile=BACKUP, BackupPassword=BACKUP_PASSWORD)
    assert "Could not contact the SSO server 'MSSNODE2'" in error.message
    assert run(host, N2, "file_get", Path=BACKUP)["exists"] is False
    assert run(host, N2, "secret_get")["present"] is False


def test_restore_needs_the_file_on_that_node_and_the_right_password(host: WorldHost) -> None:
    backup = cluster_and_sso(host)
    cluster_the_secret_server(host)
    run(host, N1, "role_move", Name=CAP, Node=N2)
    missing = fails(host, N2, "secret_restore", BackupFile=BACKUP, BackupPassword=BACKUP_PASSWORD)
    assert "Cannot find the backup copy" in missing.message  # the copy is on node 1 only
    run(host, N2, "file_put", Path=BACKUP, ContentBase64=backup["contentBase64"], Sha256=backup["sha256"])
    wrong = fails(host, N2, "secret_restore", BackupFile=BACKUP, BackupPassword="not-it")
    assert "An incorrect password was specified for the backup file." in wrong.message
    assert BACKUP_PASSWORD not in wrong.message
    assert 10524 in [e.event_id for e in host.world.nodes[N2].events]


def test_the_secret_is_per_node(host: WorldHost) -> None:
    backup = cluster_and_sso(host)
    cluster_the_secret_server(host)
    node1_before = dict(host.world.nodes[N1].registry)
    run(host, N1, "role_move", Name=CAP, Node=N2)
    assert "secret is not available" in client_error(host)  # node 2 has no secret yet
    run(host, N2, "file_put", Path=BACKUP, ContentBase64=backup["contentBase64"], Sha256=backup["sha256"])
    run(host, N2, "secret_restore", BackupFile=BACKUP, BackupPassword=BACKUP_PASSWORD)
    assert host.world.nodes[N1].registry == node1_before
    assert key(SSOSS_KEY) in host.world.nodes[N2].registry
    assert EVENT_RESTORE_OK in [e.event_id for e in host.world.nodes[N2].events]
    assert client_ok(host)


def test_updatedb_with_an_admin_element_from_a_non_master_fails(host: WorldHost) -> None:
    cluster_and_sso(host)
    document = (
        "<sso><globalInfo><ssoAdminAccount>CORP\\SSO Administrators</ssoAdminAccount>"
        f"<secretServer>{CAP}</secretServer></globalInfo></sso>"
    )
    # An administrator on node 2 runs ssomanage -updatedb with a file that also names the admin account.
    with pytest.raises(AdminFailed) as caught:
        as_admin(
            host,
            N2,
            f"Set-Content -LiteralPath C:\\Windows\\Temp\\update.xml -Value '{document}'\n"
            "& (Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On\\ssomanage.exe') -updatedb "
            "C:\\Windows\\Temp\\update.xml 2>&1",
        )
    assert "can only be performed on the master secret server" in caught.value.message
    assert run(host, N2, "secret_server_get", **SSO, **TASK)["secretServer"] == N1
    # The script's document (only secretServer) works from node 2 too.
    result = run(host, N2, "secret_server_set", SecretServer=CAP, **SSO, **TASK)
    assert result["secretServer"] == CAP
    assert EVENT_SECRET_SERVER_CHANGED in [e.event_id for e in host.world.nodes[N2].events]
    assert result["warnings"]
    assert "DTC" in result["warnings"][0]  # DTC noise before DTC is clustered (F-SSO-17)


def test_without_use_network_name_clients_get_no_endpoint(host: WorldHost) -> None:
    whole_procedure(host)
    # Someone unticked "Use Network Name for computer name".
    as_admin(host, N1, "Get-ClusterResource -Name ENTSSO | Set-ClusterParameter -Name UseNetworkName -Value 0")
    run(host, N1, "role_move", Name=CAP, Node=N1)  # cycles the resource
    assert "0x800706D9: There are no more endpoints available from the endpoint mapper" in client_error(host)
    check = run(host, N1, "sso_client_check", **SSO)  # ENTSSO sees its computer name, not the network name
    assert not check["ok"]
    assert f"answers as '{N1}'" in check["error"] and "not the master secret server" in check["error"]
    assert run(host, N1, "role_get", Name=CAP)["service"]["useNetworkName"] == 0
    repaired = run(
        host, N1, "generic_service_set", Name=CAP, ServiceAccount=SERVICE, PossibleOwners=[N1, N2]
    )
    assert "Set-ClusterParameter ServiceName=ENTSSO UseNetworkName=1" in repaired["actions"]
    assert client_ok(host)


def test_without_the_network_name_dependency_clients_get_no_endpoint(host: WorldHost) -> None:
    whole_procedure(host)
    as_admin(host, N1, f"Remove-ClusterResourceDependency -Resource ENTSSO -Provider {CAP}")
    run(host, N1, "role_move", Name=CAP, Node=N1)
    assert "0x800706D9" in client_error(host)


def test_secret_server_must_be_the_role_network_name(host: WorldHost) -> None:
    cluster_and_sso(host)
    for node in (N1, N2):
        run(host, node, "sso_service_set", State="Stopped", StartupType="Manual")
    run(
        host, N1, "role_set", Name=CAP, StaticAddress="10.10.1.50", ProbePort=59999, PreferredOwners=[N1, N2], **TASK
    )
    run(host, N1, "generic_service_set", Name=CAP, ServiceAccount=SERVICE, PossibleOwners=[N1, N2])
    assert "Could not contact the SSO server 'MSSNODE1'" in client_error(host)  # SSODB still names node 1


def test_double_hop_steps_are_denied_without_delegation(host: WorldHost) -> None:
    for node in (N1, N2):
        run(host, node, "feature_install", Features=["Failover-Clustering"])
    no_credssp: dict[str, Any] = {"Name": WSFC, "Nodes": [N1, N2], "DelegationMode": "CredSSP"}
    denied = fails(host, N1, "cluster_new", **no_credssp)
    assert "Access is denied" in denied.message
    bad_task = fails(
        host,
        N1,
        "cluster_new",
        Name=WSFC,
        Nodes=[N1, N2],
        DelegationMode="ScheduledTask",
        TaskUser=INSTALL,
        TaskPassword="wrong",
    )
    assert bad_task.message == "The user name or password is incorrect. (Exception from HRESULT: 0x8007052E)"
    unprivileged = fails(
        host,
        N1,
        "cluster_new",
        Name=WSFC,
        Nodes=[N1, N2],
        DelegationMode="ScheduledTask",
        TaskUser=OUTSIDER,
        TaskPassword=OUTSIDER_PASSWORD,
    )
    # No batch logon right for an account that is not an administrator: the task cannot start (F-FS-02).
    assert "0x80070569" in unprivileged.message
    run(host, N1, "cluster_new", delegated=True, **no_credssp)  # CredSSP carries the credentials
    assert run(host, N2, "cluster_get")["exists"]
    for node in (N1, N2):
        run(host, node, "sso_install", InstallerPath=r"C:\Install\BizTalk\Setup.exe")
    create: dict[str, Any] = {
        **CONFIGURE,
        "Mode": "Create",
        "BackupFile": BACKUP,
        "BackupPassword": BACKUP_PASSWORD,
        "DelegationMode": "CredSSP",
    }
    sso_denied = fails(host, N1, "sso_configure", **create)  # SQL Server sees no credentials (F-SSO-30)
    assert "Login failed for user 'NT AUTHORITY\\ANONYMOUS LOGON'" in sso_denied.message
    assert run(host, N1, "secret_server_get", **SSO, **TASK)["exists"] is False
    run(host, N1, "sso_configure", **{**create, **TASK})
    role: dict[str, Any] = {
        "Name": CAP,
        "StaticAddress": "10.10.1.50",
        "ProbePort": 59999,
        "PreferredOwners": [N1, N2],
        "DelegationMode": "CredSSP",
    }
    role_denied = fails(host, N1, "role_set", **role)  # Add-ClusterServerRole creates the role's AD object
    assert "Access is denied" in role_denied.message
    assert run(host, N1, "role_get", Name=CAP)["exists"] is False


def test_service_account_must_be_an_sso_administrator(host: WorldHost) -> None:
    host.world.domain.groups[key("SSO Administrators")].members.remove("svc-entsso")
    run(host, N1, "sso_install", InstallerPath=r"C:\Install\BizTalk\Setup.exe")
    error = fails(
        host,
        N1,
        "sso_configure",
        Mode="Create",
        BackupFile=BACKUP,
        BackupPassword=BACKUP_PASSWORD,
        **CONFIGURE,
    )
    assert "The SSO service account is not a member of the specified SSO Admin account." in error.message
    assert run(host, N1, "sso_get")["configured"] is False


def test_join_before_create_fails(host: WorldHost) -> None:
    run(host, N2, "sso_install", InstallerPath=r"C:\Install\BizTalk\Setup.exe")
    error = fails(host, N2, "sso_configure", Mode="Join", **CONFIGURE)
    assert "The specified SSO database is not configured." in error.message


def test_backup_on_a_node_that_is_not_the_master_fails(host: WorldHost) -> None:
    cluster_and_sso(host)
    error = fails(
        host, N2, "secret_backup", BackupFile=BACKUP, BackupPassword=BACKUP_PASSWORD, BackupReminder="x"
    )
    assert "can only be performed on the master secret server" in error.message
    assert error.error_id == "HRESULT 0xC0002A0E"
    assert 10560 in [e.event_id for e in host.world.nodes[N2].events]


def test_locally_started_entsso_breaks_the_endpoint_until_stopped_and_cycled(host: WorldHost) -> None:
    whole_procedure(host)
    run(host, N2, "sso_service_set", State="Running", StartupType="Manual")  # monitoring tool "fixes" it
    run(host, N1, "role_move", Name=CAP, Node=N2)
    assert "0x800706D9" in client_error(host)
    assert "not the master secret server" in run(host, N2, "sso_client_check", **SSO)["error"]
    run(host, N2, "sso_service_set", State="Stopped", StartupType="Manual")
    assert not client_ok(host)
    run(host, N1, "role_move", Name=CAP, Node=N2)  # cycles ENTSSO through the cluster
    assert client_ok(host)


def test_moving_to_a_node_that_is_not_a_possible_owner_fails(host: WorldHost) -> None:
    whole_procedure(host)
    run(host, N1, "generic_service_set", Name=CAP, ServiceAccount=SERVICE, PossibleOwners=[N1])
    error = fails(host, N1, "role_move", Name=CAP, Node=N2)
    assert "not a possible owner" in error.message
    assert run(host, N1, "role_get", Name=CAP)["ownerNode"] == N1


def test_a_second_cluster_with_the_same_name_fails() -> None:
    host = WorldHost(new_world(nodes=3))
    for node in (N1, N2, N3):
        run(host, node, "feature_install", Features=["Failover-Clustering"])
    run(host, N1, "cluster_new", Name=WSFC, Nodes=[N1, N2], **TASK)
    error = fails(host, N3, "cluster_new", Name=WSFC, Nodes=[N3], **TASK)
    assert f"The computer object '{WSFC}' already exists" in error.message
    taken = fails(host, N3, "cluster_new", Name="OTHERWSFC", Nodes=[N2, N3], **TASK)
    assert "is joined to a cluster" in taken.message


def test_sql_unavailable_fails_sso_operations_with_a_connection_error(host: WorldHost) -> None:
    cluster_and_sso(host)
    host.world.sql.available = False
    error = fails(host, N1, "secret_server_get", **SSO, **TASK)
    assert "error: 40 - Could not open a connection to SQL Server" in error.message
    assert "error: 40" in fails(host, N1, "secret_server_set", SecretServer=CAP, **SSO, **TASK).message
    # The client check asks the running service, which keeps the secret it loaded; it opens no SQL connection of
    # its own (F-SSO-08, finding 8).
    assert run(host, N1, "sso_client_check", **SSO)["ok"]


def test_file_put_verifies_the_hash_and_file_get_never_returns_content(host: WorldHost) -> None:
    error = fails(host, N1, "file_put", Path=r"C:\Data\x.bin", ContentBase64="aGVsbG8=", Sha256="00" * 32)
    assert "nothing was written" in error.message
    import hashlib

    digest = hashlib.sha256(b"hello").hexdigest()
    put = run(host, N1, "file_put", Path=r"C:\Data\x.bin", ContentBase64="aGVsbG8=", Sha256=digest)
    assert put["sha256"] == digest.upper()
    assert put["length"] == 5
    got = run(host, N1, "file_get", Path=r"c:\DATA\X.BIN")  # Windows paths are case-insensitive
    assert got["exists"]
    assert "contentBase64" not in got
    assert run(host, N1, "file_remove", Path=r"C:\Data\x.bin")["actions"] == [r"Remove-Item C:\Data\x.bin"]


# ------------------------------------------------------------------------------------------ faults


def test_faults_are_deterministic_under_a_seed_and_limited_to_n_times() -> None:
    plan = FaultPlan(
        seed=7,
        durations={"sso_get": 0.25},
        faults=[
            Fault(kind="http_500", operation="sso_*", probability=0.5),
            Fault(kind="timeouts", node=N2, count=2),
            Fault(kind="reset_before", operation="role_move", times=1),
        ],
    )

    def decisions(seed_plan: FaultPlan) -> list[tuple[bool, int, bool, float]]:
        host = WorldHost(new_world(), seed_plan)
        out = []
        for index in range(30):
            node, operation = (N1, N2)[index % 2], ("sso_get", "role_move", "file_get")[index % 3]
            d = host.directive(session(node), operation)
            out.append((d.http_500, d.timeouts, d.reset_before, d.duration))
        return out

    first = decisions(plan)
    assert first == decisions(plan)
    assert first != decisions(plan.model_copy(update={"seed": 8}))
    assert sum(reset for _, _, reset, _ in first) == 1
    assert all(timeouts == (2 if i % 2 else 0) for i, (_, timeouts, _, _) in enumerate(first))
    assert all(duration == (0.25 if i % 3 == 0 else 0.0) for i, (*_, duration) in enumerate(first))
    assert 0 < sum(h500 for h500, *_ in first) < 10  # 10 sso_get calls at probability 0.5


def test_reboot_fault_restarts_services_per_startup_type_and_fails_the_role_over() -> None:
    host = WorldHost(
        new_world(), FaultPlan(faults=[Fault(kind="reboot", node=N1, operation="sso_get", times=1)])
    )
    whole_procedure(host)
    rebooted: list[str] = []
    host.on_reboot(rebooted.append)
    directive = host.directive(session(N1), "sso_get")
    assert directive.reset_before
    assert rebooted == [N1]
    node1 = host.world.nodes[N1]
    assert node1.services[key("ENTSSO")].state == "Stopped"  # Manual: only the cluster starts it
    assert node1.services[key("MSDTC")].state == "Running"  # Automatic
    assert run(host, N1, "role_get", Name=CAP)["ownerNode"] == N2
    assert client_ok(host)
    assert host.directive(session(N1), "sso_get").reset_before is False  # once


def test_automatic_entsso_on_a_clustered_node_breaks_the_endpoint_after_a_reboot(host: WorldHost) -> None:
    whole_procedure(host)
    run(host, N2, "sso_service_set", State="Stopped", StartupType="Automatic")
    host.reboot(N2)  # ENTSSO starts locally at boot, before the role comes to node 2
    run(host, N1, "role_move", Name=CAP, Node=N2)
    assert "0x800706D9" in client_error(host)


def test_failover_and_sql_faults_act_during_the_operation() -> None:
    plan = FaultPlan(
        faults=[
            Fault(kind="failover", operation="role_get", role=CAP, times=1),
            Fault(kind="sql_unavailable", operation="secret_server_get", times=1),
        ]
    )
    host = WorldHost(new_world(), plan)
    whole_procedure(host)
    host.directive(session(N1), "role_get")
    assert run(host, N1, "role_get", Name=CAP)["ownerNode"] == N2
    assert client_ok(host)
    host.directive(session(N1), "secret_server_get")
    assert "Could not open a connection" in fails(host, N1, "secret_server_get", **SSO, **TASK).message
    assert host.world.sql.available
    assert run(host, N1, "secret_server_get", **SSO, **TASK)["secretServer"] == CAP


def test_host_serialises_concurrent_operations(host: WorldHost) -> None:
    cluster_and_sso(host)
    errors: list[BaseException] = []

    def toggle(node: str) -> None:
        try:
            for _ in range(25):
                run(host, node, "sso_service_set", State="Stopped", StartupType="Manual")
                run(host, node, "sso_service_set", State="Running", StartupType="Manual")
        except BaseException as failure:  # pragma: no cover - reported below
            errors.append(failure)

    threads = [threading.Thread(target=toggle, args=(node,)) for node in (N1, N2, N1, N2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(host.world.nodes[n].services[key("ENTSSO")].state == "Running" for n in (N1, N2))


# ------------------------------------------------------------------------------------------ persistence


def test_world_survives_save_and_load_as_after_a_reboot(tmp_path: Path) -> None:
    state = tmp_path / "sim" / "world.json"
    host = WorldHost(new_world(), state_file=state)
    backup = whole_procedure(host)
    run(
        host, N1, "sso_service_set", State="Running", StartupType="Manual"
    )  # no-op: cluster runs it on node 1
    assert state.exists()
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    text = state.read_text(encoding="utf-8")
    for password in (BACKUP_PASSWORD, INSTALL_PASSWORD, SERVICE_PASSWORD):  # JSON escapes no character of these
        assert password not in text and json.dumps(password)[1:-1] not in text
    assert nt_hash(INSTALL_PASSWORD).hex().upper() in text  # what AD keeps: the domain's NT hashes
    loaded = load_world(state)
    assert loaded.nodes[N2].services[key("ENTSSO")].state == "Stopped"
    assert loaded.nodes[N1].services[key("MSDTC")].state == "Running"
    assert loaded.cluster is not None
    assert loaded.cluster.groups[key(CAP)].owner_node == N1
    assert loaded.sql.databases[key("SSODB")].secret_server == CAP
    before = host.world.nodes[N1].events
    assert loaded.nodes[N1].events[: len(before)] == before  # the event log survives; the boot adds 10534
    assert [e.event_id for e in loaded.nodes[N1].events[len(before) :]] == [10534]
    reloaded = WorldHost(loaded)
    assert client_ok(reloaded)
    assert run(reloaded, N2, "secret_get")["secretId"] == backup["secretId"]
    save_world(loaded, state)
    assert json.loads(state.read_text(encoding="utf-8"))["format"] == 2
    assert not list(state.parent.glob(".world.json.*")), "no temporary file left behind"


def test_the_domain_keeps_nt_hashes_and_authenticates_from_them(host: WorldHost) -> None:
    user = host.world.domain.user(INSTALL)
    assert user is not None
    assert user.nt_hash == nt_hash(INSTALL_PASSWORD).hex().upper()  # nt_hash: the known vectors below
    assert not any(INSTALL_PASSWORD in repr(v) for v in vars(user).values())
    assert host.world.domain.authenticate(INSTALL, INSTALL_PASSWORD)
    assert not host.world.domain.authenticate(INSTALL, INSTALL_PASSWORD.upper())
    assert host.world.domain.authenticate("svc-install@corp.example.com", INSTALL_PASSWORD)


def test_the_nt_hash_is_md4_of_the_utf16le_password() -> None:
    # MS-NLMP 4.2.2.1.2: NTOWFv1("Password") = a4f49c406510bdcab6824ee7c30fd852; and the empty password.
    assert nt_hash("Password").hex() == "a4f49c406510bdcab6824ee7c30fd852"
    assert nt_hash("").hex() == "31d6cfe0d16ae931b73c59d7e0c089c0"


def test_a_format_1_world_is_upgraded_and_its_passwords_leave_the_disk(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    save_world(new_world(), state)
    document = json.loads(state.read_text(encoding="utf-8"))
    document["format"] = 1  # what this simulator wrote before it kept hashes
    for user in document["world"]["domain"]["users"].values():
        user["password"] = {"SVC-INSTALL": INSTALL_PASSWORD, "SVC-ENTSSO": SERVICE_PASSWORD}.get(
            user["name"].upper(), OUTSIDER_PASSWORD
        )
        del user["nt_hash"]
    state.write_text(json.dumps(document), encoding="utf-8")
    loaded = load_world(state)
    assert loaded.domain.authenticate(SERVICE, SERVICE_PASSWORD)
    text = state.read_text(encoding="utf-8")
    assert json.loads(text)["format"] == 2
    assert SERVICE_PASSWORD not in text and json.dumps(SERVICE_PASSWORD)[1:-1] not in text
    assert INSTALL_PASSWORD not in text
    assert not store.stale_temporaries(state)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"format": 2, "world": {"domain"', "not JSON"),
        ('{"format": 9, "world": {}}', "format 9"),
        ("[1, 2]", "expected dict"),
        ('{"format": 2, "world": {"sql": {}}}', "missing"),
        ('{"format": 2, "world": {"domain": {"fqdn": 7, "netbios": "C"}, "sql": {"name": "S"}}}', "expected str"),
    ],
)
def test_a_corrupt_world_file_is_named_in_one_line(tmp_path: Path, content: str, reason: str) -> None:
    state = tmp_path / "world.json"
    state.write_text(content, encoding="utf-8")
    with pytest.raises(store.WorldFileError) as refused:
        load_world(state)
    message = str(refused.value)
    assert "\n" not in message and str(state) in message and reason in message


def test_a_claim_is_exclusive_and_removes_what_a_killed_save_left(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    save_world(new_world(), state)
    leftover = tmp_path / ".world.json.k3j_x9z2.tmp"  # a save killed between mkstemp and os.replace
    leftover.write_text("partial", encoding="utf-8")
    unrelated = tmp_path / ".world.json.notes"
    unrelated.write_text("mine", encoding="utf-8")
    held = store.claim(state)
    try:
        assert not leftover.exists() and unrelated.exists()
        with pytest.raises(store.WorldInUse, match="in use by another simulator"):
            store.claim(state)
    finally:
        held.release()
    store.claim(state).release()  # released: the next simulator may take it


def test_secrets_stay_out_of_reprs(host: WorldHost) -> None:
    whole_procedure(host)
    text = repr(host.world)
    for secret in (INSTALL_PASSWORD, SERVICE_PASSWORD, BACKUP_PASSWORD, "a2V5"):
        assert secret not in text
