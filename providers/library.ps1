# The script library: the helpers the operation scripts share, one copy each (docs/contracts.md 1).
# The bootstrap dot-sources it before it runs the operation's script, so every function here is visible to
# the operation. Functions only: loading the library changes nothing else. Windows PowerShell 5.1.
Set-StrictMode -Version Latest

function Invoke-Delegated {
    # The WinRM double hop: this work needs network credentials (remote SQL, AD, the other node). Over CredSSP the
    # session holds them; otherwise it runs once as a scheduled task under TaskUser. Its input and output cross
    # the disk DPAPI-sealed in a directory only SYSTEM, Administrators and TaskUser can open, deleted afterwards.
    param([scriptblock]$Work, [hashtable]$Arguments, [string]$Mode, [string]$User, [string]$Password)
    if ($Mode -eq 'CredSSP') { return & $Work @Arguments }
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
    try {
        Set-Acl -LiteralPath $dir -AclObject $acl
        $job = [Management.Automation.PSSerializer]::Serialize(@{ Work = $Work.ToString(); Arguments = $Arguments })
        $sealed = [Security.Cryptography.ProtectedData]::Protect([Text.Encoding]::UTF8.GetBytes($job), $null, $scope)
        [IO.File]::WriteAllBytes((Join-Path $dir 'job.bin'), $sealed)
        Set-Content -LiteralPath (Join-Path $dir 'run.ps1') -Encoding UTF8 -Value @'
param([string]$Dir)
Add-Type -AssemblyName System.Security
$scope = [Security.Cryptography.DataProtectionScope]::LocalMachine
$bytes = [Security.Cryptography.ProtectedData]::Unprotect([IO.File]::ReadAllBytes("$Dir\job.bin"), $null, $scope)
$job = [Management.Automation.PSSerializer]::Deserialize([Text.Encoding]::UTF8.GetString($bytes))
$arguments = @{}
foreach ($entry in $job.Arguments.GetEnumerator()) { $arguments[$entry.Key] = $entry.Value }
try { $outcome = @{ Ok = $true; Result = (& ([scriptblock]::Create($job.Work)) @arguments) } }
catch { $outcome = @{ Ok = $false; Message = $_.Exception.Message } }
$bytes = [Text.Encoding]::UTF8.GetBytes([Management.Automation.PSSerializer]::Serialize($outcome))
[IO.File]::WriteAllBytes("$Dir\result.bin", [Security.Cryptography.ProtectedData]::Protect($bytes, $null, $scope))
'@
        $runner = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{0}\run.ps1" -Dir "{0}"' -f $dir
        $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument $runner
        Register-ScheduledTask -TaskName $task -Action $action -User $User -Password $Password -RunLevel Highest | Out-Null
        try {
            Start-ScheduledTask -TaskName $task
            $deadline = (Get-Date).AddMinutes(30)
            do {
                Start-Sleep -Milliseconds 500
                $info = Get-ScheduledTaskInfo -TaskName $task
                $running = (Get-ScheduledTask -TaskName $task).State -eq 'Running' -or $info.LastTaskResult -in 267009, 267011
                if ((Get-Date) -gt $deadline) { throw "The scheduled task $task did not finish within 30 minutes." }
            } while ($running -and -not (Test-Path -LiteralPath (Join-Path $dir 'result.bin')))
        } finally {
            Unregister-ScheduledTask -TaskName $task -Confirm:$false
        }
        if (-not (Test-Path -LiteralPath (Join-Path $dir 'result.bin'))) {
            throw ('The scheduled task {0} ended with 0x{1:X8} and no result.' -f $task, $info.LastTaskResult)
        }
        $bytes = [Security.Cryptography.ProtectedData]::Unprotect([IO.File]::ReadAllBytes((Join-Path $dir 'result.bin')), $null, $scope)
        $outcome = [Management.Automation.PSSerializer]::Deserialize([Text.Encoding]::UTF8.GetString($bytes))
        if (-not $outcome.Ok) { throw $outcome.Message }
        return $outcome.Result
    } finally {
        Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue
    }
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

function Get-SsoState {
    $service = Get-CimInstance -ClassName Win32_Service -Filter "Name='ENTSSO'"
    $sql = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\ENTSSO\SQL' -ErrorAction SilentlyContinue
    [ordered]@{
        computerName = $env:COMPUTERNAME
        installed    = [bool]$service
        configured   = [bool]($sql -and $sql.Server)
        sqlServer    = if ($sql) { [string]$sql.Server } else { '' }
        database     = if ($sql) { [string]$sql.Database } else { '' }
        service      = if ($service) {
            [ordered]@{ name = 'ENTSSO'; state = [string]$service.State; startMode = [string]$service.StartMode; account = [string]$service.StartName }
        } else { $null }
    }
}

function Get-SecretState {
    $root = 'HKLM:\SOFTWARE\Microsoft\ENTSSO\SSOSS'
    $current = ''
    $previous = ''
    if (Test-Path -LiteralPath $root) {
        $current = [string](Get-ItemProperty -LiteralPath $root -ErrorAction SilentlyContinue).CurrentMSID
        if ($current -and (Test-Path -LiteralPath (Join-Path $root $current))) {
            $previous = [string](Get-ItemProperty -LiteralPath (Join-Path $root $current)).PreviousMSID
        } else {
            $current = ''
        }
    }
    $loaded = $false
    $service = Get-CimInstance -ClassName Win32_Service -Filter "Name='ENTSSO'"
    if ($current -and $service -and $service.State -eq 'Running') {
        $started = (Get-Process -Id $service.ProcessId).StartTime
        $filter = @{ LogName = 'Application'; ProviderName = 'ENTSSO'; Id = 10520, 10521, 10523, 10534, 10565; StartTime = $started }
        $latest = Get-WinEvent -FilterHashtable $filter -MaxEvents 1 -ErrorAction SilentlyContinue
        $loaded = [bool]($latest -and $latest.Id -in 10523, 10534)
    }
    [ordered]@{ computerName = $env:COMPUTERNAME; present = [bool]$current; secretId = $current; previousSecretId = $previous; loaded = $loaded }
}

# GetDBInfo(server, db, out exists, out isConfigured, out needsUpgrade, out secretServer, out admin, out affiliate):
# reflection writes the out values back into the argument array. The caller loads the ENTSSO interop assembly.
function Get-SecretServer {
    param([string]$SqlServer, [string]$Database)
    $config = New-Object -TypeName 'Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM'
    $flags = [Reflection.BindingFlags]::InvokeMethod -bor [Reflection.BindingFlags]::Instance
    $info = [object[]]@($SqlServer, $Database, $false, $false, $false, '', '', '')
    [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigDB].InvokeMember('GetDBInfo', $flags, $null, $config, $info) | Out-Null
    [ordered]@{
        sqlServer = $SqlServer; database = $Database; exists = [bool]$info[2]; secretServer = [string]$info[5]
        adminGroup = [string]$info[6]; affiliateAdminGroup = [string]$info[7]
    }
}
