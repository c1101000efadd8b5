# Test-Cluster before New-Cluster (storage tests are irrelevant with -NoStorage). Read-only. Test-Cluster reaches
# every node with the session's token, so it runs delegated (F-CLU-04, F-REM-03). A failed test is not an
# exception: it is a warning and a line in the report, and the last warning is the "Test Result" summary, which
# says whether the nodes were approved. Only an approved summary with no failed test passes; a warning such as
# Azure's single network path is listed and does not fail validation.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string[]]$Nodes,
    [Parameter(Mandatory = $true)][ValidateSet('CredSSP', 'ScheduledTask')][string]$DelegationMode,
    [string]$TaskUser,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [string]$TaskPassword
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$work = {
    param([string[]]$Nodes)
    $ErrorActionPreference = 'Stop'
    $found = @()
    $report = Test-Cluster -Node $Nodes -Include 'Inventory', 'Network', 'System Configuration' -WarningVariable found -WarningAction SilentlyContinue
    @{ report = [string](@($report) | Select-Object -First 1).FullName; warnings = @($found | ForEach-Object { [string]$_ }) }
}
$outcome = Invoke-Delegated -Work $work -Arguments @{ Nodes = $Nodes } -Mode $DelegationMode -User $TaskUser -Password $TaskPassword
$messages = @($outcome.warnings)
$summary = @($messages | Where-Object { $_ -match 'Test Result:' }) | Select-Object -First 1
$flags = @()
if ($summary -and $summary -match 'Test Result:\s*\r?\n\s*([^\r\n]+)') {
    $flags = @($Matches[1] -split ',' | ForEach-Object { $_.Trim() })
}
# A per-test line reads "<Category> - <Test>: <what happened>"; only "reported some warnings" is not a failure.
$tests = @($messages | Where-Object { $_ -notmatch 'Test Result:' -and $_ -match '^\s*[^\r\n]+? - [^\r\n]+?: ' })
$failures = @($tests | Where-Object { $_ -notmatch 'The test reported some warnings' } | ForEach-Object { $_.Trim() })
if (-not $summary) { $failures += "Test-Cluster wrote no 'Test Result' summary; read the report $($outcome.report)" }
$approved = $flags -contains 'ClusterApproved' -or $flags -contains 'ClusterConditionallyApproved'
[ordered]@{
    passed   = [bool]($approved -and $failures.Count -eq 0)
    nodes    = $Nodes
    result   = ($flags -join ', ')
    failures = $failures
    warnings = @($tests | Where-Object { $_ -match 'The test reported some warnings' } | ForEach-Object { $_.Trim() })
    report   = [string]$outcome.report
}
