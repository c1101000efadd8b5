# Step 23 (and the failover test after 26): move the role to a node, then take the ENTSSO resource offline and
# online again there, as S2 requires before a restore on the new owner (pitfall 4). A node that is not a possible
# owner of every resource in the role refuses the move (F-CLU-18).
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [Parameter(Mandatory = $true)][string]$Node,
    [string]$ResourceName = 'ENTSSO'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$actions = @()
$group = Find-ClusterGroup -Name $Name
if (-not $group) { throw "The cluster group '$Name' was not found." }
if ($group.OwnerNode.Name -ne $Node) {
    Move-ClusterGroup -Name $Name -Node $Node | Out-Null
    $actions += "Move-ClusterGroup $Name -Node $Node"
}
$resource = Find-ClusterResource -Name $ResourceName
if ($resource -and $resource.OwnerGroup.Name -eq $Name) {
    Stop-ClusterResource -Name $ResourceName | Out-Null
    Start-ClusterResource -Name $ResourceName | Out-Null
    $actions += "Stop-ClusterResource/Start-ClusterResource $ResourceName"
}
if ([string](Find-ClusterGroup -Name $Name).State -ne 'Online') { Start-ClusterGroup -Name $Name | Out-Null }
$state = Get-RoleState -Name $Name -ResourceName $ResourceName
$state.actions = $actions
$state
