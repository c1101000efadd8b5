# Stand-in operation for tests: returns the parameters it was given.
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Text,
    [string[]] $Items = @(),
    [int] $Count = 1,
    [switch] $Flag,
    [hashtable] $Data = @{ kind = 'default' },
    [string] $Secret = ''
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

@{ Text = $Text; Items = $Items; Count = $Count; Flag = [bool] $Flag; Data = $Data; Secret = $Secret }
