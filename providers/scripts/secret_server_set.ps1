# Steps 10-13: point SSODB's secret server at the role's network name with `ssomanage -updatedb`. The file holds
# only <secretServer> (S4: from a computer that is not the master, an admin element makes -updatedb fail).
# MSDTC noise is expected before DTC is clustered (step 13: ignore it), so the result is re-read, not trusted.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$SecretServer,
    [Parameter(Mandatory = $true)][string]$SqlServer,
    [Parameter(Mandatory = $true)][string]$Database
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ssoDir = Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On'
Add-Type -Path (Join-Path $ssoDir 'Microsoft.EnterpriseSingleSignOn.Interop.dll')

$state = Get-SecretServer -SqlServer $SqlServer -Database $Database
if (-not $state.exists) { throw "The SSO database '$Database' does not exist on '$SqlServer'." }
if ($state.secretServer -eq $SecretServer) {
    $state.actions = @()
    $state.warnings = @()
    return $state
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
    # ssomanage writes DTC errors to stderr; under 'Stop' Windows PowerShell would turn them into a terminating error.
    $output = & { $ErrorActionPreference = 'Continue'; & (Join-Path $ssoDir 'ssomanage.exe') -updatedb $file 2>&1 }
} finally {
    Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue
}
$state = Get-SecretServer -SqlServer $SqlServer -Database $Database
if ($state.secretServer -ne $SecretServer) {
    throw ('ssomanage -updatedb did not change the secret server name to {0}: {1}' -f $SecretServer, (@($output) -join ' '))
}
$state.actions = @("ssomanage -updatedb (secretServer=$SecretServer)")
$state.warnings = @($output | ForEach-Object { [string]$_ } | Where-Object { $_ -match '^ERROR' })
$state
