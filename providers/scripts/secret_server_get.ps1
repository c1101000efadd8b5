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
$config = New-Object -TypeName 'Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM'
$flags = [Reflection.BindingFlags]::InvokeMethod -bor [Reflection.BindingFlags]::Instance
# GetDBInfo(server, db, out exists, out isConfigured, out needsUpgrade, out secretServer, out admin, out affiliate):
# reflection writes the out values back into this array.
$info = [object[]]@($SqlServer, $Database, $false, $false, $false, '', '', '')
[Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigDB].InvokeMember('GetDBInfo', $flags, $null, $config, $info) | Out-Null
[ordered]@{
    sqlServer           = $SqlServer
    database            = $Database
    exists              = [bool]$info[2]
    secretServer        = [string]$info[5]
    adminGroup          = [string]$info[6]
    affiliateAdminGroup = [string]$info[7]
}
