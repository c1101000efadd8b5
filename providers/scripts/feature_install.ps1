# Procedure prerequisite: install the Failover Clustering feature and its tools where missing.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string[]]$Features
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$actions = @()
$restart = $false
$missing = @(Get-WindowsFeature -Name $Features | Where-Object { -not $_.Installed } | ForEach-Object { $_.Name })
if ($missing.Count -gt 0) {
    $outcome = Install-WindowsFeature -Name $missing -IncludeManagementTools
    if (-not $outcome.Success) { throw "Install-WindowsFeature failed for $($missing -join ', ')." }
    $restart = [string]$outcome.RestartNeeded -eq 'Yes'
    $actions = @($missing | ForEach-Object { "Install-WindowsFeature $_" })
}
$installed = @(Get-WindowsFeature -Name $Features)
[ordered]@{
    computerName  = $env:COMPUTERNAME
    features      = @(foreach ($name in $Features) {
            $feature = $installed | Where-Object { $_.Name -eq $name } | Select-Object -First 1
            [ordered]@{ name = $name; installed = [bool]($feature -and $feature.Installed) }
        })
    restartNeeded = $restart
    actions       = $actions
}
