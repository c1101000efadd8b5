# Steps 14-17: a clustered DTC in its own role (network name, static IP, a cluster disk), its dependencies on the
# name and the disk, and DTC network settings for a cluster (inbound/outbound on, incoming caller authentication).
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [Parameter(Mandatory = $true)][string]$StaticAddress,
    [Parameter(Mandatory = $true)][string]$Disk,
    [int]$ProbePort = 0
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$actions = @()
if (-not (Get-ClusterGroup -Name $Name -ErrorAction SilentlyContinue)) {
    $clusterDisk = Get-ClusterResource -Name $Disk -ErrorAction SilentlyContinue
    if (-not $clusterDisk) {
        Get-ClusterAvailableDisk | Add-ClusterDisk | Out-Null
        $clusterDisk = Get-ClusterResource -Name $Disk -ErrorAction SilentlyContinue
        if (-not $clusterDisk) { throw "The cluster disk '$Disk' was not found among the available disks." }
        $actions += "Add-ClusterDisk $Disk"
    } elseif ($clusterDisk.OwnerGroup.Name -ne 'Available Storage') {
        throw "The cluster disk '$Disk' is already used by the role '$($clusterDisk.OwnerGroup.Name)'."
    }
    Add-ClusterServerRole -Name $Name -StaticAddress $StaticAddress -Storage $Disk | Out-Null
    $dtc = Add-ClusterResource -Name "MSDTC-$Name" -ResourceType 'Distributed Transaction Coordinator' -Group $Name
    Add-ClusterResourceDependency -Resource $dtc.Name -Provider $Name | Out-Null
    Add-ClusterResourceDependency -Resource $dtc.Name -Provider $Disk | Out-Null
    $actions += "Add-ClusterServerRole $Name; Add-ClusterResource $($dtc.Name) -ResourceType 'Distributed Transaction Coordinator'"
    if ($ProbePort -gt 0) {
        $ip = Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $Name -and $_.ResourceType.Name -eq 'IP Address' } | Select-Object -First 1
        $ip | Set-ClusterParameter -Multiple @{ ProbePort = $ProbePort; SubnetMask = '255.255.255.255'; EnableDhcp = 0; OverrideAddressMatch = 1 }
    }
}
if ([string](Get-ClusterGroup -Name $Name).State -ne 'Online') {
    Start-ClusterGroup -Name $Name | Out-Null
    $actions += "Start-ClusterGroup $Name"
}
$network = Get-DtcNetworkSetting -DtcName $Name
if (-not $network.InboundTransactionsEnabled -or -not $network.OutboundTransactionsEnabled -or $network.RemoteClientAccessEnabled -or
    [string]$network.AuthenticationLevel -ne 'Incoming') {
    # This cmdlet restarts the DTC (S19).
    Set-DtcNetworkSetting -DtcName $Name -InboundTransactionsEnabled $true -OutboundTransactionsEnabled $true `
        -RemoteClientAccessEnabled $false -AuthenticationLevel Incoming -Confirm:$false | Out-Null
    $actions += "Set-DtcNetworkSetting -DtcName $Name"
}
$state = Get-DtcState -Name $Name
$state.actions = $actions
$state
