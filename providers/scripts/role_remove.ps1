# EntssoService delete: stop the role and remove it with its resources (Generic Service, network name, IP).
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
    $actions += "Remove-ClusterGroup $Name"
}
[ordered]@{ exists = $false; name = $Name; actions = $actions }
