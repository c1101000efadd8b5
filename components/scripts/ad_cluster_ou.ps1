<#
  Run Command "ClusterOu" on the self-contained lab's domain controller, after DirectoryAccounts.
  The OU for the cluster's computer objects, as Microsoft's "Prestage cluster computer objects in Active
  Directory Domain Services" describes it (learn.microsoft.com/windows-server/failover-clustering/prestage-cluster-adds):
    - the OU at the top of the domain (the nodes join into it: azure.domainJoinOu);
    - the cluster name object (CNO) prestaged in it, disabled ("so that during cluster creation, the cluster
      creation process can confirm that the account is not currently in use"), with Full Control for the
      install account, which runs New-Cluster (Step 2);
    - on the OU, Create Computer objects for the CNO, so that the cluster creates the virtual computer objects
      of its client access points (the ENTSSO and DTC network names) itself (Step 3, option 1);
    - on the OU, Create Computer objects and Read All Properties for the install account (what a cluster
      creator needs when it creates the CNO itself), and Create Computer objects for the join account, which
      creates the nodes' computer accounts when they join.
  Every right applies to "This object and all descendant objects". The OU is not protected from accidental
  deletion: the lab is torn down whole.
  Idempotent: it adds only the OU, CNO and access rules that are missing, and lists them.
  Strings arrive base64-encoded (UTF-8), see directory_wait.ps1. The last line of output is one JSON object.
  Everyday cmdlets, at learn.microsoft.com/powershell/module/: microsoft.powershell.core/set-strictmode, where-object,
  foreach-object, out-null; microsoft.powershell.utility/write-output, convertto-json, select-object, sort-object,
  get-date, start-sleep; microsoft.powershell.management/join-path.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DomainNameBase64,
    [Parameter(Mandatory = $true)][string]$OuNameBase64,
    [Parameter(Mandatory = $true)][string]$ClusterNameBase64,
    [Parameter(Mandatory = $true)][string]$InstallAccountBase64,
    [Parameter(Mandatory = $true)][string]$JoinAccountBase64,
    [int]$TimeoutSeconds = 900
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'
# entsso-include: ad_library.ps1  (Wait-ADDomain, Find-Directory: components/guest.py puts the library here)

$domainName = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($DomainNameBase64))
$ouName = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($OuNameBase64))
$clusterName = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($ClusterNameBase64))
$installName = ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($InstallAccountBase64)) -split '\\', 2)[-1]
$joinName = ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($JoinAccountBase64)) -split '\\', 2)[-1]

# The computer class's schemaIDGUID: an access rule for "Create Computer objects" names it as its object type
# (learn.microsoft.com/windows/win32/adschema/c-computer, Schema-Id-Guid).
$computerClass = [guid]'bf967a86-0de6-11d0-a285-00aa003049e2'

$domain = Wait-ADDomain -Name $domainName -TimeoutSeconds $TimeoutSeconds
$domainDn = [string]$domain.DistinguishedName
$ouDn = 'OU={0},{1}' -f $ouName, $domainDn

$changes = @()
# learn.microsoft.com/powershell/module/activedirectory/get-adorganizationalunit
$ou = Find-Directory { Get-ADOrganizationalUnit -Identity $ouDn }
if ($null -eq $ou) {
    # learn.microsoft.com/powershell/module/activedirectory/new-adorganizationalunit
    New-ADOrganizationalUnit -Name $ouName -Path $domainDn -ProtectedFromAccidentalDeletion $false `
        -Description 'entsso-cluster lab: the cluster nodes, the cluster name object and its access points'
    $changes += ('created OU {0}' -f $ouDn)
}

# learn.microsoft.com/powershell/module/activedirectory/get-adcomputer
$cno = Find-Directory { Get-ADComputer -Identity ($clusterName + '$') }
if ($null -eq $cno) {
    # learn.microsoft.com/powershell/module/activedirectory/new-adcomputer
    New-ADComputer -Name $clusterName -SamAccountName ($clusterName + '$') -Path $ouDn -Enabled $false `
        -Description 'entsso-cluster lab: prestaged cluster name object'
    $cno = Get-ADComputer -Identity ($clusterName + '$')
    $changes += ('prestaged the cluster name object {0}, disabled' -f $clusterName)
}
# learn.microsoft.com/powershell/module/activedirectory/get-aduser
$installSid = (Get-ADUser -Identity $installName).SID
$joinSid = (Get-ADUser -Identity $joinName).SID
$cnoSid = $cno.SID

# Adds an allow rule to an object's ACL unless an equal one is there. Access rules through the AD: drive
# (learn.microsoft.com/powershell/module/microsoft.powershell.security/get-acl and set-acl, with
# System.DirectoryServices.ActiveDirectoryAccessRule, learn.microsoft.com/dotnet/api/system.directoryservices.activedirectoryaccessrule).
function Grant-DirectoryRight {
    param(
        [string]$Path,
        [System.Security.Principal.SecurityIdentifier]$Sid,
        [System.DirectoryServices.ActiveDirectoryRights]$Rights,
        [guid]$ObjectType,
        [string]$Who
    )
    $acl = Get-Acl -Path ('AD:\{0}' -f $Path)
    $rules = @($acl.GetAccessRules($true, $false, [System.Security.Principal.SecurityIdentifier]))
    $present = @($rules | Where-Object {
            $_.IdentityReference.Value -eq $Sid.Value -and
            $_.AccessControlType -eq [System.Security.AccessControl.AccessControlType]::Allow -and
            $_.ObjectType -eq $ObjectType -and
            (($_.ActiveDirectoryRights -band $Rights) -eq $Rights) -and
            $_.InheritanceType -eq [System.DirectoryServices.ActiveDirectorySecurityInheritance]::All
        })
    if ($present.Count -gt 0) { return $null }
    # learn.microsoft.com/powershell/module/microsoft.powershell.utility/new-object
    $rule = New-Object -TypeName System.DirectoryServices.ActiveDirectoryAccessRule -ArgumentList @(
        $Sid, $Rights, [System.Security.AccessControl.AccessControlType]::Allow, $ObjectType,
        [System.DirectoryServices.ActiveDirectorySecurityInheritance]::All)
    $acl.AddAccessRule($rule)
    Set-Acl -Path ('AD:\{0}' -f $Path) -AclObject $acl
    return ('{0}: {1} on {2}' -f $Who, $Rights, $Path)
}

$any = [guid]::Empty
$grants = @(
    @{ Path = $ouDn; Sid = $installSid; Rights = 'CreateChild'; Type = $computerClass; Who = $installName },
    @{ Path = $ouDn; Sid = $installSid; Rights = 'ReadProperty'; Type = $any; Who = $installName },
    @{ Path = $ouDn; Sid = $joinSid; Rights = 'CreateChild'; Type = $computerClass; Who = $joinName },
    @{ Path = $ouDn; Sid = $cnoSid; Rights = 'CreateChild'; Type = $computerClass; Who = $clusterName },
    @{ Path = [string]$cno.DistinguishedName; Sid = $installSid; Rights = 'GenericAll'; Type = $any; Who = $installName }
)
foreach ($grant in $grants) {
    $added = Grant-DirectoryRight -Path $grant.Path -Sid $grant.Sid -Rights $grant.Rights -ObjectType $grant.Type -Who $grant.Who
    if ($null -ne $added) { $changes += $added }
}

$result = [ordered]@{
    ok          = $true
    changed     = $changes.Count -gt 0
    ou          = $ouDn
    clusterName = $clusterName
    cnoEnabled  = [bool]$cno.Enabled
    changes     = @($changes)
    message     = $(if ($changes.Count -gt 0) { 'added what was missing' } else { 'the OU, the prestaged cluster name object and every right exist; nothing to do' })
}
Write-Output (ConvertTo-Json -InputObject $result -Compress)
