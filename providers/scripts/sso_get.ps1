# Steps 1-4, 6-8 probe: is ENTSSO installed and configured on this node, against which SQL Server and SSODB,
# and how does the service run. Read-only.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

Get-SsoState
