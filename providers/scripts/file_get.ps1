# SecretBackup/SecretRestore probe: is a file on this node, how long, its SHA-256. Never its content. Read-only.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$exists = Test-Path -LiteralPath $Path -PathType Leaf
[ordered]@{
    computerName = $env:COMPUTERNAME
    path         = $Path
    exists       = $exists
    length       = if ($exists) { (Get-Item -LiteralPath $Path).Length } else { 0 }
    sha256       = if ($exists) { (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash } else { '' }
}
