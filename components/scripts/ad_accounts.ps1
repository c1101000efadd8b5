<#
  Run Command "DirectoryAccounts" on the self-contained lab's domain controller, after the forest answers.
  Creates what the procedure expects to find in the domain (README "Deploy to Azure", prerequisites):
    - the install account (runs the procedure), the ENTSSO service account, the lab SQL Server's service
      account and the account that joins the nodes to the domain, each with the password from its stack secret;
    - the SSO Administrators and SSO Affiliate Administrators groups (domain groups: a clustered master secret
      server needs them, F-SSO-02) and the group that is local Administrator on the nodes;
    - the memberships: SSO Administrators holds the install and service accounts (configuration fails when the
      account running it and the service account are not SSO Administrators, F-SSO-02); the node admin group
      holds the install account; SSO Affiliate Administrators is created empty (nothing in the procedure needs
      a member; add BizTalk administrators later);
    - the Kerberos SPNs of the lab SQL Server on its service account (MSSQLSvc/<fqdn>:1433 and MSSQLSvc/<fqdn>,
      learn.microsoft.com/sql/database-engine/configure-windows/register-a-service-principal-name-for-kerberos-connections),
      registered before the SQL Server joins so that they never sit on its computer account.
  Runs as SYSTEM on the DC, which the AD cmdlets accept without a credential on a domain controller.
  Idempotent: it only adds what is missing and lists what it added. An account that exists keeps its password:
  a lab's accounts get theirs when they are created (README: rotate by rebuilding the lab, or by hand).
  Strings arrive base64-encoded (UTF-8), see directory_wait.ps1. The last line of output is one JSON object.
  Everyday cmdlets, at learn.microsoft.com/powershell/module/: microsoft.powershell.core/set-strictmode, where-object,
  foreach-object, out-null; microsoft.powershell.utility/write-output, convertto-json, select-object, sort-object,
  get-date, start-sleep; microsoft.powershell.management/join-path.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DomainNameBase64,
    [Parameter(Mandatory = $true)][string]$InstallAccountBase64,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$InstallPasswordBase64,
    [Parameter(Mandatory = $true)][string]$ServiceAccountBase64,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$ServicePasswordBase64,
    [Parameter(Mandatory = $true)][string]$SqlServiceAccountBase64,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$SqlServicePasswordBase64,
    [Parameter(Mandatory = $true)][string]$JoinAccountBase64,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$JoinPasswordBase64,
    [Parameter(Mandatory = $true)][string]$SsoAdminGroupBase64,
    [Parameter(Mandatory = $true)][string]$SsoAffiliateAdminGroupBase64,
    [Parameter(Mandatory = $true)][string]$NodeAdminGroupBase64,
    [Parameter(Mandatory = $true)][string]$SqlServerHostBase64,
    [int]$SqlPort = 1433,
    [int]$TimeoutSeconds = 900
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'
# entsso-include: ad_library.ps1  (Wait-ADDomain, Find-Directory: components/guest.py puts the library here)

$domainName = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($DomainNameBase64))
$sqlHost = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($SqlServerHostBase64))

# DOMAIN\name: the settings checked the domain part; the name is what AD stores as sAMAccountName.
function Get-AccountName([string]$Base64) {
    $text = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($Base64))
    return ($text -split '\\', 2)[-1]
}

$users = [ordered]@{
    install    = @{ Name = (Get-AccountName $InstallAccountBase64); Password = $InstallPasswordBase64; What = 'installs and configures ENTSSO on the cluster nodes' }
    service    = @{ Name = (Get-AccountName $ServiceAccountBase64); Password = $ServicePasswordBase64; What = 'runs the ENTSSO service' }
    sqlService = @{ Name = (Get-AccountName $SqlServiceAccountBase64); Password = $SqlServicePasswordBase64; What = 'runs the lab SQL Server' }
    join       = @{ Name = (Get-AccountName $JoinAccountBase64); Password = $JoinPasswordBase64; What = 'joins the cluster nodes to the domain' }
}
$groups = [ordered]@{
    ssoAdmins          = @{ Name = (Get-AccountName $SsoAdminGroupBase64); Members = @($users.install.Name, $users.service.Name) }
    ssoAffiliateAdmins = @{ Name = (Get-AccountName $SsoAffiliateAdminGroupBase64); Members = @() }
    nodeAdmins         = @{ Name = (Get-AccountName $NodeAdminGroupBase64); Members = @($users.install.Name) }
}

$domain = Wait-ADDomain -Name $domainName -TimeoutSeconds $TimeoutSeconds

$createdUsers = @()
$createdGroups = @()
$membersAdded = @()
$spnsAdded = @()

foreach ($key in $users.Keys) {
    $user = $users[$key]
    $name = [string]$user.Name
    # learn.microsoft.com/powershell/module/activedirectory/get-aduser
    $existing = Find-Directory { Get-ADUser -Identity $name }
    if ($null -eq $existing) {
        # learn.microsoft.com/powershell/module/microsoft.powershell.security/convertto-securestring
        $password = ConvertTo-SecureString -AsPlainText -Force `
            -String ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([string]$user.Password)))
        # learn.microsoft.com/powershell/module/activedirectory/new-aduser
        try {
            New-ADUser -Name $name -SamAccountName $name -UserPrincipalName ('{0}@{1}' -f $name, $domainName) `
                -AccountPassword $password -Enabled $true -PasswordNeverExpires $true -CannotChangePassword $true `
                -Description ('entsso-cluster lab: {0}' -f $user.What)
        } catch {
            # A password the domain's policy refuses leaves the account created, disabled and without a password
            # (F-AD-05): remove it, so that the next run, with a better secret, creates it whole instead of finding
            # it "there" and leaving it unusable. learn.microsoft.com/powershell/module/activedirectory/remove-aduser
            $failure = $_
            if ($null -ne (Find-Directory { Get-ADUser -Identity $name })) {
                Remove-ADUser -Identity $name -Confirm:$false
            }
            throw $failure
        }
        $createdUsers += $name
    }
}

foreach ($key in $groups.Keys) {
    $group = $groups[$key]
    $name = [string]$group.Name
    # learn.microsoft.com/powershell/module/activedirectory/get-adgroup
    $existing = Find-Directory { Get-ADGroup -Identity $name }
    if ($null -eq $existing) {
        # learn.microsoft.com/powershell/module/activedirectory/new-adgroup
        New-ADGroup -Name $name -SamAccountName $name -GroupScope Global -GroupCategory Security `
            -Description 'entsso-cluster lab'
        $createdGroups += $name
    }
    # learn.microsoft.com/powershell/module/activedirectory/get-adgroupmember
    $current = @(Get-ADGroupMember -Identity $name | ForEach-Object { [string]$_.SamAccountName })
    foreach ($member in @($group.Members)) {
        if ($current -notcontains $member) {
            # learn.microsoft.com/powershell/module/activedirectory/add-adgroupmember
            Add-ADGroupMember -Identity $name -Members $member
            $membersAdded += ('{0} -> {1}' -f $member, $name)
        }
    }
}

$sqlAccount = [string]$users.sqlService.Name
$wanted = @(('MSSQLSvc/{0}:{1}' -f $sqlHost, $SqlPort), ('MSSQLSvc/{0}' -f $sqlHost))
$registered = @((Get-ADUser -Identity $sqlAccount -Properties ServicePrincipalName).ServicePrincipalName |
    ForEach-Object { [string]$_ })
foreach ($spn in $wanted) {
    if ($registered -notcontains $spn) {
        # learn.microsoft.com/powershell/module/activedirectory/set-aduser (-ServicePrincipalNames @{Add=...})
        Set-ADUser -Identity $sqlAccount -ServicePrincipalNames @{ Add = $spn }
        $spnsAdded += $spn
    }
}

$changed = ($createdUsers.Count + $createdGroups.Count + $membersAdded.Count + $spnsAdded.Count) -gt 0
$result = [ordered]@{
    ok            = $true
    changed       = $changed
    domain        = $domainName
    createdUsers  = @($createdUsers)
    createdGroups = @($createdGroups)
    membersAdded  = @($membersAdded)
    spnsAdded     = @($spnsAdded)
    message       = $(if ($changed) { 'created what was missing' } else { 'every account, group, membership and SPN exists; nothing to do' })
}
Write-Output (ConvertTo-Json -InputObject $result -Compress)
