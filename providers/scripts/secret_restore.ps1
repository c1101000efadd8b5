# Steps 24-26: on the node that now owns the ENTSSO role (pitfall 4), restore the master secret from the local
# copy of the backup through ISSOConfigSS.RestoreSecret, delete the copy whatever happens, and verify the MSID.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$BackupFile,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$BackupPassword,
    [string]$ExpectedSecretId
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Get-SecretState {
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
    [ordered]@{ computerName = $env:COMPUTERNAME; present = [bool]$current; secretId = $current; previousSecretId = $previous; loaded = $loaded }
}

$state = Get-SecretState
$actions = @()
$existed = Test-Path -LiteralPath $BackupFile -PathType Leaf
try {
    if ($ExpectedSecretId -and $state.present -and $state.secretId -eq $ExpectedSecretId) {
        $actions = @()
    } else {
        if (-not $existed) { throw "ERROR: 0x80070002 : The system cannot find the file specified. ($BackupFile)" }
        Add-Type -Path (Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On\Microsoft.EnterpriseSingleSignOn.Interop.dll')
        $config = New-Object -TypeName 'Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM'
        $flags = [Reflection.BindingFlags]::InvokeMethod -bor [Reflection.BindingFlags]::Instance
        [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigSS].InvokeMember(
            'RestoreSecret', $flags, $null, $config, [object[]]@($BackupFile, $BackupPassword)) | Out-Null
        $actions += 'ISSOConfigSS.RestoreSecret'
    }
} finally {
    # The copy holds the secret: it never outlives this script.
    Remove-Item -LiteralPath $BackupFile -Force -ErrorAction SilentlyContinue
}
if ($existed) { $actions += "Remove-Item $BackupFile" }
$state = Get-SecretState
if ($ExpectedSecretId -and $state.secretId -ne $ExpectedSecretId) {
    throw "The restored secret is $($state.secretId), not the expected $ExpectedSecretId."
}
$state.fileRemoved = $existed -and -not (Test-Path -LiteralPath $BackupFile)
$state.actions = $actions
$state
