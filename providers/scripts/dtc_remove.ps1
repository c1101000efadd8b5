# ClusteredDtc delete: stop the DTC role and remove it with its resources; the disk returns to the available disks.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$actions = @()
if (Get-ClusterGroup -Name $Name -ErrorAction SilentlyContinue) {
    Stop-ClusterGroup -Name $Name | Out-Null
    Remove-ClusterGroup -Name $Name -RemoveResources -Force | Out-Null
    $actions += "Remove-ClusterGroup $Name -RemoveResources"
}
[ordered]@{ exists = $false; name = $Name; actions = $actions }
