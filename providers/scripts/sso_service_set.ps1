# Step 9 (and pitfall 2 afterwards): the local ENTSSO service state and startup type on this node. Start-Service
# waits for the service; ENTSSO may take about three minutes to start (F-SSO-03). The contract (parameters and
# result) is stable: the EntssoService provider calls it on every node.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidateSet('Running', 'Stopped')][string]$State,
    [Parameter(Mandatory = $true)][ValidateSet('Automatic', 'Manual', 'Disabled')][string]$StartupType
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# Win32_Service spells Automatic as Auto (F-SVC-01); Set-Service takes the ServiceStartMode name (F-SVC-02).
$modes = @{ Automatic = 'Auto'; Manual = 'Manual'; Disabled = 'Disabled' }
$actions = @()
Get-Service -Name 'ENTSSO' | Out-Null  # a missing service ends here with Windows' NoServiceFoundForGivenName (F-SVC-03)
$service = Get-CimInstance -ClassName Win32_Service -Filter "Name='ENTSSO'"
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
