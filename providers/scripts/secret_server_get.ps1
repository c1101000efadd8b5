# Steps 10-13 probe: what SSODB's global information holds (the secret server name, the admin groups), read with
# ISSOConfigDB.GetDBInfo. GetDBInfo connects to SQL Server as the caller (F-SSO-09): the read runs delegated, or
# SQL Server sees an anonymous logon. It does not need ENTSSO running (assumed, F-SSO-09). Read-only.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$SqlServer,
    [Parameter(Mandatory = $true)][string]$Database,
    [Parameter(Mandatory = $true)][ValidateSet('CredSSP', 'ScheduledTask')][string]$DelegationMode,
    [string]$TaskUser,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [string]$TaskPassword
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

Get-SecretServer -SqlServer $SqlServer -Database $Database -DelegationMode $DelegationMode -TaskUser $TaskUser -TaskPassword $TaskPassword
