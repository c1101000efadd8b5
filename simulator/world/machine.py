"""A node of the simulated world as the PowerShell interpreter sees it (`simulator.powershell.machine.Machine`).

One `NodeMachine` per powershell.exe process: the node's disk (files, directories, ACLs), its registry,
its environment, the identity of the session that started the process, and what is installed there
(simulator/world/surface: cmdlets of installed modules, executables, COM classes, assemblies). The
interpreter reaches Windows only through it; the rules of Windows live in the surface modules and in
`simulator/world/windows.py`, never in the interpreter.

Time is virtual: `Start-Sleep` advances this process's clock without waiting (a script that polls a
scheduled task every 500 ms must not hold the world for real minutes). The host's per-operation
durations and faults are applied around the process, by the WS-Man layer and `WorldHost`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import os
import uuid
import weakref
from collections.abc import Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from simulator.powershell.cmdlets import CommandDefinition
from simulator.powershell.dotnet import DirectorySecurity, FileSystemAccessRule
from simulator.powershell.engine import ProcessResult, run_process
from simulator.powershell.errors import DotNetError, NetException
from simulator.powershell.machine import (
    CaseInsensitiveEnvironment,
    Executable,
    FileEntry,
    FileSystem,
    Identity,
    Registry,
)
from simulator.powershell.memory import access_denied, directory_not_found, file_not_found, normalize, parent_of
from simulator.world import surface
from simulator.world.model import Node, World, key, path_key

if TYPE_CHECKING:
    from simulator.powershell.types import PSType
    from simulator.powershell.values import DotNetObject
    from simulator.wsman.backend import Session

HKLM_NATIVE = "HKEY_LOCAL_MACHINE"
HKLM_MODEL = "HKLM"
DPAPI_MAGIC = b"\x01\x00\x00\x00\xd0\x8c\x9d\xdf"  # a DPAPI blob starts with its version and provider GUID prefix


_OPEN_FOR_WRITE: dict[int, dict[str, str]] = {}


def files_open_for_writing(node: Node) -> dict[str, str]:
    """Path key -> spelling of the node's files a process holds open for writing right now (a scheduled task's write).

    implements F-FS-06: .NET writes a file in place (File.WriteAllBytes opens it with FileShare.Read), so
    while it is being written another process sees it exist but cannot open it for reading nor delete it.
    Not persisted: an open handle dies with its process.
    """
    found = _OPEN_FOR_WRITE.get(id(node))
    if found is None:
        found = _OPEN_FOR_WRITE[id(node)] = {}
        weakref.finalize(node, _OPEN_FOR_WRITE.pop, id(node), None)
    return found


def sharing_violation(path: str) -> DotNetError:
    # ERROR_SHARING_VIOLATION (32) as .NET reports it: IOException, HResult 0x80070020 (F-FS-06).
    return DotNetError(
        NetException(
            "System.IO.IOException",
            f"The process cannot access the file '{path}' because it is being used by another process.",
            hresult=-2147024864,
        )
    )


def _number(value: object) -> int:
    """An enum-typed .NET value (FileSystemRights, ...) as its number."""
    number = getattr(value, "value", value)
    return int(number) if isinstance(number, int | str) else 0


class NodeFileSystem:
    """The node's disk: `Node.files` (content), `Node.directories`, `Node.acls`. Paths compare case-insensitively."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def _locked(self, key_: str) -> bool:
        return key_ in files_open_for_writing(self.node)

    @staticmethod
    def _key(path: str) -> str:
        return path_key(normalize(path))

    @staticmethod
    def _is_root(path: str) -> bool:
        text = normalize(path)
        return len(text) <= 3 and text[1:2] == ":"

    def _is_directory(self, path: str) -> bool:
        if self._is_root(path):
            return True
        k = self._key(path)
        if k in self.node.directories:
            return True
        prefix = k.rstrip("\\") + "\\"
        return any(name.startswith(prefix) for name in self.node.files) or any(
            name.startswith(prefix) for name in self.node.directories
        )

    def stat(self, path: str) -> FileEntry | None:
        k = self._key(path)
        if k in self.node.files:
            return FileEntry(normalize(path), False, len(self.node.files[k]))
        if self._is_directory(path):
            return FileEntry(self.node.directories.get(k, normalize(path)), True)
        return None

    def read_bytes(self, path: str) -> bytes:
        k = self._key(path)
        if k in self.node.files:
            if self._locked(k):
                raise sharing_violation(normalize(path))
            return self.node.files[k]
        if self._is_directory(path):
            raise access_denied(path)
        if not self._is_directory(parent_of(path) or path):
            raise directory_not_found(path)
        raise file_not_found(path)

    def write_bytes(self, path: str, data: bytes) -> None:
        if self._is_directory(path):
            raise access_denied(path)
        parent = parent_of(path)
        if parent and not self._is_directory(parent):
            raise directory_not_found(path)
        if self._locked(self._key(path)):
            raise sharing_violation(normalize(path))
        self.node.write_file(normalize(path), data)

    def make_directory(self, path: str) -> None:
        current = normalize(path)
        while current and not self._is_root(current):
            if self._key(current) in self.node.files:
                raise DotNetError(
                    NetException(
                        "System.IO.IOException",
                        f"Cannot create '{current}' because a file or directory with the same name already exists.",
                    )
                )
            self.node.directories.setdefault(self._key(current), current)
            current = parent_of(current).rstrip("\\") if not parent_of(current).endswith(":\\") else ""

    def remove(self, path: str, recurse: bool) -> None:
        k = self._key(path)
        if k in self.node.files:
            if self._locked(k):
                raise sharing_violation(normalize(path))
            self.node.delete_file(path)
            self.node.acls.pop(k, None)
            return
        if not self._is_directory(path):
            raise directory_not_found(path)
        prefix = k.rstrip("\\") + "\\"
        children = [name for name in [*self.node.files, *self.node.directories] if name.startswith(prefix)]
        if children and not recurse:
            raise DotNetError(NetException("System.IO.IOException", "The directory is not empty."))
        held = [child for child in children if self._locked(child)]
        for child in children:
            if child in held or any(h.startswith(child.rstrip("\\") + "\\") for h in held):
                continue  # a file in use stays, and so do the directories above it
            self.node.files.pop(child, None)
            self.node.file_names.pop(child, None)
            self.node.directories.pop(child, None)
            self.node.acls.pop(child, None)
        if held:
            raise sharing_violation(files_open_for_writing(self.node)[held[0]])
        self.node.directories.pop(k, None)
        self.node.acls.pop(k, None)

    def list_directory(self, path: str) -> list[FileEntry]:
        if not self._is_directory(path):
            raise directory_not_found(path)
        prefix = self._key(path).rstrip("\\") + "\\"
        base = normalize(path).rstrip("\\")
        entries: dict[str, FileEntry] = {}
        for name, data in self.node.files.items():
            if name.startswith(prefix):
                rest = name[len(prefix) :]
                leaf = rest.split("\\", 1)[0]
                is_file = "\\" not in rest
                spelt = self.node.file_name(name)[len(prefix) :].split("\\", 1)[0]
                entries.setdefault(leaf, FileEntry(f"{base}\\{spelt}", not is_file, len(data) if is_file else 0))
        for name, spelling in self.node.directories.items():
            if name.startswith(prefix):
                leaf = name[len(prefix) :].split("\\", 1)[0]
                entries.setdefault(leaf, FileEntry(f"{base}\\{spelling.rsplit(chr(92), 1)[-1]}", True))
        return list(entries.values())

    def set_acl(self, path: str, acl: object) -> None:
        if self.stat(path) is None:
            raise directory_not_found(path)
        if not isinstance(acl, DirectorySecurity):
            raise DotNetError(NetException("System.ArgumentException", "The ACL object is not a file system ACL."))
        self.node.acls[self._key(path)] = {
            "protected": acl.AreAccessRulesProtected,
            "rules": [
                {
                    "identity": str(rule.IdentityReference),
                    "rights": _number(rule.FileSystemRights),
                    "inheritance": _number(rule.InheritanceFlags),
                    "propagation": _number(rule.PropagationFlags),
                    "type": _number(rule.AccessControlType),
                }
                for rule in acl.rules
            ],
        }

    def get_acl(self, path: str) -> object:
        if self.stat(path) is None:
            raise directory_not_found(path)
        stored = self.node.acls.get(self._key(path))
        acl = DirectorySecurity()
        if stored is None:
            return acl  # inherited from the parent: what the model keeps is the explicit ACLs only
        acl.AreAccessRulesProtected = bool(stored["protected"])
        for rule in stored["rules"]:  # type: ignore[attr-defined]
            acl.rules.append(
                FileSystemAccessRule(
                    rule["identity"], rule["rights"], rule["inheritance"], rule["propagation"], rule["type"]
                )
            )
        return acl


class NodeRegistry:
    """The node's registry (`Node.registry`, keyed by HKLM\\... paths); the interpreter speaks native paths."""

    def __init__(self, node: Node) -> None:
        self.node = node

    @staticmethod
    def _model(native: str) -> str:
        text = native.rstrip("\\")
        if text.upper().startswith(HKLM_NATIVE):
            text = HKLM_MODEL + text[len(HKLM_NATIVE) :]
        return key(text)

    def key_exists(self, native: str) -> bool:
        k = self._model(native)
        if k in (HKLM_MODEL, "HKEY_CURRENT_USER"):
            return True
        return k in self.node.registry or any(name.startswith(k + "\\") for name in self.node.registry)

    def values(self, native: str) -> dict[str, object]:
        return dict(self.node.registry.get(self._model(native), {}))

    def subkeys(self, native: str) -> list[str]:
        prefix = self._model(native) + "\\"
        return sorted({name[len(prefix) :].split("\\", 1)[0] for name in self.node.registry if name.startswith(prefix)})

    def set_value(self, native: str, name: str, value: object, kind: str = "String") -> None:
        self.create_key(native)
        values = self.node.registry[self._model(native)]
        for existing in list(values):
            if existing.lower() == name.lower():
                del values[existing]
        # The model keeps every value as text (REG_SZ); a DWORD reads back as its decimal string.
        values[name] = str(int(value)) if isinstance(value, bool | int) else str(value)

    def create_key(self, native: str) -> None:
        self.node.registry.setdefault(self._model(native), {})

    def delete_key(self, native: str, recurse: bool) -> None:
        k = self._model(native)
        for name in [n for n in self.node.registry if n == k or n.startswith(k + "\\")]:
            del self.node.registry[name]

    def delete_value(self, native: str, name: str) -> None:
        values = self.node.registry.get(self._model(native))
        if values is not None:
            for existing in list(values):
                if existing.lower() == name.lower():
                    del values[existing]


class NodeMachine:
    """The Machine of one powershell.exe on `node`, started by `session` (or by a scheduled task as `identity`)."""

    def __init__(
        self,
        world: World,
        node: Node,
        session: Session,
        identity: Identity | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        self.world = world
        self.node = node
        self.session = session
        self.computer_name = node.name
        self.filesystem: FileSystem = NodeFileSystem(node)
        self.registry: Registry = NodeRegistry(node)
        user = session.account or session.user
        self._identity = identity or Identity(
            user=user,
            is_admin=world.domain.in_any(user, node.administrators),
            network_credentials=session.delegated,
        )
        sam = self._identity.user.split("\\", 1)[-1].split("@", 1)[0]
        self._environment = CaseInsensitiveEnvironment(
            [
                ("COMPUTERNAME", node.name),
                ("USERDOMAIN", world.domain.netbios),
                ("USERNAME", sam),
                ("USERDNSDOMAIN", world.domain.fqdn.upper()),
                ("ProgramData", "C:\\ProgramData"),
                ("ProgramFiles", "C:\\Program Files"),
                ("ProgramFiles(x86)", "C:\\Program Files (x86)"),
                ("CommonProgramFiles", "C:\\Program Files\\Common Files"),
                ("CommonProgramW6432", "C:\\Program Files\\Common Files"),
                ("SystemRoot", "C:\\Windows"),
                ("windir", "C:\\Windows"),
                ("SystemDrive", "C:"),
                ("TEMP", "C:\\Windows\\Temp"),
                ("TMP", "C:\\Windows\\Temp"),
                ("PATH", "C:\\Windows\\system32;C:\\Windows;C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\"),
                *(environment or {}).items(),
            ]
        )
        self._clock_offset = _dt.timedelta()
        if not node.dpapi_key:
            node.dpapi_key = os.urandom(32)

    # --- who and where ----------------------------------------------------------------------------------

    def identity(self) -> Identity:
        return self._identity

    def environment(self) -> MutableMapping[str, str]:
        return self._environment

    def machine_environment(self, name: str, target: str) -> str | None:
        if target.lower() == "process":
            return self._environment.get(name)
        if target.lower() == "machine":
            wanted = name.lower()
            return next((value for key, value in self.node.environment.items() if key.lower() == wanted), None)
        return None

    # --- what is installed -------------------------------------------------------------------------------

    def modules(self) -> Iterable[str]:
        offers = surface.registry().modules.values()
        return [offer.name for offer in offers if offer.installed(self.node)]

    def commands(self) -> Iterable[CommandDefinition]:
        found = surface.registry()
        installed = {name.lower() for name in self.modules()}
        return [
            offer.definition
            for offer in found.commands.values()
            if not offer.module or offer.module.lower() in installed
        ]

    def find_executable(self, name: str) -> Executable | None:
        wanted = normalize(name).lower()
        leaf = wanted.rsplit("\\", 1)[-1]
        for offer in surface.registry().executables:
            if not offer.installed(self.node):
                continue
            if wanted == offer.path.lower() or (
                "\\" not in wanted and offer.on_path and leaf in (offer.leaf.lower(), offer.leaf.lower()[:-4])
            ):
                return offer.factory(self)
        return self._media(name)

    def _media(self, name: str) -> Executable | None:
        """Setup media copied to the node (BizTalk's setup.exe, an .msi): a program wherever its file is."""
        path = normalize(name)
        if not (len(path) > 2 and path[1] == ":"):
            return None
        content = self.node.file(path)
        if content is None:
            return None
        for offer in surface.registry().media:
            if content.startswith(offer.prefix):
                return offer.factory(self, path)
        return None

    def dotnet_types(self) -> list[PSType]:
        """Types of assemblies loaded at start whose behaviour is this node's (surface.dotnet_types)."""
        found: list[PSType] = []
        for offer in surface.registry().types:
            if offer.installed(self.node):
                found.extend(offer.factory(self))
        return found

    def com_class(self, progid: str) -> Callable[[], DotNetObject] | None:
        offer = surface.registry().com.get(progid.lower())
        if offer is None or not offer.installed(self.node):
            return None
        return lambda: offer.factory(self)

    def load_assembly(self, path: str) -> Iterable[PSType]:
        offer = surface.registry().assemblies.get(normalize(path).lower())
        if offer is None or not offer.installed(self.node) or self.filesystem.stat(path) is None:
            raise DotNetError(
                NetException(
                    "System.IO.FileNotFoundException",
                    f"Could not load file or assembly 'file:///{path}' or one of its dependencies. "
                    "The system cannot find the file specified.",
                    hresult=-2147024894,
                )
            )
        return offer.factory(self)

    # --- DPAPI: LocalMachine blobs open on this node only; CurrentUser blobs for the same user only ----------

    def _dpapi_key(self, scope: str) -> bytes:
        label = (
            b"LocalMachine"
            if scope.lower() == "localmachine"
            else b"CurrentUser:" + key(self._identity.user).encode("utf-8")
        )
        return hmac.new(self.node.dpapi_key, label, hashlib.sha256).digest()

    def protect(self, data: bytes, entropy: bytes | None, scope: str) -> bytes:
        nonce = os.urandom(12)
        return DPAPI_MAGIC + nonce + AESGCM(self._dpapi_key(scope)).encrypt(nonce, data, entropy or b"")

    def unprotect(self, data: bytes, entropy: bytes | None, scope: str) -> bytes:
        try:
            if not data.startswith(DPAPI_MAGIC):
                raise InvalidTag
            body = data[len(DPAPI_MAGIC) :]
            return AESGCM(self._dpapi_key(scope)).decrypt(body[:12], body[12:], entropy or b"")
        except (InvalidTag, ValueError):
            # CryptUnprotectData's failure as .NET reports it (CryptographicException, "Key not valid for use
            # in specified state." for a blob sealed elsewhere; "The data is invalid." for garbage).
            raise DotNetError(
                NetException(
                    "System.Security.Cryptography.CryptographicException",
                    "Key not valid for use in specified state.\r\n",
                    hresult=-2146893813,
                )
            ) from None

    # --- time and randomness ------------------------------------------------------------------------------

    def sleep(self, seconds: float) -> None:
        self._clock_offset += _dt.timedelta(seconds=max(0.0, seconds))
        surface.time_passes(self, max(0.0, seconds))

    def command_invoked(self, command: str, module: str, parameters: dict[str, object]) -> None:
        """The interpreter binds a cmdlet here (module logging listens: F-FS-05)."""
        surface.command_invoked(self, command, module, parameters)

    def now(self) -> _dt.datetime:
        return _dt.datetime.now() + self._clock_offset

    def new_guid(self) -> uuid.UUID:
        return uuid.uuid4()

    def random_bytes(self, count: int) -> bytes:
        return os.urandom(count)


def run_script(
    world: World, node_name: str, text: str, session: Session, stdin: str = "", identity: Identity | None = None
) -> ProcessResult:
    """powershell.exe -Command `text` on a node of `world`, as `session` (tests and tools; no faults, no lock)."""
    node = world.node(node_name)
    if node is None:
        raise KeyError(node_name)
    try:
        return run_process(NodeMachine(world, node, session, identity), text, stdin)
    finally:
        surface.process_ended(world)
