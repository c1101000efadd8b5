"""`python -m ops rehearse`: the program against a stack's simulated nodes, with output a person can follow.

Runs `__main__.py` through the rehearsal engine (the SDK's mock runtime and its real dynamic
provider host), starting the stack's simulated nodes when none are serving, and prints one line
per resource as it starts and ends with the documented steps it covers, then a Pulumi-like summary.
On a terminal the lines come with a live progress display; in CI they are plain lines.
"""

from __future__ import annotations

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

import yaml
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

import settings
from ops import simstack
from ops.errors import LocalConditionError
from ops.rehearse.engine import Engine
from ops.rehearse.model import Event, Op, ResourceOutcome, RunResult, Status
from providers import procedure

STATE_DIR = ".entsso/state"


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def stack_config(project_dir: Path, stack: str) -> tuple[dict[str, Any], set[str]]:
    """The stack file's config as the engine takes it, and which keys are secret."""
    document = yaml.safe_load((project_dir / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    config: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in document["config"].items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            raise settings.SettingsError(
                [f"{key}: is encrypted; a rehearsal runs only stacks whose values it can read (the sim stack)"]
            )
        config[key] = value
        if key.partition(":")[2] in settings.SECRET_KEYS:
            secret_keys.add(key)
    return config, secret_keys


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


@dataclass
class Renderer:
    """Turns engine events into lines; a live spinner list on a terminal, plain lines elsewhere."""

    out: Console
    preview: bool = False
    live: Progress | None = None
    tasks: dict[str, Any] = field(default_factory=dict)

    def describe(self, event: Event | ResourceOutcome) -> str:
        steps = steps_label(event.type)
        kind = short_type(event.type)
        return escape(f"{kind} {event.name}" + (f" ({steps})" if steps else ""))

    def __call__(self, event: Event) -> None:
        if event.type.startswith("pulumi:pulumi:Stack") or event.type.startswith("entsso:"):
            return  # components and the stack are bookkeeping; the resources inside them are the work
        label = self.describe(event)
        if event.phase == "start":
            if event.op is Op.SAME and self.live is None:
                return  # an unchanged resource gets its one line when it ends
            if self.live is not None:
                self.tasks[event.urn] = self.live.add_task(f"{event.op.value:>7} {label}", total=None)
            else:
                self.out.print(f"  ... {event.op.value:<7} {label}")
            return
        if self.live is not None and event.urn in self.tasks:
            self.live.remove_task(self.tasks.pop(event.urn))
        self.out.print(self.line(event, label))

    def line(self, event: Event, label: str) -> str:
        if event.status is Status.FAILED:
            return f"  [red]FAIL[/red]    {label} ({event.duration:.1f} s): {escape(first_line(event.error))}"
        if event.status is Status.SKIPPED:
            return f"  skip    {label}: a resource it depends on failed"
        verb = _PLAN.get(event.op, "no change") if self.preview else _VERB.get(event.op, event.op.value)
        changed = f" ({', '.join(event.changed)})" if event.changed else ""
        return f"  [green]ok[/green]      {label}: {verb}{changed} ({event.duration:.1f} s)"


def first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[-1] if text else ""


def summary(result: RunResult) -> str:
    s = result.summary
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
    assert config.simulator is not None
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
    log = project_dir / STATE_DIR / f"{stack}.simulate.log"
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


def engine(project_dir: Path, stack: str, renderer: Renderer) -> Engine:
    config, secret_keys = stack_config(project_dir, stack)
    state = project_dir / STATE_DIR / f"{stack}.json"
    return Engine(project_dir, stack, config, secret_keys, state, on_event=renderer)


def run(project_dir: Path, stack: str, operation: str, out: Console | None = None) -> RunResult:
    """One rehearsal operation with its progress lines and summary; the simulated nodes must be serving."""
    out = out or console()
    renderer = Renderer(out, preview=operation == "preview")
    started = time.monotonic()
    out.print(f"[bold]{operation}[/bold] stack {stack} (rehearsal: Pulumi's mock runtime and dynamic-provider host)")
    live = out.is_terminal and not os.environ.get("CI")
    if live:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=out) as bar:
            renderer.live = bar
            result: RunResult = getattr(engine(project_dir, stack, renderer), operation)()
    else:
        result = getattr(engine(project_dir, stack, renderer), operation)()
    for warning in result.warnings:
        out.print(f"  [yellow]warning[/yellow] {escape(warning)}")
    if result.error:
        out.print(f"  [red]error[/red] {escape(result.error)}")
    for outcome in result.outcomes:
        if outcome.status is Status.FAILED:
            out.print(advice(outcome))
    elapsed = time.monotonic() - started
    verdict = "[red]failed[/red]" if result.failed else "[green]done[/green]"
    out.print(f"{operation} {verdict} in {elapsed:.1f} s: {summary(result)}")
    return result


def advice(outcome: ResourceOutcome) -> str:
    """What to do about a failed resource: its steps, the node and operation (from the error), the fix."""
    steps = steps_label(outcome.type)
    text = escape(first_line(outcome.error))
    return (
        f"  [red]{short_type(outcome.type)} {outcome.name}[/red]"
        + (f" ({steps})" if steps else "")
        + f" failed: {text}\n    fix the cause above, then run `python -m ops rehearse up` again: it resumes"
    )
