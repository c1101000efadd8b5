<#
  Run Command "CreateForest" on the self-contained lab's domain controller (directory.source create).
  Promotes this standalone Windows Server to the first domain controller of a new forest, with DNS, its
  database, logs and SYSVOL on the data disk Azure attached without host caching (Microsoft: "Place the
  AD DS database, logs, and SYSVOL on a separate data disk ... with host caching set to None",
  learn.microsoft.com/azure/architecture/example-scenario/identity/adds-extend-domain).
  The promotion needs a restart. A Run Command that restarts its own VM never reports back, so the script
  promotes with -NoRebootOnCompletion, schedules the restart RestartDelaySeconds later and returns; the
  other machines' WaitForDirectory Run Commands then wait until the forest answers after that restart.
  Idempotent: on the forest's DC it does nothing and says so; promoted but not yet restarted, it makes sure
  a restart is scheduled; a DC of another forest, or a domain member, is an error.
  Strings arrive base64-encoded (UTF-8), see directory_wait.ps1. The last line of output is one JSON object.
  Everyday cmdlets, at learn.microsoft.com/powershell/module/: microsoft.powershell.core/set-strictmode, where-object,
  foreach-object, out-null; microsoft.powershell.utility/write-output, convertto-json, select-object, sort-object,
  get-date, start-sleep; microsoft.powershell.management/join-path.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DomainNameBase64,
    [Parameter(Mandatory = $true)][string]$NetbiosNameBase64,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$DsrmPasswordBase64,
    [string]$DataVolumeLabel = 'NTDS',
    [int]$RestartDelaySeconds = 60
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$domainName = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($DomainNameBase64))
$netbiosName = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($NetbiosNameBase64))
if ($RestartDelaySeconds -lt 10 -or $RestartDelaySeconds -gt 600) {
    throw 'RestartDelaySeconds must be between 10 and 600'
}

function Request-Restart {
    # learn.microsoft.com/windows-server/administration/windows-commands/shutdown: /r restart, /t delay,
    # /d p:4:2 planned "Application: Installation". Exit code 1190 means a shutdown is already scheduled.
    & shutdown.exe /r /t $RestartDelaySeconds /d p:4:2 /c 'entsso-cluster: completing the promotion to domain controller'
    $code = $LASTEXITCODE
    if ($code -ne 0 -and $code -ne 1190) {
        throw ('shutdown.exe /r could not schedule the restart (exit code {0})' -f $code)
    }
}

# learn.microsoft.com/powershell/module/cimcmdlets/get-ciminstance; Win32_ComputerSystem.DomainRole
# (learn.microsoft.com/windows/win32/cimwin32prov/win32-computersystem): 4 backup DC, 5 primary DC, 1 and 3 members.
$computer = Get-CimInstance -ClassName Win32_ComputerSystem
$role = [int]$computer.DomainRole
if ($role -ge 4) {
    if ([string]$computer.Domain -ne $domainName) {
        throw ('{0} is already a domain controller of {1}, not of {2}' -f $env:COMPUTERNAME, $computer.Domain, $domainName)
    }
    $done = [ordered]@{
        ok      = $true
        changed = $false
        domain  = $domainName
        message = ('{0} is already a domain controller of {1}; nothing to do' -f $env:COMPUTERNAME, $domainName)
    }
    Write-Output (ConvertTo-Json -InputObject $done -Compress)
    return
}
if ($role -eq 1 -or $role -eq 3) {
    throw ('{0} is a member of {1}; a new forest needs a standalone server' -f $env:COMPUTERNAME, $computer.Domain)
}

# Promoted earlier, restart still pending: dcpromo has written the directory database's location.
# learn.microsoft.com/powershell/module/microsoft.powershell.management/get-itemproperty (a missing value is a
# non-terminating error, F-PS-16).
$pending = Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Services\NTDS\Parameters' `
    -Name 'DSA Database file' -ErrorAction SilentlyContinue
if ($null -ne $pending) {
    Request-Restart
    $waiting = [ordered]@{
        ok                 = $true
        changed            = $false
        domain             = $domainName
        restartInSeconds   = $RestartDelaySeconds
        message            = ('{0} is promoted and waits for its restart; a restart is scheduled' -f $env:COMPUTERNAME)
    }
    Write-Output (ConvertTo-Json -InputObject $waiting -Compress)
    return
}

# The data disk: formatted on a previous run (its label), or the one RAW disk Azure attached.
# learn.microsoft.com/powershell/module/storage/get-volume
$volume = @(Get-Volume -FileSystemLabel $DataVolumeLabel -ErrorAction SilentlyContinue)
if ($volume.Count -eq 0) {
    # learn.microsoft.com/powershell/module/storage/get-disk
    $raw = @(Get-Disk | Where-Object { $_.PartitionStyle -eq 'RAW' })
    if ($raw.Count -ne 1) {
        throw ('expected one uninitialized data disk for the directory database, found {0}' -f $raw.Count)
    }
    # learn.microsoft.com/powershell/module/storage/initialize-disk, new-partition, format-volume
    Initialize-Disk -Number $raw[0].Number -PartitionStyle GPT
    $partition = New-Partition -DiskNumber $raw[0].Number -UseMaximumSize -AssignDriveLetter
    $volume = @(Format-Volume -Partition $partition -FileSystem NTFS -NewFileSystemLabel $DataVolumeLabel -Confirm:$false)
}
$drive = '{0}:' -f $volume[0].DriveLetter
$databasePath = Join-Path $drive 'NTDS'
$sysvolPath = Join-Path $drive 'SYSVOL'

# learn.microsoft.com/powershell/module/servermanager/install-windowsfeature
$feature = Install-WindowsFeature -Name 'AD-Domain-Services' -IncludeManagementTools
if (-not $feature.Success) {
    throw 'Install-WindowsFeature AD-Domain-Services did not succeed'
}

# learn.microsoft.com/powershell/module/microsoft.powershell.security/convertto-securestring
$dsrm = ConvertTo-SecureString -String ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($DsrmPasswordBase64))) `
    -AsPlainText -Force
# learn.microsoft.com/powershell/module/addsdeployment/install-addsforest: WinThreshold is the Windows Server
# 2016 functional level, the highest Windows Server 2022 offers.
# learn.microsoft.com/powershell/module/microsoft.powershell.core/import-module
Import-Module ADDSDeployment
$promotion = Install-ADDSForest -DomainName $domainName -DomainNetbiosName $netbiosName `
    -SafeModeAdministratorPassword $dsrm -InstallDns -CreateDnsDelegation:$false `
    -DatabasePath $databasePath -LogPath $databasePath -SysvolPath $sysvolPath `
    -DomainMode WinThreshold -ForestMode WinThreshold -NoRebootOnCompletion -Force -WarningAction SilentlyContinue
if ([string]$promotion.Status -ne 'Success') {
    throw ('Install-ADDSForest did not succeed: {0}' -f $promotion.Message)
}
Request-Restart

$result = [ordered]@{
    ok               = $true
    changed          = $true
    domain           = $domainName
    netbios          = $netbiosName
    databasePath     = $databasePath
    sysvolPath       = $sysvolPath
    restartInSeconds = $RestartDelaySeconds
    message          = ('promoted {0} to the first domain controller of {1}; it restarts in {2} s' -f
        $env:COMPUTERNAME, $domainName, $RestartDelaySeconds)
}
Write-Output (ConvertTo-Json -InputObject $result -Compress)
