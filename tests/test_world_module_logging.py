"""Module logging (event 4103) on a simulated node: which secrets an operation would leave in the event log.

Issue 12, finding 22: a secret passed as a cmdlet parameter is written to Microsoft-Windows-PowerShell/Operational
where a GPO turns module logging on (F-FS-05). The world models the policy (its registry values) and writes
each logged cmdlet's parameter bindings; a method argument (COM, .NET) and a script's own function are not logged.
"""

from __future__ import annotations

from providers import runner_wire
from simulator.world.machine import run_script
from simulator.world.model import World
from simulator.world.surface.module_logging import CHANNEL, EVENT_PIPELINE_DETAIL
from simulator.wsman.backend import Session
from tests.test_world import INSTALL, INSTALL_PASSWORD, N1, new_world
from tests.world_support import ScriptFailed

POLICY = "HKLM\\SOFTWARE\\POLICIES\\MICROSOFT\\WINDOWS\\POWERSHELL\\MODULELOGGING"

DELEGATING = r"""
param([string]$TaskUser, [string]$TaskPassword)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$done = @(Invoke-Delegated -Work { 'done' } -Arguments @{} -Mode 'ScheduledTask' -User $TaskUser -Password $TaskPassword)
[ordered]@{ done = $done }
"""


def turn_on_module_logging(world: World, *modules: str) -> None:
    """What the GPO "Turn on Module Logging" leaves in the registry of the node."""
    node = world.node(N1)
    assert node is not None
    node.registry[POLICY] = {"EnableModuleLogging": "1"}
    node.registry[POLICY + "\\MODULENAMES"] = {name: name for name in modules}


def operation(world: World, script: str, **parameters: object) -> dict[str, object]:
    stdin = runner_wire.envelope("probe", script, parameters).decode("ascii")
    bootstrap = runner_wire.BOOTSTRAP_PATH.read_text(encoding="utf-8")
    session = Session(node=N1, user=INSTALL, auth="ntlm", encrypted=True, delegated=False)
    process = run_script(world, N1, bootstrap, session, stdin=stdin)
    outcome = runner_wire.read_result(process.stdout.encode("utf-8"))
    assert outcome is not None, process.stdout
    if not outcome.ok:
        raise ScriptFailed(outcome)
    return outcome.result


def logged(world: World) -> list[str]:
    node = world.node(N1)
    assert node is not None
    return [e.message for e in node.events if e.log == CHANNEL and e.event_id == EVENT_PIPELINE_DETAIL]


def test_a_logged_cmdlet_writes_each_parameter_it_was_given() -> None:
    world = new_world()
    turn_on_module_logging(world, "Microsoft.PowerShell.*")
    session = Session(node=N1, user=INSTALL, auth="ntlm", encrypted=True, delegated=False)
    run_script(world, N1, "Set-Content -LiteralPath C:\\a.txt -Value 'visible'", session)
    assert logged(world) == [
        'CommandInvocation(Set-Content): "Set-Content"\r\n'
        'ParameterBinding(Set-Content): name="LiteralPath"; value="C:\\a.txt"\r\n'
        'ParameterBinding(Set-Content): name="Value"; value="visible"'
    ]


def test_nothing_is_logged_without_the_policy_or_for_a_module_it_does_not_name() -> None:
    world = new_world()
    session = Session(node=N1, user=INSTALL, auth="ntlm", encrypted=True, delegated=False)
    run_script(world, N1, "Set-Content -LiteralPath C:\\a.txt -Value 'x'", session)
    turn_on_module_logging(world, "FailoverClusters")
    run_script(world, N1, "Set-Content -LiteralPath C:\\a.txt -Value 'x'", session)
    assert logged(world) == []


def test_the_delegation_helper_does_not_give_the_task_password_to_a_logged_cmdlet() -> None:
    """Finding 22: `Register-ScheduledTask -Password` wrote the password to event 4103; the COM route does not."""
    world = new_world()
    turn_on_module_logging(world, "ScheduledTasks")
    assert operation(world, DELEGATING, TaskUser=INSTALL, TaskPassword=INSTALL_PASSWORD) == {"done": ["done"]}
    assert not [line for line in logged(world) if INSTALL_PASSWORD in line]


def test_with_every_module_logged_only_the_bootstraps_envelope_carries_a_secret_into_the_log() -> None:
    """With "*" the bootstrap's `ConvertFrom-Json` of the envelope logs every parameter (C-34, documented);
    no other cmdlet of the bootstrap, the library or the delegated work may be given a secret."""
    world = new_world()
    turn_on_module_logging(world, "*")
    operation(world, DELEGATING, TaskUser=INSTALL, TaskPassword=INSTALL_PASSWORD)
    carrying = [line.split("(", 1)[1].split(")", 1)[0] for line in logged(world) if INSTALL_PASSWORD in line]
    assert carrying == ["ConvertFrom-Json"]
