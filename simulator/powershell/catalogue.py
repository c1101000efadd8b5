"""Cmdlet signatures, object types and enums of real Windows modules, from catalogue/*.json.

    fc = catalogue.load("FailoverClusters")
    fc.definitions()                 # CommandDefinitions: bind by the real signature, behaviour not modelled
    fc.definition("Get-ClusterResource", GetClusterResource)   # a Cmdlet class the world writes
    fc.new("Microsoft.FailoverClusters.PowerShell.ClusterResource", Name="ENTSSO", State="Online", ...)

Objects made with `new` expose exactly the catalogue's properties: reading any other under
StrictMode throws PropertyNotFoundStrict, as on Windows. A property whose type is a catalogue
enum holds an enum value (its string form is the member name; ConvertTo-Json writes its number).

The implementing types' names (the second half of an error id, "ClusterEndpointNotRegistered,
Microsoft.FailoverClusters.PowerShell.GetClusterCommand") are not in the catalogue: they follow the
module's convention Microsoft.FailoverClusters.PowerShell.<Verb><Noun>Command (assumed).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from simulator.powershell import values as v
from simulator.powershell.binder import ALL_SETS, CommandSignature, ParameterSpec, SetMembership
from simulator.powershell.cmdlets import Cmdlet, CommandDefinition
from simulator.powershell.types import PSType, TypeRegistry, enum_convert, enumerate_items, to_string

CATALOGUE_DIR = Path(__file__).with_name("catalogue")
_NAMESPACES = {"FailoverClusters": "Microsoft.FailoverClusters.PowerShell"}
_NUMBER_TYPES: dict[str, type[v.TypedInt] | None] = {
    "System.UInt32": v.UInt32,
    "System.UInt64": v.UInt64,
    "System.Int32": None,
    "System.Int64": v.Int64,
    "System.UInt16": v.UInt16,
    "System.Int16": v.Int16,
    "System.Byte": v.Byte,
}


class CatalogueObject(v.DotNetObject):
    """An object of a catalogue type: exactly its properties, values converted to their declared types."""

    def __init__(self, catalogue_type: CatalogueType, values: dict[str, object]) -> None:
        self._type = catalogue_type
        self._values: dict[str, object] = {}
        for name, value in values.items():
            real = catalogue_type.property_name(name)
            if real is None:
                raise KeyError(f"{catalogue_type.full_name} has no property {name!r}")
            self._values[real] = catalogue_type.coerce(real, value)

    def ps_type_name(self) -> str:
        return self._type.full_name

    def ps_base_types(self) -> tuple[str, ...]:
        return self._type.bases

    def ps_property_names(self) -> list[str]:
        return list(self._type.properties)

    def ps_has_property(self, name: str) -> str | None:
        return self._type.property_name(name)

    def ps_get(self, name: str) -> object:
        return self._values.get(name)

    def ps_can_set(self, name: str) -> str | None:
        return None

    def set_value(self, name: str, value: object) -> None:
        """For the world: change a property (a script cannot)."""
        real = self._type.property_name(name)
        if real is None:
            raise KeyError(f"{self._type.full_name} has no property {name!r}")
        self._values[real] = self._type.coerce(real, value)

    def ps_to_string(self) -> str:
        name = self._values.get("Name")
        return to_string(name) if name is not None else self._type.full_name

    def __repr__(self) -> str:
        return f"<{self._type.full_name} {self.ps_to_string()}>"


class CatalogueType:
    def __init__(self, catalogue: Catalogue, full_name: str, properties: dict[str, str]) -> None:
        self.catalogue = catalogue
        self.full_name = full_name
        self.properties = properties
        self.bases = ("System.Object",)
        self._lower = {name.lower(): name for name in properties}

    def property_name(self, name: str) -> str | None:
        return self._lower.get(name.lower())

    def coerce(self, name: str, value: object) -> object:
        declared = self.properties[name]
        if value is None:
            return None
        enum = self.catalogue.enum(declared)
        if enum is not None:
            return enum_convert(enum, value)
        if declared in _NUMBER_TYPES and isinstance(value, int) and not isinstance(value, bool):
            number = _NUMBER_TYPES[declared]
            return value if number is None else number(value)
        if declared == "System.String" and not isinstance(value, str):
            return to_string(value)
        return value


class Catalogue:
    """One module's signatures, types and enums."""

    def __init__(self, module: str, document: dict[str, Any]) -> None:
        self.module = module
        self.namespace = _NAMESPACES.get(module, module)
        self.document = document
        self.enums: dict[str, v.EnumType] = {}
        for name, members in document.get("enums", {}).items():
            enum = v.EnumType(
                name, tuple((member, int(value)) for member, value in members.items()), flags=_looks_like_flags(members)
            )
            self.enums[name.lower()] = enum
        self.types: dict[str, CatalogueType] = {
            name.lower(): CatalogueType(self, name, dict(properties))
            for name, properties in document.get("types", {}).items()
        }

    def enum(self, name: str) -> v.EnumType | None:
        return self.enums.get(name.lower())

    def find_type(self, name: str) -> CatalogueType:
        found = self.types.get(name.lower()) or self.types.get(f"{self.namespace}.{name}".lower())
        if found is None:
            raise KeyError(f"{self.module} has no type {name!r}")
        return found

    def new(self, type_name: str, **values: object) -> CatalogueObject:
        """An object of a catalogue type (values by property name, case-insensitive)."""
        return CatalogueObject(self.find_type(type_name), values)

    def cmdlet_names(self) -> list[str]:
        return list(self.document.get("cmdlets", {}))

    @functools.cache  # noqa: B019 - one catalogue object per module, kept for the process
    def signature(self, name: str) -> CommandSignature:
        entry = self.document["cmdlets"][name]
        specs = []
        for parameter in entry["parameters"]:
            memberships = tuple(
                SetMembership(
                    s["set"],
                    bool(s["mandatory"]),
                    s["position"],
                    bool(s["fromPipeline"]),
                    bool(s["fromPipelineByPropertyName"]),
                )
                for s in parameter["sets"]
            ) or (SetMembership(ALL_SETS),)
            specs.append(
                ParameterSpec(
                    parameter["name"],
                    parameter["type"],
                    memberships,
                    tuple(parameter.get("aliases") or ()),
                    tuple(parameter.get("validateSet") or ()),
                )
            )
        names = {p["name"].lower() for p in entry["parameters"]}
        return (
            CommandSignature(
                name,
                tuple(specs),
                entry.get("defaultParameterSet"),
                qualifier=f"{self.namespace}.{name.replace('-', '')}Command",
                supports_should_process=False,
                kind="cmdlet",
            )
            if not {"whatif", "confirm"} & names
            else CommandSignature(
                name,
                tuple(s for s in specs if s.name.lower() not in ("whatif", "confirm")),
                entry.get("defaultParameterSet"),
                qualifier=f"{self.namespace}.{name.replace('-', '')}Command",
                supports_should_process=True,
                kind="cmdlet",
            )
        )

    def definition(self, name: str, implementation: type[Cmdlet] | None = None) -> CommandDefinition:
        return CommandDefinition(self.signature(name), implementation, self.module)

    def definitions(self) -> list[CommandDefinition]:
        return [self.definition(name) for name in self.cmdlet_names()]

    def register_types(self, registry: TypeRegistry) -> None:
        for enum in self.enums.values():
            if registry.resolve(enum.full_name) is None:
                registry.add_enum(enum)
        for catalogue_type in self.types.values():
            name = catalogue_type.full_name
            if registry.resolve(name) is None:
                registry.add(PSType(name, is_instance=_instance_of(name)))
        registry.add(
            PSType(
                "System.Collections.Specialized.StringCollection",
                is_instance=lambda x: isinstance(x, v.TypedArray) and x.element_type == "System.String",
                convert=_string_collection,
            )
        )
        for opaque in (
            "CimSession",
            "Microsoft.Management.Infrastructure.CimSession",
            "Microsoft.Management.Infrastructure.CimInstance",
        ):
            if registry.resolve(opaque) is None:
                aliases = ("ciminstance",) if opaque.endswith("CimInstance") else ()
                registry.add(PSType(opaque), *aliases)


def _instance_of(name: str) -> Callable[[object], bool]:
    return lambda x: isinstance(x, v.DotNetObject) and x.ps_type_name() == name


def _string_collection(value: object) -> object:
    if value is None:
        return None
    items = enumerate_items(value)
    return v.TypedArray([to_string(i) for i in (items if items is not None else [value])], "System.String")


def _looks_like_flags(members: dict[str, int]) -> bool:
    numbers = [int(n) for n in members.values() if int(n) > 0]
    return len(numbers) > 2 and all(n & (n - 1) == 0 for n in numbers) and max(numbers) > len(numbers)


@functools.lru_cache(maxsize=8)
def load(module: str) -> Catalogue:
    path = CATALOGUE_DIR / f"{module}.json"
    return Catalogue(module, json.loads(path.read_text(encoding="utf-8")))


def modules() -> Iterable[str]:
    return sorted(p.stem for p in CATALOGUE_DIR.glob("*.json"))
