"""SecretServerName (steps 9-13) against the simulated nodes, through real WinRM."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from providers_support import CONFIG, N1, N2, bring_world_to, configured, sim, targets, world_op  # noqa: F401
from pulumi.output import Unknown

from ops import simstack
from providers.runner import RemoteOperationError
from providers.secret_server_name import SecretServerNameProvider
from simulator.world import Fault, FaultPlan
from simulator.world.model import key
from tests.world_support import point_secret_server

CAP = CONFIG.sso.network_name
SQL = {
    "SqlServer": CONFIG.sql.server,
    "Database": CONFIG.sql.database,
    # GetDBInfo opens its own SQL connection as the caller: delegated (F-SSO-09)
    "DelegationMode": "ScheduledTask",
    "TaskUser": CONFIG.domain.install_account,
    "TaskPassword": CONFIG.secret("installPassword"),
}


def props(stack: simstack.SimulatedStack, **changes: Any) -> dict[str, Any]:
    return {
        "nodes": targets(stack),
        "master": N1,
        "secret_server": CAP,
        "sql_server": CONFIG.sql.server,
        "database": CONFIG.sql.database,
        **changes,
    }


def secret_server(stack: simstack.SimulatedStack) -> str:
    return str(world_op(stack, N1, "secret_server_get", **SQL)["secretServer"])


def entsso(stack: simstack.SimulatedStack, node: str) -> tuple[str, str]:
    service = stack.world.nodes[key(node)].services[key("ENTSSO")]
    return service.state, service.start_mode


def test_create_names_the_network_name_then_stops_entsso_everywhere(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "backup")
    assert secret_server(sim) == N1
    result = configured(SecretServerNameProvider).create(props(sim))
    assert secret_server(sim) == CAP
    assert result.outs["previous_secret_server"] == N1
    assert entsso(sim, N1) == ("Stopped", "Manual") and entsso(sim, N2) == ("Stopped", "Manual")


def test_create_after_a_failure_half_way_resumes(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "backup")
    plan = FaultPlan(faults=[Fault(kind="http_500", operation="secret_server_set", times=10)])
    failing = simstack.start(CONFIG, ports="any", world=sim.world, plan=plan)
    try:
        with pytest.raises(RemoteOperationError) as caught:
            configured(SecretServerNameProvider).create(props(failing))
        assert caught.value.operation == "secret_server_set" and caught.value.node == N1
    finally:
        failing.stop()
    # Half way: ENTSSO runs on the master (ssomanage needs it, F-SSO-13) and the name is not changed yet.
    assert entsso(sim, N1)[0] == "Running" and secret_server(sim) == N1
    configured(SecretServerNameProvider).create(props(sim))
    assert secret_server(sim) == CAP


def test_second_create_does_nothing_remote_but_probe(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "secret_server")
    before = sum(s.counters.snapshot().commands_run for s in sim.servers)
    configured(SecretServerNameProvider).create(props(sim))
    assert sum(s.counters.snapshot().commands_run for s in sim.servers) - before == 1  # one secret_server_get


def test_read_shows_a_change_made_behind_its_back(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "backup")
    provider = configured(SecretServerNameProvider)
    created = provider.create(props(sim))
    point_secret_server(sim.host, N1, N2)  # an administrator runs ssomanage -updatedb by hand
    read = provider.read(created.id, created.outs)
    assert read.id == created.id and read.outs["secret_server"] == N2
    assert provider.diff(created.id, read.outs, props(sim)).changes is True


def test_diff_is_pure_and_says_update_or_replace(sim: simstack.SimulatedStack) -> None:
    provider = configured(SecretServerNameProvider)
    olds = {**props(sim), "previous_secret_server": N1, "__provider": "old-blob"}
    same = provider.diff("id", olds, {**props(sim), "__provider": "new-blob"})
    assert same.changes is False and same.replaces == []
    renamed = provider.diff("id", olds, props(sim, secret_server="MSSNEW"))
    assert renamed.changes is True and renamed.replaces == []
    moved_db = provider.diff("id", olds, props(sim, database="SSODB2"))
    assert moved_db.replaces == ["database"] and moved_db.delete_before_replace is True
    assert sim.http_requests() == 0


def test_check_reports_bad_input_and_tolerates_unknowns(sim: simstack.SimulatedStack) -> None:
    provider = configured(SecretServerNameProvider)
    bad = provider.check({}, props(sim, secret_server="MSS_CLUSTER", master="NOSUCHNODE"))
    assert {f.property for f in bad.failures} >= {""} or bad.failures
    reasons = " ".join(f.reason for f in bad.failures)
    assert "MSSCLUSTER" in reasons
    preview = provider.check({}, props(sim, secret_server=Unknown()))
    assert preview.failures == []


def test_delete_points_ssodb_back_at_the_original_master(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "backup")
    provider = configured(SecretServerNameProvider)
    created = provider.create(props(sim))
    provider.delete(created.id, created.outs)
    assert secret_server(sim) == N1


def test_unreachable_master_on_delete(sim: simstack.SimulatedStack, caplog: pytest.LogCaptureFixture) -> None:
    bring_world_to(sim, "backup")
    created = configured(SecretServerNameProvider).create(props(sim))
    sim.server(N1).stop()
    strict = CONFIG.model_copy(
        update={"winrm": CONFIG.winrm.model_copy(update={"skip_unreachable_on_delete": False, "deadline_seconds": 30})}
    )
    with pytest.raises(RemoteOperationError) as caught:
        configured(SecretServerNameProvider, strict).delete(created.id, created.outs)
    assert caught.value.node == N1 and "check that the node is up" in str(caught.value)
    lenient = CONFIG.model_copy(update={"winrm": CONFIG.winrm.model_copy(update={"deadline_seconds": 30})})
    with caplog.at_level(logging.WARNING):
        configured(SecretServerNameProvider, lenient).delete(created.id, created.outs)
    assert any("skipping unreachable node MSSNODE1" in r.getMessage() for r in caplog.records)
    assert CONFIG.secret("installPassword") not in caplog.text
