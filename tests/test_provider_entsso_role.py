"""EntssoRole (step 18) against the simulated nodes, through real WinRM.

The role needs the cluster only: it is made before SSO is configured or the clustered DTC exists, which is
what lets the program run it beside them."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from providers_support import (  # noqa: F401
    CONFIG,
    N1,
    N2,
    bring_world_to,
    configured,
    operations_seen,
    sim,
    targets,
    world_op,
)
from pulumi.output import Unknown

from ops import simstack
from providers.entsso_role import EntssoRoleProvider
from simulator.world.model import key

CAP = CONFIG.sso.network_name
TASK_PASSWORD = CONFIG.secret("installPassword")
UNKNOWN: Any = Unknown()  # type: ignore[no-untyped-call]  # a preview's unknown value


def role_inputs(stack: simstack.SimulatedStack, **changes: Any) -> dict[str, Any]:
    return {
        "nodes": targets(stack),
        "network_name": CAP,
        "ip": str(CONFIG.sso.ip),
        "probe_port": CONFIG.sso.probe_port,
        **changes,
    }


def test_the_role_needs_the_cluster_only_and_is_made_once(
    sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bring_world_to(sim, "cluster")  # no SSO, no DTC
    assert all(node.service("ENTSSO") is None for node in sim.world.nodes.values())
    provider = configured(EntssoRoleProvider)
    with caplog.at_level(logging.DEBUG):
        created = provider.create(role_inputs(sim))
    assert created.id == CAP and (created.outs or {})["preferred_owners"] == [N1, N2]
    cluster = sim.world.cluster
    assert cluster is not None and cluster.group(CAP) is not None
    ip = cluster.resource(f"IP Address {CONFIG.sso.ip}")
    assert ip is not None and ip.state == "Online"
    assert (ip.parameters["ProbePort"], ip.parameters["SubnetMask"]) == (CONFIG.sso.probe_port, "255.255.255.255")
    assert key(CAP) in sim.world.domain.computers  # the role's computer object (delegated role_set)
    assert cluster.resource("ENTSSO") is None  # the Generic Service is EntssoService's
    assert TASK_PASSWORD not in caplog.text

    seen = operations_seen(sim, monkeypatch)
    provider.create(role_inputs(sim))
    assert seen == ["role_get"]


def test_update_changes_probe_port_and_address_in_place(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "cluster")
    provider = configured(EntssoRoleProvider)
    olds = provider.create(role_inputs(sim)).outs or {}
    news = role_inputs(sim, probe_port=59990, ip="10.10.1.55")
    diff = provider.diff(CAP, olds, news)
    assert diff.changes and not diff.replaces
    provider.update(CAP, olds, news)
    role = world_op(sim, N1, "role_get", Name=CAP)
    assert role["ipAddress"]["probePort"] == 59990 and role["ipAddress"]["address"] == "10.10.1.55"
    assert role["state"] == "Online"


def test_read_shows_a_changed_probe_port_and_a_removed_role(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "cluster")
    provider = configured(EntssoRoleProvider)
    created = provider.create(role_inputs(sim))
    cluster = sim.world.cluster
    assert cluster is not None
    with sim.host.lock:  # someone changed the probe port by hand
        cluster.resources[key(f"IP Address {CONFIG.sso.ip}")].parameters["ProbePort"] = 1234
    read = provider.read(CAP, created.outs or {}).outs or {}
    assert read["probe_port"] == 1234
    assert provider.diff(CAP, read, role_inputs(sim)).changes
    world_op(sim, N1, "role_remove", Name=CAP)
    assert provider.read(CAP, created.outs or {}).id is None


def test_diff_delete_and_check(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "cluster")
    provider = configured(EntssoRoleProvider)
    created = provider.create(role_inputs(sim))
    olds = {**(created.outs or {}), "__provider": "old"}
    assert not provider.diff(CAP, olds, {**role_inputs(sim), "__provider": "new"}).changes
    renamed = provider.diff(CAP, olds, role_inputs(sim, network_name="MSSCLUSTER2"))
    assert renamed.replaces == ["network_name"] and renamed.delete_before_replace
    provider.delete(CAP, created.outs or {})
    cluster = sim.world.cluster
    assert cluster is not None and cluster.group(CAP) is None and key(CAP) not in sim.world.domain.computers
    provider.delete(CAP, created.outs or {})  # already gone: nothing to do
    bad = provider.check({}, role_inputs(sim, network_name="MSS_CLUSTER", ip="ten", probe_port=0))
    assert {failure.property for failure in bad.failures} == {"network_name", "ip", "probe_port"}
    assert provider.check({}, role_inputs(sim, nodes=UNKNOWN, ip=UNKNOWN)).failures == []
