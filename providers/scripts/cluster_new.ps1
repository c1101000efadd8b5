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
