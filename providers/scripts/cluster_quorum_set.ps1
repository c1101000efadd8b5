# Procedure prerequisite: a cloud witness for the two-node cluster (azure.md 1.4). The access key is a secret:
# it is passed to the cmdlet as a value and never echoed.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$WitnessAccountName,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$WitnessAccessKey,
    [string]$WitnessEndpoint = 'core.windows.net'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$cluster = Get-Cluster
$actions = @()
$quorum = Get-Quorum
if ($quorum.type -ne 'NodeAndCloudWitness' -or $quorum.witnessAccountName -ne $WitnessAccountName -or $quorum.witnessEndpoint -ne $WitnessEndpoint) {
    Set-ClusterQuorum -CloudWitness -AccountName $WitnessAccountName -AccessKey $WitnessAccessKey -Endpoint $WitnessEndpoint | Out-Null
    $actions += "Set-ClusterQuorum -CloudWitness $WitnessAccountName"
    $quorum = Get-Quorum
}
[ordered]@{
    exists                     = $true
    name                       = $cluster.Name
    nodes                      = @(Get-ClusterNode | ForEach-Object { [ordered]@{ name = $_.Name; state = [string]$_.State } })
    managementPointNetworkType = if (Get-ClusterResource | Where-Object { $_.ResourceType.Name -eq 'Distributed Network Name' }) { 'Distributed' } else { 'Singleton' }
    quorum                     = $quorum
    actions                    = $actions
}
