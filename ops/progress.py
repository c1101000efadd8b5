"""`python -m ops up|preview|refresh|destroy`: one Pulumi operation, with output a person can follow.

Runs the operation through the real engine (ops/engine.py), starting the stack's simulated nodes
when none are serving, and prints one line per resource from the engine's event stream as its
step starts and ends: the documented steps it covers, what the engine did, how long it took; on a
preview, the engine's property diff under each resource it would change; then the engine's
warnings, what to do about a failed resource, and a Pulumi-like summary. On a terminal the lines
come with a live progress display; in CI they are plain lines. Everything the CLI itself printed is
kept in `.entsso/logs/<stack>.<operation>.log`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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
from ops.model import Event, Op, Operation, PropertyChange, ResourceOutcome, RunResult, Status
from providers import procedure


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def steps_label(resource_type: str) -> str:
    """`pulumi-python:dynamic/entsso:SecretServerName` -> `steps 9-13`."""
    name = resource_type.rsplit(":", 1)[-1]
    numbers = [s.number for s in procedure.steps_of(name)]
    if not numbers:
        return ""
    if numbers == [0]:
        return "prerequisite"
    numbers = [n for n in numbers if n]
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


@dataclass
class Renderer:
    """Turns engine events into lines; a live spinner list on a terminal, plain lines elsewhere."""

    out: Console
    preview: bool = False
    live: Progress | None = None
    tasks: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def describe(self, event: Event | ResourceOutcome) -> str:
        steps = steps_label(event.type)
        return escape(f"{short_type(event.type)} {event.name}" + (f" ({steps})" if steps else ""))

    def __call__(self, event: Event) -> None:
        self.events.append(event)
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
) -> RunResult:
    """One operation with its progress lines and summary; the simulated nodes must be serving."""
    out = out or console()
    operation = Operation(operation)
    renderer = Renderer(out, preview=operation is Operation.PREVIEW)
    engine = engine or Engine(workspace, policy_packs=policy_packs)
    engine.on_event = renderer
    started = time.monotonic()
    cli = engine._cli()
    out.print(f"[bold]{operation.value}[/bold] stack {workspace.stack} (Pulumi CLI {cli.version}, {cli.origin})")
    live = out.is_terminal and not os.environ.get("CI")
    if live:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=out) as bar:
            renderer.live = bar
            result = engine.run(operation)
    else:
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


def advice(outcome: ResourceOutcome, stack: str) -> str:
    """What to do about a failed resource: its steps, the node and operation (from the error), the fix."""
    steps = steps_label(outcome.type)
    text = escape(first_line(outcome.error))
    return (
        f"  [red]{short_type(outcome.type)} {outcome.name}[/red]"
        + (f" ({steps})" if steps else "")
        + f" failed: {text}\n    fix the cause above, then run `python -m ops up --stack {stack}` again: it resumes"
    )
