# Step 23 (and the failover test after 26): move the role to a node, then take the ENTSSO resource offline and
# online again there, as S2 requires before a restore on the new owner (pitfall 4).
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [Parameter(Mandatory = $true)][string]$Node,
    [string]$ResourceName = 'ENTSSO'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Get-RoleState {
    param([string]$Name, [string]$ResourceName)
    $group = Get-ClusterGroup -Name $Name -ErrorAction SilentlyContinue
    if (-not $group) { return [ordered]@{ exists = $false; name = $Name } }
    $resources = @(Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $Name })
    $ip = $resources | Where-Object { $_.ResourceType.Name -eq 'IP Address' } | Select-Object -First 1
    $networkName = $resources | Where-Object { $_.ResourceType.Name -eq 'Network Name' } | Select-Object -First 1
    $service = $resources | Where-Object { $_.Name -eq $ResourceName } | Select-Object -First 1
    $state = [ordered]@{
        exists          = $true
        name            = $group.Name
        state           = [string]$group.State
        ownerNode       = $group.OwnerNode.Name
        preferredOwners = @((Get-ClusterOwnerNode -Group $Name).OwnerNodes | ForEach-Object { $_.Name })
        ipAddress       = $null
        networkName     = $null
        service         = $null
        clusterAccess   = @(Get-ClusterAccess | ForEach-Object { [ordered]@{ account = [string]$_.IdentityReference; access = [string]$_.ClusterRights } })
    }
    if ($ip) {
        $p = @{}
        $ip | Get-ClusterParameter | ForEach-Object { $p[$_.Name] = $_.Value }
        $state.ipAddress = [ordered]@{
            resource = $ip.Name; address = [string]$p.Address; subnetMask = [string]$p.SubnetMask; probePort = [int]$p.ProbePort
            enableDhcp = [int]$p.EnableDhcp; overrideAddressMatch = [int]$p.OverrideAddressMatch; state = [string]$ip.State
        }
    }
    if ($networkName) {
        $dnsName = ($networkName | Get-ClusterParameter -Name DnsName).Value
        $state.networkName = [ordered]@{ resource = $networkName.Name; dnsName = [string]$dnsName; state = [string]$networkName.State }
    }
    if ($service) {
        $p = @{}
        $service | Get-ClusterParameter | ForEach-Object { $p[$_.Name] = $_.Value }
        $expression = [string](Get-ClusterResourceDependency -Resource $service.Name).DependencyExpression
        $state.service = [ordered]@{
            resource       = $service.Name
            type           = $service.ResourceType.Name
            serviceName    = [string]$p.ServiceName
            useNetworkName = [int]$p.UseNetworkName
            possibleOwners = @((Get-ClusterOwnerNode -Resource $service.Name).OwnerNodes | ForEach-Object { $_.Name })
            dependencies   = @([regex]::Matches($expression, '\[([^\]]+)\]') | ForEach-Object { $_.Groups[1].Value })
            state          = [string]$service.State
        }
    }
    $state
}

$actions = @()
$group = Get-ClusterGroup -Name $Name
if ($group.OwnerNode.Name -ne $Node) {
    Move-ClusterGroup -Name $Name -Node $Node | Out-Null
    $actions += "Move-ClusterGroup $Name -Node $Node"
}
$resource = Get-ClusterResource -Name $ResourceName -ErrorAction SilentlyContinue
if ($resource -and $resource.OwnerGroup.Name -eq $Name) {
    Stop-ClusterResource -Name $ResourceName | Out-Null
    Start-ClusterResource -Name $ResourceName | Out-Null
    $actions += "Stop-ClusterResource/Start-ClusterResource $ResourceName"
}
if ([string](Get-ClusterGroup -Name $Name).State -ne 'Online') { Start-ClusterGroup -Name $Name | Out-Null }
$state = Get-RoleState -Name $Name -ResourceName $ResourceName
$state.actions = $actions
$state
