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

Get-RoleState -Name $Name -ResourceName $ResourceName
