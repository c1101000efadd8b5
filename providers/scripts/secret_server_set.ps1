# Steps 10-13: point SSODB's secret server at the role's network name with `ssomanage -updatedb`. The file holds
# only <secretServer> (F-SSO-14: from a computer that is not the master, an admin element makes -updatedb fail).
# ssomanage works through the running local SSO service (F-SSO-13), so ENTSSO must be running on this node; the
# SecretServerName provider starts it on the Create node first. MSDTC noise is expected before DTC is clustered
# (F-SSO-17: ignore it), and the exit code is not documented (F-SSO-16), so the result is re-read, not trusted.
# The reads (GetDBInfo) run delegated (F-SSO-09); ssomanage itself reaches SQL through the service's own logon.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$SecretServer,
    [Parameter(Mandatory = $true)][string]$SqlServer,
    [Parameter(Mandatory = $true)][string]$Database,
    [Parameter(Mandatory = $true)][ValidateSet('CredSSP', 'ScheduledTask')][string]$DelegationMode,
    [string]$TaskUser,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [string]$TaskPassword
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$delegation = @{ DelegationMode = $DelegationMode; TaskUser = $TaskUser; TaskPassword = $TaskPassword }
$state = Get-SecretServer -SqlServer $SqlServer -Database $Database @delegation
if (-not $state.exists) { throw "The SSO database '$Database' does not exist on '$SqlServer'." }
if ($state.secretServer -eq $SecretServer) {
    $state.actions = @()
    $state.warnings = @()
    return $state
}
$service = Get-CimInstance -ClassName Win32_Service -Filter "Name='ENTSSO'"
if (-not $service -or $service.State -ne 'Running') {
    throw "ssomanage -updatedb works through the running SSO service (F-SSO-13), and ENTSSO is not running on $($env:COMPUTERNAME): start it first."
}
$file = Join-Path $env:SystemRoot ('Temp\entsso-updatedb-{0}.xml' -f [guid]::NewGuid().ToString('N'))
$writer = [Xml.XmlWriter]::Create($file)
try {
    $writer.WriteStartElement('sso')
    $writer.WriteStartElement('globalInfo')
    $writer.WriteElementString('secretServer', $SecretServer)
    $writer.WriteEndElement()
    $writer.WriteEndElement()
} finally {
    $writer.Close()
}
try {
    # ssomanage writes its errors to stderr; under 'Stop' Windows PowerShell would turn them into a terminating error.
    $output = & { $ErrorActionPreference = 'Continue'; & (Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On\ssomanage.exe') -updatedb $file 2>&1 }
} finally {
    Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue
}
$state = Get-SecretServer -SqlServer $SqlServer -Database $Database @delegation
if ($state.secretServer -ne $SecretServer) {
    throw ('ssomanage -updatedb did not change the secret server name to {0}: {1}' -f $SecretServer, (@($output) -join ' '))
}
$state.actions = @("ssomanage -updatedb (secretServer=$SecretServer)")
$state.warnings = @($output | ForEach-Object { [string]$_ } | Where-Object { $_ -match '^ERROR' })
$state
