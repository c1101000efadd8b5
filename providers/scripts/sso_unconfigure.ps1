# Tear-down of steps 2-4/7 on this node: Configuration.exe /U. It unregisters the server from SSODB on the
# remote SQL Server, so the work runs delegated.
[CmdletBinding()]
param(
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

function Get-SsoState {
    $service = Get-CimInstance -ClassName Win32_Service -Filter "Name='ENTSSO'"
    $sql = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\ENTSSO\SQL' -ErrorAction SilentlyContinue
    [ordered]@{
        computerName = $env:COMPUTERNAME
        installed    = [bool]$service
        configured   = [bool]($sql -and $sql.Server)
        sqlServer    = if ($sql) { [string]$sql.Server } else { '' }
        database     = if ($sql) { [string]$sql.Database } else { '' }
        service      = if ($service) {
            [ordered]@{ name = 'ENTSSO'; state = [string]$service.State; startMode = [string]$service.StartMode; account = [string]$service.StartName }
        } else { $null }
    }
}

$state = Get-SsoState
if (-not $state.configured) {
    $state.actions = @()
    return $state
}
$work = {
    $ErrorActionPreference = 'Stop'
    $installDir = [Environment]::GetEnvironmentVariable('BTSINSTALLPATH', 'Machine')
    if (-not $installDir) { $installDir = Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On' }
    $log = Join-Path $env:SystemRoot ('Temp\entsso-unconfigure-{0}.log' -f [guid]::NewGuid().ToString('N'))
    $run = Start-Process -FilePath (Join-Path $installDir 'Configuration.exe') -ArgumentList @('/noprogressbar', '/u', '/l', $log) -Wait -PassThru
    if ($run.ExitCode -ne 0) { throw "Configuration.exe /u exited with $($run.ExitCode); see $log." }
}
Invoke-Delegated -Work $work -Arguments @{} -Mode $DelegationMode -User $TaskUser -Password $TaskPassword | Out-Null
$state = Get-SsoState
$state.actions = @('Configuration.exe /u')
$state
