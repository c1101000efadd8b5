<#
  Run Command "ConfigureSql" on the self-contained lab's SQL Server 2022 Developer VM, after it joined the forest.
  Makes it the SQL Server that ENTSSO's Create expects:
    - the SQL Server service runs under the lab's domain account (SqlService.SetServiceAccount of the SQL
      Server WMI provider, which SQL Server Configuration Manager uses, learn.microsoft.com/sql/relational-databases/
      wmi-provider-configuration-classes/sqlservice-class/setserviceaccount-method-sqlservice-class);
    - TCP/IP is enabled (ServerNetworkProtocol.SetEnable), and Windows Firewall admits TCP 1433 from the node
      subnet only;
    - network DTC access is on ("enable network DTC access ... on all BizTalk servers and any remote SQL Server
      instances", learn.microsoft.com/biztalk/install-and-config-guides/install-biztalk-server-in-a-multi-computer-environment);
    - the install account has a Windows login in the sysadmin role: "The administrator installing and configuring
      BizTalk Server must be a member of ... SSO Administrators (only when configuring the master secret server);
      local Administrators; sysadmin SQL Server role" (MicrosoftDocs/biztalk-docs, the same guide).
  T-SQL runs through System.Data.SqlClient, part of the .NET Framework on every Windows Server, not sqlcmd.exe or
  Invoke-Sqlcmd (neither is certain to be on the image): its statements are fixed text and the login's name
  travels as a SqlParameter that QUOTENAME turns into an identifier, so no name is ever spliced into SQL.
  Runs as the VM's local administrator (RunAsUser), whom the marketplace image makes a sysadmin ("the VM
  administrator account that you initially created ... has sysadmin access to SQL instance", Azure self-help
  "Cannot Connect to SQL instance"); SYSTEM is not a sysadmin.
  Idempotent: it changes only what differs and lists it.
  Strings arrive base64-encoded (UTF-8), see directory_wait.ps1. The last line of output is one JSON object.
  Everyday cmdlets, at learn.microsoft.com/powershell/module/: microsoft.powershell.core/set-strictmode, where-object,
  foreach-object, out-null; microsoft.powershell.utility/write-output, convertto-json, select-object, sort-object,
  get-date, start-sleep; microsoft.powershell.management/join-path.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$InstallAccountBase64,
    [Parameter(Mandatory = $true)][string]$SqlServiceAccountBase64,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$SqlServicePasswordBase64,
    [Parameter(Mandatory = $true)][string]$ClientCidr,
    [int]$Port = 1433,
    [int]$TimeoutSeconds = 600
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$installLogin = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($InstallAccountBase64))
$serviceAccount = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($SqlServiceAccountBase64))
if ($ClientCidr -notmatch '^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$') {
    throw ('ClientCidr {0} is not an IPv4 CIDR' -f $ClientCidr)
}
$instance = 'MSSQLSERVER'  # the marketplace image's default instance
$changes = @()

# The SQL Server WMI provider's namespace is root\Microsoft\SqlServer\ComputerManagement<version>; the newest is
# the installed SQL Server's (learn.microsoft.com/sql/relational-databases/wmi-provider-configuration/
# using-wmi-provider-for-configuration-management), read with learn.microsoft.com/powershell/module/cimcmdlets/get-ciminstance.
$namespaces = @(Get-CimInstance -Namespace 'root/Microsoft/SqlServer' -ClassName '__NAMESPACE' |
    Where-Object { [string]$_.Name -match '^ComputerManagement(\d+)$' } |
    Sort-Object -Property { [int]($_.Name -replace '^ComputerManagement', '') } -Descending)
if ($namespaces.Count -eq 0) {
    throw 'no SQL Server WMI provider (root/Microsoft/SqlServer/ComputerManagement*) on this machine'
}
$wmi = 'root/Microsoft/SqlServer/{0}' -f $namespaces[0].Name
$restart = $false

# TCP/IP (learn.microsoft.com/sql/relational-databases/wmi-provider-configuration-classes/servernetworkprotocol-class).
$tcp = @(Get-CimInstance -Namespace $wmi -ClassName ServerNetworkProtocol |
    Where-Object { $_.InstanceName -eq $instance -and $_.ProtocolName -eq 'Tcp' })
if ($tcp.Count -ne 1) { throw ('the {0} instance has no TCP/IP protocol entry' -f $instance) }
if (-not [bool]$tcp[0].Enabled) {
    # learn.microsoft.com/powershell/module/cimcmdlets/invoke-cimmethod
    $enabled = Invoke-CimMethod -InputObject $tcp[0] -MethodName SetEnable
    if ([int]$enabled.ReturnValue -ne 0) { throw ('ServerNetworkProtocol.SetEnable returned {0}' -f $enabled.ReturnValue) }
    $changes += 'enabled TCP/IP'
    $restart = $true
}

# The service account (SqlServiceType 1 is the Database Engine).
$service = @(Get-CimInstance -Namespace $wmi -ClassName SqlService |
    Where-Object { $_.ServiceName -eq $instance -and [int]$_.SQLServiceType -eq 1 })
if ($service.Count -ne 1) { throw ('no SQL Server service {0} in {1}' -f $instance, $wmi) }
if ([string]$service[0].StartName -ne $serviceAccount) {
    $password = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($SqlServicePasswordBase64))
    $set = Invoke-CimMethod -InputObject $service[0] -MethodName SetServiceAccount `
        -Arguments @{ ServiceStartName = $serviceAccount; ServiceStartPassword = $password }
    # learn.microsoft.com/powershell/module/microsoft.powershell.utility/remove-variable
    Remove-Variable -Name password
    if ([int]$set.ReturnValue -ne 0) {
        throw ('SqlService.SetServiceAccount to {0} returned {1}' -f $serviceAccount, $set.ReturnValue)
    }
    $changes += ('the service runs as {0}' -f $serviceAccount)
    $restart = $true
}

if ($restart) {
    # learn.microsoft.com/powershell/module/microsoft.powershell.management/get-service, restart-service, start-service
    $dependents = @(Get-Service -Name $instance -DependentServices | Where-Object { $_.Status -eq 'Running' })
    Restart-Service -Name $instance -Force
    foreach ($dependent in $dependents) { Start-Service -Name $dependent.Name }
}

# Windows Firewall: the nodes reach SQL Server on its port.
# learn.microsoft.com/powershell/module/netsecurity/get-netfirewallrule, new-netfirewallrule
$ruleName = 'entsso-SQL-In'
$rule = Get-NetFirewallRule -Name $ruleName -ErrorAction SilentlyContinue
if ($null -eq $rule) {
    New-NetFirewallRule -Name $ruleName -DisplayName 'SQL Server for ENTSSO (entsso-cluster)' -Direction Inbound `
        -Protocol TCP -LocalPort $Port -RemoteAddress $ClientCidr -Action Allow -Profile Any | Out-Null
    $changes += ('opened TCP {0} to {1}' -f $Port, $ClientCidr)
} else {
    # learn.microsoft.com/powershell/module/netsecurity/get-netfirewalladdressfilter, get-netfirewallportfilter
    # learn.microsoft.com/powershell/module/netsecurity/set-netfirewallrule
    $filter = $rule | Get-NetFirewallAddressFilter
    $ports = $rule | Get-NetFirewallPortFilter
    if (@($filter.RemoteAddress) -notcontains $ClientCidr -or [string]$ports.LocalPort -ne [string]$Port) {
        Set-NetFirewallRule -Name $ruleName -Direction Inbound -Protocol TCP -LocalPort $Port `
            -RemoteAddress $ClientCidr -Action Allow -Profile Any -Enabled True | Out-Null
        $changes += ('narrowed TCP {0} to {1}' -f $Port, $ClientCidr)
    }
}

# Network DTC access (learn.microsoft.com/powershell/module/msdtc/get-dtcnetworksetting, set-dtcnetworksetting;
# Set-DtcNetworkSetting restarts the DTC service, F-DTC-02).
$dtc = Get-DtcNetworkSetting -DtcName Local
if (-not ([bool]$dtc.InboundTransactionsEnabled -and [bool]$dtc.OutboundTransactionsEnabled -and
        [bool]$dtc.RemoteClientAccessEnabled -and [string]$dtc.AuthenticationLevel -eq 'Mutual')) {
    Set-DtcNetworkSetting -DtcName Local -InboundTransactionsEnabled $true -OutboundTransactionsEnabled $true `
        -RemoteClientAccessEnabled $true -AuthenticationLevel Mutual -Confirm:$false
    $changes += 'enabled network DTC access (mutual authentication)'
}
# The built-in rule group for MSDTC (learn.microsoft.com/powershell/module/netsecurity/enable-netfirewallrule).
$dtcRules = @(Get-NetFirewallRule -DisplayGroup 'Distributed Transaction Coordinator' -ErrorAction SilentlyContinue |
    Where-Object { [string]$_.Enabled -ne 'True' })
if ($dtcRules.Count -gt 0) {
    Enable-NetFirewallRule -DisplayGroup 'Distributed Transaction Coordinator'
    $changes += 'enabled the Distributed Transaction Coordinator firewall rules'
}

# The login and its role (learn.microsoft.com/dotnet/api/system.data.sqlclient.sqlconnection). SQL Server may still
# be starting after the restart above: connect with retries until TimeoutSeconds.
$connectionString = 'Data Source=localhost;Initial Catalog=master;Integrated Security=SSPI;Connect Timeout=15'
$deadline = (Get-Date).AddSeconds($TimeoutSeconds)
$connection = $null
while ($null -eq $connection) {
    # learn.microsoft.com/powershell/module/microsoft.powershell.utility/new-object
    $candidate = New-Object -TypeName System.Data.SqlClient.SqlConnection -ArgumentList $connectionString
    try {
        $candidate.Open()
        $connection = $candidate
    } catch {
        $candidate.Dispose()
        if ((Get-Date) -ge $deadline) {
            throw ('SQL Server on {0} did not accept a connection within {1} s: {2}' -f $env:COMPUTERNAME, $TimeoutSeconds, $_.Exception.Message)
        }
        Start-Sleep -Seconds 5
    }
}
try {
    $command = $connection.CreateCommand()
    # CREATE LOGIN ... FROM WINDOWS and ALTER SERVER ROLE ... ADD MEMBER take identifiers, not parameters:
    # QUOTENAME builds the identifier from the parameter inside SQL Server.
    $command.CommandText = @'
SET NOCOUNT ON;
IF ISNULL(IS_SRVROLEMEMBER(N'sysadmin'), 0) <> 1
BEGIN
    ;THROW 50001, N'the account running this script is not a sysadmin on this SQL Server', 1;
END;
DECLARE @created bit = 0, @granted bit = 0, @statement nvarchar(max);
IF SUSER_ID(@login) IS NULL
BEGIN
    SET @statement = N'CREATE LOGIN ' + QUOTENAME(@login) + N' FROM WINDOWS';
    EXEC sys.sp_executesql @statement;
    SET @created = 1;
END;
IF ISNULL(IS_SRVROLEMEMBER(N'sysadmin', @login), 0) <> 1
BEGIN
    SET @statement = N'ALTER SERVER ROLE [sysadmin] ADD MEMBER ' + QUOTENAME(@login);
    EXEC sys.sp_executesql @statement;
    SET @granted = 1;
END;
SELECT @created AS created, @granted AS granted;
'@
    $parameter = $command.Parameters.Add('@login', [System.Data.SqlDbType]::NVarChar, 128)
    $parameter.Value = $installLogin
    $reader = $command.ExecuteReader()
    try {
        if (-not $reader.Read()) { throw 'the login statement returned no row' }
        $loginCreated = [bool]$reader['created']
        $roleGranted = [bool]$reader['granted']
    } finally {
        $reader.Close()
    }
} finally {
    $connection.Close()
}
if ($loginCreated) { $changes += ('created the login {0}' -f $installLogin) }
if ($roleGranted) { $changes += ('added {0} to sysadmin' -f $installLogin) }

$result = [ordered]@{
    ok             = $true
    changed        = $changes.Count -gt 0
    wmiNamespace   = $wmi
    serviceAccount = $serviceAccount
    login          = $installLogin
    role           = 'sysadmin'
    port           = $Port
    changes        = @($changes)
    message        = $(if ($changes.Count -gt 0) { 'configured what differed' } else { 'SQL Server is configured for ENTSSO; nothing to do' })
}
Write-Output (ConvertTo-Json -InputObject $result -Compress)
