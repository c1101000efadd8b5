"""The real program on the sim stack in tests, through the real Pulumi engine: a stack of its own per test.

`sim_stack(tmp_path)` yields a `SimStack`: a copy of the sim stack in a project of its own under
tmp_path (ops.engine.scratch_project: its own stack file, DIY backend and PULUMI_HOME), whose
`engine` runs `__main__.py` through the pinned Pulumi CLI, against simulated nodes on free ports
that this test owns (in this process, so the test reads their world directly). Tests run in
parallel without sharing ports, worlds, stack files or backends.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import settings
from ops import simstack
from ops.engine import Engine, Workspace, scratch_project, set_config, stack_document
from ops.model import Event
from simulator.world import FaultPlan, World

ROOT = Path(__file__).resolve().parent.parent
STACK = "sim"
PREFIX = "entsso-cluster:"
# What every run reports besides the procedure resources: the stack, the component and the
# default provider of the dynamic resources (pulumi:providers:pulumi-python::default).
BOOKKEEPING = frozenset({"entsso-cluster-sim", "mss", "default"})


def free_port_pair() -> int:
    return simstack.free_ports(2)


def sim_stack_config() -> dict[str, Any]:
    """Pulumi.sim.yaml's config section (namespaced keys; the secrets as their `secure:` ciphertext)."""
    return dict(stack_document(ROOT, STACK)["config"])


@dataclass
class SimStack:
    workspace: Workspace
    engine: Engine
    nodes: simstack.SimulatedStack
    settings: settings.StackSettings
    events: list[Event] = field(default_factory=list)

    @property
    def config(self) -> dict[str, Any]:
        """The stack file's config as it is now (namespaced keys)."""
        return dict(stack_document(self.workspace.project_dir, STACK)["config"])

    def with_config(self, **changes: Any) -> Engine:
        """Change config values in the stack file (keys without prefix), as `pulumi config set` would;
        a dict value is merged into the existing structured value, e.g. `sso={"probePort": 59990}`.
        Returns the stack's engine (the change is the stack's from now on)."""
        current = self.config
        update: dict[str, Any] = {}
        for key, value in changes.items():
            full = PREFIX + key
            if isinstance(value, dict) and isinstance(current.get(full), dict) and "secure" not in current[full]:
                update[full] = {**current[full], **value}
            else:
                update[full] = copy.deepcopy(value)
        set_config(self.workspace, update)
        return self.engine

    def set_secret(self, key: str, value: str) -> None:
        """`pulumi config set --secret` of a key (without prefix)."""
        self.engine.set_secret(PREFIX + key, value)

    @property
    def checkpoint_path(self) -> Path:
        return self.workspace.checkpoint()

    def checkpoint(self) -> dict[str, Any]:
        """The engine's checkpoint as the backend holds it (`latest`: resources, pending operations)."""
        document: dict[str, Any] = json.loads(self.checkpoint_path.read_text(encoding="utf-8"))
        latest: dict[str, Any] = document["checkpoint"].get("latest") or {}
        return latest

    def role_owner(self) -> str:
        """The node that owns the ENTSSO role in the simulated cluster now."""
        with self.nodes.host.lock:
            cluster = self.nodes.world.cluster
            assert cluster is not None
            group = cluster.group(self.settings.sso.network_name)
            assert group is not None
            return group.owner_node

    def resources(self, show_secrets: bool = False) -> list[dict[str, Any]]:
        """The stack's resources as `pulumi stack export` shows them; with `show_secrets`, every secret
        (`{<sig>: <secret sig>, "plaintext": <JSON>}` in the export) as its plain value."""
        deployment = self.engine.export(show_secrets=show_secrets)["deployment"]
        resources = list(deployment.get("resources") or [])
        return [revealed(resource) for resource in resources] if show_secrets else resources


SIG_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def revealed(value: Any) -> Any:
    """An exported value with each decrypted secret replaced by its value (the export keeps it as JSON text)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG and "plaintext" in value:
            return revealed(json.loads(value["plaintext"]))
        return {key: revealed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [revealed(item) for item in value]
    return value


def _engine_for(workspace: Workspace, events: list[Event]) -> Engine:
    return Engine(workspace, on_event=events.append)


@contextmanager
def sim_stack(
    tmp_path: Path,
    *,
    plan: FaultPlan | None = None,
    world: World | None = None,
    changes: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    world_file: Path | None = None,
) -> Iterator[SimStack]:
    """The sim stack's program, its own project, backend and simulated nodes on free ports under `tmp_path`.

    `changes` replace config values (keys without prefix); `secrets` replace secret keys through
    `pulumi config set --secret` before anything runs (and before the nodes are seeded with them);
    `world_file` keeps the simulated world on disk as `python -m ops simulate` does.
    """
    config = sim_stack_config()
    overrides = {
        PREFIX + "simulator": {**config[PREFIX + "simulator"], "basePort": free_port_pair()},
        PREFIX + "winrm": {**config[PREFIX + "winrm"], "retryBackoffSeconds": 0.02, "deadlineSeconds": 60},
    }
    for key, value in (changes or {}).items():
        overrides[PREFIX + key] = value
    workspace = scratch_project(tmp_path / "project", STACK, config=overrides, source=ROOT)
    events: list[Event] = []
    engine = _engine_for(workspace, events)
    for key, value in (secrets or {}).items():
        engine.set_secret(PREFIX + key, value)
    loaded = settings.load_stack_file(workspace.stack_file, STACK)
    nodes = simstack.start(loaded, ports="stack", plan=plan, world=world, state_file=world_file)
    try:
        yield SimStack(workspace, engine, nodes, loaded, events)
    finally:
        nodes.stop()
