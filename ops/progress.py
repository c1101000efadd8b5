"""`python -m ops up|preview|refresh|destroy`: one Pulumi operation, with output a person can follow.

Runs the operation through the real engine (ops/engine.py), starting the stack's simulated nodes
when none are serving, and prints one line per resource from the engine's event stream as its
step starts and ends: the documented steps it covers, what the engine did, how long it took; on a
preview, the engine's property diff under each resource it would change; then the engine's
warnings, what to do about a failed resource, and a Pulumi-like summary. On a terminal the lines
come with a live progress display; in CI they are plain lines. Everything the CLI itself printed is
kept in `.entsso/logs/<stack>.<operation>.log`.

A step can take minutes (installing SSO takes six on a real node), so while a run is under way a
heartbeat line comes at least every ENTSSO_PROGRESS_SECONDS (30 by default), on a terminal and in CI
alike: for each operation running on a node, its documented step, the node, the operation and how long
it has been running, stamped with the time since the run started. What runs where comes from the
providers' notes (providers/notes.py), which the engine relays as they happen; a resource step with no
operation running is reported from the engine's own events.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

import settings
from ops import simstack
from ops.engine import Engine, Workspace
from ops.errors import LocalConditionError
from ops.model import Event, Op, Operation, OperationNote, PropertyChange, ResourceOutcome, RunResult, Status
from providers import procedure


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


INTERVAL_VARIABLE = "ENTSSO_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 30.0


def progress_interval() -> float:
    """The longest a run stays silent: ENTSSO_PROGRESS_SECONDS, else 30 seconds."""
    value = os.environ.get(INTERVAL_VARIABLE, "")
    try:
        seconds = float(value) if value else DEFAULT_INTERVAL
    except ValueError:
        raise LocalConditionError(f"{INTERVAL_VARIABLE}={value!r} is not a number of seconds") from None
    if not 0 < seconds <= 3600:
        raise LocalConditionError(f"{INTERVAL_VARIABLE}={value!r}: give seconds between 0 and 3600")
    return seconds


def steps_label(resource_type: str, node_index: int | None = None) -> str:
    """`pulumi-python:dynamic/entsso:SecretServerName` -> `steps 9-13`. For a resource on one node (the
    `node_index`-th, from 0), the steps the map runs there: SsoInstall on the second node is `step 6`."""
    name = resource_type.rsplit(":", 1)[-1]
    steps = procedure.steps_of(name)
    if node_index is not None:
        here = [s for s in steps if s.runs_on == f"node {node_index + 1}"]
        steps = here or steps
    numbers = [s.number for s in steps]
    if not numbers:
        return "prerequisite" if name in procedure.PREREQUISITE_PARTS else ""
    if numbers == [0]:
        return "prerequisite"
    return _numbers_label([n for n in numbers if n])


def _numbers_label(numbers: list[int]) -> str:
    runs: list[str] = []
    start = previous = numbers[0]
    for number in [*numbers[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        runs.append(f"{start}-{previous}" if previous != start else str(start))
        if number is not None:
            start = previous = number
    return "step " + ",".join(runs) if len(numbers) == 1 else "steps " + ",".join(runs)


def short_type(resource_type: str) -> str:
    if resource_type.startswith("pulumi:providers:"):
        return resource_type.removeprefix("pulumi:providers:") + " provider"
    return resource_type.rsplit("/", 1)[-1].replace("entsso:", "")


_VERB = {
    Op.CREATE: "created",
    Op.UPDATE: "updated",
    Op.REPLACE: "replaced",
    Op.DELETE: "deleted",
    Op.SAME: "unchanged",
    Op.READ_DRIFT: "drifted",
    Op.REFRESH_REMOVED: "gone",
}
_PLAN = {Op.CREATE: "will create", Op.UPDATE: "will update", Op.REPLACE: "will replace", Op.DELETE: "will delete"}
_REPLACEMENT_STEPS = frozenset({"create-replacement", "replace", "delete-replaced"})
_DOING = {"create-replacement": "create replacement", "delete-replaced": "delete replaced"}
_DONE = {"create-replacement": "replaced: created anew", "delete-replaced": "replaced: the old one deleted"}
_DIFF_SIGN = {"add": "+", "delete": "-", "update": "~"}


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def diff_lines(diff: tuple[PropertyChange, ...]) -> list[str]:
    """The engine's detailed diff, one property per line: `~ probe_port: 59999 => 59990 (forces replacement)`."""
    lines = []
    for change in diff:
        base, _, replace = change.kind.partition("-")
        sign = _DIFF_SIGN.get(base, "~")
        if base == "add":
            values = _shown(change.new)
        elif base == "delete":
            values = _shown(change.old)
        else:
            values = f"{_shown(change.old)} => {_shown(change.new)}"
        lines.append(f"{sign} {change.path}: {values}" + (" (forces replacement)" if replace else ""))
    return lines


def shown_in_progress(type_: str, op: Op) -> bool:
    """The stack and our components are bookkeeping, and the default provider is news only when it changes."""
    if type_ == "pulumi:pulumi:Stack" or type_.startswith("entsso:"):
        return False
    return not (type_.startswith("pulumi:providers:") and op is Op.SAME)


def step_of(resource_type: str, operation: str, node: str, nodes: list[str]) -> str:
    """The documented step an operation performs on a node: `step 1` (sso_install on the first node),
    `step 6` (on the second), `prerequisite`; '' when the map does not say."""
    name = resource_type.rsplit(":", 1)[-1]
    if name in procedure.PREREQUISITE_PARTS or [s.number for s in procedure.steps_of(name)] == [0]:
        return "prerequisite"
    steps = [s for s in procedure.steps_of(name) if s.operation == operation]
    index = next((i for i, n in enumerate(nodes) if n.upper() == node.upper()), None)
    here = [s for s in steps if index is not None and s.runs_on == f"node {index + 1}"]
    numbers = sorted({s.number for s in (here or steps)})
    return _numbers_label(numbers) if numbers else ""


def clock(seconds: float) -> str:
    """A time since the run started, to the tenth: `+02:30.4`."""
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"+{int(minutes):02d}:{rest:04.1f}"


def duration(seconds: float) -> str:
    minutes, rest = divmod(round(max(0.0, seconds)), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


@dataclass
class Renderer:
    """Turns engine events into lines; a live spinner list on a terminal, plain lines elsewhere.

    It also keeps what is running (the resource steps the engine started, the operations the providers'
    notes say run on a node), which the heartbeat reports. `clock` (monotonic) times the run and its resource
    steps, `wall` (seconds since the epoch) the operations, whose notes carry the provider host's wall clock;
    tests give their own."""

    out: Console
    preview: bool = False
    live: Progress | None = None
    tasks: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)  # the stack's nodes, in order (which step runs where)
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    started: float = field(default=0.0)  # on `clock`; set when the run starts (run(), or from the clock here)
    running: dict[str, tuple[Event, float]] = field(default_factory=dict)  # urn+step -> start event, when
    operations: dict[tuple[str, str, str], OperationNote] = field(default_factory=dict)  # (node, op, label)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.started = self.started or self.clock()

    def describe(self, event: Event | ResourceOutcome) -> str:
        steps = self.steps(event)
        return escape(f"{short_type(event.type)} {event.name}" + (f" ({steps})" if steps else ""))

    def steps(self, event: Event | ResourceOutcome) -> str:
        """The resource's steps; for a resource of one node (named after it), the steps on that node."""
        index = next((i for i, n in enumerate(self.nodes) if event.name.lower().endswith("-" + n.lower())), None)
        return steps_label(event.type, index)

    def note(self, note: OperationNote) -> None:
        """A provider says an operation started or ended on a node."""
        key = (note.node.upper(), note.operation, note.label)
        with self.lock:
            if note.phase == "start":
                self.operations[key] = note
            else:
                self.operations.pop(key, None)
            resource = self._resource_of(note)
        if self.live is not None and resource is not None:
            task = self.tasks.get(resource.urn + resource.step)
            if task is not None:
                doing = f"{note.operation} on {note.node}" if note.phase == "start" else ""
                label = self.describe(resource)
                self.live.update(
                    task,
                    description=f"{_DOING.get(resource.step, resource.op.value):>7} {label}"
                    + (f": {escape(doing)}" if doing else ""),
                )

    def _resource_of(self, note: OperationNote) -> Event | None:
        """The running resource step a note belongs to: of the type its label names, on its node when there
        are several of that type (per-node resources are named after their node). Caller holds the lock."""
        candidates = [e for e, _ in self.running.values() if short_type(e.type) == note.resource_type]
        on_node = [e for e in candidates if note.node.lower() in e.name.lower()]
        found = on_node or candidates
        return found[0] if found else None

    def heartbeat(self, now: float | None = None) -> list[str]:
        """What runs now: one line per operation running on a node, one per resource step with none."""
        now = self.clock() if now is None else now
        wall = self.wall()
        stamp = f"[{clock(now - self.started)}]"
        lines: list[str] = []
        with self.lock:
            busy: set[str] = set()
            for note in sorted(self.operations.values(), key=lambda n: (n.at, n.node)):
                resource = self._resource_of(note)
                owner = f" ({short_type(resource.type)} {resource.name})" if resource is not None else ""
                if resource is not None:
                    busy.add(resource.urn + resource.step)
                step = step_of(note.resource_type, note.operation, note.node, self.nodes)
                step = step or (self.steps(resource) if resource is not None else "")
                where = f"{step} on {note.node}" if step else f"on {note.node}"
                lines.append(f"{stamp} {where}: {note.operation} running for {duration(wall - note.at)}{owner}")
            for key, (event, since) in self.running.items():
                if key not in busy:
                    doing = _DOING.get(event.step, event.op.value)
                    steps = self.steps(event)
                    lines.append(
                        f"{stamp} {short_type(event.type)} {event.name}"
                        + (f" ({steps})" if steps else "")
                        + f": {doing} running for {duration(now - since)}"
                    )
        if not lines:
            lines.append(f"{stamp} no step is running: the engine is working")
        return lines

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        if not event.type.startswith("pulumi:providers:") and event.type.startswith("pulumi-python:dynamic/"):
            with self.lock:
                if event.phase == "start" and not self.preview:
                    self.running[event.urn + event.step] = (event, self.clock())
                else:
                    self.running.pop(event.urn + event.step, None)
        if not shown_in_progress(event.type, event.op) and event.status is not Status.FAILED:
            return
        label = self.describe(event)
        # A replacement is three engine steps: create-replacement (the work), replace (a marker) and
        # delete-replaced, in that order or, delete-before-replace, the delete first. A preview plans
        # it in one line (at the marker); an up shows the two steps that do something.
        shown = {"replace"} if self.preview else {"create-replacement", "delete-replaced"}
        if event.step in _REPLACEMENT_STEPS and event.step not in shown and event.status is not Status.FAILED:
            return
        if event.phase == "start":
            if event.op is Op.SAME or self.preview:
                return  # an unchanged resource, or a plan, gets its one line when it ends
            doing = _DOING.get(event.step, event.op.value)
            if self.live is not None:
                self.tasks[event.urn + event.step] = self.live.add_task(f"{doing:>7} {label}", total=None)
            else:
                self.out.print(f"  ...     {doing} {label}")
            return
        if self.live is not None and event.urn + event.step in self.tasks:
            self.live.remove_task(self.tasks.pop(event.urn + event.step))
        self.out.print(self.line(event, label))
        if self.preview and event.op.changes:
            for line in diff_lines(event.diff):
                self.out.print(f"            {escape(line)}")

    def line(self, event: Event, label: str) -> str:
        if event.status is Status.FAILED:
            return f"  [red]FAIL[/red]    {label} ({event.duration:.1f} s): {escape(first_line(event.error))}"
        if self.preview:
            verb = _PLAN.get(event.op, "no change")
        else:
            verb = _DONE.get(event.step) or _VERB.get(event.op, event.op.value)
        changed = f" ({', '.join(event.changed)})" if event.changed else ""
        return f"  [green]ok[/green]      {label}: {verb}{changed} ({event.duration:.1f} s)"


class Heartbeat:
    """While a run is under way, the renderer's heartbeat lines at least every `interval` seconds.

    The thread wakes every fifth of the interval and prints once four fifths have passed since the last
    lines, so the gap between two never exceeds the interval however the wake-ups fall. `wait(seconds)`
    sleeps and says whether to stop (by default the stop event's wait; tests give a clock of their own)."""

    def __init__(
        self, renderer: Renderer, out: Console, interval: float, wait: Callable[[float], bool] | None = None
    ) -> None:
        self.renderer = renderer
        self.out = out
        self.interval = interval
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self._thread = threading.Thread(target=self.beat, name="progress-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def beat(self) -> None:
        """The heartbeat's loop, until `wait` says stop."""
        tick = self.interval / 5
        last = self.renderer.started
        while not self._wait(tick):
            now = self.renderer.clock()
            if now - last >= self.interval - tick:
                for line in self.renderer.heartbeat(now):
                    self.out.print(f"  ...     {escape(line)}")
                last = now


def first_line(text: str | None) -> str:
    """The message of a concise error (the first line: `Type: message`)."""
    return (text or "").strip().splitlines()[0] if text and text.strip() else ""


def summary(result: RunResult) -> str:
    counted = [o for o in result.outcomes if not o.is_stack_or_component and not o.is_default_provider]
    s = RunResult(result.operation, result.stack, counted).summary
    parts = [f"{count} {word}" for word, count in vars(s).items() if count]
    return ", ".join(parts) or "nothing to do"


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def simulated_nodes(
    project_dir: Path, stack: str, config: settings.StackSettings, keep: bool
) -> Iterator[simstack.SimulatedStack | None]:
    """Start the stack's simulated nodes unless something already serves them (`ops simulate`)."""
    if config.simulator is None:
        yield None
        return
    if port_in_use(config.simulator.base_port):
        yield None
        return
    state = simstack.world_file(project_dir, config, stack)  # SettingsError when outside the project
    if keep:
        detached_simulator(project_dir, stack, config.simulator.base_port)
        yield None
        return
    nodes = simstack.start(config, ports="stack", state_file=state)
    try:
        yield nodes
    finally:
        nodes.stop()


def detached_simulator(project_dir: Path, stack: str, port: int) -> None:
    """`ops simulate` in its own session, so the nodes outlive this command (stop it with kill)."""
    log = project_dir / ".entsso" / "logs" / f"{stack}.simulate.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "ops", "simulate", "--stack", stack],
            cwd=project_dir,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while not port_in_use(port):
        if process.poll() is not None or time.monotonic() > deadline:
            # `ops simulate` said why in one line, the last of its log.
            lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            reason = f": {lines[-1]}" if process.poll() is not None and lines else ""
            raise LocalConditionError(f"the simulated nodes did not start{reason}; see {log}")
        time.sleep(0.1)
    print(f"simulated nodes kept running (pid {process.pid}, log {log}); stop them with kill {process.pid}")


def run(
    workspace: Workspace,
    operation: str | Operation,
    out: Console | None = None,
    *,
    policy_packs: tuple[Path, ...] = (),
    engine: Engine | None = None,
    interval: float | None = None,
) -> RunResult:
    """One operation with its progress lines and summary; the simulated nodes must be serving. A heartbeat
    comes at least every `interval` seconds (default: ENTSSO_PROGRESS_SECONDS, else 30)."""
    out = out or console()
    operation = Operation(operation)
    seconds = progress_interval() if interval is None else interval
    renderer = Renderer(out, preview=operation is Operation.PREVIEW, nodes=_node_names(workspace))
    engine = engine or Engine(workspace, policy_packs=policy_packs)
    engine.on_event = renderer
    engine.on_note = renderer.note
    started = time.monotonic()
    cli = engine._cli()
    out.print(f"[bold]{operation.value}[/bold] stack {workspace.stack} (Pulumi CLI {cli.version}, {cli.origin})")
    live = out.is_terminal and not os.environ.get("CI")
    renderer.started = renderer.clock()
    if live:
        with (
            Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=out) as bar,
            Heartbeat(renderer, out, seconds),
        ):
            renderer.live = bar
            result = engine.run(operation)
    else:
        with Heartbeat(renderer, out, seconds):
            result = engine.run(operation)
    for warning in result.warnings:
        out.print(f"  [yellow]warning[/yellow] {escape(warning)}")
    for violation in result.policy_violations:
        out.print(f"  [magenta]policy[/magenta]  {escape(violation)}")
    if result.error:
        out.print(f"  [red]error[/red] {escape(result.error)}")
    for outcome in result.outcomes:
        if outcome.status is Status.FAILED and outcome.error and not outcome.is_stack_or_component:
            out.print(advice(outcome, workspace.stack))
    elapsed = time.monotonic() - started
    verdict = "[red]failed[/red]" if result.failed else "[green]done[/green]"
    out.print(f"{operation.value} {verdict} in {elapsed:.1f} s: {summary(result)}")
    return result


def _node_names(workspace: Workspace) -> list[str]:
    """The stack's nodes in order (step 1 runs on the first, step 6 on the second); none when unreadable."""
    try:
        return [node.name for node in settings.load_stack_file(workspace.stack_file, workspace.stack).nodes]
    except (settings.SettingsError, OSError):
        return []


def advice(outcome: ResourceOutcome, stack: str) -> str:
    """What to do about a failed resource: its steps, the node and operation (from the error), the fix."""
    steps = steps_label(outcome.type)
    text = escape(first_line(outcome.error))
    return (
        f"  [red]{short_type(outcome.type)} {outcome.name}[/red]"
        + (f" ({steps})" if steps else "")
        + f" failed: {text}\n    fix the cause above, then run `python -m ops up --stack {stack}` again: it resumes"
    )
