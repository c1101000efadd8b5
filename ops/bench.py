"""`python -m ops bench`: the project's efficiency figures, each measured beside its baseline in one run.

    work      `up` from nothing, on simulated nodes whose operations take realistic (scaled) time,
              modelled back to real time, over the limit: the critical path of the same durations
              through what Windows really needs before each operation (providers/procedure.py), with
              one installer at a time on each node, over every order of them.    goal: at most 1.1x
              Beside it: the critical path through the program's own graph, and a naive plan that
              runs every operation in turn.
    protocol  HTTP requests of `up` (total and on the critical path) against the naive way: one fresh
              pywinrm Session (connection, NTLM handshake, shell) per operation; and the wall time of
              both at 50 ms round trip, NTLM with message encryption.             goal: at least 3x fewer
    noop      WinRM requests of `preview` and of `up` on a stack that has not changed, and the wall time of
              each as a ratio to the Pulumi CLI's preview of an empty program through the same path,
              run side by side (interleaved rounds, medians): the engine's own overhead per run over
              its fixed cost.                                                      goal: 0 and 0 requests
    startup   time and peak memory to build the prod graph under Pulumi's mocks: the Azure foundation,
              and the whole program with its dynamic resources registered but not run.  no goal set

It measures and prints the goal beside each figure; it never asserts one. Every run goes through
the real Pulumi engine (the pinned CLI, ops/engine.py) on a copy of the stack in a throwaway
project, and every node here is simulated on free ports with its own world, so the stack's own
simulator, ports, world and backend are never touched. Exit 0 when every benchmark ran (goals met or not),
1 when one could not run.
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import math
import os
import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import winrm
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import settings
from ops import progress, simstack, startup_bench
from ops.engine import Engine, Workspace, scratch_project, stack_document
from ops.model import Event, RunResult, Status, urn_name
from providers import procedure, runner_wire
from simulator.shell import SimulatedShell
from simulator.world import FaultPlan, WorldHost
from simulator.wsman import soap
from simulator.wsman.backend import Directive, Outcome, PreparedCommand, Session
from simulator.wsman.server import WsManServer
from simulator.wsman.shells import CounterSnapshot

EXIT_OK, EXIT_FAILED = 0, 1
PREFIX = f"{settings.PROJECT}:"

# --- realistic durations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    seconds: float  # on a real node
    source: str  # why this figure


# Seconds each operation takes on a real Windows Server 2022 node (D2s_v5 class), one line of
# justification each. Every operation of docs/operations.md is here (tests/test_bench.py holds it).
REALISTIC: dict[str, Duration] = {
    "feature_get": Duration(8, "Get-WindowsFeature reads the CBS feature store: 5-10 s cold"),
    "feature_install": Duration(240, "Install-WindowsFeature Failover-Clustering -IncludeManagementTools: ~4 min"),
    "cluster_get": Duration(2, "Get-Cluster: loading the FailoverClusters module dominates, 1-3 s"),
    "cluster_test": Duration(120, "Test-Cluster Inventory/Network/System Configuration, two nodes: 1-3 min"),
    "cluster_new": Duration(120, "New-Cluster -NoStorage: forms the cluster, creates the CNO in AD, ~2 min"),
    "cluster_quorum_set": Duration(20, "Set-ClusterQuorum -CloudWitness: creates the witness blob over HTTPS"),
    "cluster_heartbeat_set": Duration(3, "(Get-Cluster).<property> = value: cluster common properties, immediate"),
    "cluster_remove": Duration(60, "Remove-Cluster -CleanupAD -Force: evicts nodes, removes CNO/VCOs, ~1 min"),
    "sso_get": Duration(2, "Win32_Service query and two registry reads"),
    "sso_install": Duration(360, "silent BizTalk setup of the SSO features (msiexec, .NET checks): ~6 min"),
    "sso_configure": Duration(180, "Configuration.exe /s: creates or joins SSODB, registers ENTSSO: ~3 min"),
    "sso_unconfigure": Duration(60, "Configuration.exe /u: unregisters ENTSSO from SSODB, ~1 min"),
    "secret_backup": Duration(10, "ISSOConfigSS.BackupSecret over COM, then the file read back: ~10 s"),
    "file_get": Duration(1, "Get-Item and Get-FileHash of a few-KB file"),
    "file_put": Duration(2, "decode and write a few KB, verify its SHA-256"),
    "file_remove": Duration(1, "Remove-Item of one file"),
    "sso_service_set": Duration(15, "Set-Service and Stop-Service ENTSSO: the service takes 10-20 s to stop"),
    "secret_server_get": Duration(3, "ISSOConfigDB.GetDBInfo: one COM call and a SQL round trip"),
    "secret_server_set": Duration(20, "ssomanage -updatedb, waiting out its DTC errors, then GetDBInfo again"),
    "dtc_get": Duration(3, "Get-ClusterResource/Get-DtcNetworkSetting for one role"),
    "dtc_set": Duration(90, "Add-ClusterServerRole with disk, DTC resource online, DTC restart: 1-2 min"),
    "dtc_remove": Duration(30, "Stop-ClusterGroup and Remove-ClusterGroup -RemoveResources"),
    "role_get": Duration(2, "Get-ClusterGroup/Resource/OwnerNode/Access for one role"),
    "role_set": Duration(45, "Add-ClusterServerRole: VCO in AD, DNS registration, IP and name online"),
    "generic_service_set": Duration(40, "Add-ClusterResource Generic Service, dependency, owners, cycle online"),
    "role_move": Duration(30, "Move-ClusterGroup and a Stop/Start of the ENTSSO resource: ~30 s"),
    "role_remove": Duration(20, "Stop-ClusterGroup and Remove-ClusterGroup -RemoveResources"),
    "secret_restore": Duration(10, "ISSOConfigSS.RestoreSecret over COM, copy deleted, MSID read back"),
    "secret_get": Duration(2, "registry read and an event-log query for the latest secret event"),
    "sso_client_check": Duration(3, "ISSOConfigOM.GetServerStatus and two event-log queries: no backup is written"),
}
# One scale for every duration: a real minute becomes one second, so `up` runs in well under a minute.
SCALE = 1 / 60
ROUND_TRIP = 0.050  # seconds the simulator adds to every HTTP request in the protocol benchmark


def scaled_durations() -> dict[str, float]:
    return {operation: duration.seconds * SCALE for operation, duration in REALISTIC.items()}


# --- what the simulated nodes saw ----------------------------------------------------------------


@dataclass
class OperationRun:
    """One operation a node executed, with the envelope it came in (held in memory only: it has secrets)."""

    node: str
    connection: int
    operation: str
    envelope: bytes
    started: float
    finished: float = math.nan
    stdout: bytes = b""

    def result(self) -> dict[str, object]:
        outcome = runner_wire.read_result(self.stdout)
        return outcome.result if outcome is not None and outcome.ok else {}

    def parameter(self, name: str) -> str:
        """One of the operation's parameters as text ('' when it has none); never a secret one's (not asked)."""
        try:
            parameters = json.loads(base64.b64decode(self.envelope.strip())).get("parameters") or {}
        except ValueError:
            return ""
        return str(parameters.get(name) or "")


@dataclass
class Connection:
    """One shell on one node (one resource operation's, as the runner opens them) and the HTTP requests it took.

    The runner keeps authenticated connections between resource operations, so one TCP connection
    may carry several shells in turn: a new connection's authentication counts for its first shell.
    """

    id: int
    node: str
    requests: int = 0
    operations: list[OperationRun] = field(default_factory=list)

    def span(self) -> tuple[float, float]:
        runs = [run for run in self.operations if not math.isnan(run.finished)]
        if not runs:
            return (math.nan, math.nan)
        return (min(run.started for run in runs), max(run.finished for run in runs))


class Traffic:
    """Every HTTP request and operation the simulated nodes served, grouped by shell.

    The WS-Man server handles each TCP connection in a thread of its own, and a connection carries
    one shell at a time: a thread-local holds the shell its connection last created. Requests that
    are not SOAP (the authentication handshake, the empty POST that sets up encryption) count for
    the next shell their connection creates.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._local = threading.local()
        self._connections: list[Connection] = []

    def _new_shell(self, node: str) -> Connection:
        with self._lock:
            shell = Connection(next(self._ids), node)
            self._connections.append(shell)
        self._local.connection = shell
        return shell

    def _connection(self, node: str) -> Connection:
        current: Connection | None = getattr(self._local, "connection", None)
        return current if current is not None else self._new_shell(node)

    def request(self, node: str) -> None:
        self._local.unassigned = getattr(self._local, "unassigned", 0) + 1

    def soap(self, node: str, action: str) -> None:
        """A SOAP request on this thread's connection: it and the requests before it count for its shell."""
        shell = self._new_shell(node) if action == "Create" else self._connection(node)
        with self._lock:
            shell.requests += getattr(self._local, "unassigned", 0)
        self._local.unassigned = 0

    def operation(self, node: str, operation: str, envelope: bytes) -> OperationRun:
        connection = self._connection(node)
        run = OperationRun(node, connection.id, operation, envelope, time.monotonic())
        with self._lock:
            connection.operations.append(run)
        return run

    def take(self) -> list[Connection]:
        """What was recorded since the last take (a shell still open keeps counting in its old record)."""
        with self._lock:
            taken, self._connections = self._connections, []
            return taken


class _TimedCommand:
    """A prepared command whose execution (after the directive's duration) is noted."""

    def __init__(self, inner: PreparedCommand, run: OperationRun) -> None:
        self._inner = inner
        self._run = run
        self.directive: Directive = inner.directive
        self.operation: str | None = inner.operation

    def execute(self) -> Outcome:
        outcome = self._inner.execute()
        self._run.finished = time.monotonic()
        self._run.stdout = outcome.stdout
        return outcome


class _ProbedShell:
    """A node's simulated shell that tells `traffic` about every request and every operation."""

    def __init__(self, inner: SimulatedShell, node: str, traffic: Traffic) -> None:
        self._inner = inner
        self._node = node
        self._traffic = traffic

    def request_delay(self) -> float:  # the server asks once per HTTP request, in the request's thread
        self._traffic.request(self._node)
        return self._inner.request_delay()

    def prepare(self, session: Session, command: str, arguments: list[str], stdin: bytes) -> PreparedCommand:
        prepared = self._inner.prepare(session, command, arguments, stdin)
        if prepared.operation is None:
            return prepared
        return _TimedCommand(prepared, self._traffic.operation(self._node, prepared.operation, stdin))


class _ProbedServer(WsManServer):
    """A node's WS-Man server that tells `traffic` the action of every SOAP request, in the request's thread."""

    def __init__(self, traffic: Traffic, node: str, *args: Any, **options: Any) -> None:
        super().__init__(node, *args, **options)
        self._traffic = traffic

    def dispatch(self, request: soap.Request, session: Session, client_ip: str) -> bytes:
        self._traffic.soap(self.node, request.action)
        return super().dispatch(request, session, client_ip)


def _dropper(server: WsManServer) -> Callable[[str], None]:
    """A rebooted node loses its WinRM shells (as in simstack)."""

    def drop(node: str) -> None:
        if node.upper() == server.node.upper():
            server.drop_shells()

    return drop


@contextmanager
def probed_nodes(
    config: settings.StackSettings, plan: FaultPlan, base_port: int = 0
) -> Iterator[tuple[simstack.SimulatedStack, Traffic]]:
    """The stack's nodes (seeded world, the plan's durations and delays) on base_port+i, or any free ports.

    Assembled as `simstack.start` does, with each node's shell probed.
    """
    host = WorldHost(simstack.seeded_world(config), plan=plan)
    stack = simstack.SimulatedStack(host)
    traffic = Traffic()
    try:
        for index, node in enumerate(config.nodes):
            server = _ProbedServer(
                traffic,
                node.name,
                _ProbedShell(SimulatedShell(host), node.name, traffic),
                port=base_port + index if base_port else 0,
                **simstack.listener(config, host.world),
            )
            server.start()
            stack.servers.append(server)
            host.on_reboot(_dropper(server))
        yield stack, traffic
    finally:
        stack.stop()


@dataclass(frozen=True)
class Wire:
    """The HTTP requests the nodes served over a span, by WS-Man action."""

    requests: int
    shells: int
    actions: dict[str, int]

    def mix(self) -> str:
        """e.g. `NTLM+setup 48, Create 16, Command 43, ...`: requests with no SOAP action authenticate."""
        order = ("Create", "Command", "Send", "Receive", "Signal", "Delete")
        parts = [f"NTLM+setup {self.requests - sum(self.actions.values())}"]
        parts += [f"{action} {self.actions[action]}" for action in order if self.actions.get(action)]
        parts += [f"{action} {count}" for action, count in sorted(self.actions.items()) if action not in order]
        return ", ".join(parts)


def mark(nodes: simstack.SimulatedStack) -> list[CounterSnapshot]:
    return [server.counters.snapshot() for server in nodes.servers]


def wire_since(nodes: simstack.SimulatedStack, before: Sequence[CounterSnapshot]) -> Wire:
    actions: Counter[str] = Counter()
    requests = shells = 0
    for server, old in zip(nodes.servers, before, strict=True):
        now = server.counters.snapshot()
        requests += now.http_requests - old.http_requests
        shells += now.shells_created - old.shells_created
        actions.update(now.actions[len(old.actions) :])
    return Wire(requests, shells, dict(actions))


# --- runs of the program -------------------------------------------------------------------------


@dataclass
class Measured:
    result: RunResult
    wall: float
    started_at: float  # monotonic, when the run was asked for
    wire: Wire  # what the nodes served during the run
    connections: list[Connection]
    windows: dict[str, tuple[float, float]]  # urn -> (start event, end event), monotonic

    @property
    def requests(self) -> int:
        return self.wire.requests

    def operations(self) -> list[OperationRun]:
        runs = [run for c in self.connections for run in c.operations if not math.isnan(run.finished)]
        return sorted(runs, key=lambda run: run.started)

    def failure(self) -> str | None:
        if self.result.error:
            return self.result.error.strip().splitlines()[-1]
        for outcome in self.result.outcomes:
            if outcome.status is Status.FAILED:
                return f"{outcome.name}: {progress.first_line(outcome.error)}"
        return None


class BenchError(Exception):
    """A benchmark could not be measured (a run failed, the graph could not be read)."""


@dataclass
class ProbedStack:
    """The stack's program against probed simulated nodes on free ports, on a copy of the stack in a
    throwaway project (its own backend)."""

    workspace: Workspace
    nodes: simstack.SimulatedStack
    traffic: Traffic

    @property
    def checkpoint(self) -> Path:
        return self.workspace.checkpoint()

    def run(self, operation: str) -> Measured:
        stamped: list[tuple[float, Event]] = []
        engine = Engine(self.workspace, on_event=lambda event: stamped.append((time.monotonic(), event)))
        engine.ensure_stack()  # `stack select --create` is set-up, not the operation
        self.traffic.take()
        before = mark(self.nodes)
        started_at = time.monotonic()
        result: RunResult = getattr(engine, operation)()
        wall = time.monotonic() - started_at
        windows: dict[str, tuple[float, float]] = {}
        for at, event in stamped:
            first, _ = windows.get(event.urn, (at, at))
            windows[event.urn] = (first if event.phase == "end" else at, at)
        return Measured(result, wall, started_at, wire_since(self.nodes, before), self.traffic.take(), windows)


@contextmanager
def probed_stack(
    project_dir: Path, stack: str, config: settings.StackSettings, plan: FaultPlan
) -> Iterator[ProbedStack]:
    base = simstack.free_ports(len(config.nodes))
    simulator = {**stack_document(project_dir, stack)["config"][PREFIX + "simulator"], "basePort": base}
    with (
        tempfile.TemporaryDirectory(prefix="entsso-bench-") as folder,
        probed_nodes(config, plan, base) as (nodes, traffic),
    ):
        workspace = scratch_project(Path(folder), stack, config={PREFIX + "simulator": simulator}, source=project_dir)
        yield ProbedStack(workspace, nodes, traffic)


# --- the dependency graph and its critical path --------------------------------------------------


@dataclass(frozen=True)
class GraphResource:
    urn: str
    type: str
    depends_on: frozenset[str]
    nodes: tuple[str, ...]  # the node names its inputs name; empty when it names none

    @property
    def name(self) -> str:
        return urn_name(self.urn)

    @property
    def kind(self) -> str:
        return self.type.rsplit(":", 1)[-1]


def read_graph(checkpoint: Path) -> dict[str, GraphResource]:
    """The resources and their dependencies as the program declared them, from the engine's checkpoint.

    Only the readable fields are used (urn, type, dependencies, parent, node names); no secret is decrypted.
    """
    try:
        document = json.loads(checkpoint.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BenchError(f"cannot read the checkpoint {checkpoint}: {error}") from error
    graph: dict[str, GraphResource] = {}
    for record in (document.get("checkpoint", {}).get("latest") or {}).get("resources") or []:
        if record.get("delete") or str(record.get("type", "")).startswith("pulumi:providers:"):
            continue
        needed = set(record.get("dependencies") or [])
        for urns in (record.get("propertyDependencies") or {}).values():
            needed.update(urns)
        if record.get("parent"):
            needed.add(record["parent"])
        needed.discard(record["urn"])
        inputs = record.get("inputs") or {}
        targets = [inputs.get("node"), *(inputs.get("nodes") or [])]
        names = tuple(str(t["name"]) for t in targets if isinstance(t, dict) and isinstance(t.get("name"), str))
        graph[record["urn"]] = GraphResource(record["urn"], record["type"], frozenset(needed), names)
    return graph


def critical_path(depends_on: Mapping[str, frozenset[str]], weight: Mapping[str, float]) -> tuple[float, list[str]]:
    """The heaviest chain through the graph (a resource starts once all it depends on are done)."""
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}

    def done(urn: str, visiting: frozenset[str]) -> float:
        if urn in finish:
            return finish[urn]
        if urn in visiting:
            raise BenchError(f"the dependency graph has a cycle through {urn.rsplit('::', 1)[-1]}")
        best, before = 0.0, None
        for needed in sorted(depends_on.get(urn, frozenset())):
            if needed not in depends_on:
                continue
            candidate = done(needed, visiting | {urn})
            if before is None or candidate > best:
                best, before = candidate, needed
        finish[urn], via[urn] = best + weight.get(urn, 0.0), before
        return finish[urn]

    if not depends_on:
        return 0.0, []
    last = max(sorted(depends_on), key=lambda urn: done(urn, frozenset()))
    chain: list[str] = []
    step: str | None = last
    while step is not None:
        chain.append(step)
        step = via[step]
    return finish[last], list(reversed(chain))


# --- the limit: the plan of what Windows really needs --------------------------------------------


@dataclass(frozen=True)
class Limit:
    seconds: float  # real seconds (the realistic durations)
    path: list[procedure.Task]
    orders: dict[str, tuple[str, ...]]  # node -> its installers in the order that reaches the limit


def stack_plan(config: settings.StackSettings) -> list[procedure.Task]:
    """What a fresh `up` of this stack must do (procedure.plan) for its nodes, witness, heartbeat and DTC."""
    return procedure.plan(
        [node.name for node in config.nodes],
        witness=config.cluster.witness == "cloud",
        heartbeat=config.cluster.heartbeat_for(config.target) is not None,
        dtc=config.dtc.enabled and config.dtc.ip is not None,
    )


def limit(tasks: list[procedure.Task], durations: Mapping[str, float], order: tuple[str, ...] | None = None) -> Limit:
    """The shortest time the plan can take: the critical path through what each operation really needs,
    with a node's installers one after the other (one installer at a time), over every order of them on
    every node (an exact search: n! orders per node), or in `order` on every node when given."""
    missing = sorted({t.script for t in tasks} - set(durations))
    if missing:
        raise BenchError(f"no realistic duration for {', '.join(missing)} (add it to REALISTIC)")
    needs: dict[str, set[str]] = {t.key: set() for t in tasks}
    for edge in procedure.edges(tasks):
        needs[edge.after].add(edge.before)
    by_key = {t.key: t for t in tasks}
    weight = {t.key: durations[t.script] for t in tasks}
    installers: dict[str, list[str]] = {}
    for task in tasks:
        if task.operation in procedure.INSTALLERS and task.node:
            installers.setdefault(task.node, []).append(task.operation)
    nodes = sorted(installers)
    choices = [
        [order] if order is not None else list(itertools.permutations(sorted(installers[node]))) for node in nodes
    ]
    best: Limit | None = None
    for combination in itertools.product(*choices):
        depends = {key: set(before) for key, before in needs.items()}
        for node, chosen in zip(nodes, combination, strict=True):
            for first, second in itertools.pairwise(chosen):
                depends[f"{second}@{node}"].add(f"{first}@{node}")
        length, chain = critical_path({key: frozenset(v) for key, v in depends.items()}, weight)
        if best is None or length < best.seconds - 1e-9:
            best = Limit(length, [by_key[key] for key in chain], dict(zip(nodes, combination, strict=True)))
    assert best is not None
    return best


# The node a plan task names is where the operation runs, except a role_move's: the node it moves the role to.
TARGET_PARAMETER = {"role_move": "Node"}


def plan_task(run: OperationRun) -> tuple[str, str]:
    """The plan's name for what a run did (`sso_configure Create`, `role_move`) and the node it names."""
    mode = run.parameter("Mode") if run.operation == "sso_configure" else ""
    target = TARGET_PARAMETER.get(run.operation)
    return f"{run.operation} {mode}".strip(), run.parameter(target) if target else run.node


def match_plan(tasks: list[procedure.Task], runs: Sequence[OperationRun]) -> tuple[list[str], list[OperationRun]]:
    """Which tasks of the plan `up` did not run (keys), and which runs the plan has no task for (reads, and
    sets the plan does without), matching by operation (and mode) and node (any node for a cluster task)."""
    left = list(runs)
    missing: list[str] = []
    for task in tasks:
        found = next(
            (
                run
                for run in left
                if plan_task(run)[0] == task.operation
                and (task.node is None or plan_task(run)[1].upper() == task.node.upper())
            ),
            None,
        )
        if found is None:
            missing.append(task.key)
        else:
            left.remove(found)
    return missing, left


def _tally(runs: Sequence[OperationRun], *, by_node: bool) -> str:
    counted = Counter(
        f"{plan_task(run)[0]} {'to' if run.operation in TARGET_PARAMETER else 'on'} {plan_task(run)[1]}"
        if by_node
        else run.operation
        for run in runs
    )
    return ", ".join(f"{name} x{count}" if count > 1 else name for name, count in sorted(counted.items())) or "none"


def _path(path: Sequence[procedure.Task], durations: Mapping[str, float]) -> str:
    return " > ".join(
        f"{task.script}{' ' + task.node if task.node else ''} {_clock(durations[task.script])}"
        for task in path
        if durations.get(task.script)
    )


PROVIDERS_DIR = Path(__file__).resolve().parent.parent / "providers"
_CALL = re.compile(r"\.call\(\s*\"([a-z][a-z0-9_]*)\"")


@functools.cache
def operations_called_by(kind: str) -> frozenset[str]:
    """The operations a dynamic resource's provider calls (`remote.call("op", ...)` in its module).

    `SecretServerName` lives in providers/secret_server_name.py; an unknown kind calls none.
    """
    module = PROVIDERS_DIR / (re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower() + ".py")
    if not module.is_file():
        return frozenset()
    return frozenset(_CALL.findall(module.read_text(encoding="utf-8")))


def attribute(
    connections: Sequence[Connection], windows: Mapping[str, tuple[float, float]], graph: Mapping[str, GraphResource]
) -> dict[str, list[Connection]]:
    """Which resource each connection worked for.

    A connection belongs to the resource whose step was under way while its operations ran, on a
    node the resource names; when two such steps overlap (the engine runs independent resources
    side by side), to the one whose provider calls every operation that ran on it.
    """
    owned: dict[str, list[Connection]] = {urn: [] for urn in graph}
    for connection in connections:
        first, last = connection.span()
        if math.isnan(first):
            continue  # no operation ran on it (nothing to attribute; its requests still count in totals)
        candidates = [
            urn
            for urn, (start, end) in windows.items()
            if urn in graph
            and start <= first
            and last <= end
            and (not graph[urn].nodes or connection.node.upper() in {n.upper() for n in graph[urn].nodes})
        ]
        if len(candidates) > 1:
            ran = {run.operation for run in connection.operations}
            candidates = [urn for urn in candidates if ran <= operations_called_by(graph[urn].kind)] or candidates
        if len(candidates) != 1:
            operations = ", ".join(run.operation for run in connection.operations)
            names = ", ".join(urn_name(urn) for urn in candidates) or "no resource"
            raise BenchError(f"cannot tell which resource ran {operations} on {connection.node} ({names})")
        owned[candidates[0]].append(connection)
    return owned


# --- figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    name: str
    value: str
    goal: str = ""
    met: bool | None = None  # None: this figure has no goal of its own


@dataclass
class BenchOutcome:
    benchmark: str
    figures: list[Figure] = field(default_factory=list)
    verdict: str = ""  # one line per goal; empty when the benchmark has no goal
    error: str | None = None


@dataclass(frozen=True)
class Context:
    project_dir: Path
    stack: str
    config: settings.StackSettings


def _seconds(value: float) -> str:
    return f"{value:.2f} s"


def _real(value: float) -> str:
    """Scaled seconds as the real time they stand for."""
    return _minutes(value / SCALE) + " real"


def _minutes(real_seconds: float) -> str:
    minutes, seconds = divmod(round(real_seconds), 60)
    return f"{minutes} min {seconds:02d} s"


def _clock(real_seconds: float) -> str:
    minutes, seconds = divmod(round(real_seconds), 60)
    return f"{minutes}:{seconds:02d}"


def _ratio(value: float) -> str:
    return f"{value:.2f}x"


def _met(flag: bool) -> str:
    return "met" if flag else "NOT met"


def bench_work(context: Context) -> BenchOutcome:
    outcome = BenchOutcome("work")
    durations = scaled_durations()
    real = {operation: duration.seconds for operation, duration in REALISTIC.items()}
    tasks = stack_plan(context.config)
    at_limit = limit(tasks, real)
    with_program = limit(tasks, real, procedure.INSTALL_ORDER)
    with probed_stack(context.project_dir, context.stack, context.config, FaultPlan(durations=durations)) as sim:
        up = sim.run("up")
        problem = up.failure()
        if problem:
            raise BenchError(f"up failed: {problem}")
        graph = read_graph(sim.checkpoint)
    owned = attribute(up.connections, up.windows, graph)
    runs = up.operations()
    missing = sorted({run.operation for run in runs} - set(durations))
    if missing:
        raise BenchError(f"no realistic duration for {', '.join(missing)} (add it to REALISTIC)")
    unrun, beyond = match_plan(tasks, runs)
    if unrun:
        raise BenchError(f"up did not run {', '.join(unrun)}: providers/procedure.py's plan no longer describes up")
    weight = {urn: sum(durations[r.operation] for c in owned[urn] for r in c.operations) for urn in graph}
    path, chain = critical_path({urn: r.depends_on for urn, r in graph.items()}, weight)
    naive = sum(durations[run.operation] for run in runs)
    if path <= 0:
        raise BenchError("up ran no operation with a duration; nothing to compare")
    first_op = min(run.started for run in runs) - up.started_at
    after_last = up.started_at + up.wall - max(run.finished for run in runs)
    # The run waited out the scaled durations on its critical path; everything else in its wall time (the
    # engine, WinRM, the simulated nodes' own work) took the time it takes. Real nodes take the real durations.
    modelled = path / SCALE + (up.wall - path)
    ratio = modelled / at_limit.seconds
    reads = [run for run in beyond if run.operation.endswith("_get")]
    extra_sets = [run for run in beyond if not run.operation.endswith("_get")]
    orders = "; ".join(f"{node}: {' > '.join(order)}" for node, order in at_limit.orders.items())
    outcome.figures = [
        Figure("operations run by up", f"{len(runs)} on {sum(1 for c in owned.values() if c)} resources"),
        Figure("scale of every duration", f"1 real min = {60 * SCALE:g} s here; round trip 0 ms"),
        Figure("the limit (what Windows needs, one installer per node)", _minutes(at_limit.seconds)),
        Figure("  through", _path(at_limit.path, real)),
        Figure("  installers at the limit", orders),
        Figure(
            "  with the program's order on every node",
            f"{_minutes(with_program.seconds)} ({' > '.join(procedure.INSTALL_ORDER)})",
        ),
        Figure("up beyond the plan: reads", f"{len(reads)} ({_tally(reads, by_node=False)})"),
        Figure("up beyond the plan: other operations", _tally(extra_sets, by_node=True)),
        Figure("critical path through the program's graph", f"{_seconds(path)} ({_real(path)})"),
        Figure("  through", " > ".join(graph[urn].name for urn in chain if weight.get(urn))),
        Figure("naive plan (every operation in turn)", f"{_seconds(naive)} ({_real(naive)})"),
        Figure("up wall time", _seconds(up.wall)),
        Figure("  before the first operation / after the last", f"{_seconds(first_op)} / {_seconds(after_last)}"),
        Figure("modelled up (its critical path's waits at real length)", _minutes(modelled)),
        Figure("modelled up / the limit", _ratio(ratio), "<= 1.10x", ratio <= 1.1),
        Figure("  the graph's critical path / the limit", _ratio(path / SCALE / at_limit.seconds)),
        Figure("  up / the graph's critical path (scaled)", _ratio(up.wall / path)),
        Figure("up / naive plan", _ratio(up.wall / naive)),
    ]
    outcome.verdict = (
        f"work efficiency: up, modelled at {_minutes(modelled)}, is {_ratio(ratio)} the limit of "
        f"{_minutes(at_limit.seconds)} (goal at most 1.1x): {_met(ratio <= 1.1)}"
    )
    return outcome


def _learn(learned: dict[str, str], recorded: object, fresh: object) -> None:
    """Values the naive run's world answers differently (a new master secret, its backup's bytes)."""
    if isinstance(recorded, dict) and isinstance(fresh, dict):
        for key in recorded.keys() & fresh.keys():
            _learn(learned, recorded[key], fresh[key])
    elif isinstance(recorded, list) and isinstance(fresh, list):
        for old, new in zip(recorded, fresh, strict=False):
            _learn(learned, old, new)
    elif isinstance(recorded, str) and isinstance(fresh, str) and recorded != fresh and len(recorded) >= 8:
        learned[recorded] = fresh


def _substitute(value: object, learned: Mapping[str, str]) -> object:
    if isinstance(value, str):
        return learned.get(value, value)
    if isinstance(value, list):
        return [_substitute(item, learned) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, learned) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class NaiveRun:
    wire: Wire
    wall: float


def run_naive(config: settings.StackSettings, nodes: simstack.SimulatedStack, runs: Sequence[OperationRun]) -> NaiveRun:
    """Each operation `up` ran, in the order it ran them, the naive way, against `nodes` (a fresh world).

    One `winrm.Session` per operation: a new connection, NTLM handshake with message encryption and
    shell, then the command as `Session.run_cmd` runs it (open_shell, run_command, output,
    cleanup, close_shell), with the same bootstrap command line and the envelope on stdin. A value
    the new world answers differently (the master secret's id, the backup's bytes) is carried into
    the later operations that use it, as a script-per-step operator would carry it.
    """
    auth = (config.domain.install_account, config.secret("installPassword"))
    chunk = 65536  # the runner's stdin_chunk_bytes: the same Sends per command
    learned: dict[str, str] = {}
    before = mark(nodes)
    started = time.monotonic()
    for run in runs:
        document = json.loads(base64.b64decode(run.envelope.strip()))
        parameters = _substitute(document["parameters"], learned)
        assert isinstance(parameters, dict)
        stdin = runner_wire.envelope(run.operation, document["script"], parameters)
        session = winrm.Session(nodes.endpoints[run.node], auth, transport="ntlm")
        protocol = session.protocol
        shell_id = protocol.open_shell()
        command_id = protocol.run_command(shell_id, runner_wire.POWERSHELL, runner_wire.bootstrap_arguments())
        for start in range(0, len(stdin), chunk):
            end = start + chunk >= len(stdin)
            protocol.send_command_input(shell_id, command_id, stdin[start : start + chunk], end=end)
        stdout, _stderr, _code = protocol.get_command_output(shell_id, command_id)
        protocol.cleanup_command(shell_id, command_id)
        protocol.close_shell(shell_id)
        answer = runner_wire.read_result(stdout)
        if answer is None or not answer.ok:
            error_id = answer.error_id if answer is not None else "no result line"
            raise BenchError(f"the naive {run.operation} on {run.node} failed ({error_id or 'script error'})")
        _learn(learned, run.result(), answer.result)
    return NaiveRun(wire_since(nodes, before), time.monotonic() - started)


def bench_protocol(context: Context) -> BenchOutcome:
    outcome = BenchOutcome("protocol")
    plan = FaultPlan(request_delay=ROUND_TRIP)
    with probed_stack(context.project_dir, context.stack, context.config, plan) as sim:
        up = sim.run("up")
        problem = up.failure()
        if problem:
            raise BenchError(f"up failed: {problem}")
        graph = read_graph(sim.checkpoint)
    owned = attribute(up.connections, up.windows, graph)
    weight = {urn: float(sum(c.requests for c in owned[urn])) for urn in graph}
    on_path, _ = critical_path({urn: r.depends_on for urn, r in graph.items()}, weight)
    runs = up.operations()
    with probed_nodes(context.config, plan) as (nodes, _traffic):
        naive = run_naive(context.config, nodes, runs)
    fewer = naive.wire.requests / up.requests if up.requests else math.inf
    fewer_on_path = naive.wire.requests / on_path if on_path else math.inf
    rtt = f"{ROUND_TRIP * 1000:.0f} ms"
    outcome.figures = [
        Figure("operations (both ways)", f"{len(runs)}; NTLM, message encryption, round trip {rtt}"),
        Figure("up: HTTP requests", f"{up.requests} in {up.wire.shells} shells"),
        Figure("  by kind", up.wire.mix()),
        Figure("up: requests on the critical path", f"{on_path:.0f}"),
        Figure("naive: HTTP requests (all in turn)", f"{naive.wire.requests} in {naive.wire.shells} shells"),
        Figure("  by kind", naive.wire.mix()),
        Figure("naive / up requests", _ratio(fewer), ">= 3.00x", fewer >= 3.0),
        Figure("naive / up requests on the critical path", _ratio(fewer_on_path)),
        Figure(f"up wall time at {rtt}", _seconds(up.wall)),
        Figure(f"naive wall time at {rtt}", _seconds(naive.wall)),
        Figure("naive / up wall time", _ratio(naive.wall / up.wall)),
    ]
    outcome.verdict = (
        f"protocol efficiency: up sent {_ratio(fewer)} fewer requests than the naive way "
        f"(goal at least 3x): {_met(fewer >= 3.0)}"
    )
    return outcome


EMPTY_PROGRAM = "# an empty Pulumi program: what a run costs before any resource\n"


@contextmanager
def empty_program(project_dir: Path, stack: str) -> Iterator[Engine]:
    """An empty program (no resource) on a copy of the stack, run through the same path as the stack's own
    (worker, Automation API, CLI): its preview is the fixed cost of a run, the reference for the stack's."""
    with tempfile.TemporaryDirectory(prefix="entsso-bench-empty-") as folder:
        workspace = scratch_project(Path(folder) / "project", stack, source=project_dir)
        program = Path(folder) / "__main__.py"
        program.write_text(EMPTY_PROGRAM, encoding="utf-8")
        engine = Engine(Workspace(workspace.project_dir, stack, program=program))
        engine.ensure_stack()
        engine.preview()  # the first run of a fresh stack creates its files; measure the later ones
        yield engine


def empty_preview_wall(engine: Engine) -> float:
    started = time.monotonic()
    result = engine.preview()
    wall = time.monotonic() - started
    if result.failed:
        raise BenchError(f"the empty program's preview failed: {result.error}")
    return wall


NOOP_ROUNDS = 3  # each round runs preview, no-op up and the empty program's preview, one after the other


def bench_noop(context: Context) -> BenchOutcome:
    outcome = BenchOutcome("noop")
    previews: list[Measured] = []
    agains: list[Measured] = []
    empties: list[float] = []
    with (
        probed_stack(context.project_dir, context.stack, context.config, FaultPlan()) as sim,
        empty_program(context.project_dir, context.stack) as empty_engine,
    ):
        first = sim.run("up")
        problem = first.failure()
        if problem:
            raise BenchError(f"the first up failed: {problem}")
        # Side by side: the three runs interleave, so a machine busier in one moment than another weighs
        # on all three alike; the medians of the rounds are compared.
        for _ in range(NOOP_ROUNDS):
            previews.append(sim.run("preview"))
            agains.append(sim.run("up"))
            empties.append(empty_preview_wall(empty_engine))
    for measured, label in [*((m, "preview") for m in previews), *((m, "second up") for m in agains)]:
        problem = measured.failure()
        if problem:
            raise BenchError(f"{label} failed: {problem}")
    preview_requests = sum(m.requests for m in previews)
    again_requests = sum(m.requests for m in agains)
    planned = max(sum(1 for o in m.result.outcomes if o.op.changes) for m in previews)
    changed = max(sum(1 for o in m.result.outcomes if o.op.changes) for m in agains)
    preview_wall = statistics.median(m.wall for m in previews)
    again_wall = statistics.median(m.wall for m in agains)
    empty = statistics.median(empties)
    met = preview_requests == 0 and again_requests == 0
    rounds = f"median of {NOOP_ROUNDS} interleaved rounds"
    outcome.figures = [
        Figure(f"preview: WinRM requests ({NOOP_ROUNDS} runs)", str(preview_requests), "0", preview_requests == 0),
        Figure("preview: planned changes", str(planned)),
        Figure(f"up again: WinRM requests ({NOOP_ROUNDS} runs)", str(again_requests), "0", again_requests == 0),
        Figure("up again: changes", str(changed)),
        Figure("first up wall time (from nothing)", _seconds(first.wall)),
        Figure(f"empty program's preview wall time ({rounds})", f"{_seconds(empty)} (the CLI's fixed cost)"),
        Figure(f"preview wall time ({rounds})", _seconds(preview_wall)),
        Figure(f"no-op up wall time ({rounds})", _seconds(again_wall)),
        Figure("preview / empty program's preview", _ratio(preview_wall / empty)),
        Figure("no-op up / empty program's preview", _ratio(again_wall / empty)),
    ]
    outcome.verdict = (
        f"no-op runs: preview sent {preview_requests} and up sent {again_requests} WinRM requests "
        f"(goal 0 for both): {_met(met)}; side by side, preview {_seconds(preview_wall)} "
        f"({_ratio(preview_wall / empty)}) and no-op up {_seconds(again_wall)} ({_ratio(again_wall / empty)}) "
        f"of the empty program's preview, {_seconds(empty)}"
    )
    return outcome


def bench_startup(_context: Context) -> BenchOutcome:
    outcome = BenchOutcome("startup")
    for label, measured in (
        ("prod foundation", startup_bench.measure_prod_graph()),
        ("prod program", startup_bench.measure_prod_program()),
    ):
        if not measured.get("ok"):
            raise BenchError(f"{label}: {str(measured.get('error', 'failed')).strip().splitlines()[-1:]}")
        outcome.figures += [
            Figure(
                f"{label}: time",
                f"{measured['wall_seconds']:.2f} s in a fresh interpreter (imports {measured['import_seconds']:.2f} s, "
                f"build {measured['build_seconds']:.2f} s)",
            ),
            Figure(f"{label}: peak memory", f"{measured['peak_rss_mb']:.0f} MB RSS"),
            Figure(
                f"{label}: resources",
                f"{measured['resources']} ({measured['azure_resources']} Azure, "
                f"{measured.get('dynamic_resources', 0)} dynamic, registered not run)",
            ),
        ]
    return outcome


BENCHMARKS: dict[str, tuple[str, Callable[[Context], BenchOutcome]]] = {
    "work": ("work efficiency", bench_work),
    "protocol": ("protocol efficiency", bench_protocol),
    "noop": ("no-op runs", bench_noop),
    "startup": ("start-up", bench_startup),
}
NEEDS_SIMULATOR = {"work", "protocol", "noop"}


def main(project_dir: Path, stack: str, only: list[str]) -> int:
    unknown = [name for name in only if name not in BENCHMARKS]
    if unknown:
        raise settings.SettingsError(
            [f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}" for name in unknown]
        )
    chosen = [name for name in BENCHMARKS if not only or name in only]
    config = settings.load_stack_file(settings.stack_file(project_dir, stack), stack)
    if config.simulator is None and NEEDS_SIMULATOR & set(chosen):
        raise settings.SettingsError(
            [
                f"stack {stack} targets {config.target.value}; the {', '.join(sorted(NEEDS_SIMULATOR & set(chosen)))} "
                "benchmarks run sim stacks (start-up always measures prod)"
            ]
        )
    out = Console(highlight=False, soft_wrap=False, width=max(130, Console().width))
    context = Context(project_dir, stack, config)
    out.print(
        f"ops bench: stack {stack}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
        "(wall-clock figures grow on a busy machine)"
    )
    outcomes: list[BenchOutcome] = []
    for name in chosen:
        title, measure = BENCHMARKS[name]
        out.print(f"[bold]{title}[/bold] ({name}) ...")
        started = time.monotonic()
        try:
            outcomes.append(measure(context))
        except BenchError as error:
            outcomes.append(BenchOutcome(name, error=str(error)))
        out.print(f"  measured in {time.monotonic() - started:.1f} s")
    out.print(_table(outcomes))
    for outcome in outcomes:
        title = BENCHMARKS[outcome.benchmark][0]
        if outcome.error is not None:
            out.print(f"{title}: [red]not measured[/red]: {escape(outcome.error)}")
        elif outcome.verdict:
            out.print(escape(outcome.verdict))
        else:
            out.print(f"{title}: figures only (no goal set)")
    return EXIT_FAILED if any(o.error is not None for o in outcomes) else EXIT_OK


def _table(outcomes: Sequence[BenchOutcome]) -> Table:
    table = Table(title="ops bench", title_justify="left")
    table.add_column("benchmark")
    table.add_column("figure")
    table.add_column("measured", overflow="fold")
    table.add_column("goal")
    table.add_column("met")
    for outcome in outcomes:
        if outcome.error is not None:
            table.add_row(outcome.benchmark, "not measured", escape(outcome.error), "", "")
        for index, figure in enumerate(outcome.figures):
            met = "" if figure.met is None else ("[green]yes[/green]" if figure.met else "[red]no[/red]")
            table.add_row(
                outcome.benchmark if index == 0 else "", escape(figure.name), escape(figure.value), figure.goal, met
            )
        table.add_section()
    return table
