# Stand-in operation for tests: ends with a terminating error.
[CmdletBinding()]
param(
    [string] $Message = 'The stand-in operation failed.',
    [string] $ErrorId = 'StandInFailure',
    [string] $Secret = ''
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

Write-Error -Message $Message -ErrorId $ErrorId -Category InvalidOperation
@{ unreachable = $true }
