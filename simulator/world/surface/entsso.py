"""Enterprise SSO as a script reaches it: the interop assembly's COM objects, and ENTSSO's event log.

`Add-Type -Path <Common Files>\\Enterprise Single Sign-On\\Microsoft.EnterpriseSingleSignOn.Interop.dll`
defines the class `Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM` and the interfaces `ISSOConfigSS`,
`ISSOConfigDB` and `ISSOConfigOM`; scripts call their members with `[Interface].InvokeMember(name,
InvokeMethod -bor Instance, $null, $config, [object[]]args)` (implements F-SSO-07: BTD his/esso
issoconfig*-interface pages; SKA SSOAdminOMWrapper.psm1). No ProgID is documented, so none is registered.
The members:

- `ISSOConfigSS.BackupSecret(file, password, reminder)`, `RestoreSecret(file, password)`,
  `GetFilePasswordReminder(file, out reminder)`: requests to the local SSO service, which must be running
  (ENTSSO_E_NO_SSO_SERVER otherwise) and must be the master secret server (ENTSSO_E_NOT_SECRET_SERVER);
  the caller must be a local administrator and an SSO administrator (implements F-SSO-02, F-SSO-10, F-SSO-11,
  F-SSO-12).
- `ISSOConfigDB.GetDBInfo(server, database, out exists, out isConfigured, out needsUpgrade, out secretServer,
  out admin, out affiliateAdmin)`: reads SSODB over the caller's own SQL connection, so it needs network
  credentials and not a running service (implements F-SSO-09, assumed: P-13); out values are written back into
  the argument array (implements F-PS-13, assumed).
- `ISSOConfigOM.GetServerStatus(flags, out ssoServerName, out sqlServer, out sqlDatabase, out serviceAccount,
  out computerNameCluster, out computerNameNode, out 3 event counts, out 2 version parts, out 2 audit levels,
  out passwordSyncAge, out statusFlags)`: the local SSO server's status, through the running service
  (implements F-SSO-08; that it needs the service is assumed).

Every failure is a COMException with ENTSSO's HRESULT and text (sso_messages), which Type.InvokeMember wraps
in TargetInvocationException and PowerShell then reports as MethodInvocationException (F-PS-11, F-PS-12:
the interpreter's reflection does that, not this module).
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.errors import DotNetError, NetException
from simulator.powershell.types import PSType, to_string
from simulator.world import mastersecret, surface, windows
from simulator.world.model import (
    ENTSSO,
    EVENT_BACKUP_FAILED,
    EVENT_BACKUP_OK,
    EVENT_RESTORE_FAILED,
    EVENT_RESTORE_OK,
    Node,
    SsoDatabase,
    characters,
    key,
)
from simulator.world.surface import sso_messages as msg
from simulator.world.surface import sso_sql

if TYPE_CHECKING:
    from simulator.world.machine import NodeMachine

SSO_DIR = r"C:\Program Files\Common Files\Enterprise Single Sign-On"
INTEROP_DLL = SSO_DIR + r"\Microsoft.EnterpriseSingleSignOn.Interop.dll"
NAMESPACE = "Microsoft.EnterpriseSingleSignOn.Interop"
LEVELS = {"Error": 2, "Warning": 3, "Information": 4}


def installed_file(path: str) -> surface.Installed:
    """A piece that exists where setup put its file (uninstalled or never installed: absent)."""
    return lambda node: node.file(path) is not None


# --------------------------------------------------------------------------------------------- the SSO service


class SsoServerFailure(Exception):
    """What the local SSO service answers instead of doing the work: a COM error."""


def local_server(machine: NodeMachine) -> tuple[Node, SsoDatabase]:
    """The local SSO service a request goes to, running, with SSODB as it reads it (as its service account)."""
    node = machine.node
    service = node.service(ENTSSO)
    if service is None or service.state != "Running":
        # implements F-SSO-13: nothing listens for ENTSSO's RPC interface on this computer.
        raise msg.com_error(msg.NO_SSO_SERVER, node.name, detail=msg.RPC_NO_ENDPOINTS)
    config = windows.sso_config(node)
    assert config is not None  # ENTSSO does not run unconfigured (windows.start_entsso)
    try:
        connection = sso_sql.as_service(machine.world, config[0], service.account)
    except sso_sql.SqlFailure as failure:
        raise msg.com_error(msg.DB_ACCESS, detail=failure.message) from None
    return node, connection.database(config[1])


def require_admins(machine: NodeMachine, db: SsoDatabase) -> None:
    """implements F-SSO-02: a Windows administrator and an SSO administrator."""
    user = machine.identity().user
    if not machine.identity().is_admin:
        raise msg.com_error(msg.NOT_ADMIN)
    if db.admin_group and not machine.world.domain.is_member(user, db.admin_group):
        raise msg.com_error(msg.NOT_SSO_ADMIN)


def is_master(node: Node, db: SsoDatabase) -> bool:
    """implements F-SSO-19: the running ENTSSO registered SSOSecretServer under SSODB's secret server name."""
    return db.exists and key(db.secret_server) in {key(n) for n in node.endpoint_names}


def _client(machine: NodeMachine) -> tuple[str, str]:
    return machine.identity().user, machine.computer_name


class SSOConfigOM(v.DotNetObject):
    """An instance of Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM (an RCW around the COM object)."""

    TYPE_NAME = f"{NAMESPACE}.SSOConfigOM"
    BASE_TYPES = ("System.__ComObject", "System.MarshalByRefObject", "System.Object")
    INTERFACES: ClassVar[dict[str, tuple[str, ...]]] = {
        "BackupSecret": ("ISSOConfigSS",),
        "RestoreSecret": ("ISSOConfigSS",),
        "GetFilePasswordReminder": ("ISSOConfigSS",),
        "GenerateSecret": ("ISSOConfigSS",),
        "GetDBInfo": ("ISSOConfigDB",),
        "GetServerStatus": ("ISSOConfigOM",),
        "DiscoverServer": ("ISSOConfigOM",),
    }

    def __init__(self, machine: NodeMachine) -> None:
        self.machine = machine

    def ps_to_string(self) -> str:
        return self.TYPE_NAME

    def ps_invoke_member(self, name: str, kind: str, arguments: list[object]) -> object:
        member = next((m for m in self.INTERFACES if m.lower() == name.lower()), None)
        if member is None or kind != "method":
            # reflection's MissingMethodException (COR_E_MISSINGMETHOD); naming the class, not the interface, is assumed
            raise DotNetError(
                NetException(
                    "System.MissingMethodException",
                    f"Method '{self.TYPE_NAME}.{name}' not found.",
                    hresult=-2146233069,
                )
            )
        handler = getattr(self, f"_{member}", None)
        if handler is None:
            raise DotNetError(
                NetException(
                    "System.NotImplementedException",
                    f"The simulated node does not model {member} of the ENTSSO configuration object.",
                )
            )
        return handler(arguments)

    @staticmethod
    def _expect(arguments: list[object], count: int, member: str) -> None:
        if len(arguments) != count:
            # what the COM binder says for a wrong argument count (DISP_E_BADPARAMCOUNT)
            raise DotNetError(
                NetException(
                    "System.Reflection.TargetParameterCountException",
                    "Invalid number of parameters. (Exception from HRESULT: 0x8002000E (DISP_E_BADPARAMCOUNT))",
                    hresult=-2147352562,
                )
            )

    # --- ISSOConfigSS -----------------------------------------------------------------------------------

    def _BackupSecret(self, arguments: list[object]) -> object:
        self._expect(arguments, 3, "BackupSecret")
        path, password, reminder = (characters(to_string(a)) for a in arguments)
        machine, world = self.machine, self.machine.world
        node, db = local_server(machine)
        require_admins(machine, db)
        user, computer = _client(machine)
        secret = mastersecret.current(node)
        current = secret.secret_id if secret else ""
        previous = secret.previous_id if secret else ""

        def failed(code: tuple[int, str]) -> DotNetError:
            world.log(
                node,
                EVENT_BACKUP_FAILED,
                "Error",
                msg.BACKUP_FAILED.format(path, current, previous, user, msg.hex_code(code[0])),
            )
            return msg.com_error(code)

        if not is_master(node, db):
            raise failed(msg.NOT_SECRET_SERVER)  # implements F-SSO-10 (10766)
        if secret is None or node.loaded_secret != secret.secret_id:
            raise failed(msg.NO_SECRET)
        if len(password) < 7:
            raise failed(msg.PASSWORD_TOO_SHORT)
        # The service writes the file on its own computer (this node): its folder must exist.
        folder, target = machine.filesystem.stat(_parent(path)), machine.filesystem.stat(path)
        if folder is None or not folder.is_directory or (target is not None and target.is_directory):
            raise failed(msg.FILE_OPEN_FAILED)
        node.write_file(path, mastersecret.backup_bytes(secret, password, reminder))
        world.log(node, EVENT_BACKUP_OK, "Information", msg.BACKUP_OK.format(path, current, previous, user, computer))
        return None

    def _RestoreSecret(self, arguments: list[object]) -> object:
        self._expect(arguments, 2, "RestoreSecret")
        path, password = (characters(to_string(a)) for a in arguments)
        machine, world = self.machine, self.machine.world
        node, db = local_server(machine)
        require_admins(machine, db)
        user, computer = _client(machine)
        before = mastersecret.current(node)
        current, previous = (before.secret_id, before.previous_id) if before else ("", "")

        def failed(code: tuple[int, str]) -> DotNetError:
            world.log(
                node,
                EVENT_RESTORE_FAILED,
                "Error",
                msg.RESTORE_FAILED.format(path, current, previous, user, msg.hex_code(code[0])),
            )
            return msg.com_error(code)

        if not is_master(node, db):
            raise failed(msg.NOT_SECRET_SERVER)  # implements F-SSO-11: on the master secret server
        content = node.file(path)
        if content is None:
            raise failed(msg.FILE_OPEN_FAILED)
        try:
            secret = mastersecret.open_backup(content, password)
        except mastersecret.WrongPassword:
            raise failed(msg.WRONG_PASSWORD) from None  # implements F-SSO-11 (ENTSSO_E_BACKUP_FILE_WRONG_PASSWORD)
        except mastersecret.NotABackup:
            raise failed(msg.BACKUP_FORMAT) from None
        service = node.service(ENTSSO)
        assert service is not None
        # implements F-SSO-04: stored for this node's service account; the running service uses it at once.
        mastersecret.store(node, secret, service.account)
        node.loaded_secret = secret.secret_id
        world.log(
            node,
            EVENT_RESTORE_OK,
            "Information",
            msg.RESTORE_OK.format(path, secret.secret_id, secret.previous_id, user, computer),
        )
        return None

    def _GetFilePasswordReminder(self, arguments: list[object]) -> object:
        # implements F-SSO-12 (SKA could not get the out value through InvokeMember); modelled as the other out
        # parameters are (F-PS-13, assumed). It reads the file on this computer; no service needed (assumed).
        self._expect(arguments, 2, "GetFilePasswordReminder")
        content = self.machine.node.file(to_string(arguments[0]))
        if content is None:
            raise msg.com_error(msg.FILE_OPEN_FAILED)
        try:
            arguments[1] = mastersecret.reminder(content)
        except mastersecret.NotABackup:
            raise msg.com_error(msg.BACKUP_FORMAT) from None
        return None

    # --- ISSOConfigDB -----------------------------------------------------------------------------------

    def _GetDBInfo(self, arguments: list[object]) -> object:
        self._expect(arguments, 8, "GetDBInfo")
        server, name = to_string(arguments[0]), to_string(arguments[1])
        identity = self.machine.identity()
        try:
            connection = sso_sql.as_caller(self.machine.world, server, identity.user, identity.network_credentials)
        except sso_sql.SqlFailure as failure:
            raise msg.com_error(msg.DB_ACCESS, detail=failure.message) from None  # wrapper assumed (F-SSO-31)
        db = connection.database(name)
        arguments[2:8] = [
            db.exists,
            db.exists,  # isConfigured: Create configures what it creates
            False,  # needsUpgrade
            db.secret_server if db.exists else "",
            db.admin_group if db.exists else "",
            db.affiliate_group if db.exists else "",
        ]
        return None

    # --- ISSOConfigOM -----------------------------------------------------------------------------------

    def _GetServerStatus(self, arguments: list[object]) -> object:
        self._expect(arguments, 16, "GetServerStatus")
        node = self.machine.node
        service = node.service(ENTSSO)
        if service is None or service.state != "Running":
            raise msg.com_error(msg.NO_SSO_SERVER, node.name, detail=msg.RPC_NO_ENDPOINTS)
        config = windows.sso_config(node) or ("", "")
        seen = windows.seen_computer_name(self.machine.world, node)
        counts = {level: sum(1 for e in node.events if e.level == level) for level in LEVELS}
        arguments[1:16] = [
            seen,  # ssoServerName: the name this SSO server answers as
            config[0],
            config[1],
            service.account,
            seen if key(seen) != key(node.name) else "",  # computerNameCluster (assumed: empty off the cluster)
            node.name,
            counts["Information"],
            counts["Warning"],
            counts["Error"],
            5,  # versionInfoM (assumed)
            0,
            0,
            0,
            0,
            0,  # statusFlags (SSOStatusFlags not modelled)
        ]
        return None


def _parent(path: str) -> str:
    text = path.rstrip("\\")
    return text.rsplit("\\", 1)[0] if "\\" in text else text


def _interop_types(machine: NodeMachine) -> Iterable[PSType]:
    config = PSType(f"{NAMESPACE}.SSOConfigOM")
    config.constructor = lambda *_args: SSOConfigOM(machine)
    interfaces = [PSType(f"{NAMESPACE}.{name}") for name in ("ISSOConfigSS", "ISSOConfigDB", "ISSOConfigOM")]
    return [config, *interfaces]


surface.assembly(INTEROP_DLL, installed=installed_file(INTEROP_DLL))(_interop_types)


# --------------------------------------------------------------------------------------------- event log


class EventLogRecord(v.DotNetObject):
    """System.Diagnostics.Eventing.Reader.EventLogRecord (the members scripts read)."""

    TYPE_NAME = "System.Diagnostics.Eventing.Reader.EventLogRecord"
    BASE_TYPES = ("System.Diagnostics.Eventing.Reader.EventRecord", "System.Object")
    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "Id",
        "Version",
        "Qualifiers",
        "Level",
        "Task",
        "Opcode",
        "Keywords",
        "RecordId",
        "ProviderName",
        "ProviderId",
        "LogName",
        "ProcessId",
        "ThreadId",
        "MachineName",
        "UserId",
        "TimeCreated",
        "LevelDisplayName",
        "OpcodeDisplayName",
        "TaskDisplayName",
        "Message",
    )

    def __init__(
        self, node: Node, sequence: int, event_id: int, level: str, source: str, message: str, at: float
    ) -> None:
        self.Id = event_id
        self.Version = 0
        self.Qualifiers = 0xC000 if level == "Error" else 0x8000 if level == "Warning" else 0x4000
        self.Level = LEVELS.get(level, 4)
        self.LevelDisplayName = level
        self.Task = self.Opcode = 0
        self.Keywords = 0x80000000000000
        self.RecordId = sequence
        self.ProviderName = source
        self.ProviderId = None
        self.LogName = "Application"
        self.ProcessId = self.ThreadId = 0
        self.MachineName = f"{node.name}"
        self.UserId = None
        self.TimeCreated = v.DateTime(_dt.datetime.fromtimestamp(at))
        self.OpcodeDisplayName = "Info"
        self.TaskDisplayName = "None"
        self.Message = message

    def ps_to_string(self) -> str:
        return self.TYPE_NAME


class GetWinEvent(Cmdlet):
    """implements F-PS-17, F-SSO-25: the node's Application log, newest first; no match is NoMatchingEventsFound."""

    SIGNATURE = CommandSignature(
        "Get-WinEvent",
        (
            parameter("LogName", "string[]", position=0, sets=["GetLogSet"]),
            parameter("ProviderName", "string[]", mandatory=True, position=0, sets=["GetProviderSet"]),
            parameter("FilterHashtable", "hashtable[]", mandatory=True, position=0, sets=["HashQuerySet"]),
            parameter("MaxEvents", "long"),
            parameter("ComputerName", "string", aliases=["Cn"]),
            parameter("Oldest", "switch"),
            parameter("Force", "switch"),
        ),
        "GetLogSet",
        "Microsoft.PowerShell.Commands.GetWinEventCommand",
    )

    def end(self) -> None:
        from simulator.world.machine import NodeMachine

        machine = self.machine
        assert isinstance(machine, NodeMachine)
        if self.has("ComputerName"):
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    "The simulated node models Get-WinEvent on the local computer only.",
                    "SimulatorNotModelled",
                    "NotImplemented",
                )
            )
        matches = [e for e in machine.node.events if self._matches(e)]
        matches.sort(key=lambda e: e.sequence, reverse=not self.flag("Oldest"))
        limit = self.get("MaxEvents")
        if limit is not None:
            matches = matches[: int(limit)]
        if not matches:
            self.write_error(
                self.error(
                    "System.Exception",
                    "No events were found that match the specified selection criteria.",
                    "NoMatchingEventsFound",
                    "ObjectNotFound",
                )
            )
            return
        for entry in matches:
            self.write_object(
                EventLogRecord(
                    machine.node,
                    entry.sequence,
                    entry.event_id,
                    entry.level,
                    entry.source,
                    entry.message,
                    entry.time_created,
                )
            )

    def _matches(self, entry: object) -> bool:
        from simulator.world.model import EventEntry

        assert isinstance(entry, EventEntry)
        if self.parameter_set == "GetProviderSet":
            return any(key(to_string(p)) == key(entry.source) for p in _list(self.get("ProviderName")))
        if self.parameter_set == "GetLogSet":
            logs = _list(self.get("LogName"))
            return not logs or any(key(to_string(n)) == "APPLICATION" for n in logs)
        for table in _list(self.get("FilterHashtable")):
            if isinstance(table, v.Hashtable) and _filter_matches(table, entry):
                return True
        return False


def _list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _filter_matches(table: v.Hashtable, entry: object) -> bool:
    from simulator.world.model import EventEntry

    assert isinstance(entry, EventEntry)
    for name, wanted in table.items():
        field = to_string(name).lower()
        values = _list(wanted)
        if field == "logname" and not any(key(to_string(x)) == "APPLICATION" for x in values):
            return False
        if field == "providername" and not any(key(to_string(x)) == key(entry.source) for x in values):
            return False
        if field == "id" and entry.event_id not in {int(x) for x in values}:  # type: ignore[call-overload]
            return False
        if field == "level" and LEVELS.get(entry.level, 4) not in {int(x) for x in values}:  # type: ignore[call-overload]
            return False
        if field == "starttime" and _moment(wanted) > _dt.datetime.fromtimestamp(entry.time_created):
            return False
        if field == "endtime" and _moment(wanted) < _dt.datetime.fromtimestamp(entry.time_created):
            return False
    return True


def _moment(value: object) -> _dt.datetime:
    if isinstance(value, v.DateTime):
        return value.moment
    raise DotNetError(NetException("System.InvalidCastException", f"Cannot convert '{to_string(value)}' to DateTime."))


surface.command(GetWinEvent)


def tracking_id() -> str:
    return "{" + str(uuid.uuid4()).upper() + "}"
