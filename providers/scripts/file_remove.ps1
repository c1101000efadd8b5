# SecretBackup/SecretRestore delete: remove a file (a backup copy) from this node if it is there.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$actions = @()
if (Test-Path -LiteralPath $Path -PathType Leaf) {
    Remove-Item -LiteralPath $Path -Force
    $actions += "Remove-Item $Path"
}
[ordered]@{ computerName = $env:COMPUTERNAME; path = $Path; exists = $false; length = 0; sha256 = ''; actions = $actions }
