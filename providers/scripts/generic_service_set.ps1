# Steps 19-22: the Generic Service resource for ENTSSO in the role: ServiceName=ENTSSO, UseNetworkName=1 and a
# dependency on the role's network name (so ENTSSO's computer name is the secret server name, pitfall 1, F-CLU-13),
# possible owners on the resource (not the group, F-CLU-17), full cluster access for the service account (a Deny entry
# is not a grant and is removed, F-CLU-10); then online, through the cluster. Never a registry checkpoint for ENTSSO
# (pitfall 3). ENTSSO's startup type Manual and no local ENTSSO outside the cluster on every possible owner (pitfall
# 2) are done before this, by the provider through its own session to each node (sso_service_set): nothing here
# reaches another node.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [string]$ResourceName = 'ENTSSO',
    [string]$ServiceName = 'ENTSSO',
    [Parameter(Mandatory = $true)][string]$ServiceAccount,
    [Parameter(Mandatory = $true)][string[]]$PossibleOwners
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if (-not (Find-ClusterGroup -Name $Name)) { throw "The cluster group '$Name' was not found." }
$actions = @()
$resource = Find-ClusterResource -Name $ResourceName
if (-not $resource) {
    $resource = Add-ClusterResource -Name $ResourceName -ResourceType 'Generic Service' -Group $Name
    $actions += "Add-ClusterResource $ResourceName -ResourceType 'Generic Service' -Group $Name"
} elseif ($resource.OwnerGroup.Name -ne $Name -or $resource.ResourceType.Name -ne 'Generic Service') {
    throw "A cluster resource named '$ResourceName' already exists in role '$($resource.OwnerGroup.Name)'."
}
$current = @{}
$resource | Get-ClusterParameter | ForEach-Object { $current[$_.Name] = [string]$_.Value }
$changed = $false
if ($current['ServiceName'] -ne $ServiceName -or $current['UseNetworkName'] -ne '1') {
    $resource | Set-ClusterParameter -Multiple @{ ServiceName = $ServiceName; UseNetworkName = 1 }
    $changed = $true
    $actions += "Set-ClusterParameter ServiceName=$ServiceName UseNetworkName=1"
}
$networkName = Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $Name -and $_.ResourceType.Name -eq 'Network Name' } | Select-Object -First 1
if (-not $networkName) { throw "The role '$Name' has no Network Name resource." }
$expression = [string](Get-ClusterResourceDependency -Resource $ResourceName).DependencyExpression
if ($expression -notmatch ('\[' + [regex]::Escape($networkName.Name) + '\]')) {
    Add-ClusterResourceDependency -Resource $ResourceName -Provider $networkName.Name | Out-Null
    $changed = $true
    $actions += "Add-ClusterResourceDependency $ResourceName '$($networkName.Name)'"
}
$owners = @((Get-ClusterOwnerNode -Resource $ResourceName).OwnerNodes | ForEach-Object { $_.Name })
if (($owners -join ',') -ne ($PossibleOwners -join ',')) {
    Set-ClusterOwnerNode -Resource $ResourceName -Owners $PossibleOwners | Out-Null
    $actions += "Set-ClusterOwnerNode -Resource $ResourceName -Owners $($PossibleOwners -join ',')"
}
$entries = @(Get-ClusterAccess | Where-Object { [string]$_.IdentityReference -eq $ServiceAccount })
$granted = @($entries | Where-Object { [string]$_.AccessControlType -eq 'Allow' -and [string]$_.ClusterRights -eq 'Full' })
if (@($entries | Where-Object { [string]$_.AccessControlType -eq 'Deny' }).Count -gt 0) {
    Remove-ClusterAccess -User $ServiceAccount | Out-Null  # removes the Deny (and any grant) for the account
    $granted = @()
    $actions += "Remove-ClusterAccess -User $ServiceAccount"
}
if ($granted.Count -eq 0) {
    Grant-ClusterAccess -User $ServiceAccount -Full | Out-Null
    $actions += "Grant-ClusterAccess -User $ServiceAccount -Full"
}
if ($changed -and [string](Find-ClusterResource -Name $ResourceName).State -ne 'Offline') {
    Stop-ClusterResource -Name $ResourceName | Out-Null  # private properties apply on the next online (F-CLU-12)
}
if ([string](Find-ClusterResource -Name $ResourceName).State -ne 'Online') {
    Start-ClusterResource -Name $ResourceName | Out-Null
    $actions += "Start-ClusterResource $ResourceName"
}
$state = Get-RoleState -Name $Name -ResourceName $ResourceName
$state.actions = $actions
$state
