"""Enterprise SSO's operations run end to end through the interpreter against the simulated Windows.

Every script here is the real one (providers/scripts, with providers/library.ps1 and the bootstrap), run on a
node's NodeMachine as the runner would (tests/world_support.invoke). What the scripts reach is the world's
surface: the ENTSSO COM objects, ssomanage, setup/msiexec, Configuration.exe, services, the registry, the
event log and SQL Server (simulator/world/surface). Each test names the facts (docs/windows-facts.md) and the
issue 12 findings it shows.

The failover cluster's own operations (role_set, generic_service_set, role_move, ...) run the same way, on the
cluster area's surface; ENTSSO's rules (windows.start_entsso) decide what the SSO scripts then see.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from providers.runner import RemoteOperationError
from simulator.powershell.machine import Identity
from simulator.world.machine import run_script
from simulator.world.model import SQL_KEY, SSOSS_KEY, World, key, path_key
from simulator.wsman.backend import Session
from tests.test_world import (
    BACKUP,
    BACKUP_PASSWORD,
    CAP,
    DTC,
    INSTALL,
    N1,
    N2,
    OUTSIDER,
    SERVICE,
    SERVICE_PASSWORD,
    SSO,
    WSFC,
    new_world,
)
from tests.world_support import ScriptFailed, invoke, session

ADMINS = "CORP\\SSO Administrators"
CREDSSP = {"DelegationMode": "CredSSP"}
CONFIGURE = {
    **SSO,
    "ServiceAccount": SERVICE,
    "ServiceAccountPassword": SERVICE_PASSWORD,
    "AdminGroup": ADMINS,
    "AffiliateAdminGroup": "CORP\\SSO Affiliate Administrators",
    **CREDSSP,
}
CREATE = {"Mode": "Create", "BackupFile": r"C:\ProgramData\EntssoCluster\wizard.bak", "BackupPassword": BACKUP_PASSWORD}
MEDIA = r"C:\Install\BizTalk\Setup.exe"
COPY = r"C:\ProgramData\EntssoCluster\restore.bak"


def op(world: World, node: str, operation: str, delegated: bool = True, **parameters: Any) -> dict[str, Any]:
    """An operation as the runner sends it, in a session that holds delegated credentials (CredSSP) by default."""
    return invoke(world, session(node, INSTALL, delegated=delegated), operation, **parameters)


def fails(world: World, node: str, operation: str, delegated: bool = True, **parameters: Any) -> ScriptFailed:
    with pytest.raises(ScriptFailed) as caught:
        op(world, node, operation, delegated=delegated, **parameters)
    return caught.value


def ps(world: World, node: str, text: str, user: str = INSTALL) -> list[object]:
    """Free-form PowerShell on a node (the checks a person would type); raises on a terminating error."""
    result = run_script(world, node, text, Session(node, user, "ntlm", True, False))
    assert result.terminating is None, result.terminating.message
    return result.output


def events(world: World, node: str) -> list[int]:
    found = world.node(node)
    assert found is not None
    return [e.event_id for e in found.events]


def installed_and_configured() -> World:
    """Steps 1-4 and 6-8 through the interpreter: install on both nodes, Create on node 1, Join on node 2."""
    world = new_world()
    for node in (N1, N2):
        op(world, node, "sso_install", InstallerPath=MEDIA)
    op(world, N1, "sso_configure", BackupReminder="the usual", **CREATE, **CONFIGURE)
    op(world, N2, "sso_configure", Mode="Join", **CONFIGURE)
    return world


def backed_up() -> tuple[World, dict[str, Any]]:
    world = installed_and_configured()
    return world, op(
        world,
        N1,
        "secret_backup",
        BackupFile=BACKUP,
        BackupPassword=BACKUP_PASSWORD,
        BackupReminder="hint",
        AdminGroup=ADMINS,
    )


def clustered() -> tuple[World, dict[str, Any]]:
    """Steps 5, 9-22: backup, secret server = the network name, then the cluster and the ENTSSO role."""
    world, backup = backed_up()
    op(world, N1, "secret_server_set", SecretServer=CAP, **SSO, **CREDSSP)
    for node in (N1, N2):
        op(world, node, "sso_service_set", State="Stopped", StartupType="Manual")
    for node in (N1, N2):
        op(world, node, "feature_install", Features=["Failover-Clustering", "RSAT-Clustering-PowerShell"])
    op(world, N1, "cluster_new", Name=WSFC, Nodes=[N1, N2], **CREDSSP)
    op(world, N1, "dtc_set", Name=DTC, StaticAddress="10.10.1.60", Disk="MSSDTC Disk", ProbePort=59998, **CREDSSP)
    op(
        world,
        N1,
        "role_set",
        Name=CAP,
        StaticAddress="10.10.1.50",
        ProbePort=59999,
        PreferredOwners=[N1, N2],
        **CREDSSP,
    )
    op(world, N1, "generic_service_set", Name=CAP, ServiceAccount=SERVICE, PossibleOwners=[N1, N2])
    return world, backup


def restore_on(world: World, node: str, backup: dict[str, Any]) -> dict[str, Any]:
    op(
        world,
        node,
        "file_put",
        Path=COPY,
        ContentBase64=backup["contentBase64"],
        Sha256=backup["sha256"],
        AdminGroup=ADMINS,
    )
    return op(
        world,
        node,
        "secret_restore",
        BackupFile=COPY,
        BackupPassword=BACKUP_PASSWORD,
        ExpectedSecretId=backup["secretId"],
    )


# ------------------------------------------------------------------------------------------ the procedure


def test_the_documented_procedure_serves_the_secret_from_either_node() -> None:
    world, backup = clustered()
    first = op(world, N1, "sso_client_check", **SSO)
    assert first == {"computerName": N1, "ok": True, "secretServer": CAP, "error": ""}
    op(world, N1, "role_move", Name=CAP, Node=N2)
    # Step 24: the second node answers as the network name, but holds no secret yet (10520).
    before = op(world, N2, "sso_client_check", **SSO)
    assert before["ok"] is False and before["secretServer"] == CAP
    assert "event 10520: No secrets were found in the registry of the master secret server." in before["error"]
    restored = restore_on(world, N2, backup)
    assert restored["secretId"] == backup["secretId"] and restored["loaded"] is True
    assert restored["fileRemoved"] is True
    assert restored["actions"] == ["ISSOConfigSS.RestoreSecret", f"Remove-Item {COPY}"]
    assert 10523 in events(world, N2)
    assert op(world, N2, "sso_client_check", **SSO)["ok"] is True
    op(world, N1, "role_move", Name=CAP, Node=N1)
    assert op(world, N1, "sso_client_check", **SSO)["ok"] is True
    for node in (N1, N2):
        secret = op(world, node, "secret_get")
        assert (secret["present"], secret["secretId"]) == (True, backup["secretId"])
    assert op(world, N2, "file_get", Path=COPY)["exists"] is False


def test_install_and_configure_leave_what_windows_would() -> None:
    world = installed_and_configured()
    master = op(world, N1, "sso_get")
    assert master == {
        "computerName": N1,
        "installed": True,
        "configured": True,
        "sqlServer": "SQL01",
        "database": "SSODB",
        "service": {"name": "ENTSSO", "state": "Running", "startMode": "Auto", "account": SERVICE},
    }
    node = world.node(N1)
    assert node is not None
    # implements F-SSO-28: BizTalk's setup sets BTSINSTALLPATH; F-SSO-29: Create backs the new secret up.
    assert ps(world, N1, "[Environment]::GetEnvironmentVariable('BTSINSTALLPATH', 'Machine')") == [
        "C:\\Program Files (x86)\\Microsoft BizTalk Server\\"
    ]
    assert node.file(CREATE["BackupFile"]) is not None
    assert events(world, N1)[:4] == [10548, 10525, 10559, 10534]  # created, generated, backed up, master
    assert not [p for p in node.files if "entssoconfig-" in p]  # the answer file (with passwords) is gone
    assert op(world, N1, "secret_server_get", **SSO, **CREDSSP)["secretServer"] == N1
    assert op(world, N2, "secret_get")["present"] is False  # the secret reaches node 2 at step 26 only


def test_set_operations_do_nothing_on_a_second_run() -> None:
    world, backup = clustered()
    again = [
        op(world, N2, "sso_install", InstallerPath=MEDIA),
        op(world, N1, "sso_configure", BackupReminder="the usual", **CREATE, **CONFIGURE),
        op(world, N2, "sso_configure", Mode="Join", **CONFIGURE),
        op(world, N2, "sso_service_set", State="Stopped", StartupType="Manual"),
        op(world, N1, "secret_server_set", SecretServer=CAP, **SSO, **CREDSSP),
        op(
            world,
            N1,
            "file_put",
            Path=BACKUP,
            ContentBase64=backup["contentBase64"],
            Sha256=backup["sha256"],
            AdminGroup=ADMINS,
        ),
        op(world, N2, "file_remove", Path=COPY),
    ]
    assert [result["actions"] for result in again] == [[]] * len(again)
    # A restore that finds the secret already there restores nothing and only removes the copy it was given.
    restore_on(world, N1, backup)
    assert op(world, N1, "file_get", Path=COPY)["exists"] is False


def test_the_secret_server_name_goes_back_and_forth() -> None:
    world, _ = backed_up()
    changed = op(world, N1, "secret_server_set", SecretServer=CAP, **SSO, **CREDSSP)
    assert changed["secretServer"] == CAP and changed["actions"] == [f"ssomanage -updatedb (secretServer={CAP})"]
    # implements F-SSO-17: the DTC error -updatedb prints before DTC is clustered is kept as a warning only.
    assert changed["warnings"] == [
        "ERROR: 0xC0002A24 : Could not import a DTC transaction. Please check that MSDTC is configured correctly for "
        "remote operation. See documentation for details."
    ]
    node = world.node(N1)
    assert node is not None
    changed_event = next(e for e in node.events if e.event_id == 10575)  # implements F-SSO-16
    assert changed_event.message.startswith(
        f"Updated secret server name.\r\nNew Secret Server: {CAP}\r\nOld Secret Server: {N1}\r\nTracking ID: {{"
    )
    assert changed_event.message.endswith(f"Client Computer: {N1}\r\nClient User: {INSTALL}")
    back = op(world, N1, "secret_server_set", SecretServer=N1, **SSO, **CREDSSP)
    assert back["secretServer"] == N1


# ------------------------------------------------------------------------------------------ Windows refuses


def test_configuration_without_delegated_credentials_reaches_sql_as_anonymous() -> None:
    # implements F-SSO-30: Create makes SSODB with the caller's credentials; a plain WinRM session has none.
    world = new_world()
    op(world, N1, "sso_install", InstallerPath=MEDIA)
    failed = fails(world, N1, "sso_configure", delegated=False, BackupReminder="r", **CREATE, **CONFIGURE)
    assert failed.message.startswith("Configuration.exe exited with 1. ")
    assert "Login failed for user 'NT AUTHORITY\\ANONYMOUS LOGON'." in failed.message
    assert world.sql.databases == {}


def test_join_before_create_and_a_second_create_are_refused() -> None:
    world = new_world()
    for node in (N1, N2):
        op(world, node, "sso_install", InstallerPath=MEDIA)
    join = fails(world, N2, "sso_configure", Mode="Join", **CONFIGURE)
    assert "ERROR: 0xC0002A51 : The specified SSO database is not configured." in join.message  # F-SSO-29 (assumed)
    op(world, N1, "sso_configure", BackupReminder="r", **CREATE, **CONFIGURE)
    again = fails(world, N2, "sso_configure", BackupReminder="r", **CREATE, **CONFIGURE)
    assert "ERROR: 0xC0002A4F : The specified SSO database already exists." in again.message


def test_configuration_needs_the_caller_and_the_service_account_in_the_sso_administrators() -> None:
    # implements F-SSO-02
    world = new_world()
    op(world, N1, "sso_install", InstallerPath=MEDIA)
    admins = world.domain.groups[key("SSO Administrators")]
    admins.members = ["svc-entsso"]
    caller = fails(world, N1, "sso_configure", BackupReminder="r", **CREATE, **CONFIGURE)
    assert "ERROR: 0xC0002A52 : The current user is not a member of the specified SSO Admin account." in caller.message
    admins.members = ["svc-install"]
    service = fails(world, N1, "sso_configure", BackupReminder="r", **CREATE, **CONFIGURE)
    assert "0xC0002A16 : The SSO service account is not a member of the specified SSO Admin account." in service.message
    wrong = fails(
        world, N1, "sso_configure", BackupReminder="r", **CREATE, **{**CONFIGURE, "ServiceAccountPassword": "x"}
    )
    assert "could not log on: The user name or password is incorrect." in wrong.message


def test_a_backup_needs_the_master_secret_server_and_its_running_service() -> None:
    # implements F-SSO-10, F-SSO-13 (finding 7: the HRESULT reaches the result, under the InvokeMember wrappers)
    world = installed_and_configured()
    elsewhere = fails(world, N2, "secret_backup", BackupFile=BACKUP, BackupPassword=BACKUP_PASSWORD, BackupReminder="h")
    assert elsewhere.error_id.startswith("HRESULT 0xC0002A0E")
    assert elsewhere.message == (
        "ISSOConfigSS.BackupSecret failed with 0xC0002A0E: This function can only be performed on the master secret "
        "server."
    )
    assert 10560 in events(world, N2)
    op(world, N1, "sso_service_set", State="Stopped", StartupType="Manual")
    stopped = fails(world, N1, "secret_backup", BackupFile=BACKUP, BackupPassword=BACKUP_PASSWORD, BackupReminder="h")
    assert stopped.error_id.startswith("HRESULT 0xC0002A0F")
    assert stopped.message == (
        f"ISSOConfigSS.BackupSecret failed with 0xC0002A0F: Could not contact the SSO server '{N1}'. Check that SSO "
        "is configured and that the SSO service is running on that server. (RPC: 0x800706D9: There are no more "
        "endpoints available from the endpoint mapper.)"
    )
    short = fails(world, N2, "secret_backup", BackupFile=BACKUP, BackupPassword="short", BackupReminder="h")
    assert short.error_id.startswith("HRESULT 0xC0002A0E")  # the master check comes first (order assumed)


def test_a_restore_with_the_wrong_password_fails_and_still_removes_the_copy() -> None:
    # implements F-SSO-11 (ENTSSO_E_BACKUP_FILE_WRONG_PASSWORD; event 10524)
    world, backup = clustered()
    op(world, N1, "role_move", Name=CAP, Node=N2)
    op(world, N2, "file_put", Path=COPY, ContentBase64=backup["contentBase64"], Sha256=backup["sha256"])
    wrong = fails(world, N2, "secret_restore", BackupFile=COPY, BackupPassword="Wrong-pw-123")
    assert wrong.message == (
        "ISSOConfigSS.RestoreSecret failed with 0xC0002A1B: An incorrect password was specified for the backup file."
    )
    assert op(world, N2, "file_get", Path=COPY)["exists"] is False
    node = world.node(N2)
    assert node is not None
    failure = next(e for e in node.events if e.event_id == 10524)
    assert failure.message.startswith(f"Failed to restore the master secrets.\r\nFile Name: {COPY}\r\n")
    assert failure.message.endswith("Error Code: 0xC0002A1B")


def test_a_restore_where_the_role_is_not_online_finds_no_sso_service() -> None:
    world, backup = clustered()  # the role is on node 1; ENTSSO is stopped on node 2
    op(world, N2, "file_put", Path=COPY, ContentBase64=backup["contentBase64"], Sha256=backup["sha256"])
    failed = fails(world, N2, "secret_restore", BackupFile=COPY, BackupPassword=BACKUP_PASSWORD)
    assert failed.error_id.startswith("HRESULT 0xC0002A0F")
    missing = fails(world, N2, "secret_restore", BackupFile=COPY, BackupPassword=BACKUP_PASSWORD)
    assert missing.message == f"Cannot find the backup copy '{COPY}' on {N2}: copy it with file_put first."


def test_updatedb_with_an_admin_element_from_a_computer_that_is_not_the_master_fails() -> None:
    # implements F-SSO-14 (the error text is assumed): only <secretServer> may come from elsewhere.
    world = installed_and_configured()
    folder = r"C:\Windows\Temp"
    text = (
        f"Set-Content -LiteralPath '{folder}\\u.xml' -Value '<sso><globalInfo><ssoAdminAccount>CORP\\x</ssoAdminAccount>"
        "</globalInfo></sso>'\n"
        "& 'C:\\Program Files\\Common Files\\Enterprise Single Sign-On\\ssomanage.exe' -updatedb "
        f"'{folder}\\u.xml' 2>&1 | ForEach-Object {{ [string]$_ }}\n$LASTEXITCODE"
    )
    assert ps(world, N2, text) == [
        f"Using SSO server : {N2}",
        "ERROR: 0xC0002A0E : This function can only be performed on the master secret server.",
        1,
    ]


def test_updatedb_needs_a_local_administrator() -> None:
    # implements F-SSO-15 (observed text)
    world = installed_and_configured()
    node = world.node(N1)
    assert node is not None
    node.administrators = []
    identity = Identity(INSTALL, is_admin=False)
    result = run_script(
        world,
        N1,
        "& 'C:\\Program Files\\Common Files\\Enterprise Single Sign-On\\ssomanage.exe' -updatedb C:\\x.xml 2>&1 | "
        "ForEach-Object { [string]$_ }",
        Session(N1, INSTALL, "ntlm", True, False),
        identity=identity,
    )
    assert result.output == [
        f"Using SSO server : {N1}",
        "ERROR: 0xC0002A13 : This function can only be performed by a local administrator.",
    ]


def test_sql_server_unreachable_ends_reads_and_configuration_with_sqlclient_s_words() -> None:
    # implements F-SSO-31 (ENTSSO's wrapper text and HRESULT 0xC0002A21 from its message table)
    world = installed_and_configured()
    world.sql.available = False
    failed = fails(world, N1, "secret_server_get", **SSO, **CREDSSP)
    assert failed.message.startswith(
        "ISSOConfigDB.GetDBInfo failed with 0xC0002A21: An error occurred while attempting to access the SSO "
        "database. (A network-related or instance-specific error occurred while establishing a connection to SQL "
        "Server."
    )
    assert failed.message.endswith(
        "(provider: Named Pipes Provider, error: 40 - Could not open a connection to SQL Server))"
    )


def test_entsso_will_not_start_under_an_account_outside_the_sso_administrators() -> None:
    # implements F-SSO-02 (10550 SSO_ERROR_SERVICE_NOT_SSO_ADMIN), F-SVC-03 (CouldNotStartService, OpenError)
    world = installed_and_configured()
    op(world, N2, "sso_service_set", State="Stopped", StartupType="Manual")
    world.domain.groups[key("SSO Administrators")].members = ["svc-install"]
    failed = fails(world, N2, "sso_service_set", State="Running", StartupType="Manual")
    assert (failed.message, failed.category) == (
        "Service 'Enterprise Single Sign-On Service (ENTSSO)' cannot be started due to the following error: Cannot "
        "start service ENTSSO on computer '.'.",
        "OpenError",
    )
    assert failed.error_id == "CouldNotStartService,Microsoft.PowerShell.Commands.StartServiceCommand"
    assert events(world, N2)[-1] == 10550


def test_service_operations_on_a_node_without_entsso_use_get_service_s_error() -> None:
    world = new_world()  # implements F-SVC-03
    failed = fails(world, N1, "sso_service_set", State="Running", StartupType="Manual")
    assert (failed.message, failed.error_id, failed.category) == (
        "Cannot find any service with service name 'ENTSSO'.",
        "NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand",
        "ObjectNotFound",
    )


def test_a_non_administrator_cannot_configure_the_service() -> None:
    world = installed_and_configured()
    node = world.node(N1)
    assert node is not None
    result = run_script(
        world,
        N1,
        "$ErrorActionPreference = 'Stop'; Set-Service -Name ENTSSO -StartupType Manual",
        Session(N1, OUTSIDER, "ntlm", True, False),
    )
    assert result.terminating is not None
    assert result.terminating.error_id == "CouldNotSetService,Microsoft.PowerShell.Commands.SetServiceCommand"
    assert node.services[key("ENTSSO")].start_mode == "Auto"


# ------------------------------------------------------------------------------------------ issue 12 findings


def test_finding_5_a_fresh_master_has_no_previous_secret_and_the_state_is_still_read() -> None:
    # implements F-SSO-05: PreviousMSID is absent on a fresh master; the old Get-SecretState dotted into it and
    # failed with PropertyNotFoundStrict (F-PS-02).
    world = installed_and_configured()
    node = world.node(N1)
    assert node is not None
    current = node.registry[key(SSOSS_KEY)]["CurrentMSID"]
    assert "PreviousMSID" not in node.registry[key(f"{SSOSS_KEY}\\{current}")]
    assert op(world, N1, "secret_get") == {
        "computerName": N1,
        "present": True,
        "secretId": current,
        "previousSecretId": "",
        "loaded": True,
    }
    # Without the (assumed) CurrentMSID value the one subkey under SSOSS is the current secret.
    del node.registry[key(SSOSS_KEY)]["CurrentMSID"]
    assert op(world, N1, "secret_get")["secretId"] == current


def test_finding_5_configured_needs_both_sql_values_not_one_unconfirmed_name() -> None:
    world = installed_and_configured()
    node = world.node(N2)
    assert node is not None
    del node.registry[key(SQL_KEY)]["Database"]
    state = op(world, N2, "sso_get")
    assert (state["configured"], state["sqlServer"], state["database"]) == (False, "SQL01", "")


def test_finding_6_getdbinfo_from_a_plain_session_reaches_sql_as_anonymous() -> None:
    # implements F-SSO-09 (assumed: GetDBInfo connects as the caller). The read runs delegated; a session that
    # claims CredSSP without delegated credentials is refused by SQL Server.
    world = installed_and_configured()
    plain = fails(world, N1, "secret_server_get", delegated=False, **SSO, **CREDSSP)
    assert "Login failed for user 'NT AUTHORITY\\ANONYMOUS LOGON'." in plain.message
    assert plain.message.startswith("ISSOConfigDB.GetDBInfo failed with 0xC0002A21: ")
    assert op(world, N1, "secret_server_get", **SSO, **CREDSSP)["exists"] is True
    # The client check opens no SQL connection of its own: it needs no delegation.
    assert op(world, N1, "sso_client_check", delegated=False, **SSO)["ok"] is True


def test_finding_6_secret_server_set_reads_and_updates_without_network_credentials_of_its_own() -> None:
    world, _ = backed_up()
    refused = fails(world, N1, "secret_server_set", delegated=False, SecretServer=CAP, **SSO, **CREDSSP)
    assert "ANONYMOUS LOGON" in refused.message
    assert op(world, N1, "secret_server_get", **SSO, **CREDSSP)["secretServer"] == N1


def test_finding_8_the_client_check_writes_no_backup() -> None:
    world, _ = clustered()
    node = world.node(N1)
    assert node is not None
    files, logged = dict(node.files), list(events(world, N1))
    assert op(world, N1, "sso_client_check", **SSO)["ok"] is True
    assert node.files == files  # no backup file, not even for a moment that a kill -9 could freeze
    assert events(world, N1) == logged  # and no 10559 "The master secrets were successfully backed up."


def test_finding_8_the_client_check_tells_why_it_cannot_get_the_secret() -> None:
    world, _ = clustered()
    stopped = op(world, N2, "sso_client_check", **SSO)
    assert stopped == {"computerName": N2, "ok": False, "secretServer": "", "error": f"ENTSSO is not running on {N2}."}
    # A locally started ENTSSO answers as the node, never as the network name (F-SSO-19, F-SSO-21).
    op(world, N2, "sso_service_set", State="Running", StartupType="Manual")
    local = op(world, N2, "sso_client_check", **SSO)
    assert local["ok"] is False and local["secretServer"] == ""
    assert local["error"].startswith(f"ENTSSO on {N2} answers as '{N2}' and has not logged 10534")


def test_finding_9_updatedb_needs_a_running_sso_service() -> None:
    # implements F-SSO-13 (C-11): with ENTSSO stopped, ssomanage finds no SSO server and nothing changes.
    world, _ = backed_up()
    op(world, N1, "sso_service_set", State="Stopped", StartupType="Manual")
    refused = fails(world, N1, "secret_server_set", SecretServer=CAP, **SSO, **CREDSSP)
    assert refused.message.startswith("ssomanage -updatedb works through the running SSO service (F-SSO-13)")
    text = (
        "Set-Content -LiteralPath C:\\Windows\\Temp\\u.xml -Value '<sso><globalInfo><secretServer>X</secretServer>"
        "</globalInfo></sso>'\n& 'C:\\Program Files\\Common Files\\Enterprise Single Sign-On\\ssomanage.exe' -updatedb "
        "C:\\Windows\\Temp\\u.xml 2>&1 | ForEach-Object { [string]$_ }"
    )
    assert ps(world, N1, text) == [
        f"Using SSO server : {N1}",
        f"ERROR: 0xC0002A0F : Could not contact the SSO server '{N1}'. Check that SSO is configured and that the SSO "
        "service is running on that server. (RPC: 0x800706D9: There are no more endpoints available from the "
        "endpoint mapper.)",
    ]
    assert op(world, N1, "secret_server_get", **SSO, **CREDSSP)["secretServer"] == N1


def test_finding_10_configuration_exe_reports_its_exit_code_and_its_log() -> None:
    # implements F-SSO-28 (exit codes other than 0 assumed; L-02): a failed /S names the tool, its exit code
    # and the error lines of its /L log, and leaves no answer file behind.
    world = new_world()
    op(world, N1, "sso_install", InstallerPath=MEDIA)
    failed = fails(world, N1, "sso_configure", Mode="Join", **CONFIGURE)
    assert failed.message.startswith("Configuration.exe exited with 1. [")
    assert "Error ERROR: 0xC0002A51" in failed.message
    node = world.node(N1)
    assert node is not None
    assert not [p for p in node.files if "entssoconfig-" in p]
    # The BizTalk copy is the one used: BTSINSTALLPATH names it (public code, SKA/BSD).
    assert node.file(r"C:\Program Files (x86)\Microsoft BizTalk Server\Configuration.exe") is not None


def test_finding_11_host_integration_server_installs_with_msiexec_and_configures_with_its_wizard() -> None:
    # implements F-SSO-27: msiexec /i <package> /quiet, then ConfigurationWizard.exe /APPLY (format assumed).
    world = new_world()
    media = r"C:\Install\HIS 2020\HIS2020_Server_EN.msi"  # a path with a space: quoted for msiexec
    for node in (N1, N2):
        found = world.node(node)
        assert found is not None
        found.files[path_key(media)] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 simulated Host Integration Server package"
    installed = op(world, N1, "sso_install", InstallerPath=media, Product="HIS")
    assert installed["installed"] is True
    assert installed["actions"] == ["msiexec /i HIS2020_Server_EN.msi /quiet"]
    configured = op(world, N1, "sso_configure", Product="HIS", BackupReminder="r", **CREATE, **CONFIGURE)
    assert configured["configured"] is True and configured["actions"][-1] == "ConfigurationWizard.exe /APPLY (Create)"
    # HIS's ESSO-only feature names are not documented: naming features is refused as Windows Installer refuses
    # a feature it does not know (1603, assumed).
    refused = fails(world, N2, "sso_install", InstallerPath=media, Product="HIS", Features=["SSOServer"])
    assert refused.message.startswith("Setup exited with 1603; see C:\\Windows\\Temp\\entsso-setup-")
    removed = op(world, N1, "sso_unconfigure", Product="HIS", **CREDSSP)
    assert (removed["configured"], removed["actions"]) == (False, ["ConfigurationWizard.exe /u"])


def test_finding_11_biztalk_switches_sent_to_the_his_package_are_refused_by_msiexec() -> None:
    # What the old sso_install did for HIS: Start-Process on the .msi (its association: msiexec /i "%1" %*)
    # with BizTalk's /ADDLOCAL, which msiexec does not know (1639 ERROR_INVALID_COMMAND_LINE).
    world = new_world()
    media = r"C:\Install\HIS\HIS2020_Server_EN.msi"
    found = world.node(N1)
    assert found is not None
    found.files[path_key(media)] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 simulated Host Integration Server package"
    text = (
        f"(Start-Process -FilePath '{media}' -ArgumentList @('/quiet', '/norestart', '/l', 'C:\\Windows\\Temp\\s.log', "
        "'/ADDLOCAL', 'SSOServer,SSOAdmin') -Wait -PassThru).ExitCode"
    )
    assert ps(world, N1, text) == [1639]


def test_finding_21_the_backup_folder_is_private_and_read_back_through_the_machine() -> None:
    # implements F-FS-01: SYSTEM, Administrators and the SSO administrators' group, protected from inheritance.
    # A folder nothing made before (sso_configure makes the wizard's own folder private the same way).
    world = installed_and_configured()
    folder = "C:\\ProgramData\\EntssoBackups"
    backup = op(
        world,
        N1,
        "secret_backup",
        BackupFile=folder + "\\SSO478AD.bak",
        BackupPassword=BACKUP_PASSWORD,
        BackupReminder="hint",
        AdminGroup=ADMINS,
    )
    assert backup["actions"] == [
        f"New-Item {folder}",
        f"Set-Acl {folder} (SYSTEM, Administrators, CORP\\SSO Administrators)",
        "ISSOConfigSS.BackupSecret",
    ]
    acl = ps(
        world,
        N1,
        f"$acl = Get-Acl -LiteralPath '{folder}'\n$acl.AreAccessRulesProtected\n"
        "$acl.Access | ForEach-Object { '{0}|{1}|{2}|{3}' -f $_.IdentityReference, $_.FileSystemRights, "
        "$_.AccessControlType, $_.InheritanceFlags }",
    )
    assert acl == [
        True,
        "NT AUTHORITY\\SYSTEM|FullControl|Allow|ContainerInherit, ObjectInherit",
        "BUILTIN\\Administrators|FullControl|Allow|ContainerInherit, ObjectInherit",
        "CORP\\SSO Administrators|FullControl|Allow|ContainerInherit, ObjectInherit",
    ]
    again = op(
        world,
        N1,
        "secret_backup",
        BackupFile=folder + "\\SSO478AD.bak",
        BackupPassword=BACKUP_PASSWORD,
        BackupReminder="hint",
        AdminGroup=ADMINS,
    )
    assert again["actions"] == ["ISSOConfigSS.BackupSecret"]  # the ACL is right: read, tested, not set again


def test_create_makes_the_wizard_s_backup_folder_private_before_the_wizard_runs() -> None:
    # The wizard writes the new secret's backup and refuses a folder that does not exist (ENTSSO_E_FILE_OPEN_FAILED,
    # F-SSO-29): sso_configure makes it first, private as the backup's own (implements F-FS-01).
    world = new_world()
    op(world, N1, "sso_install", InstallerPath=MEDIA)
    folder = "C:\\ProgramData\\EntssoCluster"
    assert ps(world, N1, f"Test-Path -LiteralPath '{folder}'") == [False]
    configured = op(world, N1, "sso_configure", BackupReminder="r", **CREATE, **CONFIGURE)
    assert configured["actions"] == [
        f"New-Item {folder}",
        f"Set-Acl {folder} (SYSTEM, Administrators, CORP\\SSO Administrators)",
        "Configuration.exe /s (Create)",
    ]
    assert ps(world, N1, f"(Get-Acl -LiteralPath '{folder}').AreAccessRulesProtected") == [True]
    assert ps(world, N1, f"Test-Path -LiteralPath '{CREATE['BackupFile']}'") == [True]


def test_finding_21_a_backup_is_never_put_straight_into_a_shared_folder() -> None:
    world = installed_and_configured()
    failed = fails(
        world,
        N1,
        "secret_backup",
        BackupFile=r"C:\ProgramData\sso.bak",
        BackupPassword=BACKUP_PASSWORD,
        BackupReminder="h",
        AdminGroup=ADMINS,
    )
    assert failed.message.startswith("The backup file must be in a folder of its own, not in 'C:\\ProgramData'")


# ------------------------------------------------------------------------------------------ services, events


def test_service_cmdlets_and_win32_service_agree() -> None:
    world = installed_and_configured()
    text = (
        "$s = Get-Service -Name ENTSSO\n"
        "'{0}|{1}|{2}' -f $s.Name, $s.Status, $s.StartType\n"
        "$w = Get-CimInstance -ClassName Win32_Service -Filter \"Name='ENTSSO' AND State = 'Running'\"\n"
        "'{0}|{1}|{2}|{3}' -f $w.State, $w.StartMode, $w.StartName, ($w.ProcessId -gt 0)\n"
        "(Get-Process -Id $w.ProcessId).ProcessName\n"
        "Stop-Service -Name ENTSSO\n"
        "[string](Get-Service ENTSSO).Status\n"
        "@(Get-CimInstance Win32_Service -Filter \"Name='ENTSSO' AND State='Running'\").Count\n"
        "Restart-Service -Name ENTSSO -PassThru | ForEach-Object { [string]$_.Status }"
    )
    assert ps(world, N1, text) == [
        "ENTSSO|Running|Automatic",
        f"Running|Auto|{SERVICE}|True",
        "ENTSSO",
        "Stopped",
        0,
        "Running",
    ]


def test_set_service_binds_5_1_s_startup_types() -> None:
    world = installed_and_configured()
    result = run_script(
        world,
        N1,
        "Set-Service -Name ENTSSO -StartupType AutomaticDelayedStart",
        Session(N1, INSTALL, "ntlm", True, False),
    )
    assert result.errors[0].message.startswith(
        "Cannot bind parameter 'StartupType'. Cannot convert value \"AutomaticDelayedStart\" to type "
        '"System.ServiceProcess.ServiceStartMode".'
    )


def test_get_winevent_reads_entsso_s_events_newest_first_and_reports_no_match() -> None:
    world = installed_and_configured()
    text = (
        "$e = Get-WinEvent -FilterHashtable @{ LogName = 'Application'; ProviderName = 'ENTSSO'; Id = 10534, 10559 } "
        "-MaxEvents 1\n'{0}|{1}|{2}' -f $e.Id, $e.LevelDisplayName, $e.Message\n"
        "Get-WinEvent -FilterHashtable @{ LogName = 'Application'; Id = 4242 } -ErrorAction SilentlyContinue\n"
        "try { Get-WinEvent -FilterHashtable @{ LogName = 'Application'; Id = 4242 } -ErrorAction Stop } "
        "catch { $_.FullyQualifiedErrorId; $_.Exception.Message }"
    )
    assert ps(world, N1, text) == [
        "10534|Information|This computer is the master secret server.",
        "NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand",
        "No events were found that match the specified selection criteria.",
    ]


def test_an_unknown_cim_class_is_refused_with_wmi_s_words() -> None:
    world = new_world()
    text = "try { Get-CimInstance -ClassName Win32_Nothing } catch { $_.FullyQualifiedErrorId; $_.Exception.Message }"
    assert ps(world, N1, text) == [
        "HRESULT 0x80041010,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand",
        "Invalid class ",
    ]


# ------------------------------------------------------------------------------------------ mutation canaries


def mutated(name: str, old: str, new: str) -> str:
    from tests.world_support import SCRIPTS

    text = (SCRIPTS / f"{name}.ps1").read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


@contextlib.contextmanager
def script_replaced(name: str, text: str) -> Iterator[None]:
    """The operation runs `text` instead of its script (world_support reads providers/scripts/<name>.ps1)."""
    from tests import world_support

    original = world_support.SCRIPTS
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        for script in original.glob("*.ps1"):
            (Path(folder) / script.name).write_text(script.read_text(encoding="utf-8"), encoding="utf-8")
        (Path(folder) / f"{name}.ps1").write_text(text, encoding="utf-8")
        world_support.SCRIPTS = Path(folder)
        try:
            yield
        finally:
            world_support.SCRIPTS = original


def test_canary_a_misspelled_win32_service_property_fails_under_strict_mode() -> None:
    world = installed_and_configured()
    text = mutated("sso_service_set", "if ($service.StartMode -ne", "if ($service.StartupMode -ne")
    with script_replaced("sso_service_set", text):
        failed = fails(world, N1, "sso_service_set", State="Running", StartupType="Manual")
    assert (failed.message, failed.error_id) == (
        "The property 'StartupMode' cannot be found on this object. Verify that the property exists.",
        "PropertyNotFoundStrict",
    )


def test_canary_a_parameter_set_service_does_not_have_fails_with_the_binding_error() -> None:
    world = installed_and_configured()
    text = mutated(
        "sso_service_set", "Set-Service -Name 'ENTSSO' -StartupType", "Set-Service -Name 'ENTSSO' -StartType"
    )
    with script_replaced("sso_service_set", text):
        failed = fails(world, N1, "sso_service_set", State="Running", StartupType="Manual")
    assert (failed.message, failed.error_id, failed.category) == (
        "A parameter cannot be found that matches parameter name 'StartType'.",
        "NamedParameterNotFound,Microsoft.PowerShell.Commands.SetServiceCommand",
        "InvalidArgument",
    )


def test_canary_reading_an_absent_registry_value_fails_as_the_old_secret_get_did() -> None:
    world = installed_and_configured()
    text = "[CmdletBinding()]\nparam()\n$ErrorActionPreference = 'Stop'\nSet-StrictMode -Version Latest\n" + (
        "$root = 'HKLM:\\SOFTWARE\\Microsoft\\ENTSSO\\SSOSS'\n"
        "$current = [string](Get-ItemProperty -LiteralPath $root).CurrentMSID\n"
        "[string](Get-ItemProperty -LiteralPath (Join-Path $root $current)).PreviousMSID\n"
    )
    with script_replaced("secret_get", text):
        failed = fails(world, N1, "secret_get")
    assert (failed.message, failed.error_id, failed.line) == (
        "The property 'PreviousMSID' cannot be found on this object. Verify that the property exists.",
        "PropertyNotFoundStrict",
        7,
    )


def test_canary_a_misspelled_com_member_fails_as_reflection_does() -> None:
    world = installed_and_configured()
    text = mutated("secret_backup", "-Member 'BackupSecret'", "-Member 'BackupSecrets'")
    with script_replaced("secret_backup", text):
        failed = fails(
            world, N1, "secret_backup", BackupFile=BACKUP, BackupPassword=BACKUP_PASSWORD, BackupReminder="h"
        )
    assert failed.message == (
        "ISSOConfigSS.BackupSecrets failed with 0x80131513: Method "
        "'Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM.BackupSecrets' not found."
    )


# ------------------------------------------------------------------------------------------ providers


class WorldRemote:
    """A provider's shell on a node, running each operation through the interpreter on the world (no WinRM)."""

    def __init__(self, world: World, node: str) -> None:
        self.world, self.node = world, node

    def call(self, operation: str, **parameters: Any) -> dict[str, Any]:
        present = {k: v for k, v in parameters.items() if v is not None}
        CALLS.append((self.node, operation))
        try:
            return op(self.world, self.node, operation, **present)
        except ScriptFailed as failed:
            raise RemoteOperationError(
                self.node, operation, 1, failed.message, "script", error_id=failed.error_id, line=failed.line
            ) from None


CALLS: list[tuple[str, str]] = []


def on_world(provider: Any, world: World) -> Any:
    @contextlib.contextmanager
    def node(target: dict[str, Any], _label: str) -> Iterator[WorldRemote]:
        yield WorldRemote(world, str(target["name"]))

    provider.node = node
    provider.delegation = lambda: dict(CREDSSP)
    return provider


def targets() -> list[dict[str, Any]]:
    return [{"name": name, "endpoint": f"http://{name}:5985/wsman", "thumbprint": None} for name in (N1, N2)]


def test_finding_9_secret_server_name_starts_entsso_for_updatedb_then_hands_it_to_the_cluster() -> None:
    from providers.secret_server_name import SecretServerNameProvider

    world, _ = backed_up()
    op(world, N1, "sso_service_set", State="Stopped", StartupType="Manual")  # as an earlier run may leave it
    CALLS.clear()
    provider = on_world(SecretServerNameProvider(), world)
    props = {"nodes": targets(), "master": N1, "secret_server": CAP, "sql_server": "SQL01", "database": "SSODB"}
    created = provider.create(props)
    assert created.outs["previous_secret_server"] == N1
    assert op(world, N1, "secret_server_get", **SSO, **CREDSSP)["secretServer"] == CAP
    assert [c for c in CALLS if c[1] != "secret_server_get"] == [
        (N1, "sso_get"),  # ENTSSO stopped on the master,
        (N2, "sso_get"),  # and not run by a cluster elsewhere:
        (N1, "sso_service_set"),  # Running, since ssomanage needs the SSO service (F-SSO-13)
        (N1, "secret_server_set"),
        (N1, "sso_service_set"),  # then Stopped/Manual on every node (step 9)
        (N2, "sso_service_set"),
    ]
    for node in (N1, N2):
        assert op(world, node, "sso_get")["service"]["state"] == "Stopped"
    provider.delete(created.id, created.outs)  # back to the original master, with ENTSSO running locally again
    assert op(world, N1, "secret_server_get", **SSO, **CREDSSP)["secretServer"] == N1


def test_finding_7_secret_backup_falls_back_to_the_role_s_owner_on_entsso_s_hresult() -> None:
    from providers.secret_backup import SecretBackupProvider

    world, backup = clustered()
    op(world, N1, "role_move", Name=CAP, Node=N2)
    restore_on(world, N2, backup)  # step 26 on node 2: the role's owner now serves the secret
    provider = on_world(SecretBackupProvider(), world)
    props = {
        "node": targets()[0],
        "nodes": targets(),
        "backup_file": BACKUP,
        "password": BACKUP_PASSWORD,
        "reminder": "hint",
        "admin_group": ADMINS,
    }
    CALLS.clear()
    created = provider.create(props)  # node 1 runs no SSO service: 0xC0002A0F sends it to the owner
    assert created.outs["secret_id"] == backup["secretId"]
    # refused on node 1, SecretBackup asks each node how ENTSSO runs (node 1's is the cluster's: Manual) and
    # backs up on the owner, node 2
    assert CALLS[:4] == [(N1, "secret_backup"), (N1, "sso_get"), (N2, "sso_get"), (N2, "secret_backup")]
    node1, node2 = world.node(N1), world.node(N2)
    assert node1 is not None and node2 is not None
    assert node1.file(BACKUP) is not None  # kept on the resource's node
    assert node2.file(BACKUP) is None  # and the owner's copy removed


def test_finding_11_the_sso_server_provider_installs_his_with_msiexec() -> None:
    from providers.sso_install import SsoInstallProvider
    from providers.sso_server import SsoServerProvider

    world = new_world()
    media = r"C:\Install\HIS\HIS2020_Server_EN.msi"
    node = world.node(N1)
    assert node is not None
    node.files[path_key(media)] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 simulated Host Integration Server package"
    installed = on_world(SsoInstallProvider(), world).create({"node": targets()[0], "installer": media, "product": "his"})
    assert installed.outs["installed"] is True  # steps 1 and 6 are SsoInstall's (issue 15)
    provider = on_world(SsoServerProvider(), world)
    props = {
        "node": targets()[0],
        "role": "master",
        "product": "his",
        "sql_server": "SQL01",
        "database": "SSODB",
        "service_account": SERVICE,
        "service_password": SERVICE_PASSWORD,
        "admin_group": ADMINS,
        "affiliate_admin_group": "CORP\\SSO Affiliate Administrators",
        "backup_file": r"C:\ProgramData\EntssoCluster\wizard.bak",
        "backup_password": BACKUP_PASSWORD,
        "backup_reminder": "r",
        "delegation": "CredSSP",
    }
    created = provider.create(props)
    assert created.outs["configured"] is True
    assert node.file(r"C:\Program Files\Microsoft Host Integration Server\ConfigurationWizard.exe") is not None


def test_secret_restore_provider_restores_on_the_second_node_and_fails_back() -> None:
    import base64

    from providers.secret_restore import SecretRestoreProvider

    world, backup = clustered()
    provider = on_world(SecretRestoreProvider(), world)
    props = {
        "nodes": targets(),
        "network_name": CAP,
        "backup_content": backup["contentBase64"],
        "backup_sha256": backup["sha256"],
        "password": BACKUP_PASSWORD,
        "restore_node": N2,
        "fail_back_to": N1,
        "admin_group": ADMINS,
    }
    assert base64.b64decode(backup["contentBase64"])
    created = provider.create(props)
    assert created.outs["restored_on"] == [N1, N2] and created.outs["owner_node"] == N1
    assert created.outs["secret_id"] == backup["secretId"]
    assert op(world, N2, "secret_get")["secretId"] == backup["secretId"]
    assert op(world, N1, "sso_client_check", **SSO)["ok"] is True
    CALLS.clear()
    provider.update(created.id, created.outs, props)  # converged: secret_get ×2, role_get, sso_get, the check
    assert [c[1] for c in CALLS] == ["secret_get", "secret_get", "role_get", "sso_get", "sso_client_check"]


def test_unconfigure_leaves_ssodb_and_needs_delegated_credentials() -> None:
    # implements F-SSO-30 for /U (inferred): the server leaves SSODB over the caller's own SQL connection.
    world = installed_and_configured()
    refused = fails(world, N2, "sso_unconfigure", delegated=False, **CREDSSP)
    assert refused.message.startswith("Configuration.exe /u exited with 1; see C:\\Windows\\Temp\\entsso-unconfigure-")
    done = op(world, N2, "sso_unconfigure", **CREDSSP)
    assert (done["configured"], done["service"]["state"], done["actions"]) == (
        False,
        "Stopped",
        ["Configuration.exe /u"],
    )
    assert world.sql.databases[key("SSODB")].servers == [N1]
    assert op(world, N2, "sso_unconfigure", **CREDSSP)["actions"] == []
    rejoined = op(world, N2, "sso_configure", Mode="Join", **CONFIGURE)
    assert rejoined["configured"] is True


def test_secret_server_name_repairs_the_name_through_the_clustered_entsso_and_leaves_the_services() -> None:
    # Drift "point SSODB's secret server elsewhere" once the role exists: -updatedb runs where the cluster runs
    # ENTSSO (the role's owner); no local ENTSSO is started (F-SSO-21) and the clustered one is not stopped.
    from providers.secret_server_name import SecretServerNameProvider

    world, backup = clustered()
    op(world, N1, "role_move", Name=CAP, Node=N2)
    restore_on(world, N2, backup)
    op(world, N2, "secret_server_set", SecretServer=N1, **SSO, **CREDSSP)  # the change made behind our back
    CALLS.clear()
    provider = on_world(SecretServerNameProvider(), world)
    props = {"nodes": targets(), "master": N1, "secret_server": CAP, "sql_server": "SQL01", "database": "SSODB"}
    provider.update("SQL01/SSODB/secretServer", {**props, "previous_secret_server": N1}, props)
    assert op(world, N1, "secret_server_get", **SSO, **CREDSSP)["secretServer"] == CAP
    assert (N2, "secret_server_set") in CALLS and not [c for c in CALLS if c[1] == "sso_service_set"]
    assert [op(world, node, "sso_get")["service"]["state"] for node in (N1, N2)] == ["Stopped", "Running"]
