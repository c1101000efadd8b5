"""Windows services as a script reaches them: Get/Set/Start/Stop/Restart-Service, Win32_Service, Get-Process.

The Service Control Manager's view of a node is `Node.services` (simulator/world/model.py). Starting or
stopping ENTSSO is not a plain state change: ENTSSO decides at start whether it is the master secret
server and loads the secret (`windows.start_entsso`, F-SSO-19/21), so every start and stop of ENTSSO goes
through `windows.start_entsso` / `windows.stop_entsso`, the same functions the cluster's Generic Service
resource calls.

Signatures are Windows PowerShell 5.1's (PSD `reference/5.1/Microsoft.PowerShell.Management/Get-Service.md`,
`Set-Service.md`, `Start-Service.md`, `Stop-Service.md`, `Restart-Service.md`, `Get-Process.md`;
`reference/5.1/CimCmdlets/Get-CimInstance.md`), reduced to the parameter sets a script of ours can reach.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar

from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.errors import ErrorRecord
from simulator.powershell.types import ConversionError, enum_convert, to_string
from simulator.shell import PowerShellError
from simulator.world import surface, windows
from simulator.world.model import ENTSSO, Node, Service, World, key

if TYPE_CHECKING:
    from simulator.world.machine import NodeMachine

MANAGEMENT = "Microsoft.PowerShell.Commands"
CIM = "Microsoft.Management.Infrastructure.CimCmdlets"

# implements F-SVC-01: System.ServiceProcess enums (ServiceControllerStatus, ServiceStartMode of .NET 4.x).
SERVICE_STATUS = v.EnumType(
    "System.ServiceProcess.ServiceControllerStatus",
    (
        ("Stopped", 1),
        ("StartPending", 2),
        ("StopPending", 3),
        ("Running", 4),
        ("ContinuePending", 5),
        ("PausePending", 6),
        ("Paused", 7),
    ),
)
START_MODE = v.EnumType(
    "System.ServiceProcess.ServiceStartMode",
    (("Boot", 0), ("System", 1), ("Automatic", 2), ("Manual", 3), ("Disabled", 4)),
)
# Win32_Service.StartMode spells the same modes differently (F-SVC-01): Auto, not Automatic.
WIN32_START_MODE = {"Automatic": "Auto", "Manual": "Manual", "Disabled": "Disabled", "Boot": "Boot", "System": "System"}
SERVICE_START_MODE = {value: name for name, value in WIN32_START_MODE.items()}
# The image each modelled service runs as (Get-Process ProcessName); others run in svchost.
IMAGES = {"ENTSSO": "ENTSSO", "MSDTC": "msdtc", "CLUSSVC": "clussvc"}


def _machine(cmdlet: Cmdlet) -> NodeMachine:
    from simulator.world.machine import NodeMachine  # the surface is imported by machine.py

    machine = cmdlet.machine
    assert isinstance(machine, NodeMachine)
    return machine


# --------------------------------------------------------------------------------------------- objects


class ServiceController(v.DotNetObject):
    """System.ServiceProcess.ServiceController as Get-Service returns it (5.1 has StartType: F-SVC-02)."""

    TYPE_NAME = "System.ServiceProcess.ServiceController"
    BASE_TYPES = ("System.ComponentModel.Component", "System.MarshalByRefObject", "System.Object")
    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "Name",
        "RequiredServices",
        "CanPauseAndContinue",
        "CanShutdown",
        "CanStop",
        "DisplayName",
        "DependentServices",
        "MachineName",
        "ServiceName",
        "ServicesDependedOn",
        "ServiceHandle",
        "Status",
        "ServiceType",
        "StartType",
        "Site",
        "Container",
    )
    METHODS: ClassVar[tuple[str, ...]] = ("Refresh", "ToString")

    def __init__(self, node: Node, service: Service) -> None:
        self._node, self._service = node, service
        self.Name = self.ServiceName = service.name
        self.DisplayName = service.display_name
        self.RequiredServices: list[object] = []
        self.DependentServices: list[object] = []
        self.ServicesDependedOn: list[object] = []
        self.CanPauseAndContinue = False
        self.CanShutdown = False
        self.MachineName = "."
        self.ServiceHandle = None
        self.ServiceType = "Win32OwnProcess"
        self.Site = None
        self.Container = None

    @property
    def Status(self) -> v.EnumValue:
        return enum_convert(SERVICE_STATUS, self._service.state)

    @property
    def StartType(self) -> v.EnumValue:
        return enum_convert(START_MODE, SERVICE_START_MODE.get(self._service.start_mode, "Manual"))

    @property
    def CanStop(self) -> bool:
        return self._service.state == "Running"

    def Refresh(self) -> None:
        return None

    def ToString(self) -> str:
        return self.Name

    def ps_to_string(self) -> str:
        return "System.ServiceProcess.ServiceController"


class CimInstance(v.DotNetObject):
    """A CIM instance (Get-CimInstance): exactly its class's properties plus the CIM members."""

    TYPE_NAME = "Microsoft.Management.Infrastructure.CimInstance"
    CIM_MEMBERS = ("PSComputerName", "CimClass", "CimInstanceProperties", "CimSystemProperties")

    def __init__(self, class_name: str, properties: dict[str, object]) -> None:
        self.class_name = class_name
        self._values = dict(properties)
        self._values.setdefault("PSComputerName", None)
        self._values.setdefault("CimClass", f"root/cimv2:{class_name}")
        self._values.setdefault("CimInstanceProperties", None)
        self._values.setdefault("CimSystemProperties", None)

    def ps_type_name(self) -> str:
        return f"Microsoft.Management.Infrastructure.CimInstance#root/cimv2/{self.class_name}"

    def ps_base_types(self) -> tuple[str, ...]:
        return ("Microsoft.Management.Infrastructure.CimInstance", "System.Object")

    def ps_property_names(self) -> list[str]:
        return list(self._values)

    def ps_get(self, name: str) -> object:
        return self._values[name]

    def ps_to_string(self) -> str:
        return f'{self.class_name} (Name = "{self._values.get("Name", "")}")'


class ProcessObject(v.DotNetObject):
    """System.Diagnostics.Process as Get-Process returns it (the members scripts read)."""

    TYPE_NAME = "System.Diagnostics.Process"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Id", "ProcessName", "Name", "StartTime", "HasExited", "SessionId")
    METHODS: ClassVar[tuple[str, ...]] = ("Refresh", "ToString")

    def __init__(self, pid: int, name: str, started: float) -> None:
        self.Id = pid
        self.ProcessName = self.Name = name
        self.StartTime = v.DateTime(_dt.datetime.fromtimestamp(started))
        self.HasExited = False
        self.SessionId = 0  # services run in session 0

    def Refresh(self) -> None:
        return None

    def ToString(self) -> str:
        return f"System.Diagnostics.Process ({self.ProcessName})"

    def ps_to_string(self) -> str:
        return self.ToString()


# --------------------------------------------------------------------------------------------- Win32_Service


def win32_service(node: Node, service: Service) -> dict[str, object]:
    """implements F-SVC-01: the Win32_Service properties of one service (W32 win32-service.md)."""
    running = service.state == "Running"
    return {
        "AcceptPause": False,
        "AcceptStop": running,
        "Caption": service.display_name,
        "CheckPoint": v.UInt32(0),
        "CreationClassName": "Win32_Service",
        "DelayedAutoStart": False,
        "Description": service.display_name,
        "DesktopInteract": False,
        "DisplayName": service.display_name,
        "ErrorControl": "Normal",
        "ExitCode": v.UInt32(0 if running else 1077),
        "InstallDate": None,
        "Name": service.name,
        "PathName": _image_path(service),
        "ProcessId": v.UInt32(service.process_id if running else 0),
        "ServiceSpecificExitCode": v.UInt32(0),
        "ServiceType": "Own Process",
        "Started": running,
        "StartMode": service.start_mode,
        "StartName": service.account,
        "State": service.state,
        "Status": "OK",
        "SystemCreationClassName": "Win32_ComputerSystem",
        "SystemName": node.name,
        "TagId": v.UInt32(0),
        "WaitHint": v.UInt32(0),
    }


def _image_path(service: Service) -> str:
    if key(service.name) == ENTSSO:
        return '"C:\\Program Files\\Common Files\\Enterprise Single Sign-On\\ENTSSO.exe"'
    image = IMAGES.get(key(service.name))
    return f"C:\\Windows\\System32\\{image}.exe" if image else "C:\\Windows\\System32\\svchost.exe -k netsvcs"


# Services that depend on a service (upper-cased name -> dependents' names), as products install them.
DEPENDENTS: dict[str, list[str]] = {}

# Classes other parts of Windows add: name (lower case) -> rows of property dictionaries for a node.
CIM_CLASSES: dict[str, Callable[[World, Node], Iterable[dict[str, object]]]] = {
    "win32_service": lambda _world, node: [win32_service(node, s) for s in node.services.values()],
}


# Classes of other namespaces (a product's WMI provider, e.g. SQL Server's root/Microsoft/SqlServer/...): (namespace,
# class) in lower case -> the instances on a node (objects, so that Invoke-CimMethod can reach their methods).
NAMESPACED_CLASSES: dict[tuple[str, str], Callable[[World, Node], Iterable[v.DotNetObject]]] = {}


def namespaced_class(
    namespace: str, name: str
) -> Callable[[Callable[[World, Node], Iterable[v.DotNetObject]]], object]:
    def register(instances: Callable[[World, Node], Iterable[v.DotNetObject]]) -> object:
        NAMESPACED_CLASSES[(namespace.replace("\\", "/").lower(), name.lower())] = instances
        return instances

    return register


def cim_class(name: str) -> Callable[[Callable[[World, Node], Iterable[dict[str, object]]]], object]:
    """Another surface module's CIM class (e.g. Win32_OperatingSystem): Get-CimInstance -ClassName reaches it."""

    def register(rows: Callable[[World, Node], Iterable[dict[str, object]]]) -> object:
        CIM_CLASSES[name.lower()] = rows
        return rows

    return register


_WQL_TOKEN = re.compile(r"\s*(?:(\()|(\))|('(?:[^']|'')*'|\"[^\"]*\")|(<>|!=|<=|>=|=|<|>)|([A-Za-z_][\w]*)|(-?\d+))")


class WqlError(Exception):
    pass


Predicate = Callable[[dict[str, object]], bool]


def wql_filter(text: str) -> Callable[[dict[str, object]], bool]:
    """A WQL WHERE clause: comparisons of a property with a literal, AND, OR, NOT, parentheses."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _WQL_TOKEN.match(text, position)
        if match is None:
            raise WqlError(text)
        position = match.end()
        kinds = ("(", ")", "str", "op", "name", "num")
        kind = next(k for k, g in zip(kinds, match.groups(), strict=True) if g is not None)
        tokens.append((kind, next(g for g in match.groups() if g is not None)))
    index = 0

    def peek() -> tuple[str, str] | None:
        return tokens[index] if index < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal index
        if index >= len(tokens):
            raise WqlError(text)
        index += 1
        return tokens[index - 1]

    def disjunction() -> Predicate:
        terms = [conjunction()]
        while (t := peek()) is not None and t[0] == "name" and t[1].upper() == "OR":
            take()
            terms.append(conjunction())
        return terms[0] if len(terms) == 1 else (lambda row: any(term(row) for term in terms))

    def conjunction() -> Predicate:
        terms = [negation()]
        while (t := peek()) is not None and t[0] == "name" and t[1].upper() == "AND":
            take()
            terms.append(negation())
        return terms[0] if len(terms) == 1 else (lambda row: all(term(row) for term in terms))

    def negation() -> Predicate:
        t = peek()
        if t is not None and t[0] == "name" and t[1].upper() == "NOT":
            take()
            inner = negation()
            return lambda row: not inner(row)
        if t is not None and t[0] == "(":
            take()
            inner = disjunction()
            if take()[0] != ")":
                raise WqlError(text)
            return inner
        return comparison()

    def comparison() -> Predicate:
        name_kind, name = take()
        op_kind, op = take()
        lit_kind, literal = take()
        if name_kind != "name" or op_kind != "op" or lit_kind not in ("str", "num"):
            raise WqlError(text)
        value: object = literal[1:-1].replace("''", "'") if lit_kind == "str" else int(literal)

        def compare(row: dict[str, object]) -> bool:
            found = next((val for k, val in row.items() if k.lower() == name.lower()), None)
            if found is None:
                return False
            if isinstance(value, str):
                left, right = to_string(found).lower(), value.lower()
                return {"=": left == right, "<>": left != right, "!=": left != right}.get(op, False)
            number = int(found) if isinstance(found, int) else 0
            return {
                "=": number == value,
                "<>": number != value,
                "!=": number != value,
                "<": number < value,  # type: ignore[operator]
                ">": number > value,  # type: ignore[operator]
                "<=": number <= value,  # type: ignore[operator]
                ">=": number >= value,  # type: ignore[operator]
            }[op]

        return compare

    predicate = disjunction()
    if index != len(tokens):
        raise WqlError(text)
    return predicate


# --------------------------------------------------------------------------------------------- cmdlets


def _names(cmdlet: Cmdlet, parameter_name: str = "Name") -> list[str]:
    raw = cmdlet.get(parameter_name)
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    return [to_string(item) for item in items]


class _ServiceCmdlet(Cmdlet):
    """What the *-Service cmdlets share: finding services by name or object, the SCM's errors."""

    def services(self) -> list[Service]:
        node = _machine(self).node
        if self.has("InputObject"):
            objects = self.get("InputObject")
            found = []
            for item in objects if isinstance(objects, list) else [objects]:
                if isinstance(item, ServiceController):
                    service = node.service(item.Name)
                    if service is not None:
                        found.append(service)
            return found
        if self.has("DisplayName") and self.parameter_set == "DisplayName":
            wanted = _names(self, "DisplayName")
            matched = [s for s in node.services.values() if any(_like(s.display_name, w) for w in wanted)]
            for name in wanted:
                if not any(_like(s.display_name, name) for s in node.services.values()) and not _wild(name):
                    # implements F-SVC-03 (ServiceResources.NoServiceFoundForGivenDisplayName)
                    self.write_error(
                        self.error(
                            "Microsoft.PowerShell.Commands.ServiceCommandException",
                            f"Cannot find any service with display name '{name}'.",
                            "NoServiceFoundForGivenDisplayName",
                            "ObjectNotFound",
                            target=name,
                        )
                    )
            return matched
        names = _names(self) or ["*"]
        matched = []
        for name in names:
            hits = [s for s in node.services.values() if _like(s.name, name)]
            if not hits and not _wild(name):
                # implements F-SVC-03 (ServiceResources.NoServiceFoundForGivenName)
                self.write_error(
                    self.error(
                        "Microsoft.PowerShell.Commands.ServiceCommandException",
                        f"Cannot find any service with service name '{name}'.",
                        "NoServiceFoundForGivenName",
                        "ObjectNotFound",
                        target=name,
                    )
                )
            matched.extend(h for h in hits if h not in matched)
        return sorted(matched, key=lambda s: s.name.lower())

    def denied(self, service: Service, verb: str, error_id: str) -> bool:
        """A non-administrator cannot control a service (SCM access denied): writes the error, True."""
        if _machine(self).identity().is_admin:
            return False
        # implements F-SVC-03: "Service '{1} ({0})' cannot be <verb> due to the following error: {2}", where
        # {2} is ServiceController's message for the SCM's access denied (assumed: "Cannot open <name> service
        # on computer '.'.").
        self.write_error(
            self.error(
                "Microsoft.PowerShell.Commands.ServiceCommandException",
                f"Service '{service.display_name} ({service.name})' cannot be {verb} due to the following error: "
                f"Cannot open {service.name} service on computer '.'.",
                error_id,
                "PermissionDenied" if error_id == "CouldNotSetService" else "OpenError",
                target=service.name,
            )
        )
        return True

    def start(self, service: Service) -> bool:
        machine = _machine(self)
        if service.state == "Running" or self.denied(service, "started", "CouldNotStartService"):
            return service.state == "Running"
        try:
            start_service(machine.world, machine.node, service)
        except PowerShellError as failure:
            self.write_error(self._from(failure, service))
            return False
        return True

    def stop(self, service: Service, force: bool) -> bool:
        machine = _machine(self)
        if service.state == "Stopped" or self.denied(service, "stopped", "CouldNotStopService"):
            return service.state == "Stopped"
        stop_service(machine.world, machine.node, service)
        return True

    def _from(self, failure: PowerShellError, service: Service) -> ErrorRecord:
        return self.error(
            "Microsoft.PowerShell.Commands.ServiceCommandException",
            str(failure),
            str(getattr(failure, "error_id", "") or "CouldNotStartService").split(",", 1)[0],
            "OpenError",
            target=service.name,
        )


def _wild(name: str) -> bool:
    return any(ch in name for ch in "*?[")


def _like(value: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def start_service(world: World, node: Node, service: Service) -> None:
    """The SCM starts a service (Start-Service, boot): ENTSSO through its own start rules."""
    if key(service.name) == ENTSSO:
        windows.start_entsso(world, node, "scm")
        return
    if service.start_mode == "Disabled":
        raise _cannot_start(service)
    if key(service.name) == "CLUSSVC":
        windows.start_cluster_service(world, node)  # the node joins its cluster again (F-CLU-26)
        return
    windows.mark_started(service, "scm")


def stop_service(world: World, node: Node, service: Service) -> None:
    if key(service.name) == ENTSSO:
        windows.stop_entsso(world, node)
        return
    if key(service.name) == "CLUSSVC":
        windows.stop_cluster_service(world, node)  # the node leaves the cluster; its roles fail over (F-CLU-26)
        return
    windows.mark_stopped(service)


def _cannot_start(service: Service) -> PowerShellError:
    # implements F-SVC-03: CouldNotStartService, OpenError, with ServiceController's message.
    return PowerShellError(
        f"Service '{service.display_name} ({service.name})' cannot be started due to the following error: "
        f"Cannot start service {service.name} on computer '.'.",
        "OpenError",
        "CouldNotStartService",
    )


class GetService(_ServiceCmdlet):
    SIGNATURE = CommandSignature(
        "Get-Service",
        (
            parameter(
                "Name",
                "string[]",
                position=0,
                pipeline=True,
                by_property_name=True,
                sets=["Default"],
                aliases=["ServiceName"],
            ),
            parameter("ComputerName", "string[]", by_property_name=True, aliases=["Cn"]),
            parameter("DependentServices", "switch", aliases=["DS"]),
            parameter("RequiredServices", "switch", aliases=["SDO", "ServicesDependedOn"]),
            parameter("DisplayName", "string[]", mandatory=True, sets=["DisplayName"]),
            parameter("Include", "string[]"),
            parameter("Exclude", "string[]"),
            parameter("InputObject", "psobject[]", pipeline=True, sets=["InputObject"]),
        ),
        "Default",
        f"{MANAGEMENT}.GetServiceCommand",
    )

    def process(self) -> None:
        node = _machine(self).node
        for service in self.services():
            if self.flag("DependentServices"):
                # -DependentServices "gets only the services that depend on the specified service" (Get-Service,
                # 5.1): the dependencies a product registers (DEPENDENTS); none are modelled otherwise.
                for name in DEPENDENTS.get(key(service.name), []):
                    dependent = node.service(name)
                    if dependent is not None:
                        self.write_object(ServiceController(node, dependent))
                continue
            self.write_object(ServiceController(node, service))


class SetService(_ServiceCmdlet):
    SIGNATURE = CommandSignature(
        "Set-Service",
        (
            parameter(
                "Name",
                "string",
                mandatory=True,
                position=0,
                pipeline=True,
                by_property_name=True,
                sets=["Name"],
                aliases=["ServiceName", "SN"],
            ),
            parameter("ComputerName", "string[]", by_property_name=True, aliases=["cn"]),
            parameter("DisplayName", "string", aliases=["DN"]),
            parameter("Description", "string"),
            # ServiceStartMode in 5.1 (F-SVC-02); converted here so a bad value fails with the enum's words.
            parameter("StartupType", "string", aliases=["StartMode", "SM", "ST"]),
            parameter("Status", "string", validate_set=["Running", "Stopped", "Paused"]),
            parameter("InputObject", "psobject", pipeline=True, sets=["InputObject"]),
            parameter("PassThru", "switch"),
        ),
        "Name",
        f"{MANAGEMENT}.SetServiceCommand",
        supports_should_process=True,
    )

    def process(self) -> None:
        mode: str | None = None
        if self.has("StartupType"):
            try:
                mode = str(enum_convert(START_MODE, self.get("StartupType")))
            except ConversionError as problem:
                # implements F-PS-15: a cmdlet's argument conversion failure (CannotConvertArgumentNoMessage)
                self.throw_terminating_error(
                    self.error(
                        "System.Management.Automation.ParameterBindingException",
                        f"Cannot bind parameter 'StartupType'. {problem.message}",
                        "CannotConvertArgumentNoMessage",
                        "InvalidArgument",
                    )
                )
        machine = _machine(self)
        for service in self.services():
            if not self.should_process(f"{service.display_name} ({service.name})"):
                continue
            if self.denied(service, "configured", "CouldNotSetService"):
                continue
            if mode is not None:
                if mode in ("Boot", "System"):
                    # ChangeServiceConfig refuses boot/system start for a Win32 service (ERROR_INVALID_PARAMETER).
                    self.write_error(
                        self.error(
                            "Microsoft.PowerShell.Commands.ServiceCommandException",
                            f"Service '{service.display_name} ({service.name})' cannot be configured due to the "
                            "following error: The parameter is incorrect",
                            "CouldNotSetService",
                            "PermissionDenied",
                            target=service.name,
                        )
                    )
                    continue
                service.start_mode = WIN32_START_MODE[mode]
            if self.has("DisplayName"):
                service.display_name = to_string(self.get("DisplayName"))
            status = self.get("Status")
            if status == "Running":
                self.start(service)
            elif status == "Stopped":
                self.stop(service, force=False)
            if self.flag("PassThru"):
                self.write_object(ServiceController(machine.node, service))


def _service_action_signature(name: str, extra: tuple[object, ...] = ()) -> CommandSignature:
    return CommandSignature(
        name,
        (
            parameter(
                "Name",
                "string[]",
                mandatory=True,
                position=0,
                pipeline=True,
                by_property_name=True,
                sets=["Default"],
                aliases=["ServiceName"],
            ),
            parameter("DisplayName", "string[]", mandatory=True, sets=["DisplayName"]),
            parameter("InputObject", "psobject[]", mandatory=True, position=0, pipeline=True, sets=["InputObject"]),
            parameter("PassThru", "switch"),
            parameter("Include", "string[]"),
            parameter("Exclude", "string[]"),
            *extra,  # type: ignore[arg-type]
        ),
        "InputObject",
        f"{MANAGEMENT}.{name.replace('-', '')}Command",
        supports_should_process=True,
    )


class StartService(_ServiceCmdlet):
    SIGNATURE = _service_action_signature("Start-Service")

    def process(self) -> None:
        node = _machine(self).node
        for service in self.services():
            wanted = self.should_process(f"{service.display_name} ({service.name})")
            if wanted and self.start(service) and self.flag("PassThru"):
                self.write_object(ServiceController(node, service))


class StopService(_ServiceCmdlet):
    SIGNATURE = _service_action_signature("Stop-Service", (parameter("Force", "switch"), parameter("NoWait", "switch")))

    def process(self) -> None:
        node = _machine(self).node
        for service in self.services():
            wanted = self.should_process(f"{service.display_name} ({service.name})")
            if wanted and self.stop(service, self.flag("Force")) and self.flag("PassThru"):
                self.write_object(ServiceController(node, service))


class RestartService(_ServiceCmdlet):
    SIGNATURE = _service_action_signature("Restart-Service", (parameter("Force", "switch"),))

    def process(self) -> None:
        node = _machine(self).node
        for service in self.services():
            if not self.should_process(f"{service.display_name} ({service.name})"):
                continue
            if self.stop(service, self.flag("Force")) and self.start(service) and self.flag("PassThru"):
                self.write_object(ServiceController(node, service))


class GetCimInstance(Cmdlet):
    SIGNATURE = CommandSignature(
        "Get-CimInstance",
        (
            parameter(
                "ClassName", "string", mandatory=True, position=0, sets=["ClassNameComputerSet", "ClassNameSessionSet"]
            ),
            parameter("Filter", "string", sets=["ClassNameComputerSet", "ClassNameSessionSet"]),
            parameter("Namespace", "string", by_property_name=True),
            parameter(
                "ComputerName",
                "string[]",
                by_property_name=True,
                aliases=["CN", "ServerName"],
                sets=["ClassNameComputerSet", "QueryComputerSet"],
            ),
            parameter("CimSession", "psobject[]", mandatory=True, sets=["ClassNameSessionSet", "QuerySessionSet"]),
            parameter("Query", "string", mandatory=True, sets=["QueryComputerSet", "QuerySessionSet"]),
            parameter("QueryDialect", "string"),
            parameter("Property", "string[]", aliases=["SelectProperties"]),
            parameter("KeyOnly", "switch"),
            parameter("Shallow", "switch"),
            parameter("OperationTimeoutSec", "int", aliases=["OT"]),
        ),
        "ClassNameComputerSet",
        f"{CIM}.GetCimInstanceCommand",
    )

    def end(self) -> None:
        machine = _machine(self)
        namespace = to_string(self.get("Namespace") or "root/cimv2").replace("\\", "/").lower()
        if namespace != "root/cimv2" and not self.has("ComputerName") and not self.has("CimSession"):
            self._namespaced(machine, namespace)
            return
        if self.has("ComputerName") or self.has("CimSession") or namespace != "root/cimv2":
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    "The simulated node models Get-CimInstance on the local computer's root/cimv2 only.",
                    "SimulatorNotModelled",
                    "NotImplemented",
                )
            )
        class_name, where = self._what()
        rows_of = CIM_CLASSES.get(class_name.lower())
        if rows_of is None:
            # assumed (WMI's WBEM_E_INVALID_CLASS as CimCmdlets reports it): "Invalid class ", HRESULT 0x80041010
            self.throw_terminating_error(
                self.error(
                    "Microsoft.Management.Infrastructure.CimException",
                    "Invalid class ",
                    "HRESULT 0x80041010",
                    "MetadataError",
                    target=class_name,
                    hresult=-2147217392,
                )
            )
            return
        try:
            predicate = wql_filter(where) if where else (lambda _row: True)
        except WqlError:
            # assumed: WBEM_E_INVALID_QUERY, "Invalid query ", HRESULT 0x80041017
            self.throw_terminating_error(
                self.error(
                    "Microsoft.Management.Infrastructure.CimException",
                    "Invalid query ",
                    "HRESULT 0x80041017",
                    "InvalidArgument",
                    hresult=-2147217385,
                )
            )
            return
        for row in rows_of(machine.world, machine.node):
            if predicate(row):
                self.write_object(CimInstance(_class_spelling(row, class_name), row))

    def _namespaced(self, machine: NodeMachine, namespace: str) -> None:
        class_name, where = self._what()
        instances = NAMESPACED_CLASSES.get((namespace, class_name.lower()))
        if where or self.has("Query"):
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    "The simulated node models Get-CimInstance -ClassName without -Filter outside root/cimv2.",
                    "SimulatorNotModelled",
                    "NotImplemented",
                )
            )
        known = {ns for ns, _ in NAMESPACED_CLASSES}
        if instances is None:
            found = [objects for (ns, _), objects in NAMESPACED_CLASSES.items() if ns == namespace]
            here = any(list(objects(machine.world, machine.node)) for objects in found)
            if namespace not in known or not here:
                # assumed (WBEM_E_INVALID_NAMESPACE as CimCmdlets reports it): "Invalid namespace ", 0x8004100E
                self.throw_terminating_error(
                    self.error(
                        "Microsoft.Management.Infrastructure.CimException",
                        "Invalid namespace ",
                        "HRESULT 0x8004100e",
                        "MetadataError",
                        target=namespace,
                        hresult=-2147217394,
                    )
                )
            # implements F-SVC-11 in any namespace: an unknown class is "Invalid class "
            self.throw_terminating_error(
                self.error(
                    "Microsoft.Management.Infrastructure.CimException",
                    "Invalid class ",
                    "HRESULT 0x80041010",
                    "MetadataError",
                    target=class_name,
                    hresult=-2147217392,
                )
            )
            return
        for instance in instances(machine.world, machine.node):
            self.write_object(instance)

    def _what(self) -> tuple[str, str]:
        if self.has("Query"):
            query = to_string(self.get("Query"))
            found = re.fullmatch(r"\s*SELECT\s+\*\s+FROM\s+(\w+)(?:\s+WHERE\s+(.*))?\s*", query, re.I | re.S)
            if found is None:
                return "", "("  # an unparseable query fails as an invalid query
            return found.group(1), found.group(2) or ""
        return to_string(self.get("ClassName")), to_string(self.get("Filter") or "")


def _class_spelling(row: dict[str, object], asked: str) -> str:
    spelled = row.get("CreationClassName")
    return spelled if isinstance(spelled, str) else asked


class GetProcess(Cmdlet):
    SIGNATURE = CommandSignature(
        "Get-Process",
        (
            parameter("Name", "string[]", position=0, by_property_name=True, sets=["Name"], aliases=["ProcessName"]),
            parameter("Id", "int[]", mandatory=True, by_property_name=True, sets=["Id"], aliases=["PID"]),
            parameter("InputObject", "psobject[]", mandatory=True, pipeline=True, sets=["InputObject"]),
            parameter("ComputerName", "string[]", by_property_name=True, aliases=["Cn"]),
            parameter("Module", "switch"),
            parameter("FileVersionInfo", "switch", aliases=["FV", "FVI"]),
        ),
        "Name",
        f"{MANAGEMENT}.GetProcessCommand",
    )

    def process(self) -> None:
        machine = _machine(self)
        running = processes(machine.node)
        if self.parameter_set == "Id":
            for pid in self.get("Id") or []:
                found = next((p for p in running if p.Id == int(pid)), None)
                if found is None:
                    # PSSRC ProcessResources.NoProcessFoundForGivenId (the same in 5.1 assumed)
                    self.write_error(
                        self.error(
                            "Microsoft.PowerShell.Commands.ProcessCommandException",
                            f"Cannot find a process with the process identifier {int(pid)}.",
                            "NoProcessFoundForGivenId",
                            "ObjectNotFound",
                            target=int(pid),
                        )
                    )
                    continue
                self.write_object(found)
            return
        names = _names(self) or ["*"]
        for name in names:
            hits = [p for p in running if _like(p.ProcessName, name)]
            if not hits and not _wild(name):
                self.write_error(
                    self.error(
                        "Microsoft.PowerShell.Commands.ProcessCommandException",
                        f'Cannot find a process with the name "{name}". Verify the process name and call the '
                        "cmdlet again.",
                        "NoProcessFoundForGivenName",
                        "ObjectNotFound",
                        target=name,
                    )
                )
            for hit in hits:
                self.write_object(hit)


def processes(node: Node) -> list[ProcessObject]:
    """The node's processes a script can see: one per running service with its own process."""
    found = []
    for service in node.services.values():
        if service.state == "Running" and service.process_id:
            image = IMAGES.get(key(service.name), "svchost")
            found.append(ProcessObject(service.process_id, image, service.started_at))
    return sorted(found, key=lambda p: p.Id)


# Microsoft.PowerShell.Management and CimCmdlets ship with every Windows Server: no module gate.
for _cmdlet in (GetService, SetService, StartService, StopService, RestartService, GetProcess, GetCimInstance):
    surface.command(_cmdlet)
