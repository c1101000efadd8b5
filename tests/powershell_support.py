"""A machine for testing the PowerShell interpreter on its own: in memory, with test-double cmdlets.

The doubles only answer what a test sets up; they encode no belief about the scripts' logic.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field

from simulator.powershell.cmdlets import CommandDefinition
from simulator.powershell.engine import ProcessResult, run_process
from simulator.powershell.machine import CaseInsensitiveEnvironment, Executable, Identity, NativeResult
from simulator.powershell.memory import MemoryFileSystem, MemoryRegistry
from simulator.powershell.types import PSType
from simulator.powershell.values import DotNetObject


@dataclass
class FakeExecutable:
    name: str
    behaviour: Callable[[list[str], str | None], NativeResult]
    calls: list[list[str]] = field(default_factory=list)

    def run(self, arguments: list[str], stdin: str | None) -> NativeResult:
        self.calls.append(list(arguments))
        return self.behaviour(arguments, stdin)


class TestMachine:
    """An in-memory Windows: files, registry, environment, and whatever cmdlets a test registers."""

    __test__ = False  # not a pytest class

    def __init__(self, computer_name: str = "MSSNODE1", modules: Iterable[str] = ("FailoverClusters",)) -> None:
        self.computer_name = computer_name
        self.filesystem = MemoryFileSystem()
        self.registry = MemoryRegistry()
        self._environment = CaseInsensitiveEnvironment(
            [
                ("COMPUTERNAME", computer_name),
                ("ProgramData", "C:\\ProgramData"),
                ("SystemRoot", "C:\\Windows"),
                ("CommonProgramW6432", "C:\\Program Files\\Common Files"),
                ("TEMP", "C:\\Windows\\Temp"),
                ("USERNAME", "svc-install"),
            ]
        )
        for folder in ("C:\\ProgramData", "C:\\Windows\\Temp", "C:\\Program Files\\Common Files"):
            self.filesystem.make_directory(folder)
        self.machine_variables: dict[str, str] = {}
        self._modules = list(modules)
        self.definitions: list[CommandDefinition] = []
        self.executables: dict[str, Executable] = {}
        self.com_classes: dict[str, Callable[[], DotNetObject]] = {}
        self.assemblies: dict[str, list[PSType]] = {}
        self.slept: list[float] = []
        self.clock = _dt.datetime(2026, 1, 15, 9, 30, 0)
        self.user = "CORP\\svc-install"
        self._guids = 0

    def identity(self) -> Identity:
        return Identity(self.user)

    def environment(self) -> MutableMapping[str, str]:
        return self._environment

    def machine_environment(self, name: str, target: str) -> str | None:
        return self.machine_variables.get(name)

    def modules(self) -> Iterable[str]:
        return self._modules

    def commands(self) -> Iterable[CommandDefinition]:
        return self.definitions

    def find_executable(self, name: str) -> Executable | None:
        lower = name.lower()
        return self.executables.get(lower) or self.executables.get(lower.rsplit("\\", 1)[-1])

    def com_class(self, progid: str) -> Callable[[], DotNetObject] | None:
        return self.com_classes.get(progid.lower())

    def load_assembly(self, path: str) -> Iterable[PSType]:
        return self.assemblies.get(path.lower(), [])

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

    def run(self, script: str, stdin: str = "") -> ProcessResult:
        return run_process(self, script, stdin)
