# Procedure prerequisite: New-Cluster -NoStorage. Creating the cluster name object in AD and reaching the
# other node need network credentials, so the work runs delegated (CredSSP or a one-shot scheduled task, F-CLU-05).
# The result is read back from the cluster (management point and quorum as Windows reports them, F-CLU-07/09).
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

$state = Get-ClusterState
if ($state.exists) {
    if ($state.name -ne $Name) { throw "This node already belongs to cluster '$($state.name)', not '$Name'." }
    $state.actions = @()
    return $state
}

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
