"""MsDtc: the DTC network settings of a clustered DTC instance (issue 12, finding 12).

`-DtcName` names a DTC instance; a clustered instance is the Distributed Transaction Coordinator resource, and
it is reached on the node that owns that resource (F-DTC-01: Microsoft's walkthrough passes the resource's
name and sends the cmdlet to the owner with `-CimSession (Get-ClusterResource $DtcName).OwnerNode.Name`).
`Set-DtcNetworkSetting` "also restarts the DTC instance" (F-DTC-02): the clustered resource is cycled.
The settings are kept per resource in `Cluster.dtc_settings` and travel with the resource when it fails over.
The node's own (local) DTC instance is not modelled: asking for it fails loudly.

Signatures: MicrosoftDocs/windows-powershell-docs `docset/winserver2022-ps/MsDtc/Get-DtcNetworkSetting.md`
and `Set-DtcNetworkSetting.md` (f113d6bd): parameter names, types, sets and pipeline binding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, ParameterSpec, SetMembership
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.types import to_string
from simulator.shell.errors import PowerShellError
from simulator.world import surface, windows
from simulator.world.model import Cluster, Resource, key

if TYPE_CHECKING:
    from simulator.world.machine import NodeMachine

MODULE = "MsDtc"
DTC_TYPE = "Distributed Transaction Coordinator"
SETTINGS = (
    "AuthenticationLevel",
    "InboundTransactionsEnabled",
    "LUTransactionsEnabled",
    "OutboundTransactionsEnabled",
    "RemoteAdministrationAccessEnabled",
    "RemoteClientAccessEnabled",
    "XATransactionsEnabled",
)
# A new clustered DTC instance's settings: network DTC access off and mutual authentication, as on a fresh
# Windows Server (assumed, F-DTC-05).
DEFAULTS: dict[str, str | bool] = {
    "AuthenticationLevel": "Mutual",
    "InboundTransactionsEnabled": False,
    "LUTransactionsEnabled": True,
    "OutboundTransactionsEnabled": False,
    "RemoteAdministrationAccessEnabled": False,
    "RemoteClientAccessEnabled": False,
    "XATransactionsEnabled": False,
}

surface.module(MODULE, installed=surface.always)  # an inbox module of Windows Server 2012 and later


class DtcNetworkSettings(v.DotNetObject):
    """The settings object; its properties are those the documented example prints."""

    TYPE_NAME = "Microsoft.Management.Infrastructure.CimInstance#ROOT/Microsoft/Windows/Msdtc/DtcNetworkSettings"
    BASE_TYPES = ("Microsoft.Management.Infrastructure.CimInstance", "System.Object")
    PROPERTIES = (*SETTINGS, "PSComputerName")

    def __init__(self, settings: dict[str, str | bool], computer: str) -> None:
        self.values = dict(settings)
        self.computer = computer

    def ps_get(self, name: str) -> object:
        return self.computer if name == "PSComputerName" else self.values[name]


def _spec(
    name: str,
    type_name: str,
    *sets: str,
    pipe: bool = False,
    by_name: bool = False,
    mandatory: bool = False,
    choices: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
) -> ParameterSpec:
    memberships = tuple(SetMembership(s, mandatory, None, pipe, by_name) for s in sets) or (
        SetMembership("__AllParameterSets", mandatory, None, pipe, by_name),
    )
    return ParameterSpec(name, type_name, memberships, aliases, choices)


COMMON = (
    _spec("DtcName", "string", pipe=True, by_name=True),
    _spec("CimSession", "Microsoft.Management.Infrastructure.CimSession[]", aliases=("Session",)),
    _spec("ThrottleLimit", "int"),
    _spec("AsJob", "switch"),
)


class DtcCmdlet(Cmdlet):
    MODELLED: ClassVar[frozenset[str]] = frozenset()

    @property
    def node_machine(self) -> NodeMachine:
        return self.machine  # type: ignore[return-value]

    def instance(self) -> tuple[Cluster, Resource] | None:
        """The clustered instance -DtcName names, on this node (F-DTC-01), or None after writing the error."""
        unmodelled = sorted(set(self.params) - self.MODELLED)
        name = to_string(self.get("DtcName") or "Local")
        if unmodelled:
            what = f"-{', -'.join(unmodelled)}"
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    f"The simulated node does not model {self.call.signature.name} with {what}.",
                    "SimulatorCommandNotModelled",
                    "NotImplemented",
                )
            )
        world, node = self.node_machine.world, self.node_machine.node
        cluster = world.cluster
        resource = cluster.resource(name) if cluster is not None else None
        group = cluster.group(resource.group) if cluster is not None and resource is not None else None
        if (
            cluster is None
            or resource is None
            or resource.type != DTC_TYPE
            or group is None
            or key(group.owner_node) != key(node.name)
            or not windows.cluster_node_up(world, node.name)
        ):
            # implements F-DTC-01: the instance is found only on the node that owns the DTC resource (inferred,
            # P-16); the wording is assumed
            self.write_error(
                self.error(
                    "Microsoft.Management.Infrastructure.CimException",
                    f"The DTC instance '{name}' was not found on this computer.",
                    "DtcInstanceNotFound",
                    "ObjectNotFound",
                    name,
                )
            )
            return None
        return cluster, resource

    def local(self) -> bool:
        return key(to_string(self.get("DtcName") or "Local")) == "LOCAL"


class GetDtcNetworkSetting(DtcCmdlet):
    SIGNATURE = CommandSignature("Get-DtcNetworkSetting", COMMON, qualifier="Get-DtcNetworkSetting")
    MODELLED = frozenset({"DtcName"})

    def process(self) -> None:
        if self.local():
            # the node's own DTC instance (the lab's SQL Server): its settings, DEFAULTS until set (F-DTC-05 assumed)
            node = self.node_machine.node
            self.write_object(DtcNetworkSettings({**DEFAULTS, **node.dtc_settings}, node.name))
            return
        found = self.instance()
        if found is None:
            return
        cluster, resource = found
        settings = cluster.dtc_settings.get(key(resource.name), DEFAULTS)
        self.write_object(DtcNetworkSettings(dict(settings), self.node_machine.node.name))


class SetDtcNetworkSetting(DtcCmdlet):
    SIGNATURE = CommandSignature(
        "Set-DtcNetworkSetting",
        (
            *COMMON,
            _spec("InboundTransactionsEnabled", "bool", "NetworkSettings"),
            _spec("OutboundTransactionsEnabled", "bool", "NetworkSettings"),
            _spec("RemoteClientAccessEnabled", "bool", "NetworkSettings"),
            _spec("RemoteAdministrationAccessEnabled", "bool", "NetworkSettings"),
            _spec("XATransactionsEnabled", "bool", "NetworkSettings"),
            _spec("LUTransactionsEnabled", "bool", "NetworkSettings"),
            _spec("AuthenticationLevel", "string", "NetworkSettings", choices=("NoAuth", "Incoming", "Mutual")),
            _spec("DisableNetworkAccess", "switch", "DisableNetwork", mandatory=True),
        ),
        default_set="NetworkSettings",
        qualifier="Set-DtcNetworkSetting",
        supports_should_process=True,
    )
    MODELLED = frozenset({"DtcName", *SETTINGS, "DisableNetworkAccess"})

    def process(self) -> None:
        if self.local():
            self._set_local()
            return
        found = self.instance()
        if found is None:
            return
        cluster, resource = found
        settings = dict(cluster.dtc_settings.get(key(resource.name), DEFAULTS))
        if self.flag("DisableNetworkAccess"):
            settings.update({name: False for name in SETTINGS if name.endswith("Enabled")})
        for name in SETTINGS:
            if self.has(name):
                value = self.get(name)
                settings[name] = to_string(value) if name == "AuthenticationLevel" else bool(value)
        if not self.should_process(resource.name):
            return
        cluster.dtc_settings[key(resource.name)] = settings
        # implements F-DTC-02: "This cmdlet also restarts the DTC instance": the clustered resource is cycled
        if resource.state == "Online":
            world = self.node_machine.world
            windows.take_offline(world, resource)
            try:
                windows.bring_online(world, resource)
            except PowerShellError as refused:
                self.write_error(
                    self.error(
                        "Microsoft.Management.Infrastructure.CimException",
                        refused.message,
                        "DtcRestartFailed",
                        "InvalidOperation",
                        resource.name,
                    )
                )

    def _set_local(self) -> None:
        node = self.node_machine.node
        if not self.machine.identity().is_admin:
            self.write_error(
                self.error(
                    "Microsoft.Management.Infrastructure.CimException",
                    "Access is denied.",
                    "Windows System Error 5",
                    "PermissionDenied",
                )
            )
            return
        settings = {**DEFAULTS, **node.dtc_settings}
        if self.flag("DisableNetworkAccess"):
            settings.update({name: False for name in SETTINGS if name.endswith("Enabled")})
        for name in SETTINGS:
            if self.has(name):
                value = self.get(name)
                settings[name] = to_string(value) if name == "AuthenticationLevel" else bool(value)
        if not self.should_process("Local"):
            return
        node.dtc_settings = settings
        # implements F-DTC-02: "This cmdlet also restarts the DTC instance": the node's MSDTC service restarts
        service = node.service("MSDTC")
        if service is not None and service.state == "Running":
            windows.mark_stopped(service)
            windows.mark_started(service, "scm")


surface.command(GetDtcNetworkSetting, module=MODULE)
surface.command(SetDtcNetworkSetting, module=MODULE)
