# Procedure prerequisite: New-Cluster -NoStorage. Creating the cluster name object in AD and reaching the
# other node need network credentials, so the work runs delegated (CredSSP or a one-shot scheduled task).
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [Parameter(Mandatory = $true)][string[]]$Nodes,
    [ValidateSet('Distributed', 'Singleton', 'Automatic')][string]$ManagementPointNetworkType = 'Distributed',
    [string]$StaticAddress,
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

function Get-ClusterState {
    $cluster = Get-Cluster -ErrorAction SilentlyContinue
    if (-not $cluster) { return [ordered]@{ exists = $false; name = ''; nodes = @(); managementPointNetworkType = ''; quorum = $null } }
    [ordered]@{
        exists                     = $true
        name                       = $cluster.Name
        nodes                      = @(Get-ClusterNode | ForEach-Object { [ordered]@{ name = $_.Name; state = [string]$_.State } })
        managementPointNetworkType = $ManagementPointNetworkType
        quorum                     = [ordered]@{ type = [string](Get-ClusterQuorum).QuorumType; witnessAccountName = ''; witnessEndpoint = '' }
    }
}

$current = Get-Cluster -ErrorAction SilentlyContinue
if ($current -and $current.Name -eq $Name) {
    $state = Get-ClusterState
    $state.actions = @()
    return $state
}
if ($current) { throw "This node already belongs to cluster '$($current.Name)'." }

$work = {
    param([string]$Name, [string[]]$Nodes, [string]$ManagementPointNetworkType, [string]$StaticAddress)
    $ErrorActionPreference = 'Stop'
    $arguments = @{ Name = $Name; Node = $Nodes; NoStorage = $true; ManagementPointNetworkType = $ManagementPointNetworkType }
    if ($StaticAddress) { $arguments.StaticAddress = $StaticAddress }
    New-Cluster @arguments | Out-Null
}
$arguments = @{ Name = $Name; Nodes = $Nodes; ManagementPointNetworkType = $ManagementPointNetworkType; StaticAddress = $StaticAddress }
Invoke-Delegated -Work $work -Arguments $arguments -Mode $DelegationMode -User $TaskUser -Password $TaskPassword | Out-Null
$state = Get-ClusterState
$state.actions = @("New-Cluster $Name")
$state
