"""Parameter binding, as PowerShell's ParameterBinderController does it, for cmdlets, functions and scripts.

One algorithm binds every command: names (exact, alias, or an unambiguous prefix), `-Name:value`,
switches, positions, splatting, then the parameter set, mandatory parameters and, per pipeline
object, ValueFromPipeline and ValueFromPipelineByPropertyName. The refusals carry PowerShell's
words and error ids (ParameterBinderStrings.resx and Metadata.resx of PowerShell/PowerShell at
v6.0.0-alpha.10, the 5.1 code base; about_Parameter_Sets, about_Functions_Advanced_Parameters,
about_Splatting, about_CommonParameters).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from simulator.powershell import values as v
from simulator.powershell.errors import PSTerminatingError, make_record
from simulator.powershell.types import ConversionError, PSType, TypeRegistry, enumerate_items, to_string, type_name

ALL_SETS = "__AllParameterSets"

# about_CommonParameters (5.1): name -> (aliases, type)
COMMON_PARAMETERS: dict[str, tuple[tuple[str, ...], str]] = {
    "Verbose": (("vb",), "switch"),
    "Debug": (("db",), "switch"),
    "ErrorAction": (("ea",), "System.Management.Automation.ActionPreference"),
    "WarningAction": (("wa",), "System.Management.Automation.ActionPreference"),
    "InformationAction": (("infa",), "System.Management.Automation.ActionPreference"),
    "ErrorVariable": (("ev",), "string"),
    "WarningVariable": (("wv",), "string"),
    "InformationVariable": (("iv",), "string"),
    "OutVariable": (("ov",), "string"),
    "OutBuffer": (("ob",), "int"),
    "PipelineVariable": (("pv",), "string"),
}
RISK_PARAMETERS: dict[str, tuple[tuple[str, ...], str]] = {
    "WhatIf": (("wi",), "switch"),
    "Confirm": (("cf",), "switch"),
}


@dataclass(frozen=True)
class SetMembership:
    set_name: str = ALL_SETS
    mandatory: bool = False
    position: int | None = None
    from_pipeline: bool = False
    from_pipeline_by_name: bool = False


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter of a command: its type, the sets it belongs to, its validation."""

    name: str
    type_name: str = "System.Object"  # as PowerShell would write it: "string[]", "switch", a full name
    sets: tuple[SetMembership, ...] = (SetMembership(),)
    aliases: tuple[str, ...] = ()
    validate_set: tuple[str, ...] = ()
    validate_set_ignore_case: bool = True
    validate_pattern: str | None = None
    validate_range: tuple[object, object] | None = None
    validate_not_null: bool = False
    validate_not_null_or_empty: bool = False
    allow_null: bool = False
    allow_empty_string: bool = False
    allow_empty_collection: bool = False
    default: object = None  # a ast.Node for a script parameter; evaluated by the caller
    has_default: bool = False

    @property
    def is_switch(self) -> bool:
        return self.type_name.lower() in ("switch", "system.management.automation.switchparameter", "switchparameter")

    def in_set(self, set_name: str) -> SetMembership | None:
        for membership in self.sets:
            if membership.set_name in (set_name, ALL_SETS):
                return membership
        return None

    @property
    def set_names(self) -> set[str]:
        return {m.set_name for m in self.sets}

    @property
    def all_sets(self) -> bool:
        return any(m.set_name == ALL_SETS for m in self.sets)


@dataclass(frozen=True)
class CommandSignature:
    """Everything binding needs to know about a command."""

    name: str
    parameters: tuple[ParameterSpec, ...]
    default_set: str | None = None
    qualifier: str = ""  # qualifies error ids: the cmdlet's implementing type, or the function's name
    advanced: bool = True  # common parameters; unknown names and extra positionals are refused
    supports_should_process: bool = False
    kind: str = "cmdlet"  # "cmdlet" | "function" | "script"
    positional_binding: bool = True

    def set_names(self) -> list[str]:
        names: list[str] = []
        for spec in self.parameters:
            for membership in spec.sets:
                if membership.set_name != ALL_SETS and membership.set_name not in names:
                    names.append(membership.set_name)
        return names or [ALL_SETS]

    def spellings(self) -> dict[str, str]:
        """Every accepted spelling (name or alias), lower case, to the declared name."""
        found: dict[str, str] = {}
        for spec in self.parameters:
            for spelling in (spec.name, *spec.aliases):
                found.setdefault(spelling.lower(), spec.name)
        if self.advanced:
            extra = dict(COMMON_PARAMETERS)
            if self.supports_should_process:
                extra.update(RISK_PARAMETERS)
            for common, (aliases, _) in extra.items():
                for spelling in (common, *aliases):
                    found.setdefault(spelling.lower(), common)
        return found

    def spec(self, name: str) -> ParameterSpec | None:
        wanted = name.lower()
        return next((p for p in self.parameters if p.name.lower() == wanted), None)


# --- the arguments of one invocation -------------------------------------------------------------


@dataclass
class NamedArgument:
    name: str  # as written, without the dash
    value: object
    has_value: bool  # -Name:value, or a splatted key
    text: str = ""  # the token as written ("-Name"), for $args of a simple function
    line: int = 0


@dataclass
class PositionalArgument:
    value: object
    line: int = 0


Argument = NamedArgument | PositionalArgument


@dataclass
class BoundCall:
    """The outcome of binding the command line (pipeline input binds later, per object)."""

    signature: CommandSignature
    values: dict[str, object] = field(default_factory=dict)  # declared name -> converted value
    common: dict[str, object] = field(default_factory=dict)  # ErrorAction, WarningVariable, ...
    candidate_sets: list[str] = field(default_factory=list)
    unbound: list[object] = field(default_factory=list)  # $args of a simple function or script
    parameter_set: str = ALL_SETS

    def bound(self, name: str) -> bool:
        return name in self.values


class BindingError(Exception):
    """A binding refusal; becomes a statement-terminating ParameterBindingException error."""

    def __init__(
        self,
        message: str,
        error_id: str,
        category: str = "InvalidArgument",
        exception_type: str = "System.Management.Automation.ParameterBindingException",
        inner: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_id = error_id
        self.category = category
        self.exception_type = exception_type
        self.inner = inner

    def to_error(self, qualifier: str) -> PSTerminatingError:
        record = make_record(self.exception_type, self.message, self.error_id, self.category, command=qualifier)
        return PSTerminatingError(record, statement_only=True)


class Binder:
    """Binds arguments to one command's signature."""

    def __init__(self, signature: CommandSignature, types: TypeRegistry, non_interactive: bool = True) -> None:
        self.signature = signature
        self.types = types
        self.non_interactive = non_interactive
        self._spellings = signature.spellings()

    # --- names -----------------------------------------------------------------------------------

    def resolve_name(self, written: str) -> str | None:
        """The declared name for a spelling; None when nothing matches (a simple function's $args)."""
        wanted = written.lower()
        if wanted in self._spellings:
            return self._spellings[wanted]
        matches = list(
            dict.fromkeys(declared for spelling, declared in self._spellings.items() if spelling.startswith(wanted))
        )
        if len(matches) == 1 and wanted:
            return matches[0]
        if len(matches) > 1 and wanted:
            options = "".join(f" -{match}" for match in matches)
            raise BindingError(
                f"Parameter cannot be processed because the parameter name '{written}' is ambiguous. "
                f"Possible matches include:{options}.",
                "AmbiguousParameter",
            )
        if not self.signature.advanced:
            return None
        raise BindingError(
            f"A parameter cannot be found that matches parameter name '{written}'.", "NamedParameterNotFound"
        )

    def _type_of(self, spec_type: str) -> PSType | None:
        return self.types.resolve(spec_type)

    # --- the command line ------------------------------------------------------------------------

    def bind(self, arguments: Sequence[Argument], expects_input: bool = False) -> BoundCall:
        sig = self.signature
        call = BoundCall(sig, candidate_sets=list(sig.set_names()))
        positional: list[PositionalArgument] = []
        index = 0
        items = list(arguments)
        while index < len(items):
            argument = items[index]
            index += 1
            if isinstance(argument, PositionalArgument):
                positional.append(argument)
                continue
            declared = self.resolve_name(argument.name)
            if declared is None:
                call.unbound.append(argument.text or f"-{argument.name}")
                if argument.has_value:
                    call.unbound.append(argument.value)
                continue
            spec = sig.spec(declared)
            common_type = self._common_type(declared)
            is_switch = spec.is_switch if spec is not None else common_type == "switch"
            value: object
            if argument.has_value:
                value = argument.value
            elif is_switch:
                value = True
            else:
                if index < len(items) and isinstance(items[index], PositionalArgument):
                    value = items[index].value  # type: ignore[union-attr]
                    index += 1
                else:
                    type_text = self._display_type(spec.type_name if spec is not None else common_type or "object")
                    raise BindingError(
                        f"Missing an argument for parameter '{declared}'. Specify a parameter of type '{type_text}' "
                        "and try again.",
                        "MissingArgument",
                    )
            if declared in call.values or declared in call.common:
                raise BindingError(
                    f"Cannot bind parameter because parameter '{declared}' is specified more than once. To provide "
                    "multiple values to parameters that can accept multiple values, use the array syntax. For "
                    'example, "-parameter value1,value2,value3".',
                    "ParameterAlreadyBound",
                )
            if spec is None:
                call.common[declared] = self._convert_common(declared, value)
                continue
            call.values[declared] = self.convert(spec, value)
            self._narrow(call, spec)
        self._bind_positional(call, positional)
        self._choose_set(call, expects_input)
        if not expects_input:
            self.check_mandatory(call, pipeline_pending=False)
        return call

    def _common_type(self, name: str) -> str | None:
        found = COMMON_PARAMETERS.get(name) or RISK_PARAMETERS.get(name)
        return None if found is None else found[1]

    def _display_type(self, written: str) -> str:
        pstype = self.types.resolve(written)
        if pstype is None:
            return written
        return pstype.full_name.replace("System.Management.Automation.", "")

    def _convert_common(self, name: str, value: object) -> object:
        kind = self._common_type(name)
        if kind == "switch":
            return self._switch(name, value)
        if kind == "int":
            return self._convert_to(name, "int", value)
        if kind == "string":
            return to_string(value)
        return self._convert_to(name, "System.Management.Automation.ActionPreference", value)

    def _narrow(self, call: BoundCall, spec: ParameterSpec) -> None:
        if spec.all_sets:
            return
        remaining = [name for name in call.candidate_sets if name in spec.set_names]
        if not remaining:
            raise BindingError(
                "Parameter set cannot be resolved using the specified named parameters.", "AmbiguousParameterSet"
            )
        call.candidate_sets = remaining

    def _bind_positional(self, call: BoundCall, positional: list[PositionalArgument]) -> None:
        sig = self.signature
        for argument in positional:
            target = self._next_positional(call, argument.value) if sig.positional_binding else None
            if target is None:
                if sig.advanced:
                    raise BindingError(
                        f"A positional parameter cannot be found that accepts argument '{to_string(argument.value)}'.",
                        "PositionalParameterNotFound",
                    )
                call.unbound.append(argument.value)
                continue
            call.values[target.name] = self.convert(target, argument.value)
            self._narrow(call, target)

    def _next_positional(self, call: BoundCall, value: object = None) -> ParameterSpec | None:
        """The parameter the next positional argument binds to: the lowest position among the sets still
        possible; where several parameters share it (one per set), the one that takes the value without
        conversion first, as PowerShell's positional binding tries before it coerces, then the default set's."""
        candidates: list[tuple[int, int, int, ParameterSpec]] = []
        default = self.signature.default_set
        for index, spec in enumerate(self.signature.parameters):
            if spec.name in call.values:
                continue
            for membership in spec.sets:
                if membership.position is None:
                    continue
                if membership.set_name != ALL_SETS and membership.set_name not in call.candidate_sets:
                    continue
                preference = 0 if membership.set_name in (default, ALL_SETS) else 1
                candidates.append((membership.position, preference, index, spec))
        if not candidates:
            return None
        lowest = min(c[0] for c in candidates)
        at_lowest = sorted(c for c in candidates if c[0] == lowest)
        for _, _, _, spec in at_lowest:
            if self._accepts_without_conversion(spec, value) and not self._is_catch_all(spec):
                return spec
        return at_lowest[0][3]

    def _is_catch_all(self, spec: ParameterSpec) -> bool:
        pstype = self._type_of(spec.type_name)
        return pstype is None or pstype.full_name in ("System.Object", "System.Management.Automation.PSObject")

    def _choose_set(self, call: BoundCall, expects_input: bool) -> None:
        candidates = call.candidate_sets
        if len(candidates) == 1:
            call.parameter_set = candidates[0]
            return
        default = self.signature.default_set
        satisfied = [name for name in candidates if self._mandatory_satisfied(call, name, expects_input)]
        if len(satisfied) == 1:
            call.parameter_set = satisfied[0]
        elif default in candidates and (default in satisfied or not satisfied):
            call.parameter_set = default
        elif expects_input:
            call.parameter_set = satisfied[0] if satisfied else candidates[0]
        else:
            raise BindingError(
                "Parameter set cannot be resolved using the specified named parameters.", "AmbiguousParameterSet"
            )

    def _mandatory_satisfied(self, call: BoundCall, set_name: str, expects_input: bool) -> bool:
        for spec in self.signature.parameters:
            membership = spec.in_set(set_name)
            if membership is None or not membership.mandatory or spec.name in call.values:
                continue
            if expects_input and (membership.from_pipeline or membership.from_pipeline_by_name):
                continue
            return False
        return True

    def check_mandatory(self, call: BoundCall, pipeline_pending: bool) -> None:
        missing: list[str] = []
        for spec in self.signature.parameters:
            membership = spec.in_set(call.parameter_set)
            if membership is None or not membership.mandatory or spec.name in call.values:
                continue
            if pipeline_pending and (membership.from_pipeline or membership.from_pipeline_by_name):
                continue
            missing.append(spec.name)
        if missing:
            # Non-interactive: PowerShell cannot prompt for them.
            names = "".join(f" {name}" for name in missing)
            raise BindingError(
                f"Cannot process command because of one or more missing mandatory parameters:{names}.",
                "MissingMandatoryParameter",
            )

    # --- pipeline input --------------------------------------------------------------------------

    def bind_pipeline(
        self, call: BoundCall, item: object, property_of: Callable[[object, str], object]
    ) -> dict[str, object]:
        """The parameters one pipeline object binds to (ValueFromPipeline first, then by property name).

        Raises BindingError("InputObjectNotBound") when it binds to nothing.
        """
        sets = (
            [call.parameter_set]
            if call.parameter_set != ALL_SETS or len(call.candidate_sets) == 1
            else call.candidate_sets
        )
        if len(call.candidate_sets) > 1 and call.parameter_set != ALL_SETS:
            # The command line left several sets open (the default one was only a preference): pipeline input may
            # still choose another, e.g. `Mount-DiskImage -PassThru | Get-Volume` binds -DiskImage although
            # Get-Volume's default set is ByDriveLetter (PowerShell binds pipeline input against every remaining set).
            sets = [call.parameter_set, *(s for s in call.candidate_sets if s != call.parameter_set)]
        for exact in (True, False):
            for spec in self.signature.parameters:
                if spec.name in call.values:
                    continue
                for set_name in sets:
                    membership = spec.in_set(set_name)
                    if membership is None or not membership.from_pipeline:
                        continue
                    if exact and not self._accepts_without_conversion(spec, item):
                        continue
                    try:
                        return {spec.name: self.convert(spec, item)}
                    except BindingError:
                        if not exact:
                            continue
        bound: dict[str, object] = {}
        for spec in self.signature.parameters:
            if spec.name in call.values:
                continue
            for set_name in sets:
                membership = spec.in_set(set_name)
                if membership is None or not membership.from_pipeline_by_name:
                    continue
                for spelling in (spec.name, *spec.aliases):
                    found = property_of(item, spelling)
                    if found is not _ABSENT:
                        bound[spec.name] = self.convert(spec, found)
                        break
                if spec.name in bound:
                    break
        if bound:
            return bound
        raise BindingError(
            "The input object cannot be bound to any parameters for the command either because the command does not "
            "take pipeline input or the input and its properties do not match any of the parameters that take "
            "pipeline input.",
            "InputObjectNotBound",
        )

    def _accepts_without_conversion(self, spec: ParameterSpec, item: object) -> bool:
        pstype = self._type_of(spec.type_name)
        if pstype is None or pstype.full_name in ("System.Object", "System.Management.Automation.PSObject"):
            return True
        if pstype.is_instance(item):
            return True
        if pstype.full_name.endswith("[]"):
            element = self._type_of(pstype.full_name[:-2])
            return element is not None and element.is_instance(item)
        return False

    # --- conversion and validation ---------------------------------------------------------------

    def convert(self, spec: ParameterSpec, value: object) -> object:
        if value is v.AUTOMATION_NULL:
            value = None
        if spec.is_switch:
            converted: object = self._switch(spec.name, value)
        elif value is None and self.signature.kind == "cmdlet" and not self._is_boolean(spec.type_name):
            # A compiled cmdlet's parameter keeps a null as null (ParameterBinderBase.CoerceTypeAsNeeded);
            # a script's [string] parameter turns it into "" first (ArgumentTypeConverterAttribute).
            converted = None
        else:
            converted = self._convert_to(spec.name, spec.type_name, value)
        self.validate(spec, converted)
        return converted

    def _is_boolean(self, written: str) -> bool:
        pstype = self._type_of(written)
        return pstype is not None and pstype.full_name == "System.Boolean"

    def _switch(self, name: str, value: object) -> bool:
        if isinstance(value, v.SwitchParameter):
            return value.is_present
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, int | float):
            return value != 0
        target = "System.Management.Automation.SwitchParameter"
        raise self._transformation(
            name,
            f'Cannot convert value "{type_name(value)}" to type "{target}". Boolean parameters accept only Boolean '
            "values and numbers, such as $True, $False, 1 or 0.",
        )

    def _convert_to(self, name: str, written_type: str, value: object) -> object:
        pstype = self._type_of(written_type)
        if pstype is None:
            raise BindingError(
                f"The simulated Windows PowerShell does not know the type [{written_type}] of parameter '{name}'.",
                "SimulatorTypeNotModelled",
                "NotImplemented",
            )
        if pstype.full_name == "System.Boolean":
            if value is None or isinstance(value, bool):
                return bool(value)
            if isinstance(value, int | float) and not isinstance(value, v.EnumValue):
                return value != 0
            if isinstance(value, v.SwitchParameter):
                return value.is_present
            raise self._transformation(
                name,
                f'Cannot convert value "{type_name(value)}" to type "System.Boolean". Boolean parameters accept only '
                "Boolean values and numbers, such as $True, $False, 1 or 0.",
            )
        try:
            return pstype.convert(value)
        except ConversionError as problem:
            raise self._transformation(name, problem.message) from None

    def _transformation(self, name: str, detail: str) -> BindingError:
        if self.signature.kind == "cmdlet":
            # ParameterBinderStrings.CannotConvertArgumentNoMessage
            return BindingError(
                f"Cannot bind parameter '{name}'. {detail}",
                "CannotConvertArgumentNoMessage",
                "InvalidArgument",
            )
        return BindingError(
            f"Cannot process argument transformation on parameter '{name}'. {detail}",
            "ParameterArgumentTransformationError",
            "InvalidData",
            "System.Management.Automation.ParameterBindingArgumentTransformationException",
        )

    def validate(self, spec: ParameterSpec, value: object) -> None:
        mandatory = any(m.mandatory for m in spec.sets)
        if mandatory and not spec.is_switch:
            self._check_mandatory_value(spec, value)
        if spec.validate_not_null and value is None:
            raise self._validation(
                spec.name,
                "The argument is null. Provide a valid value for the argument, and then try running the command again.",
            )
        if spec.validate_not_null_or_empty and (
            value is None or value == "" or (isinstance(value, list) and not value)
        ):
            raise self._validation(
                spec.name,
                "The argument is null or empty. Provide an argument that is not null or empty, and then try the "
                "command again.",
            )
        elements = enumerate_items(value) if not isinstance(value, str | bytearray) else None
        values = [value] if elements is None else elements
        if spec.validate_set:
            allowed = spec.validate_set
            for item in values:
                text = to_string(item)
                ok = text.lower() in (a.lower() for a in allowed) if spec.validate_set_ignore_case else text in allowed
                if not ok:
                    raise self._validation(
                        spec.name,
                        f'The argument "{text}" does not belong to the set "{",".join(allowed)}" specified by the '
                        "ValidateSet attribute. Supply an argument that is in the set and then try the command again.",
                    )
        if spec.validate_pattern is not None:
            for item in values:
                text = to_string(item)
                if re.search(spec.validate_pattern, text, re.IGNORECASE) is None:
                    raise self._validation(
                        spec.name,
                        f'The argument "{text}" does not match the "{spec.validate_pattern}" pattern. Supply an '
                        f'argument that matches "{spec.validate_pattern}" and try the command again.',
                    )
        if spec.validate_range is not None:
            low, high = spec.validate_range
            for item in values:
                if isinstance(item, int | float) and isinstance(low, int | float) and item < low:
                    raise self._validation(
                        spec.name,
                        f"The {to_string(item)} argument is less than the minimum allowed range of "
                        f"{to_string(low)}. Supply an argument that is greater than or equal to {to_string(low)} and "
                        "then try the command again.",
                    )
                if isinstance(item, int | float) and isinstance(high, int | float) and item > high:
                    raise self._validation(
                        spec.name,
                        f"The {to_string(item)} argument is greater than the maximum allowed range of "
                        f"{to_string(high)}. Supply an argument that is less than or equal to {to_string(high)} and "
                        "then try the command again.",
                    )

    def _check_mandatory_value(self, spec: ParameterSpec, value: object) -> None:
        reason = ""
        error_id = ""
        pstype = self._type_of(spec.type_name)
        is_string = pstype is not None and pstype.full_name == "System.String"
        if value is None and not spec.allow_null:
            reason, error_id = "null", "ParameterArgumentValidationErrorNullNotAllowed"
        elif value == "" and is_string and not spec.allow_empty_string:
            reason, error_id = "an empty string", "ParameterArgumentValidationErrorEmptyStringNotAllowed"
        elif isinstance(value, list | bytearray) and len(value) == 0 and not spec.allow_empty_collection:
            reason, error_id = "an empty array", "ParameterArgumentValidationErrorEmptyArrayNotAllowed"
        if reason:
            raise BindingError(
                f"Cannot bind argument to parameter '{spec.name}' because it is {reason}.",
                error_id,
                "InvalidData",
                "System.Management.Automation.ParameterBindingValidationException",
            )

    def _validation(self, name: str, detail: str) -> BindingError:
        return BindingError(
            f"Cannot validate argument on parameter '{name}'. {detail}",
            "ParameterArgumentValidationError",
            "InvalidData",
            "System.Management.Automation.ParameterBindingValidationException",
        )


class _Absent:
    pass


_ABSENT = _Absent()
ABSENT = _ABSENT


def parameter(
    name: str,
    type_name: str = "System.Object",
    *,
    mandatory: bool = False,
    position: int | None = None,
    pipeline: bool = False,
    by_property_name: bool = False,
    sets: Iterable[str] | None = None,
    aliases: Iterable[str] = (),
    validate_set: Iterable[str] = (),
    **validation: object,
) -> ParameterSpec:
    """A parameter declaration, as `[Parameter(...)]` would write it; `sets` defaults to all sets."""
    memberships = tuple(
        SetMembership(set_name, mandatory, position, pipeline, by_property_name) for set_name in (sets or [ALL_SETS])
    )
    return ParameterSpec(
        name,
        type_name,
        memberships,
        tuple(aliases),
        tuple(validate_set),
        **validation,  # type: ignore[arg-type]
    )
