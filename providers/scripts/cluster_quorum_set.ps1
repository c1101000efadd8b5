# Procedure prerequisite: a cloud witness for the two-node cluster (azure.md 1.4). The access key is a secret:
# it is passed to the cmdlet as a value and never echoed. The witness is read from the cluster's own quorum
# settings (F-CLU-07/08), so a Cloud Witness resource of another cluster or role cannot fool it.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$WitnessAccountName,
    [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingPlainTextForPassword', '')]
    [Parameter(Mandatory = $true)][string]$WitnessAccessKey,
    [string]$WitnessEndpoint = 'core.windows.net'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$null = Get-Cluster  # not clustered: ends here with the cluster service's error (F-CLU-01)
$actions = @()
$quorum = Get-Quorum
if ($quorum.witness -ne 'Cloud Witness' -or $quorum.witnessAccountName -ne $WitnessAccountName -or $quorum.witnessEndpoint -ne $WitnessEndpoint) {
    Set-ClusterQuorum -CloudWitness -AccountName $WitnessAccountName -AccessKey $WitnessAccessKey -Endpoint $WitnessEndpoint | Out-Null
    $actions += "Set-ClusterQuorum -CloudWitness $WitnessAccountName"
}
$state = Get-ClusterState
$state.actions = $actions
$state
