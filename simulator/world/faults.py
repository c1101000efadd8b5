"""Fault and latency injection, configured per node and per operation, deterministic under a seed.

Transport faults become the `Directive` the WS-Man server acts on; world faults (reboot, failover,
SQL unavailable) are carried out by the `WorldHost` around the operation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.wsman.backend import Directive

FaultKind = Literal[
    "reset_before",  # drop the connection on Command; the command never runs
    "reset_after",  # run it, drop the connection on the Receive that would deliver
    "http_500",  # answer the Command with HTTP 500
    "timeouts",  # `count` OperationTimeout faults before the output
    "hang",  # never completes
    "delay",  # the command takes `seconds`
    "reboot",  # the node reboots before the command; its shells are lost
    "failover",  # the role (or every role the node owns) moves to another possible owner as the command runs
    "sql_unavailable",  # SQL Server cannot be reached while the command runs
]
WORLD_KINDS = {"reboot", "failover", "sql_unavailable"}


class Fault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FaultKind
    node: str | None = None  # fnmatch pattern on the node name, case-insensitive; None = every node
    operation: str | None = None  # fnmatch pattern on the operation name; None = every operation
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    times: int | None = Field(default=None, ge=1)  # fire for the first N matching commands only ("once" = 1)
    count: int = Field(default=3, ge=1)  # timeouts
    seconds: float = Field(default=0.0, ge=0.0)  # delay
    role: str | None = None  # failover: which role; None = every role the node owns

    def matches(self, node: str, operation: str) -> bool:
        return (self.node is None or fnmatchcase(node.upper(), self.node.upper())) and (
            self.operation is None or fnmatchcase(operation, self.operation)
        )


class FaultPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    request_delay: float = Field(default=0.0, ge=0.0)  # seconds added to every HTTP request
    node_request_delay: dict[str, float] = Field(default_factory=dict)  # per node, overrides request_delay
    durations: dict[str, float] = Field(default_factory=dict)  # operation -> seconds it takes
    faults: list[Fault] = Field(default_factory=list)


@dataclass
class Decision:
    directive: Directive
    world_faults: list[Fault] = field(default_factory=list)


class FaultInjector:
    """Takes the fault decisions for each command in arrival order; not thread-safe (the host locks)."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self.plan = plan or FaultPlan()
        self._random = random.Random(self.plan.seed)
        self._fired = [0] * len(self.plan.faults)

    def request_delay(self, node: str | None = None) -> float:
        if node is not None:
            for name, delay in self.plan.node_request_delay.items():
                if name.upper() == node.upper():
                    return delay
        return self.plan.request_delay

    def decide(self, node: str, operation: str) -> Decision:
        directive = Directive(duration=self.plan.durations.get(operation, 0.0))
        decision = Decision(directive)
        for index, fault in enumerate(self.plan.faults):
            if not fault.matches(node, operation):
                continue
            if fault.times is not None and self._fired[index] >= fault.times:
                continue
            # Draw for every matching fault, fired or not, so one seed gives one sequence.
            if self._random.random() >= fault.probability:
                continue
            self._fired[index] += 1
            if fault.kind in WORLD_KINDS:
                decision.world_faults.append(fault)
            elif fault.kind == "reset_before":
                directive.reset_before = True
            elif fault.kind == "reset_after":
                directive.reset_after = True
            elif fault.kind == "http_500":
                directive.http_500 = True
            elif fault.kind == "timeouts":
                directive.timeouts += fault.count
            elif fault.kind == "hang":
                directive.hang = True
            elif fault.kind == "delay":
                directive.duration += fault.seconds
        return decision

    def fired(self) -> list[int]:
        return list(self._fired)
