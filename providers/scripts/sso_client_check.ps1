# After steps 23-26 and every failover, on the node that owns the ENTSSO role: does the SSO server here serve the
# master secret? Read-only: it writes no backup and no file (finding 8). It asks the running SSO service for its
# status (ISSOConfigOM.GetServerStatus: the name it answers as and the SSODB it uses, F-SSO-08), and reads ENTSSO's
# events since the service started: 10534 "This computer is the master secret server." (logged only when the name
# it answers as is SSODB's secret server, F-SSO-19) and the secret loaded (10534/10523 after any 10520/10521/10565,
# F-SSO-25). No SQL connection of its own, so it needs no delegated credentials (F-SSO-09 concerns GetDBInfo).
# Returns the reason instead of throwing.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$SqlServer,
    [Parameter(Mandatory = $true)][string]$Database
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$result = [ordered]@{ computerName = $env:COMPUTERNAME; ok = $false; secretServer = ''; error = '' }
$sso = Get-SsoState
if (-not $sso.service -or $sso.service.state -ne 'Running') {
    $result.error = "ENTSSO is not running on $($env:COMPUTERNAME)."
    return $result
}
$status = [object[]]@(0, '', '', '', '', '', '', 0, 0, 0, 0, 0, 0, 0, 0, 0)
try {
    Invoke-SsoComMember -Interface 'ISSOConfigOM' -Member 'GetServerStatus' -Arguments $status
} catch {
    $result.error = $_.Exception.Message
    return $result
}
$answersAs = [string]$status[1]
if ([string]$status[2] -ne $SqlServer -or [string]$status[3] -ne $Database) {
    $result.error = "ENTSSO on $($env:COMPUTERNAME) uses $($status[2])\$($status[3]), not $SqlServer\$Database."
    return $result
}
if (-not (Get-SsoStartEvent -Id 10534)) {
    $result.error = "ENTSSO on $($env:COMPUTERNAME) answers as '$answersAs' and has not logged 10534 (This computer is the master secret server.) since it started: it is not the master secret server."
    return $result
}
$result.secretServer = $answersAs
$secret = Get-SecretState
if (-not $secret.loaded) {
    $latest = Get-SsoStartEvent -Id 10520, 10521, 10565
    $result.error = "The master secret server $answersAs on $($env:COMPUTERNAME) has not loaded the master secret since it started$(if ($latest) { " (event $($latest.Id): $($latest.Message))" })."
    return $result
}
$result.ok = $true
$result
