"""The self-contained lab's in-guest scripts, run against bare simulated machines (issue 14, Deliver item 6).

Every Run Command of `Pulumi.lab.yaml` runs here as Azure would run it (tests/lab_world_support.py: the real
components under Pulumi's mocks give the scripts, parameters, protected parameters and run-as account), in the lab's
order, on bare machines (simulator/world/bare.py), through the interpreter. The world they leave must be the one
`seed_world` builds for a stack whose directory, SQL Server and media already exist: the sim stack's starting point.
Re-running every script changes nothing and says so; Windows' refusals come with Windows' words.
enable_winrm_https.ps1 is not run: it needs the Cert: and WSMan: drives, which the world does not model.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lab_world_support import MEDIA, LabProgram, LabRun, RunCommandFailed, b64, lab_program, seeded
from test_components_azure import Built, build  # noqa: F401 - `build` is the shared fixture

from components import lab_plan
from simulator.world import store
from simulator.world.machine import run_script
from simulator.world.model import key
from simulator.world.surface.sqlserver import is_sysadmin
from simulator.wsman.backend import Session


@pytest.fixture
def program(build: Callable[..., Built]) -> LabProgram:
    return lab_program(build)


@pytest.fixture
def lab(program: LabProgram) -> LabRun:
    run = LabRun(program)
    run.build()
    return run


def sam(account: str) -> str:
    return key(account.split("\\", 1)[-1])


# ---------------------------------------------------------------------------------------------
# From bare machines to the sim world's starting point


def test_the_scripts_turn_bare_machines_into_the_world_the_procedure_starts_from(lab: LabRun) -> None:
    config = lab.program.config
    built, expected = lab.world, seeded(lab.program)
    domain, want = built.domain, expected.domain
    assert (domain.fqdn, domain.netbios) == (want.fqdn, want.netbios)
    assert domain.online and domain.dc == config.directory.domain_controller.name
    # the accounts the procedure uses, with the passwords of their stack secrets (the same NT hash), enabled
    for name, user in want.users.items():
        assert name in domain.users, name
        made = domain.users[name]
        assert (made.name, made.enabled, made.nt_hash) == (user.name, user.enabled, user.nt_hash), name
    # the SSO groups and their members
    for name, group in want.groups.items():
        assert name in domain.groups, name
        assert sorted(key(m) for m in domain.groups[name].members) == sorted(key(m) for m in group.members), name
    install = config.domain.install_account
    # the install account may create the cluster's computer objects (here through the OU's access rules)
    assert want.may_create_computers(install) and domain.may_create_computers(install)
    # SQL Server: the same server name, reachable, the install account a sysadmin
    assert built.sql.name == expected.sql.name and built.sql.available
    assert is_sysadmin(expected, expected.sql, install) and is_sysadmin(built, built.sql, install)
    assert built.sql.tcp_enabled and key(built.sql.service_account) == key(config.directory.sql_service_account)
    # the nodes: domain members at their addresses, the install account a local administrator, the media in place
    assert built.cluster is None and expected.cluster is None and built.disks == expected.disks == []
    for name, node in expected.nodes.items():
        made = built.nodes[name]
        assert (made.ip, made.prefix_length, made.gateway) == (node.ip, node.prefix_length, node.gateway)
        assert made.domain_role == node.domain_role == 3
        assert domain.in_any(install, made.administrators) and want.in_any(install, node.administrators)
        assert made.file(config.sso.installer) == node.file(config.sso.installer), name
        assert name in domain.computers and domain.computers[name].kind == "computer"
        for service in ("MSDTC", "WinRM"):
            assert (made.services[key(service)].state, made.services[key(service)].start_mode) == (
                node.services[key(service)].state,
                node.services[key(service)].start_mode,
            )
        # no access right or service beyond what the procedure needs: the procedure installs the features itself
        assert made.features == node.features == []


def test_the_cluster_name_object_is_prestaged_disabled_in_the_ou_with_full_control_for_the_install_account(
    lab: LabRun,
) -> None:
    config = lab.program.config
    domain = lab.world.domain
    cno = domain.computers[key(config.cluster.name)]
    ou = config.azure.domain_join_ou
    assert not cno.enabled and cno.dn.upper() == f"CN={config.cluster.name},{ou}".upper()
    install_sid = domain.users[sam(config.domain.install_account)].sid
    rules = domain.acls[key(cno.dn)]
    assert any(r.sid == install_sid and r.rights == 983551 and r.allow for r in rules)  # GenericAll
    creators = {str(domain.principal_of_sid(r.sid)).lower() for r in domain.acls[key(ou)] if r.rights & 1}
    assert creators == {
        sam(config.domain.install_account).lower(),
        sam(config.azure.domain_join_account).lower(),
        config.cluster.name.lower() + "$",
    }
    for node in config.nodes:
        assert domain.computers[key(node.name)].dn.upper() == f"CN={node.name},{ou}".upper()


def test_the_service_accounts_and_spns_are_in_place(lab: LabRun) -> None:
    config = lab.program.config
    domain = lab.world.domain
    sql_account = domain.users[sam(config.directory.sql_service_account)]
    host = f"{config.directory.sql_server.name}.{config.domain.fqdn}"
    assert sql_account.spns == [f"MSSQLSvc/{host}:1433", f"MSSQLSvc/{host}"]
    assert (
        lab.world.nodes[key(config.directory.sql_server.name)].services[key("MSSQLSERVER")].account
        == config.directory.sql_service_account
    )
    join = domain.users[sam(config.azure.domain_join_account)]
    assert join.enabled and join.has_password(config.secret("domainJoinPassword"))
    sql = lab.world.nodes[key(config.directory.sql_server.name)]
    assert {r.name for r in sql.firewall_rules.values() if r.enabled and r.group} == {
        "MSDTC-In-TCP",
        "MSDTC-Out-TCP",
        "MSDTC-RPCSS-In-TCP",
        "MSDTC-KTMRMTM-In-TCP",
    }
    assert sql.firewall_rules[key("entsso-SQL-In")].remote_addresses == [str(config.network.node_subnet_cidr)]
    assert sql.dtc_settings["InboundTransactionsEnabled"] and sql.dtc_settings["AuthenticationLevel"] == "Mutual"


def test_every_script_run_again_changes_nothing_and_says_so(lab: LabRun) -> None:
    before = store.dumps(lab.world)
    for step in lab.steps():
        if not step.typ.endswith("RunCommandByVirtualMachine"):
            continue  # Azure does not run an unchanged extension or role assignment again
        result = lab.run(step.name)
        if True:
            assert result["ok"] is True and result["changed"] is False, (step.name, result)
            assert (
                "nothing to do" in result["message"] or step.inputs["runCommandName"] == lab_plan.WAIT_FOR_DIRECTORY
            ), (
                step.name,
                result["message"],
            )
    assert store.dumps(lab.world) == before


# ---------------------------------------------------------------------------------------------
# What Windows refuses


def until(run: LabRun, name: str) -> None:
    """Plays the lab up to (not including) the step `name`, without the restarts after the last step."""
    for step in run.steps():
        if step.name == name:
            return
        run.restart_scheduled()
        run.run(step.name)


def test_a_join_before_the_forest_answers_fails_with_1355_as_nltest_and_the_extension_report_it(
    program: LabProgram,
) -> None:
    run = LabRun(program)
    run.run("directory-forest")  # promoted; the restart 60 s later has not happened yet
    dc = run.world.nodes[key(program.config.directory.domain_controller.name)]
    assert dc.restart_scheduled and not run.world.domain.online
    node = program.config.nodes[0].name
    located = run_script(
        run.world,
        node,
        f"& nltest.exe /dsgetdc:{program.config.domain.fqdn} /force; 'exit ' + $LASTEXITCODE",
        Session(node=node, user="NT AUTHORITY\\SYSTEM", auth="local", encrypted=True, delegated=False),
    )
    assert located.stdout.splitlines() == [
        "Getting DC name failed: Status = 1355 0x54b ERROR_NO_SUCH_DOMAIN",
        "exit 1355",
    ]
    with pytest.raises(RunCommandFailed) as refused:
        run.run(f"{lab_plan.node_component(node)}-join")
    assert "The specified domain either does not exist or could not be contacted. (error 1355)" in refused.value.message
    assert run.world.nodes[key(node)].domain_role == 2
    # WaitForDirectory gives up with what was missing when the DC does not restart in time
    wait = program.steps[f"{lab_plan.node_component(node)}-wait-directory"]
    with pytest.raises(RunCommandFailed) as waited:
        run.run_command(wait, {"TimeoutSeconds": "60", "RetrySeconds": "15"})
    assert "did not answer within 60 s (5 attempts)" in waited.value.message
    assert "This operation returned because the timeout period expired" in waited.value.message


def test_create_forest_again_before_the_restart_keeps_the_one_restart_scheduled(program: LabProgram) -> None:
    run = LabRun(program)
    run.run("directory-forest")
    again = run.run("directory-forest")  # shutdown.exe answers 1190: a restart is already scheduled
    assert again["changed"] is False and "waits for its restart" in again["message"]
    run.restart_scheduled()
    done = run.run("directory-forest")
    assert done["changed"] is False and "already a domain controller" in done["message"]


def test_media_whose_sha256_differs_is_refused_and_leaves_no_marker(program: LabProgram) -> None:
    run = LabRun(program)
    until(run, "node-msslab1-media")
    run.world.blobs[run.blob_key] = MEDIA + b"tampered"
    with pytest.raises(RunCommandFailed) as refused:
        run.run("node-msslab1-media")
    assert f"not the {program.config.sso.media.sha256.upper()} in sso.media.sha256" in refused.value.message
    node = run.world.nodes[key(program.config.nodes[0].name)]
    staging = program.config.sso.media.staging_directory
    assert node.file(staging + "\\.entsso-media.json") is None and node.file(program.config.sso.installer) is None
    assert not any(name.startswith(key(staging + ".partial").lower()) for name in node.files)


def test_media_is_forbidden_until_the_role_applies_and_a_missing_blob_fails_at_once(program: LabProgram) -> None:
    run = LabRun(program)
    until(run, "node-msslab1-media-reader")
    media = program.steps["node-msslab1-media"]
    with pytest.raises(RunCommandFailed) as forbidden:
        run.run_command(media, {"TimeoutSeconds": "60"})
    assert "(HTTP 403): The remote server returned an error: (403) Forbidden." in forbidden.value.message
    assert "(gave up after 60 s)" in forbidden.value.message
    run.run("node-msslab1-media-reader")
    del run.world.blobs[run.blob_key]
    run.world.blobs[run.blob_key + ".other"] = b"x"
    with pytest.raises(RunCommandFailed) as missing:
        run.run_command(media, {"TimeoutSeconds": "3600"})
    assert "is not in container entsso-media of storage account entssomedia" in missing.value.message


def test_sql_configure_refuses_a_caller_who_is_not_a_sysadmin(program: LabProgram) -> None:
    run = LabRun(program)
    until(run, "sql-configure")
    sql = run.world.sql
    admin = f"{program.config.directory.sql_server.name}\\{program.config.azure.admin_username}"
    sql.sysadmins = [s for s in sql.sysadmins if key(s) != key(admin)]
    sql.logins.append(admin)  # a login, but not in sysadmin
    with pytest.raises(RunCommandFailed) as refused:
        run.run("sql-configure")
    assert "the account running this script is not a sysadmin on this SQL Server" in refused.value.message
    assert not any(key(login) == key(program.config.domain.install_account) for login in sql.logins)


def test_sql_configure_as_system_cannot_log_on(program: LabProgram) -> None:
    run = LabRun(program)
    until(run, "sql-configure")
    step = program.steps["sql-configure"]
    as_system = type(step)(step.name, step.typ, {k: v for k, v in step.inputs.items() if not k.startswith("runAs")})
    run.world.sql.logins.clear()  # the image's NT AUTHORITY\SYSTEM login gone: SQL Server refuses it
    with pytest.raises(RunCommandFailed) as refused:
        run.run_command(as_system)
    assert "Login failed for user 'NT AUTHORITY\\SYSTEM'." in refused.value.message


def test_a_weak_password_leaves_no_half_made_account_and_the_next_run_creates_it(program: LabProgram) -> None:
    run = LabRun(program)
    until(run, "directory-accounts")
    step = program.steps["directory-accounts"]
    with pytest.raises(RunCommandFailed) as refused:
        run.run_command(step, {"InstallPasswordBase64": b64("short")})
    assert (
        "The password does not meet the length, complexity, or history requirement of the domain."
        in refused.value.message
    )
    install = sam(program.config.domain.install_account)
    assert install not in run.world.domain.users  # New-ADUser left it created and disabled; the script removed it
    result = run.run("directory-accounts")
    user = run.world.domain.users[install]
    assert user.enabled and user.has_password(program.config.secret("installPassword"))
    assert program.config.domain.install_account.split("\\", 1)[1] in result["createdUsers"]


def test_local_administrators_wait_for_the_domain_group_and_then_add_it_once(program: LabProgram) -> None:
    run = LabRun(program)
    until(run, "node-msslab1-administrators")
    node = run.world.nodes[key(program.config.nodes[0].name)]
    run.world.domain.online = False  # the DC restarts right after the join: the group cannot be resolved yet
    with pytest.raises(RunCommandFailed) as refused:
        run.run_command(program.steps["node-msslab1-administrators"], {"TimeoutSeconds": "30"})
    assert f"Principal {program.config.directory.node_admin_group} was not found." in refused.value.message
    run.world.domain.online = True
    assert run.run("node-msslab1-administrators")["changed"] is True
    assert run.run("node-msslab1-administrators")["changed"] is False
    assert [a for a in node.administrators if key(a) == key(program.config.directory.node_admin_group)] == [
        program.config.directory.node_admin_group
    ]


def test_new_cluster_takes_over_the_prestaged_cluster_name_object(lab: LabRun) -> None:
    config = lab.program.config
    for node in config.nodes:
        lab.world.nodes[key(node.name)].features += ["Failover-Clustering", "RSAT-Clustering-PowerShell"]
    first = config.nodes[0].name
    user = config.domain.install_account
    script = (
        f"$c = New-Cluster -Name {config.cluster.name} -Node @('{first}', '{config.nodes[1].name}') -NoStorage; $c.Name"
    )
    created = run_script(
        lab.world, first, script, Session(node=first, user=user, auth="credssp", encrypted=True, delegated=True)
    )
    assert created.terminating is None, created.terminating
    cno = lab.world.domain.computers[key(config.cluster.name)]
    assert lab.world.cluster is not None and cno.enabled and cno.kind == "cno"
