"""In-memory `FileSystem`, `Registry` and `Machine` (machine.py), with the errors Windows raises.

`MemoryMachine` is a Windows with the language's own cmdlets and nothing installed: a disk and a registry in
memory, the standard environment, virtual time. The stand-in nodes of the transport tests
(simulator/shell/standin.py) and the interpreter's tests run scripts on it.
Wordings are mscorlib's (IO_FileNotFound_FileName, IO_PathNotFound_Path, UnauthorizedAccess_IODenied_Path).
"""

from __future__ import annotations

import datetime as _dt
import threading
import uuid
from collections.abc import Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING

from simulator.powershell.errors import DotNetError, NetException
from simulator.powershell.machine import CaseInsensitiveEnvironment, Executable, FileEntry, Identity

if TYPE_CHECKING:
    from simulator.powershell.cmdlets import CommandDefinition
    from simulator.powershell.types import PSType
    from simulator.powershell.values import DotNetObject


def normalize(path: str) -> str:
    text = path.replace("/", "\\")
    while "\\\\" in text[1:]:
        text = text[0] + text[1:].replace("\\\\", "\\")
    if len(text) > 3 and text.endswith("\\"):
        text = text.rstrip("\\")
    return text


def parent_of(path: str) -> str:
    text = normalize(path)
    if "\\" not in text:
        return ""
    head = text.rsplit("\\", 1)[0]
    return head + "\\" if head.endswith(":") else head


def file_not_found(path: str) -> DotNetError:
    return DotNetError(
        NetException("System.IO.FileNotFoundException", f"Could not find file '{path}'.", hresult=-2147024894)
    )


def directory_not_found(path: str) -> DotNetError:
    return DotNetError(
        NetException(
            "System.IO.DirectoryNotFoundException", f"Could not find a part of the path '{path}'.", hresult=-2147024893
        )
    )


def access_denied(path: str) -> DotNetError:
    return DotNetError(NetException("System.UnauthorizedAccessException", f"Access to the path '{path}' is denied."))


class MemoryFileSystem:
    """Files and directories in a dict; drive roots (C:\\) always exist."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._files: dict[str, tuple[str, bytes, _dt.datetime]] = {}
        self._dirs: dict[str, str] = {}
        self._acls: dict[str, object] = {}

    def _key(self, path: str) -> str:
        return normalize(path).lower()

    def _is_root(self, key: str) -> bool:
        return len(key) <= 3 and key[1:2] == ":"

    def stat(self, path: str) -> FileEntry | None:
        key = self._key(path)
        with self._lock:
            if key in self._files:
                spelling, data, when = self._files[key]
                return FileEntry(spelling, False, len(data), when)
            if key in self._dirs or self._is_root(key):
                return FileEntry(self._dirs.get(key, normalize(path)), True)
        return None

    def read_bytes(self, path: str) -> bytes:
        key = self._key(path)
        with self._lock:
            if key in self._files:
                return self._files[key][1]
            if key in self._dirs:
                raise access_denied(path)
            if not self._parent_exists(path):
                raise directory_not_found(path)
        raise file_not_found(path)

    def _parent_exists(self, path: str) -> bool:
        parent = self._key(parent_of(path))
        return parent == "" or parent in self._dirs or self._is_root(parent)

    def write_bytes(self, path: str, data: bytes) -> None:
        key = self._key(path)
        with self._lock:
            if key in self._dirs:
                raise access_denied(path)
            if not self._parent_exists(path):
                raise directory_not_found(path)
            self._files[key] = (normalize(path), bytes(data), _dt.datetime.now())

    def make_directory(self, path: str) -> None:
        with self._lock:
            current = normalize(path)
            chain = []
            while current and not self._is_root(current.lower()):
                chain.append(current)
                current = (
                    parent_of(current).rstrip("\\") if not parent_of(current).endswith(":\\") else parent_of(current)
                )
            for item in reversed(chain):
                if item.lower() in self._files:
                    raise DotNetError(
                        NetException(
                            "System.IO.IOException",
                            f"Cannot create '{item}' because a file or directory with the same name already exists.",
                        )
                    )
                self._dirs.setdefault(item.lower(), item)

    def remove(self, path: str, recurse: bool) -> None:
        key = self._key(path)
        with self._lock:
            if key in self._files:
                del self._files[key]
                self._acls.pop(key, None)
                return
            if key not in self._dirs:
                raise directory_not_found(path)
            children = [k for k in list(self._files) + list(self._dirs) if k.startswith(key + "\\")]
            if children and not recurse:
                raise DotNetError(NetException("System.IO.IOException", "The directory is not empty."))
            for child in children:
                self._files.pop(child, None)
                self._dirs.pop(child, None)
                self._acls.pop(child, None)
            del self._dirs[key]
            self._acls.pop(key, None)

    def list_directory(self, path: str) -> list[FileEntry]:
        key = self._key(path)
        with self._lock:
            if key not in self._dirs and not self._is_root(key):
                raise directory_not_found(path)
            prefix = key.rstrip("\\") + "\\"
            out = []
            for child, spelling in self._dirs.items():
                if child.startswith(prefix) and "\\" not in child[len(prefix) :]:
                    out.append(FileEntry(spelling, True))
            for child, (spelling, data, when) in self._files.items():
                if child.startswith(prefix) and "\\" not in child[len(prefix) :]:
                    out.append(FileEntry(spelling, False, len(data), when))
            return out

    def set_acl(self, path: str, acl: object) -> None:
        key = self._key(path)
        with self._lock:
            if key not in self._files and key not in self._dirs:
                raise directory_not_found(path)
            self._acls[key] = acl

    def get_acl(self, path: str) -> object:
        from simulator.powershell.dotnet import DirectorySecurity  # dotnet imports this module's helpers

        with self._lock:
            # Get-Acl always returns an ACL; one never set explicitly has no explicit rules (inherited only).
            return self._acls.get(self._key(path)) or DirectorySecurity()

    def files(self) -> dict[str, bytes]:
        with self._lock:
            return {spelling: data for spelling, data, _ in self._files.values()}


class MemoryRegistry:
    """Keys (case-insensitive) with named values, in order."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._keys: dict[str, tuple[str, dict[str, tuple[str, object, str]]]] = {}

    def _k(self, key: str) -> str:
        return key.rstrip("\\").lower()

    def key_exists(self, key: str) -> bool:
        with self._lock:
            return self._k(key) in self._keys or self._k(key) in ("hkey_local_machine", "hkey_current_user")

    def values(self, key: str) -> dict[str, object]:
        with self._lock:
            found = self._keys.get(self._k(key))
            if found is None:
                return {}
            return {name: value for name, value, _ in found[1].values()}

    def subkeys(self, key: str) -> list[str]:
        prefix = self._k(key) + "\\"
        with self._lock:
            return [
                spelling.rsplit("\\", 1)[1]
                for k, (spelling, _) in self._keys.items()
                if k.startswith(prefix) and "\\" not in k[len(prefix) :]
            ]

    def set_value(self, key: str, name: str, value: object, kind: str = "String") -> None:
        with self._lock:
            self.create_key(key)
            self._keys[self._k(key)][1][name.lower()] = (name, value, kind)

    def create_key(self, key: str) -> None:
        with self._lock:
            parts = key.rstrip("\\").split("\\")
            for index in range(1, len(parts) + 1):
                partial = "\\".join(parts[:index])
                self._keys.setdefault(partial.lower(), (partial, {}))

    def delete_key(self, key: str, recurse: bool) -> None:
        with self._lock:
            k = self._k(key)
            for child in [c for c in self._keys if c == k or c.startswith(k + "\\")]:
                del self._keys[child]

    def delete_value(self, key: str, name: str) -> None:
        with self._lock:
            found = self._keys.get(self._k(key))
            if found is not None:
                found[1].pop(name.lower(), None)


class MemoryMachine:
    """A Windows in memory: files, registry, the standard environment, virtual time; nothing installed.

    DPAPI here is a reversible stand-in (no key): a machine whose protected data must stay secret is the
    world's NodeMachine. Time starts at `clock` and moves only by `Start-Sleep`; GUIDs count up.
    """

    def __init__(self, computer_name: str = "MSSNODE1", user: str = "CORP\\svc-install") -> None:
        self.computer_name = computer_name
        self.user = user
        self.filesystem = MemoryFileSystem()
        self.registry = MemoryRegistry()
        self._environment = CaseInsensitiveEnvironment(
            [
                ("COMPUTERNAME", computer_name),
                ("ProgramData", "C:\\ProgramData"),
                ("SystemRoot", "C:\\Windows"),
                ("CommonProgramW6432", "C:\\Program Files\\Common Files"),
                ("TEMP", "C:\\Windows\\Temp"),
                ("USERNAME", user.rsplit("\\", 1)[-1]),
            ]
        )
        for folder in ("C:\\ProgramData", "C:\\Windows\\Temp", "C:\\Program Files\\Common Files"):
            self.filesystem.make_directory(folder)
        self.machine_variables: dict[str, str] = {}
        self.slept: list[float] = []
        self.clock = _dt.datetime(2026, 1, 15, 9, 30, 0)
        self._guids = 0

    def identity(self) -> Identity:
        return Identity(self.user)

    def environment(self) -> MutableMapping[str, str]:
        return self._environment

    def machine_environment(self, name: str, target: str) -> str | None:
        return self.machine_variables.get(name)

    def modules(self) -> Iterable[str]:
        return ()

    def commands(self) -> Iterable[CommandDefinition]:
        return ()

    def find_executable(self, name: str) -> Executable | None:
        return None

    def com_class(self, progid: str) -> Callable[[], DotNetObject] | None:
        return None

    def load_assembly(self, path: str) -> Iterable[PSType]:
        return ()

    def protect(self, data: bytes, entropy: bytes | None, scope: str) -> bytes:
        return b"DPAPI" + bytes(b ^ 0x5A for b in data)

    def unprotect(self, data: bytes, entropy: bytes | None, scope: str) -> bytes:
        return bytes(b ^ 0x5A for b in data[5:])

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock += _dt.timedelta(seconds=seconds)

    def now(self) -> _dt.datetime:
        return self.clock

    def new_guid(self) -> uuid.UUID:
        self._guids += 1
        return uuid.UUID(int=self._guids)

    def random_bytes(self, count: int) -> bytes:
        return bytes((i * 37 + 11) % 256 for i in range(count))
