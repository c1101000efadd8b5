"""cmd.exe between WinRS and the program (WINRS_SKIP_CMD_SHELL=FALSE runs every command through it).

Besides starting powershell.exe, it answers a few commands a person types to look at a node
(`echo`, `hostname`, `whoami`, `ipconfig`) from the node's world state, and says of anything else
that it is not recognized, as cmd.exe does.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from simulator.wsman.backend import Outcome, Session

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
    """cmd.exe's MSG_DIR_BAD_COMMAND_OR_FILE (cmdmsg.h, message 9009), on stderr.

    The text, with its line break, and the exit code of `cmd /c` that WinRS reports, 1, are what a
    real node answered over WinRM (ansible/ansible#16425: "rc=1, stdout=, stderr='PowerShell' is not
    recognized as an internal or external command,\r\noperable program or batch file."). Inside
    cmd.exe the %ERRORLEVEL% is 9009; the exit code of the process WinRS started is 1.
    """
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


def hostname(session: Session) -> Outcome:
    """hostname.exe prints the computer name."""
    return Outcome((session.node + "\r\n").encode("ascii", errors="replace"), b"", 0)


def whoami(session: Session) -> Outcome:
    """whoami.exe: DOMAIN\\user of the logon, lower-case, whichever form the client logged on with
    (captures over WinRM: ansible/ansible#85192 "domain\\vagrant-domain"; a UPN logon is shown the same way).
    """
    account = session.account or session.user
    return Outcome((account.lower() + "\r\n").encode("cp437", errors="replace"), b"", 0)


@dataclass(frozen=True)
class Adapter:
    """One network adapter of a node, as ipconfig shows it."""

    name: str  # "Ethernet": the first adapter's name on Windows Server 2016 and later
    ipv4: str
    prefix_length: int
    gateway: str
    dns_suffix: str = ""


@runtime_checkable
class MachineFacts(Protocol):
    """Optional side of an OperationHost: what the node's world says about its network."""

    def adapters(self, node: str) -> list[Adapter]: ...


def ipconfig(arguments: list[str], adapters: list[Adapter]) -> Outcome:
    """ipconfig.exe without switches, in Windows' layout: a blank line, "Windows IP Configuration", two
    blank lines, "Ethernet adapter <name>:", a blank line, then labels of 33 characters padded with
    ". ", " : " and the value (the `docker exec ... ipconfig` sample in Microsoft's "Run an ASP.NET Core
    app in Docker containers", and published captures of `ipconfig` over WinRM). The world models no
    IPv6, so there is no "Link-local IPv6 Address" line, as on a node without IPv6. The
    connection-specific DNS suffix is the adapter's, empty unless the world sets one (assumed: on
    Azure it depends on the VNet's DNS settings).
    """
    if arguments:
        # The switches (/all, /release, ...) print or change more than the world models: say so (as
        # the simulator, not in Windows' words) rather than print a partial answer as if it were whole.
        text = f"simulator: `ipconfig {' '.join(arguments)}` is not modelled; this node answers `ipconfig`.\r\n"
        return Outcome(b"", text.encode("cp437", errors="replace"), 1)
    lines = ["", "Windows IP Configuration", ""]
    for adapter in adapters:
        network = ipaddress.IPv4Network(f"{adapter.ipv4}/{adapter.prefix_length}", strict=False)
        lines += [
            "",
            f"Ethernet adapter {adapter.name}:",
            "",
            _label("Connection-specific DNS Suffix  .", adapter.dns_suffix),
            _label("IPv4 Address. . . . . . . . . . .", adapter.ipv4),
            _label("Subnet Mask . . . . . . . . . . .", str(network.netmask)),
            _label("Default Gateway . . . . . . . . .", adapter.gateway),
        ]
    return Outcome(("\r\n".join(lines) + "\r\n").encode("cp437", errors="replace"), b"", 0)


def _label(label: str, value: str) -> str:
    return f"   {label} : {value}"
