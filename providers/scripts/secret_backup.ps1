# Step 5: back up the master secret through the COM API (ISSOConfigSS.BackupSecret, never the interactive
# ssoconfig), then read the file back so the provider can escrow it: length, SHA-256 and the bytes (base64).
# The backup's folder is private (finding 21): SYSTEM, Administrators and the SSO administrators' group only,
# protected from inheritance. A COM failure reports ENTSSO's HRESULT: 0xC0002A0F when no SSO service runs here,
# 0xC0002A0E when it runs but is not the master secret server (F-SSO-10).
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$BackupFile,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$BackupPassword,
    [Parameter(Mandatory = $true)][string]$BackupReminder,
    [string]$AdminGroup
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$actions = @(Set-PrivateDirectory -Path (Split-Path -Parent $BackupFile) -AdminGroup $AdminGroup)
Invoke-SsoComMember -Interface 'ISSOConfigSS' -Member 'BackupSecret' -Arguments @($BackupFile, $BackupPassword, $BackupReminder)
$actions += 'ISSOConfigSS.BackupSecret'

$bytes = [IO.File]::ReadAllBytes($BackupFile)
$sha256 = [Security.Cryptography.SHA256]::Create()
try { $hash = [BitConverter]::ToString($sha256.ComputeHash($bytes)).Replace('-', '') } finally { $sha256.Dispose() }
[ordered]@{
    computerName  = $env:COMPUTERNAME
    path          = $BackupFile
    exists        = $true
    length        = $bytes.Length
    sha256        = $hash
    secretId      = (Get-SecretState).secretId
    contentBase64 = [Convert]::ToBase64String($bytes)
    actions       = $actions
}
