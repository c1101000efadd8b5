# Which Windows features (Failover-Clustering, RSAT tools) are installed on this node, and whether one waits for a
# restart (InstallState InstallPending: installed, active after the restart). Read-only.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string[]]$Features
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$found = @(Get-WindowsFeature -Name $Features)
[ordered]@{
    computerName  = $env:COMPUTERNAME
    features      = @(foreach ($name in $Features) {
            $feature = $found | Where-Object { $_.Name -eq $name } | Select-Object -First 1
            [ordered]@{ name = $name; installed = [bool]($feature -and $feature.Installed) }
        })
    restartNeeded = [bool]@($found | Where-Object { [string]$_.InstallState -eq 'InstallPending' }).Count
}
