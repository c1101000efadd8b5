# Steps 18-23 probe: the ENTSSO role: owner and preferred owners, the IP resource with its load-balancer probe
# parameters, the network name, the Generic Service resource (ServiceName, UseNetworkName, possible owners,
# dependencies, state) and who may access the cluster. Read-only.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [string]$ResourceName = 'ENTSSO'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

Get-RoleState -Name $Name -ResourceName $ResourceName
