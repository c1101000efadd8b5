# Step 5: back up the master secret through the COM API (ISSOConfigSS.BackupSecret, never the interactive
# ssoconfig), then read the file back so the provider can escrow it: length, SHA-256 and the bytes (base64).
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$BackupFile,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$BackupPassword,
    [Parameter(Mandatory = $true)][string]$BackupReminder
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$directory = Split-Path -Parent $BackupFile
if (-not (Test-Path -LiteralPath $directory)) { New-Item -ItemType Directory -Path $directory -Force | Out-Null }
Add-Type -Path (Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On\Microsoft.EnterpriseSingleSignOn.Interop.dll')
$config = New-Object -TypeName 'Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM'
$flags = [Reflection.BindingFlags]::InvokeMethod -bor [Reflection.BindingFlags]::Instance
[Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigSS].InvokeMember(
    'BackupSecret', $flags, $null, $config, [object[]]@($BackupFile, $BackupPassword, $BackupReminder)) | Out-Null

$bytes = [IO.File]::ReadAllBytes($BackupFile)
$sha256 = [Security.Cryptography.SHA256]::Create()
try { $hash = [BitConverter]::ToString($sha256.ComputeHash($bytes)).Replace('-', '') } finally { $sha256.Dispose() }
# The GUID-named subkey under SSOSS is the secret's MSID (esso.md section 5).
$current = (Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\ENTSSO\SSOSS' -Name 'CurrentMSID' -ErrorAction SilentlyContinue)
[ordered]@{
    computerName  = $env:COMPUTERNAME
    path          = $BackupFile
    exists        = $true
    length        = $bytes.Length
    sha256        = $hash
    secretId      = if ($current) { [string]$current.CurrentMSID } else { '' }
    contentBase64 = [Convert]::ToBase64String($bytes)
}
