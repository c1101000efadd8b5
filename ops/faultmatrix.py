"""The fault matrix: every remote operation of a fault-free `up`, under every fault the simulator injects.

The operations come from a fault-free `up` of the sim stack (each command the simulated nodes
receive is recorded as (node, operation)), never from a list kept here. For each of them and each
fault kind, a cell runs `up` from a freshly seeded world with the fault on the first matching
command, then `up` again without it, and judges three things:

a. the first run succeeded (through the runner's retries, or the fault did not stop it) or failed
   with an error that names the node, the operation or documented step, and what to do;
b. after the second run the world is exactly the one a fault-free run leaves (`world_snapshot`:
   cluster, roles with their resources, parameters and owners, SSODB, services, which secret each
   node holds; never timestamps, event logs or secret bytes);
c. the master secret is intact: the stack's backupSha256 is the SHA-256 of the backup file on the
   node that took it, the backup opens with the backup password and holds the secret every node and
   SSODB hold, and an SSO client gets it from the network name.

Every run goes through the real Pulumi engine (ops/engine.py) with its default failure semantics:
a failed step stops the run (no --continue-on-error), and the second `up` must converge from what
the first left, pending operations included.

Cost: each cell is two runs of the Pulumi CLI, each a few seconds of CPU. The transport faults
(connection resets, HTTP 500, OperationTimeout storms) are first tried together, one `up` carrying
that fault on every operation: when that run passes every check with every fault fired, nothing
was hidden (each fault hit its command and was retried), so each cell is credited from it;
otherwise the group is halved until each failing cell is measured alone. World faults and hangs
always run alone. `run_matrix` is what the tests and `python -m ops.faultmatrix` call; `render`
prints the table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import settings
from ops import simstack
from ops.engine import Engine, Workspace, scratch_project, stack_document
from ops.model import DYNAMIC_TYPE_PREFIX, RunResult, Status
from providers import procedure
from simulator.world import Fault, FaultPlan, World
from simulator.world.faults import FaultInjector
from simulator.world.mastersecret import NotABackup, WrongPassword, current, open_backup
from simulator.wsman.backend import Directive, Session

STACK = "sim"
PROJECT_DIR = Path(__file__).absolute().parent.parent
FaultKind = Literal[
    "reset_before", "reset_after", "http_500", "timeouts", "hang", "reboot", "failover", "sql_unavailable"
]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "reset_before",
    "reset_after",
    "http_500",
    "timeouts",
    "hang",
    "reboot",
    "failover",
    "sql_unavailable",
)
DESCRIPTIONS: dict[FaultKind, str] = {
    "reset_before": "connection reset before the command runs",
    "reset_after": "connection reset after the command ran, before its output",
    "http_500": "HTTP 500 on the command",
    "timeouts": "an OperationTimeout storm before the output",
    "hang": "the command never completes (the runner's deadline ends it)",
    "reboot": "the node reboots before the command (its shells are lost)",
    "failover": "the node's roles fail over while the command runs",
    "sql_unavailable": "SQL Server unreachable while the command runs",
}
# Faults whose whole effect is on the wire: trying them together hides nothing when the run passes.
GROUPABLE: frozenset[FaultKind] = frozenset({"reset_before", "reset_after", "http_500", "timeouts"})
TIMEOUT_STORM = 8  # OperationTimeout faults before the output; the runner polls again after each
# The runner's limits in a cell: a hung command costs one deadline (settings allow no less than 30 s).
WINRM_OVERRIDES: dict[str, Any] = {"retryBackoffSeconds": 0.02, "operationTimeoutSeconds": 5, "deadlineSeconds": 30}
MAX_IDLE_CELLS = 10  # hung cells at once: each holds a worker, a Pulumi CLI and a provider host (~300 MB)
_CORE_GROUPS = {"CLUSTER GROUP", "AVAILABLE STORAGE"}
_OPERATIONS = frozenset(script.stem for script in (PROJECT_DIR / "providers" / "scripts").glob("*.ps1"))
_STEP = re.compile(r"\bsteps? \d+")
# What an error must say to tell an operator what to do: the runner's advice, or a provider's own remedy.
_ADVICE = re.compile(
    r"\b(check|fix|look for|raise|run (up|again|`)|unconfigure|change|restart|make sure|comes first)\b",
    re.IGNORECASE,
)

First = Literal["retried", "absorbed", "failed", "unclear", "not fired", "broken"]


@dataclass(frozen=True)
class Target:
    """One operation on one node, as a fault-free `up` runs it (`commands`: how many times)."""

    node: str
    operation: str
    commands: int

    @property
    def name(self) -> str:
        return f"{self.node}:{self.operation}"


@dataclass
class Baseline:
    """What a fault-free `up` does and leaves: the targets in first-run order and the world."""

    targets: list[Target]
    snapshot: dict[str, Any]
    commands: Counter[tuple[str, str]]
    seconds: float


@dataclass(frozen=True)
class Cell:
    target: Target
    fault: FaultKind
    first: First
    first_errors: tuple[str, ...] = ()  # the failed resources' errors in the first run
    converged: bool = False
    differences: tuple[str, ...] = ()  # world after the second run vs the fault-free world
    secret_problems: tuple[str, ...] = ()
    second_errors: tuple[str, ...] = ()
    group: int = 1  # cells measured by the same pair of runs (1: alone)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.first in ("retried", "absorbed", "failed") and self.converged and not self.secret_problems

    def problems(self) -> list[str]:
        found: list[str] = []
        if self.first == "unclear":
            found += [f"first up failed without naming node, step and remedy: {e}" for e in self.first_errors]
        elif self.first == "not fired":
            found.append("the fault never matched a command")
        elif self.first == "broken":
            found += [f"first up: {e}" for e in self.first_errors]
        found += [f"second up failed: {e}" for e in self.second_errors]
        if not self.converged:
            found += [f"world differs: {d}" for d in self.differences] or ["world differs"]
        found += [f"master secret: {p}" for p in self.secret_problems]
        return found

    def verdict(self) -> str:
        """The table's word for the cell."""
        if self.passed:
            return self.first
        if self.first in ("unclear", "not fired", "broken"):
            return self.first.upper()
        if self.secret_problems:
            return "SECRET"
        return "DIVERGED"


# ------------------------------------------------------------------------------------------- a stack


def fault(kind: FaultKind, node: str, operation: str) -> Fault:
    """The fault of a cell: on the first matching command of this operation on this node only."""
    return Fault(kind=kind, node=node, operation=operation, times=1, count=TIMEOUT_STORM)


_PORT_LOCK = threading.Lock()


@dataclass
class Sandbox:
    """One cell's simulated nodes (a freshly seeded world) and an engine on a project of its own in `directory`."""

    nodes: simstack.SimulatedStack
    config: settings.StackSettings
    engine: Engine
    commands: list[tuple[str, str]] = field(default_factory=list)

    @property
    def workspace(self) -> Workspace:
        return self.engine.workspace

    def up(self) -> tuple[RunResult, Counter[tuple[str, str]]]:
        """One `up`, and the (node, operation) of every command the nodes received during it."""
        start = len(self.commands)
        result = self.engine.up()
        return result, Counter(self.commands[start:])

    def clear_faults(self) -> None:
        self.nodes.host.faults = FaultInjector(None)


@contextmanager
def sandboxed(project_dir: Path, directory: Path, plan: FaultPlan | None = None) -> Iterator[Sandbox]:
    """The sim stack's nodes on free ports from a freshly seeded world, with `plan`, and an engine on a
    copy of the stack (ops.engine.scratch_project) under `directory`; the winrm limits are WINRM_OVERRIDES."""
    prefix = f"{settings.PROJECT}:"
    raw = stack_document(project_dir, STACK)["config"]
    winrm = {**raw[prefix + "winrm"], **WINRM_OVERRIDES}
    nodes: simstack.SimulatedStack | None = None
    workspace: Workspace | None = None
    with _PORT_LOCK:  # ports are found by binding: our own threads must not pick the same pair
        for _ in range(20):
            simulator = {**raw[prefix + "simulator"], "basePort": simstack.free_ports(2)}
            workspace = scratch_project(
                directory / "project",
                STACK,
                config={prefix + "winrm": winrm, prefix + "simulator": simulator},
                source=project_dir,
            )
            config = settings.load_stack_file(workspace.stack_file, STACK)
            try:
                nodes = simstack.start(config, ports="stack", plan=plan)
                break
            except OSError:  # another process took a port between the probe and the bind
                continue
    if nodes is None or workspace is None:
        raise RuntimeError("could not start the simulated nodes on free ports")
    sandbox = Sandbox(nodes, config, Engine(workspace))
    _record_commands(sandbox)
    try:
        yield sandbox
    finally:
        nodes.stop()


def _record_commands(sandbox: Sandbox) -> None:
    """Every command a node prepares passes the host's `directive`: record (node, operation) there."""
    host = sandbox.nodes.host
    decide = host.directive

    def recording(session: Session, operation: str) -> Directive:
        sandbox.commands.append((session.node.upper(), operation))
        return decide(session, operation)

    setattr(host, "directive", recording)  # noqa: B010 (an instance attribute shadows the method)


# ------------------------------------------------------------------------------------------- the world


def _stable_file_name(path: str) -> str:
    """A file's name without what differs between equal runs: the GUIDs and times Windows and our scripts put in
    log and report names (setup's log, Test-Cluster's validation report) become placeholders."""
    path = re.sub(r"[0-9a-f]{32}", "<guid>", path)
    return re.sub(r"\d{4}\.\d{2}\.\d{2} at \d{2}\.\d{2}\.\d{2}", "<time>", path)


def world_snapshot(world: World) -> dict[str, Any]:
    """The world as the stack shapes it, normalised: secret ids become labels in order of appearance
    (SSODB's first), and nothing that varies between equal runs (event logs, timestamps, secret and
    file bytes) is kept. Roles other than the ENTSSO one keep their resources but not their owner
    node: the cluster may legitimately run them on any possible owner, and no resource pins them."""
    labels: dict[str, str] = {}

    def label(secret_id: str) -> str:
        if not secret_id:
            return ""
        return labels.setdefault(secret_id.upper(), f"secret#{len(labels) + 1}")

    databases = {
        name: {
            "exists": db.exists,
            "secret_server": db.secret_server.upper(),
            "admin_group": db.admin_group,
            "affiliate_group": db.affiliate_group,
            "secret": label(db.secret_id),
            "servers": sorted(s.upper() for s in db.servers),
        }
        for name, db in sorted(world.sql.databases.items())
    }
    nodes: dict[str, Any] = {}
    for name, node in sorted(world.nodes.items()):
        secret = current(node)
        registry_keys: dict[str, Any] = {}
        for path, values in sorted(node.registry.items()):
            if "\\SSOSS" in path:
                path = re.sub(r"\{[0-9A-F-]+\}", lambda m: label(m.group(0)), path)
                values = {
                    k: (label(v) if k in ("CurrentMSID", "PreviousMSID") else "<secret>" if k == "Secret" else v)
                    for k, v in values.items()
                }
            registry_keys[path] = dict(sorted(values.items()))
        nodes[name] = {
            "up": node.up,
            "features": sorted(node.features),
            "products": sorted(node.products),
            "administrators": sorted(node.administrators),
            "services": {
                key: {"start_mode": s.start_mode, "account": s.account} for key, s in sorted(node.services.items())
            },
            "files": sorted(_stable_file_name(path) for path in node.files),
            "registry": registry_keys,
            "secret": label(secret.secret_id) if secret else "",
            "serves": sorted(n.upper() for n in node.endpoint_names),
            "loaded_secret": label(node.loaded_secret),
        }
    cluster: dict[str, Any] | None = None
    if world.cluster is not None:
        c = world.cluster
        entsso_groups = {r.group.upper() for r in c.resources.values() if r.type == "Generic Service"}
        cluster = {
            "name": c.name.upper(),
            "nodes": sorted(n.upper() for n in c.nodes),
            "management_point": c.management_point,
            "static_address": c.static_address,
            "quorum": {"type": c.quorum.type, "account": c.quorum.account_name, "endpoint": c.quorum.endpoint},
            "access": dict(sorted(c.access.items())),
            "dtc_settings": {k: dict(sorted(v.items())) for k, v in sorted(c.dtc_settings.items())},
            "roles": {
                key: {
                    "preferred_owners": [o.upper() for o in group.preferred_owners],
                    "owner": group.owner_node.upper() if key in entsso_groups else "(any possible owner)",
                    "resources": {
                        r.name: {
                            "type": r.type,
                            "parameters": dict(sorted(r.parameters.items())),
                            "dependencies": sorted(d.upper() for d in r.dependencies),
                            "possible_owners": sorted(o.upper() for o in r.possible_owners),
                            "state": r.state,
                        }
                        for r in sorted(c.group_resources(group.name), key=lambda r: r.name.upper())
                    },
                }
                for key, group in sorted(c.groups.items())
                if key not in _CORE_GROUPS
            },
            "core_resources": {
                r.name: {"type": r.type, "parameters": dict(sorted(r.parameters.items())), "state": r.state}
                for r in sorted(c.resources.values(), key=lambda r: r.name.upper())
                if r.group.upper() in _CORE_GROUPS
            },
        }
    return {
        "sql": {"available": world.sql.available, "databases": databases},
        "cluster": cluster,
        "disks": [
            {"lun": d.lun, "partition_style": d.partition_style, "partitions": len(d.partitions)} for d in world.disks
        ],
        "computers": {k: c.kind for k, c in sorted(world.domain.computers.items())},
        "nodes": nodes,
    }


def differences(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Where two snapshots differ, one line per leaf ('' when equal)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found: list[str] = []
        for key in sorted(set(expected) | set(actual), key=str):
            path = f"{where}.{key}" if where else str(key)
            if key not in actual:
                found.append(f"{path}: missing (expected {json.dumps(expected[key], default=str)[:120]})")
            elif key not in expected:
                found.append(f"{path}: unexpected {json.dumps(actual[key], default=str)[:120]}")
            else:
                found += differences(expected[key], actual[key], path)
        return found
    if expected != actual:
        return [f"{where}: {json.dumps(actual, default=str)[:160]}, expected {json.dumps(expected, default=str)[:160]}"]
    return []


def secret_problems(sandbox: Sandbox, result: RunResult) -> list[str]:
    """Check (c): a verified backup, one secret everywhere, and an SSO client gets it."""
    host, config = sandbox.nodes.host, sandbox.config
    problems: list[str] = []
    backup = _backup_record(sandbox.workspace.checkpoint())
    sha256 = str(result.outputs.get("backupSha256") or "").upper()
    with host.lock:
        world = host.world
        db = next((d for d in world.sql.databases.values() if d.exists), None)
        if db is None:
            return ["SSODB does not exist"]
        if backup is None:
            problems.append("the state holds no SecretBackup resource")
        else:
            node_name, path = backup
            node = world.node(node_name)
            content = node.file(path) if node is not None else None
            if content is None:
                problems.append(f"the backup {path} is not on {node_name}")
            elif hashlib.sha256(content).hexdigest().upper() != sha256:
                problems.append(f"backupSha256 {sha256 or '(none)'} is not the SHA-256 of {path} on {node_name}")
            else:
                try:
                    saved = open_backup(content, config.secret("backupPassword"))
                except (WrongPassword, NotABackup):
                    problems.append(f"{path} on {node_name} does not open with the backup password")
                else:
                    if saved.secret_id.upper() != db.secret_id.upper():
                        problems.append(f"the backup holds {saved.secret_id}, SSODB is encrypted with {db.secret_id}")
                    for name in world.cluster.nodes if world.cluster else []:
                        member = world.node(name)
                        held = current(member) if member is not None else None
                        if held is None:
                            problems.append(f"{name} holds no master secret")
                        elif held.secret_id.upper() != saved.secret_id.upper() or held.secret != saved.secret:
                            problems.append(f"{name} holds another master secret than the verified backup")
    ok, detail = host.client_check()
    if not ok:
        problems.append(f"an SSO client cannot get the secret: {detail}")
    return problems


def _backup_record(checkpoint: Path) -> tuple[str, str] | None:
    """(node, file) of the stack's SecretBackup, as the engine's checkpoint records its (non-secret) inputs."""
    try:
        document = json.loads(checkpoint.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for record in (document.get("checkpoint", {}).get("latest") or {}).get("resources", []):
        if str(record.get("type", "")).endswith(":SecretBackup") and not record.get("delete"):
            inputs = record.get("inputs") or {}
            node, path = inputs.get("node") or {}, inputs.get("backup_file")
            if isinstance(node, dict) and isinstance(node.get("name"), str) and isinstance(path, str):
                return node["name"], path
    return None


# ------------------------------------------------------------------------------------------- judging


def failed_resources(result: RunResult) -> list[str]:
    """The errors of the dynamic resources that failed (the stack and components fail with them)."""
    return [
        o.error or "(no error text)"
        for o in result.outcomes
        if o.status is Status.FAILED and o.type.startswith(DYNAMIC_TYPE_PREFIX)
    ]


def failed_errors(result: RunResult) -> list[str]:
    """The errors of the resources that failed, and a run error (the program, the CLI)."""
    errors = [
        f"{o.name}: {o.error or '(no error text)'}"
        for o in result.outcomes
        if o.status is Status.FAILED and o.type.startswith(DYNAMIC_TYPE_PREFIX)
    ]
    if result.error:
        errors.append(f"run: {result.error}")
    return errors


def clear_error(text: str, nodes: Iterable[str]) -> bool:
    """Whether a failure names a node, the operation (or a documented step) and what to do."""
    upper = text.upper()
    names_node = any(re.search(rf"\b{re.escape(n.upper())}\b", upper) for n in nodes)
    names_step = bool(_STEP.search(text)) or any(re.search(rf"\b{op}\b", text) for op in _OPERATIONS)
    return names_node and names_step and bool(_ADVICE.search(text))


def _judge_first(
    result: RunResult, counts: Counter[tuple[str, str]], baseline: Baseline, target: Target, nodes: Sequence[str]
) -> tuple[First, tuple[str, ...]]:
    if not result.failed:
        ran = counts[(target.node, target.operation)]
        return ("retried" if ran > baseline.commands[(target.node, target.operation)] else "absorbed"), ()
    errors = failed_errors(result)
    if not errors:
        return "broken", ("the run failed without a failed resource or an error",)
    resource_errors = failed_resources(result)
    if result.error or not all(clear_error(e, nodes) for e in resource_errors):
        return "unclear", tuple(errors)
    return "failed", tuple(errors)


def measure_baseline(project_dir: Path) -> Baseline:
    """A fault-free `up`: which (node, operation) pairs it runs, in order, and the world it leaves."""
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="entsso-faultmatrix-") as directory,
        sandboxed(project_dir, Path(directory), None) as sandbox,
    ):
        result, counts = sandbox.up()
        if result.failed:
            raise RuntimeError(f"the fault-free up failed: {'; '.join(failed_errors(result))}")
        problems = secret_problems(sandbox, result)
        if problems:
            raise RuntimeError(f"the fault-free up left the master secret broken: {'; '.join(problems)}")
        order = list(dict.fromkeys(sandbox.commands))
        snapshot = world_snapshot(sandbox.nodes.world)
    targets = [Target(node, operation, counts[(node, operation)]) for node, operation in order]
    return Baseline(targets, snapshot, counts, time.monotonic() - started)


def run_cells(project_dir: Path, baseline: Baseline, kind: FaultKind, targets: Sequence[Target]) -> list[Cell]:
    """Up with `kind` on the first command of each target, then up without faults; one cell per target."""
    started = time.monotonic()
    plan = FaultPlan(faults=[fault(kind, t.node, t.operation) for t in targets])
    try:
        with (
            tempfile.TemporaryDirectory(prefix="entsso-faultmatrix-") as directory,
            sandboxed(project_dir, Path(directory), plan) as sandbox,
        ):
            names = [n.name for n in sandbox.config.nodes]
            first, counts = sandbox.up()
            fired = sandbox.nodes.host.faults.fired()
            sandbox.clear_faults()
            second, _ = sandbox.up()
            diff = tuple(differences(baseline.snapshot, world_snapshot(sandbox.nodes.world)))
            secret = tuple(secret_problems(sandbox, second))
    except Exception as error:  # the run itself broke (a crashed worker, no ports): say so per cell
        problem = f"{type(error).__name__}: {error}"
        return [Cell(t, kind, "broken", (problem,), group=len(targets)) for t in targets]
    second_errors = tuple(failed_errors(second))
    elapsed = time.monotonic() - started
    cells: list[Cell] = []
    for index, target in enumerate(targets):
        verdict, errors = _judge_first(first, counts, baseline, target, names)
        if not fired[index]:
            verdict = "not fired"
        cells.append(
            Cell(
                target,
                kind,
                verdict,
                errors,
                converged=not diff and not second_errors,
                differences=diff,
                secret_problems=secret,
                second_errors=second_errors,
                group=len(targets),
                seconds=elapsed,
            )
        )
    return cells


# ------------------------------------------------------------------------------------------- the matrix


def select_targets(baseline: Baseline, operations: Iterable[str] | None) -> list[Target]:
    """Targets by operation name (`sso_get`: on every node it ran) or `NODE:operation`."""
    if operations is None:
        return list(baseline.targets)
    wanted = {w.upper() if ":" in w else w for w in operations}
    chosen = [t for t in baseline.targets if t.operation in wanted or t.name.upper() in wanted]
    known = {t.operation for t in baseline.targets} | {t.name.upper() for t in baseline.targets}
    unknown = sorted(wanted - known)
    if unknown:
        runs = ", ".join(t.name for t in baseline.targets)
        raise ValueError(f"a fault-free up runs no {', '.join(unknown)}; it runs {runs}")
    return chosen


def run_matrix(
    project_dir: Path,
    operations: Iterable[str] | None = None,
    faults: Iterable[FaultKind] | None = None,
    *,
    workers: int | None = None,
    idle_workers: int | None = None,
    baseline: Baseline | None = None,
    progress: Callable[[Cell], None] | None = None,
) -> list[Cell]:
    """Every (operation x fault) cell, in the baseline's operation order and FAULT_KINDS order.

    `operations` narrows the rows (`sso_get`: on every node it ran; `MSSNODE2:sso_get`: one node),
    `faults` the columns. `workers` cells run at once (default: CPUs + 1; a cell is mostly two
    engine processes); hung-command cells, which mostly wait for the runner's deadline, get
    `idle_workers` of their own (default: as few even waves as keep at most MAX_IDLE_CELLS at once).
    """
    kinds = list(dict.fromkeys(faults)) if faults is not None else list(FAULT_KINDS)
    for kind in kinds:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; the simulator injects {', '.join(FAULT_KINDS)}")
    base = baseline or measure_baseline(project_dir)
    targets = select_targets(base, operations)
    jobs: list[tuple[FaultKind, list[Target]]] = []
    for kind in kinds:
        if kind in GROUPABLE and len(targets) > 1:
            jobs.append((kind, list(targets)))
        else:
            jobs += [(kind, [target]) for target in targets]
    if idle_workers is None:
        idle_jobs = sum(kind == "hang" for kind, _ in jobs)
        idle_workers = math.ceil(idle_jobs / math.ceil(idle_jobs / MAX_IDLE_CELLS)) if idle_jobs else 1
    cells = _schedule(project_dir, base, jobs, workers, idle_workers, progress)
    order = {t.name: i for i, t in enumerate(targets)}
    return sorted(cells, key=lambda c: (order[c.target.name], FAULT_KINDS.index(c.fault)))


def run_pairs(
    project_dir: Path,
    pairs: Iterable[tuple[str, FaultKind]],
    *,
    workers: int | None = None,
    baseline: Baseline | None = None,
) -> list[Cell]:
    """Chosen cells, each measured alone: (operation or NODE:operation, fault); the first node an
    operation ran on when no node is named."""
    base = baseline or measure_baseline(project_dir)
    jobs: list[tuple[FaultKind, list[Target]]] = []
    for operation, kind in pairs:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; the simulator injects {', '.join(FAULT_KINDS)}")
        jobs.append((kind, select_targets(base, [operation])[:1]))
    return _schedule(project_dir, base, jobs, workers, len(jobs), None)


def _schedule(
    project_dir: Path,
    base: Baseline,
    jobs: Sequence[tuple[FaultKind, list[Target]]],
    workers: int | None,
    idle_workers: int,
    progress: Callable[[Cell], None] | None,
    measure: Callable[[Path, Baseline, FaultKind, Sequence[Target]], list[Cell]] | None = None,
) -> list[Cell]:
    """Run the jobs on two pools; a group with any cell that did not pass is halved and run again,
    so a failing cell is always reported from a run of its own."""
    measure = measure or run_cells
    busy = ThreadPoolExecutor(max_workers=workers or (os.cpu_count() or 1) + 1, thread_name_prefix="faultmatrix")
    idle = ThreadPoolExecutor(max_workers=max(1, idle_workers), thread_name_prefix="faultmatrix-idle")
    results: list[Cell] = []
    running: dict[Future[list[Cell]], tuple[FaultKind, list[Target]]] = {}

    def submit(kind: FaultKind, group: list[Target]) -> None:
        pool = idle if kind == "hang" else busy
        running[pool.submit(measure, project_dir, base, kind, group)] = (kind, group)

    try:
        for kind, group in jobs:
            submit(kind, group)
        while running:
            done, _ = wait(running, return_when="FIRST_COMPLETED")
            for future in done:
                kind, group = running.pop(future)
                cells = future.result()
                if len(group) > 1 and not all(cell.passed for cell in cells):
                    middle = len(group) // 2
                    submit(kind, group[:middle])
                    submit(kind, group[middle:])
                    continue
                results += cells
                if progress is not None:
                    for cell in cells:
                        progress(cell)
    finally:
        for future in running:
            future.cancel()
        busy.shutdown(wait=True)
        idle.shutdown(wait=True)
    return results


def _steps(operation: str) -> str:
    numbers = sorted({s.number for s in (procedure.PREREQUISITE, *procedure.STEPS) if s.operation == operation})
    if not numbers:
        return ""
    return "prereq" if numbers == [0] else "step " + ",".join(str(n) for n in numbers)


def render(cells: Sequence[Cell]) -> str:
    """The matrix as a table (operation x fault), a legend, and every problem in full."""
    if not cells:
        return "fault matrix: no cells"
    kinds = [k for k in FAULT_KINDS if any(c.fault == k for c in cells)]
    rows = list(dict.fromkeys(c.target for c in cells))
    by_key = {(c.target.name, c.fault): c for c in cells}
    label_width = max(len(f"{t.node} {t.operation} ({_steps(t.operation)})") for t in rows)
    width = max(max(len(k) for k in kinds), 9)
    lines = [
        f"{'operation':<{label_width}}  " + "  ".join(f"{k:<{width}}" for k in kinds),
        "-" * (label_width + (width + 2) * len(kinds)),
    ]
    for target in rows:
        steps = _steps(target.operation)
        label = f"{target.node} {target.operation}" + (f" ({steps})" if steps else "")
        words = [by_key[(target.name, k)].verdict() if (target.name, k) in by_key else "-" for k in kinds]
        lines.append(f"{label:<{label_width}}  " + "  ".join(f"{w:<{width}}" for w in words))
    passed = sum(c.passed for c in cells)
    tally = Counter(c.verdict() for c in cells)
    runs = {(c.fault, c.group, c.seconds) for c in cells}
    lines += [
        "",
        f"{len(cells)} cells ({len(rows)} operations x {len(kinds)} faults): {passed} passed; "
        + ", ".join(f"{n} {word}" for word, n in sorted(tally.items())),
        f"{2 * len(runs)} engine runs ({sum(c.group > 1 for c in cells)} cells credited from grouped runs)",
        "retried: the first up succeeded and the operation ran again after the fault; absorbed: the first up"
        " succeeded without re-running it; failed: the first up stopped with an error naming the node, the"
        " operation and what to do (the engine stopped the run there, as Pulumi does without"
        " --continue-on-error). In each of these the second up converged to the fault-free world and the"
        " master secret was intact (verified backup, one secret on every node, an SSO client gets it).",
        "faults: " + "; ".join(f"{k}: {DESCRIPTIONS[k]}" for k in kinds),
    ]
    for cell in cells:
        problems = cell.problems()
        if problems:
            lines.append(f"{cell.target.name} x {cell.fault}:")
            lines += [f"    {p}" for p in problems[:12]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ops.faultmatrix [--operation OP]... [--fault KIND]...`: print the matrix; exit 1 if a cell fails."""
    parser = argparse.ArgumentParser(prog="python -m ops.faultmatrix", description=main.__doc__)
    parser.add_argument("--operation", action="append", help="an operation or NODE:operation (repeatable)")
    parser.add_argument("--fault", action="append", choices=FAULT_KINDS, help="a fault kind (repeatable)")
    args = parser.parse_args(argv)
    started = time.monotonic()

    def show(cell: Cell) -> None:
        print(f"  {cell.target.name} x {cell.fault}: {cell.verdict()}", flush=True)

    cells = run_matrix(PROJECT_DIR, args.operation, args.fault, progress=show)
    print(render(cells))
    print(f"fault matrix: {time.monotonic() - started:.0f} s")
    return 0 if all(c.passed for c in cells) else 1


if __name__ == "__main__":
    raise SystemExit(main())
