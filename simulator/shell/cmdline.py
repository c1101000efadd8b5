"""cmd.exe between WinRS and the program (WINRS_SKIP_CMD_SHELL=FALSE runs every command through it)."""

from __future__ import annotations

from simulator.wsman.backend import Outcome

MAX_COMMAND_LINE = 8191  # characters cmd.exe accepts on one command line

TOO_LONG = Outcome(stdout=b"", stderr=b"The command line is too long.\r\n", exit_code=1)


def command_line(command: str, arguments: list[str]) -> str:
    """The line cmd.exe sees: WinRS joins the Command and its Arguments with spaces."""
    return " ".join([command, *arguments]) if arguments else command


def split(line: str) -> list[str]:
    """argv as a C runtime program (such as powershell.exe) receives it from this line."""
    argv: list[str] = []
    program, rest = _program_name(line)
    if program or rest.strip():
        argv.append(program)
    argv.extend(_arguments(rest))
    return argv


def _program_name(line: str) -> tuple[str, str]:
    # The program name ends at the first white space outside quotes; backslashes are literal.
    line = line.lstrip(" \t")
    name: list[str] = []
    quoted = False
    index = 0
    while index < len(line):
        char = line[index]
        if char == '"':
            quoted = not quoted
        elif char in " \t" and not quoted:
            break
        else:
            name.append(char)
        index += 1
    return "".join(name), line[index:]


def _arguments(text: str) -> list[str]:
    args: list[str] = []
    current: list[str] = []
    in_arg = quoted = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            run = len(text) - len(text[index:].lstrip("\\"))
            count = run - index
            index = run
            if index < len(text) and text[index] == '"':
                current.append("\\" * (count // 2))
                if count % 2:
                    current.append('"')
                    index += 1
            else:
                current.append("\\" * count)
            in_arg = True
            continue
        if char == '"':
            if quoted and text[index + 1 : index + 2] == '"':
                current.append('"')  # "" inside quotes is a literal quote
                index += 2
                continue
            quoted = not quoted
            in_arg = True
        elif char in " \t" and not quoted:
            if in_arg:
                args.append("".join(current))
                current, in_arg = [], False
        else:
            current.append(char)
            in_arg = True
        index += 1
    if in_arg:
        args.append("".join(current))
    return args


def program_key(program: str) -> str:
    """`C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\PowerShell.EXE` -> `powershell`."""
    base = program.replace("/", "\\").rsplit("\\", 1)[-1].lower()
    return base[:-4] if base.endswith((".exe", ".com")) else base


def not_recognized(program: str) -> Outcome:
    message = (
        f"'{program}' is not recognized as an internal or external command,\r\n"
        "operable program or batch file.\r\n"
    )
    return Outcome(stdout=b"", stderr=message.encode("cp437", errors="replace"), exit_code=1)


def echo(line: str) -> Outcome:
    text = line.lstrip(" \t")[4:]
    text = text[1:] if text[:1] in (" ", "\t", ".") else text
    return Outcome(
        stdout=((text or "ECHO is on.") + "\r\n").encode("cp437", errors="replace"), stderr=b"", exit_code=0
    )
