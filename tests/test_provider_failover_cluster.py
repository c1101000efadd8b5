"""FailoverCluster (the prerequisite) against the simulated nodes, through real WinRM.

The clustering features come from ClusterFeatures (tests/test_provider_installs.py): each test that uses the
simulated nodes starts with them installed on both nodes, as the program's graph has it."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pulumi.dynamic
import pytest
from providers_support import CONFIG, N1, N2, configured, record_calls, sim, targets, without_backoff, world_op  # noqa: F401
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pulumi.output import Unknown

import settings
from ops import simstack
from providers.cluster_features import FEATURES
from providers.failover_cluster import FailoverCluster, FailoverClusterProvider
from providers.runner import RemoteOperationError
from simulator.world import Fault, FaultPlan
from simulator.world.model import Quorum, key
from tests.test_settings import sim as sim_settings

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = CONFIG.cluster.name
WITNESS_KEY = "Witness-Key/Sim+Secret=="
SECRETS = (WITNESS_KEY, CONFIG.secret("installPassword"))

UNKNOWN: Any = Unknown()  # type: ignore[no-untyped-call]  # a preview's unknown value


def props(stack: simstack.SimulatedStack, **changes: Any) -> dict[str, Any]:
    return {
        "nodes": targets(stack),
        "cluster_name": CLUSTER,
        "management_point": "Distributed",
        "witness_account": "msswitness",
        "witness_key": WITNESS_KEY,
        "delegation": "ScheduledTask",
        **changes,
    }


def provider(config: Any = CONFIG) -> FailoverClusterProvider:
    """A configured provider whose transient-fault retries do not wait (the tests stop nodes on purpose)."""
    return without_backoff(configured(FailoverClusterProvider, config))


def outs(result: CreateResult | UpdateResult | ReadResult) -> dict[str, Any]:
    assert result.outs is not None
    return result.outs


@pytest.fixture(autouse=True)
def clustering_features(request: pytest.FixtureRequest) -> None:
    """What ClusterFeatures does before FailoverCluster runs: the features on both nodes."""
    if "sim" in request.fixturenames:
        stack = request.getfixturevalue("sim")
        for node in (N1, N2):
            world_op(stack, node, "feature_install", Features=FEATURES)


@pytest.fixture
def ran(sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The (node, operation) of every operation the world runs, in order."""
    return record_calls(sim, monkeypatch)


def features(stack: simstack.SimulatedStack, node: str) -> set[str]:
    return {key(name) for name in stack.world.nodes[key(node)].features}


def test_create_builds_the_cluster_and_sets_the_witness_and_installs_nothing(
    sim: simstack.SimulatedStack, ran: list[tuple[str, str]]
) -> None:
    assert sim.world.cluster is None
    created = provider().create(props(sim))
    cluster = sim.world.cluster
    assert cluster is not None and cluster.name == CLUSTER and cluster.nodes == [N1, N2]
    assert (cluster.quorum.type, cluster.quorum.account_name) == ("NodeAndCloudWitness", "msswitness")
    assert key(CLUSTER) in sim.world.domain.computers  # the CNO
    assert all(features(sim, node) >= {key(f) for f in FEATURES} for node in (N1, N2))
    assert created.id == CLUSTER and outs(created)["cluster_nodes"] == [N1, N2]
    assert outs(created)["quorum"]["witnessAccountName"] == "msswitness"
    assert [op for _, op in ran].count("cluster_new") == 1
    assert not {"feature_get", "feature_install", "sso_install"} & {op for _, op in ran}  # ClusterFeatures' job


def test_create_again_after_a_failure_half_way_does_only_what_is_missing(
    sim: simstack.SimulatedStack, ran: list[tuple[str, str]]
) -> None:
    creators = sim.world.domain.computer_creators
    sim.world.domain.computer_creators = []  # the install account may not create the CNO
    with pytest.raises(RemoteOperationError) as caught:
        provider().create(props(sim))
    assert caught.value.operation == "cluster_new" and "Access is denied" in caught.value.message
    assert not any(secret in str(caught.value) for secret in SECRETS)
    assert sim.world.cluster is None and all(features(sim, node) >= {key(f) for f in FEATURES} for node in (N1, N2))

    sim.world.domain.computer_creators = creators
    ran.clear()
    provider().create(props(sim))
    assert sim.world.cluster is not None and sim.world.cluster.quorum.account_name == "msswitness"
    assert [op for _, op in ran] == [
        "cluster_get",
        "cluster_test",
        "cluster_new",
        "cluster_quorum_set",
    ]


def test_a_witness_that_fails_leaves_a_cluster_the_next_create_finishes(sim: simstack.SimulatedStack) -> None:
    plan = FaultPlan(faults=[Fault(kind="http_500", operation="cluster_quorum_set")])
    failing = simstack.start(CONFIG, ports="any", world=sim.world, plan=plan)
    try:
        with pytest.raises(RemoteOperationError) as caught:
            provider().create(props(failing))
    finally:
        failing.stop()
    assert caught.value.operation == "cluster_quorum_set" and caught.value.kind == "transport"
    assert not any(secret in str(caught.value) for secret in SECRETS)
    assert sim.world.cluster is not None and sim.world.cluster.quorum.type == "NodeMajority"
    provider().create(props(sim))
    assert sim.world.cluster.quorum.type == "NodeAndCloudWitness"


def test_a_converged_cluster_is_only_probed(sim: simstack.SimulatedStack, ran: list[tuple[str, str]]) -> None:
    provider().create(props(sim))
    ran.clear()
    provider().create(props(sim))
    assert ran == [(N1, "cluster_get")]


def test_a_failing_test_cluster_stops_before_new_cluster(sim: simstack.SimulatedStack) -> None:
    sim.world.domain.computers.pop(key(N2))  # node 2 left the domain
    failed = "Test-Cluster did not approve the nodes .*Validate Active Directory Configuration: The test failed"
    with pytest.raises(RuntimeError, match=failed):
        provider().create(props(sim))
    assert sim.world.cluster is None


def test_read_shows_a_changed_witness_and_update_puts_it_back(sim: simstack.SimulatedStack) -> None:
    prov = provider()
    created = prov.create(props(sim))
    assert sim.world.cluster is not None
    sim.world.cluster.quorum = Quorum()  # someone set node majority
    read = prov.read(created.id, outs(created))
    assert read.id == CLUSTER and outs(read)["quorum"]["witness"] == ""  # node majority: no quorum resource
    assert outs(read)["quorum"]["type"] == "Majority"  # F-CLU-07: the same type with or without a witness
    assert outs(read)["witness_account"] == ""
    planned = prov.diff(created.id, outs(read), props(sim))
    assert planned.changes is True and planned.replaces == []
    updated = prov.update(created.id, outs(read), props(sim))
    assert sim.world.cluster.quorum.account_name == "msswitness"
    assert outs(updated)["quorum"]["witness"] == "Cloud Witness" and outs(updated)["witness_key"] == WITNESS_KEY


RELAXED = {"same_subnet_delay": 1000, "same_subnet_threshold": 40, "cross_subnet_delay": 1000, "cross_subnet_threshold": 40}


def test_heartbeat_thresholds_are_set_kept_and_repaired(
    sim: simstack.SimulatedStack, ran: list[tuple[str, str]]
) -> None:
    prov = provider()
    created = prov.create(props(sim, heartbeat=RELAXED))
    assert sim.world.cluster is not None
    assert sim.world.cluster.common_properties["SameSubnetThreshold"] == 40
    assert outs(created)["cluster_heartbeat"]["crossSubnetThreshold"] == 40
    assert [op for _, op in ran].count("cluster_heartbeat_set") == 1
    ran.clear()
    prov.create(props(sim, heartbeat=RELAXED))
    assert "cluster_heartbeat_set" not in [op for _, op in ran]  # converged: only probed

    with sim.host.lock:  # someone puts Windows' default back
        sim.world.cluster.common_properties["SameSubnetThreshold"] = 20
    read = prov.read(created.id, outs(created))
    assert outs(read)["cluster_heartbeat"]["sameSubnetThreshold"] == 20
    planned = prov.diff(created.id, outs(read), props(sim, heartbeat=RELAXED))
    assert planned.changes and not planned.replaces
    prov.update(created.id, outs(read), props(sim, heartbeat=RELAXED))
    assert sim.world.cluster.common_properties["SameSubnetThreshold"] == 40


def test_without_a_heartbeat_input_the_thresholds_are_not_touched(
    sim: simstack.SimulatedStack, ran: list[tuple[str, str]]
) -> None:
    created = provider().create(props(sim))
    assert sim.world.cluster is not None and sim.world.cluster.common_properties["SameSubnetThreshold"] == 20
    assert "cluster_heartbeat_set" not in [op for _, op in ran]
    with sim.host.lock:
        sim.world.cluster.common_properties["SameSubnetThreshold"] = 30
    assert not provider().diff(created.id, outs(provider().read(created.id, outs(created))), props(sim)).changes


def test_read_of_a_removed_cluster_is_empty(sim: simstack.SimulatedStack) -> None:
    prov = provider()
    created = prov.create(props(sim))
    sim.world.cluster = None
    assert prov.read(created.id, outs(created)).id == ""


def test_read_asks_another_member_when_the_first_is_down(sim: simstack.SimulatedStack) -> None:
    prov = provider()
    created = prov.create(props(sim))
    sim.server(N1).stop()
    read = prov.read(created.id, outs(created))
    assert read.id == CLUSTER and outs(read)["cluster_nodes"] == [N1, N2]


def test_update_refuses_to_change_the_membership(sim: simstack.SimulatedStack) -> None:
    prov = provider()
    created = prov.create(props(sim))
    one_node = props(sim, nodes=targets(sim)[:1])
    assert prov.diff(created.id, outs(created), one_node).replaces == []
    with pytest.raises(RuntimeError, match="adding or evicting a member"):
        prov.update(created.id, outs(created), one_node)
    assert sim.world.cluster is not None and sim.world.cluster.nodes == [N1, N2]


def test_diff_is_pure_and_names_replacements(sim: simstack.SimulatedStack) -> None:
    prov = provider()
    olds = {**props(sim), "cluster_nodes": [N1, N2], "quorum": None, "__provider": "old"}
    assert prov.diff("id", olds, {**props(sim), "__provider": "new"}).changes is False
    renamed = prov.diff("id", olds, props(sim, cluster_name="MSSWSFC2"))
    assert renamed.replaces == ["cluster_name"] and renamed.delete_before_replace is True
    assert prov.diff("id", olds, props(sim, management_point="Singleton", static_address="10.10.1.40")).replaces == [
        "management_point",
        "static_address",
    ]
    witness = prov.diff("id", olds, props(sim, witness_account="otherwitness", witness_key="k2"))
    assert witness.changes is True and witness.replaces == []
    moved = [{**target, "endpoint": "http://127.0.0.1:1/wsman"} for target in targets(sim)]
    assert prov.diff("id", olds, props(sim, nodes=moved)).replaces == []
    assert sim.http_requests() == 0


def test_check_reports_bad_input_and_tolerates_unknowns(sim: simstack.SimulatedStack) -> None:
    prov = provider()
    bad = prov.check({}, props(sim, cluster_name="MSS_WSFC", management_point="Stretched"))
    reasons = " ".join(f.reason for f in bad.failures)
    assert "MSSWSFC" in reasons and "management_point" in reasons
    assert "witness_key" in " ".join(f.reason for f in prov.check({}, props(sim, witness_key=None)).failures)
    assert "static_address" in " ".join(
        f.reason for f in prov.check({}, props(sim, management_point="Singleton")).failures
    )
    preview = prov.check({}, props(sim, witness_key=UNKNOWN, nodes=[{"name": N1, "endpoint": UNKNOWN}]))
    assert preview.failures == []
    assert not any(WITNESS_KEY in f.reason for f in prov.check({}, props(sim, nodes=[])).failures)


def test_delete_removes_the_cluster_and_its_computer_object(sim: simstack.SimulatedStack) -> None:
    prov = provider()
    created = prov.create(props(sim))
    prov.delete(created.id, outs(created))
    assert sim.world.cluster is None and key(CLUSTER) not in sim.world.domain.computers
    prov.delete(created.id, outs(created))  # already gone: nothing to do, no error


def test_unreachable_nodes_on_delete(sim: simstack.SimulatedStack, caplog: pytest.LogCaptureFixture) -> None:
    created = provider().create(props(sim))
    sim.server(N1).stop()
    strict = CONFIG.model_copy(update={"winrm": CONFIG.winrm.model_copy(update={"skip_unreachable_on_delete": False})})
    with caplog.at_level(logging.DEBUG), pytest.raises(RemoteOperationError) as caught:
        provider(strict).delete(created.id, outs(created))
    assert caught.value.node == N1 and "check that the node is up" in str(caught.value)
    assert sim.world.cluster is not None
    with caplog.at_level(logging.DEBUG):
        provider().delete(created.id, outs(created))  # the sim stack skips N1 and removes it from N2
    assert any(f"skipping unreachable node {N1}" in r.getMessage() for r in caplog.records)
    assert sim.world.cluster is None
    sim.server(N2).stop()
    with caplog.at_level(logging.DEBUG):
        provider().delete(created.id, outs(created))  # nobody answers: warnings, and the resource is gone
    assert not any(secret in caplog.text for secret in SECRETS)


def test_the_resource_seeds_outputs_and_keeps_the_key_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def register(self: Any, provider: Any, name: str, props: dict[str, Any], opts: Any) -> None:
        seen.update(provider=provider, props=props, opts=opts)

    monkeypatch.setattr(pulumi.dynamic.Resource, "__init__", register)
    FailoverCluster("c", nodes=[], cluster_name=CLUSTER, management_point="Distributed", delegation="ScheduledTask")
    assert isinstance(seen["provider"], FailoverClusterProvider)
    assert seen["props"]["cluster_nodes"] is None and "quorum" in seen["props"]
    assert seen["opts"].additional_secret_outputs == ["witness_key"]


def test_settings_give_azure_stacks_microsofts_heartbeat_and_refuse_what_the_cluster_refuses() -> None:
    # F-CLU-29: unset, Azure stacks get Microsoft's relaxed values and the simulator Windows' own
    lab, prod = (settings.load_stack_file(ROOT / f"Pulumi.{name}.yaml") for name in ("lab", "prod"))
    assert lab.cluster.heartbeat_for(lab.target) == RELAXED == prod.cluster.heartbeat_for(prod.target)
    assert CONFIG.cluster.heartbeat_for(CONFIG.target) is None
    config = sim_settings()  # the sim stack's settings, its sample secrets decrypted
    chosen = settings.validate_stack(
        {**config, "cluster": {**config["cluster"], "heartbeat": {"sameSubnetThreshold": 30}}}, stack="sim"
    )
    assert chosen.cluster.heartbeat_for(chosen.target) == {**RELAXED, "same_subnet_threshold": 30}
    for bad, words in (
        ({"sameSubnetThreshold": 200}, "cluster.heartbeat.sameSubnetThreshold: Input should be less than or equal to 120"),
        ({"sameSubnetThreshold": 50}, "cluster.heartbeat: the same-subnet delay and threshold must not exceed"),
    ):
        with pytest.raises(settings.SettingsError, match=re.escape(words)):
            settings.validate_stack({**config, "cluster": {**config["cluster"], "heartbeat": bad}}, stack="sim")
