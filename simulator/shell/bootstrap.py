"""The project's bootstrap as a node's powershell.exe meets it: recognised by its first line, its envelope read.

The bootstrap itself (providers/bootstrap.ps1) runs in the interpreter like any script. The shell reads the
envelope on stdin only for its `operation`, the name the fault plan keys transport faults and latency by;
an envelope the bootstrap would call malformed has no operation (None), and the bootstrap says so itself.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

BOOTSTRAP_MARKER = "# entsso-bootstrap v2"
RESULT_MARKER = "##ENTSSO-RESULT## "


def is_bootstrap(script: str) -> bool:
    return script.split("\n", 1)[0].rstrip("\r") == BOOTSTRAP_MARKER


@dataclass(frozen=True)
class Envelope:
    operation: str
    script: str
    parameters: dict[str, object]


class _Malformed(Exception):
    pass


def read_envelope(stdin: bytes) -> Envelope | None:
    """The envelope on stdin, or None where the bootstrap would call it malformed."""
    try:
        raw = stdin.decode("cp437")
        compact = "".join(raw.split())  # Convert.FromBase64String skips white space
        text = base64.b64decode(compact, validate=True).decode("utf-8", errors="replace")
        document = json.loads(text, object_pairs_hook=_json_object, parse_constant=_not_json)
    except (ValueError, binascii.Error, _Malformed):
        return None
    if not isinstance(document, dict):
        return None
    version, operation = document.get("v"), document.get("operation")
    script, parameters = document.get("script"), document.get("parameters")
    if type(version) is not int or version != 1:
        return None
    if not isinstance(operation, str) or not isinstance(script, str) or not isinstance(parameters, dict):
        return None
    return Envelope(operation, script, parameters)


def _not_json(name: str) -> object:
    raise _Malformed(name)  # NaN and Infinity are JavaScript, not JSON


def _json_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # ConvertFrom-Json 5.1: an exact duplicate key keeps the last value; two keys that differ only
    # in case cannot both become properties of one object, and the conversion fails.
    table = dict(pairs)
    if len({key.lower() for key in table}) != len(table):
        raise _Malformed
    return table
