# entsso-bootstrap v2
# docs/contracts.md 1. Sent as -EncodedCommand: cmd.exe caps the line at 8191, keep it short.
$ErrorActionPreference='Stop';Set-StrictMode -Version Latest;$ProgressPreference='SilentlyContinue'
function Out-Result($R,[int]$C){$j=ConvertTo-Json -InputObject $R -Compress -Depth 10
$j=[regex]::Replace($j,'[^\x20-\x7e]',{param($m)'\u{0:x4}'-f[int][char]$m.Value})
[Console]::Out.WriteLine('##ENTSSO-RESULT## '+$j);[Console]::Out.Flush();exit $C}
function Out-Failure($M,$K,$I,[int]$L){Out-Result @{ok=$false;error=@{message="$M";category="$K";errorId="$I";line=$L}} 1}
function ConvertTo-Plain($V){if($V -is [Management.Automation.PSCustomObject]){$t=@{}
foreach($p in $V.PSObject.Properties){$t[$p.Name]=ConvertTo-Plain $p.Value};return $t}
if($V -is [object[]]){return ,@(foreach($i in $V){ConvertTo-Plain $i})};$V}
try{$e=ConvertFrom-Json ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([Console]::In.ReadToEnd())))
$l=$e.PSObject.Properties['library']
if(!($e.v -is [int] -and $e.v -eq 1 -and $e.operation -is [string] -and $e.script -is [string] -and
$e.parameters -is [Management.Automation.PSCustomObject] -and (!$l -or $l.Value -is [string]))){throw 1}
$a=ConvertTo-Plain $e.parameters}catch{Out-Failure ('The ENTSSO envelope on stdin is malformed: it must be base64 '+
'of a UTF-8 JSON object with v=1, operation, script and parameters.') InvalidData InvalidEnvelope 0}
$r=$null;$t=[Management.Automation.Language.Parser]::ParseInput($e.script,[ref]$null,[ref]$r)
if($r){Out-Failure $r[0].Message ParserError $r[0].ErrorId $r[0].Extent.StartLineNumber}
# [securestring] from text; bind to param() alone first, so a refused parameter reports line 0.
$b=$t.ParamBlock;$q=$null
if($b){foreach($x in $b.Parameters){$n=$x.Name.VariablePath.UserPath
if($x.StaticType -eq [securestring] -and $a[$n] -is [string]){$a[$n]=ConvertTo-SecureString $a[$n] -AsPlainText -Force}}
$q=[ScriptBlock]::Create((@($b.Attributes|%{$_.Extent.Text})-join' ')+' param('+(@($b.Parameters|%{$_.Extent.Text})-join',')+')')}
$s=0
try{if($q){$null=& $q @a};$s=1;if($l){. ([ScriptBlock]::Create($l.Value))};$g=$t.GetScriptBlock();$o=@(& $g @a)}
catch{Out-Failure $_.Exception.Message $_.CategoryInfo.Category $_.FullyQualifiedErrorId ($s*$_.InvocationInfo.ScriptLineNumber)}
$z=$null;if($o.Count){$z=$o[-1]};Out-Result @{ok=$true;result=$z} 0
