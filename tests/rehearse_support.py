"""Rehearsing the real program in tests: the sim stack on free ports, its own world and state file.

`rehearsal(tmp_path)` yields a `Rehearsal` whose `engine` runs `__main__.py` through the
rehearsal engine (the SDK's mock runtime and a real dynamic-provider host) against simulated nodes
that this test owns, so tests run in parallel without sharing ports, worlds or state.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import settings
from ops import simstack
from ops.rehearse.engine import Engine
from ops.rehearse.model import Event
from simulator.world import FaultPlan, World

ROOT = Path(__file__).resolve().parent.parent
STACK = "sim"
PREFIX = "entsso-cluster:"


def free_port_pair() -> int:
    return simstack.free_ports(2)


def sim_stack_config() -> dict[str, Any]:
    """Pulumi.sim.yaml's config section (namespaced keys), as the engine takes it."""
    document = yaml.safe_load((ROOT / f"Pulumi.{STACK}.yaml").read_text(encoding="utf-8"))
    return dict(document["config"])


@dataclass
class Rehearsal:
    engine: Engine
    nodes: simstack.SimulatedStack
    settings: settings.StackSettings
    config: dict[str, Any]
    state_path: Path
    events: list[Event] = field(default_factory=list)

    def with_config(self, **changes: Any) -> Engine:
        """An engine for the same stack and state with some config values changed (keys without prefix).

        A dict value is merged into the existing structured value, e.g. `sso={"probePort": 59990}`.
        """
        config = copy.deepcopy(self.config)
        for key, value in changes.items():
            full = PREFIX + key
            if isinstance(value, dict) and isinstance(config.get(full), dict):
                config[full] = {**config[full], **value}
            else:
                config[full] = value
        return _engine(config, self.state_path, self.events)


def _secret_keys(config: dict[str, Any]) -> set[str]:
    return {k for k in config if k.removeprefix(PREFIX) in settings.SECRET_KEYS}


def _engine(config: dict[str, Any], state_path: Path, events: list[Event]) -> Engine:
    return Engine(ROOT, STACK, config, _secret_keys(config), state_path, on_event=events.append)


@contextmanager
def rehearsal(
    tmp_path: Path,
    *,
    plan: FaultPlan | None = None,
    world: World | None = None,
    changes: dict[str, Any] | None = None,
) -> Iterator[Rehearsal]:
    """The sim stack's program and simulated nodes on free ports, with state under `tmp_path`."""
    os.environ.setdefault("ENTSSO_STATE_PASSPHRASE", "rehearsal tests only")
    config = sim_stack_config()
    base = free_port_pair()
    config[PREFIX + "simulator"] = {**config[PREFIX + "simulator"], "basePort": base}
    config[PREFIX + "winrm"] = {**config[PREFIX + "winrm"], "retryBackoffSeconds": 0.02, "deadlineSeconds": 60}
    for key, value in (changes or {}).items():
        config[PREFIX + key] = value
    loaded = settings.validate_stack({k.removeprefix(PREFIX): v for k, v in config.items()}, stack=STACK)
    nodes = simstack.start(loaded, ports="stack", plan=plan, world=world)
    events: list[Event] = []
    state_path = tmp_path / "state" / f"{STACK}.json"
    try:
        yield Rehearsal(_engine(config, state_path, events), nodes, loaded, config, state_path, events)
    finally:
        nodes.stop()
