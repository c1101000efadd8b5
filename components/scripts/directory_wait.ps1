<#
  Run Command "WaitForDirectory" (self-contained lab, directory.source create), on every machine that joins
  the lab's forest, before its JsonADDomainExtension. The domain join fails with error 1355 ("The specified
  domain either does not exist or could not be contacted") when it runs before the forest answers
  (github.com/mspnp/reference-architectures/issues/75): the DC promotes itself and restarts while the other
  VMs are already up. This script waits until the forest answers the way a join asks it:
    1. DNS: the DC's DNS server answers the SRV record _ldap._tcp.dc._msdcs.<forest>, which the DC locator
       looks up first (learn.microsoft.com/troubleshoot/windows-server/networking/verify-srv-dns-records-have-been-created);
    2. LDAP: the DC accepts TCP 389;
    3. the DC locator itself: nltest /dsgetdc:<forest> /force finds a DC (DsGetDcName, what the join calls),
       after Clear-DnsClientCache so that no negative answer cached while the forest was down lingers.
  It retries every RetrySeconds until TimeoutSeconds have passed, then fails with what was still missing.
  Idempotent: it reads only, and says how long it waited.
  Strings arrive base64-encoded (UTF-8): the Run Command passes parameters on a command line
  (learn.microsoft.com/azure/virtual-machines/windows/run-command-managed), so any character a name holds
  must survive whatever quoting that line gets.
  The last line of output is one JSON object.
  Everyday cmdlets, at learn.microsoft.com/powershell/module/: microsoft.powershell.core/set-strictmode, where-object,
  foreach-object, out-null; microsoft.powershell.utility/write-output, convertto-json, select-object, sort-object,
  get-date, start-sleep; microsoft.powershell.management/join-path.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DomainNameBase64,
    [Parameter(Mandatory = $true)][string]$DomainControllerAddress,
    [int]$TimeoutSeconds = 1800,
    [int]$RetrySeconds = 15
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$domainName = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($DomainNameBase64))
if ($DomainControllerAddress -notmatch '^\d{1,3}(\.\d{1,3}){3}$') {
    throw ('DomainControllerAddress {0} is not an IPv4 address' -f $DomainControllerAddress)
}
if ($TimeoutSeconds -lt 1 -or $RetrySeconds -lt 1) {
    throw 'TimeoutSeconds and RetrySeconds must be positive'
}

$srvName = '_ldap._tcp.dc._msdcs.{0}' -f $domainName
$started = Get-Date
$deadline = $started.AddSeconds($TimeoutSeconds)
$attempts = 0
$problem = 'not tried yet'
$targets = @()
$locatedDc = ''

while ($true) {
    $attempts += 1
    $srvAnswered = $false
    $ldapAnswered = $false
    try {
        # learn.microsoft.com/powershell/module/dnsclient/resolve-dnsname: -Server asks that DNS server directly.
        $answers = @(Resolve-DnsName -Name $srvName -Type SRV -Server $DomainControllerAddress -DnsOnly -QuickTimeout |
            Where-Object { $_.Section -eq 'Answer' -and $_.Type -eq 'SRV' })
        if ($answers.Count -gt 0) {
            $srvAnswered = $true
            $targets = @($answers | ForEach-Object { [string]$_.NameTarget })
        } else {
            $problem = ('DNS server {0} has no SRV record {1} yet' -f $DomainControllerAddress, $srvName)
        }
    } catch {
        $problem = ('DNS server {0} did not answer {1}: {2}' -f $DomainControllerAddress, $srvName, $_.Exception.Message)
    }
    if ($srvAnswered) {
        # learn.microsoft.com/powershell/module/nettcpip/test-netconnection: -InformationLevel Quiet returns a bool.
        $ldapAnswered = [bool](Test-NetConnection -ComputerName $DomainControllerAddress -Port 389 `
                -InformationLevel Quiet -WarningAction SilentlyContinue)
        if (-not $ldapAnswered) {
            $problem = ('LDAP (TCP 389) on {0} does not answer yet' -f $DomainControllerAddress)
        }
    }
    if ($ldapAnswered) {
        # learn.microsoft.com/powershell/module/dnsclient/clear-dnsclientcache
        Clear-DnsClientCache
        # nltest, learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2012-r2-and-2012/cc731935(v=ws.11)
        # (/dsgetdc: /force forces a fresh DC discovery). Its stdout is not redirected from stderr on
        # purpose: Windows PowerShell 5.1 turns redirected stderr into errors under 'Stop' (F-PS-07).
        $located = @(& nltest.exe ('/dsgetdc:{0}' -f $domainName) '/force')
        $exitCode = $LASTEXITCODE
        if ($exitCode -eq 0) {
            foreach ($line in $located) {
                if ([string]$line -match '^\s*DC:\s*\\\\(\S+)') { $locatedDc = $Matches[1] }
            }
            break
        }
        $lastLine = ($located | Where-Object { [string]$_ -ne '' } | Select-Object -Last 1)
        $problem = ('the DC locator (nltest /dsgetdc:{0}) failed with exit code {1}: {2}' -f $domainName, $exitCode, $lastLine)
    }
    if ((Get-Date) -ge $deadline) {
        throw ('The forest {0} did not answer within {1} s ({2} attempts): {3}. Check the DC''s CreateForest Run ' +
            'Command (its instance view), that the DC has restarted since, and that the NSG of snet-infra admits DNS ' +
            'and LDAP from this subnet.') -f $domainName, $TimeoutSeconds, $attempts, $problem
    }
    # learn.microsoft.com/powershell/module/microsoft.powershell.utility/start-sleep
    Start-Sleep -Seconds $RetrySeconds
}

$result = [ordered]@{
    ok            = $true
    changed       = $false
    domain        = $domainName
    dnsServer     = $DomainControllerAddress
    srvTargets    = @($targets)
    locatedDc     = $locatedDc
    attempts      = $attempts
    waitedSeconds = [int]((Get-Date) - $started).TotalSeconds
    message       = ('the forest {0} answers (SRV, LDAP, DC locator) after {1} attempt(s)' -f $domainName, $attempts)
}
Write-Output (ConvertTo-Json -InputObject $result -Compress)
