# Steps 1 and 6: silent install of the SSO master secret server binaries from the setup media on this node.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$InstallerPath,
    [string[]]$Features = @('WMI', 'BizTalk', 'AdditionalApps', 'SSOServer', 'SSOAdmin')
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

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
