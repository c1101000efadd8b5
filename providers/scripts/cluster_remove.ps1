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
