# Heartbeat thresholds relaxed as Microsoft recommends for clusters on Azure VMs (F-CLU-29): the cluster's common
# properties, set on the Get-Cluster object; the change is immediate, nothing restarts. Only what differs is set.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidateRange(250, 2000)][int]$SameSubnetDelay,
    [Parameter(Mandatory = $true)][ValidateRange(3, 120)][int]$SameSubnetThreshold,
    [Parameter(Mandatory = $true)][ValidateRange(250, 4000)][int]$CrossSubnetDelay,
    [Parameter(Mandatory = $true)][ValidateRange(3, 120)][int]$CrossSubnetThreshold
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$cluster = Get-Cluster  # not clustered: ends here with the cluster service's error (F-CLU-01)
$wanted = [ordered]@{
    SameSubnetDelay      = $SameSubnetDelay
    SameSubnetThreshold  = $SameSubnetThreshold
    CrossSubnetDelay     = $CrossSubnetDelay
    CrossSubnetThreshold = $CrossSubnetThreshold
}
$actions = @()
foreach ($property in $wanted.Keys) {
    if ([int]$cluster.$property -ne $wanted[$property]) {
        $cluster.$property = $wanted[$property]
        $actions += "(Get-Cluster).$property = $($wanted[$property])"
    }
}
$state = Get-ClusterState
$state.actions = $actions
$state
