"""EntssoService (steps 19-22) against the simulated nodes, through real WinRM.

The role (step 18) is EntssoRole's (tests/test_provider_entsso_role.py): the tests make it first, as the program's
graph does; the move to node 2 (step 23) is SecretRestore's."""

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
    record_calls,
    sim,
    targets,
    without_backoff,
    world_op,
)
from pulumi.output import Unknown

from ops import simstack
from providers.base import EntssoProvider
from providers.entsso_role import EntssoRoleProvider
from providers.entsso_service import EntssoServiceProvider
from providers.runner import RemoteOperationError
from simulator.world import Fault, FaultPlan, windows
from simulator.world.model import key

CAP = CONFIG.sso.network_name
TASK_PASSWORD = CONFIG.secret("installPassword")

UNKNOWN: Any = Unknown()  # type: ignore[no-untyped-call]  # a preview's unknown value


def service_inputs(stack: simstack.SimulatedStack, **changes: Any) -> dict[str, Any]:
    return {
        "nodes": targets(stack),
        "network_name": CAP,
        "service_account": CONFIG.domain.service_account,
        **changes,
    }


def make_role(stack: simstack.SimulatedStack) -> None:
    """Step 18, as EntssoRole does it."""
    configured(EntssoRoleProvider).create(
        {"nodes": targets(stack), "network_name": CAP, "ip": str(CONFIG.sso.ip), "probe_port": CONFIG.sso.probe_port}
    )


def role_made(stack: simstack.SimulatedStack) -> None:
    """Every step before 19: the world up to the clustered DTC, and the role of step 18."""
    bring_world_to(stack, "dtc")
    make_role(stack)


def quick_retries(provider: EntssoProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two attempts, no backoff: a dead node or a fault plan fails in milliseconds instead of seconds."""
    without_backoff(provider, attempts=2)


def client(stack: simstack.SimulatedStack) -> tuple[bool, str]:
    with stack.host.lock:
        return windows.sso_client_can_get_secret(stack.world)


def test_create_from_scratch_clusters_entsso_where_the_role_is(
    sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    role_made(sim)
    seen = operations_seen(sim, monkeypatch)
    provider = configured(EntssoServiceProvider)
    created = provider.create(service_inputs(sim))

    outs = created.outs or {}
    assert created.id == CAP
    assert (outs["owner_node"], outs["resource"], outs["state"]) == (N1, "ENTSSO", "Online")
    assert "role_set" not in seen and "role_move" not in seen  # step 18 is EntssoRole's, step 23 SecretRestore's
    assert outs["possible_owners"] == [N1, N2] and outs["dependencies"] == [CAP]
    cluster = sim.world.cluster
    assert cluster is not None
    service = cluster.resource("ENTSSO")
    assert service is not None and service.type == "Generic Service" and service.group == CAP
    assert service.parameters["ServiceName"] == "ENTSSO" and service.parameters["UseNetworkName"] == 1
    ip = cluster.resource(f"IP Address {CONFIG.sso.ip}")
    assert ip is not None and ip.parameters["ProbePort"] == CONFIG.sso.probe_port
    assert ip.parameters["SubnetMask"] == "255.255.255.255"
    assert cluster.access[CONFIG.domain.service_account] == "Full"
    for node in (N1, N2):  # only the cluster may start ENTSSO now (pitfall 2)
        entsso = sim.world.nodes[node].service("ENTSSO")
        assert entsso is not None and entsso.start_mode == "Manual"
    # Node 2 has no secret until SecretRestore; on node 1, which has it, clients get it by the name.
    assert client(sim) == (True, f"secret served by '{CAP}' from node {N1}")
    world_op(sim, N1, "role_move", Name=CAP, Node=N2)
    ok, error = client(sim)
    assert not ok and "secret is not available" in error

    seen.clear()
    provider.create(service_inputs(sim))
    assert seen == ["role_get"]  # converged: nothing to set, no needless move


def test_create_resumes_after_a_failure_half_way(monkeypatch: pytest.MonkeyPatch) -> None:
    # generic_service_set runs, but its answer is lost on node 1, and node 2 cannot be reached to read the role.
    plan = FaultPlan(
        faults=[
            Fault(kind="reset_after", node=N1, operation="generic_service_set", times=2),
            Fault(kind="reset_before", node=N2, operation="role_get", times=2),
        ]
    )
    with simstack.running(CONFIG, ports="any", plan=plan) as stack:
        role_made(stack)
        provider = configured(EntssoServiceProvider)
        quick_retries(provider, monkeypatch)
        with pytest.raises(RemoteOperationError):
            provider.create(service_inputs(stack))
        role = world_op(stack, N1, "role_get", Name=CAP)
        assert role["service"]["useNetworkName"] == 1 and role["ownerNode"] == N1  # set; its answer was lost

        seen = operations_seen(stack, monkeypatch)
        outs = provider.create(service_inputs(stack)).outs or {}
        assert seen == ["role_get"]  # finished: only read
        assert (outs["owner_node"], outs["state"]) == (N1, "Online")


def test_entsso_is_made_manual_and_stopped_outside_the_cluster_through_each_nodes_own_session(
    sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Finding 19: no node reaches another node (node-to-node WinRM is closed); the provider goes to each node itself,
    # reads ENTSSO there and changes only a node where it is not stopped and manual.
    role_made(sim)
    world_op(sim, N2, "sso_service_set", State="Running", StartupType="Automatic")  # a local ENTSSO on node 2
    calls = record_calls(sim, monkeypatch)
    created = configured(EntssoServiceProvider).create(service_inputs(sim))
    ran = [(node, op) for node, op in calls if op in ("sso_get", "sso_service_set", "generic_service_set")]
    assert ran == [(N1, "sso_get"), (N2, "sso_get"), (N2, "sso_service_set"), (N1, "generic_service_set")]
    for node in (N1, N2):
        entsso = sim.world.nodes[node].service("ENTSSO")
        assert entsso is not None and entsso.start_mode == "Manual"
    assert (created.outs or {})["owner_node"] == N1 and (created.outs or {})["state"] == "Online"
    # Finding 20: what comes back is data only; no remoting decoration (PSComputerName, RunspaceId) reaches actions.
    role = world_op(sim, N1, "generic_service_set", Name=CAP, ServiceAccount=CONFIG.domain.service_account,
                    PossibleOwners=[N1, N2])
    assert all(isinstance(action, str) for action in role["actions"])


def test_read_shows_a_move_and_update_repairs_use_network_name(sim: simstack.SimulatedStack) -> None:
    role_made(sim)
    provider = configured(EntssoServiceProvider)
    created = provider.create(service_inputs(sim))

    world_op(sim, N1, "role_move", Name=CAP, Node=N2)  # a failover is not drift: no update for it
    moved = provider.read(CAP, created.outs or {}).outs or {}
    assert moved["owner_node"] == N1  # as recorded at create: where it runs now is SecretRestore's to report
    assert not provider.diff(CAP, moved, service_inputs(sim)).changes
    world_op(sim, N2, "role_move", Name=CAP, Node=N1)  # and back to the node that holds the secret

    cluster = sim.world.cluster
    assert cluster is not None
    with sim.host.lock:  # someone clears "Use Network Name for computer name"
        cluster.resources[key("ENTSSO")].parameters["UseNetworkName"] = 0
    drifted = provider.read(CAP, moved).outs or {}
    assert drifted["use_network_name"] == 0
    diff = provider.diff(CAP, drifted, service_inputs(sim))
    assert diff.changes and not diff.replaces

    outs = provider.update(CAP, drifted, service_inputs(sim)).outs or {}
    assert outs["use_network_name"] == 1 and outs["owner_node"] == N1  # repaired where it runs
    assert cluster.resources[key("ENTSSO")].parameters["UseNetworkName"] == 1
    assert client(sim)[0]


def test_read_shows_a_removed_resource_and_an_empty_id_for_a_removed_role(sim: simstack.SimulatedStack) -> None:
    role_made(sim)
    provider = configured(EntssoServiceProvider)
    created = provider.create(service_inputs(sim))
    cluster = sim.world.cluster
    assert cluster is not None
    with sim.host.lock:  # Remove-ClusterResource ENTSSO behind Pulumi's back
        windows.take_offline(sim.world, cluster.resources[key("ENTSSO")])
        del cluster.resources[key("ENTSSO")]

    olds = provider.read(CAP, created.outs or {}).outs or {}
    assert olds["resource"] == "" and olds["state"] == "Absent"
    assert provider.diff(CAP, olds, service_inputs(sim)).changes
    outs = provider.update(CAP, olds, service_inputs(sim)).outs or {}
    assert outs["resource"] == "ENTSSO" and outs["state"] == "Online"

    world_op(sim, N1, "role_remove", Name=CAP)
    assert provider.read(CAP, outs).id is None


def test_without_the_role_it_stops_and_says_which_step_comes_first(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "dtc")
    with pytest.raises(RuntimeError, match=f"the role {CAP} does not exist: EntssoRole \\(step 18\\) comes first"):
        configured(EntssoServiceProvider).create(service_inputs(sim))


def test_diff_replaces_only_for_a_new_network_name(sim: simstack.SimulatedStack) -> None:
    provider = configured(EntssoServiceProvider)
    olds = {
        **service_inputs(sim),
        "resource": "ENTSSO",
        "service_name": "ENTSSO",
        "use_network_name": 1,
        "dependencies": [CAP],
        "possible_owners": [N1, N2],
        "state": "Online",
        "full_access": [CONFIG.domain.service_account],
    }
    assert not provider.diff(CAP, olds, {**service_inputs(sim), "__provider": "new blob"}).changes
    renamed = provider.diff(CAP, olds, service_inputs(sim, network_name="MSSCLUSTER2"))
    assert renamed.replaces == ["network_name"] and renamed.delete_before_replace
    diff = provider.diff(CAP, olds, service_inputs(sim, service_account="CORP\\svc-other"))
    assert diff.changes and not diff.replaces
    assert provider.diff(CAP, {**olds, "possible_owners": [N1]}, service_inputs(sim)).changes


def test_delete_removes_resource_and_role_and_leaves_the_cluster_as_before(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "dtc")
    cluster = sim.world.cluster
    assert cluster is not None
    before = (sorted(cluster.groups), sorted(cluster.resources), sorted(sim.world.domain.computers))
    make_role(sim)
    cluster = sim.world.cluster
    assert cluster is not None
    provider = configured(EntssoServiceProvider)
    created = provider.create(service_inputs(sim))
    provider.delete(CAP, created.outs or {})
    assert (sorted(cluster.groups), sorted(cluster.resources), sorted(sim.world.domain.computers)) == before
    assert all(sim.world.nodes[n].services[key("ENTSSO")].state == "Stopped" for n in (N1, N2))


def test_delete_with_nodes_down(
    sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    role_made(sim)
    strict = CONFIG.model_copy(update={"winrm": CONFIG.winrm.model_copy(update={"skip_unreachable_on_delete": False})})
    provider, lenient = configured(EntssoServiceProvider, strict), configured(EntssoServiceProvider)
    quick_retries(provider, monkeypatch)
    quick_retries(lenient, monkeypatch)
    outs = provider.create(service_inputs(sim)).outs or {}
    sim.server(N2).stop()
    provider.delete(CAP, outs)  # node 1 still answers for the cluster
    assert sim.world.cluster is not None and sim.world.cluster.group(CAP) is None

    sim.server(N1).stop()
    with pytest.raises(RemoteOperationError) as failure:
        provider.delete(CAP, outs)
    assert failure.value.kind == "transport" and "check that the node is up" in str(failure.value)
    with caplog.at_level(logging.WARNING, logger="entsso.providers"):
        lenient.delete(CAP, outs)
    assert "skipping unreachable node" in caplog.text


def test_check_reports_bad_input_and_tolerates_unknowns(sim: simstack.SimulatedStack) -> None:
    provider = configured(EntssoServiceProvider)
    assert provider.check({}, service_inputs(sim)).failures == []
    bad = provider.check({}, service_inputs(sim, network_name="MSS_CLUSTER", service_account="svc-entsso"))
    reasons = {failure.property: failure.reason for failure in bad.failures}
    assert set(reasons) == {"network_name", "service_account"}
    assert "use 'MSSCLUSTER'" in reasons["network_name"]
    unknown = provider.check({}, service_inputs(sim, nodes=UNKNOWN, service_account=UNKNOWN))
    assert unknown.failures == []


def test_the_task_password_never_reaches_an_error_or_a_log(
    sim: simstack.SimulatedStack, caplog: pytest.LogCaptureFixture
) -> None:
    provider = configured(EntssoServiceProvider)
    with caplog.at_level(logging.DEBUG):
        role_made(sim)  # role_set ran delegated, with the install account's password
    with sim.host.lock:  # the ENTSSO binaries vanish from node 2: its ENTSSO cannot be set to Manual
        del sim.world.nodes[N2].services[key("ENTSSO")]
    with caplog.at_level(logging.DEBUG), pytest.raises(RemoteOperationError) as failure:
        provider.create(service_inputs(sim))
    assert (failure.value.operation, failure.value.node) == ("sso_service_set", N2)  # its words are the SSO area's
    assert TASK_PASSWORD not in str(failure.value) + repr(failure.value.__dict__)
    assert TASK_PASSWORD not in caplog.text
