# Steps 1-4, 6-8 probe: is ENTSSO installed and configured on this node, against which SQL Server and SSODB,
# and how does the service run. Read-only.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$service = Get-CimInstance -ClassName Win32_Service -Filter "Name='ENTSSO'"
$sql = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\ENTSSO\SQL' -ErrorAction SilentlyContinue
[ordered]@{
    computerName = $env:COMPUTERNAME
    installed    = [bool]$service
    configured   = [bool]($sql -and $sql.Server)
    sqlServer    = if ($sql) { [string]$sql.Server } else { '' }
    database     = if ($sql) { [string]$sql.Database } else { '' }
    service      = if ($service) {
        [ordered]@{ name = 'ENTSSO'; state = [string]$service.State; startMode = [string]$service.StartMode; account = [string]$service.StartName }
    } else { $null }
}
