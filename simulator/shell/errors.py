"""PowerShell's error records as a script sees them and as powershell.exe writes them to stderr."""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.powershell.syntax import Position

__all__ = ["ErrorView", "Position", "PowerShellError", "clixml_stderr", "plain_stderr"]


class PowerShellError(Exception):
    """A terminating error of a script: what `$_` holds in the bootstrap's catch block.

    `category` is the ErrorCategory name (e.g. "InvalidArgument"), `error_id` the
    FullyQualifiedErrorId, `line` the script line the error arose on (0: outside the script).
    """

    def __init__(self, message: str, category: str = "NotSpecified", error_id: str = "", line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.category = category
        self.error_id = error_id or "RuntimeException"
        self.line = line

    def as_result(self) -> dict[str, object]:
        """The `error` member of the bootstrap's result line (docs/contracts.md section 1)."""
        return {
            "message": self.message,
            "category": self.category,
            "errorId": self.error_id,
            "line": self.line,
        }


@dataclass(frozen=True)
class ErrorView:
    """The text the console host prints for an error record (ErrorView=NormalView)."""

    message: str
    category: str
    error_id: str
    position: Position | None = None
    command: str = ""  # prefixes the message ("Get-Item : ...") for a command's error
    target: str = ""  # the CategoryInfo target, e.g. the unknown command name
    target_type: str = ""
    activity: str = ""
    reason: str = "RuntimeException"
    position_first: bool = False  # parse errors show where before what

    def lines(self) -> list[str]:
        head = (f"{self.command} : {self.message}" if self.command else self.message).split("\n")
        where = self.position.message().split("\n") if self.position is not None else []
        out = where + head if self.position_first else head + where
        out.append(
            f"    + CategoryInfo          : {self.category}: ({self.target}:{self.target_type}) "
            f"[{self.activity}], {self.reason}"
        )
        out.append(f"    + FullyQualifiedErrorId : {self.error_id}")
        out.append(" ")
        return out


def plain_stderr(views: list[ErrorView]) -> bytes:
    """Errors as powershell.exe writes them with -OutputFormat Text."""
    text = "".join(line + "\r\n" for view in views for line in view.lines())
    return text.encode("cp437", errors="replace")


_NOT_XML_SAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")


def _clixml_escape(text: str) -> str:
    def encode(match: re.Match[str]) -> str:
        return f"_x{ord(match.group(0)):04X}_"

    text = _NOT_XML_SAFE.sub(encode, text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "_x000D_").replace("\n", "_x000A_")


def clixml_stderr(views: list[ErrorView]) -> bytes:
    """Errors as powershell.exe writes them with -OutputFormat XML (the -EncodedCommand default).

    One `<S S="Error">` per line, each ending in an encoded CRLF, which is the shape pywinrm's
    `Session._clean_error_msg` turns back into text.
    """
    parts = [f'<S S="Error">{_clixml_escape(line + chr(13) + chr(10))}</S>' for view in views for line in view.lines()]
    body = '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">' + "".join(parts)
    return ("#< CLIXML\r\n" + body + "</Objs>").encode("utf-8")
