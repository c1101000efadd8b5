"""A stack's world on disk: one JSON file, written atomically, loaded back as after a reboot.

The file is the simulated machines' disks: it holds what Windows keeps there and nothing more: the
domain's NT hashes (never a password), the nodes' registries (the master secret, base64) and files
(the backup, sealed with a key derived from the backup password, which is not kept). Nothing here
prints it.

Writes go through a temporary file beside it (mode 0600 from its creation, the same directory, so
`os.replace` is atomic); a process killed mid-write leaves at most such a file, which the next
simulator on that world removes when it claims the world (`claim`). One simulator at a time owns a
world file: the claim is an exclusive lock the kernel releases when the process dies, even by SIGKILL.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import fcntl
import json
import os
import re
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

from simulator.world import windows
from simulator.world.model import World
from simulator.wsman.auth import nt_hash

FORMAT = 2  # 2: the domain keeps NT hashes; 1 kept the passwords themselves
TEMPORARY_SUFFIX = ".tmp"


class WorldFileError(Exception):
    """A world file that cannot be used; the message is one line naming the file and the problem."""


class WorldInUse(WorldFileError):
    """Another simulator holds the world file."""


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


def _expect(data: object, kind: type, what: object) -> Any:
    if not isinstance(data, kind):
        raise ValueError(f"{what}: expected {kind.__name__}, found {type(data).__name__}")
    return data


def _build(kind: Any, data: object) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if data is None:
            return None
        if all(option in _SCALARS for option in options):
            if not isinstance(data, tuple(options)):
                raise ValueError(f"expected {kind}, found {type(data).__name__}")
            return data
        return _build(options[0], data)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        fields = _expect(data, dict, kind.__name__)
        hints = typing.get_type_hints(kind)
        return kind(
            **{f.name: _build(hints[f.name], fields[f.name]) for f in dataclasses.fields(kind) if f.name in fields}
        )
    if origin is dict:
        _, value_kind = typing.get_args(kind)
        return {k: _build(value_kind, v) for k, v in _expect(data, dict, kind).items()}
    if origin is list:
        (item_kind,) = typing.get_args(kind)
        return [_build(item_kind, v) for v in _expect(data, list, kind)]
    if kind is bytes:
        return base64.b64decode(_expect(data, dict, "bytes")["$base64"], validate=True)
    if kind in _SCALARS and not isinstance(data, (int, float) if kind is float else kind):
        raise ValueError(f"expected {kind.__name__}, found {type(data).__name__}")
    return data


_SCALARS = (str, int, bool, float)


def dumps(world: World) -> str:
    return json.dumps({"format": FORMAT, "world": _plain(world)}, sort_keys=True)


def _upgrade(document: dict[str, Any]) -> bool:
    """Bring an older document to FORMAT in place; True when it changed.

    Format 1 kept each domain user's password in clear. Windows keeps the NT hash, so the password
    is hashed here and dropped: the world works from the hash alone from then on.
    """
    version = document.get("format")
    if version == FORMAT:
        return False
    if version != 1:
        raise ValueError(f"format {version!r}, which this simulator does not read (it reads {FORMAT} and 1)")
    users = document["world"]["domain"]["users"]
    for user in _expect(users, dict, "domain.users").values():
        password = _expect(user.pop("password"), str, "a format-1 password")
        user["nt_hash"] = nt_hash(password).hex().upper()
    document["format"] = FORMAT
    return True


def _parse(text: str) -> tuple[World, bool]:
    document = _expect(json.loads(text), dict, "the file")
    upgraded = _upgrade(document)
    world: World = _build(World, document["world"])
    return world, upgraded


def loads(text: str) -> World:
    world, _ = _parse(text)
    return world


def save(world: World, path: Path) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp creates the file with mode 0600, so the hashes and secrets are never readable by others,
    # not even for the moment before os.replace.
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(dumps(world))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # the rename itself reaches the disk with the directory
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def load(path: Path) -> World:
    """The saved world after a power cycle: disks, SSODB and registries kept; services per startup type;
    cluster groups back online on their owner node.

    Raises WorldFileError when the file cannot be read or is not a world. A file in an older format is
    upgraded and written back at once, so a password it held in clear leaves the disk.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise WorldFileError(f"world file {path} cannot be read ({reason})") from None
    try:
        world, upgraded = _parse(text)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
        raise WorldFileError(f"world file {path} is not a world this simulator can load ({_reason(error)})") from None
    if upgraded:
        save(world, path)
    boot(world)
    return world


def _reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"not JSON: {error.msg} at line {error.lineno} column {error.colno}"
    if isinstance(error, KeyError):
        return f"missing {error.args[0]!r}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def stale_temporaries(path: Path) -> list[Path]:
    """Temporary files a save of `path` left behind when its process was killed mid-write."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.[a-z0-9_]{{8}}({re.escape(TEMPORARY_SUFFIX)})?$")
    if not path.parent.is_dir():
        return []
    return sorted(p for p in path.parent.iterdir() if pattern.match(p.name))


class WorldClaim:
    """One simulator's exclusive hold on a world file, released by `release` or by the process's end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = path.with_name(path.name + ".lock")
        self._fd: int | None = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise WorldInUse(
                f"world file {path} is in use by another simulator; stop it (or give this one another --world)"
            ) from None
        # Under the lock no save of this world is under way: what looks like a temporary is stale.
        for leftover in stale_temporaries(path):
            leftover.unlink(missing_ok=True)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def claim(path: Path) -> WorldClaim:
    """Hold `path` for this process and remove what a killed predecessor left; WorldFileError when taken."""
    return WorldClaim(path)


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
