"""SsoServer (steps 2-4 on the master, 7-8 on a member) against the simulated nodes, through real WinRM.

The binaries come from SsoInstall (steps 1 and 6, tests/test_provider_installs.py); here they are installed in
the world first, and no cluster is needed (F-SSO-33)."""

from __future__ import annotations

import logging
from typing import Any

import pulumi.dynamic
import pytest
from providers_support import (  # noqa: F401
    CONFIG,
    N1,
    N2,
    backup_file,
    bring_world_to,
    configured,
    record_calls,
    sim,
    targets,
    without_backoff,
    world_op,
)
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pulumi.output import Unknown

from ops import simstack
from providers.runner import RemoteOperationError
from providers.sso_server import SsoServer, SsoServerProvider
from simulator.world import Fault, FaultPlan, mastersecret
from simulator.world.model import SQL_KEY, key

SQL = {"SqlServer": CONFIG.sql.server, "Database": CONFIG.sql.database}
SECRETS = tuple(CONFIG.secret(name) for name in ("serviceAccountPassword", "backupPassword", "installPassword"))

UNKNOWN: Any = Unknown()  # type: ignore[no-untyped-call]  # a preview's unknown value


def props(stack: simstack.SimulatedStack, role: str = "master", **changes: Any) -> dict[str, Any]:
    node = N1 if role == "master" else N2
    return {
        "node": next(target for target in targets(stack) if target["name"] == node),
        "role": role,
        "product": "biztalk",
        "sql_server": CONFIG.sql.server,
        "database": CONFIG.sql.database,
        "service_account": CONFIG.domain.service_account,
        "service_password": CONFIG.secret("serviceAccountPassword"),
        "admin_group": CONFIG.domain.sso_admin_group,
        "affiliate_admin_group": CONFIG.domain.sso_affiliate_admin_group,
        "backup_file": backup_file(),
        "backup_password": CONFIG.secret("backupPassword"),
        "backup_reminder": CONFIG.sso.backup_reminder,
        "delegation": "ScheduledTask",
        "unconfigure_on_delete": False,
        **changes,
    }


def provider(config: Any = CONFIG) -> SsoServerProvider:
    """A configured provider whose transient-fault retries do not wait (the tests stop nodes on purpose)."""
    return without_backoff(configured(SsoServerProvider, config))


def outs(result: CreateResult | UpdateResult | ReadResult) -> dict[str, Any]:
    assert result.outs is not None
    return result.outs


@pytest.fixture
def ran(sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The (node, operation) of every operation the world runs, in order."""
    return record_calls(sim, monkeypatch)


def sso(stack: simstack.SimulatedStack, node: str) -> dict[str, Any]:
    return world_op(stack, node, "sso_get")


def installed(stack: simstack.SimulatedStack) -> None:
    """What SsoInstall does before SsoServer runs: the binaries on both nodes (no cluster: F-SSO-33)."""
    for node in (N1, N2):
        world_op(stack, node, "sso_install", InstallerPath=CONFIG.sso.installer)


def test_master_then_member_from_scratch(sim: simstack.SimulatedStack, caplog: pytest.LogCaptureFixture) -> None:
    installed(sim)
    assert sim.world.cluster is None  # configuring SSO needs no cluster
    with caplog.at_level(logging.DEBUG):
        master = provider().create(props(sim))
    assert "sso_configure" in caplog.text and not any(secret in caplog.text for secret in SECRETS)
    database = sim.world.sql.databases[key(CONFIG.sql.database)]
    assert database.exists and database.secret_server == N1
    master_node = sim.world.nodes[key(N1)]
    secret = mastersecret.current(master_node)
    assert secret is not None and secret.secret_id == database.secret_id
    assert master_node.file(backup_file()) is not None  # the Create wizard's own backup
    assert sso(sim, N1)["service"]["account"] == CONFIG.domain.service_account
    assert outs(master)["installed"] and outs(master)["configured"] and outs(master)["is_master"]
    assert master.id == f"{N1}/{CONFIG.sql.server}/{CONFIG.sql.database}"

    member = provider().create(props(sim, "member"))
    assert outs(member)["configured"] and outs(member)["is_master"] is False
    assert sorted(database.servers) == [N1, N2]
    assert sim.world.cluster is None
    assert mastersecret.current(sim.world.nodes[key(N2)]) is None  # the secret reaches node 2 at step 26 only
    assert mastersecret.current(master_node) == secret  # joining never touches the master secret


def test_without_the_binaries_configuration_stops_and_installs_nothing(
    sim: simstack.SimulatedStack, ran: list[tuple[str, str]]
) -> None:
    with pytest.raises(RuntimeError, match=f"ENTSSO is not installed on {N1}: SsoInstall"):
        provider().create(props(sim))
    assert ran == [(N1, "sso_get")]


def test_create_again_after_a_failure_half_way_does_only_what_is_missing(
    sim: simstack.SimulatedStack, ran: list[tuple[str, str]]
) -> None:
    installed(sim)
    plan = FaultPlan(faults=[Fault(kind="sql_unavailable", operation="sso_configure")])
    failing = simstack.start(CONFIG, ports="any", world=sim.world, plan=plan)
    try:
        with pytest.raises(RemoteOperationError) as caught:
            provider().create(props(failing))
    finally:
        failing.stop()
    assert caught.value.operation == "sso_configure" and caught.value.kind == "script"
    assert not any(secret in str(caught.value) for secret in SECRETS)
    assert sso(sim, N1)["installed"] is True and sso(sim, N1)["configured"] is False
    ran.clear()
    provider().create(props(sim))
    assert ran == [(N1, "sso_get"), (N1, "sso_configure"), (N1, "sso_get")]
    assert sso(sim, N1)["configured"] is True


def test_a_configured_node_is_only_probed(sim: simstack.SimulatedStack, ran: list[tuple[str, str]]) -> None:
    bring_world_to(sim, "sso")
    ran.clear()
    result = outs(provider().create(props(sim, "member")))
    assert ran == [(N2, "sso_get")] and result["configured"] is True


def test_a_member_before_the_master_fails_with_windows_words(sim: simstack.SimulatedStack) -> None:
    installed(sim)
    with pytest.raises(RemoteOperationError, match="0xC0002A51 : The specified SSO database is not configured"):
        provider().create(props(sim, "member"))


def test_a_node_configured_elsewhere_is_refused_not_reconfigured(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "sso")
    with pytest.raises(RuntimeError, match=f"configured against {CONFIG.sql.server}/SSODB, not SQL02/SSODB2"):
        provider().create(props(sim, "member", sql_server="SQL02", database="SSODB2"))
    with pytest.raises(RuntimeError, match=r"runs as CORP\\svc-entsso, not CORP\\svc-other"):
        provider().create(props(sim, "member", service_account="CORP\\svc-other"))


def test_read_reports_what_changed_behind_its_back(sim: simstack.SimulatedStack) -> None:
    installed(sim)
    prov = provider()
    provider().create(props(sim))
    created = prov.create(props(sim, "member"))
    member = sim.world.nodes[key(N2)]
    member.services[key("ENTSSO")].account = "CORP\\svc-other"
    read = prov.read(created.id, outs(created))
    assert read.id == created.id and outs(read)["service_account"] == "CORP\\svc-other"
    assert prov.diff(created.id, outs(read), props(sim, "member")).replaces == ["service_account"]
    member.registry[key(SQL_KEY)]["Database"] = "SSODB-OLD"
    assert outs(prov.read(created.id, outs(created)))["database"] == "SSODB-OLD"
    world_op(
        sim,
        N2,
        "sso_unconfigure",
        DelegationMode="ScheduledTask",
        TaskUser=CONFIG.domain.install_account,
        TaskPassword=CONFIG.secret("installPassword"),
    )
    assert prov.read(created.id, outs(created)).id == ""


def test_update_reruns_get_test_set_and_returns_every_output(sim: simstack.SimulatedStack) -> None:
    installed(sim)
    prov = provider()
    created = prov.create(props(sim))
    news = props(sim, affiliate_admin_group="CORP\\Other Affiliates", unconfigure_on_delete=True)
    planned = prov.diff(created.id, outs(created), news)
    assert planned.changes is True and planned.replaces == []
    updated = prov.update(created.id, outs(created), news)
    assert outs(updated)["affiliate_admin_group"] == "CORP\\Other Affiliates"
    assert outs(updated)["unconfigure_on_delete"] is True
    assert outs(updated)["installed"] and outs(updated)["configured"] and outs(updated)["is_master"]


def test_diff_is_pure_and_names_replacements(sim: simstack.SimulatedStack) -> None:
    prov = provider()
    olds = {**props(sim), "installed": True, "configured": True, "is_master": True, "__provider": "old"}
    assert prov.diff("id", olds, {**props(sim), "__provider": "new"}).changes is False
    for name, value in [
        ("role", "member"),
        ("sql_server", "SQL02"),
        ("database", "SSODB2"),
        ("service_account", "CORP\\svc-other"),
        ("service_password", "Another-Pa55!"),
    ]:
        planned = prov.diff("id", olds, {**props(sim), name: value})
        assert planned.replaces == [name] and planned.delete_before_replace is True, name
    renamed = {**props(sim)["node"], "name": N2}
    assert prov.diff("id", olds, props(sim, node=renamed)).replaces == ["node"]
    new_endpoint = {**props(sim)["node"], "endpoint": "https://10.10.1.11:5986/wsman"}
    moved = prov.diff("id", olds, props(sim, node=new_endpoint))
    assert moved.changes is True and moved.replaces == []
    assert prov.diff("id", olds, props(sim, admin_group="CORP\\Other Admins")).replaces == []
    assert sim.http_requests() == 0


def test_check_reports_bad_input_and_tolerates_unknowns(sim: simstack.SimulatedStack) -> None:
    prov = provider()
    bad = prov.check({}, {key: value for key, value in props(sim, role="boss").items() if key != "sql_server"})
    assert {f.property for f in bad.failures} >= {"role", "sql_server"}
    weak = prov.check({}, props(sim, backup_password="Short1!"))
    assert "shorter than 8" in " ".join(f.reason for f in weak.failures)
    assert not any("Short1!" in f.reason for f in weak.failures)
    account = prov.check({}, props(sim, service_account="svc-entsso"))
    assert [f.property for f in account.failures] == ["service_account"]
    no_backup = prov.check({}, props(sim, backup_password=None, backup_file=None))
    assert "role master needs backup_file, backup_password" in " ".join(f.reason for f in no_backup.failures)
    assert prov.check({}, props(sim, "member", backup_password=None, backup_file=None)).failures == []
    preview = prov.check({}, props(sim, service_password=UNKNOWN, backup_password=UNKNOWN))
    assert preview.failures == []
    assert not any(secret in f.reason for f in bad.failures + weak.failures for secret in SECRETS)


def test_delete_forgets_by_default_and_unconfigures_when_asked(
    sim: simstack.SimulatedStack, ran: list[tuple[str, str]]
) -> None:
    installed(sim)
    prov = provider()
    master = prov.create(props(sim))
    member = prov.create(props(sim, "member", unconfigure_on_delete=True))
    ran.clear()
    requests = sim.http_requests()
    prov.delete(master.id, outs(master))
    assert ran == [] and sim.http_requests() == requests  # forget: not one request
    assert sim.world.nodes[key(N1)].registry_key(SQL_KEY) is not None  # still configured
    secret = mastersecret.current(sim.world.nodes[key(N1)])
    prov.delete(member.id, outs(member))
    assert ran == [(N2, "sso_unconfigure")]
    assert sso(sim, N2)["configured"] is False
    assert sim.world.sql.databases[key(CONFIG.sql.database)].servers == [N1]
    assert mastersecret.current(sim.world.nodes[key(N1)]) == secret  # no destroy touches the master secret


def test_unreachable_node_on_delete(sim: simstack.SimulatedStack, caplog: pytest.LogCaptureFixture) -> None:
    bring_world_to(sim, "sso")
    outs = {**props(sim, "member", unconfigure_on_delete=True), "installed": True, "configured": True}
    sim.server(N2).stop()
    strict = CONFIG.model_copy(update={"winrm": CONFIG.winrm.model_copy(update={"skip_unreachable_on_delete": False})})
    with caplog.at_level(logging.DEBUG), pytest.raises(RemoteOperationError) as caught:
        provider(strict).delete("id", outs)
    assert caught.value.node == N2 and "check that the node is up" in str(caught.value)
    with caplog.at_level(logging.DEBUG):
        provider().delete("id", outs)
    assert any(f"skipping unreachable node {N2}" in r.getMessage() for r in caplog.records)
    assert not any(secret in caplog.text or secret in str(caught.value) for secret in SECRETS)


def test_the_resource_seeds_outputs_and_keeps_the_passwords_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def register(self: Any, provider: Any, name: str, props: dict[str, Any], opts: Any) -> None:
        seen.update(provider=provider, props=props, opts=opts)

    monkeypatch.setattr(pulumi.dynamic.Resource, "__init__", register)
    arguments = {name: value for name, value in props_without_stack().items()}
    SsoServer("s", **arguments)
    assert isinstance(seen["provider"], SsoServerProvider)
    assert all(seen["props"][name] is None for name in ("installed", "configured", "is_master"))
    assert seen["opts"].additional_secret_outputs == ["service_password", "backup_password"]


def props_without_stack() -> dict[str, Any]:
    node = {"name": N1, "endpoint": "http://127.0.0.1:1/wsman", "thumbprint": None}
    return {
        "node": node,
        "role": "master",
        "product": "biztalk",
        "sql_server": CONFIG.sql.server,
        "database": CONFIG.sql.database,
        "service_account": CONFIG.domain.service_account,
        "service_password": "x",
        "admin_group": CONFIG.domain.sso_admin_group,
        "affiliate_admin_group": CONFIG.domain.sso_affiliate_admin_group,
    }
