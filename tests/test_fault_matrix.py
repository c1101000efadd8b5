"""The fault matrix: every remote operation `up` performs, under every fault the simulator injects.

Each cell runs the real program's `up` through the real Pulumi engine (the pinned CLI, with its
default failure semantics: the first failed step stops the run) against freshly seeded simulated
nodes with one fault on the first matching command, then `up` again without it, and checks that
the first run succeeded or failed clearly, that the second converged to the fault-free world, and
that the master secret is intact (ops/faultmatrix.py). One cell per fault kind runs on every
change (CI); the whole matrix (one test per fault kind, every operation) runs on demand:
`ENTSSO_FAULT_MATRIX=full pytest tests/test_fault_matrix.py`, or `python -m ops.faultmatrix`. The
table is printed at the end of the session and written to <basetemp>/fault-matrix.txt.
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import settings
from ops import faultmatrix as fm
from ops import mainjob, simstack
from providers import procedure, runner_transport
from simulator.world.mastersecret import current
from simulator.world.model import SSOSS_KEY, key

ROOT = Path(__file__).resolve().parent.parent
WHOLE_MATRIX = os.environ.get("ENTSSO_FAULT_MATRIX") == "full"

# Cells that fail because of a bug reported and not fixed yet. Strict: once the bug is fixed the
# cell passes and the matrix test says to remove it from here.
KNOWN_BUGS: dict[tuple[str, str], str] = {}  # (operation, fault) -> why it fails today; empty: none known


@pytest.fixture(scope="session")
def baseline() -> fm.Baseline:
    return fm.measure_baseline(ROOT)


@pytest.fixture(scope="session")
def matrix_cells(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, baseline: fm.Baseline
) -> Iterator[list[fm.Cell]]:
    """Every cell the tests measured; printed as one table (rows in the fault-free up's order) at the end."""
    cells: list[fm.Cell] = []
    yield cells
    if not cells:
        return
    latest = {(c.target.name, c.fault): c for c in cells}  # the full matrix measures the sample cells again
    rows = {target.name: index for index, target in enumerate(baseline.targets)}
    table = fm.render(sorted(latest.values(), key=lambda c: (rows[c.target.name], fm.FAULT_KINDS.index(c.fault))))
    (tmp_path_factory.getbasetemp() / "fault-matrix.txt").write_text(table + "\n", encoding="utf-8")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_sep("=", "fault matrix (operation x fault)")
            for line in table.splitlines():
                reporter.write_line(line)


def judged(cells: list[fm.Cell]) -> list[str]:
    """What is wrong with these cells: a cell that does not pass, or a known bug that no longer fails."""
    wrong: list[str] = []
    for cell in cells:
        bug = KNOWN_BUGS.get((cell.target.name, cell.fault))
        if bug is not None and cell.passed:
            wrong.append(f"{cell.target.name} x {cell.fault} passes now: remove it from KNOWN_BUGS ({bug})")
        elif bug is None and not cell.passed:
            wrong.append(f"{cell.target.name} x {cell.fault}: {cell.verdict()}: " + "; ".join(cell.problems()))
    return wrong


# ------------------------------------------------------------------------------------------- every change


REPRESENTATIVE: list[tuple[str, fm.FaultKind]] = [
    ("sso_configure", "reset_before"),  # the Create wizard: run again after the reset, one master secret
    ("secret_backup", "reset_after"),  # the backup ran, its answer was lost: a new one, verified again
    ("cluster_new", "http_500"),
    ("secret_restore", "timeouts"),
    ("secret_server_set", "hang"),  # step 10-13 never answers: the deadline stops it
    ("sso_configure", "reboot"),
    ("MSSNODE2:secret_restore", "failover"),
    ("secret_backup", "sql_unavailable"),
]


def test_one_cell_per_fault_kind(baseline: fm.Baseline, matrix_cells: list[fm.Cell]) -> None:
    assert {kind for _, kind in REPRESENTATIVE} == set(fm.FAULT_KINDS)
    cells = fm.run_pairs(ROOT, REPRESENTATIVE, baseline=baseline)
    matrix_cells += cells
    report = fm.render(cells)
    assert judged(cells) == [], report
    by_kind = {cell.fault: cell for cell in cells}
    for kind in fm.GROUPABLE:  # a transport fault never reaches the user: the runner retries or waits it out
        assert by_kind[kind].first in ("retried", "absorbed"), report
    assert by_kind["reset_before"].first == by_kind["reset_after"].first == "retried"
    hung = by_kind["hang"]
    assert hung.first == "failed" and "secret_server_set on MSSNODE1 failed (timeout)" in hung.first_errors[0]
    sql = by_kind["sql_unavailable"]
    assert sql.first == "failed" and "secret_backup on MSSNODE1" in sql.first_errors[0]
    assert "SQL Server" in sql.first_errors[0]


def test_the_operations_come_from_a_fault_free_up(baseline: fm.Baseline) -> None:
    operations = {target.operation for target in baseline.targets}
    documented = {step.operation for step in (procedure.PREREQUISITE, *procedure.STEPS)}
    assert documented <= operations  # every documented step's operation is in the matrix
    assert {target.node for target in baseline.targets} == {"MSSNODE1", "MSSNODE2"}
    assert all(target.commands >= 1 for target in baseline.targets)
    assert sum(target.commands for target in baseline.targets) == sum(baseline.commands.values())
    with pytest.raises(ValueError, match="a fault-free up runs no cluster_remove"):
        fm.select_targets(baseline, ["cluster_remove"])


def test_a_failing_group_is_halved_until_the_failing_cell_runs_alone(baseline: fm.Baseline) -> None:
    """Grouped transport faults hide nothing: only a group that passes entirely is credited."""
    bad = baseline.targets[5]
    runs: list[int] = []

    def measure(_project: Path, _base: fm.Baseline, kind: fm.FaultKind, group: Any) -> list[fm.Cell]:
        runs.append(len(group))
        failing = bad in group
        return [
            fm.Cell(t, kind, "retried", converged=not failing, differences=("x",) if failing else (), group=len(group))
            for t in group
        ]

    jobs: list[tuple[fm.FaultKind, list[fm.Target]]] = [("http_500", list(baseline.targets))]
    cells = fm._schedule(ROOT, baseline, jobs, 2, 1, None, measure)
    assert sorted(c.target.name for c in cells) == sorted(t.name for t in baseline.targets)
    failed = [c for c in cells if not c.passed]
    assert [(c.target, c.group) for c in failed] == [(bad, 1)]
    # The halving reaches the bad cell in log2(n) levels; at most two of its last siblings run alone.
    assert runs[0] == len(baseline.targets) and len(runs) <= 1 + 2 * math.ceil(math.log2(len(baseline.targets)))
    assert sum(c.group == 1 for c in cells if c.target is not bad) <= 2


def test_the_checks_catch_a_lost_secret_a_bad_backup_and_a_changed_world(
    baseline: fm.Baseline, tmp_path: Path
) -> None:
    with fm.sandboxed(ROOT, tmp_path) as sandbox:
        result, _ = sandbox.up()
        assert not result.failed
        world = sandbox.nodes.world
        assert fm.differences(baseline.snapshot, fm.world_snapshot(world)) == []
        assert fm.secret_problems(sandbox, result) == []
        pristine = copy.deepcopy(world.nodes)

        node2 = world.nodes[key("MSSNODE2")]
        for path in [p for p in node2.registry if p.startswith(key(SSOSS_KEY))]:
            del node2.registry[path]
        assert current(node2) is None
        problems = fm.secret_problems(sandbox, result)
        assert "MSSNODE2 holds no master secret" in problems
        changed = fm.differences(baseline.snapshot, fm.world_snapshot(world))
        assert any(line.startswith("nodes.MSSNODE2.secret:") for line in changed)

        world.nodes.clear()
        world.nodes.update(copy.deepcopy(pristine))
        node1 = world.nodes[key("MSSNODE1")]
        backup = next(p for p in node1.files if p.endswith("master-secret.bak"))
        node1.files[backup] += b"tampered"
        problems = fm.secret_problems(sandbox, result)
        assert any("is not the SHA-256 of" in p for p in problems), problems
        assert hashlib.sha256(node1.files[backup]).hexdigest().upper() != result.outputs["backupSha256"]

        world.nodes.clear()
        world.nodes.update(copy.deepcopy(pristine))
        entsso = world.cluster.resources[key("ENTSSO")] if world.cluster else None
        assert entsso is not None
        entsso.state = "Offline"
        world.nodes[key("MSSNODE1")].endpoint_names = []
        assert any("SSO client cannot get the secret" in p for p in fm.secret_problems(sandbox, result))
        assert "cluster.roles.MSSCLUSTER.resources.ENTSSO.state: \"Offline\", expected \"Online\"" in fm.differences(
            baseline.snapshot, fm.world_snapshot(world)
        )


def test_an_error_is_clear_when_it_names_node_step_and_remedy() -> None:
    nodes = ["MSSNODE1", "MSSNODE2"]
    runner_error = (
        "create failed: providers.runner.RemoteOperationError: secret_restore on MSSNODE2 failed (script, exit "
        "code 1): ERROR: 0xC0002A0F : Could not contact the SSO server - the script reported this error on the "
        "node; fix its cause and run again"
    )
    assert fm.clear_error(runner_error, nodes)
    assert not fm.clear_error(runner_error.replace("MSSNODE2", "the node"), nodes)
    assert not fm.clear_error(runner_error.replace("secret_restore", "the operation"), nodes)
    assert not fm.clear_error("RuntimeError: ENTSSO on MSSNODE2 does not serve the master secret: RPC 0x800706BA", nodes)
    assert fm.clear_error("step 26: ENTSSO on MSSNODE2 is down - check the ENTSSO resource", nodes)


def test_runner_threads_never_race_on_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the matrix: requests set and deleted os.environ['no_proxy'] around every request the
    runner sent (pywinrm's proxy=None), and two provider threads doing so at once failed a step with
    KeyError: 'no_proxy'. Now only the session build looks the environment up, under a lock."""
    unlocked: list[str] = []
    environ_type: Any = type(os.environ)

    class Watched(environ_type):  # type: ignore[misc]
        def __setitem__(self, name: str, value: str) -> None:
            if name.lower() == "no_proxy" and not runner_transport._ENVIRONMENT_LOOKUP.locked():
                unlocked.append(f"set {name}")
            super().__setitem__(name, value)

        def __delitem__(self, name: str) -> None:
            if name.lower() == "no_proxy" and not runner_transport._ENVIRONMENT_LOOKUP.locked():
                unlocked.append(f"del {name}")
            super().__delitem__(name)

    real = os.environ
    watched = Watched(real._data, real.encodekey, real.decodekey, real.encodevalue, real.decodevalue)  # type: ignore[attr-defined]
    config = settings.load_stack_file(settings.stack_file(ROOT, "sim"), "sim")
    with simstack.running(config, ports="any") as stack:
        monkeypatch.setattr(os, "environ", watched)
        for node in ("MSSNODE1", "MSSNODE2"):
            assert mainjob.remote(config, stack, node, "sso_get")["installed"] is False
    assert unlocked == []
    assert stack.http_requests() >= 4


# ------------------------------------------------------------------------------------------- the whole matrix


@pytest.mark.slow
@pytest.mark.skipif(not WHOLE_MATRIX, reason="the whole matrix runs on demand: ENTSSO_FAULT_MATRIX=full")
@pytest.mark.parametrize("kind", fm.FAULT_KINDS)
def test_fault_matrix(kind: fm.FaultKind, baseline: fm.Baseline, matrix_cells: list[fm.Cell]) -> None:
    """One fault kind over every operation of the fault-free up (a test per kind, so that xdist can
    split the matrix and each part stays within the per-test timeout)."""
    cells = fm.run_matrix(ROOT, faults=[kind], baseline=baseline)
    matrix_cells += cells
    assert [c.target for c in cells] == baseline.targets  # one cell per operation of the fault-free up
    assert all(c.first != "not fired" for c in cells)
    assert judged(cells) == [], fm.render(cells)
