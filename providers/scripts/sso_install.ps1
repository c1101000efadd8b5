# Steps 1 and 6: silent install of the SSO master secret server binaries from the setup media on this node.
# BizTalk: setup.exe /quiet /norestart /l <log> /ADDLOCAL <features> (F-SSO-26). Host Integration Server: the .msi
# through msiexec /i <package> /quiet (F-SSO-27); its ESSO-only feature names are not documented, so ADDLOCAL is
# sent only when Features is given.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$InstallerPath,
    [string[]]$Features = @('WMI', 'BizTalk', 'AdditionalApps', 'SSOServer', 'SSOAdmin'),
    [ValidateSet('BizTalk', 'HIS')][string]$Product = 'BizTalk'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$actions = @()
if (-not (Get-Service -Name 'ENTSSO' -ErrorAction SilentlyContinue)) {
    if (-not (Test-Path -LiteralPath $InstallerPath -PathType Leaf)) { throw "Cannot find path '$InstallerPath' because it does not exist." }
    # The log lives under the Windows temp directory, a path without spaces, so no argument needs quoting.
    $log = Join-Path $env:SystemRoot ('Temp\entsso-setup-{0}.log' -f [guid]::NewGuid().ToString('N'))
    if ($Product -eq 'HIS') {
        # Start-Process joins ArgumentList with spaces: the package path is quoted for msiexec.
        $arguments = @('/i', ('"{0}"' -f $InstallerPath), '/quiet', '/norestart', '/l*v', $log)
        if ($PSBoundParameters.ContainsKey('Features')) { $arguments += 'ADDLOCAL=' + ($Features -join ',') }
        $setup = Start-Process -FilePath (Join-Path $env:SystemRoot 'System32\msiexec.exe') -ArgumentList $arguments -Wait -PassThru
        $done = 'msiexec /i {0} /quiet' -f (Split-Path -Leaf $InstallerPath)
    } else {
        if ($Features -notcontains 'SSOServer') { throw 'The feature list must include SSOServer (ESSO Master Secret Server).' }
        $setup = Start-Process -FilePath $InstallerPath -ArgumentList @('/quiet', '/norestart', '/l', $log, '/ADDLOCAL', ($Features -join ',')) -Wait -PassThru
        $done = '{0} /quiet /ADDLOCAL {1}' -f (Split-Path -Leaf $InstallerPath), ($Features -join ',')
    }
    # 0 is success; 3010 is Windows Installer's "success, restart required" (F-SVC-05; for setup.exe assumed).
    if ($setup.ExitCode -notin 0, 3010) { throw "Setup exited with $($setup.ExitCode); see $log." }
    $actions += $done
}
$state = Get-SsoState
$state.actions = $actions
$state
