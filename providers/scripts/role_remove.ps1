# EntssoService delete: stop the role and remove it with its resources (Generic Service, network name, IP).
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
