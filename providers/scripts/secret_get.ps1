# Step 26 probe: is the master secret present on this node (its MSID under HKLM\...\ENTSSO\SSOSS) and is the
# running ENTSSO using it (10534/10523 after its start, not 10520/10521/10565). Never the secret itself. Read-only.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = 'HKLM:\SOFTWARE\Microsoft\ENTSSO\SSOSS'
$current = ''
$previous = ''
if (Test-Path -LiteralPath $root) {
    $current = [string](Get-ItemProperty -LiteralPath $root -ErrorAction SilentlyContinue).CurrentMSID
    if ($current -and (Test-Path -LiteralPath (Join-Path $root $current))) {
        $previous = [string](Get-ItemProperty -LiteralPath (Join-Path $root $current)).PreviousMSID
    } else {
        $current = ''
    }
}
$loaded = $false
$service = Get-CimInstance -ClassName Win32_Service -Filter "Name='ENTSSO'"
if ($current -and $service -and $service.State -eq 'Running') {
    $started = (Get-Process -Id $service.ProcessId).StartTime
    $filter = @{ LogName = 'Application'; ProviderName = 'ENTSSO'; Id = 10520, 10521, 10523, 10534, 10565; StartTime = $started }
    $latest = Get-WinEvent -FilterHashtable $filter -MaxEvents 1 -ErrorAction SilentlyContinue
    $loaded = [bool]($latest -and $latest.Id -in 10523, 10534)
}
[ordered]@{
    computerName     = $env:COMPUTERNAME
    present          = [bool]$current
    secretId         = $current
    previousSecretId = $previous
    loaded           = $loaded
}
