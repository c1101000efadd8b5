# Steps 14-17 probe: the clustered DTC role (the modern form of `comclust -a`): its resource, network name, IP,
# disk, dependencies, owner and DTC network settings. Read-only.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

Get-DtcState -Name $Name
