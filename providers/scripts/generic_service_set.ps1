# Steps 19-22: the Generic Service resource for ENTSSO in the role: ServiceName=ENTSSO, UseNetworkName=1 and a
# dependency on the role's network name (so ENTSSO's computer name is the secret server name, pitfall 1),
# possible owners on the resource (not the group), cluster access for the service account, ENTSSO startup Manual
# on every node and no local ENTSSO outside the cluster (pitfall 2); then online. Never a registry checkpoint for
# ENTSSO (pitfall 3). Reaching the other nodes needs network credentials: the work runs delegated.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [string]$ResourceName = 'ENTSSO',
    [string]$ServiceName = 'ENTSSO',
    [Parameter(Mandatory = $true)][string]$ServiceAccount,
    [Parameter(Mandatory = $true)][string[]]$PossibleOwners,
    [Parameter(Mandatory = $true)][ValidateSet('CredSSP', 'ScheduledTask')][string]$DelegationMode,
    [string]$TaskUser,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [string]$TaskPassword
)
$ErrorActionPreference = 'Stop'
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

function Get-RoleState {
    param([string]$Name, [string]$ResourceName)
    $group = Get-ClusterGroup -Name $Name -ErrorAction SilentlyContinue
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
        clusterAccess   = @(Get-ClusterAccess | ForEach-Object { [ordered]@{ account = [string]$_.IdentityReference; access = [string]$_.ClusterRights } })
    }
    if ($ip) {
        $p = @{}
        $ip | Get-ClusterParameter | ForEach-Object { $p[$_.Name] = $_.Value }
        $state.ipAddress = [ordered]@{
            resource = $ip.Name; address = [string]$p.Address; subnetMask = [string]$p.SubnetMask; probePort = [int]$p.ProbePort
            enableDhcp = [int]$p.EnableDhcp; overrideAddressMatch = [int]$p.OverrideAddressMatch; state = [string]$ip.State
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
            serviceName    = [string]$p.ServiceName
            useNetworkName = [int]$p.UseNetworkName
            possibleOwners = @((Get-ClusterOwnerNode -Resource $service.Name).OwnerNodes | ForEach-Object { $_.Name })
            dependencies   = @([regex]::Matches($expression, '\[([^\]]+)\]') | ForEach-Object { $_.Groups[1].Value })
            state          = [string]$service.State
        }
    }
    $state
}

if (-not (Get-ClusterGroup -Name $Name -ErrorAction SilentlyContinue)) { throw "The cluster group '$Name' was not found." }
$work = {
    param([string]$Name, [string]$ResourceName, [string]$ServiceName, [string]$ServiceAccount, [string[]]$PossibleOwners)
    $ErrorActionPreference = 'Stop'
    $actions = @()
    $resource = Get-ClusterResource -Name $ResourceName -ErrorAction SilentlyContinue
    $clusterOwner = if ($resource -and [string]$resource.State -eq 'Online') { $resource.OwnerNode.Name } else { '' }
    foreach ($node in $PossibleOwners) {
        $actions += Invoke-Command -ComputerName $node -ArgumentList $ServiceName, ($node -eq $clusterOwner) -ScriptBlock {
            param([string]$ServiceName, [bool]$ClusterRunsIt)
            $done = @()
            $service = Get-Service -Name $ServiceName
            if ([string]$service.StartType -ne 'Manual') {
                Set-Service -Name $ServiceName -StartupType Manual
                $done += "Set-Service $ServiceName -StartupType Manual on $env:COMPUTERNAME"
            }
            if (-not $ClusterRunsIt -and [string]$service.Status -eq 'Running') {
                Stop-Service -Name $ServiceName -Force
                $done += "Stop-Service $ServiceName on $env:COMPUTERNAME"
            }
            $done
        }
    }
    if (-not $resource) {
        $resource = Add-ClusterResource -Name $ResourceName -ResourceType 'Generic Service' -Group $Name
        $actions += "Add-ClusterResource $ResourceName -ResourceType 'Generic Service' -Group $Name"
    } elseif ($resource.OwnerGroup.Name -ne $Name -or $resource.ResourceType.Name -ne 'Generic Service') {
        throw "A cluster resource named '$ResourceName' already exists in role '$($resource.OwnerGroup.Name)'."
    }
    $current = @{}
    $resource | Get-ClusterParameter | ForEach-Object { $current[$_.Name] = [string]$_.Value }
    $changed = $false
    if ($current['ServiceName'] -ne $ServiceName -or $current['UseNetworkName'] -ne '1') {
        $resource | Set-ClusterParameter -Multiple @{ ServiceName = $ServiceName; UseNetworkName = 1 }
        $changed = $true
        $actions += "Set-ClusterParameter ServiceName=$ServiceName UseNetworkName=1"
    }
    $networkName = Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $Name -and $_.ResourceType.Name -eq 'Network Name' } | Select-Object -First 1
    if (-not $networkName) { throw "The role '$Name' has no Network Name resource." }
    $expression = [string](Get-ClusterResourceDependency -Resource $ResourceName).DependencyExpression
    if ($expression -notmatch ('\[' + [regex]::Escape($networkName.Name) + '\]')) {
        Add-ClusterResourceDependency -Resource $ResourceName -Provider $networkName.Name | Out-Null
        $changed = $true
        $actions += "Add-ClusterResourceDependency $ResourceName '$($networkName.Name)'"
    }
    $owners = @((Get-ClusterOwnerNode -Resource $ResourceName).OwnerNodes | ForEach-Object { $_.Name })
    if (($owners -join ',') -ne ($PossibleOwners -join ',')) {
        Set-ClusterOwnerNode -Resource $ResourceName -Owners $PossibleOwners | Out-Null
        $actions += "Set-ClusterOwnerNode -Resource $ResourceName -Owners $($PossibleOwners -join ',')"
    }
    $granted = @(Get-ClusterAccess | Where-Object { [string]$_.IdentityReference -eq $ServiceAccount -and [string]$_.ClusterRights -eq 'Full' })
    if ($granted.Count -eq 0) {
        Grant-ClusterAccess -User $ServiceAccount -Full | Out-Null
        $actions += "Grant-ClusterAccess -User $ServiceAccount -Full"
    }
    if ($changed -and [string](Get-ClusterResource -Name $ResourceName).State -ne 'Offline') {
        Stop-ClusterResource -Name $ResourceName | Out-Null  # private properties apply on the next online
    }
    if ([string](Get-ClusterResource -Name $ResourceName).State -ne 'Online') {
        Start-ClusterResource -Name $ResourceName | Out-Null
        $actions += "Start-ClusterResource $ResourceName"
    }
    $actions
}
$arguments = @{ Name = $Name; ResourceName = $ResourceName; ServiceName = $ServiceName; ServiceAccount = $ServiceAccount; PossibleOwners = $PossibleOwners }
$actions = @(Invoke-Delegated -Work $work -Arguments $arguments -Mode $DelegationMode -User $TaskUser -Password $TaskPassword)
$state = Get-RoleState -Name $Name -ResourceName $ResourceName
$state.actions = $actions
$state
