# ClusteredDtc delete: stop the DTC role and remove it with its resources. -RemoveResources deletes the Physical Disk
# resource too (F-CLU-21): the disk leaves the cluster, keeps its volume, and the next dtc_set adds it again from
# its LUN and names it itself.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$actions = @()
if (Find-ClusterGroup -Name $Name) {
    Stop-ClusterGroup -Name $Name | Out-Null
    Remove-ClusterGroup -Name $Name -RemoveResources -Force | Out-Null
    $actions += "Remove-ClusterGroup $Name -RemoveResources"
}
[ordered]@{ exists = $false; name = $Name; actions = $actions }
