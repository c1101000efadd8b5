# The script library: the helpers the operation scripts share, one copy each (docs/contracts.md 1).
# The bootstrap dot-sources it before it runs the operation's script, so every function here is visible to
# the operation. Functions only: loading the library changes nothing else. Windows PowerShell 5.1.
Set-StrictMode -Version Latest

function Invoke-Delegated {
    # The WinRM double hop: this work needs network credentials (remote SQL, AD, the other node). Over CredSSP the
    # session holds them; otherwise it runs once as a scheduled task under TaskUser, registered through Task
    # Scheduler's COM API so that the password is a method argument, not a cmdlet parameter module logging would
    # record (finding 22). The job and its result cross the disk DPAPI-sealed in a directory only SYSTEM,
    # Administrators and TaskUser can open; the task deletes the job once read, writes its result, then a 'done'
    # marker. The task is waited for until it has ended, never unregistered while it runs, stopped at the
    # deadline; the result is read only after the marker. The directory and every path in -Cleanup (files the work
    # writes, such as an answer file) are removed whatever happened; one that cannot be removed is an error naming it.
    param([scriptblock]$Work, [hashtable]$Arguments, [string]$Mode, [string]$User, [string]$Password,
        [string[]]$Cleanup = @(), [int]$TimeoutSeconds = 1800)
    $failure = $null
    $result = @()
    $dir = $null
    $task = ''
    $folder = $null
    $registered = $null
    $ended = $true
    try {
        if ($Mode -eq 'CredSSP') {
            $result = @(& $Work @Arguments)
        } else {
            if (-not $User -or -not $Password) { throw 'DelegationMode ScheduledTask needs TaskUser and TaskPassword.' }
            Add-Type -AssemblyName System.Security
            $scope = [Security.Cryptography.DataProtectionScope]::LocalMachine
            $dir = Join-Path $env:ProgramData ('EntssoTask-' + [guid]::NewGuid().ToString('N'))
            $task = Split-Path -Leaf $dir
            $acl = New-Object -TypeName Security.AccessControl.DirectorySecurity
            $acl.SetAccessRuleProtection($true, $false)
            foreach ($who in @('NT AUTHORITY\SYSTEM', 'BUILTIN\Administrators', $User)) {
                $rule = New-Object -TypeName Security.AccessControl.FileSystemAccessRule -ArgumentList @(
                    $who, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')
                $acl.AddAccessRule($rule)
            }
            New-Item -ItemType Directory -Path $dir | Out-Null
            Set-Acl -LiteralPath $dir -AclObject $acl
            $job = [Management.Automation.PSSerializer]::Serialize(@{ Work = $Work.ToString(); Arguments = $Arguments })
            $sealed = [Security.Cryptography.ProtectedData]::Protect([Text.Encoding]::UTF8.GetBytes($job), $null, $scope)
            [IO.File]::WriteAllBytes((Join-Path $dir 'job.bin'), $sealed)
            Set-Content -LiteralPath (Join-Path $dir 'run.ps1') -Encoding UTF8 -Value @'
param([string]$Dir)
Add-Type -AssemblyName System.Security
$scope = [Security.Cryptography.DataProtectionScope]::LocalMachine
$bytes = [Security.Cryptography.ProtectedData]::Unprotect([IO.File]::ReadAllBytes("$Dir\job.bin"), $null, $scope)
Remove-Item -LiteralPath "$Dir\job.bin" -Force
$job = [Management.Automation.PSSerializer]::Deserialize([Text.Encoding]::UTF8.GetString($bytes))
$arguments = @{}
foreach ($entry in $job.Arguments.GetEnumerator()) { $arguments[$entry.Key] = $entry.Value }
try { $outcome = @{ Ok = $true; Result = @(& ([scriptblock]::Create($job.Work)) @arguments) } }
catch { $outcome = @{ Ok = $false; Message = $_.Exception.Message } }
$bytes = [Text.Encoding]::UTF8.GetBytes([Management.Automation.PSSerializer]::Serialize($outcome))
[IO.File]::WriteAllBytes("$Dir\result.bin", [Security.Cryptography.ProtectedData]::Protect($bytes, $null, $scope))
[IO.File]::WriteAllBytes("$Dir\done", [byte[]]@())
'@
            $service = New-Object -ComObject Schedule.Service
            $service.Connect()
            $definition = $service.NewTask(0)
            $definition.Principal.RunLevel = 1  # TASK_RUNLEVEL_HIGHEST
            $exec = $definition.Actions.Create(0)  # TASK_ACTION_EXEC
            $exec.Path = 'powershell.exe'
            $exec.Arguments = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{0}\run.ps1" -Dir "{0}"' -f $dir
            $folder = $service.GetFolder('\')
            # TASK_CREATE (2), TASK_LOGON_PASSWORD (1): Task Scheduler checks the password now and keeps it itself.
            $registered = $folder.RegisterTaskDefinition($task, $definition, 2, $User, $Password, 1)
            $ended = $false
            $code = 0
            $registered.Run($null) | Out-Null
            $deadline = (Get-Date).AddSeconds($TimeoutSeconds)
            while (-not $ended) {
                Start-Sleep -Milliseconds 500
                $code = $registered.LastTaskResult
                # TASK_STATE_QUEUED 2, TASK_STATE_RUNNING 4; SCHED_S_TASK_RUNNING 267009, SCHED_S_TASK_HAS_NOT_RUN 267011
                $ended = $registered.State -notin 2, 4 -and $code -notin 267009, 267011
                if (-not $ended -and (Get-Date) -gt $deadline) {
                    $registered.Stop(0)
                    $stopBy = (Get-Date).AddSeconds(60)
                    while (-not $ended -and (Get-Date) -lt $stopBy) {
                        Start-Sleep -Milliseconds 500
                        $ended = $registered.State -notin 2, 4
                    }
                    throw ('The scheduled task {0} did not finish within {1} seconds and was stopped.' -f $task, $TimeoutSeconds)
                }
            }
            if (-not (Test-Path -LiteralPath (Join-Path $dir 'done'))) {
                throw ('The scheduled task {0} ended with 0x{1:X8} and no result.' -f $task, $code)
            }
            $bytes = [Security.Cryptography.ProtectedData]::Unprotect([IO.File]::ReadAllBytes((Join-Path $dir 'result.bin')), $null, $scope)
            $outcome = [Management.Automation.PSSerializer]::Deserialize([Text.Encoding]::UTF8.GetString($bytes))
            if (-not $outcome.Ok) { throw $outcome.Message }
            $result = @($outcome.Result)
        }
    } catch {
        $failure = $_
    }
    $remaining = @()
    if ($registered) {
        if ($ended) {
            try { $folder.DeleteTask($task, 0) } catch { $remaining += "scheduled task $task ($($_.Exception.Message))" }
        } else {
            $remaining += "scheduled task $task (still running)"
        }
    }
    foreach ($path in @(@($dir) + @($Cleanup) | Where-Object { $_ })) {
        if (Test-Path -LiteralPath $path) {
            try { Remove-Item -LiteralPath $path -Recurse -Force -ErrorAction Stop } catch { $remaining += "$path ($($_.Exception.Message))" }
        }
    }
    if ($remaining.Count -gt 0) {
        $text = 'Cleanup failed on {0}; remove by hand: {1}' -f $env:COMPUTERNAME, ($remaining -join '; ')
        if ($failure) { $text = '{0} {1}' -f $failure.Exception.Message, $text }
        throw $text
    }
    if ($failure) { throw $failure }
    $result
}

function Find-ClusterGroup {
    # The role named $Name, or nothing. Lists every role and filters, so a missing name is never an error: whether
    # Get-ClusterGroup -Name <missing> is a terminating error is not documented (F-CLU-20, probe P-02).
    param([string]$Name)
    Get-ClusterGroup | Where-Object { $_.Name -eq $Name } | Select-Object -First 1
}

function Find-ClusterResource {
    # The resource named $Name, or nothing (as Find-ClusterGroup, F-CLU-20).
    param([string]$Name)
    Get-ClusterResource | Where-Object { $_.Name -eq $Name } | Select-Object -First 1
}

function Get-Quorum {
    # Get-ClusterQuorum: QuorumType is Majority for node majority and for every witness on Windows Server 2016 and
    # later; the witness is the cluster's own QuorumResource, its kind the type's DisplayName (F-CLU-07).
    $settings = Get-ClusterQuorum
    $quorum = [ordered]@{ type = [string]$settings.QuorumType; witness = ''; witnessAccountName = ''; witnessEndpoint = '' }
    $resource = $settings.QuorumResource
    if ($resource) {
        $quorum.witness = [string]$resource.ResourceType.DisplayName
        if ($quorum.witness -eq 'Cloud Witness') {
            $p = @{}
            $resource | Get-ClusterParameter | ForEach-Object { $p[$_.Name] = $_.Value }
            $quorum.witnessAccountName = [string]$p['AccountName']
            $quorum.witnessEndpoint = [string]$p['EndpointInfo']
        }
    }
    $quorum
}

function Get-ClusterState {
    # The cluster this node is a member of. Get-Cluster on a node whose cluster service does not run (not clustered
    # yet, or ClusSvc stopped) raises a terminating error that -ErrorAction SilentlyContinue cannot silence: it is
    # caught here by its id, anything else still fails (F-CLU-01). Newer builds may only warn and return nothing.
    $absent = [ordered]@{ exists = $false; name = ''; nodes = @(); managementPointNetworkType = ''; quorum = $null; heartbeat = $null }
    try {
        $cluster = Get-Cluster
    } catch {
        if ($_.FullyQualifiedErrorId -like 'ClusterEndpointNotRegistered,*') { return $absent }
        throw
    }
    if (-not $cluster) { return $absent }
    # The management point is the cluster's own core name, not any network name anywhere (F-CLU-09, finding 4).
    $core = Get-ClusterResource | Where-Object { $_.IsCoreResource -and $_.ResourceType.Name -in 'Network Name', 'Distributed Network Name' } |
        Select-Object -First 1
    [ordered]@{
        exists                     = $true
        name                       = [string]$cluster.Name
        nodes                      = @(Get-ClusterNode | ForEach-Object { [ordered]@{ name = [string]$_.Name; state = [string]$_.State } })
        managementPointNetworkType = if (-not $core) { '' } elseif ($core.ResourceType.Name -eq 'Distributed Network Name') { 'Distributed' } else { 'Singleton' }
        quorum                     = Get-Quorum
        heartbeat                  = [ordered]@{
            sameSubnetDelay      = [int]$cluster.SameSubnetDelay
            sameSubnetThreshold  = [int]$cluster.SameSubnetThreshold
            crossSubnetDelay     = [int]$cluster.CrossSubnetDelay
            crossSubnetThreshold = [int]$cluster.CrossSubnetThreshold
        }
    }
}

function Get-RoleState {
    param([string]$Name, [string]$ResourceName)
    $group = Find-ClusterGroup -Name $Name
    if (-not $group) { return [ordered]@{ exists = $false; name = $Name } }
    $resources = @(Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $Name })
    $ip = $resources | Where-Object { $_.ResourceType.Name -eq 'IP Address' } | Select-Object -First 1
    $networkName = $resources | Where-Object { $_.ResourceType.Name -eq 'Network Name' } | Select-Object -First 1
    $service = $resources | Where-Object { $_.Name -eq $ResourceName } | Select-Object -First 1
    $state = [ordered]@{
        exists          = $true
        name            = $group.Name
        state           = [string]$group.State
        ownerNode       = $group.OwnerNode.Name
        preferredOwners = @((Get-ClusterOwnerNode -Group $Name).OwnerNodes | ForEach-Object { $_.Name })
        ipAddress       = $null
        networkName     = $null
        service         = $null
        # Deny entries are listed too, and a Deny is not a grant (F-CLU-10)
        clusterAccess   = @(Get-ClusterAccess | ForEach-Object {
            [ordered]@{ account = [string]$_.IdentityReference; access = [string]$_.ClusterRights; type = [string]$_.AccessControlType }
        })
    }
    if ($ip) {
        $p = @{}
        $ip | Get-ClusterParameter | ForEach-Object { $p[$_.Name] = $_.Value }
        $state.ipAddress = [ordered]@{
            resource = $ip.Name; address = [string]$p['Address']; subnetMask = [string]$p['SubnetMask']; probePort = [int]$p['ProbePort']
            enableDhcp = [int]$p['EnableDhcp']; overrideAddressMatch = [int]$p['OverrideAddressMatch']; state = [string]$ip.State
        }
    }
    if ($networkName) {
        $dnsName = ($networkName | Get-ClusterParameter -Name DnsName).Value
        $state.networkName = [ordered]@{ resource = $networkName.Name; dnsName = [string]$dnsName; state = [string]$networkName.State }
    }
    if ($service) {
        $p = @{}
        $service | Get-ClusterParameter | ForEach-Object { $p[$_.Name] = $_.Value }
        $expression = [string](Get-ClusterResourceDependency -Resource $service.Name).DependencyExpression
        $state.service = [ordered]@{
            resource       = $service.Name
            type           = $service.ResourceType.Name
            serviceName    = [string]$p['ServiceName']
            useNetworkName = [int]$p['UseNetworkName']
            possibleOwners = @((Get-ClusterOwnerNode -Resource $service.Name).OwnerNodes | ForEach-Object { $_.Name })
            dependencies   = @([regex]::Matches($expression, '\[([^\]]+)\]') | ForEach-Object { $_.Groups[1].Value })
            state          = [string]$service.State
        }
    }
    $state
}

function Get-DtcState {
    # The clustered DTC role. Its network settings belong to the DTC instance named after the DTC resource, which
    # lives on the node that owns the resource (F-DTC-01): read them there only; elsewhere networkSettings is
    # $null and ownerNode says where to ask.
    param([string]$Name)
    $resources = @(Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $Name })
    $dtc = $resources | Where-Object { $_.ResourceType.Name -eq 'Distributed Transaction Coordinator' } | Select-Object -First 1
    if (-not $dtc) { return [ordered]@{ exists = $false; name = $Name } }
    $ip = $resources | Where-Object { $_.ResourceType.Name -eq 'IP Address' } | Select-Object -First 1
    $disk = $resources | Where-Object { $_.ResourceType.Name -eq 'Physical Disk' } | Select-Object -First 1
    $expression = [string](Get-ClusterResourceDependency -Resource $dtc.Name).DependencyExpression
    $owner = [string]$dtc.OwnerNode.Name
    $p = @{}
    if ($ip) { $ip | Get-ClusterParameter | ForEach-Object { $p[$_.Name] = $_.Value } }
    $settings = $null
    if ($owner -eq $env:COMPUTERNAME) {
        $network = Get-DtcNetworkSetting -DtcName $dtc.Name
        $settings = [ordered]@{
            inboundTransactionsEnabled  = [bool]$network.InboundTransactionsEnabled
            outboundTransactionsEnabled = [bool]$network.OutboundTransactionsEnabled
            remoteClientAccessEnabled   = [bool]$network.RemoteClientAccessEnabled
            authenticationLevel         = [string]$network.AuthenticationLevel
        }
    }
    [ordered]@{
        exists          = $true
        name            = $Name
        resource        = $dtc.Name
        state           = [string]$dtc.State
        ownerNode       = $owner
        ipAddress       = [string]$p['Address']
        probePort       = [int]$p['ProbePort']
        disk            = if ($disk) { $disk.Name } else { '' }
        dependencies    = @([regex]::Matches($expression, '\[([^\]]+)\]') | ForEach-Object { $_.Groups[1].Value })
        networkSettings = $settings
    }
}

function Get-RegistryValue {
    # A registry value that may be absent: $null when the key or the value is not there, never an error under
    # strict mode (F-PS-16, F-PS-02). ENTSSO's value names are not public (F-SSO-05, F-SSO-06), so every read of them
    # goes through here.
    param([string]$Path, [string]$Name)
    $item = Get-ItemProperty -LiteralPath $Path -ErrorAction SilentlyContinue
    if (-not $item) { return $null }
    $property = $item.PSObject.Properties[$Name]
    if ($property) { $property.Value } else { $null }
}

function Get-SsoState {
    # ENTSSO keeps its SQL Server and SSODB names in the registry under names no public source confirms (F-SSO-06,
    # assumed SQL\Server and SQL\Database): the node counts as configured only when the service exists and both
    # names are there; either may be absent.
    $service = Get-CimInstance -ClassName Win32_Service -Filter "Name='ENTSSO'"
    $sqlKey = 'HKLM:\SOFTWARE\Microsoft\ENTSSO\SQL'
    $sqlServer = [string](Get-RegistryValue -Path $sqlKey -Name 'Server')
    $database = [string](Get-RegistryValue -Path $sqlKey -Name 'Database')
    [ordered]@{
        computerName = $env:COMPUTERNAME
        installed    = [bool]$service
        configured   = [bool]($service -and $sqlServer -and $database)
        sqlServer    = $sqlServer
        database     = $database
        service      = if ($service) {
            [ordered]@{ name = 'ENTSSO'; state = [string]$service.State; startMode = [string]$service.StartMode; account = [string]$service.StartName }
        } else { $null }
    }
}

function Get-SsoStartEvent {
    # The newest ENTSSO event with one of $Id since the running service's process started, or $null (F-SSO-25).
    param([int[]]$Id)
    $service = Get-CimInstance -ClassName Win32_Service -Filter "Name='ENTSSO'"
    if (-not $service -or $service.State -ne 'Running') { return $null }
    $started = (Get-Process -Id $service.ProcessId).StartTime
    $filter = @{ LogName = 'Application'; ProviderName = 'ENTSSO'; Id = $Id; StartTime = $started }
    Get-WinEvent -FilterHashtable $filter -MaxEvents 1 -ErrorAction SilentlyContinue
}

function Get-SecretState {
    # The master secret is stored per node under SSOSS, one subkey per secret named by its MSID (F-SSO-04). The
    # value that says which subkey is current (CurrentMSID) and the previous MSID are assumed names (F-SSO-05) and
    # may be absent (a fresh master has no previous secret): the current MSID is CurrentMSID when it names a
    # subkey, else the only subkey there is. Loaded: the running service's latest secret event since it started
    # is 10534 (it is the master and found the secret) or 10523 (restored), not 10520/10521/10565.
    $root = 'HKLM:\SOFTWARE\Microsoft\ENTSSO\SSOSS'
    $ids = @()
    if (Test-Path -LiteralPath $root) { $ids = @(Get-ChildItem -LiteralPath $root | ForEach-Object { [string]$_.PSChildName }) }
    $current = [string](Get-RegistryValue -Path $root -Name 'CurrentMSID')
    if ($ids -notcontains $current) { $current = if ($ids.Count -eq 1) { $ids[0] } else { '' } }
    $previous = ''
    if ($current) { $previous = [string](Get-RegistryValue -Path (Join-Path $root $current) -Name 'PreviousMSID') }
    $latest = $null
    if ($current) { $latest = Get-SsoStartEvent -Id 10520, 10521, 10523, 10534, 10565 }
    [ordered]@{
        computerName = $env:COMPUTERNAME; present = [bool]$ids.Count; secretId = $current; previousSecretId = $previous
        loaded = [bool]($latest -and $latest.Id -in 10523, 10534)
    }
}

function Invoke-SsoComMember {
    # One member of ENTSSO's configuration object (F-SSO-07) through Type.InvokeMember, which wraps the COM failure
    # in TargetInvocationException (F-PS-12) inside PowerShell's MethodInvocationException (F-PS-11): the failure is
    # reported as the innermost exception's text with its HRESULT (ErrorId "HRESULT 0x........"). Out parameters
    # come back in the array (F-PS-13).
    param([string]$Interface, [string]$Member, [object[]]$Arguments)
    Add-Type -Path (Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On\Microsoft.EnterpriseSingleSignOn.Interop.dll')
    $config = New-Object -TypeName 'Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM'
    $flags = [Reflection.BindingFlags]::InvokeMethod -bor [Reflection.BindingFlags]::Instance
    $type = switch ($Interface) {
        'ISSOConfigSS' { [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigSS] }
        'ISSOConfigDB' { [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigDB] }
        'ISSOConfigOM' { [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigOM] }
    }
    try {
        $type.InvokeMember($Member, $flags, $null, $config, $Arguments) | Out-Null
    } catch {
        $failure = $_.Exception
        while ($failure.InnerException) { $failure = $failure.InnerException }
        $code = '0x{0:X8}' -f $failure.HResult
        Write-Error -Message ('{0}.{1} failed with {2}: {3}' -f $Interface, $Member, $code, $failure.Message) -ErrorId "HRESULT $code" -Category NotSpecified
    }
}

function Get-SecretServer {
    # SSODB's global information through ISSOConfigDB.GetDBInfo, which opens its own SQL connection as the caller
    # (F-SSO-09): without delegated credentials SQL Server sees ANONYMOUS LOGON, so the read runs delegated. The
    # work is self-contained (it runs in a scheduled task's own powershell.exe on that route) and reports a COM
    # failure with its HRESULT, as Invoke-SsoComMember does.
    param([string]$SqlServer, [string]$Database, [string]$DelegationMode, [string]$TaskUser, [string]$TaskPassword)
    $read = {
        param([string]$SqlServer, [string]$Database)
        $ErrorActionPreference = 'Stop'
        Add-Type -Path (Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On\Microsoft.EnterpriseSingleSignOn.Interop.dll')
        $config = New-Object -TypeName 'Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM'
        $flags = [Reflection.BindingFlags]::InvokeMethod -bor [Reflection.BindingFlags]::Instance
        $info = [object[]]@($SqlServer, $Database, $false, $false, $false, '', '', '')
        try {
            [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigDB].InvokeMember('GetDBInfo', $flags, $null, $config, $info) | Out-Null
        } catch {
            $failure = $_.Exception
            while ($failure.InnerException) { $failure = $failure.InnerException }
            throw ('ISSOConfigDB.GetDBInfo failed with 0x{0:X8}: {1}' -f $failure.HResult, $failure.Message)
        }
        @{ exists = [bool]$info[2]; secretServer = [string]$info[5]; adminGroup = [string]$info[6]; affiliateAdminGroup = [string]$info[7] }
    }
    $info = Invoke-Delegated -Work $read -Arguments @{ SqlServer = $SqlServer; Database = $Database } -Mode $DelegationMode -User $TaskUser -Password $TaskPassword
    [ordered]@{
        sqlServer = $SqlServer; database = $Database; exists = [bool]$info.exists; secretServer = [string]$info.secretServer
        adminGroup = [string]$info.adminGroup; affiliateAdminGroup = [string]$info.affiliateAdminGroup
    }
}

function Set-PrivateDirectory {
    # A folder that holds master-secret backups (F-FS-01, finding 21): created if missing, its ACL protected from
    # inheritance (C:\ProgramData lets Users read what inherits from it) and reduced to SYSTEM, Administrators and
    # the SSO administrators' group, which the ENTSSO service account that writes and reads the file belongs to
    # (F-SSO-02). Read, test, set: returns the actions it took.
    param([string]$Path, [string]$AdminGroup)
    $root = (Split-Path -Path $Path -Qualifier) + '\'
    $shared = @($root, $env:ProgramData, $env:SystemRoot, (Join-Path $env:SystemRoot 'Temp'), $env:CommonProgramW6432) |
        ForEach-Object { ([string]$_).TrimEnd('\') }
    if ($shared -contains $Path.TrimEnd('\')) {
        throw "The backup file must be in a folder of its own, not in '$Path': that folder's access is restricted to the SSO administrators."
    }
    $actions = @()
    if (-not (Test-Path -LiteralPath $Path -PathType Container)) {
        New-Item -ItemType Directory -Path $Path -Force | Out-Null
        $actions += "New-Item $Path"
    }
    $wanted = @('NT AUTHORITY\SYSTEM', 'BUILTIN\Administrators')
    if ($AdminGroup) { $wanted += $AdminGroup }
    $acl = Get-Acl -LiteralPath $Path
    $rules = @($acl.Access | Where-Object { -not $_.IsInherited })
    $have = @($rules | Where-Object { $_.AccessControlType -eq 'Allow' -and $_.FileSystemRights -eq 'FullControl' } |
        ForEach-Object { [string]$_.IdentityReference })
    $exact = $rules.Count -eq $wanted.Count -and @($wanted | Where-Object { $have -notcontains $_ }).Count -eq 0
    if ($acl.AreAccessRulesProtected -and $exact) { return $actions }
    $private = New-Object -TypeName Security.AccessControl.DirectorySecurity
    $private.SetAccessRuleProtection($true, $false)
    foreach ($who in $wanted) {
        $private.AddAccessRule((New-Object -TypeName Security.AccessControl.FileSystemAccessRule -ArgumentList @(
                    $who, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')))
    }
    Set-Acl -LiteralPath $Path -AclObject $private
    $actions + "Set-Acl $Path (SYSTEM, Administrators$(if ($AdminGroup) { ", $AdminGroup" }))"
}
