"""The library's Invoke-Delegated against the simulated Task Scheduler (issue 12, finding 18).

Each test runs a small operation script through the real bootstrap and the real library (providers/library.ps1)
on a NodeMachine; the delegated work runs as a scheduled task whose process takes turns with the caller
(simulator/world/surface/tasks.py), so reading a half-written result, unregistering a running task and a
cleanup that silently fails are all possible, as on Windows.
"""

from __future__ import annotations

from typing import Any

import pytest

from providers import runner_wire
from simulator.world.machine import files_open_for_writing, run_script
from simulator.world.model import World, path_key
from simulator.world.surface import tasks
from simulator.wsman.backend import Session
from tests.test_world import INSTALL, INSTALL_PASSWORD, N1, new_world
from tests.world_support import ScriptFailed

OPERATION = r"""
param([string]$TaskUser, [string]$TaskPassword, [string]$Mode = 'ScheduledTask', [string[]]$Cleanup = @(),
    [int]$Timeout = 1800)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$work = {
WORK
}
$found = @(Invoke-Delegated -Work $work -Arguments @{ Greeting = 'hello' } -Mode $Mode -User $TaskUser -Password $TaskPassword -Cleanup $Cleanup -TimeoutSeconds $Timeout)
[ordered]@{ result = $found }
"""

WHO = r"""param([string]$Greeting)
"$Greeting from $([Security.Principal.WindowsIdentity]::GetCurrent().Name)"
'second item'"""


def delegate(
    world: World,
    work: str,
    session: Session | None = None,
    **parameters: Any,
) -> list[Any]:
    """The work's output, delegated from an operation on MSSNODE1; raises ScriptFailed with the operation's error."""
    script = OPERATION.replace("WORK", work)
    values: dict[str, Any] = {"TaskUser": INSTALL, "TaskPassword": INSTALL_PASSWORD, **parameters}
    stdin = runner_wire.envelope("probe", script, values).decode("ascii")
    bootstrap = runner_wire.BOOTSTRAP_PATH.read_text(encoding="utf-8")
    caller = session or Session(node=N1, user=INSTALL, auth="ntlm", encrypted=True, delegated=False)
    process = run_script(world, N1, bootstrap, caller, stdin=stdin)
    outcome = runner_wire.read_result(process.stdout.encode("utf-8"))
    assert outcome is not None, process.stdout
    if not outcome.ok:
        raise ScriptFailed(outcome)
    found: list[Any] = outcome.result["result"]
    return found


def leftovers(world: World) -> list[str]:
    node = world.node(N1)
    assert node is not None
    return [p for p in [*node.files, *node.directories] if "entssotask-" in p]


@pytest.fixture
def unregistered_while_running(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Watches Task Scheduler: the tasks that were deleted while a run of theirs was still going."""
    seen: list[str] = []
    original = tasks.unregister

    def watching(machine: Any, task: Any) -> None:
        if tasks.live_run(machine.world, machine.node, task) is not None:
            seen.append(task.name)
        original(machine, task)

    monkeypatch.setattr(tasks, "unregister", watching)
    return seen


def test_the_work_runs_as_the_task_user_and_its_output_comes_back() -> None:
    world = new_world()
    assert delegate(world, WHO) == [f"hello from {INSTALL}", "second item"]
    assert leftovers(world) == []
    assert not world.node(N1).tasks  # type: ignore[union-attr]


def test_the_result_is_read_only_after_the_task_has_ended(unregistered_while_running: list[str]) -> None:
    """Finding 18: today's helper reads result.bin as soon as it exists, while the task still writes it."""
    world = new_world()
    delegate(world, WHO)
    assert unregistered_while_running == []


def test_a_failing_work_reports_its_error_and_leaves_nothing_behind(unregistered_while_running: list[str]) -> None:
    world = new_world()
    with pytest.raises(ScriptFailed) as failed:
        delegate(world, "throw 'Access is denied.'")
    assert failed.value.message == "Access is denied."
    assert leftovers(world) == []
    assert unregistered_while_running == []


def test_the_sealed_job_leaves_the_disk_once_the_task_has_read_it() -> None:
    world = new_world()
    seen = delegate(
        world,
        r"Get-ChildItem -LiteralPath $env:ProgramData | Where-Object { $_.Name -like 'EntssoTask-*' } | "
        r"ForEach-Object { 'job.bin={0}' -f (Test-Path (Join-Path $_.FullName 'job.bin')); "
        r"'run.ps1={0}' -f (Test-Path (Join-Path $_.FullName 'run.ps1')) }",
    )
    assert seen == ["job.bin=False", "run.ps1=True"]


def test_cleanup_paths_are_removed_after_success_and_after_failure() -> None:
    answer = r"C:\Windows\Temp\EntssoConfig-test\sso.xml"
    write = (
        r"New-Item -ItemType Directory -Path C:\Windows\Temp\EntssoConfig-test | Out-Null; "
        r"[IO.File]::WriteAllText('C:\Windows\Temp\EntssoConfig-test\sso.xml', '<Password>pw</Password>')"
    )
    for mode in ("ScheduledTask", "CredSSP"):
        session = Session(node=N1, user=INSTALL, auth="credssp", encrypted=True, delegated=True)
        for fails in (False, True):
            world = new_world()
            work = write + ("; throw 'Configuration.exe exited with 1.'" if fails else "")
            cleanup = [r"C:\Windows\Temp\EntssoConfig-test"]
            if fails:
                with pytest.raises(ScriptFailed, match=r"^Configuration\.exe exited with 1\.$"):
                    delegate(world, work, session, Mode=mode, Cleanup=cleanup)
            else:
                delegate(world, work, session, Mode=mode, Cleanup=cleanup)
            node = world.node(N1)
            assert node is not None
            assert node.file(answer) is None, (mode, work)
            assert path_key(r"C:\Windows\Temp\EntssoConfig-test") not in node.directories
            assert leftovers(world) == []


def test_a_path_that_cannot_be_removed_fails_the_operation_and_names_the_path() -> None:
    answer = r"C:\Windows\Temp\EntssoConfig-held\sso.xml"
    world = new_world()
    node = world.node(N1)
    assert node is not None
    node.directories[path_key(r"C:\Windows\Temp\EntssoConfig-held")] = r"C:\Windows\Temp\EntssoConfig-held"
    node.files[path_key(answer)] = b"<Password>pw</Password>"
    files_open_for_writing(node)[path_key(answer)] = answer  # another process holds the file open
    try:
        with pytest.raises(ScriptFailed) as failed:
            delegate(world, "'done'", Cleanup=[r"C:\Windows\Temp\EntssoConfig-held"])
    finally:
        files_open_for_writing(node).clear()
    assert failed.value.message.startswith(f"Cleanup failed on {N1}; remove by hand: ")
    assert r"C:\Windows\Temp\EntssoConfig-held" in failed.value.message
    assert "being used by another process" in failed.value.message
    assert leftovers(world) == []  # the helper's own directory went


def test_a_task_past_its_deadline_is_stopped_before_the_cleanup(unregistered_while_running: list[str]) -> None:
    world = new_world()
    with pytest.raises(ScriptFailed) as failed:
        delegate(world, r"Start-Sleep -Seconds 3600; [IO.File]::WriteAllText('C:\late.txt', 'x')", Timeout=30)
    assert failed.value.message.startswith("The scheduled task EntssoTask-")
    assert failed.value.message.endswith("did not finish within 30 seconds and was stopped.")
    node = world.node(N1)
    assert node is not None
    assert node.file(r"C:\late.txt") is None  # the run was terminated, not orphaned
    assert not node.tasks and leftovers(world) == []
    assert unregistered_while_running == []


def test_a_wrong_task_password_fails_before_anything_runs() -> None:
    world = new_world()
    with pytest.raises(ScriptFailed) as failed:
        delegate(world, WHO, TaskPassword="not-the-password")
    assert failed.value.message == "The user name or password is incorrect. (Exception from HRESULT: 0x8007052E)"
    assert leftovers(world) == [] and not world.node(N1).tasks  # type: ignore[union-attr]


def test_over_credssp_the_work_runs_in_the_session_itself() -> None:
    world = new_world()
    session = Session(node=N1, user=INSTALL, auth="credssp", encrypted=True, delegated=True)
    assert delegate(world, WHO, session, Mode="CredSSP") == [f"hello from {INSTALL}", "second item"]
    assert not world.node(N1).tasks  # type: ignore[union-attr]
