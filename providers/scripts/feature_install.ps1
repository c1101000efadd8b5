# Procedure prerequisite: install the Failover Clustering feature and its tools where missing. A feature already
# installed, or installed and waiting for a restart (InstallPending), is not installed again; restartNeeded says
# whether this node must restart before the features work.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string[]]$Features
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$actions = @()
$present = @(Get-WindowsFeature -Name $Features | Where-Object { [string]$_.InstallState -in 'Installed', 'InstallPending' } |
        ForEach-Object { $_.Name })
$missing = @($Features | Where-Object { $present -notcontains $_ })
if ($missing.Count -gt 0) {
    $outcome = Install-WindowsFeature -Name $missing -IncludeManagementTools
    if (-not $outcome.Success) { throw "Install-WindowsFeature failed for $($missing -join ', ')." }
    $actions = @($missing | ForEach-Object { "Install-WindowsFeature $_" })
}
$installed = @(Get-WindowsFeature -Name $Features)
[ordered]@{
    computerName  = $env:COMPUTERNAME
    features      = @(foreach ($name in $Features) {
            $feature = $installed | Where-Object { $_.Name -eq $name } | Select-Object -First 1
            [ordered]@{ name = $name; installed = [bool]($feature -and $feature.Installed) }
        })
    restartNeeded = [bool]@($installed | Where-Object { [string]$_.InstallState -eq 'InstallPending' }).Count
    actions       = $actions
}
