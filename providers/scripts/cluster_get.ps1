# The failover cluster this node belongs to: name, nodes, management point, quorum, heartbeat settings. Read-only.
# A node that is not clustered (or whose cluster service is stopped) reports exists = false (F-CLU-01).
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

Get-ClusterState
