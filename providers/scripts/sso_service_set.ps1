# Step 9 (and pitfall 2 afterwards): the local ENTSSO service state and startup type on this node.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidateSet('Running', 'Stopped')][string]$State,
    [Parameter(Mandatory = $true)][ValidateSet('Automatic', 'Manual', 'Disabled')][string]$StartupType
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$modes = @{ Automatic = 'Auto'; Manual = 'Manual'; Disabled = 'Disabled' }
$actions = @()
$service = Get-CimInstance -ClassName Win32_Service -Filter "Name='ENTSSO'"
if (-not $service) { throw "Cannot find any service with service name 'ENTSSO'." }
if ($service.StartMode -ne $modes[$StartupType]) {
    Set-Service -Name 'ENTSSO' -StartupType $StartupType
    $actions += "Set-Service ENTSSO -StartupType $StartupType"
}
if ($State -eq 'Running' -and $service.State -ne 'Running') {
    Start-Service -Name 'ENTSSO'
    $actions += 'Start-Service ENTSSO'
} elseif ($State -eq 'Stopped' -and $service.State -ne 'Stopped') {
    Stop-Service -Name 'ENTSSO' -Force
    $actions += 'Stop-Service ENTSSO'
}
$service = Get-CimInstance -ClassName Win32_Service -Filter "Name='ENTSSO'"
[ordered]@{
    computerName = $env:COMPUTERNAME
    name         = 'ENTSSO'
    state        = [string]$service.State
    startMode    = [string]$service.StartMode
    account      = [string]$service.StartName
    actions      = $actions
}
