"""What a new runspace starts with: types, automatic and preference variables, aliases, commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.powershell import catalogue, core_cmdlets, dotnet, items
from simulator.powershell import values as v
from simulator.powershell.types import PSType, TypeRegistry, builtin_types

if TYPE_CHECKING:
    from simulator.powershell.interpreter import Interpreter

# about_Aliases (5.1): the built-in aliases of the commands the interpreter defines.
ALIASES = {
    "%": "ForEach-Object",
    "foreach": "ForEach-Object",
    "?": "Where-Object",
    "where": "Where-Object",
    "select": "Select-Object",
    "sort": "Sort-Object",
    "echo": "Write-Output",
    "write": "Write-Output",
    "gi": "Get-Item",
    "gci": "Get-ChildItem",
    "dir": "Get-ChildItem",
    "ls": "Get-ChildItem",
    "gp": "Get-ItemProperty",
    "ni": "New-Item",
    "ri": "Remove-Item",
    "rm": "Remove-Item",
    "del": "Remove-Item",
    "sc": "Set-Content",
    "gc": "Get-Content",
    "cat": "Get-Content",
    "sls": "Select-String",
    "sleep": "Start-Sleep",
    "start": "Start-Process",
    "saps": "Start-Process",
}

# Preference and automatic variables of a new Windows PowerShell 5.1 session (about_Preference_Variables,
# about_Automatic_Variables).
PREFERENCES = {
    "ErrorActionPreference": "Continue",
    "WarningPreference": "Continue",
    "VerbosePreference": "SilentlyContinue",
    "DebugPreference": "SilentlyContinue",
    "InformationPreference": "SilentlyContinue",
    "ProgressPreference": "Continue",
    "ConfirmPreference": "High",
    "WhatIfPreference": False,
    "MaximumErrorCount": 256,
    "PSCulture": "en-US",
    "PSUICulture": "en-US",
    "PSHOME": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0",
}


def type_registry(interp: Interpreter) -> TypeRegistry:
    registry = builtin_types()
    interp.gated_types = {}
    dotnet.register(interp, registry, interp.gated_types)
    return registry


def initialize(interp: Interpreter) -> None:
    for name, value in PREFERENCES.items():
        interp.set_variable(name, value, "global")
    interp.set_variable("Error", interp.error_list, "global")
    identity = interp.machine.identity()
    user = identity.user.rsplit("\\", 1)[-1]
    interp.location = f"C:\\Users\\{user}\\Documents"
    interp.set_variable("HOME", f"C:\\Users\\{user}", "global")
    interp.set_variable("PID", 4242, "global")
    version = v.Hashtable(
        [
            ("PSVersion", "5.1.17763.1"),
            ("PSEdition", "Desktop"),
            ("CLRVersion", "4.0.30319.42000"),
            ("BuildVersion", "10.0.17763.1"),
            ("WSManStackVersion", "3.0"),
            ("PSRemotingProtocolVersion", "2.3"),
            ("SerializationVersion", "1.1.0.1"),
        ]
    )
    interp.set_variable("PSVersionTable", version, "global")
    interp.aliases.update({alias.lower(): target for alias, target in ALIASES.items()})
    for definition in core_cmdlets.definitions() + items.definitions():
        interp.commands[definition.name.lower()] = definition
    installed = {m.lower() for m in interp.machine.modules()}
    for module in catalogue.modules():
        if module.lower() not in installed:
            continue
        loaded = catalogue.load(module)
        loaded.register_types(interp.types)
        for definition in loaded.definitions():
            interp.commands[definition.name.lower()] = definition
    for definition in interp.machine.commands():
        interp.commands[definition.name.lower()] = definition
    # .NET types of assemblies the machine's powershell.exe has loaded at start (System.DirectoryServices,
    # System.Data in 5.1) whose behaviour is the machine's (a SqlConnection reaches its SQL Server). Optional.
    for pstype in getattr(interp.machine, "dotnet_types", lambda: ())():
        interp.types.add(pstype)


def load_assembly_name(interp: Interpreter, name: str) -> bool:
    """Add-Type -AssemblyName: the gated types of a known assembly become resolvable."""
    simple = name.split(",", 1)[0].strip().lower()
    if simple not in dotnet.KNOWN_ASSEMBLIES:
        return False
    for pstype in interp.gated_types.pop(simple, []):
        _add(interp.types, pstype)
    interp.loaded_assemblies.add(simple)
    return True


def _add(registry: TypeRegistry, pstype: PSType) -> None:
    registry.add(pstype)
