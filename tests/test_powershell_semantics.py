"""The Windows PowerShell 5.1 semantics that decide whether our scripts are correct, one test each.

Sources: PowerShell-Docs reference/5.1 (about_Error_Handling, about_Try_Catch_Finally,
about_CommonParameters, about_Preference_Variables, Set-StrictMode) and the 5.1 code base
(PowerShell/PowerShell at v6.0.0-alpha.10: Binders.cs PSGetMemberBinder, MiscOps.cs
ExceptionHandlingOps). Test doubles here are cmdlets and COM objects that only raise what a
test tells them to: they carry no belief about the scripts.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from powershell_support import FC, TestMachine

from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet, CommandDefinition
from simulator.powershell.errors import DotNetError, NetException
from simulator.powershell.types import PSType, TypeValue, to_string
from simulator.powershell.values import DotNetObject


def outputs(machine: TestMachine, script: str) -> list[str]:
    result = machine.run(script)
    assert result.terminating is None, result.terminating.message
    return [to_string(item) for item in result.output]


# --- Set-StrictMode -Version Latest --------------------------------------------------------------


def test_strict_mode_refuses_an_undefined_variable() -> None:
    result = TestMachine().run("Set-StrictMode -Version Latest\n$x = $notSet + 1\n'after'")
    assert result.terminating is None  # statement-terminating: $ErrorActionPreference is Continue here
    assert [e.message for e in result.errors] == [
        "The variable '$notSet' cannot be retrieved because it has not been set."
    ]
    assert result.errors[0].error_id == "VariableIsUndefined"
    assert result.errors[0].invocation_info.script_line_number == 2
    assert [to_string(o) for o in result.output] == ["after"]


def test_without_strict_mode_an_undefined_variable_is_null() -> None:
    assert outputs(TestMachine(), "$null -eq $notSet") == ["True"]


def test_strict_mode_refuses_a_property_the_object_does_not_have() -> None:
    script = (
        "Set-StrictMode -Version Latest\n$ErrorActionPreference = 'Stop'\n"
        "$o = [pscustomobject]@{ Name = 'x' }\ntry { $o.Nmae } catch { $_.FullyQualifiedErrorId; $_.Exception.Message }"
    )
    assert outputs(TestMachine(), script) == [
        "PropertyNotFoundStrict",
        "The property 'Nmae' cannot be found on this object. Verify that the property exists.",
    ]


def test_strict_mode_refuses_an_unknown_method_and_so_does_lax_mode() -> None:
    for strict in ("Set-StrictMode -Version Latest\n", ""):
        script = strict + "try { 'abc'.Frobnicate() } catch { $_.FullyQualifiedErrorId }"
        assert outputs(TestMachine(), script) == ["MethodNotFound"]


def test_count_of_a_scalar_is_one_unless_strict_mode_in_5_1() -> None:
    # 5.1: PSGetMemberBinder.PropertyDoesntExist throws for Count/Length of a scalar under StrictMode 2+
    # (ps51 Binders.cs); PowerShell 7 stopped doing so.
    assert outputs(TestMachine(), "(5).Count; $null.Count") == ["1", "0"]
    script = "Set-StrictMode -Version Latest\ntry { (5).Count } catch { $_.FullyQualifiedErrorId }\n@(5).Count"
    assert outputs(TestMachine(), script) == ["PropertyNotFoundStrict", "1"]


def test_strict_mode_refuses_a_missing_hashtable_key_read_as_a_property() -> None:
    # ps51 Binders.cs: a dictionary's key is tried first, then PropertyDoesntExist (strict: throws).
    script = (
        "Set-StrictMode -Version Latest\n$h = @{ a = 1 }\n$h.a; $h['b'] -eq $null\n"
        "try { $h.b } catch { $_.FullyQualifiedErrorId }"
    )
    assert outputs(TestMachine(), script) == ["1", "True", "PropertyNotFoundStrict"]


def test_strict_mode_3_refuses_an_index_out_of_bounds() -> None:
    script = "Set-StrictMode -Version Latest\n$a = @(1)\ntry { $a[2] } catch { $_.Exception.Message }"
    assert outputs(TestMachine(), script) == ["Index was outside the bounds of the array."]
    assert outputs(TestMachine(), "$a = @(1)\n$null -eq $a[2]") == ["True"]


def test_member_enumeration_of_a_missing_property_under_strict_mode() -> None:
    script = (
        "Set-StrictMode -Version Latest\n$a = @([pscustomobject]@{ n = 1 }, [pscustomobject]@{ n = 2 })\n"
        "$a.n -join ','\ntry { $a.m } catch { $_.FullyQualifiedErrorId }"
    )
    assert outputs(TestMachine(), script) == ["1,2", "PropertyNotFoundStrict"]


# --- terminating and non-terminating errors ------------------------------------------------------


class Thrower(Cmdlet):
    """A double: -Terminating throws a terminating error, otherwise it writes a non-terminating one."""

    SIGNATURE: ClassVar[CommandSignature] = CommandSignature(
        "Invoke-Thrower", (parameter("Terminating", "switch"),), None, "Tests.InvokeThrowerCommand"
    )

    def process(self) -> None:
        record = self.error("System.InvalidOperationException", "it failed", "ThrowerFailed", "InvalidOperation")
        if self.flag("Terminating"):
            self.throw_terminating_error(record)
        self.write_error(record)
        self.write_object("continued")


def thrower_machine() -> TestMachine:
    machine = TestMachine()
    machine.definitions = [CommandDefinition(Thrower.SIGNATURE, Thrower)]
    return machine


def test_silently_continue_silences_a_non_terminating_error() -> None:
    result = thrower_machine().run(
        "$ErrorActionPreference = 'Stop'\nInvoke-Thrower -ErrorAction SilentlyContinue\n'after'\n$Error.Count"
    )
    assert result.terminating is None
    assert [to_string(o) for o in result.output] == ["continued", "after", "1"]
    assert result.errors == []


def test_silently_continue_does_not_silence_a_terminating_error() -> None:
    # about_Error_Handling (5.1): -ErrorAction doesn't change errors from ThrowTerminatingError.
    result = thrower_machine().run(
        "$ErrorActionPreference = 'Stop'\nInvoke-Thrower -Terminating -ErrorAction SilentlyContinue\n'after'"
    )
    assert result.terminating is not None
    assert result.terminating.error_id == "ThrowerFailed,Tests.InvokeThrowerCommand"
    assert result.output == []


def test_a_terminating_error_is_caught_by_try_catch_even_with_silently_continue() -> None:
    script = (
        "try { Invoke-Thrower -Terminating -ErrorAction SilentlyContinue; 'not here' }\n"
        "catch { 'caught ' + $_.FullyQualifiedErrorId }"
    )
    assert outputs(thrower_machine(), script) == ["caught ThrowerFailed,Tests.InvokeThrowerCommand"]


def test_a_statement_terminating_error_ends_its_statement_only_under_continue() -> None:
    result = thrower_machine().run("Invoke-Thrower -Terminating\n'next statement runs'")
    assert [to_string(o) for o in result.output] == ["next statement runs"]
    assert [e.error_id for e in result.errors] == ["ThrowerFailed,Tests.InvokeThrowerCommand"]


def test_erroractionpreference_silently_continue_suppresses_a_statement_terminating_error() -> None:
    # about_Error_Handling (5.1): "The $ErrorActionPreference asymmetry".
    result = thrower_machine().run("$ErrorActionPreference = 'SilentlyContinue'\nInvoke-Thrower -Terminating\n'after'")
    assert [to_string(o) for o in result.output] == ["after"]
    assert result.errors == []


def test_stop_escalates_a_non_terminating_error_and_catch_sees_the_original_record() -> None:
    script = (
        "$ErrorActionPreference = 'Stop'\n"
        "try { Get-Item -LiteralPath 'C:\\nope.txt'; 'not here' }\n"
        "catch [System.Management.Automation.ItemNotFoundException] {\n"
        "  $_.Exception.GetType().FullName; $_.Exception.Message; $_.FullyQualifiedErrorId\n"
        "  [string]$_.CategoryInfo; $_.InvocationInfo.ScriptLineNumber\n}"
    )
    assert outputs(TestMachine(), script) == [
        "System.Management.Automation.ItemNotFoundException",
        "Cannot find path 'C:\\nope.txt' because it does not exist.",
        "PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand",
        "ObjectNotFound: (C:\\nope.txt:String) [Get-Item], ItemNotFoundException",
        "2",
    ]


def test_a_non_terminating_error_does_not_trigger_catch_without_stop() -> None:
    script = "try { Write-Error 'soft'; 'continued' } catch { 'caught' }"
    result = TestMachine().run(script)
    assert [to_string(o) for o in result.output] == ["continued"]
    assert [e.message for e in result.errors] == ["soft"]
    assert result.errors[0].error_id == "Microsoft.PowerShell.Commands.WriteErrorException"


def test_throw_ends_the_script_and_is_suppressed_only_by_the_preference() -> None:
    result = TestMachine().run("function f {\n  throw 'Critical failure'\n  'never'\n}\nf\n'never either'")
    assert result.output == []
    assert result.terminating is not None and result.terminating.message == "Critical failure"
    assert result.terminating.invocation_info.script_line_number == 2
    result = TestMachine().run("$ErrorActionPreference = 'SilentlyContinue'\nthrow 'x'\n'after'")
    assert [to_string(o) for o in result.output] == ["after"]


def test_an_error_leaving_an_advanced_script_block_is_statement_terminating() -> None:
    # about_Error_Handling (5.1), "Escalation examples".
    simple = "& {\n  param()\n  $ErrorActionPreference = 'Stop'\n  Write-Error 'x'\n} 2>$null\n'after'"
    advanced = (
        "& {\n  [CmdletBinding()]\n  param()\n  $ErrorActionPreference = 'Stop'\n  Write-Error 'x'\n} 2>$null\n'after'"
    )
    assert [to_string(o) for o in TestMachine().run(simple).output] == []
    assert [to_string(o) for o in TestMachine().run(advanced).output] == ["after"]


def test_finally_runs_when_the_error_is_not_caught() -> None:
    result = TestMachine().run("try { throw 'x' } finally { 'cleanup' }\n'never'")
    assert [to_string(o) for o in result.output] == ["cleanup"]
    assert result.terminating is not None


def test_native_stderr_redirected_under_stop_terminates_in_5_1() -> None:
    # Windows PowerShell 5.1 turns a redirected stderr line into an error record (NativeCommandError), which
    # $ErrorActionPreference = 'Stop' makes terminating: secret_server_set.ps1 relaxes the preference for it.
    from powershell_support import FakeExecutable

    from simulator.powershell.machine import NativeResult

    machine = TestMachine()
    machine.executables["tool.exe"] = FakeExecutable("tool.exe", lambda args, stdin: NativeResult(3, ["out"], ["bad"]))
    result = machine.run("$ErrorActionPreference = 'Stop'\n$o = & tool.exe -x 2>&1\n'never'")
    assert result.terminating is not None
    assert (result.terminating.message, result.terminating.error_id) == ("bad", "NativeCommandError")
    relaxed = "$ErrorActionPreference = 'Stop'\n$o = & { $ErrorActionPreference = 'Continue'; & tool.exe -x 2>&1 }\n"
    relaxed += "$o.Count; [string]$o[1]; $LASTEXITCODE"
    assert outputs(machine, relaxed) == ["2", "bad", "3"]


# --- $null and comparisons -----------------------------------------------------------------------


def test_null_on_the_left_compares_and_on_the_right_filters() -> None:
    script = (
        "$a = @(1, $null, 2)\n$null -eq $a\n($a -eq $null).Count\n[bool]($a -eq $null)\n"
        "$e = @()\n$null -eq $e\n($e -eq $null).Count"
    )
    # about_Comparison_Operators (5.1), $null: with a collection on the left the comparison filters, so
    # `if ($a -eq $null)` tests the filtered elements, not the collection.
    assert outputs(TestMachine(), script) == ["False", "1", "False", "False", "0"]


# --- the error record ----------------------------------------------------------------------------


class FailingCom(DotNetObject):
    """A COM object double: BackupSecret fails with the COMException it is given."""

    TYPE_NAME = "System.__ComObject"
    METHODS = ("BackupSecret",)

    def __init__(self, error: NetException) -> None:
        self.error = error

    def BackupSecret(self, *args: object) -> None:
        raise DotNetError(self.error)


def com_machine() -> TestMachine:
    machine = TestMachine()
    com_error = NetException(
        "System.Runtime.InteropServices.COMException",
        "Could not contact the SSO server 'MSSCLUSTER'.",
        hresult=-1073729009,
    )
    machine.com_classes["sso.config"] = lambda: FailingCom(com_error)
    interface = PSType("Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigSS")
    machine.assemblies["c:\\sso\\interop.dll"] = [interface]
    machine.filesystem.make_directory("C:\\sso")
    machine.filesystem.write_bytes("C:\\sso\\interop.dll", b"MZ")
    return machine


def test_invokemember_wraps_the_com_error_as_net_reflection_and_powershell_do() -> None:
    # .NET: Type.InvokeMember throws TargetInvocationException around the member's exception. PowerShell 5.1
    # then wraps the call in MethodInvocationException, unwrapping one TargetInvocationException
    # (ExceptionHandlingOps.ConvertToMethodInvocationException, ps51 MiscOps.cs): the COM error is the
    # InnerException, its HResult intact, and the error id is its type's name.
    script = (
        "$ErrorActionPreference = 'Stop'\nAdd-Type -Path 'C:\\sso\\interop.dll'\n"
        "$config = [Activator]::CreateInstance([Type]::GetTypeFromProgID('SSO.Config'))\n"
        "$flags = [Reflection.BindingFlags]::InvokeMethod -bor [Reflection.BindingFlags]::Instance\n"
        "try {\n"
        "  [Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigSS].InvokeMember('BackupSecret', $flags, $null, $config,"
        " [object[]]@('f', 'p', 'r'))\n"
        "} catch {\n"
        "  $_.Exception.GetType().FullName; $_.Exception.Message; $_.FullyQualifiedErrorId\n"
        "  $_.Exception.InnerException.GetType().FullName; $_.Exception.InnerException.HResult\n"
        "  $_.InvocationInfo.ScriptLineNumber\n"
        "  $f = $_.Exception; while ($f.InnerException) { $f = $f.InnerException }; $f.Message\n"
        "}"
    )
    assert outputs(com_machine(), script) == [
        "System.Management.Automation.MethodInvocationException",
        'Exception calling "InvokeMember" with "5" argument(s): "Could not contact the SSO server \'MSSCLUSTER\'."',
        "COMException",
        "System.Runtime.InteropServices.COMException",
        "-1073729009",
        "6",
        "Could not contact the SSO server 'MSSCLUSTER'.",
    ]


def test_invokemember_itself_raises_target_invocation_exception() -> None:
    # What reflection does on its own, before PowerShell's wrapper: the layer the scripts never see.
    from simulator.powershell.dotnet import invoke_member

    com_error = NetException("System.Runtime.InteropServices.COMException", "boom", hresult=-2147467259)
    with pytest.raises(DotNetError) as raised:
        invoke_member(TypeValue(PSType("ISSOConfigSS")), ["BackupSecret", 256, None, FailingCom(com_error), []])
    assert raised.value.exception.type_name == "System.Reflection.TargetInvocationException"
    assert raised.value.exception.Message == "Exception has been thrown by the target of an invocation."
    assert raised.value.exception.InnerException is com_error


def test_an_unregistered_progid_gives_null_and_createinstance_refuses_it() -> None:
    script = (
        "$t = [Type]::GetTypeFromProgID('No.Such')\n$null -eq $t\n"
        "try { [Activator]::CreateInstance($t) } catch { $_.Exception.InnerException.GetType().FullName }"
    )
    assert outputs(TestMachine(), script) == ["True", "System.ArgumentNullException"]


def test_error_record_members_scripts_read() -> None:
    script = (
        "$ErrorActionPreference = 'Stop'\n"
        "try {\n  [IO.File]::ReadAllBytes('C:\\missing.bin')\n} catch {\n"
        "  $_.Exception.Message\n  $_.Exception.InnerException.GetType().FullName\n"
        "  $_.FullyQualifiedErrorId\n  $_.InvocationInfo.ScriptLineNumber\n  $_.CategoryInfo.Category\n}"
    )
    assert outputs(TestMachine(), script) == [
        'Exception calling "ReadAllBytes" with "1" argument(s): "Could not find file \'C:\\missing.bin\'."',
        "System.IO.FileNotFoundException",
        "FileNotFoundException",
        "3",
        "NotSpecified",
    ]


# --- catalogue objects ---------------------------------------------------------------------------


def test_catalogue_objects_have_exactly_their_properties_and_enum_values() -> None:
    machine = TestMachine()
    group = FC.new("Microsoft.FailoverClusters.PowerShell.ClusterGroup", Name="SSO", State="Online")

    class GetGroup(Cmdlet):
        def process(self) -> None:
            self.write_object(group)

    machine.definitions = [FC.definition("Get-ClusterGroup", GetGroup)]
    script = (
        "Set-StrictMode -Version Latest\n$g = Get-ClusterGroup\n[string]$g.State; [int]$g.State; $g.State -eq 'online'\n"
        "ConvertTo-Json -InputObject @{ s = $g.State } -Compress\ntry { $g.Owner } catch { $_.FullyQualifiedErrorId }"
    )
    assert outputs(machine, script) == ["Online", "0", "True", '{"s":0}', "PropertyNotFoundStrict"]


# --- unsupported constructs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "construct", "line"),
    [
        ("'ok'\ntrap { continue }\n'x'", "the trap statement", 2),
        ("'ok'\n\nclass Thing {\n  [int] $n\n}", "class definitions", 3),
        ("$x = 1\nInvoke-Command -ScriptBlock { $using:x }", "$using: variables", 2),
        ("$a = 1\n$b = $a.ForEach{ $_ }", "the .ForEach{} / .Where{} methods", 2),
        ("1\n2\n'x' > C:\\out.txt", "redirection to a file", 3),
    ],
)
def test_an_unsupported_construct_fails_loudly_naming_it_and_its_line(script: str, construct: str, line: int) -> None:
    result = TestMachine().run(script)
    assert result.output == []  # nothing ran
    assert result.terminating is not None
    assert result.terminating.error_id == "SimulatorUnsupportedConstruct"
    assert result.terminating.message == (
        f"The simulated Windows PowerShell does not support {construct} (line {line})."
    )


def test_parse_input_reports_an_unsupported_construct_as_the_scripts_error() -> None:
    script = (
        "$e = $null\n$a = [Management.Automation.Language.Parser]::ParseInput(\"'a'`ntrap { }\", [ref]$null, [ref]$e)\n"
        "$e[0].ErrorId; $e[0].Message; $e[0].Extent.StartLineNumber"
    )
    assert outputs(TestMachine(), script) == [
        "SimulatorUnsupportedConstruct",
        "The simulated Windows PowerShell does not support the trap statement (line 2).",
        "2",
    ]


def test_a_construct_the_interpreter_does_not_model_at_run_time_fails_loudly() -> None:
    result = TestMachine().run("Get-ChildItem -Path 'Cert:\\LocalMachine\\My'")
    assert result.terminating is None
    assert [e.message for e in result.errors] == ["The simulated Windows PowerShell does not model the Cert: drive."]


# --- the machine's hooks -------------------------------------------------------------------------


def test_start_sleep_and_get_date_go_through_the_machine() -> None:
    machine = TestMachine()
    script = "$t = Get-Date\nStart-Sleep -Milliseconds 500\nStart-Sleep 2\n((Get-Date) - $t).TotalSeconds"
    assert outputs(machine, script) == ["2.5"]
    assert machine.slept == [0.5, 2.0]


def test_a_script_block_runs_in_a_new_runspace_with_positional_arguments() -> None:
    # What Invoke-Command -ScriptBlock { param(...) } -ArgumentList a, b does on the other machine.
    from simulator.powershell.engine import run_file

    text = 'param([string]$Name, [bool]$Flag)\n"$Name/$Flag/$env:COMPUTERNAME"'
    result = run_file(TestMachine("MSSNODE2"), text, positional=["ENTSSO", True])
    assert result.terminating is None
    assert [to_string(o) for o in result.output] == ["ENTSSO/True/MSSNODE2"]
