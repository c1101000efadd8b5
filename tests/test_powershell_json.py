"""ConvertTo-Json and ConvertFrom-Json as Windows PowerShell 5.1 does them.

The expected texts are 5.1's own outputs printed in PowerShell-Docs
reference/5.1/Microsoft.PowerShell.Utility/ConvertTo-Json.md (Examples 1-3), and the behaviour of
ConvertToJsonCommand.cs / JsonObject.cs of the 5.1 code base (PowerShell/PowerShell v6.0.0-alpha.10,
the non-CORECLR path: JavaScriptSerializer and 5.1's own pretty printer).
"""

from __future__ import annotations

from powershell_support import FC, TestMachine

from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.types import to_string


def run(script: str, machine: TestMachine | None = None) -> list[str]:
    result = (machine or TestMachine()).run(script)
    assert result.terminating is None, result.terminating.message
    return [to_string(item) for item in result.output]


def test_example_1_pretty_print_of_the_calendar() -> None:
    script = (
        "$o = [pscustomobject]@{\n"
        "  MinSupportedDateTime = [datetime]'0001-01-01'\n"
        "  MaxSupportedDateTime = ([datetime]'9999-12-31 23:59:59').AddMilliseconds(999)\n"
        "  AlgorithmType = 1; CalendarType = 1; Eras = @(1); TwoDigitYearMax = 2029; IsReadOnly = $false\n}\n"
        "$o | ConvertTo-Json"
    )
    expected = (
        "{\r\n"
        '    "MinSupportedDateTime":  "\\/Date(-62135596800000)\\/",\r\n'
        '    "MaxSupportedDateTime":  "\\/Date(253402300799999)\\/",\r\n'
        '    "AlgorithmType":  1,\r\n'
        '    "CalendarType":  1,\r\n'
        '    "Eras":  [\r\n'
        "                 1\r\n"
        "             ],\r\n"
        '    "TwoDigitYearMax":  2029,\r\n'
        '    "IsReadOnly":  false\r\n'
        "}"
    )
    assert run(script) == [expected]


def test_example_2_compress() -> None:
    script = "[ordered]@{ Domain = 'Domain01'; Account = 'User01'; Admin = 'True' } | ConvertTo-Json -Compress"
    assert run(script) == ['{"Domain":"Domain01","Account":"User01","Admin":"True"}']


def test_example_3_a_nested_object_is_indented_under_its_key() -> None:
    script = (
        "[pscustomobject]@{ Second = 16; TimeOfDay = [pscustomobject]@{ Ticks = 723762218083; Days = 0 }; Year = 2012 }"
        " | ConvertTo-Json"
    )
    expected = (
        "{\r\n"
        '    "Second":  16,\r\n'
        '    "TimeOfDay":  {\r\n'
        '                      "Ticks":  723762218083,\r\n'
        '                      "Days":  0\r\n'
        "                  },\r\n"
        '    "Year":  2012\r\n'
        "}"
    )
    assert run(script) == [expected]


def test_default_depth_is_2_and_deeper_objects_become_their_string_form() -> None:
    script = (
        "$h = [ordered]@{ a = [ordered]@{ b = [ordered]@{ c = [ordered]@{ d = 1 } } } }\n"
        "ConvertTo-Json -InputObject $h -Compress\nConvertTo-Json -InputObject $h -Compress -Depth 3\n"
        "ConvertTo-Json -InputObject @{ a = @{ b = @{ c = @(1, 2) } } } -Compress\n"
        "ConvertTo-Json -InputObject ([pscustomobject]@{ a = [pscustomobject]@{ b = [pscustomobject]@{ c = "
        "[pscustomobject]@{ d = 1 } } } }) -Compress"
    )
    assert run(script) == [
        '{"a":{"b":{"c":"System.Collections.Specialized.OrderedDictionary"}}}',
        '{"a":{"b":{"c":{"d":1}}}}',
        '{"a":{"b":{"c":"1 2"}}}',
        '{"a":{"b":{"c":"@{d=1}"}}}',
    ]


def test_enums_become_their_numbers_and_strings_are_escaped_for_html() -> None:
    machine = TestMachine()
    group = FC.new("Microsoft.FailoverClusters.PowerShell.ClusterGroup", Name="SSO", State="PartialOnline")

    class GetGroup(Cmdlet):
        def process(self) -> None:
            self.write_object(group)

    machine.definitions = [FC.definition("Get-ClusterGroup", GetGroup)]
    script = (
        "$g = Get-ClusterGroup\n"
        "ConvertTo-Json -InputObject ([ordered]@{ state = $g.State; text = [string]$g.State }) -Compress\n"
        "ConvertTo-Json -InputObject \"<a href='x'>&\" -Compress\n"
        'ConvertTo-Json -InputObject "tab`tnew`nline \u00e9" -Compress'
    )
    assert run(script, machine) == [
        '{"state":3,"text":"PartialOnline"}',
        '"\\u003ca href=\\u0027x\\u0027\\u003e\\u0026"',
        '"tab\\tnew\\nline \u00e9"',
    ]


def test_null_input_writes_nothing_and_several_inputs_become_one_array() -> None:
    assert run("ConvertTo-Json -InputObject $null") == []
    assert run("1, 2 | ConvertTo-Json -Compress; ConvertTo-Json -InputObject @() -Compress") == ["[1,2]", "[]"]
    assert run("ConvertTo-Json -InputObject @(1) -Compress; ,@(1) | ConvertTo-Json -Compress") == ["[1]", "[1]"]


def test_a_hashtable_with_a_key_that_is_not_a_string_is_refused() -> None:
    result = TestMachine().run("ConvertTo-Json -InputObject @{ 1 = 'a' }")
    assert result.errors[0].error_id == "NonStringKeyInDictionary,Microsoft.PowerShell.Commands.ConvertToJsonCommand"
    assert result.errors[0].message == (
        "The type 'System.Collections.Hashtable' is not supported for serialization or deserialization of a dictionary. "
        "Keys must be strings."
    )


def test_convert_from_json_gives_custom_objects_int32_and_decimal() -> None:
    script = (
        '$o = ConvertFrom-Json \'{"v": 1, "big": 3000000000, "f": 2.5, "a": [1, "x"], "o": {"n": null}}\'\n'
        "$o.GetType().FullName; $o.v.GetType().Name; $o.big.GetType().Name; $o.f.GetType().Name\n"
        "$o.a.GetType().FullName; $o.o.n -eq $null"
    )
    assert run(script) == [
        "System.Management.Automation.PSCustomObject",
        "Int32",
        "Int64",
        "Decimal",
        "System.Object[]",
        "True",
    ]


def test_convert_from_json_writes_an_array_as_one_object() -> None:
    # 5.1 does not unroll a top-level JSON array (it writes the object[] as one object).
    assert run("@('[1, 2, 3]' | ConvertFrom-Json).Count") == ["1"]


def test_convert_from_json_refuses_keys_that_differ_only_in_case() -> None:
    result = TestMachine().run("$ErrorActionPreference = 'Stop'\nConvertFrom-Json '{\"a\": 1, \"A\": 2}'")
    assert result.terminating is not None
    assert result.terminating.message == (
        "Cannot convert the JSON string because a dictionary that was converted from the string contains the "
        "duplicated keys 'a' and 'A'."
    )


def test_clixml_round_trip_of_what_the_delegation_helper_serialises() -> None:
    script = (
        "$job = @{ Work = 'param($a) $a'; Arguments = @{ Nodes = [string[]]@('a', 'b'); Answers = @{ Mode = 'Create'; "
        "Flag = $true; N = 5 } } }\n"
        "$text = [Management.Automation.PSSerializer]::Serialize($job)\n"
        "$back = [Management.Automation.PSSerializer]::Deserialize($text)\n"
        "$back.Work; $back.Arguments.Nodes -join ','; $back.Arguments.Answers.Mode; $back.Arguments.Answers.Flag\n"
        "$back.Arguments.Answers.N.GetType().Name; $text.StartsWith('<Objs Version=\"1.1.0.1\"')"
    )
    assert run(script) == ["param($a) $a", "a,b", "Create", "True", "Int32", "True"]
