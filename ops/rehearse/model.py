"""What a rehearsal run reports: per-resource outcomes, progress events and a Pulumi-like summary.

Plain dataclasses with a JSON form, because a run happens in a worker process and its events and
result cross a pipe to the caller. Nothing here imports pulumi.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"


class Op(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    SAME = "same"
    READ_DRIFT = "read-drift"
    REFRESH_REMOVED = "refresh-removed"


class Status(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # not attempted because something it depends on failed


class Operation(StrEnum):
    UP = "up"
    PREVIEW = "preview"
    REFRESH = "refresh"
    DESTROY = "destroy"


def make_urn(stack: str, project: str, parent_urn: str, type_: str, name: str) -> str:
    """The engine's NewURN: the parent's qualified type prefixes the type, except for the root stack."""
    qualified = type_
    if parent_urn:
        parent_type = parent_urn.split("::")[2]
        if parent_type != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def urn_name(urn: str) -> str:
    return urn.split("::", 3)[3]


@dataclass(frozen=True)
class Event:
    """A resource step started ("start") or finished ("end"); status/duration/error only on "end"."""

    phase: str
    urn: str
    type: str
    name: str
    op: Op
    status: Status | None = None
    duration: float = 0.0
    error: str | None = None
    changed: tuple[str, ...] = ()

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
    skipped: int = 0

    @classmethod
    def of(cls, outcomes: list[ResourceOutcome]) -> Summary:
        counts = dict.fromkeys(("created", "updated", "replaced", "deleted", "unchanged", "failed", "skipped"), 0)
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
            if outcome.status is Status.FAILED:
                counts["failed"] += 1
            elif outcome.status is Status.SKIPPED:
                counts["skipped"] += 1
            else:
                counts[by_op[outcome.op]] += 1
        return cls(**counts)


@dataclass
class RunResult:
    operation: Operation
    stack: str
    outcomes: list[ResourceOutcome] = field(default_factory=list)
    error: str | None = None  # the program or the run itself failed (not a single resource)
    warnings: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)  # stack exports, secrets shown as "[secret]"
    host_log: str = ""  # tail of the provider host's stdout/stderr, secrets masked
    program_output: str = ""  # tail of what the program (worker) printed

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
            "outputs": self.outputs,
            "host_log": self.host_log,
            "program_output": self.program_output,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        return cls(
            operation=Operation(data["operation"]),
            stack=data["stack"],
            outcomes=[ResourceOutcome.from_json(o) for o in data.get("outcomes", [])],
            error=data.get("error"),
            warnings=list(data.get("warnings", [])),
            outputs=dict(data.get("outputs", {})),
            host_log=data.get("host_log", ""),
            program_output=data.get("program_output", ""),
        )
