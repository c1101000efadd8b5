# Stand-in operation for tests: takes a while, then reports how long.
[CmdletBinding()]
param(
    [int] $Seconds = 1
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

Start-Sleep -Seconds $Seconds
@{ slept = $Seconds }
