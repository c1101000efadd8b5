"""The bytes between the runner and a node (docs/contracts.md section 1), and secret masking."""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import unescape

BOOTSTRAP_PATH = Path(__file__).with_name("bootstrap.ps1")
LIBRARY_PATH = Path(__file__).with_name("library.ps1")
POWERSHELL = "powershell.exe"
RESULT_MARKER = "##ENTSSO-RESULT## "
CMD_LINE_LIMIT = 8191
STDERR_KEPT = 4096


@functools.lru_cache(maxsize=1)
def bootstrap_arguments() -> tuple[str, ...]:
    """powershell.exe's arguments: the same bootstrap bytes every time, nothing else."""
    script = BOOTSTRAP_PATH.read_text(encoding="utf-8")
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return ("-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", encoded)


def bootstrap_command_line() -> str:
    return " ".join([POWERSHELL, *bootstrap_arguments()])


@functools.lru_cache(maxsize=1)
def library() -> str:
    """providers/library.ps1: the helpers every operation script may call, loaded before it."""
    return LIBRARY_PATH.read_text(encoding="utf-8")


def envelope(
    operation: str, script: str, parameters: Mapping[str, object], library_text: str | None = None
) -> bytes:
    """stdin of the bootstrap: base64 of the UTF-8 JSON envelope, then CRLF.

    The envelope carries the script library (providers/library.ps1 unless `library_text` is given),
    which the bootstrap dot-sources before it runs the script.
    """
    seen: dict[str, str] = {}
    for key in parameters:
        if not isinstance(key, str) or not key:
            raise ValueError(f"parameter names must be non-empty strings, not {key!r}")
        if key.lower() in seen:
            raise ValueError(f"parameters {seen[key.lower()]!r} and {key!r} differ only in case")
        seen[key.lower()] = key
    document = {
        "v": 1,
        "operation": operation,
        "library": library() if library_text is None else library_text,
        "script": script,
        "parameters": dict(parameters),
    }
    try:
        text = json.dumps(document, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as problem:
        raise ValueError(f"parameters of {operation} are not JSON data: {type(problem).__name__}") from None
    return base64.b64encode(text.encode("utf-8")) + b"\r\n"


@dataclass(frozen=True)
class ScriptOutcome:
    """What the bootstrap reported: a result, or the script's error, or nothing (None)."""

    ok: bool
    result: dict[str, object]
    message: str = ""
    category: str = ""
    error_id: str = ""
    line: int = 0


def read_result(stdout: bytes) -> ScriptOutcome | None:
    """The last result line on stdout; None if there is none or it is not the contract's JSON."""
    text = stdout.decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line.startswith(RESULT_MARKER)]
    if not lines:
        return None
    try:
        document = json.loads(lines[-1][len(RESULT_MARKER) :])
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("ok"), bool):
        return None
    if document["ok"]:
        result = document.get("result")
        if result is None:
            result = {}
        return ScriptOutcome(True, result) if isinstance(result, dict) else None
    error = document.get("error")
    if not isinstance(error, dict):
        return None
    line = error.get("line")
    return ScriptOutcome(
        False,
        {},
        message=str(error.get("message", "")),
        category=str(error.get("category", "")),
        error_id=str(error.get("errorId", "")),
        line=line if isinstance(line, int) else 0,
    )


def stderr_text(stderr: bytes) -> str:
    """The last few KiB of stderr as text, CLIXML error records turned back into lines."""
    tail = stderr[-STDERR_KEPT:] if not stderr.startswith(b"#< CLIXML") else stderr
    try:
        text = tail.decode("utf-8")
    except UnicodeDecodeError:
        text = tail.decode("cp437")
    if text.startswith("#< CLIXML"):
        text = _clixml_text(text)
    return text.strip()[-STDERR_KEPT:]


def _clixml_text(text: str) -> str:
    # The error records only: <S S="Error">text</S>, as pywinrm's _clean_error_msg reads them.
    parts = re.findall(r'<S S="Error">(.*?)</S>', text, flags=re.DOTALL)
    if not parts:
        return text
    joined = unescape("".join(parts))
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda match: chr(int(match.group(1), 16)), joined)


class Masker:
    """Replaces every secret value (and its JSON-escaped forms) with ***."""

    def __init__(self, secrets: Iterable[str]) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if secret:
                variants.update(
                    {
                        secret,
                        json.dumps(secret)[1:-1],
                        json.dumps(secret, ensure_ascii=False)[1:-1],
                        repr(secret)[1:-1],
                    }
                )
        self._secrets = sorted((v for v in variants if v), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    @staticmethod
    def values(parameters: Mapping[str, object], secret_names: Iterable[str]) -> list[str]:
        """Every string inside the parameters whose names are secret (case-insensitive)."""
        wanted = {name.lower() for name in secret_names}
        found: list[str] = []

        def collect(value: object) -> None:
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, Mapping):
                for item in value.values():
                    collect(item)
            elif isinstance(value, list | tuple):
                for item in value:
                    collect(item)

        for key, value in parameters.items():
            if key.lower() in wanted:
                collect(value)
        return found
