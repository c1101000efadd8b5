# Step 18: the role that will hold ENTSSO, with its client access point (Add-ClusterServerRole: network name +
# static IP). Add-ClusterServerRole creates the role's computer object in AD, so it runs delegated (F-CLU-03). The IP
# resource answers the Azure load balancer probe (azure.md 1.5, F-AZ-01): ProbePort, a host mask, no DHCP,
# OverrideAddressMatch; they take effect at the IP's next online (F-CLU-12), so the IP goes offline before they are
# set and comes back with the role. Preferred owners are set on the group (F-CLU-17).
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [Parameter(Mandatory = $true)][string]$StaticAddress,
    [Parameter(Mandatory = $true)][int]$ProbePort,
    [Parameter(Mandatory = $true)][string[]]$PreferredOwners,
    [string]$ResourceName = 'ENTSSO',
    [Parameter(Mandatory = $true)][ValidateSet('CredSSP', 'ScheduledTask')][string]$DelegationMode,
    [string]$TaskUser,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [string]$TaskPassword
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$actions = @()
if (-not (Find-ClusterGroup -Name $Name)) {
    $work = {
        param([string]$Name, [string]$StaticAddress)
        $ErrorActionPreference = 'Stop'
        Add-ClusterServerRole -Name $Name -StaticAddress $StaticAddress | Out-Null
    }
    $arguments = @{ Name = $Name; StaticAddress = $StaticAddress }
    Invoke-Delegated -Work $work -Arguments $arguments -Mode $DelegationMode -User $TaskUser -Password $TaskPassword | Out-Null
    $actions += "Add-ClusterServerRole -Name $Name -StaticAddress $StaticAddress"
}
$ip = Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $Name -and $_.ResourceType.Name -eq 'IP Address' } | Select-Object -First 1
if (-not $ip) { throw "The role '$Name' has no IP Address resource." }
$wanted = [ordered]@{ Address = $StaticAddress; SubnetMask = '255.255.255.255'; ProbePort = $ProbePort; EnableDhcp = 0; OverrideAddressMatch = 1 }
$current = @{}
$ip | Get-ClusterParameter | ForEach-Object { $current[$_.Name] = [string]$_.Value }
$changes = @{}
foreach ($parameter in $wanted.Keys) { if ($current[$parameter] -ne [string]$wanted[$parameter]) { $changes[$parameter] = $wanted[$parameter] } }
if ($changes.Count -gt 0) {
    Stop-ClusterResource -Name $ip.Name | Out-Null
    $ip | Set-ClusterParameter -Multiple $changes
    $actions += "Set-ClusterParameter -InputObject '$($ip.Name)' $((@($changes.Keys) | Sort-Object | ForEach-Object { "$_=$($changes[$_])" }) -join ' ')"
}
$owners = @((Get-ClusterOwnerNode -Group $Name).OwnerNodes | ForEach-Object { $_.Name })
if (($owners -join ',') -ne ($PreferredOwners -join ',')) {
    Set-ClusterOwnerNode -Group $Name -Owners $PreferredOwners | Out-Null
    $actions += "Set-ClusterOwnerNode -Group $Name -Owners $($PreferredOwners -join ',')"
}
if ([string](Find-ClusterGroup -Name $Name).State -ne 'Online') {
    Start-ClusterGroup -Name $Name | Out-Null
    $actions += "Start-ClusterGroup $Name"
}
$state = Get-RoleState -Name $Name -ResourceName $ResourceName
$state.actions = $actions
$state
