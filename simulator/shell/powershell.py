"""powershell.exe (Windows PowerShell 5.1) on a simulated node: its command line.

The command line is read the way ConsoleHost's CommandLineParameterParser reads it (switch names
case-insensitive, abbreviable down to the shortest unambiguous prefix, `-` or `/`). The script it is
given runs in the interpreter (simulator/shell/interpreted.py), the project's bootstrap like any other.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from simulator.wsman.backend import Outcome

__all__ = ["Invocation", "parse_arguments"]

EXIT_BAD_COMMAND_LINE = -196608  # 0xFFFD0000, ConsoleHost.ExitCodeBadCommandLineParameter

_MISSING_COMMAND = (
    "Cannot process the command because of a missing parameter. A command must follow -Command."
)
_COMMAND_TWICE = (
    "Cannot process command because a command is already specified with -Command or -EncodedCommand."
)
_BAD_ENCODING = (
    "Cannot process the command because the value specified with -EncodedCommand is not properly encoded. "
    "The value must be Base64 encoded."
)
_STDIN_EXTRA = "'-' was specified with the -Command parameter; no other arguments to -Command are permitted."
_MISSING_POLICY = (
    "Cannot process the execution policy because of a missing policy. A policy must follow -ExecutionPolicy."
)

# (name, shortest accepted abbreviation, takes a value), in CommandLineParameterParser's order.
_SWITCHES = (
    ("help", "h", False),
    ("?", "?", False),
    ("noexit", "noe", False),
    ("importsystemmodules", "imp", False),
    ("noprofile", "nop", False),
    ("nologo", "nol", False),
    ("noninteractive", "noni", False),
    ("socketservermode", "so", False),
    ("servermode", "s", False),
    ("namedpipeservermode", "nam", False),
    ("configurationname", "config", True),
    ("command", "c", False),
    ("windowstyle", "w", True),
    ("file", "f", True),
    ("outputformat", "o", True),
    ("of", "o", True),
    ("inputformat", "i", True),
    ("if", "i", True),
    ("executionpolicy", "ex", True),
    ("ep", "ep", True),
    ("encodedcommand", "e", False),
    ("ec", "e", False),
    ("encodedarguments", "encodeda", True),
    ("ea", "ea", True),
    ("sta", "s", False),
    ("mta", "mta", False),
)
_CANONICAL = {
    "?": "help",
    "of": "outputformat",
    "if": "inputformat",
    "ep": "executionpolicy",
    "ec": "encodedcommand",
    "ea": "encodedarguments",
}


@dataclass(frozen=True)
class Invocation:
    """What powershell.exe makes of its arguments."""

    script: str | None = None  # the command text (decoded for -EncodedCommand)
    from_stdin: bool = False  # -Command - : the script is standard input
    encoded: bool = False
    output_format: str = ""  # "text" | "xml" | "" (XML after -EncodedCommand, else text)
    file: str | None = None
    help: bool = False
    error: str = ""  # a command-line error: printed, exit code 0xFFFD0000

    @property
    def clixml(self) -> bool:
        return self.output_format == "xml" or (self.output_format == "" and self.encoded)


def _match(key: str) -> tuple[str, bool] | None:
    for name, shortest, takes_value in _SWITCHES:
        if name.startswith(key) and len(key) >= len(shortest):
            return _CANONICAL.get(name, name), takes_value
    return None


def parse_arguments(args: Sequence[str]) -> Invocation:
    fields: dict[str, object] = {}
    index = 0
    while index < len(args):
        arg = args[index].strip()
        index += 1
        if not arg:
            continue
        if arg[0] not in "-/\u2013\u2014\u2015" or len(arg) == 1:
            return _command(fields, list(args[index - 1 :]))
        key = arg[1:].lower()
        if key[:1] in "-\u2013\u2014\u2015" and arg[0] != "/":
            key = key[1:]
        matched = _match(key)
        if matched is None:  # the first unknown switch starts the command text
            return _command(fields, list(args[index - 1 :]))
        name, takes_value = matched
        if name == "help":
            return Invocation(help=True)
        if name == "command":
            return _command(fields, list(args[index:]), explicit=True)
        if name == "encodedcommand":
            if "script" in fields:
                return Invocation(error=_COMMAND_TWICE)
            if index >= len(args):
                return Invocation(error=_MISSING_COMMAND)
            decoded = _decode(args[index])
            if decoded is None:
                return Invocation(error=_BAD_ENCODING)
            fields.update(script=decoded, encoded=True)
            index += 1
            continue
        if takes_value:
            if index >= len(args):
                return Invocation(error=_MISSING_POLICY if name == "executionpolicy" else _MISSING_COMMAND)
            value = args[index]
            index += 1
            if name == "outputformat":
                fields["output_format"] = value.lower()
            elif name == "file":
                fields["file"] = value
                return Invocation(**fields)  # type: ignore[arg-type]
    return Invocation(**fields)  # type: ignore[arg-type]


def _command(fields: dict[str, object], rest: list[str], explicit: bool = False) -> Invocation:
    if "script" in fields:
        return Invocation(error=_COMMAND_TWICE)
    if explicit and not rest:
        return Invocation(error=_MISSING_COMMAND)
    if rest[:1] == ["-"]:
        if len(rest) > 1:
            return Invocation(error=_STDIN_EXTRA)
        return Invocation(**fields, from_stdin=True)  # type: ignore[arg-type]
    return Invocation(**fields, script=" ".join(rest))  # type: ignore[arg-type]


def _decode(value: str) -> str | None:
    try:
        return base64.b64decode("".join(value.split()), validate=True).decode("utf-16-le")
    except (ValueError, binascii.Error):
        return None


def command_line_error(invocation: Invocation) -> Outcome:
    return Outcome(
        stdout=b"",
        stderr=(invocation.error + "\r\n").encode("cp437", errors="replace"),
        exit_code=EXIT_BAD_COMMAND_LINE,
    )


def help_text() -> Outcome:
    usage = (
        "\r\nPowerShell[.exe] [-PSConsoleFile <file> | -Version <version>]\r\n"
        "    [-NoLogo] [-NoExit] [-Sta] [-Mta] [-NoProfile] [-NonInteractive]\r\n"
        "    [-InputFormat {Text | XML}] [-OutputFormat {Text | XML}]\r\n"
        "    [-WindowStyle <style>] [-EncodedCommand <Base64EncodedCommand>]\r\n"
        "    [-ConfigurationName <string>]\r\n"
        "    [-File <filePath> <args>] [-ExecutionPolicy <ExecutionPolicy>]\r\n"
        "    [-Command { - | <script-block> [-args <arg-array>]\r\n"
        "                  | <string> [<CommandParameters>] } ]\r\n"
    )
    return Outcome(stdout=usage.encode("ascii"), stderr=b"", exit_code=0)


def missing_file(path: str) -> Outcome:
    message = (
        f"The argument '{path}' to the -File parameter does not exist. Provide the path to an existing "
        "'.ps1' file as an argument to the -File parameter."
    )
    return Outcome(
        stdout=b"",
        stderr=(message + "\r\n").encode("cp437", errors="replace"),
        exit_code=EXIT_BAD_COMMAND_LINE,
    )
