# Steps 19-22: the Generic Service resource for ENTSSO in the role: ServiceName=ENTSSO, UseNetworkName=1 and a
# dependency on the role's network name (so ENTSSO's computer name is the secret server name, pitfall 1),
# possible owners on the resource (not the group), cluster access for the service account, ENTSSO startup Manual
# on every node and no local ENTSSO outside the cluster (pitfall 2); then online. Never a registry checkpoint for
# ENTSSO (pitfall 3). Reaching the other nodes needs network credentials: the work runs delegated.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [string]$ResourceName = 'ENTSSO',
    [string]$ServiceName = 'ENTSSO',
    [Parameter(Mandatory = $true)][string]$ServiceAccount,
    [Parameter(Mandatory = $true)][string[]]$PossibleOwners,
    [Parameter(Mandatory = $true)][ValidateSet('CredSSP', 'ScheduledTask')][string]$DelegationMode,
    [string]$TaskUser,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [string]$TaskPassword
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if (-not (Get-ClusterGroup -Name $Name -ErrorAction SilentlyContinue)) { throw "The cluster group '$Name' was not found." }
$work = {
    param([string]$Name, [string]$ResourceName, [string]$ServiceName, [string]$ServiceAccount, [string[]]$PossibleOwners)
    $ErrorActionPreference = 'Stop'
    $actions = @()
    $resource = Get-ClusterResource -Name $ResourceName -ErrorAction SilentlyContinue
    $clusterOwner = if ($resource -and [string]$resource.State -eq 'Online') { $resource.OwnerNode.Name } else { '' }
    foreach ($node in $PossibleOwners) {
        $actions += Invoke-Command -ComputerName $node -ArgumentList $ServiceName, ($node -eq $clusterOwner) -ScriptBlock {
            param([string]$ServiceName, [bool]$ClusterRunsIt)
            $done = @()
            $service = Get-Service -Name $ServiceName
            if ([string]$service.StartType -ne 'Manual') {
                Set-Service -Name $ServiceName -StartupType Manual
                $done += "Set-Service $ServiceName -StartupType Manual on $env:COMPUTERNAME"
            }
            if (-not $ClusterRunsIt -and [string]$service.Status -eq 'Running') {
                Stop-Service -Name $ServiceName -Force
                $done += "Stop-Service $ServiceName on $env:COMPUTERNAME"
            }
            $done
        }
    }
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
    $granted = @(Get-ClusterAccess | Where-Object { [string]$_.IdentityReference -eq $ServiceAccount -and [string]$_.ClusterRights -eq 'Full' })
    if ($granted.Count -eq 0) {
        Grant-ClusterAccess -User $ServiceAccount -Full | Out-Null
        $actions += "Grant-ClusterAccess -User $ServiceAccount -Full"
    }
    if ($changed -and [string](Get-ClusterResource -Name $ResourceName).State -ne 'Offline') {
        Stop-ClusterResource -Name $ResourceName | Out-Null  # private properties apply on the next online
    }
    if ([string](Get-ClusterResource -Name $ResourceName).State -ne 'Online') {
        Start-ClusterResource -Name $ResourceName | Out-Null
        $actions += "Start-ClusterResource $ResourceName"
    }
    $actions
}
$arguments = @{ Name = $Name; ResourceName = $ResourceName; ServiceName = $ServiceName; ServiceAccount = $ServiceAccount; PossibleOwners = $PossibleOwners }
$actions = @(Invoke-Delegated -Work $work -Arguments $arguments -Mode $DelegationMode -User $TaskUser -Password $TaskPassword)
$state = Get-RoleState -Name $Name -ResourceName $ResourceName
$state.actions = $actions
$state
