"""Task Scheduler on a simulated node (simulator/world/surface/tasks.py), as scripts reach it.

The ScheduledTasks cmdlets and the Schedule.Service COM objects share one store per node; a started task
runs its action (`powershell.exe -File ...`) as a new process under the task's user, asynchronously: it
advances only while time passes on the node, so a script that polls sees it queued, running, and done.
"""

from __future__ import annotations

from simulator.powershell.engine import ProcessResult
from simulator.world.machine import run_script
from simulator.world.model import World
from simulator.wsman.backend import Session
from tests.test_world import INSTALL, INSTALL_PASSWORD, N1, N2, OUTSIDER, OUTSIDER_PASSWORD, SERVICE, new_world

RUN_PS1 = r"""
New-Item -ItemType Directory -Path C:\Work | Out-Null
Set-Content -LiteralPath C:\Work\run.ps1 -Encoding UTF8 -Value @'
param([string]$Dir, [int]$Code = 0)
[IO.File]::WriteAllText("$Dir\who.txt", [Security.Principal.WindowsIdentity]::GetCurrent().Name)
exit $Code
'@
$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument '-NoProfile -NonInteractive -File "C:\Work\run.ps1" -Dir "C:\Work"'
"""


def session(node: str = N1, user: str = INSTALL) -> Session:
    return Session(node=node, user=user, auth="ntlm", encrypted=True, delegated=False)


def ps(world: World, script: str, node: str = N1, caller: str = INSTALL, **values: str) -> ProcessResult:
    """Run `script` on the node as `caller`; each value becomes a variable (`$user`), never spliced into code."""
    prelude = "".join(
        f"${name} = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{_b64(value)}'))\n"
        for name, value in values.items()
    )
    return run_script(world, node, prelude + script, session(node, caller))


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def ok(result: ProcessResult) -> list[object]:
    assert result.terminating is None, result.terminating.message
    assert not result.errors, [e.message for e in result.errors]
    return result.output


def test_a_started_task_is_queued_then_runs_as_its_user_and_reports_its_exit_code() -> None:
    world = new_world()
    script = (
        RUN_PS1
        + r"""
$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument '-NoProfile -File "C:\Work\run.ps1" -Dir "C:\Work" -Code 3'
Register-ScheduledTask -TaskName 'probe' -Action $action -User $user -Password $password -RunLevel Highest | Out-Null
$before = (Get-ScheduledTaskInfo -TaskName 'probe').LastTaskResult
Start-ScheduledTask -TaskName 'probe'
$seen = @([string](Get-ScheduledTask -TaskName 'probe').State)
do {
    Start-Sleep -Milliseconds 500
    $state = [string](Get-ScheduledTask -TaskName 'probe').State
    $seen += '{0}/{1}' -f $state, (Get-ScheduledTaskInfo -TaskName 'probe').LastTaskResult
} while ($state -ne 'Ready')
$before
$seen
Get-Content -LiteralPath C:\Work\who.txt
"""
    )
    output = ok(ps(world, script, user=INSTALL, password=INSTALL_PASSWORD))
    assert output[0] == 267011  # SCHED_S_TASK_HAS_NOT_RUN
    assert output[1] == "Queued"
    assert "Running/267009" in output[2:-1]  # SCHED_S_TASK_RUNNING while it runs
    assert output[-2] == "Ready/3"  # the process's exit code
    assert output[-1] == INSTALL


def test_a_wrong_task_password_is_refused_at_registration_with_windows_words() -> None:
    world = new_world()
    script = (
        RUN_PS1
        + r"""
try { Register-ScheduledTask -TaskName 'probe' -Action $action -User $user -Password 'not-it' -ErrorAction Stop }
catch { $_.Exception.Message; $_.FullyQualifiedErrorId; [string]$_.CategoryInfo.Category; $_.Exception.GetType().FullName }
@(Get-ScheduledTask -TaskName 'probe' -ErrorAction SilentlyContinue).Count
"""
    )
    output = ok(ps(world, script, user=INSTALL))
    assert output == [
        "The user name or password is incorrect.",
        "HRESULT 0x8007052e,Register-ScheduledTask",
        "AuthenticationError",
        "Microsoft.Management.Infrastructure.CimException",
        0,
    ]


def test_only_an_administrator_registers_a_task() -> None:
    world = new_world()
    result = ps(
        world,
        r"""$action = New-ScheduledTaskAction -Execute 'powershell.exe'
Register-ScheduledTask -TaskName 'probe' -Action $action -User $user -Password $password -RunLevel Highest""",
        caller=OUTSIDER,
        user=OUTSIDER,
        password=OUTSIDER_PASSWORD,
    )
    assert [e.message for e in result.errors] == ["Access is denied."]
    assert not world.node(N1).tasks  # type: ignore[union-attr]


def test_get_scheduled_task_for_a_missing_task_says_so_as_windows_does() -> None:
    result = ps(new_world(), "Get-ScheduledTask -TaskName 'SetEDID'")
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.message == (
        "No MSFT_ScheduledTask objects found with property 'TaskName' equal to 'SetEDID'.  Verify the value of the "
        "property and retry."
    )
    assert error.error_id == "CmdletizationQuery_NotFound_TaskName,Get-ScheduledTask"
    assert error.category_info.category == "ObjectNotFound"


def test_a_task_unregistered_while_it_runs_keeps_running_as_an_orphan() -> None:
    world = new_world()
    script = (
        RUN_PS1
        + r"""
Set-Content -LiteralPath C:\Work\run.ps1 -Encoding UTF8 -Value @'
param([string]$Dir)
Start-Sleep -Seconds 5
[IO.File]::WriteAllText("$Dir\late.txt", 'written after the task was unregistered')
'@
Register-ScheduledTask -TaskName 'probe' -Action $action -User $user -Password $password -RunLevel Highest | Out-Null
Start-ScheduledTask -TaskName 'probe'
Start-Sleep -Seconds 1
[string](Get-ScheduledTask -TaskName 'probe').State
Unregister-ScheduledTask -TaskName 'probe' -Confirm:$false
Test-Path C:\Work\late.txt
"""
    )
    output = ok(ps(world, script, user=INSTALL, password=INSTALL_PASSWORD))
    assert output == ["Running", False]
    # The caller's process has ended; time goes on and the orphan finishes its work.
    node = world.node(N1)
    assert node is not None
    assert node.file(r"C:\Work\late.txt") == b"written after the task was unregistered"
    assert not node.tasks


def test_stop_scheduled_task_terminates_the_run() -> None:
    world = new_world()
    script = (
        RUN_PS1
        + r"""
Set-Content -LiteralPath C:\Work\run.ps1 -Encoding UTF8 -Value @'
param([string]$Dir)
Start-Sleep -Seconds 600
[IO.File]::WriteAllText("$Dir\never.txt", 'x')
'@
Register-ScheduledTask -TaskName 'probe' -Action $action -User $user -Password $password -RunLevel Highest | Out-Null
Start-ScheduledTask -TaskName 'probe'
Start-Sleep -Seconds 2
Stop-ScheduledTask -TaskName 'probe'
[string](Get-ScheduledTask -TaskName 'probe').State
(Get-ScheduledTaskInfo -TaskName 'probe').LastTaskResult
"""
    )
    output = ok(ps(world, script, user=INSTALL, password=INSTALL_PASSWORD))
    assert output == ["Ready", 267014]  # SCHED_S_TASK_TERMINATED
    assert world.node(N1).file(r"C:\Work\never.txt") is None  # type: ignore[union-attr]


def test_a_task_user_without_the_batch_logon_right_does_not_start() -> None:
    world = new_world()
    script = (
        RUN_PS1
        + r"""
Register-ScheduledTask -TaskName 'probe' -Action $action -User $user -Password $password -RunLevel Highest | Out-Null
Start-ScheduledTask -TaskName 'probe'
Start-Sleep -Seconds 2
'0x{0:X8}' -f (Get-ScheduledTaskInfo -TaskName 'probe').LastTaskResult
Test-Path C:\Work\who.txt
"""
    )
    output = ok(ps(world, script, user=OUTSIDER, password=OUTSIDER_PASSWORD))
    assert output == ["0x80070569", False]  # ERROR_LOGON_TYPE_NOT_GRANTED (assumed code, F-FS-02)


def test_the_com_api_and_the_cmdlets_see_the_same_tasks() -> None:
    world = new_world()
    script = (
        RUN_PS1
        + r"""
$service = New-Object -ComObject Schedule.Service
$service.Connect()
$definition = $service.NewTask(0)
$definition.Principal.RunLevel = 1
$exec = $definition.Actions.Create(0)
$exec.Path = 'powershell.exe'
$exec.Arguments = '-NoProfile -File "C:\Work\run.ps1" -Dir "C:\Work"'
$registered = $service.GetFolder('\').RegisterTaskDefinition('probe', $definition, 2, $user, $password, 1)
[string](Get-ScheduledTask -TaskName 'probe').State
$registered.Run($null) | Out-Null
do { Start-Sleep -Milliseconds 500 } while ($registered.State -ne 3 -or $registered.LastTaskResult -in 267009, 267011)
$registered.LastTaskResult
Get-Content -LiteralPath C:\Work\who.txt
$service.GetFolder('\').DeleteTask('probe', 0)
@(Get-ScheduledTask -ErrorAction SilentlyContinue).Count
"""
    )
    output = ok(ps(world, script, user=INSTALL, password=INSTALL_PASSWORD))
    assert output == ["Ready", 0, INSTALL, 0]


def test_a_wrong_password_through_com_is_the_comexception_itself() -> None:
    world = new_world()
    script = (
        RUN_PS1
        + r"""
$service = New-Object -ComObject Schedule.Service
$service.Connect()
$definition = $service.NewTask(0)
$exec = $definition.Actions.Create(0)
$exec.Path = 'powershell.exe'
try { $service.GetFolder('\').RegisterTaskDefinition('probe', $definition, 6, $user, 'wrong', 1) | Out-Null }
catch { $_.Exception.Message; $_.FullyQualifiedErrorId; [string]$_.CategoryInfo.Category; '0x{0:X8}' -f $_.Exception.HResult }
try { $service.GetFolder('\').GetTask('missing') } catch { $_.Exception.Message }
"""
    )
    output = ok(ps(world, script, user=INSTALL))
    assert output == [
        "The user name or password is incorrect. (Exception from HRESULT: 0x8007052E)",
        "System.Runtime.InteropServices.COMException",
        "OperationStopped",
        "0x8007052E",
        "The system cannot find the file specified. (Exception from HRESULT: 0x80070002)",
    ]


def test_task_identity_follows_logon_type_and_run_level() -> None:
    from simulator.world.model import ScheduledTask
    from simulator.world.surface.tasks import task_identity

    world = new_world()
    node = world.node(N1)
    assert node is not None
    highest = task_identity(world, node, ScheduledTask("t", user=INSTALL, logon_type="Password", run_level="Highest"))
    assert highest.is_admin and highest.network_credentials
    limited = task_identity(world, node, ScheduledTask("t", user=INSTALL, logon_type="Password", run_level="Limited"))
    assert not limited.is_admin and limited.network_credentials
    s4u = task_identity(world, node, ScheduledTask("t", user=SERVICE, logon_type="S4U", run_level="Highest"))
    assert not s4u.network_credentials


def test_tasks_live_on_their_own_node() -> None:
    world = new_world()
    ok(
        ps(
            world,
            "Register-ScheduledTask -TaskName 'probe' -Action (New-ScheduledTaskAction -Execute 'powershell.exe') "
            "-User $user -Password $password | Out-Null",
            password=INSTALL_PASSWORD,
            user=INSTALL,
        )
    )
    assert ps(world, "@(Get-ScheduledTask -ErrorAction SilentlyContinue).Count", node=N2).output == [0]
