"""A stack's world on disk: one JSON file, written atomically, loaded back as after a reboot.

The file is the simulated machines' disks: it holds the nodes' registries (the master secret,
base64) and files (the backup, base64). Nothing here prints it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

from simulator.world import windows
from simulator.world.model import World

FORMAT = 1


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _build(kind: Any, data: object) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return None if data is None else _build(options[0], data)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        assert isinstance(data, dict)
        hints = typing.get_type_hints(kind)
        return kind(
            **{
                f.name: _build(hints[f.name], data[f.name])
                for f in dataclasses.fields(kind)
                if f.name in data
            }
        )
    if origin is dict:
        assert isinstance(data, dict)
        _, value_kind = typing.get_args(kind)
        return {k: _build(value_kind, v) for k, v in data.items()}
    if origin is list:
        assert isinstance(data, list)
        (item_kind,) = typing.get_args(kind)
        return [_build(item_kind, v) for v in data]
    if kind is bytes:
        assert isinstance(data, dict)
        return base64.b64decode(data["$base64"])
    return data


def dumps(world: World) -> str:
    return json.dumps({"format": FORMAT, "world": _plain(world)}, sort_keys=True)


def loads(text: str) -> World:
    document = json.loads(text)
    if document.get("format") != FORMAT:
        raise ValueError(f"unsupported world file format {document.get('format')!r}")
    world: World = _build(World, document["world"])
    return world


def save(world: World, path: Path) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(dumps(world))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path) -> World:
    """The saved world after a power cycle: disks, SSODB and registries kept; services per startup type;
    cluster groups back online on their owner node."""
    world = loads(path.read_text(encoding="utf-8"))
    boot(world)
    return world


def boot(world: World) -> None:
    for node in world.nodes.values():
        for service in node.services.values():
            service.state, service.started_by = "Stopped", ""
        node.endpoint_names, node.loaded_secret = [], ""
    if world.cluster is not None:
        for resource in world.cluster.resources.values():
            resource.state = "Offline"
    for node in world.nodes.values():
        if node.up:
            windows.power_on(world, node)
