# Steps 24-26: on the node that now owns the ENTSSO role (pitfall 4), restore the master secret from the local copy
# of the backup through ISSOConfigSS.RestoreSecret, delete the copy whatever happens, and verify the MSID. The
# restore needs the local ENTSSO running as the master secret server (F-SSO-11); a COM failure reports ENTSSO's
# HRESULT (0xC0002A1B: a wrong password).
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$BackupFile,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$BackupPassword,
    [string]$ExpectedSecretId
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$state = Get-SecretState
$actions = @()
$existed = Test-Path -LiteralPath $BackupFile -PathType Leaf
try {
    if (-not ($ExpectedSecretId -and $state.present -and $state.secretId -eq $ExpectedSecretId)) {
        if (-not $existed) { throw "Cannot find the backup copy '$BackupFile' on $($env:COMPUTERNAME): copy it with file_put first." }
        Invoke-SsoComMember -Interface 'ISSOConfigSS' -Member 'RestoreSecret' -Arguments @($BackupFile, $BackupPassword)
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
