# Steps 14-17: a clustered DTC in its own role (network name, static IP, a cluster disk), its dependencies on the name
# and the disk, and the DTC network settings for a cluster (inbound/outbound on, incoming caller authentication).
# The disk is the Azure shared disk at LUN $DiskLun. It arrives RAW: it is initialized (GPT), partitioned and
# formatted (NTFS) here, on one node, before Add-ClusterDisk (F-AZ-03, F-CLU-23), and the cluster disk resource is
# given the name $Disk by this script (F-CLU-30), so a re-run never depends on a name the cluster chose. Every piece is
# converged on every run: a run that stopped half-way is finished by the next one. The IP's load balancer probe
# properties take effect at its next online (F-CLU-12): the IP goes offline before they are set. The network settings
# belong to the DTC instance named after the DTC resource, on the node that owns it (F-DTC-01): set here only when this
# node owns it; elsewhere the result says which node does (networkSettings $null).
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [Parameter(Mandatory = $true)][string]$StaticAddress,
    [Parameter(Mandatory = $true)][string]$Disk,
    [ValidateRange(0, 63)][int]$DiskLun = 0,
    [int]$ProbePort = 0,
    [Parameter(Mandatory = $true)][ValidateSet('CredSSP', 'ScheduledTask')][string]$DelegationMode,
    [string]$TaskUser,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [string]$TaskPassword
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Get-SharedDisk {
    # The data disk attached at LUN $Lun: Get-PhysicalDisk's PhysicalLocation ends in "LUN <n>" and its DeviceId is
    # the disk number (F-AZ-04); the OS disk can sit at LUN 0 of another adapter, so boot and system disks are skipped.
    param([int]$Lun)
    $pattern = 'LUN {0}$' -f $Lun
    $numbers = @(Get-PhysicalDisk | Where-Object { [string]$_.PhysicalLocation -match $pattern } | ForEach-Object { [int]$_.DeviceId })
    @($numbers | ForEach-Object { Get-Disk -Number $_ } | Where-Object { -not $_.IsBoot -and -not $_.IsSystem }) | Select-Object -First 1
}

$actions = @()
$resourceName = "MSDTC-$Name"
if (-not (Find-ClusterGroup -Name $Name)) {
    $clusterDisk = Find-ClusterResource -Name $Disk
    if (-not $clusterDisk) {
        $shared = Get-SharedDisk -Lun $DiskLun
        if (-not $shared) { throw "No shared data disk is attached at LUN $DiskLun on $env:COMPUTERNAME." }
        $number = $shared.Number
        if ([string]$shared.PartitionStyle -eq 'RAW') {
            Initialize-Disk -Number $number -PartitionStyle GPT
            $actions += "Initialize-Disk $number -PartitionStyle GPT"
        }
        if ([int](Get-Disk -Number $number).NumberOfPartitions -eq 0) {
            $partition = New-Partition -DiskNumber $number -UseMaximumSize -AssignDriveLetter
            Format-Volume -Partition $partition -FileSystem NTFS -NewFileSystemLabel $Name -Force -Confirm:$false | Out-Null
            $actions += "New-Partition -DiskNumber $number -UseMaximumSize; Format-Volume NTFS"
        }
        # Already clustered (a run stopped before the rename, or someone added it): its DiskIdGuid is the disk's GUID.
        $guid = [string](Get-Disk -Number $number).Guid
        $clusterDisk = Get-ClusterResource | Where-Object { $_.ResourceType.Name -eq 'Physical Disk' } |
            Where-Object { [string]($_ | Get-ClusterParameter -Name DiskIdGuid).Value -eq $guid } | Select-Object -First 1
        if (-not $clusterDisk) {
            $clusterDisk = Get-Disk -Number $number | Add-ClusterDisk
            $actions += "Add-ClusterDisk (disk $number at LUN $DiskLun)"
        }
        if ($clusterDisk.OwnerGroup.Name -ne 'Available Storage') {
            throw "The disk at LUN $DiskLun is the cluster disk '$($clusterDisk.Name)' of the role '$($clusterDisk.OwnerGroup.Name)'."
        }
        $actions += "Rename cluster disk '$($clusterDisk.Name)' to '$Disk'"
        $clusterDisk.Name = $Disk
    } elseif ($clusterDisk.ResourceType.Name -ne 'Physical Disk' -or $clusterDisk.OwnerGroup.Name -ne 'Available Storage') {
        throw "The cluster resource '$Disk' is not a disk in Available Storage: it belongs to the role '$($clusterDisk.OwnerGroup.Name)'."
    }
    $work = {
        param([string]$Name, [string]$StaticAddress, [string]$Disk)
        $ErrorActionPreference = 'Stop'
        Add-ClusterServerRole -Name $Name -StaticAddress $StaticAddress -Storage $Disk | Out-Null
    }
    $arguments = @{ Name = $Name; StaticAddress = $StaticAddress; Disk = $Disk }
    Invoke-Delegated -Work $work -Arguments $arguments -Mode $DelegationMode -User $TaskUser -Password $TaskPassword | Out-Null
    $actions += "Add-ClusterServerRole $Name -StaticAddress $StaticAddress -Storage $Disk"
}
$resources = @(Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $Name })
if (-not ($resources | Where-Object { $_.Name -eq $resourceName })) {
    Add-ClusterResource -Name $resourceName -ResourceType 'Distributed Transaction Coordinator' -Group $Name | Out-Null
    $actions += "Add-ClusterResource $resourceName -ResourceType 'Distributed Transaction Coordinator'"
}
$providers = @($resources | Where-Object { $_.ResourceType.Name -in 'Network Name', 'Physical Disk' } | ForEach-Object { $_.Name })
$expression = [string](Get-ClusterResourceDependency -Resource $resourceName).DependencyExpression
foreach ($provider in $providers) {
    if ($expression -notmatch ('\[' + [regex]::Escape($provider) + '\]')) {
        Add-ClusterResourceDependency -Resource $resourceName -Provider $provider | Out-Null
        $actions += "Add-ClusterResourceDependency $resourceName '$provider'"
    }
}
if ($ProbePort -gt 0) {
    $ip = $resources | Where-Object { $_.ResourceType.Name -eq 'IP Address' } | Select-Object -First 1
    if (-not $ip) { throw "The role '$Name' has no IP Address resource." }
    $wanted = [ordered]@{ ProbePort = $ProbePort; SubnetMask = '255.255.255.255'; EnableDhcp = 0; OverrideAddressMatch = 1 }
    $current = @{}
    $ip | Get-ClusterParameter | ForEach-Object { $current[$_.Name] = [string]$_.Value }
    $changes = @{}
    foreach ($parameter in $wanted.Keys) { if ($current[$parameter] -ne [string]$wanted[$parameter]) { $changes[$parameter] = $wanted[$parameter] } }
    if ($changes.Count -gt 0) {
        Stop-ClusterResource -Name $ip.Name | Out-Null
        $ip | Set-ClusterParameter -Multiple $changes
        $actions += "Set-ClusterParameter -InputObject '$($ip.Name)' $((@($changes.Keys) | Sort-Object | ForEach-Object { "$_=$($changes[$_])" }) -join ' ')"
    }
}
if ([string](Find-ClusterGroup -Name $Name).State -ne 'Online') {
    Start-ClusterGroup -Name $Name | Out-Null
    $actions += "Start-ClusterGroup $Name"
}
if ([string](Find-ClusterResource -Name $resourceName).OwnerNode.Name -eq $env:COMPUTERNAME) {
    $network = Get-DtcNetworkSetting -DtcName $resourceName
    if (-not $network.InboundTransactionsEnabled -or -not $network.OutboundTransactionsEnabled -or $network.RemoteClientAccessEnabled -or
        [string]$network.AuthenticationLevel -ne 'Incoming') {
        # This cmdlet restarts the DTC (S19, F-DTC-02).
        Set-DtcNetworkSetting -DtcName $resourceName -InboundTransactionsEnabled $true -OutboundTransactionsEnabled $true `
            -RemoteClientAccessEnabled $false -AuthenticationLevel Incoming -Confirm:$false | Out-Null
        $actions += "Set-DtcNetworkSetting -DtcName $resourceName"
    }
}
$state = Get-DtcState -Name $Name
$state.actions = $actions
$state
