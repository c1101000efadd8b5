# Steps 2-4 (Create: the master secret server, which also backs the new secret up, S2 step 8) and step 7 (Join).
# BizTalk: Configuration.exe /S <answer file> /L <log> (F-SSO-28, F-SSO-29), found through the machine variable
# BTSINSTALLPATH that BizTalk's setup sets, else the ESSO copy. Host Integration Server:
# ConfigurationWizard.exe /APPLY <file> (F-SSO-27; that it reads the same answer format is assumed). The answer file
# holds passwords, so it is written with an XmlWriter (every character escaped) into a directory only SYSTEM,
# Administrators and the running account can open, and deleted afterwards. Creating SSODB on the remote SQL Server
# needs network credentials: the work runs delegated (F-SSO-30). Exit code 0 is success; any other is a failure
# whose reason is in the log (F-SSO-28: other codes are not documented).
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidateSet('Create', 'Join')][string]$Mode,
    [Parameter(Mandatory = $true)][string]$SqlServer,
    [Parameter(Mandatory = $true)][string]$Database,
    [Parameter(Mandatory = $true)][string]$ServiceAccount,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$ServiceAccountPassword,
    [Parameter(Mandatory = $true)][string]$AdminGroup,
    [Parameter(Mandatory = $true)][string]$AffiliateAdminGroup,
    [string]$BackupFile,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [string]$BackupPassword,
    [string]$BackupReminder,
    [ValidateSet('BizTalk', 'HIS')][string]$Product = 'BizTalk',
    [Parameter(Mandatory = $true)][ValidateSet('CredSSP', 'ScheduledTask')][string]$DelegationMode,
    [string]$TaskUser,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [string]$TaskPassword
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$state = Get-SsoState
if (-not $state.installed) { throw 'Enterprise Single Sign-On is not installed on this node.' }
if ($state.configured) {
    $state.actions = @()
    return $state
}
if ($Mode -eq 'Create' -and (-not $BackupFile -or -not $BackupPassword)) {
    throw 'Create needs BackupFile and BackupPassword (the wizard backs up the new secret).'
}
$actions = @()
if ($Mode -eq 'Create') {
    # The wizard writes the new secret's backup into this folder and refuses when it is missing
    # (0xC0002A20, F-SSO-29): it is made first, private to SYSTEM, Administrators and the SSO administrators (F-FS-01).
    $actions += @(Set-PrivateDirectory -Path (Split-Path -Parent $BackupFile) -AdminGroup $AdminGroup)
}

# The work runs in a scheduled task's own powershell.exe on that route, without the library: self-contained.
$work = {
    param([hashtable]$Answers, [string]$Directory)
    $ErrorActionPreference = 'Stop'
    $acl = New-Object -TypeName Security.AccessControl.DirectorySecurity
    $acl.SetAccessRuleProtection($true, $false)
    foreach ($who in @('NT AUTHORITY\SYSTEM', 'BUILTIN\Administrators', [Security.Principal.WindowsIdentity]::GetCurrent().Name)) {
        $acl.AddAccessRule((New-Object -TypeName Security.AccessControl.FileSystemAccessRule -ArgumentList @(
                    $who, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')))
    }
    New-Item -ItemType Directory -Path $directory | Out-Null
    try {
        Set-Acl -LiteralPath $directory -AclObject $acl
        $file = Join-Path $directory 'sso.xml'
        $writer = [Xml.XmlWriter]::Create($file, (New-Object -TypeName Xml.XmlWriterSettings -Property @{ Indent = $true }))
        try {
            $writer.WriteStartElement('Configuration')
            $writer.WriteStartElement('Feature')
            $writer.WriteAttributeString('Name', 'SSOServer,Engine')
            $writer.WriteAttributeString('DisplayName', 'Enterprise Single Sign-On')
            $writer.WriteAttributeString('Version', '1.0')
            $writer.WriteStartElement('Question')
            $writer.WriteAttributeString('ID', 'IsSecretServer')
            $writer.WriteAttributeString('Answers', 'Create,Join')
            $writer.WriteStartElement('Answer')
            $writer.WriteAttributeString('Value', 'Create')
            $writer.WriteAttributeString('GUID', '{FB7268BE-82D4-4cad-8CFF-6930303DA7E2}')
            if ($Answers.Mode -eq 'Create') {
                $writer.WriteAttributeString('Selected', 'Yes')
                foreach ($credential in @(@('SSOAdminGroup', $Answers.AdminGroup), @('SSOAffiliateAdminGroup', $Answers.AffiliateAdminGroup))) {
                    $writer.WriteStartElement('NTCredential')
                    $writer.WriteAttributeString('ID', $credential[0])
                    $writer.WriteElementString('NTAccount', $credential[1])
                    $writer.WriteEndElement()
                }
                $writer.WriteStartElement('FILE')
                $writer.WriteAttributeString('ID', 'SSO_ID_BACKUP_SECRET_FILE')
                $writer.WriteElementString('Value', $Answers.BackupFile)
                $writer.WriteEndElement()
                foreach ($name in @(
                        @('SSO_ID_BACKUP_SECRET_PASSWORD', $Answers.BackupPassword),
                        @('SSO_ID_BACKUP_SECRET_PASSWORD_CONFIRM', $Answers.BackupPassword),
                        @('SSO_ID_BACKUP_SECRET_REMINDER', $Answers.BackupReminder))) {
                    $writer.WriteStartElement('Name')
                    $writer.WriteAttributeString('ID', $name[0])
                    $writer.WriteElementString('Value', [string]$name[1])
                    $writer.WriteEndElement()
                }
            }
            $writer.WriteEndElement()
            $writer.WriteStartElement('Answer')
            $writer.WriteAttributeString('Value', 'Join')
            $writer.WriteAttributeString('GUID', '{B9432756-1620-4bec-8CD9-E6D0B7805AA5}')
            if ($Answers.Mode -eq 'Join') { $writer.WriteAttributeString('Selected', 'Yes') }
            $writer.WriteEndElement()
            $writer.WriteEndElement()
            $domain, $user = $Answers.ServiceAccount -split '\\', 2
            $writer.WriteStartElement('NTService')
            $writer.WriteAttributeString('ID', 'ENTSSO')
            $writer.WriteElementString('UserName', $user)
            $writer.WriteElementString('Domain', $domain)
            $writer.WriteElementString('Password', $Answers.ServiceAccountPassword)
            $writer.WriteEndElement()
            $writer.WriteStartElement('SQL')
            $writer.WriteAttributeString('ID', 'SSO_DB_ID')
            $writer.WriteElementString('Server', $Answers.SqlServer)
            $writer.WriteElementString('Database', $Answers.Database)
            $writer.WriteElementString('WindowsSecurity', 'yes')
            $writer.WriteEndElement()
            $writer.WriteEndElement()
            foreach ($feature in @('SSOAdmin', 'AdditionalApps', 'SSOServer')) { $writer.WriteElementString('InstalledFeature', $feature) }
            $writer.WriteEndElement()
        } finally {
            $writer.Close()
        }
        $log = Join-Path $directory 'configuration.log'
        if ($Answers.Product -eq 'HIS') {
            # HIS installs ConfigurationWizard.exe under Program Files\Microsoft Host Integration Server (assumed path).
            $tool = Join-Path (Split-Path -Parent $env:CommonProgramW6432) 'Microsoft Host Integration Server\ConfigurationWizard.exe'
            $arguments = @('/APPLY', $file)
        } else {
            $installDir = [Environment]::GetEnvironmentVariable('BTSINSTALLPATH', 'Machine')
            if (-not $installDir) { $installDir = Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On' }
            $tool = Join-Path $installDir 'Configuration.exe'
            $arguments = @('/noprogressbar', '/s', $file, '/l', $log)
        }
        if (-not (Test-Path -LiteralPath $tool -PathType Leaf)) { throw "The configuration tool is not installed: $tool" }
        $run = Start-Process -FilePath $tool -ArgumentList $arguments -Wait -PassThru
        if ($run.ExitCode -ne 0) {
            $reason = @(Select-String -LiteralPath $log -Pattern 'error' -SimpleMatch -ErrorAction SilentlyContinue | Select-Object -Last 3 | ForEach-Object { $_.Line })
            throw ('{0} exited with {1}. {2}' -f (Split-Path -Leaf $tool), $run.ExitCode, ($reason -join ' '))
        }
    } finally {
        Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
    }
}
$answers = @{
    Mode = $Mode; SqlServer = $SqlServer; Database = $Database; ServiceAccount = $ServiceAccount
    ServiceAccountPassword = $ServiceAccountPassword; AdminGroup = $AdminGroup; AffiliateAdminGroup = $AffiliateAdminGroup
    BackupFile = $BackupFile; BackupPassword = $BackupPassword; BackupReminder = $BackupReminder; Product = $Product
}
# The answer file holds passwords: its directory goes whatever happens to the work, even a task stopped at the deadline.
$answerDirectory = Join-Path $env:SystemRoot ('Temp\EntssoConfig-{0}' -f [guid]::NewGuid().ToString('N'))
Invoke-Delegated -Work $work -Arguments @{ Answers = $answers; Directory = $answerDirectory } -Cleanup $answerDirectory `
    -Mode $DelegationMode -User $TaskUser -Password $TaskPassword | Out-Null
$state = Get-SsoState
$state.actions = @($actions) + @(if ($Product -eq 'HIS') { "ConfigurationWizard.exe /APPLY ($Mode)" } else { "Configuration.exe /s ($Mode)" })
$state
