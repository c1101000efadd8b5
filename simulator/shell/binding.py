"""Binding a splatted hashtable to a script's parameters, as PowerShell 5.1 does.

Values arrive as `ConvertFrom-Json` leaves them (str, int, float, bool, None, list, dict). Names
match case-insensitively, by alias, or by an unambiguous prefix, and are normalised to the declared
spelling; values are converted to the declared type with PowerShell's own error texts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from simulator.shell.errors import PowerShellError
from simulator.shell.parameters import ScriptParameter, ScriptSignature

COMMON_PARAMETERS = {
    "Verbose": ("vb",),
    "Debug": ("db",),
    "ErrorAction": ("ea",),
    "WarningAction": ("wa",),
    "InformationAction": ("infa",),
    "ErrorVariable": ("ev",),
    "WarningVariable": ("wv",),
    "InformationVariable": ("iv",),
    "OutVariable": ("ov",),
    "OutBuffer": ("ob",),
    "PipelineVariable": ("pv",),
}

_DOTNET_TYPES = {
    "string": "System.String",
    "int": "System.Int32",
    "long": "System.Int64",
    "bool": "System.Boolean",
    "switch": "System.Management.Automation.SwitchParameter",
    "hashtable": "System.Collections.Hashtable",
    "securestring": "System.Security.SecureString",
}
_INT_RANGES = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$")


class SecureText(str):
    """A string the bootstrap turned into a SecureString (see providers/bootstrap.ps1)."""


def bind(signature: ScriptSignature, supplied: Mapping[str, object]) -> dict[str, object]:
    """The parameters as the script sees them; raises PowerShellError where PowerShell refuses."""
    bound: dict[str, object] = {}
    by_name = {param.name: param for param in signature.parameters}
    for key, value in supplied.items():
        name = _resolve(signature, key)
        if name is None:  # a simple (not advanced) script collects unknown names in $args
            continue
        if name in bound:
            raise _already_bound(name)
        param = by_name.get(name)
        if param is None:  # a common parameter: it steers PowerShell, not the script
            bound[name] = value
            continue
        bound[name] = _validate(param, convert(param, value))
    missing = [p.name for p in signature.parameters if p.mandatory and p.name not in bound]
    if missing:
        raise PowerShellError(
            "Cannot process command because of one or more missing mandatory parameters: "
            f"{' '.join(missing)}.",
            "InvalidArgument",
            "MissingMandatoryParameter",
        )
    result: dict[str, object] = {}
    for param in signature.parameters:
        if param.name in bound:
            result[param.name] = bound[param.name]
        elif param.has_default and param.default_is_literal:
            result[param.name] = convert(param, param.default)
        elif param.type_name == "switch":
            result[param.name] = False
    return result


def _resolve(signature: ScriptSignature, key: str) -> str | None:
    names: dict[str, str] = {}  # spelling (name or alias), lowercased -> declared name
    for param in signature.parameters:
        for spelling in (param.name, *param.aliases):
            names[spelling.lower()] = param.name
    if signature.advanced:
        for common, aliases in COMMON_PARAMETERS.items():
            for spelling in (common, *aliases):
                names.setdefault(spelling.lower(), common)
    wanted = key.lower()
    if wanted in names:
        return names[wanted]
    # dicts keep insertion order: the script's own parameters first, then the common ones
    candidates = (declared for spelling, declared in names.items() if spelling.startswith(wanted))
    matches = list(dict.fromkeys(candidates))
    if len(matches) == 1 and wanted:
        return matches[0]
    if len(matches) > 1 and wanted:
        options = " ".join(f"-{match}" for match in matches)
        raise PowerShellError(
            f"Parameter cannot be processed because the parameter name '{key}' is ambiguous. "
            f"Possible matches include: {options}.",
            "InvalidArgument",
            "AmbiguousParameter",
        )
    if not signature.advanced:
        return None
    raise PowerShellError(
        f"A parameter cannot be found that matches parameter name '{key}'.",
        "InvalidArgument",
        "NamedParameterNotFound",
    )


def _already_bound(name: str) -> PowerShellError:
    return PowerShellError(
        f"Cannot bind parameter because parameter '{name}' is specified more than once. To provide multiple "
        "values to parameters that can accept multiple values, use the array syntax. For example, "
        '"-parameter '
        'value1,value2,value3".',
        "InvalidArgument",
        "ParameterAlreadyBound",
    )


def convert(param: ScriptParameter, value: object) -> object:
    """The value converted to the parameter's type (ArgumentTypeConverterAttribute)."""
    kind = param.type_name
    try:
        if kind in ("object",):
            return value
        if kind.endswith("[]"):
            element = kind[:-2]
            if value is None:
                return None
            items = value if isinstance(value, list) else [value]
            return [None if item is None else _scalar(element, item) for item in items]
        return _scalar(kind, value)
    except _Unconvertible as problem:
        raise PowerShellError(
            f"Cannot process argument transformation on parameter '{param.name}'. {problem}",
            "InvalidData",
            "ParameterArgumentTransformationError",
        ) from None


class _Unconvertible(Exception):
    pass


def _scalar(kind: str, value: object) -> object:
    if kind == "string":
        return to_string(value)
    if kind in _INT_RANGES:
        return _integer(kind, value)
    if kind in ("bool", "switch"):
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value != 0
        raise _Unconvertible(
            f'Cannot convert value "{dotnet_type(value)}" to type "{_DOTNET_TYPES[kind]}". '
            "Boolean parameters "
            "accept only Boolean values and numbers, such as $True, $False, 1 or 0."
        )
    if kind == "hashtable":
        if value is None or isinstance(value, dict):
            return value
        raise _cannot_convert_the(value, kind)
    if kind == "securestring":
        if value is None or isinstance(value, SecureText):
            return None if value is None else str(value)
        raise _cannot_convert_the(value, kind)
    raise PowerShellError(
        f"The simulator does not model parameters of type [{kind}].",
        "NotImplemented",
        "SimulatorTypeNotModelled",
    )


def _cannot_convert_the(value: object, kind: str) -> _Unconvertible:
    return _Unconvertible(
        f'Cannot convert the "{to_string(value)}" value of type "{dotnet_type(value)}" to type '
        f'"{_DOTNET_TYPES[kind]}".'
    )


def _integer(kind: str, value: object) -> int:
    low, high = _INT_RANGES[kind]
    target = _DOTNET_TYPES[kind]
    short = target.rsplit(".", 1)[1]
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | dict):
        raise _cannot_convert_the(value, kind)
    number: float | int
    if isinstance(value, int | float):
        number = value
    else:
        text = str(value).strip()
        try:
            number = _parse_number(text)
        except ValueError:
            raise _Unconvertible(
                f'Cannot convert value "{value}" to type "{target}". '
                'Error: "Input string was not in a correct format."'
            ) from None
    rounded = round(number) if isinstance(number, float) and math.isfinite(number) else number
    if not isinstance(rounded, int) or not low <= rounded <= high:
        raise _Unconvertible(
            f'Cannot convert value "{to_string(value)}" to type "{target}". '
            'Error: "Value was either too large '
            f'or too small for an {short}."'
        )
    return rounded


def _parse_number(text: str) -> float | int:
    if text == "":
        return 0
    if text.lower().startswith(("0x", "+0x", "-0x")):
        return int(text, 16)
    if not _NUMBER.match(text):
        raise ValueError(text)
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)


def to_string(value: object) -> str:
    """PowerShell's string form of a value ($OFS joins arrays with a space)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return " ".join(to_string(item) for item in value)
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    return str(value)


def dotnet_type(value: object) -> str:
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        return "System.Int32" if -(2**31) <= value < 2**31 else "System.Int64"
    if isinstance(value, float):
        return "System.Decimal"  # ConvertFrom-Json (JavaScriptSerializer) reads fractions as Decimal
    if isinstance(value, list):
        return "System.Object[]"
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    return "System.String"


def _validate(param: ScriptParameter, value: object) -> object:
    if param.mandatory:
        _check_mandatory(param, value)
    name = param.name
    if param.validate_not_null and value is None:
        raise _validation(
            name,
            "The argument is null. Provide a valid value for the argument, and then try the command again.",
        )
    if param.validate_not_null_or_empty and value in (None, "", []):
        raise _validation(
            name,
            "The argument is null or empty. Provide an argument that is not null or empty, and then try the "
            "command again.",
        )
    if param.validate_set:
        allowed = {option.lower() for option in param.validate_set}
        for item in value if isinstance(value, list) else [value]:
            if to_string(item).lower() not in allowed:
                raise _validation(
                    name,
                    f'The argument "{to_string(item)}" does not belong to the set '
                    f'"{",".join(param.validate_set)}" specified by the ValidateSet attribute. Supply an '
                    "argument that is in the set and then try "
                    "the command again.",
                )
    return value


def _check_mandatory(param: ScriptParameter, value: object) -> None:
    reason = ""
    if value is None and not param.allow_null:
        reason, error_id = "null", "ParameterArgumentValidationErrorNullNotAllowed"
    elif value == "" and param.type_name == "string" and not param.allow_empty_string:
        reason, error_id = "an empty string", "ParameterArgumentValidationErrorEmptyStringNotAllowed"
    elif value == [] and not param.allow_empty_collection:
        reason, error_id = "an empty array", "ParameterArgumentValidationErrorEmptyArrayNotAllowed"
    if reason:
        raise PowerShellError(
            f"Cannot bind argument to parameter '{param.name}' because it is {reason}.",
            "InvalidData",
            error_id,
        )


def _validation(name: str, detail: str) -> PowerShellError:
    return PowerShellError(
        f"Cannot validate argument on parameter '{name}'. {detail}",
        "InvalidData",
        "ParameterArgumentValidationError",
    )
