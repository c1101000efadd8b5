# Steps 14-17 probe: the clustered DTC role (the modern form of `comclust -a`): its resource, network name, IP,
# disk, dependencies, owner and DTC network settings. Read-only.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Get-DtcState {
    param([string]$Name)
    $dtc = Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $Name -and $_.ResourceType.Name -eq 'Distributed Transaction Coordinator' } |
        Select-Object -First 1
    if (-not $dtc) { return [ordered]@{ exists = $false; name = $Name } }
    $ip = Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $Name -and $_.ResourceType.Name -eq 'IP Address' } | Select-Object -First 1
    $disk = Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $Name -and $_.ResourceType.Name -eq 'Physical Disk' } | Select-Object -First 1
    $expression = [string](Get-ClusterResourceDependency -Resource $dtc.Name).DependencyExpression
    $network = Get-DtcNetworkSetting -DtcName $Name
    [ordered]@{
        exists          = $true
        name            = $Name
        resource        = $dtc.Name
        state           = [string]$dtc.State
        ownerNode       = $dtc.OwnerGroup.OwnerNode.Name
        ipAddress       = if ($ip) { [string]($ip | Get-ClusterParameter -Name Address).Value } else { '' }
        disk            = if ($disk) { $disk.Name } else { '' }
        dependencies    = @([regex]::Matches($expression, '\[([^\]]+)\]') | ForEach-Object { $_.Groups[1].Value })
        networkSettings = [ordered]@{
            inboundTransactionsEnabled  = [bool]$network.InboundTransactionsEnabled
            outboundTransactionsEnabled = [bool]$network.OutboundTransactionsEnabled
            remoteClientAccessEnabled   = [bool]$network.RemoteClientAccessEnabled
            authenticationLevel         = [string]$network.AuthenticationLevel
        }
    }
}

Get-DtcState -Name $Name
