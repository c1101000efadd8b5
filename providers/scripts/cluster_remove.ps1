# Tear-down: Remove-Cluster -CleanupAD -Force (also deletes the role computer objects). Delegated, like New-Cluster.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [Parameter(Mandatory = $true)][ValidateSet('CredSSP', 'ScheduledTask')][string]$DelegationMode,
    [string]$TaskUser,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [string]$TaskPassword
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Invoke-Delegated {
    # The WinRM double hop: this work needs network credentials (remote SQL, AD, the other node). Over CredSSP the
    # session holds them; otherwise it runs once as a scheduled task under TaskUser. Its input and output cross
    # the disk DPAPI-sealed in a directory only SYSTEM, Administrators and TaskUser can open, deleted afterwards.
    param([scriptblock]$Work, [hashtable]$Arguments, [string]$Mode, [string]$User, [string]$Password)
    if ($Mode -eq 'CredSSP') { return & $Work @Arguments }
    if (-not $User -or -not $Password) { throw 'DelegationMode ScheduledTask needs TaskUser and TaskPassword.' }
    Add-Type -AssemblyName System.Security
    $scope = [Security.Cryptography.DataProtectionScope]::LocalMachine
    $dir = Join-Path $env:ProgramData ('EntssoTask-' + [guid]::NewGuid().ToString('N'))
    $task = Split-Path -Leaf $dir
    $acl = New-Object -TypeName Security.AccessControl.DirectorySecurity
    $acl.SetAccessRuleProtection($true, $false)
    foreach ($who in @('NT AUTHORITY\SYSTEM', 'BUILTIN\Administrators', $User)) {
        $rule = New-Object -TypeName Security.AccessControl.FileSystemAccessRule -ArgumentList @(
            $who, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')
        $acl.AddAccessRule($rule)
    }
    New-Item -ItemType Directory -Path $dir | Out-Null
    try {
        Set-Acl -LiteralPath $dir -AclObject $acl
        $job = [Management.Automation.PSSerializer]::Serialize(@{ Work = $Work.ToString(); Arguments = $Arguments })
        $sealed = [Security.Cryptography.ProtectedData]::Protect([Text.Encoding]::UTF8.GetBytes($job), $null, $scope)
        [IO.File]::WriteAllBytes((Join-Path $dir 'job.bin'), $sealed)
        Set-Content -LiteralPath (Join-Path $dir 'run.ps1') -Encoding UTF8 -Value @'
param([string]$Dir)
Add-Type -AssemblyName System.Security
$scope = [Security.Cryptography.DataProtectionScope]::LocalMachine
$bytes = [Security.Cryptography.ProtectedData]::Unprotect([IO.File]::ReadAllBytes("$Dir\job.bin"), $null, $scope)
$job = [Management.Automation.PSSerializer]::Deserialize([Text.Encoding]::UTF8.GetString($bytes))
$arguments = @{}
foreach ($entry in $job.Arguments.GetEnumerator()) { $arguments[$entry.Key] = $entry.Value }
try { $outcome = @{ Ok = $true; Result = (& ([scriptblock]::Create($job.Work)) @arguments) } }
catch { $outcome = @{ Ok = $false; Message = $_.Exception.Message } }
$bytes = [Text.Encoding]::UTF8.GetBytes([Management.Automation.PSSerializer]::Serialize($outcome))
[IO.File]::WriteAllBytes("$Dir\result.bin", [Security.Cryptography.ProtectedData]::Protect($bytes, $null, $scope))
'@
        $runner = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{0}\run.ps1" -Dir "{0}"' -f $dir
        $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument $runner
        Register-ScheduledTask -TaskName $task -Action $action -User $User -Password $Password -RunLevel Highest | Out-Null
        try {
            Start-ScheduledTask -TaskName $task
            $deadline = (Get-Date).AddMinutes(30)
            do {
                Start-Sleep -Milliseconds 500
                $info = Get-ScheduledTaskInfo -TaskName $task
                $running = (Get-ScheduledTask -TaskName $task).State -eq 'Running' -or $info.LastTaskResult -in 267009, 267011
                if ((Get-Date) -gt $deadline) { throw "The scheduled task $task did not finish within 30 minutes." }
            } while ($running -and -not (Test-Path -LiteralPath (Join-Path $dir 'result.bin')))
        } finally {
            Unregister-ScheduledTask -TaskName $task -Confirm:$false
        }
        if (-not (Test-Path -LiteralPath (Join-Path $dir 'result.bin'))) {
            throw ('The scheduled task {0} ended with 0x{1:X8} and no result.' -f $task, $info.LastTaskResult)
        }
        $bytes = [Security.Cryptography.ProtectedData]::Unprotect([IO.File]::ReadAllBytes((Join-Path $dir 'result.bin')), $null, $scope)
        $outcome = [Management.Automation.PSSerializer]::Deserialize([Text.Encoding]::UTF8.GetString($bytes))
        if (-not $outcome.Ok) { throw $outcome.Message }
        return $outcome.Result
    } finally {
        Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue
    }
}

$absent = [ordered]@{ exists = $false; name = ''; nodes = @(); managementPointNetworkType = ''; quorum = $null }
$cluster = Get-Cluster -ErrorAction SilentlyContinue
$absent.actions = @()
if (-not $cluster -or $cluster.Name -ne $Name) { return $absent }

$work = {
    param([string]$Name)
    $ErrorActionPreference = 'Stop'
    Remove-Cluster -Cluster $Name -CleanupAD -Force | Out-Null
}
Invoke-Delegated -Work $work -Arguments @{ Name = $Name } -Mode $DelegationMode -User $TaskUser -Password $TaskPassword | Out-Null
$absent.actions = @("Remove-Cluster $Name -CleanupAD")
$absent
