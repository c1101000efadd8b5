# Step 26 probe: is the master secret present on this node (its MSID under HKLM\...\ENTSSO\SSOSS) and is the
# running ENTSSO using it (10534/10523 after its start, not 10520/10521/10565). Never the secret itself. Read-only.
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

Get-SecretState
