"""Windows PowerShell 5.1 snippets and their documented results, run through the interpreter.

Each row cites where the result is documented: an about_* page of MicrosoftDocs/PowerShell-Docs
(reference/5.1/Microsoft.PowerShell.Core/About/), a cmdlet reference page (reference/5.1/...), or the
code of Windows PowerShell as published in PowerShell/PowerShell at tag v6.0.0-alpha.10 (the 5.1 code
base, "ps51:" below). A row marked "assumed" states behaviour no public page pins down.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from powershell_support import TestMachine

from simulator.powershell.types import to_string

ABOUT = "PowerShell-Docs reference/5.1/Microsoft.PowerShell.Core/About/"


@dataclass(frozen=True)
class Row:
    snippet: str
    expected: list[object]  # the output objects' string forms; a nested list is an array written as one object
    source: str


def shape(value: object) -> object:
    if isinstance(value, list):
        return [shape(item) for item in value]
    return None if value is None else to_string(value)


ROWS = [
    # --- output semantics ----------------------------------------------------------------------
    Row("1, 2, 3", ["1", "2", "3"], ABOUT + "about_Pipelines.md (a collection is sent one object at a time)"),
    Row("(, (1, 2)).Count", ["1"], ABOUT + "about_Operators.md, Comma operator (unary: an array of one member)"),
    Row("@().Count; @(1).Count; @(@(1, 2)).Count", ["0", "1", "2"], ABOUT + "about_Operators.md, Array subexpression"),
    Row('$a = "one", $null, "three"; $a.Count', ["3"], ABOUT + "about_Automatic_Variables.md, $null"),
    Row(
        "function f { }\n$x = f\n$null -eq $x; @(f).Count", ["True", "0"], ABOUT + "about_Automatic_Variables.md, $null"
    ),
    Row(
        "function f { $null }\n@(f).Count",
        ["1"],
        ABOUT + "about_Automatic_Variables.md ($null is counted as an object)",
    ),
    Row("$a = 1, 2; $a += 3; $a.Count", ["3"], ABOUT + "about_Arrays.md, adding to an array"),
    Row(
        "$x = 1\nfunction f {\n  $x = 2\n}\nf\n$x",
        ["1"],
        ABOUT + "about_Scopes.md (a function's assignment creates a local variable)",
    ),
    Row("function f {\n  return 1\n  2\n}\nf", ["1"], ABOUT + "about_Return.md"),
    Row(
        "function f {\n  1\n  return 2\n}\n(f).Count",
        ["2"],
        ABOUT + "about_Return.md (every statement's output is returned)",
    ),
    # --- comparison ------------------------------------------------------------------------------
    Row(
        "2 -eq 2; 'abc' -eq 'abc', 'def'; 'abc' -ne 'abc', 'def'",
        ["True", "False", "True"],
        ABOUT + "about_Comparison_Operators.md, Equality",
    ),
    Row("1, 2, 3 -eq 2", ["2"], ABOUT + "about_Comparison_Operators.md (a collection on the left filters)"),
    Row("$a = (1, 2) -eq 3\n$a.GetType().Name\n$a.Count", ["Object[]", "0"], ABOUT + "about_Comparison_Operators.md"),
    Row(
        "'abc' -eq 'ABC'; 'abc' -ceq 'ABC'",
        ["True", "False"],
        ABOUT + "about_Comparison_Operators.md, case sensitivity",
    ),
    Row(
        "1 -eq '1.0'; '1.0' -eq 1",
        ["True", "False"],
        ABOUT + "about_Comparison_Operators.md (right side converted to left's type)",
    ),
    Row(
        "$a = 1, 2, $null, 4, $null, 6\n$null -ne $a\n($a -ne $null).Count",
        ["True", "4"],
        ABOUT + "about_Comparison_Operators.md, $null",
    ),
    Row("$a = 5, 6, 7, 8, 9\n$a -gt 7", ["8", "9"], ABOUT + "about_Comparison_Operators.md, -gt"),
    Row("'a' -lt 'z'; 'macOS' -ilt 'MacOS'", ["True", "False"], ABOUT + "about_Comparison_Operators.md"),
    Row(
        "'PowerShell' -like '*shell'; 'PowerShell' -like 'Power?hell'; 'PowerShell' -like 'Power[p-w]hell'",
        ["True", "True", "True"],
        ABOUT + "about_Comparison_Operators.md, -like",
    ),
    Row("'PowerShell', 'Server' -like '*shell'", ["PowerShell"], ABOUT + "about_Comparison_Operators.md, -like"),
    Row(
        "'PowerShell' -match 'shell'; 'bag' -notmatch 'b[iou]g'",
        ["True", "True"],
        ABOUT + "about_Comparison_Operators.md, -match",
    ),
    Row(
        "'Bag', 'Beg', 'Big', 'Bog', 'Bug' -match 'b[iou]g'",
        ["Big", "Bog", "Bug"],
        ABOUT + "about_Comparison_Operators.md, -match on a collection",
    ),
    Row(
        "$s = 'The last logged on user was CONTOSO\\jsmith'\n$null = $s -match 'was (?<domain>.+)\\\\(?<user>.+)'\n"
        "$Matches.domain; $Matches.user; $Matches[0]",
        ["CONTOSO", "jsmith", "was CONTOSO\\jsmith"],
        ABOUT + "about_Comparison_Operators.md, $Matches",
    ),
    Row(
        "'book' -ireplace 'B', 'C'; 'book' -creplace 'B', 'C'",
        ["Cook", "book"],
        ABOUT + "about_Comparison_Operators.md, -replace",
    ),
    Row(
        "'John Doe' -replace '(\\w+) (\\w+)', '$2, $1'",
        ["Doe, John"],
        ABOUT + "about_Comparison_Operators.md, substitutions in -replace",
    ),
    Row(
        "1, 2, 3 -contains 2; 2 -in 1, 2, 3; 4 -notin 1, 2, 3",
        ["True", "True", "True"],
        ABOUT + "about_Comparison_Operators.md, containment",
    ),
    Row("'abc', 'def' -contains 'ABC'", ["True"], ABOUT + "about_Comparison_Operators.md (case-insensitive)"),
    Row(
        "$false -eq ''; [bool]@(); [bool]@(0); [bool]@(1, 0); [bool]@{value = 0}",
        ["True", "False", "False", "True", "True"],
        ABOUT + "about_Booleans.md",
    ),
    Row("[bool]'False'; [bool]''", ["True", "False"], ABOUT + "about_Booleans.md (a non-empty string is true)"),
    Row(
        "$true -and $false; $true -or $false; -not $true; !$false; $true -xor $true",
        ["False", "True", "False", "True", "False"],
        ABOUT + "about_Logical_Operators.md",
    ),
    # --- strings ---------------------------------------------------------------------------------
    Row(
        "$i = 5; \"The value of $i is $i.\"; 'The value of $i is $i.'",
        ["The value of 5 is 5.", "The value of $i is $i."],
        ABOUT + "about_Quoting_Rules.md",
    ),
    Row('"The value of $(2+3) is 5."', ["The value of 5 is 5."], ABOUT + "about_Quoting_Rules.md, subexpressions"),
    Row("$x = 'a'; \"${x}b\"", ["ab"], ABOUT + "about_Variables.md, {} around a variable name"),
    Row('"`$x is a tab: [`t]"', ["$x is a tab: [\t]"], ABOUT + "about_Special_Characters.md"),
    Row('\'don\'\'t\'; "say ""hi"""', ["don't", 'say "hi"'], ABOUT + "about_Quoting_Rules.md"),
    Row(
        "$v = 1\n@\"\nline $v\n  two\n\"@\n@'\nline $v\n'@",
        ["line 1\n  two", "line $v"],
        ABOUT + "about_Quoting_Rules.md, here-strings",
    ),
    Row("-split 'red yellow blue green'", ["red", "yellow", "blue", "green"], ABOUT + "about_Split.md"),
    Row("'Lastname:FirstName:Address' -split ':'", ["Lastname", "FirstName", "Address"], ABOUT + "about_Split.md"),
    Row(
        "'Lastname:FirstName:Address' -split '(:)'",
        ["Lastname", ":", "FirstName", ":", "Address"],
        ABOUT + "about_Split.md (captured delimiters are returned)",
    ),
    Row("'a,b,c,d,e,f,g,h' -split ',', 3", ["a", "b", "c,d,e,f,g,h"], ABOUT + "about_Split.md, max-substrings"),
    Row("'corp\\svc' -split '\\\\', 2", ["corp", "svc"], ABOUT + "about_Split.md"),
    Row("-join ('a', 'b', 'c'); ('a', 'b', 'c') -join ', '", ["abc", "a, b, c"], ABOUT + "about_Join.md"),
    Row(
        "'{0} {1,-10} {2:N}' -f 1, 'hello', [math]::pi",
        ["1 hello      3.14"],
        ABOUT + "about_Operators.md, Format operator",
    ),
    Row(
        "'0x{0:X8}' -f 267009; '{0:x4}' -f 233",
        ["0x00041301", "00e9"],
        "docs.microsoft.com .NET Standard numeric format strings (X, x)",
    ),
    Row("'{{0}} {0}' -f 'a'", ["{0} a"], ".NET composite formatting: escaped braces"),
    Row("[string](1, 2, 3)", ["1 2 3"], ABOUT + "about_Preference_Variables.md, $OFS (default a space)"),
    Row("$OFS = '+'; [string](1, 2, 3)", ["1+2+3"], ABOUT + "about_Preference_Variables.md, $OFS"),
    Row(
        "'abc'.Length; 'abc'.ToUpper(); 'a-b'.Split('-').Count; ' x '.Trim()",
        ["3", "ABC", "2", "x"],
        "System.String members (.NET)",
    ),
    # --- hashtables and objects ------------------------------------------------------------------
    Row(
        "$h = @{ Name = 'x' }; $h.name; $h['NAME']; $h.Count",
        ["x", "x", "1"],
        ABOUT + "about_Hash_Tables.md (keys are case-insensitive)",
    ),
    Row(
        "$h = [ordered]@{ b = 1; a = 2 }; $h.Keys -join ','; $h.GetType().Name",
        ["b,a", "OrderedDictionary"],
        ABOUT + "about_Hash_Tables.md, ordered dictionaries",
    ),
    Row(
        "$o = [pscustomobject]@{ b = 1; a = 2 }; $o.PSObject.Properties.Name -join ','; $o.a",
        ["b,a", "2"],
        ABOUT + "about_PSCustomObject.md (the literal's order is kept)",
    ),
    Row(
        "$h = @{}; $h.missing -eq $null",
        ["True"],
        ABOUT + "about_Hash_Tables.md (a missing key is $null; no StrictMode)",
    ),
    Row(
        "@{ a = 1 } + @{ b = 2 } | ForEach-Object { $_.Count }",
        ["2"],
        ABOUT + "about_Hash_Tables.md, adding hash tables",
    ),
    Row("[pscustomobject]@{ a = 1; b = 'x' }", ["@{a=1; b=x}"], ABOUT + "about_PSCustomObject.md (string form)"),
    # --- arithmetic and types --------------------------------------------------------------------
    Row(
        "[int](5 / 2); [int](7 / 2); [byte]21.5; [byte]22.5",
        ["2", "4", "22", "22"],
        ABOUT + "about_Arithmetic_Operators.md, DIVISION AND ROUNDING; about_Type_Conversion.md",
    ),
    Row("7 / 2; (6 / 2).GetType().Name", ["3.5", "Int32"], ABOUT + "about_Arithmetic_Operators.md"),
    Row(
        "'a' + 1; 1 + '2'; '3' * 2",
        ["a1", "3", "33"],
        ABOUT + "about_Arithmetic_Operators.md (the left operand's type decides)",
    ),
    Row(
        "5 -is [int]; '5' -is [string]; '5' -as [int]; ('x' -as [int]) -eq $null",
        ["True", "True", "5", "True"],
        ABOUT + "about_Type_Operators.md",
    ),
    Row(
        "[int]'  42 '; [int]'0x10'; [string]$null -eq ''; [string[]](1, 2) -join '|'",
        ["42", "16", "True", "1|2"],
        ABOUT + "about_Type_Conversion.md",
    ),
    Row("([int[]]('1', '2')).GetType().FullName", ["System.Int32[]"], ABOUT + "about_Arrays.md, strongly typed arrays"),
    Row(
        "[int]$n = '7'; $n = '8'; $n.GetType().Name",
        ["Int32"],
        ABOUT + "about_Variables.md, type-constrained variables",
    ),
    Row(
        "$null.Count; (5).Count; 'ab'.Count", ["0", "1", "1"], ABOUT + "about_Intrinsic_Members.md (Count of a scalar)"
    ),
    # --- statements ------------------------------------------------------------------------------
    Row("switch (3) {\n  1 { 'one' }\n  3 { 'three' }\n  default { 'other' }\n}", ["three"], ABOUT + "about_Switch.md"),
    Row(
        "switch ('abc') {\n  'ABC' { 'eq' }\n  default { 'no' }\n}",
        ["eq"],
        ABOUT + "about_Switch.md (case-insensitive)",
    ),
    Row("switch -Wildcard ('server01') {\n  'server*' { 'match' }\n}", ["match"], ABOUT + "about_Switch.md, -Wildcard"),
    Row(
        "switch (1, 2) {\n  1 { 'a' }\n  2 { 'b' }\n}",
        ["a", "b"],
        ABOUT + "about_Switch.md (a collection is switched element by element)",
    ),
    Row("for ($i = 0; $i -lt 3; $i++) { $i }", ["0", "1", "2"], ABOUT + "about_For.md"),
    Row("$i = 0\nwhile ($i -lt 2) { $i; $i++ }", ["0", "1"], ABOUT + "about_While.md"),
    Row("$i = 5\ndo { $i; $i++ } until ($i -gt 3)", ["5"], ABOUT + "about_Do.md (the body runs at least once)"),
    Row("foreach ($n in 1, 2, 3) { if ($n -eq 2) { continue }; $n }", ["1", "3"], ABOUT + "about_Continue.md"),
    Row("foreach ($n in 1, 2, 3) { if ($n -eq 2) { break }; $n }", ["1"], ABOUT + "about_Break.md"),
    Row(
        "foreach ($n in $null) { 'ran' }",
        [],
        ABOUT + "about_Foreach.md (PowerShell 3.0+: a $null collection runs no iteration)",
    ),
    Row("try { 'a'; throw 'x' } catch { 'b' } finally { 'c' }", ["a", "b", "c"], ABOUT + "about_Try_Catch_Finally.md"),
    Row(
        "try { throw 'boom' } catch { $_.Exception.Message; $_.FullyQualifiedErrorId; $_.CategoryInfo.Category }",
        ["boom", "boom", "OperationStopped"],
        "ps51: engine/runtime/Operations/MiscOps.cs ExceptionHandlingOps.ConvertToException",
    ),
    Row(
        "try { 1 / 0 } catch [System.DivideByZeroException] { 'typed' } catch { 'untyped' }",
        ["untyped"],
        "ps51: 1/0 of constants throws RuntimeException 'Attempted to divide by zero.' (assumed: no DivideByZeroException type at the top)",
    ),
    Row("$sb = { param($a, $b) $a + $b }\n& $sb 1 2", ["3"], ABOUT + "about_Script_Blocks.md"),
    Row(
        '$p = @{ a = 1; b = 2 }\nfunction f {\n  param($a, $b)\n  "$a/$b"\n}\nf @p',
        ["1/2"],
        ABOUT + "about_Splatting.md",
    ),
    Row("function f { $args.Count; $args[1] }\nf x y z", ["3", "y"], ABOUT + "about_Automatic_Variables.md, $args"),
    # --- pipelines and the core cmdlets ----------------------------------------------------------
    Row(
        "1, 2, 3 | Where-Object { $_ -gt 1 }",
        ["2", "3"],
        "PowerShell-Docs reference/5.1/Microsoft.PowerShell.Core/Where-Object.md",
    ),
    Row(
        "$a = [pscustomobject]@{ Name = 'a' }, [pscustomobject]@{ Name = 'b' }\n$a | Where-Object Name -eq 'b' | "
        "ForEach-Object Name",
        ["b"],
        "PowerShell-Docs reference/5.1/Microsoft.PowerShell.Core/Where-Object.md (comparison statement)",
    ),
    Row(
        "1, 2, 3 | ForEach-Object { $_ * 2 }",
        ["2", "4", "6"],
        "PowerShell-Docs reference/5.1/Microsoft.PowerShell.Core/ForEach-Object.md",
    ),
    Row(
        "1, 2, 3 | Select-Object -First 2; 1, 2, 3 | Select-Object -Last 1",
        ["1", "2", "3"],
        "PowerShell-Docs reference/5.1/Microsoft.PowerShell.Utility/Select-Object.md",
    ),
    Row(
        "[pscustomobject]@{ a = 1; b = 2 } | Select-Object -ExpandProperty b",
        ["2"],
        "PowerShell-Docs reference/5.1/Microsoft.PowerShell.Utility/Select-Object.md, -ExpandProperty",
    ),
    Row(
        "[pscustomobject]@{ a = 1 } | Select-Object 'a', @{ Name = 'c'; Expression = { $_.a + 1 } }",
        ["@{a=1; c=2}"],
        ABOUT + "about_Calculated_Properties.md",
    ),
    Row(
        "3, 1, 2 | Sort-Object; 'b', 'A', 'c' | Sort-Object -Descending",
        ["1", "2", "3", "c", "b", "A"],
        "PowerShell-Docs reference/5.1/Microsoft.PowerShell.Utility/Sort-Object.md (case-insensitive)",
    ),
    Row("1, 2 | Out-Null", [], "PowerShell-Docs reference/5.1/Microsoft.PowerShell.Core/Out-Null.md"),
    Row(
        "Write-Output -NoEnumerate (1, 2) | ForEach-Object { $_.Count }",
        ["2"],
        "PowerShell-Docs reference/5.1/Microsoft.PowerShell.Utility/Write-Output.md, -NoEnumerate",
    ),
    Row(
        "Join-Path 'C:\\a\\' '\\b'; Split-Path 'C:\\a\\b.txt' -Leaf; Split-Path 'C:\\a\\b.txt' -Parent",
        ["C:\\a\\b", "b.txt", "C:\\a"],
        "PowerShell-Docs reference/5.1/Microsoft.PowerShell.Management/Join-Path.md, Split-Path.md",
    ),
    # --- .NET ------------------------------------------------------------------------------------
    Row(
        "[regex]::Matches('a1b22', '\\d+') | ForEach-Object { $_.Value }",
        ["1", "22"],
        "System.Text.RegularExpressions.Regex.Matches (.NET)",
    ),
    Row(
        "[regex]::Replace('abc', '[ac]', { param($m) $m.Value.ToUpper() })",
        ["AbC"],
        ABOUT + "about_Regular_Expressions.md (a script block as MatchEvaluator)",
    ),
    Row("[regex]::Escape('a.b[c]')", ["a\\.b\\[c]"], "System.Text.RegularExpressions.Regex.Escape (.NET)"),
    Row(
        "[Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('h\u00e9'))",
        ["aMOp"],
        "System.Convert, System.Text.Encoding (.NET)",
    ),
    Row("[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('aMOp'))", ["h\u00e9"], "System.Convert (.NET)"),
    Row("[BitConverter]::ToString([byte[]](1, 171))", ["01-AB"], "System.BitConverter.ToString (.NET)"),
    Row("[guid]::NewGuid().ToString('N').Length", ["32"], "System.Guid.ToString('N') (.NET)"),
    Row(
        "[int]::MaxValue; [string]::IsNullOrEmpty(''); [math]::Max(2, 3)",
        ["2147483647", "True", "3"],
        "System.Int32, String, Math (.NET)",
    ),
    Row(
        "$sha = [Security.Cryptography.SHA256]::Create()\n[BitConverter]::ToString($sha.ComputeHash([byte[]]@())).Replace('-', '')",
        ["E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"],
        "SHA-256 of nothing (FIPS 180-4)",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[f"{i:02d}" for i in range(len(ROWS))])
def test_snippet_gives_the_documented_result(row: Row) -> None:
    result = TestMachine().run(row.snippet)
    assert result.terminating is None, (result.terminating.message, row.source)
    assert result.errors == []
    assert [shape(item) for item in result.output] == row.expected, row.source


@dataclass(frozen=True)
class ErrorRow:
    snippet: str
    message: str
    error_id: str
    source: str


ERROR_ROWS = [
    ErrorRow(
        "1 + 'a'",
        'Cannot convert value "a" to type "System.Int32". Error: "Input string was not in a correct format."',
        "InvalidCastFromStringToInteger",
        "ps51: LanguagePrimitives.cs ConvertStringToInteger",
    ),
    ErrorRow(
        "$x = $null\n$x.Foo()",
        "You cannot call a method on a null-valued expression.",
        "InvokeMethodOnNull",
        "ps51: resources/ParserStrings.resx InvokeMethodOnNull",
    ),
    ErrorRow(
        "'abc'.Foo()",
        "Method invocation failed because [System.String] does not contain a method named 'Foo'.",
        "MethodNotFound",
        "ps51: resources/ParserStrings.resx MethodNotFound",
    ),
    ErrorRow(
        "$x = $null\n$x[0]",
        "Cannot index into a null array.",
        "NullArray",
        "ps51: resources/ParserStrings.resx NullArray",
    ),
    ErrorRow(
        "[Nope.Type]::X",
        "Unable to find type [Nope.Type].",
        "TypeNotFound",
        "ps51: resources/ParserStrings.resx TypeNotFound",
    ),
    ErrorRow(
        "[int]'abc'",
        'Cannot convert value "abc" to type "System.Int32". Error: "Input string was not in a correct format."',
        "InvalidCastFromStringToInteger",
        ABOUT + "about_Type_Conversion.md",
    ),
    ErrorRow(
        "Get-Nothing",
        "The term 'Get-Nothing' is not recognized as the name of a cmdlet, function, script file, or operable "
        "program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
        "CommandNotFoundException",
        "ps51: resources/DiscoveryExceptions.resx CommandNotFoundException",
    ),
    ErrorRow(
        "'{1}' -f 'a'",
        "Error formatting a string: Index (zero based) must be greater than or equal to zero and less than "
        "the size of the argument list..",
        "FormatError",
        "ps51: resources/ParserStrings.resx FormatError",
    ),
    ErrorRow(
        "5 -gt 'abc'",
        'Could not compare "5" to "abc". Error: "Cannot convert value "abc" to type "System.Int32". '
        'Error: "Input string was not in a correct format.""',
        "ComparisonFailure",
        "ps51: resources/ExtendedTypeSystem.resx ComparisonFailure",
    ),
]


@pytest.mark.parametrize("row", ERROR_ROWS, ids=[f"e{i:02d}" for i in range(len(ERROR_ROWS))])
def test_snippet_fails_with_the_documented_error(row: ErrorRow) -> None:
    script = "$ErrorActionPreference = 'Stop'\n" + row.snippet
    result = TestMachine().run(script)
    assert result.terminating is not None, row.source
    assert (result.terminating.message, result.terminating.error_id) == (row.message, row.error_id), row.source
