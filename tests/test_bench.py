"""`python -m ops bench`: the cheapest benchmark end to end (through the real Pulumi CLI), the naive
baseline really doing the work, and the arithmetic behind the figures. Figures are checked for
presence, never for their values."""

from __future__ import annotations

from pathlib import Path

import pytest

import settings
from ops import bench
from simulator.world import FaultPlan, sso_client_can_get_secret

ROOT = Path(__file__).resolve().parent.parent


def sim_settings() -> settings.StackSettings:
    return settings.load_stack_file(settings.stack_file(ROOT, "sim"), "sim")


@pytest.mark.slow
def test_noop_benchmark_prints_its_figures_and_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(ROOT, "sim", ["noop"]) == 0

    out = capsys.readouterr().out
    for figure in (
        "preview: WinRM requests",
        "preview: planned changes",
        "preview wall time",
        "up again: WinRM requests",
        "no-op up wall time (median of 3 interleaved rounds)",
        "empty program's preview wall time (median of 3 interleaved rounds)",
        "preview / empty program's preview",
        "no-op up / empty program's preview",
    ):
        assert figure in out
    assert "no-op runs: preview sent" in out
    assert "(goal 0 for both):" in out
    assert "work efficiency" not in out  # only the benchmark asked for ran


@pytest.mark.slow
def test_naive_baseline_performs_the_procedure_one_session_per_operation() -> None:
    config = sim_settings()
    with bench.probed_stack(ROOT, "sim", config, FaultPlan()) as sim:
        up = sim.run("up")
        assert up.failure() is None
    runs = up.operations()
    assert {"sso_install", "secret_backup", "secret_restore"} <= {run.operation for run in runs}

    with bench.probed_nodes(config, FaultPlan()) as (nodes, _traffic):
        naive = bench.run_naive(config, nodes, runs)
        client_gets_secret, why = sso_client_can_get_secret(nodes.world)

    assert client_gets_secret, why  # the fresh world ends clustered, as after `up`
    assert naive.wire.shells == len(runs)
    assert naive.wire.actions["Command"] == len(runs)
    assert up.wire.shells < len(runs)  # up shares a shell among a resource's operations on a node


def test_every_operation_has_a_realistic_duration_with_its_source() -> None:
    scripts = Path(__file__).resolve().parent.parent / "providers" / "scripts"
    # probe_node is ops probe-node's, never part of a stack's run
    assert set(bench.REALISTIC) == {script.stem for script in scripts.glob("*.ps1")} - {"probe_node"}
    for operation, duration in bench.REALISTIC.items():
        assert duration.seconds > 0, operation
        assert duration.source.strip(), operation
    assert 0 < bench.SCALE < 1


def test_critical_path_is_the_heaviest_chain_of_dependencies() -> None:
    depends_on = {
        "stack": frozenset[str](),
        "cluster": frozenset({"stack"}),
        "backup": frozenset({"cluster"}),
        "member": frozenset({"cluster"}),
        "name": frozenset({"backup", "member", "unknown-urn"}),
    }
    weight = {"cluster": 10.0, "backup": 1.0, "member": 5.0, "name": 2.0}

    length, chain = bench.critical_path(depends_on, weight)

    assert length == pytest.approx(17.0)
    assert chain == ["stack", "cluster", "member", "name"]


def test_critical_path_refuses_a_cycle() -> None:
    with pytest.raises(bench.BenchError, match="cycle"):
        bench.critical_path({"a": frozenset({"b"}), "b": frozenset({"a"})}, {"a": 1.0, "b": 1.0})


def connection(node: str, *operations: str, start: float, end: float) -> bench.Connection:
    made = bench.Connection(id=1, node=node, requests=4 * len(operations) + 5)
    for operation in operations:
        made.operations.append(bench.OperationRun(node, 1, operation, b"", start, end))
    return made


def test_side_by_side_resources_are_told_apart_by_the_operations_their_providers_call() -> None:
    urn = "urn:pulumi:sim::entsso-cluster::entsso:sso:SsoMasterSecretCluster$pulumi-python:dynamic/entsso:{}::{}"
    dtc = bench.GraphResource(
        urn.format("ClusteredDtc", "dtc"), "pulumi-python:dynamic/entsso:ClusteredDtc", frozenset(), ("N1", "N2")
    )
    name = bench.GraphResource(
        urn.format("SecretServerName", "name"),
        "pulumi-python:dynamic/entsso:SecretServerName",
        frozenset(),
        ("N1", "N2"),
    )
    graph = {dtc.urn: dtc, name.urn: name}
    windows = {dtc.urn: (0.0, 10.0), name.urn: (0.0, 10.0)}
    probe = connection("N1", "secret_server_get", start=1.0, end=2.0)
    role = connection("N1", "dtc_get", "dtc_set", start=3.0, end=4.0)

    owned = bench.attribute([probe, role], windows, graph)

    assert owned[name.urn] == [probe]
    assert owned[dtc.urn] == [role]


def test_a_connection_no_resource_explains_is_an_error_not_a_guess() -> None:
    urn = "urn:pulumi:sim::entsso-cluster::pulumi-python:dynamic/entsso:SecretBackup::backup"
    backup = bench.GraphResource(urn, "pulumi-python:dynamic/entsso:SecretBackup", frozenset(), ("N1",))
    elsewhere = connection("N2", "secret_backup", start=1.0, end=2.0)

    with pytest.raises(bench.BenchError, match="cannot tell which resource"):
        bench.attribute([elsewhere], {urn: (0.0, 10.0)}, {urn: backup})


def test_unknown_benchmark_is_bad_input() -> None:
    with pytest.raises(settings.SettingsError) as refused:
        bench.main(ROOT, "sim", ["speed"])
    assert "unknown benchmark 'speed'" in refused.value.lines[0]
