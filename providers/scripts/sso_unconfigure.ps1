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
