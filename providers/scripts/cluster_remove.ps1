# Tear-down: Remove-Cluster -CleanupAD -Force, which also deletes the role computer objects (F-CLU-22). Delegated,
# like New-Cluster: it reaches every node and AD with the session's token (F-CLU-03).
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

$state = Get-ClusterState
if (-not $state.exists -or $state.name -ne $Name) {
    $state.actions = @()
    return $state
}
$work = {
    param([string]$Name)
    $ErrorActionPreference = 'Stop'
    Remove-Cluster -Cluster $Name -CleanupAD -Force | Out-Null
}
Invoke-Delegated -Work $work -Arguments @{ Name = $Name } -Mode $DelegationMode -User $TaskUser -Password $TaskPassword | Out-Null
$state = Get-ClusterState
$state.actions = @("Remove-Cluster $Name -CleanupAD")
$state
