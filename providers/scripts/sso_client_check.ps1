# After steps 23-26 and every failover: can the master secret be fetched from the secret server SSODB names?
# Run on the node that owns the ENTSSO role. It asks for a backup through ISSOConfigSS.BackupSecret, which goes
# to the secret server by its network name over RPC (the call that fails with 0x800706D9 in S15), into a
# throwaway file under a random password, deleted at once. Returns Windows' error text instead of throwing.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$SqlServer,
    [Parameter(Mandatory = $true)][string]$Database
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$result = [ordered]@{ computerName = $env:COMPUTERNAME; ok = $false; secretServer = ''; error = '' }
$probe = Join-Path $env:SystemRoot ('Temp\entsso-probe-{0}.bak' -f [guid]::NewGuid().ToString('N'))
try {
    Add-Type -Path (Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On\Microsoft.EnterpriseSingleSignOn.Interop.dll')
    $config = New-Object -TypeName 'Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM'
    $flags = [Reflection.BindingFlags]::InvokeMethod -bor [Reflection.BindingFlags]::Instance
    $info = [object[]]@($SqlServer, $Database, $false, $false, $false, '', '', '')
    [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigDB].InvokeMember('GetDBInfo', $flags, $null, $config, $info) | Out-Null
    $result.secretServer = [string]$info[5]
    $random = New-Object -TypeName byte[] -ArgumentList 24
    [Security.Cryptography.RandomNumberGenerator]::Create().GetBytes($random)
    $password = [Convert]::ToBase64String($random) + 'a1!'
    [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigSS].InvokeMember(
        'BackupSecret', $flags, $null, $config, [object[]]@($probe, $password, 'client check')) | Out-Null
    $result.ok = $true
} catch {
    $failure = $_.Exception
    while ($failure.InnerException) { $failure = $failure.InnerException }
    $result.error = $failure.Message
} finally {
    Remove-Item -LiteralPath $probe -Force -ErrorAction SilentlyContinue
}
$result
