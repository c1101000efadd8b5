"""Invoke-Command between simulated nodes (surface/remoting.py): the second hop, and what comes back."""

from __future__ import annotations

from simulator.powershell.engine import ProcessResult
from simulator.powershell.machine import Identity
from simulator.world.machine import run_script
from simulator.world.model import World
from simulator.wsman.backend import Session
from tests.test_world import INSTALL, INSTALL_PASSWORD, N1, N2, OUTSIDER, OUTSIDER_PASSWORD, new_world


def ntlm(node: str = N1, user: str = INSTALL) -> Session:
    return Session(node=node, user=user, auth="ntlm", encrypted=True, delegated=False)


def credssp(node: str = N1, user: str = INSTALL) -> Session:
    return Session(node=node, user=user, auth="credssp", encrypted=True, delegated=True)


def ps(world: World, script: str, session: Session, identity: Identity | None = None) -> ProcessResult:
    return run_script(world, session.node, script, session, identity=identity)


BLOCK = "Invoke-Command -ComputerName MSSNODE2 -ArgumentList 'ENTSSO', 3 -ScriptBlock { param($Name, $Count) \"$Name $Count on $env:COMPUTERNAME as $env:USERNAME\" }"


def test_from_a_plain_winrm_session_the_second_hop_is_refused_as_winrm_refuses_it() -> None:
    result = ps(
        new_world(),
        f"try {{ {BLOCK} -ErrorAction Stop }} catch {{ $_.Exception.Message; $_.FullyQualifiedErrorId; [string]$_.CategoryInfo.Category; $_.Exception.GetType().FullName }}",
        ntlm(),
    )
    assert result.terminating is None, result.terminating
    message, error_id, category, kind = result.output
    assert str(message).startswith(
        "Connecting to remote server MSSNODE2 failed with the following error message : WinRM cannot process the "
        "request. The following error with errorcode 0x8009030e occurred while using Kerberos authentication: A "
        "specified logon session does not exist. It may already have been terminated."
    )
    assert error_id == "1312,PSSessionStateBroken"
    assert category == "OpenError"
    assert kind == "System.Management.Automation.Remoting.PSRemotingTransportException"


def test_with_delegated_credentials_the_block_runs_on_the_other_node_and_its_output_carries_its_origin() -> None:
    script = (
        f"$out = {BLOCK}; $out; $out.PSComputerName; [bool]$out.RunspaceId; $out.PSShowComputerName; "
        "ConvertTo-Json -InputObject $out -Compress"
    )
    result = ps(new_world(), script, credssp())
    assert result.terminating is None, result.terminating
    assert result.output[:4] == ["ENTSSO 3 on MSSNODE2 as svc-install", "MSSNODE2", True, True]
    # F-PS-10: 5.1's ConvertTo-Json writes a decorated string as an object (finding 20's PSComputerName in actions).
    assert str(result.output[4]).startswith(
        '{"value":"ENTSSO 3 on MSSNODE2 as svc-install","PSComputerName":"MSSNODE2"'
    )


def test_a_scheduled_task_with_a_stored_password_reaches_the_other_node() -> None:
    task = Identity(user=INSTALL, is_admin=True, network_credentials=True)
    result = ps(new_world(), BLOCK, ntlm(), identity=task)
    assert result.output == ["ENTSSO 3 on MSSNODE2 as svc-install"]


def test_the_other_node_refuses_what_it_refuses() -> None:
    world = new_world()
    # -Credential of a user who is not an administrator on the target.
    script = (
        f"$s = ConvertTo-SecureString '{OUTSIDER_PASSWORD}' -AsPlainText -Force; "
        f"$c = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList '{OUTSIDER}', $s; "
        "Invoke-Command -ComputerName MSSNODE2 -Credential $c -ScriptBlock { 1 }"
    )
    denied = ps(world, script, ntlm())
    assert [e.error_id for e in denied.errors] == ["AccessDenied,PSSessionStateBroken"]
    # A node whose WinRM service is stopped does not answer.
    node2 = world.node(N2)
    assert node2 is not None
    node2.services["WINRM"].state = "Stopped"
    down = ps(world, BLOCK, credssp())
    assert [e.error_id for e in down.errors] == ["WinRMOperationTimeout,PSSessionStateBroken"]


def test_the_remote_block_has_no_credentials_for_a_further_hop() -> None:
    nested = "Invoke-Command -ComputerName MSSNODE2 -ScriptBlock { Invoke-Command -ComputerName MSSNODE1 -ScriptBlock { 'third hop' } }"
    result = ps(new_world(), nested, credssp())
    assert result.output == []
    assert [e.error_id for e in result.errors] == ["1312,PSSessionStateBroken"]


def test_errors_on_the_other_node_come_back_as_the_callers_non_terminating_errors() -> None:
    script = "Invoke-Command -ComputerName MSSNODE2 -ScriptBlock { Get-Item C:\\nowhere; 'after' }; 'caller goes on'"
    result = ps(new_world(), script, credssp())
    assert result.output == ["after", "caller goes on"]
    assert [e.error_id for e in result.errors] == ["PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand"]


def test_a_password_given_with_credential_must_be_right() -> None:
    script = (
        "$s = ConvertTo-SecureString 'wrong' -AsPlainText -Force; "
        f"$c = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList '{INSTALL}', $s; "
        "Invoke-Command -ComputerName MSSNODE2 -Credential $c -ScriptBlock { 1 }"
    )
    result = ps(new_world(), script, ntlm())
    assert [e.error_id for e in result.errors] == ["AccessDenied,PSSessionStateBroken"]
    good = script.replace("'wrong'", f"'{INSTALL_PASSWORD}'")
    assert ps(new_world(), good, ntlm()).output == [1]
