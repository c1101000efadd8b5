# Steps 10-13 probe: what SSODB's global information holds (the secret server name, the admin groups), read with
# ISSOConfigDB.GetDBInfo, which works while ENTSSO is stopped. Read-only.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$SqlServer,
    [Parameter(Mandatory = $true)][string]$Database
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

Add-Type -Path (Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On\Microsoft.EnterpriseSingleSignOn.Interop.dll')
Get-SecretServer -SqlServer $SqlServer -Database $Database
