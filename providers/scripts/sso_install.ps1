# Steps 1 and 6: silent install of the SSO master secret server binaries from the setup media on this node.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$InstallerPath,
    [string[]]$Features = @('WMI', 'BizTalk', 'AdditionalApps', 'SSOServer', 'SSOAdmin')
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Get-SsoState {
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
}

$actions = @()
if (-not (Get-Service -Name 'ENTSSO' -ErrorAction SilentlyContinue)) {
    if (-not (Test-Path -LiteralPath $InstallerPath -PathType Leaf)) { throw "Cannot find path '$InstallerPath' because it does not exist." }
    if ($Features -notcontains 'SSOServer') { throw 'The feature list must include SSOServer (ESSO Master Secret Server).' }
    # The log lives under the Windows temp directory, a path without spaces, so no argument needs quoting.
    $log = Join-Path $env:SystemRoot ('Temp\entsso-setup-{0}.log' -f [guid]::NewGuid().ToString('N'))
    $setup = Start-Process -FilePath $InstallerPath -ArgumentList @('/quiet', '/norestart', '/l', $log, '/ADDLOCAL', ($Features -join ',')) -Wait -PassThru
    if ($setup.ExitCode -notin 0, 3010) { throw "Setup exited with $($setup.ExitCode); see $log." }
    $actions += '{0} /quiet /ADDLOCAL {1}' -f (Split-Path -Leaf $InstallerPath), ($Features -join ',')
}
$state = Get-SsoState
$state.actions = $actions
$state
