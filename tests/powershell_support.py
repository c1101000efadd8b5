"""A machine for testing the PowerShell interpreter on its own: in memory, with test-double cmdlets.

The doubles only answer what a test sets up; they encode no belief about the scripts' logic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from simulator.powershell import catalogue
from simulator.powershell.cmdlets import Cmdlet, CommandDefinition
from simulator.powershell.engine import ProcessResult, run_process
from simulator.powershell.machine import Executable, NativeResult
from simulator.powershell.memory import MemoryMachine
from simulator.powershell.types import PSType
from simulator.powershell.values import DotNetObject


@dataclass
class FakeExecutable:
    name: str
    behaviour: Callable[[list[str], str | None], NativeResult]
    calls: list[list[str]] = field(default_factory=list)

    def run(self, arguments: list[str], stdin: str | None) -> NativeResult:
        self.calls.append(list(arguments))
        return self.behaviour(arguments, stdin)


class TestMachine(MemoryMachine):
    """An in-memory Windows: files, registry, environment, and whatever cmdlets a test registers."""

    __test__ = False  # not a pytest class

    def __init__(self, computer_name: str = "MSSNODE1", modules: Iterable[str] = ("FailoverClusters",)) -> None:
        super().__init__(computer_name)
        self._modules = list(modules)
        self.definitions: list[CommandDefinition] = []
        self.executables: dict[str, Executable] = {}
        self.com_classes: dict[str, Callable[[], DotNetObject]] = {}
        self.assemblies: dict[str, list[PSType]] = {}

    def modules(self) -> Iterable[str]:
        return self._modules

    def commands(self) -> Iterable[CommandDefinition]:
        return self.definitions

    def find_executable(self, name: str) -> Executable | None:
        lower = name.lower()
        return self.executables.get(lower) or self.executables.get(lower.rsplit("\\", 1)[-1])

    def com_class(self, progid: str) -> Callable[[], DotNetObject] | None:
        return self.com_classes.get(progid.lower())

    def load_assembly(self, path: str) -> Iterable[PSType]:
        return self.assemblies.get(path.lower(), [])

    def run(self, script: str, stdin: str = "") -> ProcessResult:
        return run_process(self, script, stdin)


# --- test doubles of FailoverClusters cmdlets, bound by the catalogue's real signatures -------------

FC = catalogue.load("FailoverClusters")
FC_NS = "Microsoft.FailoverClusters.PowerShell"


@dataclass
class FakeCluster:
    """What the doubles return: objects a test builds with `FC.new(...)`."""

    cluster: object | None = None
    nodes: list[object] = field(default_factory=list)
    groups: list[object] = field(default_factory=list)
    resources: list[object] = field(default_factory=list)
    parameters: dict[str, list[object]] = field(default_factory=dict)  # resource name -> ClusterParameter objects
    owners: dict[str, list[object]] = field(default_factory=dict)  # group or resource name -> ClusterNode objects
    dependencies: dict[str, str] = field(default_factory=dict)  # resource name -> expression
    access: list[object] = field(default_factory=list)
    calls: list[tuple[str, dict[str, object]]] = field(default_factory=list)


def _name(item: object) -> str:
    return str(item.ps_get("Name")) if isinstance(item, DotNetObject) else str(item)


def fc_doubles(fake: FakeCluster) -> list[CommandDefinition]:
    """Get-Cluster, Get-ClusterNode, Get-ClusterGroup, Get-ClusterResource, Get-ClusterParameter,
    Get-ClusterOwnerNode, Get-ClusterResourceDependency, Get-ClusterAccess, Get-ClusterQuorum."""

    class Double(Cmdlet):
        def record_call(self) -> None:
            fake.calls.append((self.call.signature.name, dict(self.params)))

    class GetCluster(Double):
        def process(self) -> None:
            self.record_call()
            if fake.cluster is None:  # a terminating error, as Windows raises it (docs/windows-facts.md F-CLU-01)
                self.throw_terminating_error(
                    self.error(
                        f"{FC_NS}.ClusterCmdletException",
                        "The cluster service is not running.",
                        "ClusterEndpointNotRegistered",
                        "ConnectionError",
                    )
                )
            self.write_object(fake.cluster)

    def by_name(items: list[object], names: object) -> list[object]:
        if not names:
            return list(items)
        wanted = {str(n).lower() for n in names}  # type: ignore[attr-defined]
        return [item for item in items if _name(item).lower() in wanted]

    class GetClusterNode(Double):
        def process(self) -> None:
            self.record_call()
            for node in by_name(fake.nodes, self.get("Name")):
                self.write_object(node)

    class GetClusterGroup(Double):
        def process(self) -> None:
            self.record_call()
            found = by_name(fake.groups, self.get("Name"))
            for name in self.get("Name") or []:
                if not any(_name(g).lower() == str(name).lower() for g in found):
                    self.write_error(
                        self.error(
                            "System.Management.Automation.ItemNotFoundException",
                            f"The cluster group '{name}' does not exist.",
                            "ClusterGroupNotFound",
                            "ObjectNotFound",
                            target=str(name),
                        )
                    )
            for group in found:
                self.write_object(group)

    class GetClusterResource(Double):
        def process(self) -> None:
            self.record_call()
            found = by_name(fake.resources, self.get("Name"))
            for name in self.get("Name") or []:
                if not any(_name(r).lower() == str(name).lower() for r in found):
                    self.write_error(
                        self.error(
                            "System.Management.Automation.ItemNotFoundException",
                            f"The cluster resource '{name}' does not exist.",
                            "ClusterResourceNotFound",
                            "ObjectNotFound",
                            target=str(name),
                        )
                    )
            for resource in found:
                self.write_object(resource)

    class GetClusterParameter(Double):
        def process(self) -> None:
            self.record_call()
            owner = self.get("InputObject")
            names = self.get("Name")
            for parameter in fake.parameters.get(_name(owner), []):
                if names and _name(parameter).lower() not in {str(n).lower() for n in names}:
                    continue
                self.write_object(parameter)

    class GetClusterOwnerNode(Double):
        def process(self) -> None:
            self.record_call()
            key = str(self.get("Group") or self.get("Resource")).lower()
            owners = next((nodes for name, nodes in fake.owners.items() if name.lower() == key), [])
            self.write_object(FC.new(f"{FC_NS}.ClusterOwnerNodeList", OwnerNodes=list(owners)))

    class GetClusterResourceDependency(Double):
        def process(self) -> None:
            self.record_call()
            for name in self.get("Resource") or []:
                resource = next(r for r in fake.resources if _name(r).lower() == str(name).lower())
                self.write_object(
                    FC.new(
                        f"{FC_NS}.ClusterResourceDependency",
                        Resource=resource,
                        DependencyExpression=fake.dependencies.get(str(name), ""),
                    )
                )

    class GetClusterAccess(Double):
        def process(self) -> None:
            self.record_call()
            for rule in fake.access:
                self.write_object(rule)

    class GetClusterQuorum(Double):
        def process(self) -> None:
            self.record_call()
            witness = next((r for r in fake.resources if _name(r).lower() == "cloud witness"), None)
            self.write_object(
                FC.new(
                    f"{FC_NS}.ClusterQuorumSettings", Cluster=fake.cluster, QuorumResource=witness, QuorumType="Majority"
                )
            )

    implementations = {
        "Get-Cluster": GetCluster,
        "Get-ClusterNode": GetClusterNode,
        "Get-ClusterGroup": GetClusterGroup,
        "Get-ClusterResource": GetClusterResource,
        "Get-ClusterParameter": GetClusterParameter,
        "Get-ClusterOwnerNode": GetClusterOwnerNode,
        "Get-ClusterResourceDependency": GetClusterResourceDependency,
        "Get-ClusterAccess": GetClusterAccess,
        "Get-ClusterQuorum": GetClusterQuorum,
    }
    return [FC.definition(name, implementation) for name, implementation in implementations.items()]


def fc_node(name: str, state: str = "Up") -> object:
    return FC.new(f"{FC_NS}.ClusterNode", Name=name, State=state)


def fc_group(name: str, owner: object, state: str = "Online") -> object:
    return FC.new(f"{FC_NS}.ClusterGroup", Name=name, OwnerNode=owner, State=state)


def fc_resource(name: str, kind: str, group: object, state: str = "Online", core: bool = False) -> object:
    resource_type = FC.new(f"{FC_NS}.ClusterResourceType", Name=kind, DisplayName=kind)
    return FC.new(
        f"{FC_NS}.ClusterResource",
        Name=name,
        ResourceType=resource_type,
        OwnerGroup=group,
        OwnerNode=group.ps_get("OwnerNode"),
        State=state,
        IsCoreResource=core,
    )  # type: ignore[attr-defined]


def fc_parameter(owner: object, name: str, value: object) -> object:
    return FC.new(f"{FC_NS}.ClusterParameter", ClusterObject=owner, Name=name, Value=value)
