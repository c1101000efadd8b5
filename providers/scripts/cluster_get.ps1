# The failover cluster this node belongs to: name, nodes, management point, quorum. Read-only.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$cluster = Get-Cluster -ErrorAction SilentlyContinue
if (-not $cluster) {
    return [ordered]@{ exists = $false; name = ''; nodes = @(); managementPointNetworkType = ''; quorum = $null }
}
$core = Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq 'Cluster Group' -and $_.ResourceType.Name -like '*Network Name' } |
    Select-Object -First 1
$quorum = Get-Quorum
[ordered]@{
    exists                     = $true
    name                       = $cluster.Name
    nodes                      = @(Get-ClusterNode | ForEach-Object { [ordered]@{ name = $_.Name; state = [string]$_.State } })
    managementPointNetworkType = if ($core -and $core.ResourceType.Name -eq 'Distributed Network Name') { 'Distributed' } else { 'Singleton' }
    quorum                     = $quorum
}
