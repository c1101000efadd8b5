# `python -m ops probe-node`: the read-only probes of docs/windows-facts.md section 10.1. Each probe checks one
# assumed fact (P-NN, naming its F-NN) on this node and answers held, did not hold or could not tell (with the node
# state it needs), with its evidence. A probe only reads: no Set-, New-, Start- or Stop- of anything, no registry
# data under SSOSS (value and subkey names only), no secret. It runs in the runner's own session with no delegated
# credentials: P-13 needs exactly that. A probe that fails answers could not tell with the error record; the others
# still run. The result: the node's OS build and one entry per probe.
[CmdletBinding()]
param(
    [string[]]$Probe = @(),
    [string]$RoleName = '',
    [string]$ServiceResource = 'ENTSSO',
    [string]$DtcRoleName = '',
    [string]$SqlServer = '',
    [string]$Database = '',
    [string]$BackupDirectory = '',
    [int[]]$ProbePort = @(),
    [int]$DtcDiskLun = -1,
    [ValidateSet('biztalk', 'his')][string]$Product = 'biztalk',
    [string[]]$SecretServerName = @(),
    [bool]$HeartbeatTuned = $false,
    [bool]$SessionDelegated = $false
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$essoDirectory = Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On'
$entssoKey = 'HKLM:\SOFTWARE\Microsoft\ENTSSO'

function New-Verdict {
    # One probe's answer. $Verdict: held | did not hold | could not tell; $Reason says why in one sentence (for could
    # not tell: the node state the probe needs); $Evidence: what was read (names and values, never a secret).
    param([string]$Verdict, [string]$Reason, $Evidence = [ordered]@{})
    [ordered]@{ verdict = $Verdict; reason = $Reason; evidence = $Evidence }
}

function Get-ErrorFacts {
    # An error record as evidence: message, category, FullyQualifiedErrorId, and the exception chain.
    param($Record)
    $chain = @()
    $exception = $Record.Exception
    while ($exception) {
        $chain += [ordered]@{ type = $exception.GetType().FullName; hresult = ('0x{0:X8}' -f $exception.HResult); message = [string]$exception.Message }
        $exception = $exception.InnerException
    }
    [ordered]@{
        message = [string]$Record.Exception.Message; category = [string]$Record.CategoryInfo.Category
        errorId = [string]$Record.FullyQualifiedErrorId; chain = $chain
    }
}

function Get-ClusterBlocker {
    # '' when the cluster cmdlets can answer on this node (ClusSvc runs), else the state a cluster probe needs.
    $service = Get-Service -Name ClusSvc -ErrorAction SilentlyContinue
    if (-not $service) { return 'needs a cluster node: the Failover Clustering feature (service ClusSvc) is not installed here' }
    if ([string]$service.Status -ne 'Running') { return ('needs a node whose cluster service runs: ClusSvc is {0} here' -f $service.Status) }
    ''
}

function Get-EntssoService {
    Get-CimInstance -ClassName Win32_Service -Filter "Name='ENTSSO'"
}

function Get-ValueNames {
    # The value names of a registry key (never the data), or @() when it has none.
    param([string]$Path)
    @((Get-Item -LiteralPath $Path).Property | ForEach-Object { [string]$_ })
}

function Get-OsBuild {
    # The OS as Win32_OperatingSystem reports it, else as the registry's CurrentVersion does; empty when neither answers.
    $os = [ordered]@{ caption = ''; version = ''; build = ''; source = '' }
    try {
        $system = Get-CimInstance -ClassName Win32_OperatingSystem
        $os.caption = [string]$system.Caption
        $os.version = [string]$system.Version
        $os.build = [string]$system.BuildNumber
        $os.source = 'Win32_OperatingSystem'
    } catch {
        $os.source = 'Win32_OperatingSystem: ' + $_.Exception.Message
    }
    $current = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -ErrorAction SilentlyContinue
    if ($current) {
        $values = $current.PSObject.Properties
        if (-not $os.build -and $values['CurrentBuild']) { $os.build = [string]$values['CurrentBuild'].Value; $os.source = 'registry' }
        if (-not $os.caption -and $values['ProductName']) { $os.caption = [string]$values['ProductName'].Value }
        if ($os.build -and $values['UBR']) { $os.build = '{0}.{1}' -f $os.build, $values['UBR'].Value }
    }
    $os
}

$catalogue = [ordered]@{}

# P-01 (F-CLU-01): Get-Cluster on a node whose cluster service does not run is a terminating error that
# -ErrorAction SilentlyContinue does not silence (ClusterEndpointNotRegistered).
$catalogue['P-01'] = {
    $service = Get-Service -Name ClusSvc -ErrorAction SilentlyContinue
    $status = if ($service) { [string]$service.Status } else { 'not installed' }
    if ($status -eq 'Running') {
        return New-Verdict 'could not tell' 'needs a node whose cluster service is not running: ClusSvc is Running here' ([ordered]@{ clusSvc = $status })
    }
    $evidence = [ordered]@{ clusSvc = $status; outcome = 'returned'; error = $null }
    try {
        $null = Get-Cluster -ErrorAction SilentlyContinue
    } catch {
        if ($_.FullyQualifiedErrorId -eq 'CommandNotFoundException') {
            return New-Verdict 'could not tell' 'needs the FailoverClusters module (RSAT-Clustering-PowerShell): Get-Cluster is not there' $evidence
        }
        $evidence.outcome = 'threw'
        $evidence.error = Get-ErrorFacts $_
    }
    if ($evidence.outcome -eq 'threw' -and $evidence.error.errorId -like 'ClusterEndpointNotRegistered,*') {
        return New-Verdict 'held' 'Get-Cluster -ErrorAction SilentlyContinue threw ClusterEndpointNotRegistered' $evidence
    }
    New-Verdict 'did not hold' ('Get-Cluster -ErrorAction SilentlyContinue {0}' -f $evidence.outcome) $evidence
}

# P-02 (F-CLU-20): asking for a role or resource that does not exist, with -ErrorAction SilentlyContinue, returns
# nothing (a non-terminating error), as the scripts once believed.
$catalogue['P-02'] = {
    $blocker = Get-ClusterBlocker
    if ($blocker) { return New-Verdict 'could not tell' $blocker }
    # Each lookup returns the error records it wrote: -ErrorAction SilentlyContinue still records them.
    $lookups = [ordered]@{
        'Get-ClusterGroup'    = { param([string]$Name) $null = Get-ClusterGroup -Name $Name -ErrorAction SilentlyContinue -ErrorVariable recorded; @($recorded) }
        'Get-ClusterResource' = { param([string]$Name) $null = Get-ClusterResource -Name $Name -ErrorAction SilentlyContinue -ErrorVariable recorded; @($recorded) }
    }
    $evidence = [ordered]@{}
    foreach ($command in $lookups.Keys) {
        $seen = [ordered]@{ outcome = 'returned'; error = $null }
        try {
            $recorded = @(& $lookups[$command] ([guid]::NewGuid().ToString()))
            if ($recorded.Count -gt 0) { $seen.error = Get-ErrorFacts $recorded[0] }
        } catch {
            $seen.outcome = 'threw'
            $seen.error = Get-ErrorFacts $_
        }
        $evidence[$command] = $seen
    }
    $threw = @($evidence.Keys | Where-Object { $evidence[$_].outcome -eq 'threw' })
    if ($threw.Count -eq 0) { return New-Verdict 'held' 'both returned nothing; the error records are non-terminating' $evidence }
    New-Verdict 'did not hold' ('{0} threw with -ErrorAction SilentlyContinue' -f ($threw -join ' and ')) $evidence
}

# P-03 (F-CLU-07, F-CLU-08): QuorumType is Majority with a witness; the cloud witness is the QuorumResource whose
# type DisplayName is 'Cloud Witness' (its own name is reported).
$catalogue['P-03'] = {
    $blocker = Get-ClusterBlocker
    if ($blocker) { return New-Verdict 'could not tell' $blocker }
    $quorum = Get-ClusterQuorum
    $evidence = [ordered]@{ quorumType = [string]$quorum.QuorumType; quorumTypeValue = [int]$quorum.QuorumType; resource = $null }
    $resource = $quorum.QuorumResource
    if (-not $resource) { return New-Verdict 'could not tell' 'needs a cluster with a witness: this one has no QuorumResource (node majority)' $evidence }
    $evidence.resource = [ordered]@{
        name = [string]$resource.Name; type = [string]$resource.ResourceType.Name; displayName = [string]$resource.ResourceType.DisplayName
    }
    if ($evidence.quorumType -ne 'Majority') { return New-Verdict 'did not hold' ('QuorumType is {0} with a witness' -f $evidence.quorumType) $evidence }
    if ($evidence.resource.displayName -ne 'Cloud Witness') {
        return New-Verdict 'could not tell' ('needs a cloud witness: the witness type here is {0}' -f $evidence.resource.displayName) $evidence
    }
    New-Verdict 'held' ("QuorumType Majority; witness resource '{0}' of type Cloud Witness" -f $evidence.resource.name) $evidence
}

# P-04 (F-CLU-09): the cluster's core name resource is 'Cluster Name' in 'Cluster Group', a (Distributed) Network Name.
$catalogue['P-04'] = {
    $blocker = Get-ClusterBlocker
    if ($blocker) { return New-Verdict 'could not tell' $blocker }
    $core = @(Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq 'Cluster Group' } | ForEach-Object {
            [ordered]@{ name = [string]$_.Name; type = [string]$_.ResourceType.Name; isCoreResource = [bool]$_.IsCoreResource }
        })
    $evidence = [ordered]@{ clusterGroup = $core }
    $name = @($core | Where-Object { $_.name -eq 'Cluster Name' -and $_.type -in 'Distributed Network Name', 'Network Name' })
    if ($name.Count -gt 0) { return New-Verdict 'held' ("'Cluster Name' of type {0} in 'Cluster Group'" -f $name[0].type) $evidence }
    New-Verdict 'did not hold' "no resource 'Cluster Name' of type (Distributed) Network Name in 'Cluster Group'" $evidence
}

# P-05 (F-CLU-14, F-SVC-07): while its Generic Service resource is online, ENTSSO's start mode on the owner is Manual.
$catalogue['P-05'] = {
    $blocker = Get-ClusterBlocker
    if ($blocker) { return New-Verdict 'could not tell' $blocker }
    $resource = Get-ClusterResource | Where-Object { $_.Name -eq $ServiceResource -and $_.OwnerGroup.Name -eq $RoleName } | Select-Object -First 1
    if (-not $resource) { return New-Verdict 'could not tell' ("needs the ENTSSO role: no resource '{0}' in role '{1}' yet" -f $ServiceResource, $RoleName) }
    $service = Get-EntssoService
    $evidence = [ordered]@{
        resourceState = [string]$resource.State; owner = [string]$resource.OwnerNode.Name
        startMode = if ($service) { [string]$service.StartMode } else { '' }; state = if ($service) { [string]$service.State } else { '' }
    }
    if ($evidence.owner -ne $env:COMPUTERNAME) {
        return New-Verdict 'could not tell' ('needs the node that owns the ENTSSO role: {0} owns it' -f $evidence.owner) $evidence
    }
    if ($evidence.resourceState -ne 'Online') {
        return New-Verdict 'could not tell' ('needs the ENTSSO resource online: it is {0}' -f $evidence.resourceState) $evidence
    }
    if ($evidence.startMode -eq 'Manual') { return New-Verdict 'held' 'StartMode Manual on the owner while the resource is online' $evidence }
    New-Verdict 'did not hold' ('StartMode {0} on the owner while the resource is online' -f $evidence.startMode) $evidence
}

# P-06 (F-CLU-11, F-CLU-21): what the cluster names resources: 'IP Address <address>', a role's Network Name after
# the role, a disk Add-ClusterDisk added 'Cluster Disk <n>' (disks in roles carry the names our scripts give them).
$catalogue['P-06'] = {
    $blocker = Get-ClusterBlocker
    if ($blocker) { return New-Verdict 'could not tell' $blocker }
    $resources = @(Get-ClusterResource)
    $listed = @()
    $wrong = @()
    $checked = 0
    foreach ($resource in $resources) {
        $type = [string]$resource.ResourceType.Name
        $group = [string]$resource.OwnerGroup.Name
        $expected = $null
        if ($type -eq 'IP Address') {
            $expected = 'IP Address ' + [string]($resource | Get-ClusterParameter -Name Address).Value
        } elseif ($type -eq 'Network Name' -and $group -ne 'Cluster Group') {
            $expected = $group
        } elseif ($type -eq 'Physical Disk' -and $group -eq 'Available Storage') {
            $expected = 'Cluster Disk <n>'
        }
        $listed += [ordered]@{ name = [string]$resource.Name; type = $type; group = $group }
        if ($null -eq $expected) { continue }
        $checked++
        $fits = if ($expected -eq 'Cluster Disk <n>') { $resource.Name -match '^Cluster Disk \d+$' } else { $resource.Name -eq $expected }
        if (-not $fits) { $wrong += ("'{0}' ({1}) where '{2}' was expected" -f $resource.Name, $type, $expected) }
    }
    $evidence = [ordered]@{ resources = $listed; unexpected = $wrong }
    if ($checked -eq 0) { return New-Verdict 'could not tell' 'needs a role made by Add-ClusterServerRole or a disk in Available Storage' $evidence }
    if ($wrong.Count -eq 0) { return New-Verdict 'held' ('{0} resources named as assumed' -f $checked) $evidence }
    New-Verdict 'did not hold' ($wrong -join '; ') $evidence
}

# P-07 (F-CLU-23, F-AZ-03): a RAW (uninitialized) disk is not offered by Get-ClusterAvailableDisk.
$catalogue['P-07'] = {
    $blocker = Get-ClusterBlocker
    if ($blocker) { return New-Verdict 'could not tell' $blocker }
    $disks = @(Get-Disk | ForEach-Object {
            [ordered]@{
                number = [int]$_.Number; partitionStyle = [string]$_.PartitionStyle; isClustered = [bool]$_.IsClustered
                operationalStatus = [string]$_.OperationalStatus; isBoot = [bool]$_.IsBoot; isSystem = [bool]$_.IsSystem
            }
        })
    $available = @(Get-ClusterAvailableDisk | ForEach-Object { [ordered]@{ name = [string]$_.Name; number = [int]$_.Number } })
    $evidence = [ordered]@{ disks = $disks; available = $available }
    $raw = @($disks | Where-Object { $_.partitionStyle -eq 'RAW' -and -not $_.isBoot -and -not $_.isSystem })
    if ($raw.Count -eq 0) { return New-Verdict 'could not tell' 'needs a node with a RAW shared disk attached: every disk here is initialized' $evidence }
    $offeredNumbers = @($available | ForEach-Object { $_.number })
    $offered = @($raw | Where-Object { $offeredNumbers -contains $_.number })
    if ($offered.Count -eq 0) { return New-Verdict 'held' ('RAW disk(s) {0} not offered' -f (@($raw | ForEach-Object { $_.number }) -join ', ')) $evidence }
    New-Verdict 'did not hold' ('RAW disk(s) {0} offered by Get-ClusterAvailableDisk' -f (@($offered | ForEach-Object { $_.number }) -join ', ')) $evidence
}

# P-08 (F-CLU-16): Get-ClusterResourceDependency writes the expression as [Name] terms joined by ' and '.
$catalogue['P-08'] = {
    $blocker = Get-ClusterBlocker
    if ($blocker) { return New-Verdict 'could not tell' $blocker }
    $names = @()
    $service = Get-ClusterResource | Where-Object { $_.Name -eq $ServiceResource -and $_.OwnerGroup.Name -eq $RoleName } | Select-Object -First 1
    if ($service) { $names += [string]$service.Name }
    if ($DtcRoleName) {
        $dtc = Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $DtcRoleName -and $_.ResourceType.Name -eq 'Distributed Transaction Coordinator' } |
            Select-Object -First 1
        if ($dtc) { $names += [string]$dtc.Name }
    }
    $expressions = [ordered]@{}
    foreach ($name in $names) { $expressions[$name] = [string](Get-ClusterResourceDependency -Resource $name).DependencyExpression }
    $evidence = [ordered]@{ expressions = $expressions }
    $seen = @($expressions.Keys | Where-Object { $expressions[$_] })
    if ($seen.Count -eq 0) { return New-Verdict 'could not tell' 'needs the ENTSSO or DTC resource with its dependencies (steps 14-21)' $evidence }
    $pattern = '^\(?\[[^\]]+\]\)?( and \(?\[[^\]]+\]\)?)*$'
    $other = @($seen | Where-Object { $expressions[$_] -notmatch $pattern })
    if ($other.Count -eq 0) { return New-Verdict 'held' 'every expression is [Name] terms joined by and' $evidence }
    New-Verdict 'did not hold' ('{0}: another format' -f ($other -join ', ')) $evidence
}

# P-09 (F-CLU-10): Get-ClusterAccess entries have AccessControlType, Allow or Deny.
$catalogue['P-09'] = {
    $blocker = Get-ClusterBlocker
    if ($blocker) { return New-Verdict 'could not tell' $blocker }
    $entries = @(Get-ClusterAccess)
    if ($entries.Count -eq 0) { return New-Verdict 'could not tell' 'Get-ClusterAccess listed no entry' }
    $listed = @($entries | ForEach-Object {
            $type = $_.PSObject.Properties['AccessControlType']
            [ordered]@{
                identity = [string]$_.IdentityReference; rights = [string]$_.ClusterRights
                accessControlType = if ($type) { [string]$type.Value } else { '(no such property)' }
            }
        })
    $evidence = [ordered]@{ entries = $listed; properties = @($entries[0].PSObject.Properties | ForEach-Object { [string]$_.Name }) }
    $other = @($listed | Where-Object { $_.accessControlType -notin 'Allow', 'Deny' })
    if ($other.Count -eq 0) { return New-Verdict 'held' 'every entry has AccessControlType Allow or Deny' $evidence }
    New-Verdict 'did not hold' ('AccessControlType of {0} entries is not Allow or Deny' -f $other.Count) $evidence
}

# P-10 (F-SSO-05): the value names under SSOSS: CurrentMSID on SSOSS, PreviousMSID on the current secret's subkey.
# Names only: never a value's data.
$catalogue['P-10'] = {
    $root = Join-Path $entssoKey 'SSOSS'
    if (-not (Test-Path -LiteralPath $root)) {
        return New-Verdict 'could not tell' 'needs a node where ENTSSO keeps a master secret: there is no SSOSS key here'
    }
    $evidence = [ordered]@{ ssossValueNames = @(); subkeys = [ordered]@{}; error = $null }
    try {
        $evidence.ssossValueNames = @(Get-ValueNames $root)
        foreach ($subkey in @(Get-ChildItem -LiteralPath $root)) {
            $evidence.subkeys[[string]$subkey.PSChildName] = @($subkey.Property | ForEach-Object { [string]$_ })
        }
    } catch {
        $evidence.error = Get-ErrorFacts $_
        return New-Verdict 'could not tell' ('reading SSOSS was refused: {0}' -f $_.Exception.Message) $evidence
    }
    if ($evidence.ssossValueNames -notcontains 'CurrentMSID') {
        return New-Verdict 'did not hold' 'SSOSS has no value named CurrentMSID (its value names are in the evidence)' $evidence
    }
    $previous = @($evidence.subkeys.Keys | Where-Object { $evidence.subkeys[$_] -contains 'PreviousMSID' })
    if ($previous.Count -gt 0) { return New-Verdict 'held' 'CurrentMSID on SSOSS and PreviousMSID on a secret subkey' $evidence }
    New-Verdict 'could not tell' 'CurrentMSID is there; PreviousMSID needs a node whose secret replaced an earlier one (a restore or a new secret)' $evidence
}

# P-11 (F-SSO-06): ENTSSO keeps its SQL Server and database names as ENTSSO\SQL values Server and Database.
$catalogue['P-11'] = {
    if (-not (Test-Path -LiteralPath $entssoKey)) { return New-Verdict 'could not tell' 'needs a node where ENTSSO is installed: there is no ENTSSO key' }
    $service = Get-EntssoService
    $sqlKey = Join-Path $entssoKey 'SQL'
    $evidence = [ordered]@{
        entssoValueNames = @(Get-ValueNames $entssoKey)
        entssoSubkeys = @(Get-ChildItem -LiteralPath $entssoKey | ForEach-Object { [string]$_.PSChildName })
        sqlValueNames = if (Test-Path -LiteralPath $sqlKey) { @(Get-ValueNames $sqlKey) } else { $null }
        serviceState = if ($service) { [string]$service.State } else { '' }
    }
    if ($null -ne $evidence.sqlValueNames -and $evidence.sqlValueNames -contains 'Server' -and $evidence.sqlValueNames -contains 'Database') {
        return New-Verdict 'held' 'ENTSSO\SQL has the values Server and Database' $evidence
    }
    # ENTSSO runs only once configured (event 10511 otherwise, F-SSO-35): then the names are somewhere else.
    if ($evidence.serviceState -eq 'Running') { return New-Verdict 'did not hold' 'ENTSSO runs, so it is configured, and ENTSSO\SQL lacks Server or Database' $evidence }
    New-Verdict 'could not tell' 'needs a node where ENTSSO is configured and running' $evidence
}

# P-12 (F-SSO-07): the interop assembly, the SSOConfigOM class and the ISSOConfigSS/DB/OM interfaces.
$catalogue['P-12'] = {
    $dll = Join-Path $essoDirectory 'Microsoft.EnterpriseSingleSignOn.Interop.dll'
    $evidence = [ordered]@{ assembly = $dll; steps = [ordered]@{} }
    if (-not (Test-Path -LiteralPath $dll -PathType Leaf)) { return New-Verdict 'could not tell' ('needs ENTSSO installed: there is no {0}' -f $dll) $evidence }
    $steps = [ordered]@{
        'Add-Type -Path'             = { Add-Type -Path $dll }
        'New-Object SSOConfigOM'     = { $null = New-Object -TypeName 'Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM' }
        'type ISSOConfigSS'          = { $null = [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigSS] }
        'type ISSOConfigDB'          = { $null = [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigDB] }
        'type ISSOConfigOM'          = { $null = [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigOM] }
    }
    $failed = @()
    foreach ($step in $steps.Keys) {
        try { & $steps[$step]; $evidence.steps[$step] = 'ok' } catch { $evidence.steps[$step] = $_.Exception.Message; $failed += $step }
    }
    if ($failed.Count -eq 0) { return New-Verdict 'held' 'the assembly loads and the class and the three interfaces exist' $evidence }
    New-Verdict 'did not hold' ('failed: {0}' -f ($failed -join ', ')) $evidence
}

# P-13 (F-SSO-09, F-PS-11, F-PS-12, F-PS-13): ISSOConfigDB.GetDBInfo connects to SQL Server as the caller, so from a
# session without delegated credentials it reaches SQL Server as ANONYMOUS LOGON; the exception chain shows how
# InvokeMember wraps a COM error; where it succeeds, the out values come back in the argument array (names only).
$catalogue['P-13'] = {
    if ($SessionDelegated) { return New-Verdict 'could not tell' 'needs a session without delegated credentials: this stack logs on with CredSSP' }
    if (-not $SqlServer -or -not $Database) { return New-Verdict 'could not tell' 'needs the stack''s SQL Server and SSODB names' }
    $dll = Join-Path $essoDirectory 'Microsoft.EnterpriseSingleSignOn.Interop.dll'
    if (-not (Test-Path -LiteralPath $dll -PathType Leaf)) { return New-Verdict 'could not tell' ('needs ENTSSO installed: there is no {0}' -f $dll) }
    Add-Type -Path $dll
    $config = New-Object -TypeName 'Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM'
    $flags = [Reflection.BindingFlags]::InvokeMethod -bor [Reflection.BindingFlags]::Instance
    $info = [object[]]@($SqlServer, $Database, $false, $false, $false, '', '', '')
    $evidence = [ordered]@{ sqlServer = $SqlServer; database = $Database; outcome = 'returned'; error = $null; out = $null }
    try {
        [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigDB].InvokeMember('GetDBInfo', $flags, $null, $config, $info) | Out-Null
    } catch {
        $evidence.outcome = 'threw'
        $evidence.error = Get-ErrorFacts $_
    }
    if ($evidence.outcome -eq 'threw') {
        if ($evidence.error.message -match 'ANONYMOUS LOGON') {
            return New-Verdict 'held' 'GetDBInfo reached SQL Server as NT AUTHORITY\ANONYMOUS LOGON from this non-delegated session' $evidence
        }
        return New-Verdict 'could not tell' 'GetDBInfo failed for another reason than an anonymous logon (see the exception chain)' $evidence
    }
    $evidence.out = [ordered]@{ exists = [bool]$info[2]; isConfigured = [bool]$info[3]; needsUpgrade = [bool]$info[4]; secretServer = [string]$info[5] }
    New-Verdict 'did not hold' 'GetDBInfo succeeded without delegated credentials (the out values show whether write-back works)' $evidence
}

# P-14 (F-SSO-28): where Configuration.exe is: %BTSINSTALLPATH%, BizTalk's folder, the ESSO copy; held when the one
# sso_configure uses exists.
$catalogue['P-14'] = {
    $installPath = [Environment]::GetEnvironmentVariable('BTSINSTALLPATH', 'Machine')
    $programFiles = Split-Path -Parent $env:CommonProgramW6432
    $candidates = [ordered]@{
        BTSINSTALLPATH = if ($installPath) { Join-Path $installPath 'Configuration.exe' } else { '' }
        ProgramFilesX86 = Join-Path ([Environment]::GetEnvironmentVariable('ProgramFiles(x86)')) 'Microsoft BizTalk Server\Configuration.exe'
        Esso = Join-Path $essoDirectory 'Configuration.exe'
        HisWizard = Join-Path $programFiles 'Microsoft Host Integration Server\ConfigurationWizard.exe'
    }
    $exists = [ordered]@{}
    foreach ($name in $candidates.Keys) { $exists[$name] = [bool]($candidates[$name] -and (Test-Path -LiteralPath $candidates[$name] -PathType Leaf)) }
    $used = if ($Product -eq 'his') { $candidates.HisWizard } elseif ($installPath) { $candidates.BTSINSTALLPATH } else { $candidates.Esso }
    $evidence = [ordered]@{ BTSINSTALLPATH = [string]$installPath; paths = $candidates; exists = $exists; used = $used }
    if (-not (Get-EntssoService)) { return New-Verdict 'could not tell' 'needs a node where ENTSSO is installed' $evidence }
    if (Test-Path -LiteralPath $used -PathType Leaf) { return New-Verdict 'held' ('the scripts'' path exists: {0}' -f $used) $evidence }
    New-Verdict 'did not hold' ('the scripts'' path does not exist: {0}' -f $used) $evidence
}

# P-15 (F-SSO-25, F-SSO-35): ENTSSO's events since the service last started: IDs, levels, order (no messages).
$catalogue['P-15'] = {
    $service = Get-EntssoService
    if (-not $service -or [string]$service.State -ne 'Running') { return New-Verdict 'could not tell' 'needs a node where ENTSSO runs' }
    $started = (Get-Process -Id $service.ProcessId).StartTime
    $ids = 10511, 10520, 10521, 10523, 10524, 10532, 10534, 10559, 10560, 10565, 10575, 10589, 10766
    $filter = @{ LogName = 'Application'; ProviderName = 'ENTSSO'; Id = $ids; StartTime = $started }
    $found = @(Get-WinEvent -FilterHashtable $filter -ErrorAction SilentlyContinue | Sort-Object -Property TimeCreated)
    $documented = @{ 10511 = 'Error'; 10520 = 'Warning'; 10521 = 'Error'; 10523 = 'Information'; 10524 = 'Error'; 10532 = 'Warning'; 10534 = 'Information'; 10565 = 'Error'; 10575 = 'Information' }
    $events = @($found | ForEach-Object { [ordered]@{ id = [int]$_.Id; level = [string]$_.LevelDisplayName; timeCreated = $_.TimeCreated.ToString('o') } })
    $evidence = [ordered]@{ since = $started.ToString('o'); events = $events }
    if ($events.Count -eq 0) { return New-Verdict 'could not tell' 'no ENTSSO event of the table since the service started' $evidence }
    $other = @($events | Where-Object { $documented.ContainsKey($_.id) -and $documented[$_.id] -ne $_.level } | ForEach-Object { '{0} is {1}' -f $_.id, $_.level })
    if ($other.Count -eq 0) { return New-Verdict 'held' ('IDs and levels as documented; order at start: {0}' -f (@($events | ForEach-Object { $_.id }) -join ', ')) $evidence }
    New-Verdict 'did not hold' ('levels differ: {0}' -f ($other -join '; ')) $evidence
}

# P-16 (F-DTC-01, F-DTC-05): the clustered DTC instance's DtcName is its resource's name, and it answers on the node
# that owns the resource only; its live network settings are reported.
$catalogue['P-16'] = {
    if (-not $DtcRoleName) { return New-Verdict 'could not tell' 'needs a stack with a clustered DTC (dtc.enabled)' }
    $blocker = Get-ClusterBlocker
    if ($blocker) { return New-Verdict 'could not tell' $blocker }
    $dtc = Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $DtcRoleName -and $_.ResourceType.Name -eq 'Distributed Transaction Coordinator' } |
        Select-Object -First 1
    if (-not $dtc) { return New-Verdict 'could not tell' ("needs the DTC role '{0}' with its DTC resource (steps 14-17)" -f $DtcRoleName) }
    $owner = [string]$dtc.OwnerNode.Name
    $evidence = [ordered]@{ resource = [string]$dtc.Name; owner = $owner; getDtc = $null; byResourceName = $null; byRoleName = $null }
    try {
        $evidence.getDtc = @(Get-Dtc | ForEach-Object { [ordered]@{ dtcName = [string]$_.DtcName; virtualServerName = [string]$_.VirtualServerName } })
    } catch {
        $evidence.getDtc = Get-ErrorFacts $_
    }
    foreach ($pair in @(@('byResourceName', [string]$dtc.Name), @('byRoleName', $DtcRoleName))) {
        try {
            $settings = Get-DtcNetworkSetting -DtcName $pair[1]
            $evidence[$pair[0]] = [ordered]@{
                answered = $true; authenticationLevel = [string]$settings.AuthenticationLevel
                inbound = [bool]$settings.InboundTransactionsEnabled; outbound = [bool]$settings.OutboundTransactionsEnabled
                remoteClients = [bool]$settings.RemoteClientAccessEnabled; remoteAdministration = [bool]$settings.RemoteAdministrationAccessEnabled
                xa = [bool]$settings.XATransactionsEnabled; lu = [bool]$settings.LUTransactionsEnabled
            }
        } catch {
            $evidence[$pair[0]] = [ordered]@{ answered = $false; error = Get-ErrorFacts $_ }
        }
    }
    $answers = [bool]$evidence.byResourceName.answered
    if ($owner -eq $env:COMPUTERNAME) {
        if ($answers) { return New-Verdict 'held' ("-DtcName '{0}' answers on the owner" -f $dtc.Name) $evidence }
        return New-Verdict 'did not hold' ("-DtcName '{0}' does not answer on the owner" -f $dtc.Name) $evidence
    }
    if ($answers) { return New-Verdict 'did not hold' ("-DtcName '{0}' answers here, on a node that does not own it ({1} does)" -f $dtc.Name, $owner) $evidence }
    New-Verdict 'held' ("-DtcName '{0}' does not answer here; {1} owns it" -f $dtc.Name, $owner) $evidence
}

# P-17 (F-FS-01): C:\ProgramData lets BUILTIN\Users read what is created under it (an inheritable Allow rule); the
# backup folder's rules are reported (finding 21 makes them private).
$catalogue['P-17'] = {
    $rules = {
        param([string]$Path)
        @((Get-Acl -LiteralPath $Path).Access | ForEach-Object {
                [ordered]@{
                    identity = [string]$_.IdentityReference; rights = [string]$_.FileSystemRights; type = [string]$_.AccessControlType
                    inherited = [bool]$_.IsInherited; inheritance = [string]$_.InheritanceFlags
                }
            })
    }
    $shared = @(& $rules $env:ProgramData)
    $evidence = [ordered]@{ programData = $shared; backupDirectory = $BackupDirectory; backupRules = $null }
    if ($BackupDirectory -and (Test-Path -LiteralPath $BackupDirectory -PathType Container)) { $evidence.backupRules = @(& $rules $BackupDirectory) }
    if ($shared.Count -eq 0) { return New-Verdict 'could not tell' ('Get-Acl lists no access rule on {0}' -f $env:ProgramData) $evidence }
    $users = @($shared | Where-Object {
            $_.identity -eq 'BUILTIN\Users' -and $_.type -eq 'Allow' -and $_.rights -match 'Read|FullControl|Modify' -and $_.inheritance -match 'ContainerInherit'
        })
    if ($users.Count -gt 0) { return New-Verdict 'held' ('BUILTIN\Users may read what is created under {0} (inherited)' -f $env:ProgramData) $evidence }
    New-Verdict 'did not hold' ('no inheritable read rule for BUILTIN\Users on {0}' -f $env:ProgramData) $evidence
}

# P-18 (F-REM-01): the WinRM service's configuration against Windows' defaults (differences reported).
$catalogue['P-18'] = {
    $defaults = [ordered]@{
        'Service\AllowUnencrypted' = 'false'; 'Service\Auth\Basic' = 'false'; 'Service\Auth\Certificate' = 'false'
        'Service\Auth\Kerberos' = 'true'; 'Service\Auth\Negotiate' = 'true'; 'Service\Auth\CredSSP' = 'false'
        'Service\Auth\CbtHardeningLevel' = 'Relaxed'; 'Service\MaxConcurrentOperationsPerUser' = '1500'
        'Service\EnumerationTimeoutms' = '60000'; 'Service\MaxConnections' = '300'; 'MaxEnvelopeSizekb' = '150'
        'MaxTimeoutms' = '60000'; 'Shell\IdleTimeout' = '180000'; 'Shell\MaxConcurrentUsers' = '5'
        'Shell\MaxProcessesPerShell' = '15'; 'Shell\MaxMemoryPerShellMB' = '150'; 'Shell\MaxShellsPerUser' = '5'
    }
    $values = [ordered]@{}
    $differences = @()
    foreach ($name in $defaults.Keys) {
        $values[$name] = [string](Get-Item -LiteralPath ('WSMan:\localhost\' + $name)).Value
        if ($values[$name] -ne $defaults[$name]) { $differences += ('{0} is {1} (default {2})' -f $name, $values[$name], $defaults[$name]) }
    }
    $listeners = @(Get-ChildItem -LiteralPath 'WSMan:\localhost\Listener' | ForEach-Object { [string]$_.Keys -join ' ' })
    $evidence = [ordered]@{ values = $values; listeners = $listeners; differences = $differences }
    if ($differences.Count -eq 0) { return New-Verdict 'held' 'every value is the documented default' $evidence }
    New-Verdict 'did not hold' ($differences -join '; ') $evidence
}

# P-19 (F-PS-02, F-PS-03, F-PS-09): strict mode's texts and ErrorIds, ConvertTo-Json's silent depth and numeric enums.
$catalogue['P-19'] = {
    $expected = "The property '{0}' cannot be found on this object. Verify that the property exists."
    $cases = [ordered]@{
        '(1).Count'                  = @('Count', { Set-StrictMode -Version Latest; (1).Count })
        '$null.Foo'                  = @('Foo', { Set-StrictMode -Version Latest; $null.Foo })
        '(New-Object psobject).Foo'  = @('Foo', { Set-StrictMode -Version Latest; (New-Object -TypeName psobject).Foo })
    }
    $seen = [ordered]@{}
    $differences = @()
    foreach ($case in $cases.Keys) {
        $property, $block = $cases[$case]
        $outcome = [ordered]@{ errorId = ''; message = '' }
        try { $null = & $block } catch { $outcome.errorId = [string]$_.FullyQualifiedErrorId; $outcome.message = [string]$_.Exception.Message }
        $seen[$case] = $outcome
        if ($outcome.errorId -ne 'PropertyNotFoundStrict' -or $outcome.message -ne ($expected -f $property)) { $differences += $case }
    }
    $warnings = $null
    $deep = @{ a = @{ b = @{ c = @{ d = 1 } } } }
    $json = ConvertTo-Json -InputObject $deep -Compress -WarningVariable warnings -WarningAction SilentlyContinue
    $enum = ConvertTo-Json -InputObject ([Reflection.BindingFlags]::Instance)
    $seen['ConvertTo-Json depth 4'] = [ordered]@{ output = [string]$json; warnings = @($warnings | ForEach-Object { [string]$_ }) }
    $seen['ConvertTo-Json [Reflection.BindingFlags]::Instance'] = [string]$enum
    if (@($warnings).Count -gt 0 -and $warnings) { $differences += 'ConvertTo-Json warned about the depth' }
    if ([string]$enum -ne '4') { $differences += 'an enum was not written as its number' }
    $evidence = [ordered]@{ cases = $seen; psVersion = [string]$PSVersionTable.PSVersion }
    if ($differences.Count -eq 0) { return New-Verdict 'held' 'the texts, ErrorIds and ConvertTo-Json output are as assumed' $evidence }
    New-Verdict 'did not hold' ('differs: {0}' -f ($differences -join '; ')) $evidence
}

# P-20 (F-SVC-04, F-SVC-12): Get-WindowsFeature objects have Name, Installed, InstallState; the clustering features.
$catalogue['P-20'] = {
    $feature = Get-WindowsFeature -Name Failover-Clustering | Select-Object -First 1
    if (-not $feature) { return New-Verdict 'could not tell' 'Get-WindowsFeature knows no Failover-Clustering feature here' }
    $properties = @($feature.PSObject.Properties | ForEach-Object { [string]$_.Name })
    $clustering = @(Get-WindowsFeature -Name 'RSAT-Clustering*' | ForEach-Object {
            [ordered]@{ name = [string]$_.Name; installState = [string]$_.InstallState; parent = [string]$_.Parent }
        })
    $evidence = [ordered]@{ properties = $properties; clusteringFeatures = $clustering }
    $missing = @('Name', 'Installed', 'InstallState' | Where-Object { $properties -notcontains $_ })
    if ($missing.Count -eq 0) { return New-Verdict 'held' 'Name, Installed and InstallState exist' $evidence }
    New-Verdict 'did not hold' ('missing: {0}' -f ($missing -join ', ')) $evidence
}

# P-21 (F-AZ-01): an inbound Allow rule of the guest firewall admits each load balancer probe port.
$catalogue['P-21'] = {
    if ($ProbePort.Count -eq 0) { return New-Verdict 'could not tell' 'needs the stack''s probe ports' }
    $filters = @(Get-NetFirewallPortFilter -Protocol TCP)
    $ports = [ordered]@{}
    $blocked = @()
    foreach ($port in $ProbePort) {
        $rules = @($filters | Where-Object { @($_.LocalPort) -contains [string]$port } | Get-NetFirewallRule | ForEach-Object {
                [ordered]@{ name = [string]$_.Name; enabled = [string]$_.Enabled; direction = [string]$_.Direction; action = [string]$_.Action }
            })
        $ports[[string]$port] = $rules
        $allowed = @($rules | Where-Object { $_.enabled -eq 'True' -and $_.direction -eq 'Inbound' -and $_.action -eq 'Allow' })
        if ($allowed.Count -eq 0) { $blocked += $port }
    }
    $evidence = [ordered]@{ ports = $ports }
    if ($blocked.Count -eq 0) { return New-Verdict 'held' 'an inbound Allow rule admits every probe port' $evidence }
    New-Verdict 'did not hold' ('no inbound Allow rule for port(s) {0}: the load balancer probe is blocked (review B3)' -f ($blocked -join ', ')) $evidence
}

# P-22 (F-SSO-13, F-SSO-18): ssomanage -displaydb works through a running SSO service: with ENTSSO stopped it reports
# 0x800706BA or 0xC0002A0F; where ENTSSO runs it prints 'Using SSO server' and the secret server's name.
$catalogue['P-22'] = {
    $tool = Join-Path $essoDirectory 'ssomanage.exe'
    if (-not (Test-Path -LiteralPath $tool -PathType Leaf)) { return New-Verdict 'could not tell' ('needs ENTSSO installed: there is no {0}' -f $tool) }
    $service = Get-EntssoService
    $state = if ($service) { [string]$service.State } else { '' }
    $ErrorActionPreference = 'Continue'  # 5.1 turns a native program's redirected stderr into error records (F-PS-07)
    $lines = @(& $tool -displaydb 2>&1 | ForEach-Object { [string]$_ })
    $code = $LASTEXITCODE
    $ErrorActionPreference = 'Stop'
    $evidence = [ordered]@{ entsso = $state; exitCode = $code; output = $lines }
    $text = $lines -join "`n"
    $first = @($lines | Where-Object { $_.Trim() } | Select-Object -First 1)
    if ($state -ne 'Running') {
        if ($text -match '0x800706BA|0xC0002A0F') { return New-Verdict 'held' 'with ENTSSO stopped, ssomanage reports that it cannot reach the SSO service' $evidence }
        if ($first.Count -gt 0 -and $first[0] -match '^Using SSO server') { return New-Verdict 'did not hold' 'ssomanage answered with ENTSSO stopped' $evidence }
        return New-Verdict 'could not tell' 'ssomanage printed neither an RPC error nor ''Using SSO server''' $evidence
    }
    if ($first.Count -gt 0 -and $first[0] -match '^Using SSO server') {
        $named = @($SecretServerName | Where-Object { $_ -and $text -match [regex]::Escape($_) })
        if ($named.Count -gt 0) { return New-Verdict 'held' ('ssomanage answered through the running service and names {0}' -f $named[0]) $evidence }
        return New-Verdict 'did not hold' 'ssomanage answered but names none of the expected secret servers' $evidence
    }
    if ($text -match '0x800706BA|0xC0002A0F') { return New-Verdict 'did not hold' 'ssomanage could not reach the running SSO service' $evidence }
    New-Verdict 'could not tell' 'ssomanage printed neither an RPC error nor ''Using SSO server''' $evidence
}

# P-23 (F-SVC-07): after configuration and before the procedure hands ENTSSO to the cluster, its start mode is Auto.
$catalogue['P-23'] = {
    $service = Get-EntssoService
    if (-not $service) { return New-Verdict 'could not tell' 'needs a node where ENTSSO is installed and configured' }
    $evidence = [ordered]@{ startMode = [string]$service.StartMode; state = [string]$service.State; startName = [string]$service.StartName; clusterResource = '' }
    if ($evidence.startMode -eq 'Auto') { return New-Verdict 'held' 'StartMode Auto' $evidence }
    if (-not (Get-SsoState).configured) { return New-Verdict 'could not tell' 'needs a node where ENTSSO is configured' $evidence }
    if (-not (Get-ClusterBlocker)) {
        $resource = Get-ClusterResource | Where-Object { $_.ResourceType.Name -eq 'Generic Service' -and ($_ | Get-ClusterParameter -Name ServiceName).Value -eq 'ENTSSO' } |
            Select-Object -First 1
        if ($resource) { $evidence.clusterResource = [string]$resource.Name }
    }
    $renamed = Get-WinEvent -FilterHashtable @{ LogName = 'Application'; ProviderName = 'ENTSSO'; Id = 10575 } -MaxEvents 1 -ErrorAction SilentlyContinue
    # Steps 9-13 stop ENTSSO with startup Manual (SecretServerName, 10575 on the node that ran -updatedb) and steps
    # 19-21 give it to the cluster: a node past either shows the procedure's start mode, not configuration's.
    if ($evidence.clusterResource -or $renamed -or $evidence.state -ne 'Running') {
        return New-Verdict 'could not tell' ('StartMode {0} may be the procedure''s (steps 9-13 or 19-21): needs a node between configuration and step 9' -f $evidence.startMode) $evidence
    }
    New-Verdict 'did not hold' ('StartMode {0} on a configured node before step 9' -f $evidence.startMode) $evidence
}

# P-24 (F-CLU-29): a cluster nobody tuned has SameSubnetDelay 1000, SameSubnetThreshold 20, CrossSubnetDelay 1000,
# CrossSubnetThreshold 20 (Windows Server 2019's defaults, assumed for 2022).
$catalogue['P-24'] = {
    $blocker = Get-ClusterBlocker
    if ($blocker) { return New-Verdict 'could not tell' $blocker }
    $cluster = Get-Cluster
    $values = [ordered]@{
        SameSubnetDelay = [int]$cluster.SameSubnetDelay; SameSubnetThreshold = [int]$cluster.SameSubnetThreshold
        CrossSubnetDelay = [int]$cluster.CrossSubnetDelay; CrossSubnetThreshold = [int]$cluster.CrossSubnetThreshold
    }
    $evidence = [ordered]@{ heartbeat = $values }
    if ($HeartbeatTuned) { return New-Verdict 'could not tell' 'needs a cluster nobody tuned: this stack sets the heartbeat (its values are reported)' $evidence }
    $shown = '{0}, {1}, {2}, {3}' -f $values.SameSubnetDelay, $values.SameSubnetThreshold, $values.CrossSubnetDelay, $values.CrossSubnetThreshold
    if ($shown -eq '1000, 20, 1000, 20') { return New-Verdict 'held' '1000 ms and 20 heartbeats, same and cross subnet' $evidence }
    New-Verdict 'did not hold' ('delays and thresholds are {0}' -f $shown) $evidence
}

# P-25 (F-AZ-04): the shared disk's PhysicalLocation ends in 'LUN <n>' on adapter 1, and no other data disk's does.
$catalogue['P-25'] = {
    if ($DtcDiskLun -lt 0) { return New-Verdict 'could not tell' 'needs a stack with a clustered DTC disk (dtc.enabled)' }
    $disks = @{}
    Get-Disk | ForEach-Object { $disks[[string]$_.Number] = $_ }
    $listed = @(Get-PhysicalDisk | ForEach-Object {
            $disk = $disks[[string]$_.DeviceId]
            [ordered]@{
                deviceId = [string]$_.DeviceId; physicalLocation = [string]$_.PhysicalLocation
                isBoot = [bool]($disk -and $disk.IsBoot); isSystem = [bool]($disk -and $disk.IsSystem)
                partitionStyle = if ($disk) { [string]$disk.PartitionStyle } else { '' }
            }
        })
    $evidence = [ordered]@{ lun = $DtcDiskLun; disks = $listed }
    $ending = ' : LUN {0}$' -f $DtcDiskLun
    $data = @($listed | Where-Object { -not $_.isBoot -and -not $_.isSystem -and $_.physicalLocation -match $ending })
    $onAdapter1 = @($data | Where-Object { $_.physicalLocation -match 'Adapter 1 :' })
    if ($onAdapter1.Count -eq 0) {
        return New-Verdict 'could not tell' ('needs the shared disk attached at LUN {0}: no data disk on adapter 1 ends in LUN {0}' -f $DtcDiskLun) $evidence
    }
    if ($data.Count -eq 1) { return New-Verdict 'held' ('disk {0} alone ends in LUN {1}, on adapter 1' -f $onAdapter1[0].deviceId, $DtcDiskLun) $evidence }
    New-Verdict 'did not hold' ('{0} data disk(s) end in LUN {1}, {2} on adapter 1' -f $data.Count, $DtcDiskLun, $onAdapter1.Count) $evidence
}

$selected = if ($Probe.Count -gt 0) { $Probe } else { @($catalogue.Keys) }
$unknown = @($selected | Where-Object { -not $catalogue.Contains($_) })
if ($unknown.Count -gt 0) { throw ('No such probe: {0}. The probes are {1}.' -f ($unknown -join ', '), (@($catalogue.Keys) -join ', ')) }
$results = @()
foreach ($id in $selected) {
    try {
        $answer = & $catalogue[$id]
    } catch {
        $answer = New-Verdict 'could not tell' ('the probe failed: {0}' -f $_.Exception.Message) ([ordered]@{ error = Get-ErrorFacts $_ })
    }
    $results += [ordered]@{ id = $id; verdict = $answer.verdict; reason = $answer.reason; evidence = $answer.evidence }
}
[ordered]@{ computerName = $env:COMPUTERNAME; os = Get-OsBuild; probes = $results }
