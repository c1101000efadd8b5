"""The simulated cmd.exe and powershell.exe of a node (simulator/shell), without HTTP.

Every script runs in the interpreter on a stand-in node (an in-memory Windows, simulator/shell/standin.py),
the project's bootstrap included: what these tests see of it is what providers/bootstrap.ps1 does in Windows
PowerShell 5.1's semantics.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import winrm

from providers import runner_wire
from simulator.shell import SimulatedShell, StandInHost
from simulator.wsman.backend import Directive, Outcome, Session

SESSION = Session("MSSNODE1", "CORP\\svc-install", "ntlm", encrypted=True, delegated=False)
STANDIN = Path(__file__).parent / "data" / "standin"
ECHO = (STANDIN / "echo.ps1").read_text(encoding="utf-8")
BOOTSTRAP = runner_wire.BOOTSTRAP_PATH.read_text(encoding="utf-8")
NOT_RECOGNIZED = "is not recognized as the name of a cmdlet, function, script file, or operable program."


def shell(host: StandInHost | None = None) -> SimulatedShell:
    return SimulatedShell(host or StandInHost())


def run(line: str, stdin: bytes = b"", host: StandInHost | None = None) -> Outcome:
    return shell(host).prepare(SESSION, line, [], stdin).execute()


def encoded(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def run_ps(script: str) -> Outcome:
    """What pywinrm's Session.run_ps sends."""
    return run(f"powershell -encodedcommand {encoded(script)}")


def clean(stderr: bytes) -> str:
    """stderr as pywinrm's run_ps shows it to its caller."""
    session = winrm.Session.__new__(winrm.Session)
    return session._clean_error_msg(stderr).decode("utf-8")


def bootstrap_run(
    operation: str, script: str, parameters: dict[str, object], host: StandInHost | None = None
) -> tuple[Outcome, runner_wire.ScriptOutcome | None]:
    stdin = runner_wire.envelope(operation, script, parameters)
    prepared = shell(host).prepare(
        SESSION, runner_wire.POWERSHELL, list(runner_wire.bootstrap_arguments()), stdin
    )
    outcome = prepared.execute()
    return outcome, runner_wire.read_result(outcome.stdout)


# --- cmd.exe -------------------------------------------------------------------------------------


def padded_script(length: int) -> str:
    script = "Write-Output 'x'"
    return script[:-1] + "x" * (length - len(script)) + "'"


def test_cmd_exe_refuses_a_command_line_over_8191_characters() -> None:
    # pywinrm's run_ps line is 27 + 4*ceil(2S/3) characters: S = 3061 fits exactly, 3062 does not.
    fits, too_long = padded_script(3061), padded_script(3062)
    assert len(f"powershell -encodedcommand {encoded(fits)}") == 8191
    assert run_ps(too_long) == Outcome(b"", b"The command line is too long.\r\n", 1)
    assert b"is too long" not in run_ps(fits).stderr


def test_the_limit_counts_command_and_arguments_together() -> None:
    prepared = shell().prepare(SESSION, "powershell", ["-Command", "x" * 8180], b"")
    assert prepared.execute().stderr == b"The command line is too long.\r\n"


def test_an_unknown_program_fails_with_cmd_exe_wording() -> None:
    assert run("frobnicate /all") == Outcome(
        b"",
        b"'frobnicate' is not recognized as an internal or external command,\r\n"
        b"operable program or batch file.\r\n",
        1,
    )


# --- powershell.exe command line ------------------------------------------------------------------


@pytest.mark.parametrize(
    "switch",
    ["-EncodedCommand", "-encodedcommand", "-enc", "-e", "-ec", "/EncodedCommand", "--EncodedCommand"],
)
def test_encoded_command_switch_accepts_what_powershell_accepts(switch: str) -> None:
    host = StandInHost()
    stdin = runner_wire.envelope("echo", ECHO, {"Text": "hi"})
    line = f"PowerShell.exe -nop -noni -ex Bypass {switch} {encoded(BOOTSTRAP)}"
    prepared = shell(host).prepare(SESSION, line, [], stdin)
    assert prepared.operation == "echo"
    assert runner_wire.read_result(prepared.execute().stdout) is not None
    assert [op for _, op, _ in host.invocations] == ["echo"]


@pytest.mark.parametrize("switch", ["-enca", "-encodedcommandx", "-x"])
def test_a_switch_that_is_no_abbreviation_is_not_encoded_command(switch: str) -> None:
    host = StandInHost()
    stdin = runner_wire.envelope("echo", ECHO, {"Text": "hi"})
    outcome = shell(host).prepare(
        SESSION, f"powershell -NonInteractive {switch} {encoded(BOOTSTRAP)}", [], stdin
    )
    assert outcome.execute().exit_code == 1
    assert (outcome.operation, host.invocations) == (None, [])


def test_the_first_word_that_is_no_switch_starts_the_command_text() -> None:
    outcome = run("powershell -NonInteractive Get-Service ENTSSO")
    assert outcome.exit_code == 1
    assert outcome.stderr.decode("cp437").startswith(f"Get-Service : The term 'Get-Service' {NOT_RECOGNIZED}")


def test_command_dash_reads_the_script_from_stdin() -> None:
    outcome = run("powershell -NoProfile -Command -", stdin=b"Get-Service ENTSSO\r\n")
    assert outcome.exit_code == 1
    assert outcome.stderr.decode("cp437").startswith(f"Get-Service : The term 'Get-Service' {NOT_RECOGNIZED}")


def test_a_value_that_is_not_base64_is_refused_before_anything_runs() -> None:
    outcome = run("powershell -EncodedCommand not!base64")
    assert outcome.exit_code == -196608
    assert outcome.stderr == (
        b"Cannot process the command because the value specified with -EncodedCommand is not properly "
        b"encoded. The value must be Base64 encoded.\r\n"
    )


def test_encoded_command_without_a_value_is_a_command_line_error() -> None:
    outcome = run("powershell -NonInteractive -EncodedCommand")
    assert (outcome.exit_code, outcome.stderr) == (
        -196608,
        b"Cannot process the command because of a missing parameter. A command must follow -Command.\r\n",
    )


# --- parse errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "error_id", "message", "where"),
    [
        (
            "$ErrorActionPreference = 'Stop'\nif ($true) {\n  Write-Output 1\n",
            "MissingEndCurlyBrace",
            "Missing closing '}' in statement block or type definition.",
            "At line:2 char:12",
        ),
        (
            "$a = (1 + 2",
            "MissingEndParenthesisInExpression",
            "Missing closing ')' in expression.",
            "At line:1 char:12",
        ),
        (
            "$x = 'abc",
            "TerminatorExpectedAtEndOfString",
            "The string is missing the terminator: '.",
            "At line:1 char:6",
        ),
        (
            "Write-Output 'ok'\n}",
            "UnexpectedToken",
            "Unexpected token '}' in expression or statement.",
            "At line:2 char:1",
        ),
        (
            "$x = 1 2",
            "UnexpectedToken",
            "Unexpected token '2' in expression or statement.",
            "At line:1 char:8",
        ),
        ("@{ a = 1", "IncompleteHashLiteral", "The hash literal was incomplete.", "At line:1 char:9"),
        (
            "try { 1 }",
            "MissingCatchOrFinally",
            "The Try statement is missing its Catch or Finally block.",
            "At line:1 char:10",
        ),
    ],
)
def test_a_script_that_does_not_parse_fails_as_powershell_reports_it(
    script: str, error_id: str, message: str, where: str
) -> None:
    host = StandInHost()
    outcome = run_ps(script)
    text = clean(outcome.stderr)
    assert outcome.exit_code == 1
    assert text.startswith(where + "\n")
    assert message in text.splitlines()
    assert "CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException" in text
    assert text.endswith(f"FullyQualifiedErrorId : {error_id}")
    assert host.invocations == []


def test_the_caret_line_points_at_the_unclosed_brace() -> None:
    lines = clean(run_ps("function f {\n  1\n").stderr).splitlines()
    assert lines[:3] == ["At line:1 char:12", "+ function f {", "+            ~"]


def test_an_envelope_script_that_does_not_parse_is_reported_and_nothing_runs() -> None:
    host = StandInHost()
    broken = ECHO.replace("@{ Text", "@{ Text = (", 1)
    outcome, result = bootstrap_run("echo", broken, {"Text": "x"}, host)
    assert result is not None
    assert not result.ok
    assert (result.category, result.error_id) == ("ParserError", "MissingEndParenthesisInExpression")
    lines = broken.splitlines()
    assert result.line == lines.index(next(line for line in lines if "@{ Text" in line)) + 1
    assert outcome.exit_code == 1
    assert host.invocations == []


# --- scripts that are not the bootstrap ------------------------------------------------------------


def test_an_unknown_cmdlet_fails_in_clixml_that_pywinrm_understands() -> None:
    outcome = run_ps("Get-ClusterResource ENTSSO")  # the stand-in node has no FailoverClusters module
    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(b'#< CLIXML\r\n<Objs Version="1.1.0.1"')
    assert clean(outcome.stderr).splitlines()[:4] == [
        f"Get-ClusterResource : The term 'Get-ClusterResource' {NOT_RECOGNIZED} Check the spelling of the name, or "
        "if a path was included, verify that the path is correct and try again.",
        "At line:1 char:1",
        "+ Get-ClusterResource ENTSSO",
        "+ ~~~~~~~~~~~~~~~~~~~",
    ]


def test_a_free_form_script_runs_in_the_interpreter_on_the_node() -> None:
    ok = run_ps("$env:COMPUTERNAME; 1 + 1")
    assert ok == Outcome(b"MSSNODE1\r\n2\r\n", b"", 0)
    failed = run_ps("Get-Item -LiteralPath C:\\nothing-here")
    assert failed.exit_code == 1
    assert clean(failed.stderr).startswith("Get-Item : Cannot find path 'C:\\nothing-here' because it does not exist.")


# --- param() blocks and binding, by the real bootstrap -------------------------------------------------

ADVANCED = """[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $NodeName,
    [Parameter(Mandatory = $true)] [int] $Port,
    [string[]] $Members = @('a', 'b'),
    [bool] $Enable = $true,
    [switch] $Force,
    [hashtable] $Options,
    [ValidateSet('Enabled', 'Disabled')] [string] $State = 'Enabled',
    [Alias('Pw')] [securestring] $Password,
    [string] $Computer = $env:COMPUTERNAME,
    $Anything
)
$ErrorActionPreference = 'Stop'
@{ NodeName = $NodeName; Port = $Port; Members = $Members; Enable = $Enable; Force = [bool]$Force; State = $State
   Computer = $Computer; Anything = $Anything }
"""


def binding(supplied: dict[str, object], script: str = ADVANCED) -> dict[str, object]:
    """What the script's parameters hold once the bootstrap bound `supplied` to them."""
    _, result = bootstrap_run("echo", script, supplied)
    assert result is not None and result.ok, result
    assert isinstance(result.result, dict)
    return result.result


def refusal(supplied: dict[str, object], script: str = ADVANCED) -> runner_wire.ScriptOutcome:
    """The bootstrap's refusal: before anything ran (line 0)."""
    _, result = bootstrap_run("echo", script, supplied)
    assert result is not None and not result.ok, result
    assert result.line == 0
    return result


def subset(found: dict[str, object], *names: str) -> dict[str, object]:
    return {name: found[name] for name in names}


def test_names_match_case_insensitively_and_take_the_declared_spelling() -> None:
    bound = binding({"nodename": "MSSNODE1", "PORT": "1433", "force": True, "MEMBERS": "only"})
    assert subset(bound, "NodeName", "Port", "Members", "Enable", "Force", "State") == {
        "NodeName": "MSSNODE1",
        "Port": 1433,
        "Members": ["only"],
        "Enable": True,
        "Force": True,
        "State": "Enabled",
    }


def test_an_unambiguous_prefix_binds_and_an_ambiguous_one_is_refused() -> None:
    assert binding({"NodeName": "N", "Po": 1, "Memb": ["x"]})["Members"] == ["x"]
    error = refusal({"NodeName": "N", "Port": 1, "P": "x"})
    assert (error.message, error.error_id) == (
        "Parameter cannot be processed because the parameter name 'P' is ambiguous. "
        "Possible matches include: -Port -Password -PipelineVariable.",
        "AmbiguousParameter",
    )


def test_an_undeclared_name_is_refused() -> None:
    error = refusal({"NodeName": "N", "Port": 1, "Colour": "red"})
    assert (error.message, error.category, error.error_id) == (
        "A parameter cannot be found that matches parameter name 'Colour'.",
        "InvalidArgument",
        "NamedParameterNotFound",
    )


def test_a_simple_script_without_cmdletbinding_collects_unknown_names_in_args() -> None:
    simple = "param([string] $Name)\n@{ Name = $Name; Unbound = $args.Count }"
    assert binding({"Name": "x", "Colour": "red"}, simple) == {"Name": "x", "Unbound": 2}


def test_missing_mandatory_parameters_are_named_in_declaration_order() -> None:
    error = refusal({"Force": True})
    assert (error.message, error.category, error.error_id) == (
        "Cannot process command because of one or more missing mandatory parameters: NodeName Port.",
        "InvalidArgument",
        "MissingMandatoryParameter",
    )


@pytest.mark.parametrize(
    ("supplied", "message"),
    [
        (
            {"Port": "abc"},
            "Cannot process argument transformation on parameter 'Port'. Cannot convert value \"abc\" "
            'to type "System.Int32". Error: "Input string was not in a correct format."',
        ),
        (
            {"Port": 3000000000},
            "Cannot process argument transformation on parameter 'Port'. Cannot convert value "
            '"3000000000" to type "System.Int32". Error: "Value was either too large or too small for an '
            'Int32."',
        ),
        (
            {"Port": [1, 2]},
            "Cannot process argument transformation on parameter 'Port'. Cannot convert the \"1 2\" value of "
            'type "System.Object[]" to type "System.Int32".',
        ),
        (
            {"Enable": "false"},
            "Cannot process argument transformation on parameter 'Enable'. Cannot convert value "
            '"System.String" to type "System.Boolean". Boolean parameters accept only Boolean values and '
            "numbers, such as $True, $False, 1 or 0.",
        ),
        (
            {"Force": "yes"},
            "Cannot process argument transformation on parameter 'Force'. Cannot convert value "
            '"System.String" to type "System.Management.Automation.SwitchParameter". Boolean parameters '
            "accept only Boolean values and numbers, such as $True, $False, 1 or 0.",
        ),
        (
            {"Options": "a=1"},
            "Cannot process argument transformation on parameter 'Options'. Cannot convert the \"a=1\" value "
            'of type "System.String" to type "System.Collections.Hashtable".',
        ),
    ],
)
def test_values_that_do_not_convert_are_refused_with_powershell_wording(
    supplied: dict[str, object], message: str
) -> None:
    error = refusal({"NodeName": "N", "Port": 1, **supplied})
    assert (error.message, error.category, error.error_id) == (
        message,
        "InvalidData",
        "ParameterArgumentTransformationError",
    )


def test_values_convert_as_powershell_converts_them() -> None:
    bound = binding(
        {"NodeName": 7, "Port": " 0x10 ", "Enable": 0, "Force": 1, "Members": [1, True], "Anything": [1]}
    )
    assert (bound["NodeName"], bound["Port"], bound["Enable"], bound["Force"]) == ("7", 16, False, True)
    assert (bound["Members"], bound["Anything"]) == (["1", "True"], [1])
    assert binding({"NodeName": "N", "Port": 2.5})["Port"] == 2  # banker's rounding, as [int]2.5


def test_mandatory_parameters_refuse_null_and_empty_string() -> None:
    assert refusal({"NodeName": "", "Port": 1}).message == (
        "Cannot bind argument to parameter 'NodeName' because it is an empty string."
    )
    assert refusal({"NodeName": None, "Port": 1}).error_id.startswith(
        "ParameterArgumentValidationErrorEmptyStringNotAllowed"
    )


def test_validate_set_is_checked_case_insensitively() -> None:
    assert binding({"NodeName": "N", "Port": 1, "State": "disabled"})["State"] == "disabled"
    error = refusal({"NodeName": "N", "Port": 1, "State": "Gone"})
    assert error.message == (
        "Cannot validate argument on parameter 'State'. The argument \"Gone\" does not belong to the set "
        '"Enabled,Disabled" specified by the ValidateSet attribute. Supply an argument that is in the set '
        "and then try the command again."
    )


def test_a_parameter_given_twice_is_refused() -> None:
    assert refusal({"NodeName": "N", "Port": 1, "Memb": "a", "members": "b"}).error_id.startswith(
        "ParameterAlreadyBound"
    )


# --- the bootstrap ---------------------------------------------------------------------------------

HOSTILE = "quote ' \" `$(Get-Date) $env:X ; & | > \r\n\ttab \x07 Ünïcødé ✓ 日本 😀 \\ <>&"


def test_bootstrap_round_trip_returns_what_echo_was_given() -> None:
    host = StandInHost()
    parameters: dict[str, object] = {"text": HOSTILE, "Items": [HOSTILE, ""], "Data": {"k": [1, {"n": None}]}}
    outcome, result = bootstrap_run("echo", ECHO, parameters, host)
    assert outcome.exit_code == 0
    assert outcome.stderr == b""
    assert outcome.stdout.endswith(b"\r\n")
    assert outcome.stdout.count(b"\r\n") == 1
    assert outcome.stdout.isascii()  # the console code page would mangle anything else
    assert result is not None
    assert result.ok
    assert result.result == {
        "Text": HOSTILE,
        "Items": [HOSTILE, ""],
        "Count": 1,
        "Flag": False,
        "Data": {"k": [1, {"n": None}]},
        "Secret": "",
    }
    assert host.invocations == [("MSSNODE1", "echo", result.result)]  # what the script itself saw


def test_the_directive_and_operation_are_known_before_the_command_runs() -> None:
    host = StandInHost()
    host.plan("echo", Directive(timeouts=2))
    stdin = runner_wire.envelope("echo", ECHO, {"Text": "x"})
    prepared = shell(host).prepare(
        SESSION, runner_wire.POWERSHELL, list(runner_wire.bootstrap_arguments()), stdin
    )
    assert (prepared.operation, prepared.directive) == ("echo", Directive(timeouts=2))
    assert host.invocations == []
    prepared.execute()
    prepared.execute()  # runs once, at most
    assert len(host.invocations) == 1


def test_a_binding_refusal_comes_back_as_the_result_line_with_line_0() -> None:
    host = StandInHost()
    outcome, result = bootstrap_run("echo", ECHO, {"Text": "x", "Colour": "red"}, host)
    assert outcome.exit_code == 1
    assert result is not None
    assert not result.ok
    assert (result.message, result.category, result.error_id, result.line) == (
        "A parameter cannot be found that matches parameter name 'Colour'.",
        "InvalidArgument",
        "NamedParameterNotFound",
        0,
    )
    assert host.invocations == []


def test_a_script_error_comes_back_as_the_result_line() -> None:
    fail = (STANDIN / "fail.ps1").read_text(encoding="utf-8")
    outcome, result = bootstrap_run("fail", fail, {"Message": "disk full", "ErrorId": "DiskFull"})
    assert outcome.exit_code == 1
    assert result is not None
    assert (result.ok, result.message, result.category, result.error_id) == (
        False,
        "disk full",
        "InvalidOperation",
        "DiskFull",
    )
    line = outcome.stdout.decode("ascii")
    assert line.startswith('##ENTSSO-RESULT## {"ok":false,"error":{')


def test_a_securestring_parameter_binds_only_under_its_full_name() -> None:
    script = (
        "[CmdletBinding()]\nparam([Parameter(Mandatory)] [securestring] $Password)\n"
        "@{ type = $Password.GetType().FullName; length = $Password.Length }\n"
    )
    host = StandInHost()
    _, result = bootstrap_run("echo", script, {"password": "S3cret!"}, host)
    assert result is not None
    assert result.ok
    assert result.result == {"type": "System.Security.SecureString", "length": 7}
    _, refused = bootstrap_run("echo", script, {"Pass": "S3cret!"}, host)
    assert refused is not None
    assert refused.error_id == "ParameterArgumentTransformationError"


def b64(data: bytes) -> bytes:
    return base64.b64encode(data) + b"\r\n"


def envelope_json(**overrides: object) -> bytes:
    document: dict[str, object] = {"v": 1, "operation": "echo", "script": ECHO, "parameters": {"Text": "x"}}
    document.update(overrides)
    return b64(json.dumps({k: v for k, v in document.items() if v is not ...}).encode("utf-8"))


@pytest.mark.parametrize(
    "stdin",
    [
        b"",
        b"this is not base64!\r\n",
        b64(b"not json"),
        b64(b"[1, 2]"),
        b64(b'{"v": 1, "operation": "echo", "script": "x", "parameters": {"a": 1, "A": 2}}'),
        b64(b'{"v": NaN, "operation": "echo", "script": "x", "parameters": {}}'),
        envelope_json(v=2),
        envelope_json(v="1"),
        envelope_json(v=True),
        envelope_json(operation=...),
        envelope_json(script=None),
        envelope_json(parameters=["Text", "x"]),
        b64('{"v": 1}'.encode("utf-16-le")),
    ],
)
def test_a_malformed_envelope_fails_like_the_bootstrap(stdin: bytes) -> None:
    host = StandInHost()
    prepared = shell(host).prepare(
        SESSION, runner_wire.POWERSHELL, list(runner_wire.bootstrap_arguments()), stdin
    )
    assert (prepared.operation, prepared.directive) == (None, Directive())
    outcome = prepared.execute()
    result = runner_wire.read_result(outcome.stdout)
    assert outcome.exit_code == 1
    assert result is not None
    assert (result.ok, result.category, result.error_id, result.line) == (
        False,
        "InvalidData",
        "InvalidEnvelope",
        0,
    )
    assert result.message.startswith("The ENTSSO envelope on stdin is malformed")
    assert result.message in BOOTSTRAP.replace("'+\n'", "")  # the same words as bootstrap.ps1
    assert host.invocations == []


def test_the_bootstrap_is_recognised_only_by_its_first_line() -> None:
    # Shifted by a line it is still a script powershell.exe runs, but not the bootstrap: the shell reads no
    # operation from its stdin, so no directive of the fault plan applies to it.
    host = StandInHost()
    host.plan("echo", Directive(http_500=True))
    stdin = runner_wire.envelope("echo", ECHO, {"Text": "x"})
    shifted = "\n" + BOOTSTRAP
    prepared = shell(host).prepare(SESSION, f"powershell -EncodedCommand {encoded(shifted)}", [], stdin)
    assert (prepared.operation, prepared.directive) == (None, Directive())
    assert runner_wire.read_result(prepared.execute().stdout) is not None
    assert host.invocations == []
