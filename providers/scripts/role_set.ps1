# Step 18: the role that will hold ENTSSO, with its client access point (Add-ClusterServerRole: network name +
# static IP). The IP resource answers the Azure load balancer probe (azure.md 1.5): ProbePort, a host mask,
# no DHCP, OverrideAddressMatch. Preferred owners are set on the group.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [Parameter(Mandatory = $true)][string]$StaticAddress,
    [Parameter(Mandatory = $true)][int]$ProbePort,
    [Parameter(Mandatory = $true)][string[]]$PreferredOwners
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$actions = @()
if (-not (Get-ClusterGroup -Name $Name -ErrorAction SilentlyContinue)) {
    Add-ClusterServerRole -Name $Name -StaticAddress $StaticAddress | Out-Null
    $actions += "Add-ClusterServerRole -Name $Name -StaticAddress $StaticAddress"
}
$ip = Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $Name -and $_.ResourceType.Name -eq 'IP Address' } | Select-Object -First 1
if (-not $ip) { throw "The role '$Name' has no IP Address resource." }
$wanted = @{ Address = $StaticAddress; SubnetMask = '255.255.255.255'; ProbePort = $ProbePort; EnableDhcp = 0; OverrideAddressMatch = 1 }
$current = @{}
$ip | Get-ClusterParameter | ForEach-Object { $current[$_.Name] = [string]$_.Value }
$changes = @{}
foreach ($parameter in $wanted.Keys) { if ($current[$parameter] -ne [string]$wanted[$parameter]) { $changes[$parameter] = $wanted[$parameter] } }
if ($changes.Count -gt 0) {
    $ip | Set-ClusterParameter -Multiple $changes
    Stop-ClusterResource -Name $ip.Name | Out-Null  # IP parameters apply on the next online
    $actions += "Set-ClusterParameter -InputObject '$($ip.Name)' ProbePort=$ProbePort"
}
$owners = @((Get-ClusterOwnerNode -Group $Name).OwnerNodes | ForEach-Object { $_.Name })
if (($owners -join ',') -ne ($PreferredOwners -join ',')) {
    Set-ClusterOwnerNode -Group $Name -Owners $PreferredOwners | Out-Null
    $actions += "Set-ClusterOwnerNode -Group $Name -Owners $($PreferredOwners -join ',')"
}
if ([string](Get-ClusterGroup -Name $Name).State -ne 'Online') {
    Start-ClusterGroup -Name $Name | Out-Null
    $actions += "Start-ClusterGroup $Name"
}
$state = Get-RoleState -Name $Name -ResourceName 'ENTSSO'
$state.actions = $actions
$state
