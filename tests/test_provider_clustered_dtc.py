"""ClusteredDtc (steps 14-17) against the simulated nodes, through real WinRM."""

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
from providers.clustered_dtc import ClusteredDtcProvider
from providers.runner import RemoteOperationError
from simulator.world import Fault, FaultPlan
from simulator.world.model import key
from tests.world_support import as_admin

DTC = CONFIG.dtc.network_name
DTC_RESOURCE = f"MSDTC-{DTC}"

UNKNOWN: Any = Unknown()  # type: ignore[no-untyped-call]  # a preview's unknown value


def dtc_inputs(stack: simstack.SimulatedStack, **changes: Any) -> dict[str, Any]:
    return {
        "nodes": targets(stack),
        "network_name": DTC,
        "ip": str(CONFIG.dtc.ip),
        "probe_port": CONFIG.dtc.probe_port,
        "disk": CONFIG.dtc.disk,
        **changes,
    }


def quick_retries(provider: EntssoProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two attempts, no backoff: a dead node or a fault plan fails in milliseconds instead of seconds."""
    without_backoff(provider, attempts=2)


def dtc_owner(stack: simstack.SimulatedStack) -> str:
    with stack.host.lock:
        cluster = stack.world.cluster
        assert cluster is not None
        group = cluster.group(DTC)
        assert group is not None
        return group.owner_node


def cluster_shape(stack: simstack.SimulatedStack) -> tuple[list[str], list[str], list[str]]:
    cluster = stack.world.cluster
    assert cluster is not None
    return sorted(cluster.groups), sorted(cluster.resources), sorted(stack.world.domain.computers)


def test_create_from_scratch_builds_the_dtc_role_and_is_idempotent(
    sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    bring_world_to(sim, "secret_server")
    provider = configured(ClusteredDtcProvider)
    created = provider.create(dtc_inputs(sim))

    assert created.id == DTC
    outs = created.outs or {}
    assert outs["state"] == "Online" and outs["resource"] == f"MSDTC-{DTC}"
    cluster = sim.world.cluster
    assert cluster is not None
    dtc = cluster.resource(f"MSDTC-{DTC}")
    assert dtc is not None and dtc.type == "Distributed Transaction Coordinator" and dtc.state == "Online"
    assert sorted(dtc.dependencies) == sorted([DTC, CONFIG.dtc.disk])
    ip = cluster.resource(f"IP Address {CONFIG.dtc.ip}")
    assert ip is not None and ip.parameters["ProbePort"] == CONFIG.dtc.probe_port
    assert cluster.dtc_settings[key(DTC_RESOURCE)]["AuthenticationLevel"] == "Incoming"
    assert key(DTC) in sim.world.domain.computers

    seen = operations_seen(sim, monkeypatch)
    provider.create(dtc_inputs(sim))
    assert seen == ["dtc_get"]  # converged: nothing to set


def test_create_resumes_after_the_answer_was_lost_half_way(monkeypatch: pytest.MonkeyPatch) -> None:
    # dtc_set runs on node 1 but the connection drops before its answer, on every attempt, and node 2
    # cannot be reached either: create fails although the role was built. The next create only verifies.
    plan = FaultPlan(
        faults=[
            Fault(kind="reset_after", node=N1, operation="dtc_set", times=2),
            Fault(kind="reset_before", node=N2, times=2),
        ]
    )
    with simstack.running(CONFIG, ports="any", plan=plan) as stack:
        bring_world_to(stack, "secret_server")
        provider = configured(ClusteredDtcProvider)
        quick_retries(provider, monkeypatch)
        with pytest.raises(RemoteOperationError) as failure:
            provider.create(dtc_inputs(stack))
        assert failure.value.node == N2 and failure.value.kind == "transport"
        assert stack.world.cluster is not None and stack.world.cluster.resource(f"MSDTC-{DTC}") is not None

        seen = operations_seen(stack, monkeypatch)
        outs = provider.create(dtc_inputs(stack)).outs or {}
        assert seen == ["dtc_get"]
        assert outs["state"] == "Online"


def test_read_reports_drift_and_update_repairs_it(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "secret_server")
    provider = configured(ClusteredDtcProvider)
    outs = provider.create(dtc_inputs(sim)).outs or {}
    cluster = sim.world.cluster
    assert cluster is not None
    dtc = cluster.resources[key(DTC_RESOURCE)]

    def someone_takes_dtc_offline() -> None:
        as_admin(sim.host, N1, f"Stop-ClusterResource -Name '{DTC_RESOURCE}' | Out-Null")

    def someone_turns_inbound_transactions_off() -> None:
        owner = dtc_owner(sim)
        as_admin(
            sim.host,
            owner,
            f"Set-DtcNetworkSetting -DtcName '{DTC_RESOURCE}' -InboundTransactionsEnabled $false -Confirm:$false",
        )

    for change in (someone_takes_dtc_offline, someone_turns_inbound_transactions_off):
        change()
        read = provider.read(DTC, outs)
        olds = read.outs or {}
        assert read.id == DTC
        assert (olds["state"], olds["network_settings"]["inboundTransactionsEnabled"]) != ("Online", True)
        diff = provider.diff(DTC, olds, dtc_inputs(sim))
        assert diff.changes and not diff.replaces, change.__name__

        outs = provider.update(DTC, olds, dtc_inputs(sim)).outs or {}
        assert dtc.state == "Online" and cluster.dtc_settings[key(DTC_RESOURCE)]["InboundTransactionsEnabled"] is True
        assert not provider.diff(DTC, outs, dtc_inputs(sim)).changes


def test_a_changed_probe_port_is_read_as_drift_and_set_in_place(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "secret_server")
    provider = configured(ClusteredDtcProvider)
    outs = provider.create(dtc_inputs(sim)).outs or {}
    cluster = sim.world.cluster
    assert cluster is not None
    ip = cluster.resources[key(f"IP Address {CONFIG.dtc.ip}")]
    as_admin(sim.host, N1, f"Get-ClusterResource -Name '{ip.name}' | Set-ClusterParameter -Name ProbePort -Value 50000")
    olds = provider.read(DTC, outs).outs or {}
    assert olds["probe_port"] == 50000
    diff = provider.diff(DTC, olds, dtc_inputs(sim))
    assert diff.changes and not diff.replaces
    provider.update(DTC, olds, dtc_inputs(sim))
    assert ip.parameters["ProbePort"] == CONFIG.dtc.probe_port


def test_network_settings_are_read_and_set_on_the_node_that_owns_the_dtc(
    sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # finding 12, F-DTC-01: the scripts report the settings as null on a node that does not own the DTC resource
    # (tests/test_world_cluster.py shows that on the real scripts); the provider asks the owner.
    bring_world_to(sim, "secret_server")
    provider = configured(ClusteredDtcProvider)
    outs = provider.create(dtc_inputs(sim)).outs or {}
    as_admin(sim.host, N1, f"Move-ClusterGroup -Name '{DTC}' -Node {N2} | Out-Null")
    calls = record_calls(sim, monkeypatch)
    read = provider.read(DTC, outs).outs or {}
    assert calls == [(N1, "dtc_get"), (N2, "dtc_get")]
    assert read["network_settings"]["inboundTransactionsEnabled"] is True and read["owner_node"] == N2
    cluster = sim.world.cluster
    assert cluster is not None
    as_admin(
        sim.host, N2, f"Set-DtcNetworkSetting -DtcName '{DTC_RESOURCE}' -InboundTransactionsEnabled $false -Confirm:$false"
    )
    calls.clear()
    provider.update(DTC, provider.read(DTC, outs).outs or {}, dtc_inputs(sim))
    assert (N2, "dtc_set") in calls and (N1, "dtc_set") not in calls
    assert cluster.dtc_settings[key(DTC_RESOURCE)]["InboundTransactionsEnabled"] is True


def test_read_of_a_removed_role_returns_an_empty_id(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "secret_server")
    provider = configured(ClusteredDtcProvider)
    created = provider.create(dtc_inputs(sim))
    world_op(sim, N2, "dtc_remove", Name=DTC)
    assert provider.read(created.id, created.outs or {}).id is None


def test_diff_replaces_for_what_dtc_set_cannot_change_in_place(sim: simstack.SimulatedStack) -> None:
    provider = configured(ClusteredDtcProvider)
    olds = {**dtc_inputs(sim), "state": "Online", "resource": f"MSDTC-{DTC}", "dependencies": [DTC, "Cluster Disk 1"]}
    olds["network_settings"] = {
        "inboundTransactionsEnabled": True,
        "outboundTransactionsEnabled": True,
        "remoteClientAccessEnabled": False,
        "authenticationLevel": "Incoming",
    }
    assert not provider.diff(DTC, olds, {**dtc_inputs(sim), "__provider": "new blob"}).changes
    for name, value in (
        ("ip", "10.10.1.52"),
        ("disk", "Cluster Disk 2"),
        ("disk_lun", 1),
        ("network_name", "MSSDTC2"),
    ):
        diff = provider.diff(DTC, olds, dtc_inputs(sim, **{name: value}))
        assert diff.changes and diff.replaces == [name] and diff.delete_before_replace
    # finding 13: dtc_set converges the probe properties of the IP on every run, in place
    probe = provider.diff(DTC, olds, dtc_inputs(sim, probe_port=59997))
    assert probe.changes and not probe.replaces
    moved = [{**target, "endpoint": "http://127.0.0.1:1/wsman"} for target in targets(sim)]
    diff = provider.diff(DTC, olds, dtc_inputs(sim, nodes=moved))
    assert diff.changes and not diff.replaces


def test_delete_leaves_the_cluster_as_before(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "secret_server")
    before = cluster_shape(sim)
    provider = configured(ClusteredDtcProvider)
    created = provider.create(dtc_inputs(sim))
    provider.delete(created.id, created.outs or {})
    assert cluster_shape(sim) == before
    assert sim.world.cluster is not None and key(DTC_RESOURCE) not in sim.world.cluster.dtc_settings
    provider.delete(created.id, created.outs or {})  # already gone: nothing to do, no error


def test_delete_goes_through_the_other_node_when_one_is_down(
    sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    bring_world_to(sim, "secret_server")
    strict = CONFIG.model_copy(update={"winrm": CONFIG.winrm.model_copy(update={"skip_unreachable_on_delete": False})})
    provider = configured(ClusteredDtcProvider, strict)
    quick_retries(provider, monkeypatch)
    created = provider.create(dtc_inputs(sim))
    sim.server(N1).stop()
    provider.delete(created.id, created.outs or {})
    assert sim.world.cluster is not None and sim.world.cluster.group(DTC) is None


def test_delete_with_every_node_down_fails_clearly_unless_the_stack_allows_skipping(
    sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bring_world_to(sim, "secret_server")
    strict = CONFIG.model_copy(update={"winrm": CONFIG.winrm.model_copy(update={"skip_unreachable_on_delete": False})})
    provider, lenient = configured(ClusteredDtcProvider, strict), configured(ClusteredDtcProvider)
    quick_retries(provider, monkeypatch)
    quick_retries(lenient, monkeypatch)
    created = provider.create(dtc_inputs(sim))
    for node in (N1, N2):
        sim.server(node).stop()

    with pytest.raises(RemoteOperationError) as failure:
        provider.delete(created.id, created.outs or {})
    assert failure.value.kind == "transport" and failure.value.node == N2
    assert "check that the node is up" in str(failure.value)

    with caplog.at_level(logging.WARNING, logger="entsso.providers"):
        lenient.delete(created.id, created.outs or {})  # no error
    assert f"skipping unreachable node {N2} on delete" in caplog.text


def test_check_reports_bad_input_and_tolerates_unknowns(sim: simstack.SimulatedStack) -> None:
    provider = configured(ClusteredDtcProvider)
    assert provider.check({}, dtc_inputs(sim)).failures == []
    bad = provider.check({}, dtc_inputs(sim, network_name="MSS_DTC", ip="10.10.1.300", probe_port=70000, disk=""))
    reasons = {failure.property: failure.reason for failure in bad.failures}
    assert set(reasons) == {"network_name", "ip", "probe_port", "disk"}
    assert "use 'MSSDTC'" in reasons["network_name"]
    unknown = provider.check({}, dtc_inputs(sim, ip=UNKNOWN, nodes=UNKNOWN, network_name=UNKNOWN))
    assert unknown.failures == []
