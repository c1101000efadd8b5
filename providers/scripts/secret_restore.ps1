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
