"""The one registry of operations: name -> handler, with the parameters its script declares.

Each handler module (`handlers_cluster`, `handlers_sso`, `handlers_secret`, `handlers_role`) decorates
its functions with `@operation(name, params=...)`; the parameter list mirrors the `param()` block of
`providers/scripts/<name>.ps1` (names, types, Mandatory, defaults, and which ones carry a secret).
A test holds the two together.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from simulator.world.errors import PowerShellError
from simulator.world.model import Node, World
from simulator.wsman.backend import Session

Value = str | int | bool | list[str] | None


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "string"  # "string" | "string[]" | "int" | "bool" | "switch"
    mandatory: bool = False
    secret: bool = False
    default: Value = None


# Shared parameter sets.
DELEGATION = (
    Param("DelegationMode", mandatory=True),
    Param("TaskUser"),
    Param("TaskPassword", secret=True),
)


@dataclass
class Call:
    """One invocation: the world, who called, on which node, with the bound parameters."""

    world: World
    session: Session
    node: Node
    params: dict[str, object]
    declared: tuple[Param, ...] = field(default_factory=tuple)

    def _value(self, name: str) -> object:
        if name in self.params and self.params[name] is not None:
            return self.params[name]
        for param in self.declared:
            if param.name == name:
                return param.default
        raise KeyError(name)

    def text(self, name: str) -> str:
        value = self._value(name)
        return "" if value is None else str(value)

    def texts(self, name: str) -> list[str]:
        value = self._value(name)
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if isinstance(value, list | tuple):
            return [str(item) for item in value]
        return [str(value)]

    def integer(self, name: str) -> int:
        value = self._value(name)
        return int(value) if isinstance(value, int | str) and str(value) != "" else 0

    def flag(self, name: str) -> bool:
        return bool(self._value(name))


Handler = Callable[[Call], dict[str, object]]


@dataclass(frozen=True)
class Operation:
    name: str
    params: tuple[Param, ...]
    handler: Handler
    reads_only: bool

    def secret_names(self) -> set[str]:
        return {p.name for p in self.params if p.secret}


_REGISTRY: dict[str, Operation] = {}
_HANDLER_MODULES = ("handlers_cluster", "handlers_sso", "handlers_secret", "handlers_role")


def operation(
    name: str, params: tuple[Param, ...] = (), reads_only: bool = False
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if name in _REGISTRY:
            raise ValueError(f"operation {name} registered twice")
        _REGISTRY[name] = Operation(name, tuple(params), handler, reads_only)
        return handler

    return register


def registry() -> Mapping[str, Operation]:
    for module in _HANDLER_MODULES:
        importlib.import_module(f"simulator.world.{module}")
    return _REGISTRY


def run(world: World, session: Session, name: str, params: dict[str, object]) -> dict[str, object]:
    """Run one operation on the session's node (no locking: the host holds the world's lock)."""
    found = registry().get(name)
    if found is None:
        raise PowerShellError(
            f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, or "
            "operable program.",
            "ObjectNotFound",
            "CommandNotFoundException",
        )
    node = world.node(session.node)
    if node is None or not node.up:
        raise PowerShellError(
            f"The computer '{session.node}' is not reachable.", "ConnectionError", "NodeDown"
        )
    return found.handler(Call(world, session, node, dict(params), found.params))
