"""What a simulated node offers a script beyond the language: modules of cmdlets, executables, COM classes.

Windows reaches a script only through what it can call: cmdlets (FailoverClusters, ServerManager,
ScheduledTasks, ...), executables on disk (`ssomanage.exe`, `setup.exe`), COM classes registered by an
installed product (`SSOConfigOM`), assemblies a script loads with `Add-Type -Path`. Each module of this
package models one part of Windows and registers its pieces here at import time; the node's
`NodeMachine` (simulator/world/machine.py) offers a piece only where it is installed on that node, so a
cmdlet of a module the node lacks is "not recognized", and `ssomanage.exe` exists only after SSO setup.

Every behaviour a piece models names the fact it implements in docs/windows-facts.md (`# implements F-...`).

A module registers:

    surface.module("FailoverClusters", installed=lambda node: has_feature(node, "RSAT-Clustering-PowerShell"))
    surface.command(GetCluster, module="FailoverClusters")       # a simulator.powershell Cmdlet subclass

    @surface.executable(r"C:\\Program Files\\Common Files\\Enterprise Single Sign-On\\ssomanage.exe",
                        installed=lambda node: "SSOServer" in node.products)
    def ssomanage(machine: NodeMachine) -> Executable: ...

    @surface.com_class("Some.ProgID", installed=...)            # a COM class reached by its ProgID
    def some_com_object(machine: NodeMachine) -> DotNetObject: ...

    @surface.assembly(r"C:\\...\\Microsoft.EnterpriseSingleSignOn.Interop.dll", installed=...)   # Add-Type -Path
    def interop_types(machine: NodeMachine) -> Iterable[PSType]: ...

    @surface.media(b"MZ simulated BizTalk")                     # setup media, run from wherever it was copied
    def biztalk_setup(machine: NodeMachine, path: str) -> Executable: ...

    @surface.dotnet_types(installed=...)                        # .NET types powershell.exe has loaded at start
    def sql_client_types(machine: NodeMachine) -> Iterable[PSType]: ...

Modules are discovered (every submodule of this package is imported on first use), so adding a
part of Windows never edits a shared list.

Windows also keeps running around a script: time passes while it sleeps (a scheduled task it started
makes progress), a process ends (what it left running carries on), a node reboots, a cmdlet is invoked
(module logging writes its parameters to the event log). A module that models such a thing listens:

    @surface.on_time_passing          # (machine, seconds): a process of the node let `seconds` pass
    @surface.on_process_end           # (world): a process the host ran has ended
    @surface.on_reboot                # (world, node): the node restarted
    @surface.on_command               # (machine, command name, module, bound parameters): a cmdlet runs
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from simulator.powershell.cmdlets import Cmdlet, CommandDefinition

if TYPE_CHECKING:
    from simulator.powershell.machine import Executable
    from simulator.powershell.types import PSType
    from simulator.powershell.values import DotNetObject
    from simulator.world.machine import NodeMachine
    from simulator.world.model import Node, World

Installed = Callable[["Node"], bool]
Factory = TypeVar("Factory", bound=Callable[..., Any])


def always(_node: Node) -> bool:
    return True


@dataclass(frozen=True)
class ModuleOffer:
    name: str
    installed: Installed


@dataclass(frozen=True)
class CommandOffer:
    definition: CommandDefinition
    module: str  # "" for a command every node has (core modules)


@dataclass(frozen=True)
class ExecutableOffer:
    path: str  # where it lives once installed, e.g. C:\\Windows\\System32\\sc.exe
    on_path: bool  # found by its bare name (its directory is on PATH)
    installed: Installed
    factory: Callable[[NodeMachine], Executable]

    @property
    def leaf(self) -> str:
        return self.path.rsplit("\\", 1)[-1]


@dataclass(frozen=True)
class MediaOffer:
    """A program that is a file on the node's disk wherever it was copied (setup media): recognised by content."""

    prefix: bytes  # how the file's content starts
    factory: Callable[[NodeMachine, str], Executable]  # (machine, the file's path)


@dataclass(frozen=True)
class ComOffer:
    progid: str
    installed: Installed
    factory: Callable[[NodeMachine], DotNetObject]


@dataclass(frozen=True)
class AssemblyOffer:
    path: str
    installed: Installed
    factory: Callable[[NodeMachine], Iterable[PSType]]


@dataclass(frozen=True)
class TypesOffer:
    installed: Installed
    factory: Callable[[NodeMachine], Iterable[PSType]]


TimeListener = Callable[["NodeMachine", float], None]
ProcessListener = Callable[["World"], None]
RebootListener = Callable[["World", "Node"], None]
CommandListener = Callable[["NodeMachine", str, str, "dict[str, object]"], None]
Listener = TypeVar("Listener", bound=Callable[..., None])


class _Registry:
    def __init__(self) -> None:
        self.modules: dict[str, ModuleOffer] = {}
        self.commands: dict[str, CommandOffer] = {}
        self.executables: list[ExecutableOffer] = []
        self.media: list[MediaOffer] = []
        self.com: dict[str, ComOffer] = {}
        self.assemblies: dict[str, AssemblyOffer] = {}
        self.types: list[TypesOffer] = []
        self.time_listeners: list[TimeListener] = []
        self.process_listeners: list[ProcessListener] = []
        self.reboot_listeners: list[RebootListener] = []
        self.command_listeners: list[CommandListener] = []


_REGISTRY = _Registry()
_LOADED = False
_LOCK = threading.Lock()


def module(name: str, installed: Installed) -> None:
    """A PowerShell module whose cmdlets exist on a node only where `installed(node)` is true."""
    _REGISTRY.modules[name.lower()] = ModuleOffer(name, installed)


def command(implementation: type[Cmdlet] | CommandDefinition, module: str = "") -> None:
    """A cmdlet (a Cmdlet subclass with its SIGNATURE, or a catalogue definition) of `module`."""
    if isinstance(implementation, CommandDefinition):
        definition = implementation
    else:
        definition = CommandDefinition(implementation.SIGNATURE, implementation, module)
    name = definition.name.lower()
    if name in _REGISTRY.commands:
        raise ValueError(f"{definition.name} is registered twice")
    _REGISTRY.commands[name] = CommandOffer(definition, module)


def executable(path: str, installed: Installed = always, on_path: bool = False) -> Callable[[Factory], Factory]:
    def register(factory: Factory) -> Factory:
        _REGISTRY.executables.append(ExecutableOffer(path, on_path, installed, factory))
        return factory

    return register


def media(prefix: bytes) -> Callable[[Factory], Factory]:
    """Setup media: a file whose content starts with `prefix` runs as `factory(machine, path)` from any path."""

    def register(factory: Factory) -> Factory:
        _REGISTRY.media.append(MediaOffer(prefix, factory))
        return factory

    return register


def com_class(progid: str, installed: Installed = always) -> Callable[[Factory], Factory]:
    def register(factory: Factory) -> Factory:
        _REGISTRY.com[progid.lower()] = ComOffer(progid, installed, factory)
        return factory

    return register


def assembly(path: str, installed: Installed = always) -> Callable[[Factory], Factory]:
    def register(factory: Factory) -> Factory:
        _REGISTRY.assemblies[path.lower()] = AssemblyOffer(path, installed, factory)
        return factory

    return register


def dotnet_types(installed: Installed = always) -> Callable[[Factory], Factory]:
    """Types of an assembly Windows PowerShell 5.1 loads at start, whose behaviour reaches the machine."""

    def register(factory: Factory) -> Factory:
        _REGISTRY.types.append(TypesOffer(installed, factory))
        return factory

    return register


def on_time_passing(listener: Listener) -> Listener:
    _REGISTRY.time_listeners.append(listener)  # type: ignore[arg-type]
    return listener


def on_process_end(listener: Listener) -> Listener:
    _REGISTRY.process_listeners.append(listener)  # type: ignore[arg-type]
    return listener


def on_reboot(listener: Listener) -> Listener:
    _REGISTRY.reboot_listeners.append(listener)  # type: ignore[arg-type]
    return listener


def on_command(listener: Listener) -> Listener:
    _REGISTRY.command_listeners.append(listener)  # type: ignore[arg-type]
    return listener


def time_passes(machine: NodeMachine, seconds: float) -> None:
    """A process of `machine`'s node let `seconds` of virtual time pass (Start-Sleep, a poll)."""
    for listener in registry().time_listeners:
        listener(machine, seconds)


def process_ended(world: World) -> None:
    """A process the host ran (a WinRM command, a test's script) has ended; what it started carries on."""
    for listener in registry().process_listeners:
        listener(world)


def node_rebooted(world: World, node: Node) -> None:
    for listener in registry().reboot_listeners:
        listener(world, node)


def command_invoked(machine: NodeMachine, command: str, module: str, parameters: dict[str, object]) -> None:
    for listener in registry().command_listeners:
        listener(machine, command, module, parameters)


def registry() -> _Registry:
    """Every offer, after importing every module of this package once."""
    global _LOADED
    if not _LOADED:
        with _LOCK:
            if not _LOADED:
                for info in pkgutil.iter_modules(__path__):
                    importlib.import_module(f"{__name__}.{info.name}")
                _LOADED = True
    return _REGISTRY
