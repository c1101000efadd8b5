"""The simulated Windows world: domain, SQL/SSODB, nodes, failover cluster and ENTSSO (DESIGN.md 5)."""

from __future__ import annotations

from simulator.world.faults import Fault, FaultPlan
from simulator.world.host import WorldHost
from simulator.world.model import World
from simulator.world.seed import seed_world
from simulator.world.store import load as load_world
from simulator.world.store import save as save_world
from simulator.world.windows import sso_client_can_get_secret

__all__ = [
    "Fault",
    "FaultPlan",
    "World",
    "WorldHost",
    "load_world",
    "save_world",
    "seed_world",
    "sso_client_can_get_secret",
]
