"""The FileSystem and Registry providers, and the item cmdlets over them.

Test-Path, Get-Item, Get-ChildItem, Get-ItemProperty, New-Item, Remove-Item, Set-Content,
Get-Content, Get-FileHash, Get-Acl, Set-Acl, Select-String, Join-Path, Split-Path, on the
machine's `FileSystem` ("C:\\...") and `Registry` ("HKLM:\\...", "Registry::HKEY_LOCAL_MACHINE\\...").

Errors are the providers' (SessionStateStrings.PathNotFound "Cannot find path 'X' because it does
not exist.", PathNotFound; RegistryProviderStrings.PropertyNotAtPath "Property X does not exist at
path Y.", System.Management.Automation.PSArgumentException), non-terminating as the providers
write them (RegistryProvider.cs, FileSystemProvider.cs at PowerShell/PowerShell v6.0.0-alpha.10).
Drives the simulator does not model (Cert:, WSMan:, ...) fail loudly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar

from simulator.powershell import operators as ops
from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, ParameterSpec, SetMembership, parameter
from simulator.powershell.cmdlets import Cmdlet, CommandDefinition
from simulator.powershell.errors import DotNetError, ErrorRecord
from simulator.powershell.machine import FileEntry
from simulator.powershell.memory import normalize, parent_of
from simulator.powershell.types import is_true, to_string

MANAGEMENT = "Microsoft.PowerShell.Commands"
_HIVES = {
    "hklm": "HKEY_LOCAL_MACHINE",
    "hkcu": "HKEY_CURRENT_USER",
    "hkey_local_machine": "HKEY_LOCAL_MACHINE",
    "hkey_current_user": "HKEY_CURRENT_USER",
}


@dataclass(frozen=True)
class ProviderPath:
    provider: str  # "FileSystem" | "Registry"
    native: str  # C:\x\y   or   HKEY_LOCAL_MACHINE\SOFTWARE\x
    written: str

    @property
    def ps_path(self) -> str:
        prefix = (
            "Microsoft.PowerShell.Core\\FileSystem::"
            if self.provider == "FileSystem"
            else ("Microsoft.PowerShell.Core\\Registry::")
        )
        return prefix + self.native


class UnmodelledDrive(Exception):
    def __init__(self, drive: str) -> None:
        super().__init__(drive)
        self.drive = drive


def resolve(path: str, location: str) -> ProviderPath:
    # ASCII whitespace only: Python's str.strip() also drops Unicode spaces (U+3000, U+2000..200A), which Windows
    # keeps in a file or directory name (only a trailing space U+0020 or period is dropped, F-FS-12).
    text = path.strip(" \t\r\n")
    lower = text.lower()
    if lower.startswith("registry::"):
        rest = text[len("registry::") :]
        head, _, tail = rest.partition("\\")
        hive = _HIVES.get(head.lower(), head.upper())
        return ProviderPath("Registry", hive + ("\\" + tail.rstrip("\\") if tail.rstrip("\\") else ""), text)
    if lower.startswith(("microsoft.powershell.core\\filesystem::", "filesystem::")):
        return ProviderPath("FileSystem", normalize(text.split("::", 1)[1]), text)
    if ":" in text[:16] and not (len(text) >= 2 and text[1] == ":" and text[0].isalpha()):
        drive, _, rest = text.partition(":")
        found = _HIVES.get(drive.lower())
        if found is None:
            raise UnmodelledDrive(drive)
        tail = rest.strip("\\")
        return ProviderPath("Registry", found + ("\\" + tail if tail else ""), text)
    if len(text) >= 2 and text[1] == ":":
        native = normalize(text if len(text) > 2 else text + "\\")
        if len(native) == 2:
            native += "\\"
        return ProviderPath("FileSystem", native, text)
    if text.startswith("\\\\"):
        return ProviderPath("FileSystem", text, text)
    base = location.rstrip("\\")
    joined = normalize(base + "\\" + text.lstrip(".\\")) if text not in (".", "") else base
    return ProviderPath("FileSystem", joined, text)


def has_wildcard(path: str) -> bool:
    return any(c in path for c in "*?[")


class FileItem(v.DotNetObject):
    """System.IO.FileInfo / DirectoryInfo, with the provider's PS* note properties."""

    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "Name",
        "FullName",
        "Length",
        "Exists",
        "Extension",
        "DirectoryName",
        "LastWriteTime",
        "PSIsContainer",
        "Mode",
        "PSPath",
        "PSParentPath",
        "PSChildName",
        "PSProvider",
        "BaseName",
        "Attributes",
    )
    METHODS: ClassVar[tuple[str, ...]] = ("ToString",)

    def __init__(self, entry: FileEntry) -> None:
        self.entry = entry
        self.FullName = entry.path
        self.Name = entry.path.rsplit("\\", 1)[-1] if not entry.path.endswith(":\\") else entry.path
        self.PSIsContainer = entry.is_directory
        self.Exists = True
        self.Extension = "." + self.Name.rsplit(".", 1)[1] if "." in self.Name and not entry.is_directory else ""
        self.BaseName = self.Name[: -len(self.Extension)] if self.Extension else self.Name
        self.DirectoryName = parent_of(entry.path)
        self.LastWriteTime = v.DateTime(entry.last_write) if entry.last_write is not None else None
        self.Mode = "d-----" if entry.is_directory else "-a----"
        self.PSPath = "Microsoft.PowerShell.Core\\FileSystem::" + entry.path
        self.PSParentPath = "Microsoft.PowerShell.Core\\FileSystem::" + parent_of(entry.path)
        self.PSChildName = self.Name
        self.PSProvider = "Microsoft.PowerShell.Core\\FileSystem"
        self.Attributes = "Directory" if entry.is_directory else "Archive"

    def ps_type_name(self) -> str:
        return "System.IO.DirectoryInfo" if self.entry.is_directory else "System.IO.FileInfo"

    def ps_property_names(self) -> list[str]:
        names = list(self.PROPERTIES)
        if self.entry.is_directory:
            names.remove("Length")
        return names

    @property
    def Length(self) -> int:
        return self.entry.length

    def ToString(self) -> str:
        return self.FullName

    def ps_to_string(self) -> str:
        return self.FullName


def registry_value(value: object) -> object:
    """A registry string (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ's items) as .NET reads it: UTF-16 code units, so a
    character beyond U+FFFF is a surrogate pair to the script, as in any other .NET string."""
    if isinstance(value, str):
        return v.dotnet_text(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [v.dotnet_text(item) for item in value]
    return value


class RegistryKey(v.DotNetObject):
    TYPE_NAME = "Microsoft.Win32.RegistryKey"
    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "Name",
        "Property",
        "SubKeyCount",
        "ValueCount",
        "PSPath",
        "PSParentPath",
        "PSChildName",
        "PSProvider",
        "PSIsContainer",
    )
    METHODS: ClassVar[tuple[str, ...]] = ("GetValue", "GetValueNames", "GetSubKeyNames", "ToString")

    def __init__(self, native: str, values: dict[str, object], subkeys: list[str]) -> None:
        self.Name = native
        self._values = {name: registry_value(value) for name, value in values.items()}
        self._subkeys = subkeys
        self.PSPath = "Microsoft.PowerShell.Core\\Registry::" + native
        self.PSParentPath = "Microsoft.PowerShell.Core\\Registry::" + native.rsplit("\\", 1)[0]
        self.PSChildName = native.rsplit("\\", 1)[-1]
        self.PSProvider = "Microsoft.PowerShell.Core\\Registry"
        self.PSIsContainer = True

    @property
    def Property(self) -> list[object]:
        return list(self._values)

    @property
    def SubKeyCount(self) -> int:
        return len(self._subkeys)

    @property
    def ValueCount(self) -> int:
        return len(self._values)

    def GetValue(self, name: object, default: object = None) -> object:
        wanted = to_string(name).lower()
        found = next((value for key, value in self._values.items() if key.lower() == wanted), default)
        return v.NULL if found is None else found

    def GetValueNames(self) -> list[object]:
        return list(self._values)

    def GetSubKeyNames(self) -> list[object]:
        return list(self._subkeys)

    def ToString(self) -> str:
        return self.Name

    def ps_to_string(self) -> str:
        return self.Name


class FileHashInfo(v.DotNetObject):
    TYPE_NAME = "Microsoft.Powershell.Utility.FileHash"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Algorithm", "Hash", "Path")

    def __init__(self, algorithm: str, digest: str, path: str) -> None:
        self.Algorithm = algorithm
        self.Hash = digest
        self.Path = path


class MatchInfo(v.DotNetObject):
    TYPE_NAME = "Microsoft.PowerShell.Commands.MatchInfo"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Line", "LineNumber", "Path", "Filename", "Pattern", "IgnoreCase")

    def __init__(self, line: str, number: int, path: str, pattern: str) -> None:
        self.Line = line
        self.LineNumber = number
        self.Path = path
        self.Filename = path.rsplit("\\", 1)[-1]
        self.Pattern = pattern
        self.IgnoreCase = True

    def ps_to_string(self) -> str:
        return f"{self.Path}:{self.LineNumber}:{self.Line}"


def _path_params(position: int = 0, mandatory: bool = True) -> tuple[object, object]:
    return (
        parameter(
            "Path",
            "string[]",
            mandatory=mandatory,
            position=position,
            pipeline=True,
            by_property_name=True,
            sets=["Path"],
        ),
        parameter(
            "LiteralPath", "string[]", mandatory=True, by_property_name=True, sets=["LiteralPath"], aliases=["PSPath"]
        ),
    )


def _sig(
    name: str, *params: object, default_set: str | None = "Path", should_process: bool = False
) -> CommandSignature:
    return CommandSignature(
        name,
        tuple(params),  # type: ignore[arg-type]
        default_set,
        f"{MANAGEMENT}.{name.replace('-', '')}Command",
        supports_should_process=should_process,
    )


class ItemCmdlet(Cmdlet):
    """Path resolution and the provider errors shared by the item cmdlets."""

    def paths(self) -> list[tuple[str, bool]]:
        """(path as written, literal) for each path given."""
        literal = self.parameter_set == "LiteralPath" or self.has("LiteralPath")
        values = self.get("LiteralPath") if self.has("LiteralPath") else self.get("Path")
        return [(to_string(p), literal) for p in (values or [])]

    def resolve(self, written: str) -> ProviderPath | None:
        try:
            return resolve(written, self.interp.location)
        except UnmodelledDrive as problem:
            if problem.drive.lower() in ("env", "variable", "function", "alias"):
                return ProviderPath(problem.drive.capitalize(), written.split(":", 1)[1].lstrip("\\"), written)
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    f"The simulated Windows PowerShell does not model the {problem.drive}: drive.",
                    "SimulatorNotModelled",
                    "NotImplemented",
                    target=written,
                )
            )
            return None

    def not_found(self, written: str) -> ErrorRecord:
        return self.error(
            "System.Management.Automation.ItemNotFoundException",
            f"Cannot find path '{written}' because it does not exist.",
            "PathNotFound",
            "ObjectNotFound",
            target=written,
        )

    def expand(self, written: str, literal: bool) -> list[ProviderPath]:
        """Wildcards of -Path expand against the file system (the last segment); none matching is PathNotFound."""
        target = self.resolve(written)
        if target is None:
            return []
        if literal or not has_wildcard(target.native) or target.provider != "FileSystem":
            return [target]
        folder, pattern = target.native.rsplit("\\", 1)
        try:
            entries = self.machine.filesystem.list_directory(folder or "\\")
        except DotNetError:
            return []
        return [
            ProviderPath("FileSystem", entry.path, entry.path)
            for entry in entries
            if ops.like(entry.path.rsplit("\\", 1)[-1], pattern)
        ]

    def io_error(self, problem: DotNetError, written: str, error_id: str, category: str = "WriteError") -> ErrorRecord:
        exception = problem.exception
        return self.error(
            exception.type_name,
            exception.Message,
            f"{error_id}",
            category,
            target=written,
            inner=exception.InnerException,
        )


class TestPath(ItemCmdlet):
    SIGNATURE = _sig(
        "Test-Path",
        *_path_params(),
        parameter("PathType", "string", validate_set=["Any", "Container", "Leaf"], aliases=["Type"]),
        parameter("IsValid", "switch"),
        parameter("Filter", "string"),
        parameter("Include", "string[]"),
        parameter("Exclude", "string[]"),
        parameter("OlderThan", "datetime"),
        parameter("NewerThan", "datetime"),
        parameter("Credential", "pscredential"),
    )

    def process(self) -> None:
        kind = to_string(self.get("PathType", "Any")).lower()
        for written, literal in self.paths():
            if written == "":
                self.write_error(
                    self.error(
                        "System.Management.Automation.ParameterBindingValidationException",
                        "Cannot bind argument to parameter 'Path' because it is an empty string.",
                        "ParameterArgumentValidationErrorEmptyStringNotAllowed",
                        "InvalidData",
                    )
                )
                continue
            try:
                target = resolve(written, self.interp.location)
            except UnmodelledDrive as problem:
                if problem.drive.lower() == "env":
                    self.write_object(self.machine.environment().get(written.split(":", 1)[1]) is not None)
                    continue
                if problem.drive.lower() == "variable":
                    self.write_object(self.interp.has_variable(written.split(":", 1)[1]))
                    continue
                self.resolve(written)
                continue
            if self.flag("IsValid"):
                self.write_object(True)
                continue
            self.write_object(self._exists(target, kind, literal))

    def _exists(self, target: ProviderPath, kind: str, literal: bool) -> bool:
        if target.provider == "Registry":
            exists = self.machine.registry.key_exists(target.native)
            return exists and kind != "leaf"
        if not literal and has_wildcard(target.native):
            return bool(self.expand(target.written, literal))
        entry = self.machine.filesystem.stat(target.native)
        if entry is None:
            return False
        if kind == "leaf":
            return not entry.is_directory
        if kind == "container":
            return entry.is_directory
        return True


class GetItem(ItemCmdlet):
    SIGNATURE = _sig(
        "Get-Item",
        *_path_params(),
        parameter("Force", "switch"),
        parameter("Filter", "string"),
        parameter("Include", "string[]"),
        parameter("Exclude", "string[]"),
        parameter("Credential", "pscredential"),
        parameter("Stream", "string[]"),
    )

    def process(self) -> None:
        for written, literal in self.paths():
            targets = self.expand(written, literal)
            if not targets:
                self.write_error(self.not_found(written))
                continue
            for target in targets:
                item = item_at(self, target)
                if item is None:
                    self.write_error(self.not_found(written))
                    continue
                self.write_object(item)


def item_at(cmdlet: Cmdlet, target: ProviderPath) -> object | None:
    if target.provider == "Registry":
        registry = cmdlet.machine.registry
        if not registry.key_exists(target.native):
            return None
        return RegistryKey(target.native, registry.values(target.native), registry.subkeys(target.native))
    entry = cmdlet.machine.filesystem.stat(target.native)
    return None if entry is None else FileItem(entry)


class GetChildItem(ItemCmdlet):
    SIGNATURE = _sig(
        "Get-ChildItem",
        parameter("Path", "string[]", position=0, pipeline=True, by_property_name=True, sets=["Items"]),
        parameter(
            "LiteralPath", "string[]", mandatory=True, by_property_name=True, sets=["LiteralItems"], aliases=["PSPath"]
        ),
        parameter("Filter", "string", position=1),
        parameter("Recurse", "switch", aliases=["s"]),
        parameter("Force", "switch"),
        parameter("Name", "switch"),
        parameter("File", "switch"),
        parameter("Directory", "switch", aliases=["ad", "d"]),
        default_set="Items",
    )

    def process(self) -> None:
        values = self.get("LiteralPath") if self.has("LiteralPath") else (self.get("Path") or ["."])
        for written in values:
            target = self.resolve(to_string(written))
            if target is None:
                continue
            if target.provider == "Registry":
                registry = self.machine.registry
                if not registry.key_exists(target.native):
                    self.write_error(self.not_found(to_string(written)))
                    continue
                for name in registry.subkeys(target.native):
                    native = target.native + "\\" + name
                    self.write_object(RegistryKey(native, registry.values(native), registry.subkeys(native)))
                continue
            try:
                entries = self.machine.filesystem.list_directory(target.native)
            except DotNetError:
                self.write_error(self.not_found(to_string(written)))
                continue
            pattern = self.get("Filter")
            for entry in entries:
                if pattern is not None and not ops.like(entry.path.rsplit("\\", 1)[-1], to_string(pattern)):
                    continue
                if (self.flag("File") and entry.is_directory) or (self.flag("Directory") and not entry.is_directory):
                    continue
                item = FileItem(entry)
                self.write_object(item.Name if self.flag("Name") else item)


class GetItemProperty(ItemCmdlet):
    SIGNATURE = _sig(
        "Get-ItemProperty",
        *_path_params(),
        parameter("Name", "string[]", position=1, aliases=["PSProperty"]),
        parameter("Filter", "string"),
        parameter("Include", "string[]"),
        parameter("Exclude", "string[]"),
        parameter("Credential", "pscredential"),
    )

    def process(self) -> None:
        for written, _ in self.paths():
            target = self.resolve(written)
            if target is None:
                continue
            if target.provider != "Registry":
                entry = self.machine.filesystem.stat(target.native)
                if entry is None:
                    self.write_error(self.not_found(written))
                    continue
                self.write_object(FileItem(entry))
                continue
            registry = self.machine.registry
            if not registry.key_exists(target.native):
                self.write_error(self.not_found(written))
                continue
            values = registry.values(target.native)
            wanted = [to_string(n) for n in (self.get("Name") or ["*"])]
            chosen: list[tuple[str, object]] = []
            for name in wanted:
                matched = False
                for value_name, value in values.items():
                    shown = value_name or "(default)"
                    if ops.like(shown, name) if has_wildcard(name) else shown.lower() == name.lower():
                        if all(existing.lower() != shown.lower() for existing, _ in chosen):
                            chosen.append((shown, registry_value(value)))
                        matched = True
                if not matched and not has_wildcard(name):
                    # RegistryProviderStrings.PropertyNotAtPath
                    self.write_error(
                        self.error(
                            "System.Management.Automation.PSArgumentException",
                            f"Property {name} does not exist at path {target.native}.",
                            "System.Management.Automation.PSArgumentException",
                            "InvalidArgument",
                            target=name,
                        )
                    )
            if not chosen:
                continue
            result = v.PSCustomObject(chosen)
            parent, _, child = target.native.rpartition("\\")
            for key, value in (
                ("PSPath", target.ps_path),
                ("PSParentPath", "Microsoft.PowerShell.Core\\Registry::" + parent),
                ("PSChildName", child),
                ("PSDrive", written.split(":", 1)[0] if ":" in written and "::" not in written else "HKLM"),
                ("PSProvider", "Microsoft.PowerShell.Core\\Registry"),
            ):
                result.add(key, value)
            self.write_object(result)


class NewItem(ItemCmdlet):
    SIGNATURE = CommandSignature(
        "New-Item",
        (
            ParameterSpec(
                "Path",
                "string[]",
                (SetMembership("pathSet", True, 0, False, True), SetMembership("nameSet", False, 0, False, True)),
            ),
            parameter("Name", "string", mandatory=True, by_property_name=True, sets=["nameSet"]),
            parameter("ItemType", "string", by_property_name=True, aliases=["Type"]),
            parameter("Value", "object", pipeline=True, by_property_name=True, aliases=["Target"]),
            parameter("Force", "switch"),
            parameter("Credential", "pscredential"),
        ),
        "pathSet",
        f"{MANAGEMENT}.NewItemCommand",
        supports_should_process=True,
    )

    def process(self) -> None:
        kind = to_string(self.get("ItemType", "File")).lower()
        for written in self.get("Path") or []:
            text = to_string(written)
            if self.has("Name"):
                text = text.rstrip("\\") + "\\" + to_string(self.get("Name"))
            target = self.resolve(text)
            if target is None:
                continue
            if target.provider == "Registry":
                if self.machine.registry.key_exists(target.native) and not self.flag("Force"):
                    self.write_error(
                        self.error(
                            "System.IO.IOException",
                            "A key in this path already exists.",
                            "System.IO.IOException",
                            "ResourceExists",
                            target=text,
                        )
                    )
                    continue
                self.machine.registry.create_key(target.native)
                self.write_object(RegistryKey(target.native, {}, []))
                continue
            filesystem = self.machine.filesystem
            existing = filesystem.stat(target.native)
            if kind in ("directory", "container"):
                if existing is not None and not self.flag("Force"):
                    # FileSystemProviderStrings.DirectoryExist
                    self.write_error(
                        self.error(
                            "System.IO.IOException",
                            f"An item with the specified name {target.native} already exists.",
                            "DirectoryExist",
                            "ResourceExists",
                            target=target.native,
                        )
                    )
                    continue
                try:
                    if not self.flag("Force") and filesystem.stat(parent_of(target.native)) is None:
                        raise DotNetError(
                            __import__("simulator.powershell.errors", fromlist=["x"]).NetException(
                                "System.IO.DirectoryNotFoundException",
                                f"Could not find a part of the path '{target.native}'.",
                            )
                        )
                    filesystem.make_directory(target.native)
                except DotNetError as problem:
                    self.write_error(self.io_error(problem, target.native, "CreateDirectoryIOError"))
                    continue
            elif kind == "file":
                if existing is not None and not self.flag("Force"):
                    self.write_error(
                        self.error(
                            "System.IO.IOException",
                            f"The file '{target.native}' already exists.",
                            "NewItemIOError",
                            "WriteError",
                            target=target.native,
                        )
                    )
                    continue
                value = self.get("Value")
                data = b"" if value is None else to_string(value).encode("utf-8")
                try:
                    if self.flag("Force"):
                        filesystem.make_directory(parent_of(target.native))
                    filesystem.write_bytes(target.native, data)
                except DotNetError as problem:
                    self.write_error(self.io_error(problem, target.native, "NewItemIOError"))
                    continue
            else:
                self.throw_terminating_error(
                    self.error(
                        "System.Management.Automation.RuntimeException",
                        f"The simulated Windows PowerShell does not model New-Item -ItemType {kind}.",
                        "SimulatorNotModelled",
                        "NotImplemented",
                    )
                )
            entry = filesystem.stat(target.native)
            if entry is not None:
                self.write_object(FileItem(entry))


class RemoveItem(ItemCmdlet):
    SIGNATURE = _sig(
        "Remove-Item",
        *_path_params(),
        parameter("Recurse", "switch"),
        parameter("Force", "switch"),
        parameter("Filter", "string"),
        parameter("Include", "string[]"),
        parameter("Exclude", "string[]"),
        parameter("Credential", "pscredential"),
        parameter("Stream", "string[]"),
        should_process=True,
    )

    def process(self) -> None:
        for written, literal in self.paths():
            targets = self.expand(written, literal)
            if not targets:
                self.write_error(self.not_found(written))
                continue
            for target in targets:
                if target.provider == "Registry":
                    if not self.machine.registry.key_exists(target.native):
                        self.write_error(self.not_found(written))
                        continue
                    self.machine.registry.delete_key(target.native, self.flag("Recurse"))
                    continue
                entry = self.machine.filesystem.stat(target.native)
                if entry is None:
                    self.write_error(self.not_found(written))
                    continue
                try:
                    if (
                        entry.is_directory
                        and not self.flag("Recurse")
                        and self.machine.filesystem.list_directory(target.native)
                    ):
                        # Without -Recurse PowerShell would prompt; non-interactive, it is an error.
                        self.write_error(
                            self.error(
                                "System.IO.IOException",
                                f"Directory {target.native} cannot be removed because it is not empty.",
                                "DirectoryNotEmpty",
                                "WriteError",
                                target=target.native,
                            )
                        )
                        continue
                    self.machine.filesystem.remove(target.native, True)
                except DotNetError as problem:
                    error_id = (
                        "RemoveFileSystemItemUnAuthorizedAccess"
                        if problem.exception.is_a("System.UnauthorizedAccessException")
                        else "RemoveFileSystemItemIOError"
                    )
                    self.write_error(self.io_error(problem, target.native, error_id, "PermissionDenied"))


class CopyItem(ItemCmdlet):
    """Copy-Item over the FileSystem provider (PSD reference/5.1/Microsoft.PowerShell.Management/Copy-Item.md): a
    file into a folder or to a new name; a folder with -Recurse (its contents too). An existing target file is
    overwritten with -Force only (FileSystemProvider's "The file '...' already exists.", CopyError)."""

    SIGNATURE = _sig(
        "Copy-Item",
        *_path_params(),
        parameter("Destination", "string", position=1, by_property_name=True),
        parameter("Container", "switch"),
        parameter("Force", "switch"),
        parameter("Recurse", "switch"),
        parameter("PassThru", "switch"),
        parameter("Filter", "string"),
        parameter("Include", "string[]"),
        parameter("Exclude", "string[]"),
        should_process=True,
    )

    def process(self) -> None:
        destination = self.resolve(to_string(self.get("Destination") or self.interp.location))
        if destination is None:
            return
        for written, literal in self.paths():
            targets = self.expand(written, literal)
            if not targets:
                self.write_error(self.not_found(written))
                continue
            for target in targets:
                if target.provider != "FileSystem" or destination.provider != "FileSystem":
                    self.throw_terminating_error(
                        self.error(
                            "System.Management.Automation.RuntimeException",
                            "The simulated Windows PowerShell models Copy-Item between file system paths only.",
                            "SimulatorNotModelled",
                            "NotImplemented",
                        )
                    )
                if self.machine.filesystem.stat(target.native) is None:
                    self.write_error(self.not_found(written))
                    continue
                if self.should_process(f"Item: {target.native} Destination: {destination.native}", "Copy"):
                    self._copy(target.native, destination.native)

    def _copy(self, source: str, destination: str) -> None:
        filesystem = self.machine.filesystem
        entry = filesystem.stat(source)
        if entry is None:
            return
        leaf = source.rstrip("\\").rsplit("\\", 1)[-1]
        existing = filesystem.stat(destination)
        target = (
            f"{destination.rstrip(chr(92))}\\{leaf}" if existing is not None and existing.is_directory else destination
        )
        try:
            if not entry.is_directory:
                if filesystem.stat(target) is not None and not self.flag("Force"):
                    self.write_error(
                        self.error(
                            "System.IO.IOException",
                            f"The file '{target}' already exists.",
                            "CopyError",
                            "WriteError",
                            target=target,
                        )
                    )
                    return
                filesystem.write_bytes(target, filesystem.read_bytes(source))
                return
            filesystem.make_directory(target)
            if self.flag("Recurse"):
                for child in filesystem.list_directory(source):
                    self._copy(child.path, target)
        except DotNetError as problem:
            self.write_error(self.io_error(problem, target, "CopyDirectoryInfoItemIOError"))


class SetContent(ItemCmdlet):
    SIGNATURE = _sig(
        "Set-Content",
        *_path_params(),
        parameter(
            "Value",
            "object[]",
            mandatory=True,
            position=1,
            pipeline=True,
            by_property_name=True,
            allow_null=True,
            allow_empty_collection=True,
        ),
        parameter(
            "Encoding",
            "string",
            validate_set=[
                "Unknown",
                "String",
                "Unicode",
                "Byte",
                "BigEndianUnicode",
                "UTF8",
                "UTF7",
                "UTF32",
                "Ascii",
                "Default",
                "Oem",
                "BigEndianUTF32",
            ],
        ),
        parameter("Force", "switch"),
        parameter("NoNewline", "switch"),
        parameter("PassThru", "switch"),
        parameter("Credential", "pscredential"),
        should_process=True,
    )

    def begin(self) -> None:
        self.lines: list[object] = []

    def process(self) -> None:
        self.lines.extend(self.get("Value") or [])

    def end(self) -> None:
        encoding = to_string(self.get("Encoding", "Default")).lower()
        text = "".join(to_string(line) + ("" if self.flag("NoNewline") else "\r\n") for line in self.lines)
        if encoding == "utf8":
            data = b"\xef\xbb\xbf" + text.encode("utf-8")  # 5.1's UTF8 writes a byte order mark
        elif encoding == "unicode":
            data = b"\xff\xfe" + text.encode("utf-16-le")
        elif encoding == "byte":
            data = bytes(int(b) for b in self.lines)  # type: ignore[call-overload]
        else:
            data = text.encode("cp1252", errors="replace")
        for written, _ in self.paths():
            target = self.resolve(written)
            if target is None:
                continue
            try:
                self.machine.filesystem.write_bytes(target.native, data)
            except DotNetError as problem:
                self.write_error(
                    self.io_error(
                        problem,
                        target.native,
                        "GetContentWriterDirectoryNotFoundError"
                        if problem.exception.is_a("System.IO.DirectoryNotFoundException")
                        else "GetContentWriterIOError",
                    )
                )


class GetContent(ItemCmdlet):
    SIGNATURE = _sig(
        "Get-Content",
        *_path_params(),
        parameter("Raw", "switch"),
        parameter("Encoding", "string"),
        parameter("TotalCount", "long", aliases=["First", "Head"]),
        parameter("Tail", "int", aliases=["Last"]),
    )

    def process(self) -> None:
        for written, _ in self.paths():
            target = self.resolve(written)
            if target is None:
                continue
            try:
                data = self.machine.filesystem.read_bytes(target.native)
            except DotNetError:
                self.write_error(self.not_found(written))
                continue
            for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le")):
                if data.startswith(bom):
                    text = data[len(bom) :].decode(codec, errors="replace")
                    break
            else:
                text = data.decode("utf-8", errors="replace")
            if self.flag("Raw"):
                self.write_object(text)
                continue
            lines = text.replace("\r\n", "\n").split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            for line in lines:
                self.write_object(line)


class GetFileHash(ItemCmdlet):
    SIGNATURE = _sig(
        "Get-FileHash",
        *_path_params(),
        parameter("InputStream", "object", mandatory=True, sets=["Stream"]),
        parameter(
            "Algorithm",
            "string",
            validate_set=["SHA1", "SHA256", "SHA384", "SHA512", "MACTripleDES", "MD5", "RIPEMD160"],
        ),
    )

    def process(self) -> None:
        algorithm = to_string(self.get("Algorithm", "SHA256")).upper()
        for written, literal in self.paths():
            targets = self.expand(written, literal)
            if not targets:
                self.write_error(self.not_found(written))
                continue
            for target in targets:
                try:
                    data = self.machine.filesystem.read_bytes(target.native)
                except DotNetError:
                    self.write_error(self.not_found(written))
                    continue
                digest = hashlib.new(algorithm.lower(), data).hexdigest().upper()
                self.write_object(FileHashInfo(algorithm, digest, target.native))


class GetAcl(ItemCmdlet):
    SIGNATURE = _sig("Get-Acl", *_path_params(mandatory=False))

    def process(self) -> None:
        for written, _ in self.paths():
            target = self.resolve(written)
            if target is None:
                continue
            self.write_object(self.machine.filesystem.get_acl(target.native))


class SetAcl(ItemCmdlet):
    SIGNATURE = _sig(
        "Set-Acl",
        *_path_params(),
        parameter("AclObject", "object", mandatory=True, position=1, pipeline=True, by_property_name=True),
        parameter("Passthru", "switch"),
        parameter("ClearCentralAccessPolicy", "switch"),
        should_process=True,
    )

    def process(self) -> None:
        for written, _ in self.paths():
            target = self.resolve(written)
            if target is None:
                continue
            try:
                self.machine.filesystem.set_acl(target.native, self.get("AclObject"))
            except DotNetError as problem:
                self.write_error(
                    self.io_error(problem, target.native, "SetAcl_OperationNotPermitted", "PermissionDenied")
                )


class SelectString(ItemCmdlet):
    SIGNATURE = CommandSignature(
        "Select-String",
        (
            parameter(
                "InputObject",
                "psobject",
                mandatory=True,
                pipeline=True,
                sets=["Object"],
                allow_null=True,
                allow_empty_string=True,
            ),
            parameter("Pattern", "string[]", mandatory=True, position=0),
            parameter("Path", "string[]", mandatory=True, position=1, by_property_name=True, sets=["File"]),
            parameter(
                "LiteralPath",
                "string[]",
                mandatory=True,
                by_property_name=True,
                sets=["LiteralFile"],
                aliases=["PSPath"],
            ),
            parameter("SimpleMatch", "switch"),
            parameter("CaseSensitive", "switch"),
            parameter("Quiet", "switch"),
            parameter("List", "switch"),
            parameter("NotMatch", "switch"),
            parameter("AllMatches", "switch"),
            parameter("Encoding", "string"),
        ),
        "File",
        f"{MANAGEMENT}.SelectStringCommand",
    )

    def _matches(self, line: str) -> bool:
        case = self.flag("CaseSensitive")
        found = False
        for pattern in self.get("Pattern"):
            text = to_string(pattern)
            if self.flag("SimpleMatch"):
                found = text in line if case else text.lower() in line.lower()
            else:
                result, _ = ops.comparison("-cmatch" if case else "-match", line, text)
                found = is_true(result)
            if found:
                break
        return found != self.flag("NotMatch")

    def process(self) -> None:
        pattern_text = " ".join(to_string(p) for p in self.get("Pattern"))
        if self.parameter_set == "Object":
            line = to_string(self.get("InputObject"))
            if self._matches(line):
                self.write_object(MatchInfo(line, 1, "InputStream", pattern_text))
            return
        values = self.get("LiteralPath") if self.has("LiteralPath") else self.get("Path")
        for written in values or []:
            target = self.resolve(to_string(written))
            if target is None:
                continue
            try:
                data = self.machine.filesystem.read_bytes(target.native)
            except DotNetError:
                self.write_error(self.not_found(to_string(written)))
                continue
            text = data.decode("utf-8-sig", errors="replace")
            for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
                if self._matches(line):
                    self.write_object(MatchInfo(line, number, target.native, pattern_text))


class JoinPath(Cmdlet):
    SIGNATURE = CommandSignature(
        "Join-Path",
        (
            parameter(
                "Path", "string[]", mandatory=True, position=0, pipeline=True, by_property_name=True, aliases=["PSPath"]
            ),
            parameter(
                "ChildPath",
                "string",
                mandatory=True,
                position=1,
                by_property_name=True,
                allow_null=True,
                allow_empty_string=True,
            ),
            parameter("Resolve", "switch"),
            parameter("Credential", "pscredential"),
        ),
        None,
        f"{MANAGEMENT}.JoinPathCommand",
    )

    def process(self) -> None:
        child = to_string(self.get("ChildPath"))
        for written in self.get("Path"):
            base = to_string(written)
            drive = base.split(":", 1)[0] if ":" in base else ""
            if drive and len(drive) > 1 and drive.lower() not in ("hklm", "hkcu", "env", "variable", "cert", "wsman"):
                # SessionStateStrings.DriveNotFound
                self.write_error(
                    self.error(
                        "System.Management.Automation.DriveNotFoundException",
                        f"Cannot find drive. A drive with the name '{drive}' does not exist.",
                        "DriveNotFound",
                        "ObjectNotFound",
                        target=drive,
                    )
                )
                continue
            joined = base.rstrip("\\/") + "\\" + child.lstrip("\\/") if child else base
            self.write_object(joined)


class SplitPath(Cmdlet):
    SIGNATURE = CommandSignature(
        "Split-Path",
        (
            parameter(
                "Path",
                "string[]",
                mandatory=True,
                position=0,
                pipeline=True,
                by_property_name=True,
                sets=["ParentSet", "LeafSet", "QualifierSet", "NoQualifierSet", "IsAbsoluteSet"],
            ),
            parameter(
                "LiteralPath",
                "string[]",
                mandatory=True,
                by_property_name=True,
                sets=["LiteralPathSet"],
                aliases=["PSPath"],
            ),
            parameter("Parent", "switch", sets=["ParentSet"]),
            parameter("Leaf", "switch", mandatory=True, sets=["LeafSet"]),
            parameter("Qualifier", "switch", mandatory=True, sets=["QualifierSet"]),
            parameter("NoQualifier", "switch", mandatory=True, sets=["NoQualifierSet"]),
            parameter("IsAbsolute", "switch", mandatory=True, sets=["IsAbsoluteSet"]),
            parameter("Resolve", "switch"),
            parameter("Credential", "pscredential"),
        ),
        "ParentSet",
        f"{MANAGEMENT}.SplitPathCommand",
    )

    def process(self) -> None:
        values = self.get("LiteralPath") if self.has("LiteralPath") else self.get("Path")
        for written in values:
            path = to_string(written).replace("/", "\\")
            trimmed = path.rstrip("\\") if len(path) > 3 else path
            if self.flag("Leaf"):
                self.write_object(trimmed.rsplit("\\", 1)[-1])
            elif self.flag("Qualifier"):
                self.write_object(path.split(":", 1)[0] + ":" if ":" in path else "")
            elif self.flag("NoQualifier"):
                self.write_object(path.split(":", 1)[1] if ":" in path else path)
            elif self.flag("IsAbsolute"):
                self.write_object(path[1:3] == ":\\" or path.startswith("\\"))
            else:
                if "\\" not in trimmed:
                    self.write_object("")
                    continue
                parent = trimmed.rsplit("\\", 1)[0]
                if parent.endswith(":"):
                    parent += "\\"
                self.write_object(parent)


ITEM_CMDLETS: tuple[type[Cmdlet], ...] = (
    TestPath,
    GetItem,
    GetChildItem,
    GetItemProperty,
    NewItem,
    RemoveItem,
    CopyItem,
    SetContent,
    GetContent,
    GetFileHash,
    GetAcl,
    SetAcl,
    SelectString,
    JoinPath,
    SplitPath,
)


def definitions() -> list[CommandDefinition]:
    return [CommandDefinition(cmdlet.SIGNATURE, cmdlet, "Microsoft.PowerShell.Management") for cmdlet in ITEM_CMDLETS]
