"""Windows features on a simulated node: the ServerManager module, and which features bring which modules.

`Get-WindowsFeature` and `Install-WindowsFeature` (WPD ServerManager/*.md, winserver2022-ps) over `Node.features`
(installed names) and `Node.features_pending` (installed, waiting for a restart). Install-WindowsFeature "requires
elevation" and "does not install management tools for the features by default" (F-SVC-04): with
`-IncludeManagementTools` a feature brings its tools; a sub-feature brings its parents. The result is a
FeatureOperationResult (Success, RestartNeeded, ExitCode, FeatureResult: F-SVC-04, public code reads `.Success`
and `.RestartNeeded -eq 'Yes'`). A feature that needs a restart is InstallPending until the node restarts
(F-SVC-07), and only then are its modules there.

The catalogue below holds the features this project installs and their neighbours in the Server Manager tree
(names, display names and parents as `Get-WindowsFeature` lists them on Windows Server 2019/2022; which tools
`-IncludeManagementTools` adds, and that Failover Clustering needs no restart, are assumed: probe P-20).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import ClassVar

from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.types import to_string
from simulator.world import surface
from simulator.world.machine import NodeMachine
from simulator.world.model import Node, World, key

MODULE = "ServerManager"


@dataclass(frozen=True)
class FeatureInfo:
    name: str
    display_name: str
    feature_type: str = "Feature"  # "Role" | "Role Service" | "Feature"
    parent: str = ""
    tools: tuple[str, ...] = ()  # what -IncludeManagementTools adds (assumed)
    restart: bool = False  # installing it needs a restart (assumed per feature)


CATALOGUE: dict[str, FeatureInfo] = {
    key(f.name): f
    for f in (
        FeatureInfo(
            "Failover-Clustering",
            "Failover Clustering",
            tools=("RSAT-Clustering-Mgmt", "RSAT-Clustering-PowerShell"),
        ),
        FeatureInfo("RSAT", "Remote Server Administration Tools"),
        FeatureInfo("RSAT-Feature-Tools", "Feature Administration Tools", parent="RSAT"),
        FeatureInfo("RSAT-Clustering", "Failover Clustering Tools", parent="RSAT-Feature-Tools"),
        FeatureInfo("RSAT-Clustering-Mgmt", "Failover Cluster Management Tools", parent="RSAT-Clustering"),
        FeatureInfo(
            "RSAT-Clustering-PowerShell", "Failover Cluster Module for Windows PowerShell", parent="RSAT-Clustering"
        ),
        FeatureInfo("RSAT-Clustering-AutomationServer", "Failover Cluster Automation Server", parent="RSAT-Clustering"),
        FeatureInfo("RSAT-Clustering-CmdInterface", "Failover Cluster Command Interface", parent="RSAT-Clustering"),
        FeatureInfo("RSAT-Role-Tools", "Role Administration Tools", parent="RSAT"),
        FeatureInfo("RSAT-AD-Tools", "AD DS and AD LDS Tools", parent="RSAT-Role-Tools"),
        FeatureInfo("RSAT-AD-PowerShell", "Active Directory module for Windows PowerShell", parent="RSAT-AD-Tools"),
        FeatureInfo("Hyper-V", "Hyper-V", feature_type="Role", tools=("RSAT-Hyper-V-Tools",), restart=True),
        # The lab's DC (simulator/world/surface/ad.py): the role's binaries need no restart; the promotion does.
        FeatureInfo(
            "AD-Domain-Services",
            "Active Directory Domain Services",
            feature_type="Role",
            tools=("RSAT-AD-PowerShell", "RSAT-ADDS-Tools"),
        ),
        FeatureInfo("DNS", "DNS Server", feature_type="Role", tools=("RSAT-DNS-Server",)),
        FeatureInfo("RSAT-ADDS", "AD DS Tools", parent="RSAT-AD-Tools"),
        FeatureInfo("RSAT-ADDS-Tools", "AD DS Snap-Ins and Command-Line Tools", parent="RSAT-ADDS"),
        FeatureInfo("RSAT-DNS-Server", "DNS Server Tools", parent="RSAT-Role-Tools"),
        FeatureInfo("RSAT-Hyper-V-Tools", "Hyper-V Management Tools", parent="RSAT-Role-Tools"),
    )
}

# Which feature brings which PowerShell module (the module exists where the feature is installed and, if it
# needed a restart, the node has restarted). ServerManager, ScheduledTasks, NetSecurity, CimCmdlets and the
# core modules are part of Windows Server itself.
MODULE_FEATURES = {
    "FailoverClusters": "RSAT-Clustering-PowerShell",
    "ActiveDirectory": "RSAT-AD-PowerShell",
}


def installed(node: Node, name: str) -> bool:
    """The feature is installed and active (not waiting for a restart)."""
    return key(name) in {key(f) for f in node.features}


def pending(node: Node, name: str) -> bool:
    return key(name) in {key(f) for f in node.features_pending}


def install_state(node: Node, name: str) -> str:
    if installed(node, name):
        return "Installed"
    if pending(node, name):
        return "InstallPending"
    return "Available"


def _with_parents(name: str) -> list[str]:
    found = [name]
    info = CATALOGUE.get(key(name))
    while info is not None and info.parent:
        found.append(info.parent)
        info = CATALOGUE.get(key(info.parent))
    return found


def plan(names: list[str], management_tools: bool) -> list[str]:
    """Every feature an installation of `names` installs, in the catalogue's spelling, parents included."""
    wanted: list[str] = []
    for name in names:
        info = CATALOGUE[key(name)]
        for item in [info.name, *(info.tools if management_tools else ())]:
            for each in _with_parents(item):
                spelled = CATALOGUE[key(each)].name
                if spelled not in wanted:
                    wanted.append(spelled)
    return wanted


def _brought_by(feature: str) -> surface.Installed:
    def present(node: Node) -> bool:
        return installed(node, feature)

    return present


for _module, _feature in MODULE_FEATURES.items():
    surface.module(_module, installed=_brought_by(_feature))
surface.module(MODULE, installed=surface.always)


@surface.on_reboot
def _finish_pending(world: World, node: Node) -> None:
    # implements F-SVC-07: a feature waiting for a restart is installed when the node starts again.
    for name in list(node.features_pending):
        if not installed(node, name):
            node.features.append(name)
    node.features_pending.clear()


# --- the objects ------------------------------------------------------------------------------------------


class FeatureObject(v.DotNetObject):
    """Microsoft.Windows.ServerManager.Commands.Feature (Get-WindowsFeature's output; shape assumed, P-20)."""

    TYPE_NAME = "Microsoft.Windows.ServerManager.Commands.Feature"
    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "Name",
        "DisplayName",
        "Description",
        "Installed",
        "InstallState",
        "FeatureType",
        "Path",
        "Depth",
        "DependsOn",
        "Parent",
        "ServerComponentDescriptor",
        "SubFeatures",
        "SystemService",
        "Notification",
        "BestPracticesModelId",
        "EventQuery",
        "PostConfigurationNeeded",
        "AdditionalInfo",
    )

    def __init__(self, node: Node, info: FeatureInfo) -> None:
        chain = list(reversed(_with_parents(info.name)))
        self.Name = info.name
        self.DisplayName = info.display_name
        self.Description = ""
        self.InstallState = install_state(node, info.name)
        self.Installed = self.InstallState == "Installed"
        self.FeatureType = info.feature_type
        self.Path = "\\".join(CATALOGUE[key(n)].display_name for n in chain)
        self.Depth = len(chain)
        self.DependsOn: list[str] = []
        self.Parent = info.parent or None
        self.ServerComponentDescriptor = None
        self.SubFeatures = [f.name for f in CATALOGUE.values() if key(f.parent) == key(info.name)]
        self.SystemService: list[str] = []
        self.Notification: list[object] = []
        self.BestPracticesModelId = None
        self.EventQuery = None
        self.PostConfigurationNeeded = False
        self.AdditionalInfo = None

    def ps_to_string(self) -> str:
        return self.Name


RESTART_STATE = v.EnumType(
    "Microsoft.Windows.ServerManager.Commands.RestartState", (("No", 0), ("Yes", 1), ("Maybe", 2))
)
EXIT_CODE = v.EnumType(
    "Microsoft.Windows.ServerManager.Commands.FeatureOperationExitCode",
    (("Success", 0), ("Failed", 1), ("NoChangeNeeded", 1003), ("SuccessRestartRequired", 3010)),
)


class FeatureResultObject(v.DotNetObject):
    TYPE_NAME = "Microsoft.Windows.ServerManager.Commands.FeatureResult"
    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "DisplayName",
        "Id",
        "Message",
        "Name",
        "RestartNeeded",
        "SkipReason",
        "Success",
    )

    def __init__(self, info: FeatureInfo, index: int) -> None:
        self.DisplayName = info.display_name
        self.Id = index
        self.Message = ""
        self.Name = info.name
        self.RestartNeeded = info.restart
        self.SkipReason = "NotSkipped"
        self.Success = True

    def ps_to_string(self) -> str:
        return self.DisplayName


class FeatureOperationResult(v.DotNetObject):
    TYPE_NAME = "Microsoft.Windows.ServerManager.Commands.FeatureOperationResult"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Success", "RestartNeeded", "FeatureResult", "ExitCode")

    def __init__(self, results: list[FeatureResultObject]) -> None:
        restart = any(r.RestartNeeded for r in results)
        self.Success = True
        self.RestartNeeded = v.EnumValue(RESTART_STATE, 1 if restart else 0)
        self.FeatureResult = results
        code = "SuccessRestartRequired" if restart else ("Success" if results else "NoChangeNeeded")
        self.ExitCode = v.EnumValue(EXIT_CODE, EXIT_CODE.by_name(code) or 0)


# --- the cmdlets -----------------------------------------------------------------------------------------


def _names(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item.Name if isinstance(item, FeatureObject) else to_string(item) for item in items if item is not None]


class _FeatureCmdlet(Cmdlet):
    @property
    def node(self) -> Node:
        machine = self.machine
        assert isinstance(machine, NodeMachine)
        return machine.node

    def refuse_remote(self) -> None:
        for name in (
            "ComputerName",
            "Credential",
            "Vhd",
            "ConfigurationFilePath",
            "Source",
            "IncludeAllSubFeature",
            "Restart",
        ):
            if self.has(name):
                self.throw_terminating_error(
                    self.error(
                        "System.Management.Automation.RuntimeException",
                        f"The simulated node does not model {self.call.signature.name} -{name}.",
                        "SimulatorNotModelled",
                        "NotImplemented",
                    )
                )


class GetWindowsFeature(_FeatureCmdlet):
    SIGNATURE = CommandSignature(
        "Get-WindowsFeature",
        (
            parameter("Name", "string[]", position=0, pipeline=True),
            parameter("Vhd", "string"),
            parameter("ComputerName", "string", aliases=["Cn"]),
            parameter("Credential", "System.Management.Automation.PSCredential"),
            parameter("LogPath", "string"),
        ),
        qualifier="Microsoft.Windows.ServerManager.Commands.GetWindowsFeatureCommand",
    )

    def process(self) -> None:
        self.refuse_remote()
        patterns = [n.lower() for n in _names(self.get("Name"))] if self.has("Name") else ["*"]
        for info in CATALOGUE.values():
            # An unknown name matches nothing and writes nothing (assumed, as Get-WindowsFeature -Name AD* does).
            if any(fnmatch.fnmatchcase(info.name.lower(), p) for p in patterns):
                self.write_object(FeatureObject(self.node, info))


class InstallWindowsFeature(_FeatureCmdlet):
    SIGNATURE = CommandSignature(
        "Install-WindowsFeature",
        (
            parameter(
                "Name",
                "object[]",  # Feature[]: a name or a Feature object; a simplification of the Feature conversion
                mandatory=True,
                position=0,
                pipeline=True,
                sets=["ComponentNamesAndRunningComputer", "ComponentNamesAndVhdPath"],
            ),
            parameter(
                "IncludeAllSubFeature", "switch", sets=["ComponentNamesAndRunningComputer", "ComponentNamesAndVhdPath"]
            ),
            parameter(
                "IncludeManagementTools",
                "switch",
                sets=["ComponentNamesAndRunningComputer", "ComponentNamesAndVhdPath"],
            ),
            parameter("Restart", "switch", sets=["ComponentNamesAndRunningComputer", "ConfigurationFile"]),
            parameter("Vhd", "string", mandatory=True, sets=["ComponentNamesAndVhdPath"]),
            parameter("ConfigurationFilePath", "string", mandatory=True, sets=["ConfigurationFile"]),
            parameter("Source", "string[]"),
            parameter("ComputerName", "string", aliases=["Cn"]),
            parameter("Credential", "System.Management.Automation.PSCredential"),
            parameter("LogPath", "string"),
        ),
        default_set="ComponentNamesAndRunningComputer",
        qualifier="Microsoft.Windows.ServerManager.Commands.AddWindowsFeatureCommand",
        supports_should_process=True,
    )

    def begin(self) -> None:
        self._names: list[str] = []

    def process(self) -> None:
        self.refuse_remote()
        self._names += _names(self.get("Name"))

    def end(self) -> None:
        machine = self.machine
        if not machine.identity().is_admin:
            # implements F-SVC-04: "This cmdlet requires elevation". Win32 740's text; the record is assumed.
            self.throw_terminating_error(
                self.error(
                    "System.UnauthorizedAccessException",
                    "The requested operation requires elevation.",
                    "CmdletRequiresElevation",
                    "PermissionDenied",
                )
            )
        for name in self._names:
            if key(name) not in CATALOGUE:
                # F-SVC-04: the text public scripts quote; the error record is assumed.
                self.throw_terminating_error(
                    self.error(
                        "System.ArgumentException",
                        f"ArgumentNotValid: The role, role service, or feature name is not valid: '{name}'. The name "
                        "was not found.",
                        "NameDoesNotExist",
                        "InvalidArgument",
                        target=name,
                    )
                )
        node = self.node
        to_install = [
            n
            for n in plan(self._names, bool(self.flag("IncludeManagementTools")))
            if not installed(node, n) and not pending(node, n)
        ]
        if not self.should_process(", ".join(to_install) or "none", "Install-WindowsFeature"):
            return
        results = [FeatureResultObject(CATALOGUE[key(n)], i + 1) for i, n in enumerate(to_install)]
        for result in results:
            if result.RestartNeeded:
                node.features_pending.append(result.Name)
            else:
                node.features.append(result.Name)
        if any(r.RestartNeeded for r in results):
            self.write_warning(
                "You must restart this server to finish the installation process."  # assumed text (F-SVC-07)
            )
        self.write_object(FeatureOperationResult(results))


surface.command(GetWindowsFeature, module=MODULE)
surface.command(InstallWindowsFeature, module=MODULE)
