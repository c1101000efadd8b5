"""The planner/executor: what the Pulumi engine does with each registration, and with the state.

up/preview: every registration of the program comes here (on the program's executor threads, so
independent ones run concurrently). A dynamic resource goes through the provider host: Check, then
Create for a new resource, or Diff and then nothing / Update / replace (delete-before-replace, or
create-first with the old one deleted at the end of the run). A preview stops after Check and Diff.
After the program, resources it no longer registers are deleted, dependents first.
refresh: Read every dynamic resource with its stored outputs. destroy: delete everything, dependents first.

Every state change is saved at once (atomically), and a provider call that changes the world is
bracketed by a pending operation in the state, so a killed run leaves a state that says so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from ops.rehearse.host import DIFF_NONE, DIFF_SOME, ProviderError, ProviderHost
from ops.rehearse.mock_cloud import computed_outputs, mock_id
from ops.rehearse.model import ROOT_STACK_TYPE, Event, Op, Operation, ResourceOutcome, Status, urn_name
from ops.rehearse.monitor import Registration, RegistrationResult
from ops.rehearse.properties import (
    UNKNOWN,
    PropertyMap,
    SecretMasker,
    changed_keys,
    is_secret,
    masked,
    reveal,
    secure_like,
    secure_outputs,
)
from ops.rehearse.state import PendingKind, PendingOperation, ResourceState, StackState, StateStore


@dataclass
class _Step:
    urn: str
    type: str
    op: Op
    started: float


class Reporter:
    """Collects outcomes and emits a start and an end event per resource step (thread-safe)."""

    def __init__(self, emit: Callable[[Event], None], masker: SecretMasker) -> None:
        self._emit = emit
        self._masker = masker
        self._lock = threading.Lock()
        self.outcomes: list[ResourceOutcome] = []

    def start(self, urn: str, type_: str, op: Op) -> _Step:
        self._emit(Event(phase="start", urn=urn, type=type_, name=urn_name(urn), op=op))
        return _Step(urn=urn, type=type_, op=op, started=time.monotonic())

    def finish(
        self,
        step: _Step,
        status: Status = Status.OK,
        changed: list[str] | tuple[str, ...] = (),
        error: str | None = None,
        op: Op | None = None,
        record: bool = True,
    ) -> None:
        duration = round(time.monotonic() - step.started, 3)
        error = self._masker.mask(error) if error else None
        final_op = op or step.op
        changed_names = tuple(changed)
        self._emit(
            Event(
                phase="end",
                urn=step.urn,
                type=step.type,
                name=urn_name(step.urn),
                op=final_op,
                status=status,
                duration=duration,
                error=error,
                changed=changed_names,
            )
        )
        if record:
            with self._lock:
                self.outcomes.append(
                    ResourceOutcome(
                        urn=step.urn,
                        type=step.type,
                        name=urn_name(step.urn),
                        op=final_op,
                        status=status,
                        changed=changed_names,
                        duration=duration,
                        error=error,
                    )
                )


def apply_ignore_changes(news: PropertyMap, olds: PropertyMap | None, ignore: list[str]) -> PropertyMap:
    """Keep the old value of each ignored top-level property (nested paths are not supported)."""
    if olds is None or not ignore:
        return news
    kept = dict(news)
    for path in ignore:
        key = path.split(".")[0].split("[")[0]
        if key in olds:
            kept[key] = olds[key]
        else:
            kept.pop(key, None)
    return kept


class Deployment:
    def __init__(
        self,
        operation: Operation,
        state: StackState,
        store: StateStore,
        host: ProviderHost,
        reporter: Reporter,
        masker: SecretMasker,
        parallel: int,
    ) -> None:
        self.operation = operation
        self.preview = operation is Operation.PREVIEW
        self.state = state
        self._store = store
        self._host = host
        self._reporter = reporter
        self._masker = masker
        self._parallel = parallel
        self._lock = threading.RLock()
        self._registered: dict[str, Registration] = {}
        self._failed: set[str] = set()
        self.stack_outputs: PropertyMap = {}
        self.warnings: list[str] = []
        self._take_over_pending_operations()

    # -- state -------------------------------------------------------------------------------

    def _save(self) -> None:
        if not self.preview:
            self._store.save(self.state)

    def _change(self, mutation: Callable[[], None]) -> None:
        """Apply a state mutation and persist it, unless this is a preview (which changes nothing)."""
        if self.preview:
            return
        with self._lock:
            mutation()
            self._save()

    def _take_over_pending_operations(self) -> None:
        """A previous run died mid-operation. As Pulumi does, an interrupted create counts as not
        done (its resource is not in the state, so it is created again: creates are idempotent);
        an interrupted update or delete leaves the old record, so it is retried."""
        for pending in self.state.pending_operations:
            consequence = (
                "treated as not created; it will be created again"
                if pending.kind == PendingKind.CREATING
                else "the resource keeps its last recorded state; the operation will be retried"
            )
            self.warnings.append(f"the previous run was interrupted while {pending.kind} {pending.urn}: {consequence}")
        self.state.pending_operations = []

    def _pending(self, kind: str, urn: str, type_: str, id_: str = "") -> PendingOperation:
        operation = PendingOperation(kind=kind, urn=urn, type=type_, id=id_)
        self._change(lambda: self.state.begin(operation))
        return operation

    # -- registrations (up, preview) ---------------------------------------------------------

    def register(self, registration: Registration) -> RegistrationResult:
        with self._lock:
            if registration.urn in self._registered:
                if registration.type == ROOT_STACK_TYPE:  # set_mocks' root stack and the program's
                    return RegistrationResult(id="", outputs={})
                step = self._reporter.start(registration.urn, registration.type, Op.CREATE)
                return self._fail(step, f"duplicate resource URN {registration.urn}")
            self._registered[registration.urn] = registration
        self._masker.add_secrets_in(registration.inputs)
        old = self.state.live(registration.urn)
        blocked = sorted(registration.depends_on() & self._failed)
        if blocked:
            step = self._reporter.start(registration.urn, registration.type, Op.SAME if old else Op.CREATE)
            with self._lock:
                self._failed.add(registration.urn)
            self._reporter.finish(step, Status.SKIPPED, error=f"skipped: it depends on {blocked[0]}, which failed")
            return RegistrationResult(id="", outputs={}, ok=False)
        try:
            if not registration.custom:
                return self._register_component(registration, old)
            if not registration.is_dynamic:
                return self._register_mocked(registration, old)
            return self._register_dynamic(registration, old)
        except Exception as error:  # a bug here must fail this resource, not hang the program
            step = self._reporter.start(registration.urn, registration.type, Op.CREATE)
            return self._fail(step, f"internal error in the rehearsal engine: {type(error).__name__}: {error}")

    def register_outputs(self, urn: str, outputs: PropertyMap) -> None:
        self._masker.add_secrets_in(outputs)
        with self._lock:
            if urn.split("::")[2] == ROOT_STACK_TYPE:
                self.stack_outputs = outputs
            record = self.state.live(urn)
            if record is not None and not self.preview:
                record.outputs = outputs
                self._save()

    def _record(self, registration: Registration, id_: str, inputs: PropertyMap, outputs: PropertyMap) -> ResourceState:
        return ResourceState(
            urn=registration.urn,
            type=registration.type,
            custom=registration.custom,
            id=id_,
            parent=registration.parent,
            inputs=inputs,
            outputs=outputs,
            dependencies=list(registration.dependencies),
            property_dependencies={k: list(v) for k, v in registration.property_dependencies.items()},
            protect=registration.protect,
            retain_on_delete=registration.retain_on_delete,
            delete_before_replace=registration.delete_before_replace,
            additional_secret_outputs=list(registration.additional_secret_outputs),
        )

    def _fail(self, step: _Step, message: str) -> RegistrationResult:
        """The resource failed: report it, and skip whatever registers later depending on it."""
        with self._lock:
            self._failed.add(step.urn)
        self._reporter.finish(step, Status.FAILED, error=message)
        return RegistrationResult(id="", outputs={}, ok=False)

    def _register_component(self, registration: Registration, old: ResourceState | None) -> RegistrationResult:
        step = self._reporter.start(registration.urn, registration.type, Op.SAME if old else Op.CREATE)
        record = self._record(registration, "", registration.inputs, old.outputs if old else {})
        self._change(lambda: self.state.upsert(record))
        self._reporter.finish(step)
        return RegistrationResult(id="", outputs={})

    def _register_mocked(self, registration: Registration, old: ResourceState | None) -> RegistrationResult:
        """A resource of a non-dynamic provider: deterministic outputs, no provider process."""
        inputs = registration.inputs
        changed = changed_keys(old.inputs, inputs) if old else []
        op = Op.CREATE if old is None else (Op.UPDATE if changed else Op.SAME)
        step = self._reporter.start(registration.urn, registration.type, op)
        if self.preview and op is Op.CREATE:
            self._reporter.finish(step)
            return RegistrationResult(id="", outputs=inputs)
        id_ = mock_id(registration.name)
        outputs = secure_outputs(
            {**inputs, **computed_outputs(registration.type, registration.name, reveal(inputs))},
            inputs,
            registration.additional_secret_outputs,
        )
        record = self._record(registration, id_, inputs, outputs)
        self._change(lambda: self.state.upsert(record))
        self._reporter.finish(step, changed=changed)
        return RegistrationResult(id=id_, outputs=outputs)

    def _register_dynamic(self, registration: Registration, old: ResourceState | None) -> RegistrationResult:
        urn = registration.urn
        news = apply_ignore_changes(registration.inputs, old.inputs if old else None, registration.ignore_changes)
        try:
            checked = self._host.check(urn, old.inputs if old else {}, news)
        except ProviderError as error:
            step = self._reporter.start(urn, registration.type, Op.SAME if old else Op.CREATE)
            return self._fail(step, f"check failed: {error}")
        if checked.failures:
            step = self._reporter.start(urn, registration.type, Op.SAME if old else Op.CREATE)
            reasons = "; ".join(f"{prop}: {reason}" if prop else reason for prop, reason in checked.failures)
            return self._fail(step, f"check failed: {reasons}")
        inputs = secure_like(checked.inputs, news)
        if old is None:
            return self._create(registration, inputs, self._reporter.start(urn, registration.type, Op.CREATE))

        try:
            diff = self._host.diff(urn, old.id, old.outputs, inputs, old.inputs, registration.ignore_changes)
        except ProviderError as error:
            return self._fail(self._reporter.start(urn, registration.type, Op.UPDATE), f"diff failed: {error}")
        if diff.changes == DIFF_NONE:
            changed: list[str] = []
        elif diff.changes == DIFF_SOME:
            # The SDK host sends no detailed diff; name what changed against the old inputs, else
            # (e.g. after a refresh saw drift) against the old outputs.
            changed = (
                diff.diffs
                or changed_keys(old.inputs, inputs)
                or [k for k in changed_keys(old.outputs, inputs) if k in inputs]
                or list(diff.replaces)
            )
        else:  # DIFF_UNKNOWN: the engine falls back to comparing old and new inputs
            changed = changed_keys(old.inputs, inputs)
        if not changed and diff.changes != DIFF_SOME:
            return self._same(registration, old, inputs)
        forced = [k for k in changed if k in registration.replace_on_changes]
        replaces = list(dict.fromkeys([*diff.replaces, *forced]))
        changed = list(dict.fromkeys([*changed, *replaces]))
        if not replaces:
            return self._update(registration, old, inputs, changed)
        delete_first = diff.delete_before_replace or registration.delete_before_replace
        return self._replace(registration, old, inputs, changed, delete_first)

    def _same(self, registration: Registration, old: ResourceState, inputs: PropertyMap) -> RegistrationResult:
        step = self._reporter.start(registration.urn, registration.type, Op.SAME)
        outputs = secure_outputs(old.outputs, inputs, registration.additional_secret_outputs)
        record = self._record(registration, old.id, inputs, outputs)
        self._change(lambda: self.state.upsert(record))
        self._reporter.finish(step)
        return RegistrationResult(id=old.id, outputs=outputs)

    def _create(self, registration: Registration, inputs: PropertyMap, step: _Step) -> RegistrationResult:
        if self.preview:
            self._reporter.finish(step)
            return RegistrationResult(id="", outputs=inputs)
        pending = self._pending(PendingKind.CREATING, registration.urn, registration.type)
        try:
            id_, outs = self._host.create(registration.urn, inputs)
        except ProviderError as error:
            self._change(lambda: self.state.end(pending))
            return self._fail(step, f"create failed: {error}")
        outputs = secure_outputs(outs, inputs, registration.additional_secret_outputs)
        record = self._record(registration, id_, inputs, outputs)

        def commit() -> None:
            self.state.upsert(record)
            self.state.end(pending)

        self._change(commit)
        self._reporter.finish(step)
        return RegistrationResult(id=id_, outputs=outputs)

    def _update(
        self, registration: Registration, old: ResourceState, inputs: PropertyMap, changed: list[str]
    ) -> RegistrationResult:
        step = self._reporter.start(registration.urn, registration.type, Op.UPDATE)
        if self.preview:
            self._reporter.finish(step, changed=changed)
            return RegistrationResult(id=old.id, outputs=inputs)
        pending = self._pending(PendingKind.UPDATING, registration.urn, registration.type, old.id)
        try:
            outs = self._host.update(
                registration.urn, old.id, old.outputs, inputs, old.inputs, registration.ignore_changes
            )
        except ProviderError as error:
            self._change(lambda: self.state.end(pending))
            return self._fail(step, f"update failed: {error}")
        outputs = secure_outputs(outs, inputs, registration.additional_secret_outputs)
        record = self._record(registration, old.id, inputs, outputs)

        def commit() -> None:
            self.state.upsert(record)
            self.state.end(pending)

        self._change(commit)
        self._reporter.finish(step, changed=changed)
        return RegistrationResult(id=old.id, outputs=outputs)

    def _replace(
        self,
        registration: Registration,
        old: ResourceState,
        inputs: PropertyMap,
        changed: list[str],
        delete_first: bool,
    ) -> RegistrationResult:
        step = self._reporter.start(registration.urn, registration.type, Op.REPLACE)
        if old.protect:
            return self._fail(
                step,
                f"unable to replace resource {registration.urn} as it is currently marked for "
                "protection; unprotect it (protect=False) and run up first",
            )
        if self.preview:
            self._reporter.finish(step, changed=changed)
            return RegistrationResult(id="", outputs=inputs)
        if delete_first:
            try:
                self._delete_physical(old)
            except ProviderError as error:
                return self._fail(step, f"delete (before replace) failed: {error}")
            self._change(lambda: self.state.remove(old))
        pending = self._pending(PendingKind.CREATING, registration.urn, registration.type)
        try:
            id_, outs = self._host.create(registration.urn, inputs)
        except ProviderError as error:
            self._change(lambda: self.state.end(pending))
            return self._fail(step, f"create (replacement) failed: {error}")
        outputs = secure_outputs(outs, inputs, registration.additional_secret_outputs)
        record = self._record(registration, id_, inputs, outputs)

        def commit() -> None:
            self.state.upsert(record)  # takes the old live record's place
            if not delete_first:
                old.delete = True  # the old one stays in the state until it is deleted, at the end of the run
                self.state.resources.append(old)
            self.state.end(pending)

        self._change(commit)
        self._reporter.finish(step, changed=changed)
        return RegistrationResult(id=id_, outputs=outputs)

    # -- deletions (end of up, destroy) ------------------------------------------------------

    def finish_up(self, program_ok: bool) -> None:
        """After the program: delete what it no longer registers and what replacements condemned."""
        removed = [r for r in self.state.live_resources() if r.urn not in self._registered] if program_ok else []
        if not program_ok and any(r.urn not in self._registered for r in self.state.live_resources()):
            self.warnings.append("the program failed, so resources it did not register were not deleted")
        if self.preview:
            for record in removed:
                step = self._reporter.start(record.urn, record.type, Op.DELETE)
                if record.protect:
                    self._reporter.finish(step, Status.FAILED, error=self._protected_message(record))
                else:
                    self._reporter.finish(step)
            return
        self.delete_in_reverse_order([*removed, *self.state.condemned()])

    def destroy(self) -> None:
        self.delete_in_reverse_order(list(self.state.resources))

    def delete_in_reverse_order(self, records: list[ResourceState]) -> None:
        """Delete `records`, each one only after everything among them that depends on it is gone;
        independent deletes run in parallel. What cannot go (a dependent failed) is reported skipped."""
        if not records:
            return
        index_by_urn: dict[str, list[int]] = {}
        for index, record in enumerate(records):
            index_by_urn.setdefault(record.urn, []).append(index)
        dependents: dict[int, set[int]] = {i: set() for i in range(len(records))}
        dependencies: dict[int, set[int]] = {i: set() for i in range(len(records))}
        for j, record in enumerate(records):
            for urn in record.depends_on():
                for i in index_by_urn.get(urn, []):
                    if i != j:
                        dependents[i].add(j)
                        dependencies[j].add(i)
        waiting = set(range(len(records)))
        with ThreadPoolExecutor(max_workers=self._parallel, thread_name_prefix="delete") as pool:
            running: dict[Future[bool], int] = {}
            while True:
                for index in sorted(i for i in waiting if not dependents[i]):
                    waiting.discard(index)
                    running[pool.submit(self._delete_one, records[index])] = index
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    index = running.pop(future)
                    if future.result():
                        for dependency in dependencies[index]:
                            dependents[dependency].discard(index)
        for index in sorted(waiting):
            record = records[index]
            blocker = records[min(dependents[index])].urn
            step = self._reporter.start(record.urn, record.type, Op.DELETE)
            self._reporter.finish(
                step, Status.SKIPPED, error=f"not deleted: {blocker} depends on it and was not deleted"
            )

    def _protected_message(self, record: ResourceState) -> str:
        return (
            f"unable to delete resource {record.urn} as it is currently marked for protection; "
            "unprotect it (protect=False) and run up first"
        )

    def _delete_one(self, record: ResourceState) -> bool:
        step = self._reporter.start(record.urn, record.type, Op.DELETE)
        condemned = record.delete  # the old half of a replacement: counted in the replace, not as a delete
        if record.protect and not condemned:
            self._reporter.finish(step, Status.FAILED, error=self._protected_message(record))
            return False
        try:
            self._delete_physical(record)
        except ProviderError as error:
            self._reporter.finish(step, Status.FAILED, error=f"delete failed: {error}")
            return False
        self._change(lambda: self.state.remove(record))
        self._reporter.finish(step, record=not condemned)
        return True

    def _delete_physical(self, record: ResourceState) -> None:
        """The provider's Delete, with the outputs (and so the provider blob) stored in the state."""
        if not (record.custom and record.is_dynamic) or record.retain_on_delete:
            return
        pending = self._pending(PendingKind.DELETING, record.urn, record.type, record.id)
        try:
            self._host.delete(record.urn, record.id, record.outputs, record.inputs)
        finally:
            self._change(lambda: self.state.end(pending))

    # -- refresh -----------------------------------------------------------------------------

    def refresh(self) -> None:
        records = [r for r in self.state.live_resources() if r.custom]
        with ThreadPoolExecutor(max_workers=self._parallel, thread_name_prefix="refresh") as pool:
            for future in [pool.submit(self._refresh_one, record) for record in records]:
                future.result()

    def _refresh_one(self, record: ResourceState) -> None:
        step = self._reporter.start(record.urn, record.type, Op.SAME)
        if not record.is_dynamic:
            self._reporter.finish(step)  # a mocked resource has nothing to read
            return
        try:
            read = self._host.read(record.urn, record.id, record.outputs, record.inputs)
        except ProviderError as error:
            self._reporter.finish(step, Status.FAILED, error=f"read failed: {error}")
            return
        if not read.id:
            self._change(lambda: self.state.remove(record))
            self._reporter.finish(step, op=Op.REFRESH_REMOVED)
            return
        previously_secret = [k for k, v in record.outputs.items() if is_secret(v)]
        outputs = secure_outputs(read.outputs, record.inputs, [*record.additional_secret_outputs, *previously_secret])
        drift = changed_keys(record.outputs, outputs)

        def commit() -> None:
            record.id = read.id
            record.outputs = outputs
            if read.inputs is not None:
                record.inputs = secure_like(read.inputs, record.inputs)

        self._change(commit)
        self._reporter.finish(step, changed=drift, op=Op.READ_DRIFT if drift else Op.SAME)


def display_outputs(outputs: PropertyMap) -> dict[str, Any]:
    """Stack outputs for a report: secrets as "[secret]", preview unknowns as "[unknown]"."""

    def unknowns(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: unknowns(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unknowns(v) for v in value]
        return "[unknown]" if value == UNKNOWN else value

    return {k: unknowns(masked(v)) for k, v in outputs.items()}
