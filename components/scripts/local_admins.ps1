<#
  Run Command "NodeAdministrators" on every cluster node of the self-contained lab, after it joined the forest.
  Puts the lab's node admin group (which holds the install account) into the node's local Administrators group:
  the procedure runs as the install account, which must be a local administrator on every node (F-SSO-02:
  backing up and restoring the master secret need "both a Windows administrator and an SSO administrator").
  The group is found by its well-known SID S-1-5-32-544, so a localized "Administrators" name does not matter
  (learn.microsoft.com/windows-server/identity/ad-ds/manage/understand-security-identifiers).
  Right after the join the node may not resolve the domain group yet: adding retries until TimeoutSeconds.
  Idempotent: a member already there is left alone and the result says so.
  Strings arrive base64-encoded (UTF-8), see directory_wait.ps1. The last line of output is one JSON object.
  Everyday cmdlets, at learn.microsoft.com/powershell/module/: microsoft.powershell.core/set-strictmode, where-object,
  foreach-object, out-null; microsoft.powershell.utility/write-output, convertto-json, select-object, sort-object,
  get-date, start-sleep; microsoft.powershell.management/join-path.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$MemberBase64,
    [int]$TimeoutSeconds = 600
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$member = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($MemberBase64))
if ($member -notmatch '^[^\\]+\\[^\\]+$') {
    throw ('{0} is not a DOMAIN\name group' -f $member)
}
$administrators = 'S-1-5-32-544'

# learn.microsoft.com/powershell/module/microsoft.powershell.localaccounts/get-localgroupmember
$present = @(Get-LocalGroupMember -SID $administrators | Where-Object { [string]$_.Name -eq $member })
$changed = $false
if ($present.Count -eq 0) {
    $deadline = (Get-Date).AddSeconds($TimeoutSeconds)
    while ($true) {
        try {
            # learn.microsoft.com/powershell/module/microsoft.powershell.localaccounts/add-localgroupmember
            Add-LocalGroupMember -SID $administrators -Member $member
            break
        } catch {
            if ((Get-Date) -ge $deadline) {
                throw ('could not add {0} to the local Administrators group of {1} within {2} s: {3}' -f
                    $member, $env:COMPUTERNAME, $TimeoutSeconds, $_.Exception.Message)
            }
            Start-Sleep -Seconds 10
        }
    }
    $changed = $true
}

$result = [ordered]@{
    ok       = $true
    changed  = $changed
    computer = $env:COMPUTERNAME
    group    = $administrators
    member   = $member
    message  = $(if ($changed) { ('added {0} to the local Administrators' -f $member) } else { ('{0} is already a local Administrator; nothing to do' -f $member) })
}
Write-Output (ConvertTo-Json -InputObject $result -Compress)
