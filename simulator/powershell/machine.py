"""The host protocol: everything the interpreter needs from the machine it runs on.

The interpreter never imports the simulated world. A node of the world (or a test) implements
`Machine`; the interpreter reaches the machine only through it:

| a script does                                      | the interpreter asks                              |
|----------------------------------------------------|---------------------------------------------------|
| `$env:X`, `[Environment]::GetEnvironmentVariable()` | `environment()`, `machine_environment()`         |
| a cmdlet the language lacks (Get-ClusterResource)   | `commands()`, `modules()`                         |
| runs `ssomanage.exe`, `& 'C:\\x\\setup.exe'`         | `find_executable(name_or_path)`                   |
| `Test-Path`, `Get-Item`, `[IO.File]::ReadAllBytes`, `Set-Acl` | `filesystem` (a `FileSystem`)            |
| `Get-ItemProperty HKLM:\\...`                        | `registry` (a `Registry`)                         |
| `[Type]::GetTypeFromProgID` + `[Activator]::CreateInstance`, `New-Object -ComObject` | `com_class(progid)` |
| `Add-Type -Path X.dll`, `New-Object -TypeName T`     | `load_assembly(path)` -> the types it defines      |
| `[Security.Cryptography.ProtectedData]::Protect`     | `protect()` / `unprotect()` (DPAPI)               |
| `Start-Sleep`, `Get-Date`, `[guid]::NewGuid()`       | `sleep()`, `now()`, `new_guid()`                  |
| `[Security.Cryptography.RandomNumberGenerator]`      | `random_bytes()`                                  |
| who am I                                          | `identity()`                                      |
| `[System.Data.SqlClient.SqlConnection]`, ...       | `dotnet_types()` (optional): types loaded at start |

Errors a machine raises to a script are `simulator.powershell.errors.DotNetError`s carrying the
.NET exception a Windows API would throw (FileNotFoundException, UnauthorizedAccessException,
COMException with its HResult, ...).

The console (`[Console]::In`, `[Console]::Out`) belongs to one powershell.exe process, not to the
machine: `engine.run_process` gives each its own `Console`. Cmdlets the machine defines report errors through the
cmdlet framework (`Cmdlet.write_error` / `throw_terminating_error`).
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from simulator.powershell.cmdlets import CommandDefinition
    from simulator.powershell.types import PSType
    from simulator.powershell.values import DotNetObject


@dataclass(frozen=True)
class Identity:
    """The account the session runs as."""

    user: str  # DOMAIN\\user
    is_admin: bool = True
    network_credentials: bool = False  # CredSSP or a local logon: may reach other machines as itself


@dataclass
class NativeResult:
    exit_code: int
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)


class Executable(Protocol):
    name: str  # as PowerShell names the command, e.g. "ssomanage.exe"

    def run(self, arguments: list[str], stdin: str | None) -> NativeResult: ...


class Console(Protocol):
    def read_all(self) -> str: ...

    def write(self, text: str) -> None: ...


@dataclass
class BufferConsole:
    """A console over strings: stdin given, stdout collected."""

    stdin: str = ""
    stdout: list[str] = field(default_factory=list)

    def read_all(self) -> str:
        text, self.stdin = self.stdin, ""
        return text

    def write(self, text: str) -> None:
        self.stdout.append(text)

    def text(self) -> str:
        return "".join(self.stdout)


@dataclass(frozen=True)
class FileEntry:
    path: str
    is_directory: bool
    length: int = 0
    last_write: _dt.datetime | None = None


class FileSystem(Protocol):
    """Paths are Windows paths, absolute (C:\\...), compared case-insensitively by the implementation."""

    def stat(self, path: str) -> FileEntry | None: ...

    def read_bytes(self, path: str) -> bytes: ...

    def write_bytes(self, path: str, data: bytes) -> None: ...

    def make_directory(self, path: str) -> None: ...

    def remove(self, path: str, recurse: bool) -> None: ...

    def list_directory(self, path: str) -> list[FileEntry]: ...

    def set_acl(self, path: str, acl: object) -> None: ...

    def get_acl(self, path: str) -> object: ...


class Registry(Protocol):
    """Keys are full native paths ("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ENTSSO")."""

    def key_exists(self, key: str) -> bool: ...

    def values(self, key: str) -> dict[str, object]: ...

    def subkeys(self, key: str) -> list[str]: ...

    def set_value(self, key: str, name: str, value: object, kind: str) -> None: ...

    def create_key(self, key: str) -> None: ...

    def delete_key(self, key: str, recurse: bool) -> None: ...

    def delete_value(self, key: str, name: str) -> None: ...


class Machine(Protocol):
    computer_name: str
    filesystem: FileSystem
    registry: Registry

    def identity(self) -> Identity: ...

    def environment(self) -> MutableMapping[str, str]:
        """The process environment ($env:), case-insensitive keys."""
        ...

    def machine_environment(self, name: str, target: str) -> str | None:
        """[Environment]::GetEnvironmentVariable(name, 'Machine' | 'User' | 'Process')."""
        ...

    def modules(self) -> Iterable[str]:
        """Installed modules whose cmdlets exist on this machine (e.g. "FailoverClusters")."""
        ...

    def commands(self) -> Iterable[CommandDefinition]:
        """Cmdlets this machine implements; they replace a catalogue's signature-only definitions."""
        ...

    def find_executable(self, name: str) -> Executable | None: ...

    def com_class(self, progid: str) -> Callable[[], DotNetObject] | None: ...

    def load_assembly(self, path: str) -> Iterable[PSType]:
        """Add-Type -Path: the types the assembly defines; raises DotNetError(FileNotFoundException) if absent."""
        ...

    def protect(self, data: bytes, entropy: bytes | None, scope: str) -> bytes: ...

    def unprotect(self, data: bytes, entropy: bytes | None, scope: str) -> bytes: ...

    def sleep(self, seconds: float) -> None: ...

    def now(self) -> _dt.datetime: ...

    def new_guid(self) -> uuid.UUID: ...

    def random_bytes(self, count: int) -> bytes: ...


class CaseInsensitiveEnvironment(MutableMapping[str, str]):
    """Windows environment variables: names compared case-insensitively, spelling kept."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._data: dict[str, tuple[str, str]] = {}
        for key, value in items:
            self[key] = value

    def __getitem__(self, key: str) -> str:
        return self._data[key.lower()][1]

    def __setitem__(self, key: str, value: str) -> None:
        self._data[key.lower()] = (key, value)

    def __delitem__(self, key: str) -> None:
        del self._data[key.lower()]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(spelling for spelling, _ in self._data.values())

    def __len__(self) -> int:
        return len(self._data)
