# Test-Cluster before New-Cluster (storage tests are irrelevant with -NoStorage). Read-only: a failed
# validation is reported, not thrown. Azure's single-network warning is expected and only listed.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string[]]$Nodes
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$failures = @()
$warnings = @()
try {
    Test-Cluster -Node $Nodes -Include 'Inventory', 'Network', 'System Configuration' -WarningVariable warnings -WarningAction SilentlyContinue | Out-Null
} catch {
    $failures = @($_.Exception.Message)
}
[ordered]@{
    passed   = $failures.Count -eq 0
    nodes    = $Nodes
    failures = $failures
    warnings = @($warnings | ForEach-Object { [string]$_ })
}
