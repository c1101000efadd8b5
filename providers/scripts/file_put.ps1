# Step 25: copy the backup file to this node. The bytes arrive base64 with their expected SHA-256; nothing is
# written unless they match, and an identical file is left alone. The folder is private, as the backup's own
# (finding 21): SYSTEM, Administrators and the SSO administrators' group, whose service account restores from it.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$ContentBase64,
    [Parameter(Mandatory = $true)][string]$Sha256,
    [string]$AdminGroup
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$bytes = [Convert]::FromBase64String($ContentBase64)
$hasher = [Security.Cryptography.SHA256]::Create()
try { $actual = [BitConverter]::ToString($hasher.ComputeHash($bytes)).Replace('-', '') } finally { $hasher.Dispose() }
if ($actual -ne $Sha256) { throw "The content's SHA-256 is $actual, not the expected $Sha256; nothing was written." }
$actions = @(Set-PrivateDirectory -Path (Split-Path -Parent $Path) -AdminGroup $AdminGroup)
$present = (Test-Path -LiteralPath $Path -PathType Leaf) -and (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash -eq $actual
if (-not $present) {
    [IO.File]::WriteAllBytes($Path, $bytes)
    $actions += "write $Path"
}
[ordered]@{
    computerName = $env:COMPUTERNAME
    path         = $Path
    exists       = $true
    length       = $bytes.Length
    sha256       = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash
    actions      = $actions
}
