"""What a run of the Pulumi engine reports: progress events, per-resource outcomes and a summary.

Plain dataclasses with a JSON form: the engine runs in a worker process (ops/engine_worker.py) and
its events and result cross a pipe to the caller. Nothing here imports pulumi. The words are the
engine's: an outcome's `op` is what the engine did to the resource (its steps folded into one).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"


class Op(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    SAME = "same"
    READ_DRIFT = "read-drift"  # a refresh read outputs that differ from the state's
    REFRESH_REMOVED = "refresh-removed"  # a refresh found the resource gone

    @property
    def changes(self) -> bool:
        return self is not Op.SAME


class Status(StrEnum):
    OK = "ok"
    FAILED = "failed"


class Operation(StrEnum):
    UP = "up"
    PREVIEW = "preview"
    REFRESH = "refresh"
    DESTROY = "destroy"


def urn_name(urn: str) -> str:
    return urn.split("::", 3)[3]


def urn_type(urn: str) -> str:
    return urn.split("::")[2].rsplit("$", 1)[-1]


@dataclass(frozen=True)
class PropertyChange:
    """One line of the engine's detailed diff: `path` changed `kind` (add, update, delete, and their
    -replace forms), with the old and new input values as the engine showed them (secrets "[secret]")."""

    path: str
    kind: str
    old: Any = None
    new: Any = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PropertyChange:
        return cls(path=data["path"], kind=data["kind"], old=data.get("old"), new=data.get("new"))


@dataclass(frozen=True)
class Event:
    """A resource step started ("start") or ended ("end"); status, duration and error only on "end"."""

    phase: str
    urn: str
    type: str
    name: str
    op: Op
    status: Status | None = None
    duration: float = 0.0
    error: str | None = None
    changed: tuple[str, ...] = ()
    diff: tuple[PropertyChange, ...] = ()
    step: str = ""  # the engine's step: create, update, same, create-replacement, replace, delete-replaced, ...

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        status = data.get("status")
        return cls(
            phase=data["phase"],
            urn=data["urn"],
            type=data["type"],
            name=data["name"],
            op=Op(data["op"]),
            status=Status(status) if status else None,
            duration=float(data.get("duration", 0.0)),
            error=data.get("error"),
            changed=tuple(data.get("changed", ())),
            diff=tuple(PropertyChange.from_json(d) for d in data.get("diff", ())),
            step=data.get("step", ""),
        )


@dataclass(frozen=True)
class OperationNote:
    """A provider's note that an operation started or ended on a node (providers/notes.py), as the engine relayed it.

    `at` is the provider host's wall clock (seconds since the epoch) when it happened; `label` names the resource
    operation (`SsoInstall`, `EntssoService: ENTSSO on MSSNODE2`)."""

    phase: str  # start or end
    node: str
    operation: str
    label: str
    at: float
    ok: bool | None = None
    seconds: float | None = None

    @property
    def resource_type(self) -> str:
        """The dynamic resource type the label names: `read SsoInstall` -> `SsoInstall`."""
        words = self.label.replace(":", " ").split()
        return next((word for word in words if word[:1].isupper()), "")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OperationNote:
        return cls(
            phase=str(data["phase"]),
            node=str(data["node"]),
            operation=str(data["operation"]),
            label=str(data["label"]),
            at=float(data["at"]),
            ok=data.get("ok"),
            seconds=None if data.get("seconds") is None else float(data["seconds"]),
        )


@dataclass(frozen=True)
class ResourceOutcome:
    urn: str
    type: str
    name: str
    op: Op
    status: Status
    changed: tuple[str, ...] = ()
    duration: float = 0.0
    error: str | None = None
    diff: tuple[PropertyChange, ...] = ()

    @property
    def is_stack_or_component(self) -> bool:
        """The stack and our components (`entsso:...`) are bookkeeping; the work is in the custom resources."""
        return self.type == ROOT_STACK_TYPE or self.type.startswith("entsso:")

    @property
    def is_default_provider(self) -> bool:
        return self.type.startswith(PROVIDER_TYPE_PREFIX)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResourceOutcome:
        return cls(
            urn=data["urn"],
            type=data["type"],
            name=data["name"],
            op=Op(data["op"]),
            status=Status(data["status"]),
            changed=tuple(data.get("changed", ())),
            duration=float(data.get("duration", 0.0)),
            error=data.get("error"),
            diff=tuple(PropertyChange.from_json(d) for d in data.get("diff", ())),
        )


@dataclass(frozen=True)
class Summary:
    """Counts as Pulumi prints them; a preview counts what would happen."""

    created: int = 0
    updated: int = 0
    replaced: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0

    @classmethod
    def of(cls, outcomes: list[ResourceOutcome]) -> Summary:
        counts = dict.fromkeys(("created", "updated", "replaced", "deleted", "unchanged", "failed"), 0)
        by_op = {
            Op.CREATE: "created",
            Op.UPDATE: "updated",
            Op.READ_DRIFT: "updated",
            Op.REPLACE: "replaced",
            Op.DELETE: "deleted",
            Op.REFRESH_REMOVED: "deleted",
            Op.SAME: "unchanged",
        }
        for outcome in outcomes:
            counts["failed" if outcome.status is Status.FAILED else by_op[outcome.op]] += 1
        return cls(**counts)


@dataclass
class RunResult:
    operation: Operation
    stack: str
    outcomes: list[ResourceOutcome] = field(default_factory=list)
    error: str | None = None  # the run itself failed (the program, a lock, the CLI), not one resource
    warnings: list[str] = field(default_factory=list)  # the engine's warnings, e.g. pending operations
    messages: list[str] = field(default_factory=list)  # what the program and providers printed (info)
    outputs: dict[str, Any] = field(default_factory=dict)  # stack outputs after up; secrets as "[secret]"
    cli_output: str = ""  # everything the Pulumi CLI printed (stdout and stderr), as it printed it
    engine_changes: dict[str, int] = field(default_factory=dict)  # the engine's summary: op -> count
    policy_violations: list[str] = field(default_factory=list)  # "pack/policy (level) on resource: message"
    wall_seconds: float = 0.0

    @property
    def summary(self) -> Summary:
        return Summary.of(self.outcomes)

    @property
    def failed(self) -> bool:
        return self.error is not None or any(o.status is not Status.OK for o in self.outcomes)

    def outcome(self, name: str) -> ResourceOutcome:
        """The outcome for a resource by logical name (the last one if a name repeats)."""
        matches = [o for o in self.outcomes if o.name == name]
        if not matches:
            raise KeyError(name)
        return matches[-1]

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation.value,
            "stack": self.stack,
            "outcomes": [o.to_json() for o in self.outcomes],
            "error": self.error,
            "warnings": self.warnings,
            "messages": self.messages,
            "outputs": self.outputs,
            "cli_output": self.cli_output,
            "engine_changes": self.engine_changes,
            "policy_violations": self.policy_violations,
            "wall_seconds": self.wall_seconds,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        return cls(
            operation=Operation(data["operation"]),
            stack=data["stack"],
            outcomes=[ResourceOutcome.from_json(o) for o in data.get("outcomes", [])],
            error=data.get("error"),
            warnings=list(data.get("warnings", [])),
            messages=list(data.get("messages", [])),
            outputs=dict(data.get("outputs", {})),
            cli_output=data.get("cli_output", ""),
            engine_changes=dict(data.get("engine_changes", {})),
            policy_violations=list(data.get("policy_violations", [])),
            wall_seconds=float(data.get("wall_seconds", 0.0)),
        )
