"""Windows Firewall rules on a simulated node (surface/firewall.py), as components/scripts/enable_winrm_https.ps1
uses them: look a rule up by name (absent is fine), create it once, bring it back to what it should be, remove it."""

from __future__ import annotations

from simulator.world.machine import run_script
from simulator.wsman.backend import Session
from tests.test_world import INSTALL, N1, OUTSIDER, new_world

# The script's own firewall block (enable_winrm_https.ps1), with its inputs as variables.
RULE = r"""
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Port = 5986; $AdminCidr = '203.0.113.0/24'
$ruleName = 'entsso-WinRM-HTTPS-In'
$rule = Get-NetFirewallRule -Name $ruleName -ErrorAction SilentlyContinue
if ($null -eq $rule) {
    New-NetFirewallRule -Name $ruleName -DisplayName 'WinRM over HTTPS (entsso-cluster)' -Direction Inbound `
        -Protocol TCP -LocalPort $Port -RemoteAddress $AdminCidr -Action Allow -Profile Any | Out-Null
    'created'
} else {
    Set-NetFirewallRule -Name $ruleName -Direction Inbound -Protocol TCP -LocalPort $Port `
        -RemoteAddress $AdminCidr -Action Allow -Profile Any -Enabled True | Out-Null
    'set'
}
"""


def session(user: str = INSTALL) -> Session:
    return Session(node=N1, user=user, auth="ntlm", encrypted=True, delegated=False)


def test_the_rule_is_created_once_then_brought_back_to_its_settings() -> None:
    world = new_world()
    assert run_script(world, N1, RULE, session()).output == ["created"]
    node = world.node(N1)
    assert node is not None
    rule = node.firewall_rules["ENTSSO-WINRM-HTTPS-IN"]
    assert (rule.direction, rule.action, rule.protocol, rule.local_ports, rule.remote_addresses) == (
        "Inbound",
        "Allow",
        "TCP",
        ["5986"],
        ["203.0.113.0/24"],
    )
    rule.enabled, rule.remote_addresses = False, ["0.0.0.0/0"]  # someone widened and disabled it
    assert run_script(world, N1, RULE, session()).output == ["set"]
    assert rule.enabled and rule.remote_addresses == ["203.0.113.0/24"]


def test_a_missing_rule_and_a_duplicate_are_reported_as_the_cdxml_cmdlets_do() -> None:
    world = new_world()
    missing = run_script(world, N1, "Get-NetFirewallRule -Name 'nope'", session())
    assert [e.error_id for e in missing.errors] == ["CmdletizationQuery_NotFound_Name,Get-NetFirewallRule"]
    assert missing.errors[0].message.startswith(
        "No MSFT_NetFirewallRule objects found with property 'Name' equal to 'nope'."
    )
    script = "New-NetFirewallRule -Name r1 -DisplayName one | Out-Null; New-NetFirewallRule -Name r1 -DisplayName two"
    duplicate = run_script(world, N1, script, session())
    assert [e.message for e in duplicate.errors] == ["Cannot create a file when that file already exists."]
    assert run_script(world, N1, "Remove-NetFirewallRule -Name r1; @(Get-NetFirewallRule).Count", session()).output == [
        0
    ]


def test_only_an_administrator_changes_the_firewall() -> None:
    world = new_world()
    result = run_script(world, N1, "New-NetFirewallRule -Name r1 -DisplayName one", session(OUTSIDER))
    assert [e.message for e in result.errors] == ["Access is denied."]
    assert not world.node(N1).firewall_rules  # type: ignore[union-attr]
