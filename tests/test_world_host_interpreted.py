"""WorldHost: the nodes run whatever script arrives, in the interpreter (issue 11: no twin answers any more).

These tests drive the host the way production code does: the real runner (pywinrm over real WS-Management and
NTLM) sends the real bootstrap and envelope to a simulated node, whose powershell.exe interprets it on the node's
`NodeMachine` under the world's lock, with the fault plan's world faults keyed by the envelope's operation, and
the world saved when a process changed it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops import simstack
from providers.base import ProviderSettings
from providers.runner import RemoteOperationError, WinRmRunner
from simulator.world import Fault, FaultPlan, WorldHost, load_world
from simulator.world.model import Cluster, ClusterGroup, Service
from simulator.wsman.backend import Outcome, Session
from tests.providers_support import CONFIG, N1, N2, stack_config
from tests.test_world import new_world

SCRIPTS = Path(__file__).resolve().parent.parent / "providers" / "scripts"
SETTINGS = ProviderSettings.from_config(stack_config(CONFIG).get)


@pytest.fixture
def interpreted_stack(tmp_path: Path) -> Iterator[simstack.SimulatedStack]:
    stack = simstack.start(CONFIG, ports="any", state_file=tmp_path / "sim.world.json")
    try:
        yield stack
    finally:
        stack.stop()


def run(stack: simstack.SimulatedStack, node: str, operation: str, script: str, **parameters: Any) -> dict[str, Any]:
    """One script over real WinRM with the runner, as a provider would run it."""
    runner = WinRmRunner(SETTINGS.runner_config())
    connection = SETTINGS.connection({"name": node, "endpoint": stack.endpoints[node]})
    with runner.session(connection, operation) as remote:
        return remote.run(operation, script, parameters)


def test_every_node_of_the_world_is_a_machine_and_an_unknown_one_is_refused() -> None:
    host = WorldHost(new_world())
    machine = host.machine(Session(N1, "CORP\\svc-install", "ntlm", True, False))
    assert machine.node.name == N1
    with pytest.raises(KeyError, match="no node NOSUCHNODE"):
        host.machine(Session("NOSUCHNODE", "CORP\\svc-install", "ntlm", True, False))


def test_a_script_sent_over_winrm_runs_in_the_interpreter(interpreted_stack: simstack.SimulatedStack) -> None:
    """The issue's test of a twin: a `throw` added as the script's first statement must fail the operation."""
    script = (SCRIPTS / "file_get.ps1").read_text(encoding="utf-8")
    mutated = script.replace("$ErrorActionPreference = 'Stop'", "throw 'the real script ran'", 1)
    with pytest.raises(RemoteOperationError) as failure:
        run(interpreted_stack, N1, "file_get", mutated, Path="C:\\Install\\BizTalk\\Setup.exe")
    assert "the real script ran" in str(failure.value)
    assert run(interpreted_stack, N1, "file_get", script, Path="C:\\Install\\BizTalk\\Setup.exe")["exists"] is True


def test_what_a_script_changes_reaches_the_world_file(
    interpreted_stack: simstack.SimulatedStack, tmp_path: Path
) -> None:
    state = tmp_path / "sim.world.json"
    before = state.stat().st_mtime_ns
    run(interpreted_stack, N1, "file_get", (SCRIPTS / "file_get.ps1").read_text(), Path="C:\\nothing.txt")
    assert state.stat().st_mtime_ns == before  # a process that changed nothing leaves the file alone
    script = r"""param([string]$Text)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Set-Content -LiteralPath 'C:\ProgramData\note.txt' -Value $Text
[ordered]@{ written = $true }
"""
    assert run(interpreted_stack, N2, "note", script, Text="visible <&> everywhere") == {"written": True}
    saved = load_world(state).node(N2)
    assert saved is not None
    assert saved.file("C:\\ProgramData\\note.txt") == b"visible <&> everywhere\r\n"


def test_a_delegated_work_runs_as_a_scheduled_task_over_winrm(interpreted_stack: simstack.SimulatedStack) -> None:
    script = r"""param([string]$TaskUser, [string]$TaskPassword)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$who = @(Invoke-Delegated -Work { [Security.Principal.WindowsIdentity]::GetCurrent().Name } -Arguments @{} `
    -Mode 'ScheduledTask' -User $TaskUser -Password $TaskPassword)
[ordered]@{ who = $who }
"""
    account = CONFIG.domain.install_account
    found = run(interpreted_stack, N1, "probe", script, TaskUser=account, TaskPassword=CONFIG.secret("installPassword"))
    assert found == {"who": [account]}
    node = interpreted_stack.world.node(N1)
    assert node is not None and not node.tasks
    assert not [p for p in node.files if "entssotask-" in p]


def _session(node: str = N1) -> Session:
    return Session(node=node, user=CONFIG.domain.install_account, auth="ntlm", encrypted=True, delegated=False)


def test_sql_unavailable_strikes_the_named_operation_while_its_process_runs() -> None:
    plan = FaultPlan(faults=[Fault(kind="sql_unavailable", operation="secret_server_get", times=1)])
    host = WorldHost(new_world(), plan)
    seen: list[bool] = []

    def process() -> Outcome:
        seen.append(host.world.sql.available)
        return Outcome(b"", b"", 0)

    host.directive(_session(), "file_get")
    host.run_process(_session(), "file_get", process)
    host.directive(_session(), "secret_server_get")
    host.run_process(_session(), "secret_server_get", process)
    host.run_process(_session(), None, process)  # a free-form script: no operation, no fault
    assert seen == [True, False, True]
    assert host.world.sql.available is True


def test_a_failover_fault_moves_the_role_before_the_process_runs() -> None:
    world = new_world()
    world.cluster = Cluster(name="MSSWSFC", nodes=[N1, N2], groups={"SSO": ClusterGroup("SSO", N1)})
    for name in (N1, N2):  # cluster nodes run the cluster service
        node = world.node(name)
        assert node is not None
        node.services["CLUSSVC"] = Service("ClusSvc", "Cluster Service", "Running", "Auto", "LocalSystem", "scm")
    plan = FaultPlan(faults=[Fault(kind="failover", operation="role_get", role="SSO")])
    host = WorldHost(world, plan)
    owners: list[str] = []

    def process() -> Outcome:
        assert world.cluster is not None
        owners.append(world.cluster.groups["SSO"].owner_node)
        return Outcome(b"", b"", 0)

    host.directive(_session(), "role_get")
    host.run_process(_session(), "role_get", process)
    assert owners == [N2]


def test_a_reboot_fault_still_tells_the_server() -> None:
    plan = FaultPlan(faults=[Fault(kind="reboot", node=N1, operation="file_get", times=1)])
    host = WorldHost(new_world(), plan)
    rebooted: list[str] = []
    host.on_reboot(rebooted.append)
    directive = host.directive(_session(), "file_get")
    assert directive.reset_before and rebooted == [N1]


def test_processes_on_the_world_run_one_at_a_time() -> None:
    host = WorldHost(new_world())
    events: list[str] = []

    def process(name: str) -> Outcome:
        events.append(f"{name} starts")
        time.sleep(0.05)
        events.append(f"{name} ends")
        return Outcome(b"", b"", 0)

    threads = [
        threading.Thread(target=host.run_process, args=(_session(node), None, lambda n=node: process(n)))
        for node in (N1, N2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e.split()[1] for e in events] == ["starts", "ends", "starts", "ends"]


def test_the_command_line_keeps_its_headroom_however_large_the_library_grows(
    interpreted_stack: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 23: the line cmd.exe gets is the fixed bootstrap; the library travels on stdin."""
    from providers import runner_wire

    script = (SCRIPTS / "file_get.ps1").read_text(encoding="utf-8")
    run(interpreted_stack, N1, "file_get", script, Path="C:\\nothing.txt")
    grown = runner_wire.library() + "\n# " + "x" * 20_000 + "\nfunction Get-Grown { 'grown' }\n"
    monkeypatch.setattr(runner_wire, "library", lambda: grown)
    probe = "param([string]$Name)\n$ErrorActionPreference = 'Stop'\n[ordered]@{ grown = Get-Grown }\n"
    assert run(interpreted_stack, N1, "probe", probe) == {"grown": "grown"}
    lines = {
        " ".join([command, *arguments])
        for command, arguments in interpreted_stack.server(N1).counters.snapshot().command_lines
    }
    assert len(lines) == 1  # the same bootstrap bytes every time
    (line,) = lines
    # cmd.exe takes 8,191 characters (F-REM-06); WinRS may put `cmd /c ` in front (assumed).
    assert len("cmd /c " + line) <= 8191 - 1500
