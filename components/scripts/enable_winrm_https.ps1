<#
  Run by the managed Run Command "EnableWinRmHttps" after the node joined the domain.
  Makes WinRM reachable over HTTPS only from the admin CIDR, and installs Failover Clustering.
  Idempotent: a re-run reuses the certificate, listener and firewall rule it made before.
  The last line of output is one JSON object; its "thumbprint" is what the runner pins.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DomainFqdn,
    [Parameter(Mandatory = $true)][string]$AdminCidr,
    [int]$Port = 5986
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
    restartNeeded = [string]$install.RestartNeeded
    thumbprint    = $thumbprint
}
Write-Output (ConvertTo-Json -InputObject $result -Compress)
