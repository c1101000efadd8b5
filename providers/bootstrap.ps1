# entsso-bootstrap v1
# See docs/contracts.md 1. Sent as -EncodedCommand: cmd.exe caps the line at 8191.
param()
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

function Out-Result([hashtable] $Result, [int] $Code) {
  $json = ConvertTo-Json -InputObject $Result -Compress -Depth 10
  $json = [regex]::Replace($json, '[^\x20-\x7e]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })
  [Console]::Out.WriteLine('##ENTSSO-RESULT## ' + $json)
  [Console]::Out.Flush()
  exit $Code
}

function Out-Failure($Message, $Category, $Id, [int] $Line) {
  $detail = @{ message = "$Message"; category = "$Category"; errorId = "$Id"; line = $Line }
  Out-Result @{ ok = $false; error = $detail } 1
}

function ConvertTo-Plain($Value) {
  if ($Value -is [Management.Automation.PSCustomObject]) {
    $table = @{}
    foreach ($p in $Value.PSObject.Properties) { $table[$p.Name] = ConvertTo-Plain $p.Value }
    return $table
  }
  if ($Value -is [object[]]) { return , @(foreach ($item in $Value) { ConvertTo-Plain $item }) }
  $Value
}

try {
  $text = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([Console]::In.ReadToEnd()))
  $envelope = ConvertFrom-Json -InputObject $text
  if (-not ($envelope.v -is [int] -and $envelope.v -eq 1 -and $envelope.operation -is [string] -and
      $envelope.script -is [string] -and $envelope.parameters -is [Management.Automation.PSCustomObject])) {
    throw 'shape'
  }
  $params = ConvertTo-Plain $envelope.parameters
} catch {
  Out-Failure ('The ENTSSO envelope on stdin is malformed: it must be base64 of a UTF-8 JSON object ' +
    'with v=1, operation, script and parameters.') InvalidData InvalidEnvelope 0
}

$errors = $null
$ast = [Management.Automation.Language.Parser]::ParseInput($envelope.script, [ref] $null, [ref] $errors)
if ($errors) { Out-Failure $errors[0].Message ParserError $errors[0].ErrorId $errors[0].Extent.StartLineNumber }

# [securestring] from text; bind to param() alone first: refused parameters get line 0.
$probe = $null
$block = $ast.ParamBlock
if ($block) {
  foreach ($p in $block.Parameters) {
    $name = $p.Name.VariablePath.UserPath
    if ($p.StaticType -eq [securestring] -and $params[$name] -is [string]) {
      $params[$name] = ConvertTo-SecureString $params[$name] -AsPlainText -Force
    }
  }
  $attributes = @($block.Attributes | ForEach-Object { $_.Extent.Text }) -join ' '
  $declared = @($block.Parameters | ForEach-Object { $_.Extent.Text }) -join ','
  $probe = [ScriptBlock]::Create("$attributes param($declared)")
}
$stage = 'bind'
try {
  if ($probe) { $null = & $probe @params }
  $stage = 'run'
  $script = $ast.GetScriptBlock()
  $output = @(& $script @params)
} catch {
  $line = 0
  if ($stage -eq 'run') { $line = $_.InvocationInfo.ScriptLineNumber }
  Out-Failure $_.Exception.Message $_.CategoryInfo.Category $_.FullyQualifiedErrorId $line
}
$result = $null
if ($output.Count) { $result = $output[-1] }
Out-Result @{ ok = $true; result = $result } 0
