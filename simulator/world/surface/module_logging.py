"""PowerShell module logging on a simulated node: event 4103 with every parameter a cmdlet was given (F-FS-05).

Where the Group Policy "Turn on Module Logging" applies, its settings are in the registry under
`HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell\\ModuleLogging`: `EnableModuleLogging` (1) and the
`ModuleNames` subkey, whose values are the module names, wildcards allowed (PSSRC
src/System.Management.Automation/engine/Utils.cs `GetGroupPolicySetting`, the Windows PowerShell key; the
`ModuleLogging` policy class with `EnableModuleLogging` and `ModuleNames` in PSConfiguration.cs). A cmdlet of a
logged module writes its pipeline execution details (MshCommandRuntime.cs
`InitShouldLogPipelineExecutionDetail`; PowerShell 7 logs `Add-Type` always, which is not modelled for 5.1); a
function that is not in a module is never logged (so the library's `Invoke-Delegated -Password` is not, and
neither is a COM or .NET method's argument). Each bound parameter
becomes a line `ParameterBinding(<command>): name="<name>"; value="<value>"` (PipelineStrings.resx
PipelineExecutionParameterBinding) in event 4103 of the Microsoft-Windows-PowerShell/Operational log
(EventResource.cs). The level and the way a value is turned into text are assumed.
"""

from __future__ import annotations

import fnmatch

from simulator.powershell import values as v
from simulator.powershell.types import to_string
from simulator.world import surface
from simulator.world.machine import NodeMachine
from simulator.world.model import EventEntry

POLICY_KEY = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows\PowerShell\ModuleLogging"
CHANNEL = "Microsoft-Windows-PowerShell/Operational"
PROVIDER = "Microsoft-Windows-PowerShell"
EVENT_PIPELINE_DETAIL = 4103


def _value(values: dict[str, object], name: str) -> str:
    for existing, data in values.items():
        if existing.lower() == name.lower():
            return to_string(data)
    return ""


def logged_modules(machine: NodeMachine) -> list[str]:
    """The module name patterns the policy logs on this node; empty when module logging is off."""
    registry = machine.registry
    if not registry.key_exists(POLICY_KEY) or _value(registry.values(POLICY_KEY), "EnableModuleLogging") != "1":
        return []
    names_key = POLICY_KEY + "\\ModuleNames"
    if not registry.key_exists(names_key):
        return []
    return [to_string(data) for data in registry.values(names_key).values()]


def logs(machine: NodeMachine, command: str, module: str) -> bool:
    # PowerShell 7 also logs Add-Type always (InitShouldLogPipelineExecutionDetail); that 5.1 does is not
    # established, so only the policy decides here.
    patterns = logged_modules(machine) if module else []
    return any(fnmatch.fnmatchcase(module.lower(), pattern.lower()) for pattern in patterns)


def _text(value: object) -> str:
    if isinstance(value, v.SecureString):
        return "System.Security.SecureString"
    return to_string(value)


@surface.on_command
def record_pipeline_detail(machine: NodeMachine, command: str, module: str, parameters: dict[str, object]) -> None:
    # implements F-FS-05
    if not logs(machine, command, module):
        return
    lines = [f'CommandInvocation({command}): "{command}"']
    lines += [
        f'ParameterBinding({command}): name="{name}"; value="{_text(value)}"' for name, value in parameters.items()
    ]
    world = machine.world
    world.event_sequence += 1
    machine.node.events.append(
        EventEntry(
            world.event_sequence, EVENT_PIPELINE_DETAIL, "Information", PROVIDER, "\r\n".join(lines), log=CHANNEL
        )
    )
