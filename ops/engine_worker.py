"""The worker: one Pulumi operation on one stack, through the Automation API and the pinned CLI.

Runs in a process of its own (started by ops/engine.py), because the program runs here: the
Automation API's inline program (`pulumi.automation`, the SDK's LanguageServer) executes
`__main__.py` in this interpreter while the CLI drives the deployment, and the SDK's runtime
settings and the program's modules are process-global. The CLI is the engine: it plans, calls
the dynamic-provider host it starts (tools/pulumi-cli/plugins), keeps the checkpoint in the
stack's backend and takes the stack's lock. This process only translates the engine's event
stream into our progress events.

Protocol: the parent writes one JSON line (the job) on stdin and keeps stdin open; the worker
writes JSON lines `{"event": ...}` and finally `{"result": ...}` to the file descriptor the job
names. When stdin reaches end-of-file early (the parent died), the worker exits at once; the CLI
then loses its language host, fails the program and ends its run as Pulumi does.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ops.model import (
    DYNAMIC_TYPE_PREFIX,
    ROOT_STACK_TYPE,
    Event,
    Op,
    Operation,
    OperationNote,
    PropertyChange,
    ResourceOutcome,
    RunResult,
    Status,
    urn_name,
)
from providers import notes

# The engine's own follow-up errors after a resource failed: the resource's error says why.
_CONSEQUENTIAL_ERRORS = (
    "update failed",
    "preview failed",
    "refresh failed",
    "destroy failed",
    "resource monitor has terminated, shutting down",
)
_REPLACE_STEPS = {
    "replace",
    "create-replacement",
    "delete-replaced",
    "read-replacement",
    "discard-replaced",
    "import-replacement",
    "remove-pending-replace",
}
_PROVIDER_KEY = "__provider"


def concise_error(details: str) -> str:
    """The exception at the end of a Python traceback (type and message), without the frames."""
    lines = details.rstrip().splitlines()
    last_frame = max((i for i, line in enumerate(lines) if line.lstrip().startswith("File ")), default=-1)
    if last_frame < 0:
        return details.strip() or "unknown error"
    rest = lines[last_frame + 1 :]
    indent = len(lines[last_frame]) - len(lines[last_frame].lstrip())
    while rest and (len(rest[0]) - len(rest[0].lstrip()) > indent or not rest[0].strip()):
        rest = rest[1:]  # the frame's source line and its ^^^ markers
    return "\n".join(line.strip() for line in rest).strip() or lines[-1].strip()


_SIG_KEY = "4dabf18193072939515e22adb298388d"  # the engine's marker of a special value (a secret here)
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # a value only known after the update (a preview)


def _plain(value: Any) -> Any:
    """An engine event's property value as JSON: a secret as "[secret]", a value known only after
    the update as "(known after update)", as Pulumi's own display shows them."""
    if isinstance(value, dict) and _SIG_KEY in value:
        return "[secret]"
    if value == _UNKNOWN:
        return "(known after update)"
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _at(document: dict[str, Any] | None, path: str) -> Any:
    """The value at a top-level property path of the engine's detailed diff (`probe_port`, `nodes[0].name`)."""
    if not document:
        return None
    head = path.split(".", 1)[0].split("[", 1)[0]
    return document.get(head) if head == path else _plain(document.get(head))


def _structured(value: Any) -> Any:
    """A config value the engine holds as JSON text (structured stack config) as data; others as they are."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _changes(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[tuple[str, str, Any, Any]]:
    """(path, add|delete|update, old, new) for each property that differs, objects compared key by key."""
    found: list[tuple[str, str, Any, Any]] = []
    for key in sorted(set(before) | set(after)):
        if key == _PROVIDER_KEY:
            continue
        path = f"{prefix}{key}"
        if key not in before:
            found.append((path, "add", None, _plain(after[key])))
            continue
        if key not in after:
            found.append((path, "delete", _plain(before[key]), None))
            continue
        old, new = _structured(before[key]), _structured(after[key])
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            found += _changes(old, new, f"{path}.")
        else:
            found.append((path, "update", _plain(old), _plain(new)))
    return found


@dataclass
class _Track:
    """What the event stream said about one resource."""

    urn: str
    type: str
    steps: list[str] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    failed: bool = False
    errors: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    diff: list[PropertyChange] = field(default_factory=list)
    removed: bool = False

    def op(self) -> Op:
        steps = set(self.steps)
        if steps & _REPLACE_STEPS:
            return Op.REPLACE
        if "refresh" in steps:
            if self.removed:
                return Op.REFRESH_REMOVED
            return Op.READ_DRIFT if self.changed else Op.SAME
        for step, op in (("create", Op.CREATE), ("update", Op.UPDATE), ("delete", Op.DELETE), ("discard", Op.DELETE)):
            if step in steps:
                return op
        return Op.SAME

    def outcome(self) -> ResourceOutcome:
        error = None
        if self.errors:
            error = concise_error(self.errors[-1])
        return ResourceOutcome(
            urn=self.urn,
            type=self.type,
            name=urn_name(self.urn),
            op=self.op(),
            status=Status.FAILED if self.failed else Status.OK,
            changed=tuple(self.changed),
            duration=max(0.0, self.ended - self.started) if self.ended else 0.0,
            error=error,
            diff=tuple(self.diff),
        )


class Translator:
    """The engine's events (pulumi.automation.events.EngineEvent) as our progress events and outcomes."""

    def __init__(
        self,
        operation: Operation,
        emit: Callable[[Event], None],
        emit_note: Callable[[OperationNote], None] | None = None,
    ) -> None:
        self.operation = operation
        self.emit = emit
        self.emit_note = emit_note
        self.tracks: dict[str, _Track] = {}
        self.order: list[str] = []
        self.stack_errors: list[str] = []
        self.warnings: list[str] = []
        self.messages: list[str] = []
        self.changes: dict[str, int] = {}
        self.violations: list[str] = []  # policy violations, as the policy pack reported them
        self.mandatory: list[str] = []  # the policies whose mandatory violations fail the run
        self.lock = threading.Lock()

    def _track(self, urn: str, type_: str) -> _Track:
        track = self.tracks.get(urn)
        if track is None:
            track = self.tracks[urn] = _Track(urn, type_)
            self.order.append(urn)
        return track

    def __call__(self, event: Any) -> None:
        with self.lock:
            try:
                self._handle(event)
            except Exception:  # a translation bug must not stop the engine's run; it shows in the result
                self.warnings.append("ops could not read an engine event:\n" + traceback.format_exc(limit=3))

    def _handle(self, event: Any) -> None:
        now = time.monotonic()
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            track = self._track(meta.urn, meta.type)
            track.steps.append(meta.op.value)
            if not track.started:
                track.started = now
            self.emit(Event("start", meta.urn, meta.type, urn_name(meta.urn), track.op(), step=meta.op.value))
        elif event.res_outputs_event is not None:
            meta = event.res_outputs_event.metadata
            track = self._track(meta.urn, meta.type)
            track.ended = now
            self._learn_changes(track, meta)
            self._emit_end(track)
        elif event.res_op_failed_event is not None:
            meta = event.res_op_failed_event.metadata
            track = self._track(meta.urn, meta.type)
            track.ended, track.failed = now, True
            self._emit_end(track)
        elif event.diagnostic_event is not None:
            self._diagnostic(event.diagnostic_event)
        elif event.summary_event is not None:
            self.changes = {str(op): int(count) for op, count in (event.summary_event.resource_changes or {}).items()}
        elif event.policy_event is not None:
            policy = event.policy_event
            level = str(getattr(policy.enforcement_level, "value", policy.enforcement_level) or "").lower()
            lines = [line.strip() for line in str(policy.message or "").strip().splitlines() if line.strip()]
            where = urn_name(policy.resource_urn) if policy.resource_urn else "the stack"
            violation = (
                f"{policy.policy_pack_name}/{policy.policy_name} ({level}) on {where}: {lines[-1] if lines else ''}"
            )
            self.violations.append(violation)
            if level == "mandatory":
                self.mandatory.append(policy.policy_name)

    def _learn_changes(self, track: _Track, meta: Any) -> None:
        old = meta.old
        new = meta.new
        if track.steps and track.steps[-1] == "refresh" and new is None:
            track.removed = True
        if old is None or new is None or track.steps[-1] in ("create", "delete", "same"):
            return
        refreshed = track.steps[-1] == "refresh"
        # A refresh compares what it read with what the state held (outputs); a plan compares inputs,
        # as the CLI's own diff display does for a provider that sends no detailed diff (the Python
        # dynamic-provider host sends none: pulumi/dynamic/__main__.py Diff).
        before = (old.outputs if refreshed else old.inputs) or {}
        after = (new.outputs if refreshed else new.inputs) or {}
        replacing = set(meta.keys or []) if track.steps[-1] in _REPLACE_STEPS else set()
        detailed = {
            path: str(getattr(change.diff_kind, "value", change.diff_kind))
            for path, change in (meta.detailed_diff or {}).items()
            if not path.startswith(_PROVIDER_KEY)
        }
        values: dict[str, tuple[Any, Any]] = {}
        if not detailed:
            for path, kind, old_value, new_value in _changes(before, after):
                top = path.split(".", 1)[0]
                detailed[path] = f"{kind}-replace" if top in replacing else kind
                values[path] = (old_value, new_value)
        if not detailed and track.changed:
            return  # a later step of a replacement (delete-replaced): the first one said what changed
        track.changed = sorted({path.split(".", 1)[0].split("[", 1)[0] for path in detailed})
        track.diff = [
            PropertyChange(path, kind, *values.get(path, (_at(before, path), _at(after, path))))
            for path, kind in sorted(detailed.items())
        ]

    def _emit_end(self, track: _Track) -> None:
        outcome = track.outcome()
        self.emit(
            Event(
                "end",
                outcome.urn,
                outcome.type,
                outcome.name,
                outcome.op,
                outcome.status,
                outcome.duration,
                outcome.error,
                outcome.changed,
                outcome.diff,
                step=track.steps[-1] if track.steps else "",
            )
        )

    def _diagnostic(self, diagnostic: Any) -> None:
        severity = str(diagnostic.severity)
        message = str(diagnostic.message or "").rstrip()
        if severity == "debug" or not message.strip():
            return
        found = notes.parse(message)  # a provider's progress note: what runs where (providers/notes.py)
        if found is not None:
            if self.emit_note is not None:
                self.emit_note(OperationNote.from_json(found))
            return
        urn = diagnostic.urn or ""
        resource = self.tracks.get(urn) if urn else None
        if severity == "error":
            if resource is not None and resource.type != ROOT_STACK_TYPE:
                resource.errors.append(message)
            elif message.strip().lower() not in _CONSEQUENTIAL_ERRORS:
                self.stack_errors.append(message.strip())
        elif severity == "warning":
            where = f"{urn_name(urn)}: " if urn and resource is not None and resource.type != ROOT_STACK_TYPE else ""
            self.warnings.append(where + message.strip())
        elif not diagnostic.ephemeral:
            self.messages.append(message.strip())

    def outcomes(self) -> list[ResourceOutcome]:
        return [self.tracks[urn].outcome() for urn in self.order]

    def custom_failures(self) -> bool:
        return any(t.failed and t.type.startswith(DYNAMIC_TYPE_PREFIX) for t in self.tracks.values())


def _cli_error(error: BaseException) -> str:
    """A failed CLI command in a line or two: its first `error:` line (and what follows it), else its exit."""
    # A CommandError's text is the command's result: " code: N\n stdout: ...\n stderr: ...".
    text = str(error)
    lines = [line.strip().removeprefix("stderr: ").removeprefix("stdout: ").strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    for index, line in enumerate(lines):
        if line.startswith("error: ") and line.removeprefix("error: ").lower() not in _CONSEQUENTIAL_ERRORS:
            detail = [more for more in lines[index + 1 : index + 3] if not more.startswith("error: ")]
            return " ".join([line.removeprefix("error: "), *detail])
    code = re.search(r"code: (-?\d+)", text)
    return (
        f"the Pulumi CLI failed ({type(error).__name__}, exit code {code.group(1) if code else 'unknown'}); "
        "its output is in the run's log"
    )


def clear_completed_pending_creates(stack: Any, printed: Callable[[str], None]) -> list[str]:
    """After a successful up, drop the pending creates a killed run left for resources that exist now.

    The engine keeps an interrupted create as a pending operation and, on the next up, creates the
    resource again (our providers' creates read, test, then set, so that converges); but it keeps the
    pending record until `pulumi refresh --clear-pending-creates`, and warns about it on every run.
    Once the up succeeded and the checkpoint holds each of those resources, that is what this does,
    refreshing just those resources (reading them back from their nodes) while it clears.
    """
    deployment = stack.export_stack().deployment or {}
    live = {resource["urn"] for resource in deployment.get("resources") or []}
    pending = [
        op["resource"]["urn"] for op in deployment.get("pending_operations") or [] if op.get("type") == "creating"
    ]
    if not pending or not set(pending) <= live:
        return []
    stack.refresh(
        clear_pending_creates=True,
        target=pending,
        on_output=printed,
        on_error=printed,
        color="never",
        suppress_outputs=True,
    )
    names = ", ".join(urn_name(urn) for urn in pending)
    return [
        f"cleared the pending create of {names} left by an interrupted run: this up created it, "
        "and a refresh read it back"
    ]


def run(
    job: dict[str, Any], emit: Callable[[Event], None], emit_note: Callable[[OperationNote], None] | None = None
) -> RunResult:
    from pulumi import automation as auto

    operation = Operation(job["operation"])
    result = RunResult(operation=operation, stack=job["stack"])
    project_dir = Path(job["project_dir"])
    program_path = Path(job["program"])
    os.chdir(project_dir)  # as the language host runs a program: in its directory
    if str(program_path.parent) not in sys.path:
        sys.path.insert(0, str(program_path.parent))

    def program() -> None:
        runpy.run_path(str(program_path), run_name="__main__")

    output: list[str] = []
    output_lock = threading.Lock()

    def printed(line: str) -> None:
        with output_lock:
            output.append(line)

    translator = Translator(operation, emit, emit_note)
    started = time.monotonic()
    try:
        command = auto.PulumiCommand(root=job["cli_root"], skip_version_check=True)
        env: dict[str, str] = job["env"]
        workspace = auto.LocalWorkspace(
            work_dir=str(project_dir), pulumi_home=env["PULUMI_HOME"], env_vars=env, pulumi_command=command
        )
        stack = auto.Stack.create_or_select(job["stack"], workspace)
        common: dict[str, Any] = {
            "on_event": translator,
            "on_output": printed,
            "on_error": printed,
            "color": "never",
            "suppress_progress": True,
        }
        if job.get("policy_packs"):
            common["policy_packs"] = list(job["policy_packs"])
        if operation is Operation.UP:
            up = stack.up(program=program, show_secrets=False, suppress_outputs=True, **common)
            result.outputs = {name: "[secret]" if out.secret else out.value for name, out in up.outputs.items()}
            if any("pending operations" in warning for warning in translator.warnings):
                translator.warnings += clear_completed_pending_creates(stack, printed)
        elif operation is Operation.PREVIEW:
            stack.preview(program=program, **common)
        elif operation is Operation.REFRESH:
            common.pop("policy_packs", None)
            stack.refresh(show_secrets=False, suppress_outputs=True, **common)
        else:
            common.pop("policy_packs", None)
            stack.destroy(show_secrets=False, suppress_outputs=True, **common)
    except Exception as error:  # the CLI failed (a failed resource, the program, a lock): reported below
        if translator.mandatory:
            names = ", ".join(dict.fromkeys(translator.mandatory))
            result.error = f"{len(translator.mandatory)} mandatory policy violations ({names}): see the policy lines"
        elif not translator.custom_failures() and not translator.stack_errors:
            result.error = _cli_error(error)
    result.wall_seconds = time.monotonic() - started
    with translator.lock:
        result.outcomes = translator.outcomes()
        if translator.stack_errors:
            result.error = "\n".join(dict.fromkeys(translator.stack_errors))
        result.warnings = list(dict.fromkeys(translator.warnings))
        result.messages = translator.messages
        result.engine_changes = translator.changes
        result.policy_violations = list(translator.violations)
    with output_lock:
        result.cli_output = "\n".join(output)
    return result


def _watch_parent(stdin: IO[bytes]) -> None:
    try:
        stdin.read()
    finally:
        os._exit(75)


def main() -> None:
    job = json.loads(sys.stdin.buffer.readline())
    threading.Thread(target=_watch_parent, args=(sys.stdin.buffer,), daemon=True, name="parent-watch").start()
    event_fd: int = job["event_fd"]
    os.set_inheritable(event_fd, False)
    channel = os.fdopen(event_fd, "w", encoding="utf-8")
    lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        with lock:
            channel.write(json.dumps(message) + "\n")
            channel.flush()

    try:
        result = run(job, lambda event: send({"event": event.to_json()}), lambda note: send({"note": note.to_json()}))
    except Exception:
        result = RunResult(
            operation=Operation(job["operation"]),
            stack=job["stack"],
            error="ops could not run the Pulumi CLI: " + concise_error(traceback.format_exc()),
        )
        print(traceback.format_exc(), file=sys.stderr)
    send({"result": result.to_json()})
    channel.close()
    sys.stdout.flush()
    sys.stderr.flush()
    # The program may have left non-daemon threads behind; the run is over and reported.
    os._exit(0)


if __name__ == "__main__":
    main()
