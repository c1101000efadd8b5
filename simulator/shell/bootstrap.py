"""What providers/bootstrap.ps1 does on a Windows node, step for step, without running PowerShell.

The bootstrap is recognised by its first line. It reads the envelope from stdin, parses the
envelope's script, binds the parameters to the script's param() block and invokes it; here the
invocation is `OperationHost.invoke`. Every refusal produces the result line the real bootstrap
prints for it (docs/contracts.md section 1).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from simulator.powershell import syntax
from simulator.shell.binding import SecureText, bind
from simulator.shell.errors import PowerShellError
from simulator.shell.parameters import signature
from simulator.wsman.backend import Outcome

log = logging.getLogger(__name__)

BOOTSTRAP_MARKER = "# entsso-bootstrap v2"
RESULT_MARKER = "##ENTSSO-RESULT## "
JSON_DEPTH = 10  # ConvertTo-Json -Depth 10

# The bootstrap's own wording for an envelope it cannot read (kept identical to bootstrap.ps1).
ENVELOPE_MALFORMED = PowerShellError(
    "The ENTSSO envelope on stdin is malformed: it must be base64 of a UTF-8 JSON object with v=1, "
    "operation, script and parameters.",
    "InvalidData",
    "InvalidEnvelope",
)


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


def run(
    envelope: Envelope | None,
    invoke: Callable[[str, dict[str, object]], dict[str, object]],
) -> Outcome:
    """The bootstrap's output for this envelope; `invoke` runs the bound operation."""
    if envelope is None:
        return _error(ENVELOPE_MALFORMED)
    failure = syntax.check(envelope.script)
    if failure is not None:
        return _error(
            PowerShellError(failure.message, "ParserError", failure.error_id, failure.position.line)
        )
    script_signature = signature(envelope.script)
    supplied = _secure_strings(
        envelope.parameters,
        {p.name.lower() for p in script_signature.parameters if p.type_name == "securestring"},
    )
    try:
        bound = bind(script_signature, supplied)
    except PowerShellError as error:
        return _error(PowerShellError(error.message, error.category, error.error_id, 0))
    try:
        result = invoke(envelope.operation, bound)
    except PowerShellError as error:
        return _error(error)
    except Exception as bug:  # a fault of the world model: report it on the node, do not drop the shell
        log.exception("operation %s failed inside the simulator", envelope.operation)
        return _error(
            PowerShellError(f"{type(bug).__name__}: {bug}", "NotSpecified", "SimulatorInternalError")
        )
    return _result({"ok": True, "result": result}, exit_code=0)


def _secure_strings(parameters: dict[str, object], secure_names: set[str]) -> dict[str, object]:
    """The bootstrap converts a string given under a [securestring] parameter's full name."""
    return {
        key: SecureText(value) if key.lower() in secure_names and isinstance(value, str) else value
        for key, value in parameters.items()
    }


def _error(error: PowerShellError) -> Outcome:
    return _result({"ok": False, "error": error.as_result()}, exit_code=1)


def _result(document: dict[str, object], exit_code: int) -> Outcome:
    line = RESULT_MARKER + convert_to_json(document) + "\r\n"
    return Outcome(stdout=line.encode("ascii"), stderr=b"", exit_code=exit_code)


def convert_to_json(value: object) -> str:
    """`ConvertTo-Json -Compress -Depth 10` of Windows PowerShell 5.1, then the bootstrap's ASCII escaping."""
    text = json.dumps(_limit_depth(value, 0), ensure_ascii=True, separators=(",", ":"), default=str)
    # JavaScriptSerializer escapes these four even though JSON does not require it.
    for char in "<>&'":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _limit_depth(value: object, depth: int) -> object:
    if isinstance(value, dict):
        if depth > JSON_DEPTH:
            return "System.Collections.Hashtable"
        return {str(key): _limit_depth(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        if depth > JSON_DEPTH:
            return " ".join("" if item is None else str(item) for item in value)
        return [_limit_depth(item, depth + 1) for item in value]
    return value
