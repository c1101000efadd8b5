"""The program's resource graph follows the plan of what Windows really needs (providers/procedure.py).

Captured from the real program under the mock runtime (ops/graph.py), for the sim stack and for prod:
- every wait of the plan is in the graph: the resource that runs a task depends, directly or through others, on
  the resource that runs what the task needs (the graph is safe);
- every dependency between the procedure's resources is a wait of the plan, or a node's installer order, or one
  of the few this file names with its reason (the graph waits for nothing Windows does not need);
- on each node the two installers run one after the other in procedure.INSTALL_ORDER, and nothing about SSO's
  install or configuration waits for the cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

import settings
from ops import bench, graph
from providers import procedure

ROOT = Path(__file__).resolve().parent.parent
DYNAMIC = "pulumi-python:dynamic/entsso:"

# Waits of the graph that are not waits of the fresh up's plan, and why the program keeps them.
NOT_FROM_THE_PLAN = {
    ("EntssoRole", "SecretServerName"): (
        "a new network name replaces the role, deleting the old one first: the new backup and -updatedb, which "
        "need the old role online (F-SSO-10, F-SSO-13), must come before; off the critical path on a fresh up"
    ),
}


@cache
def captured(stack: str) -> tuple[graph.Node, ...]:
    return tuple(n for n in graph.capture(ROOT, stack) if n.type.startswith(DYNAMIC))


def kind(node: graph.Node) -> str:
    return node.type.removeprefix(DYNAMIC)


def node_name(node: graph.Node) -> str | None:
    target = node.inputs.get("node")
    return str(target["name"]).upper() if isinstance(target, dict) else None


def resource_of(task: procedure.Task, nodes: tuple[graph.Node, ...]) -> graph.Node:
    """The resource that runs a task: of the type its steps map to, on its node when there is one per node."""
    candidates = [n for n in nodes if kind(n) == procedure.performed_by(task)]
    if len(candidates) > 1:
        candidates = [n for n in candidates if node_name(n) == (task.node or "").upper()]
    assert len(candidates) == 1, (task.key, [c.name for c in candidates])
    return candidates[0]


def ancestors(urn: str, by_urn: dict[str, graph.Node]) -> Iterator[str]:
    seen: set[str] = set()
    todo = list(by_urn[urn].dependencies)
    while todo:
        found = todo.pop()
        if found in seen or found not in by_urn:
            continue
        seen.add(found)
        yield found
        todo.extend(by_urn[found].dependencies)


@pytest.mark.parametrize("stack", ["sim", "prod"])
def test_the_graph_waits_for_what_windows_needs_and_nothing_else(stack: str) -> None:
    config = settings.load_stack_file(settings.stack_file(ROOT, stack), stack)
    nodes = captured(stack)
    by_urn = {n.urn: n for n in nodes}
    tasks = bench.stack_plan(config)
    runs = {task.key: resource_of(task, nodes) for task in tasks}

    justified: set[tuple[str, str]] = set()
    for edge in procedure.edges(tasks):
        before, after = runs[edge.before], runs[edge.after]
        if before.urn == after.urn:
            continue  # one resource runs both, in that order
        assert before.urn in set(ancestors(after.urn, by_urn)), f"{after.name} must wait for {before.name}: {edge}"
        justified.add((after.urn, before.urn))
    for node in config.nodes:  # the installer order
        first, second = (
            runs[f"{operation}@{node.name}"] for operation in procedure.INSTALL_ORDER
        )
        assert first.urn in second.dependencies, f"{second.name} must wait for {first.name} (one installer)"
        assert second.urn not in set(ancestors(first.urn, by_urn))
        justified.add((second.urn, first.urn))

    for resource in nodes:
        for needed in resource.dependencies:
            if needed not in by_urn or (resource.urn, needed) in justified:
                continue
            reason = NOT_FROM_THE_PLAN.get((kind(resource), kind(by_urn[needed])))
            assert reason, f"{resource.name} waits for {by_urn[needed].name}, which the plan does not need"


@pytest.mark.parametrize("stack", ["sim", "prod"])
def test_sso_never_waits_for_the_cluster_and_each_node_installs_one_thing_at_a_time(stack: str) -> None:
    nodes = captured(stack)
    by_urn = {n.urn: n for n in nodes}
    cluster_side = {n.urn for n in nodes if kind(n) in ("FailoverCluster", "ClusterFeatures")}
    for resource in nodes:
        if kind(resource) in ("SsoInstall", "SsoServer", "SecretBackup"):
            waits = set(ancestors(resource.urn, by_urn))
            own_features = {u for u in waits & cluster_side if node_name(by_urn[u]) == node_name(resource)}
            assert waits & cluster_side <= own_features, f"{resource.name} waits for the cluster"
            if kind(resource) == "SsoServer":
                assert not waits & cluster_side, f"{resource.name} waits for the cluster"
    per_node: dict[str | None, list[str]] = {}
    for resource in nodes:
        if kind(resource) in ("SsoInstall", "ClusterFeatures"):
            per_node.setdefault(node_name(resource), []).append(resource.urn)
    assert len(per_node) == 2
    for urns in per_node.values():
        first, second = urns
        assert first in set(ancestors(second, by_urn)) or second in set(ancestors(first, by_urn))


def test_the_program_installs_in_an_order_that_reaches_the_limit() -> None:
    real = {operation: duration.seconds for operation, duration in bench.REALISTIC.items()}
    config = settings.load_stack_file(settings.stack_file(ROOT, "sim"), "sim")
    tasks = bench.stack_plan(config)
    best = bench.limit(tasks, real)
    ours = bench.limit(tasks, real, procedure.INSTALL_ORDER)
    assert ours.seconds == pytest.approx(best.seconds)
    worst = max(
        bench.limit(tasks, real, order).seconds for order in (("feature_install", "sso_install"), procedure.INSTALL_ORDER)
    )
    assert worst > best.seconds  # the order matters: the test would see a worse one
