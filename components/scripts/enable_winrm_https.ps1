<#
  Run by the managed Run Command "EnableWinRmHttps" after the node joined the domain.
  Makes WinRM reachable over HTTPS only from the admin CIDR, opens the internal load balancer's
  health probe ports to Azure's probe source only, and installs Failover Clustering.
  Idempotent: a re-run reuses the certificate, listener and firewall rules it made before.
  The last line of output is one JSON object; its "thumbprint" is what the runner pins.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DomainFqdn,
    [Parameter(Mandatory = $true)][string]$AdminCidr,
    [int]$Port = 5986,
    # Comma-separated TCP ports, one per clustered IP behind the internal load balancer (59999,59998).
    [string]$ProbePorts = ''
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$computerName = $env:COMPUTERNAME
$fqdn = '{0}.{1}' -f $computerName, $DomainFqdn
$subject = 'CN={0}' -f $fqdn
$now = Get-Date

# Reuse a certificate this script made before while it has 30 days left, so the pinned
# thumbprint survives a re-run of the Run Command.
$certificate = Get-ChildItem -Path 'Cert:\LocalMachine\My' |
    Where-Object { $_.Subject -eq $subject -and $_.HasPrivateKey -and $_.NotAfter -gt $now.AddDays(30) } |
    Sort-Object -Property NotAfter -Descending |
    Select-Object -First 1
if ($null -eq $certificate) {
    $certificate = New-SelfSignedCertificate -DnsName @($fqdn, $computerName) `
        -CertStoreLocation 'Cert:\LocalMachine\My' -NotAfter $now.AddYears(2) `
        -KeyAlgorithm RSA -KeyLength 3072 -KeyExportPolicy NonExportable `
        -FriendlyName 'entsso-cluster WinRM HTTPS'
}
$thumbprint = $certificate.Thumbprint

Set-Service -Name WinRM -StartupType Automatic
Start-Service -Name WinRM

$selector = @{ Address = '*'; Transport = 'HTTPS' }
$listenerValues = @{ Hostname = $fqdn; CertificateThumbprint = $thumbprint; Port = $Port }
$listener = $null
try {
    $listener = Get-WSManInstance -ResourceURI 'winrm/config/Listener' -SelectorSet $selector
} catch {
    $listener = $null
}
if ($null -eq $listener) {
    New-WSManInstance -ResourceURI 'winrm/config/Listener' -SelectorSet $selector -ValueSet $listenerValues | Out-Null
} elseif ($listener.CertificateThumbprint -ne $thumbprint -or [int]$listener.Port -ne $Port -or $listener.Hostname -ne $fqdn) {
    Set-WSManInstance -ResourceURI 'winrm/config/Listener' -SelectorSet $selector -ValueSet $listenerValues | Out-Null
}

# Credentials never travel in a form a listener could replay: no Basic, no unencrypted payloads.
Set-Item -Path 'WSMan:\localhost\Service\Auth\Basic' -Value $false
Set-Item -Path 'WSMan:\localhost\Service\AllowUnencrypted' -Value $false

$ruleName = 'entsso-WinRM-HTTPS-In'
$rule = Get-NetFirewallRule -Name $ruleName -ErrorAction SilentlyContinue
if ($null -eq $rule) {
    New-NetFirewallRule -Name $ruleName -DisplayName 'WinRM over HTTPS (entsso-cluster)' -Direction Inbound `
        -Protocol TCP -LocalPort $Port -RemoteAddress $AdminCidr -Action Allow -Profile Any | Out-Null
} else {
    Set-NetFirewallRule -Name $ruleName -Direction Inbound -Protocol TCP -LocalPort $Port `
        -RemoteAddress $AdminCidr -Action Allow -Profile Any -Enabled True | Out-Null
}

# The Azure load balancer probes every backend on each clustered IP's probe port; only the node that
# owns the IP answers, so the frontend follows the role. Probes come from 168.63.129.16
# (learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16) and the port must be
# open in the guest ("the port you created in the firewall for the health probe",
# learn.microsoft.com/azure/azure-sql/virtual-machines/windows/failover-cluster-instance-vnn-azure-load-balancer-configure).
$probeSource = '168.63.129.16'
$probeList = @($ProbePorts -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ -ne '' })
foreach ($probe in $probeList) {
    if ($probe -notmatch '^\d{1,5}$' -or [int]$probe -lt 1 -or [int]$probe -gt 65535) {
        throw ('ProbePorts holds {0}, which is not a TCP port' -f $probe)
    }
}
$probeRuleName = 'entsso-LB-Probe-In'
$probeRule = Get-NetFirewallRule -Name $probeRuleName -ErrorAction SilentlyContinue
if ($probeList.Count -eq 0) {
    if ($null -ne $probeRule) { Remove-NetFirewallRule -Name $probeRuleName }
} elseif ($null -eq $probeRule) {
    New-NetFirewallRule -Name $probeRuleName -DisplayName 'Azure load balancer probes (entsso-cluster)' `
        -Direction Inbound -Protocol TCP -LocalPort $probeList -RemoteAddress $probeSource -Action Allow `
        -Profile Any | Out-Null
} else {
    Set-NetFirewallRule -Name $probeRuleName -Direction Inbound -Protocol TCP -LocalPort $probeList `
        -RemoteAddress $probeSource -Action Allow -Profile Any -Enabled True | Out-Null
}

$features = @('Failover-Clustering', 'RSAT-Clustering-PowerShell', 'RSAT-Clustering-CmdInterface', 'RSAT-AD-PowerShell')
$install = Install-WindowsFeature -Name $features -IncludeManagementTools
if (-not $install.Success) {
    throw ('Install-WindowsFeature did not succeed for: {0}' -f ($features -join ', '))
}

$result = [ordered]@{
    ok            = $true
    computerName  = $computerName
    fqdn          = $fqdn
    port          = $Port
    probePorts    = @($probeList | ForEach-Object { [int]$_ })
    restartNeeded = [string]$install.RestartNeeded
    thumbprint    = $thumbprint
}
Write-Output (ConvertTo-Json -InputObject $result -Compress)
