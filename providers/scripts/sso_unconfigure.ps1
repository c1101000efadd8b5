# Tear-down of steps 2-4/7 on this node: Configuration.exe /U (BizTalk) or ConfigurationWizard.exe /u (Host
# Integration Server, F-SSO-27). It unregisters the server from SSODB on the remote SQL Server, so the work runs
# delegated (F-SSO-30).
[CmdletBinding()]
param(
    [ValidateSet('BizTalk', 'HIS')][string]$Product = 'BizTalk',
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
    param([string]$Product)
    $ErrorActionPreference = 'Stop'
    $log = Join-Path $env:SystemRoot ('Temp\entsso-unconfigure-{0}.log' -f [guid]::NewGuid().ToString('N'))
    if ($Product -eq 'HIS') {
        $tool = Join-Path (Split-Path -Parent $env:CommonProgramW6432) 'Microsoft Host Integration Server\ConfigurationWizard.exe'
        $arguments = @('/u')
    } else {
        $installDir = [Environment]::GetEnvironmentVariable('BTSINSTALLPATH', 'Machine')
        if (-not $installDir) { $installDir = Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On' }
        $tool = Join-Path $installDir 'Configuration.exe'
        $arguments = @('/noprogressbar', '/u', '/l', $log)
    }
    $run = Start-Process -FilePath $tool -ArgumentList $arguments -Wait -PassThru
    if ($run.ExitCode -ne 0) { throw "$(Split-Path -Leaf $tool) /u exited with $($run.ExitCode); see $log." }
}
Invoke-Delegated -Work $work -Arguments @{ Product = $Product } -Mode $DelegationMode -User $TaskUser -Password $TaskPassword | Out-Null
$state = Get-SsoState
$state.actions = @(if ($Product -eq 'HIS') { 'ConfigurationWizard.exe /u' } else { 'Configuration.exe /u' })
$state
