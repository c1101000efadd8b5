"""FailoverClusters: the cluster cmdlets a node's powershell.exe offers, over the world's cluster.

Every cmdlet binds by the real module's signature (`catalogue.load("FailoverClusters")`, the module's own
declarations) and returns objects with exactly the properties of the real .NET types (F-CLU-27). The rules
of the cluster live here, where Windows enforces them: the cluster service must run on the node
(F-CLU-01), cmdlets that reach other nodes or Active Directory need network credentials in the session
(F-CLU-03/04/05, F-REM-03), the cluster name and role names become computer objects (F-CLU-05/11), possible
owners decide where a role may run (F-CLU-17/18/19), private properties of an online resource wait for the
next online (F-CLU-12), Deny entries in the cluster's access list (F-CLU-10), the quorum (F-CLU-07/08), the
management point (F-CLU-09, F-AZ-02) and the disks (F-CLU-21/23). State changes go through the shared rule
functions of `simulator/world/windows.py` (online/offline, failover, ENTSSO started by its resource).

Where Windows' words are not known, the text is marked assumed, with the ledger entry that says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from simulator.powershell import catalogue
from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.errors import DotNetError, ErrorRecord, NetException
from simulator.powershell.items import FileItem
from simulator.powershell.machine import FileEntry
from simulator.powershell.types import enumerate_items, to_string
from simulator.shell.errors import PowerShellError
from simulator.world import surface, windows
from simulator.world.model import (
    HEARTBEAT_DEFAULTS,
    Cluster,
    ClusterGroup,
    ComputerObject,
    Disk,
    Node,
    Quorum,
    Resource,
    Service,
    World,
    key,
)

if TYPE_CHECKING:
    from simulator.world.machine import NodeMachine

MODULE = "FailoverClusters"
FC = catalogue.load(MODULE)
NS = "Microsoft.FailoverClusters.PowerShell"
EXCEPTION = f"{NS}.ClusterCmdletException"
CLUSTER_GROUP = "Cluster Group"  # assumed (F-CLU-09, P-04)
AVAILABLE_STORAGE = "Available Storage"
WITNESS = "Cloud Witness"  # the witness resource's name is assumed (F-CLU-08, P-03)
FEATURE = "RSAT-Clustering-PowerShell"
CLUSTER_SERVICE = "ClusSvc"
ADMINISTRATORS = "BUILTIN\\Administrators"
ACCESS_CONTROL_TYPE = v.EnumType("System.Security.AccessControl.AccessControlType", (("Allow", 0), ("Deny", 1)))

# The resource types the scripts use (F-CLU-25) with the private properties Get-ClusterParameter lists for
# them and their defaults: IP Address (F-CLU-12), Generic Service (F-CLU-13), network names (F-CLU-09),
# Cloud Witness (F-CLU-07/08), Physical Disk (F-CLU-21). DWORD properties hold ints, the rest strings.
PRIVATE_PROPERTIES: dict[str, dict[str, str | int]] = {
    "IP Address": {
        "Network": "",
        "Address": "",
        "SubnetMask": "",
        "EnableDhcp": 0,
        "OverrideAddressMatch": 0,
        "ProbePort": 0,
    },
    "Network Name": {"Name": "", "DnsName": ""},
    "Distributed Network Name": {"Name": "", "DnsName": ""},
    "Generic Service": {"ServiceName": "", "StartupParameters": "", "UseNetworkName": 0},
    "Distributed Transaction Coordinator": {},
    "Physical Disk": {"DiskIdGuid": "", "DiskIdType": 1, "DiskSignature": 0},
    "Cloud Witness": {"AccountName": "", "EndpointInfo": ""},
}
NETWORK_CLASS = {"IP Address", "Network Name", "Distributed Network Name"}
HEARTBEAT_RANGES = {  # F-CLU-29: the MSCS cluster common property pages (minimum, maximum)
    "SameSubnetDelay": (250, 2000),
    "SameSubnetThreshold": (3, 120),
    "CrossSubnetDelay": (250, 4000),
    "CrossSubnetThreshold": (3, 120),
}


# implements F-CLU-28: the module exists where its feature is installed
def has_module(node: Node) -> bool:
    return key(FEATURE) in {key(feature) for feature in node.features}


surface.module(MODULE, installed=has_module)


# --------------------------------------------------------------------------------------------- objects


class Lazy:
    """A property value made when a script first reads it: the objects link to each other (a resource's
    OwnerGroup, its OwnerNode, their Cluster), and most of those links are never read."""

    def __init__(self, make: Callable[[], object]) -> None:
        self.make = make


class ClusterObject(catalogue.CatalogueObject):
    """A FailoverClusters object bound to the world: the properties of its type, some of them settable."""

    SETTABLE_NAMES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, type_name: str, world: World, values: dict[str, object]) -> None:
        super().__init__(FC.find_type(type_name), values)
        self.world = world

    def ps_get(self, name: str) -> object:
        value = super().ps_get(name)
        if isinstance(value, Lazy):
            value = value.make()
            self._values[name] = value
        return value

    def ps_can_set(self, name: str) -> str | None:
        return next((n for n in self.SETTABLE_NAMES if n.lower() == name.lower()), None)

    def cluster(self) -> Cluster:
        cluster = self.world.cluster
        if cluster is None:
            raise DotNetError(NetException(EXCEPTION, "The cluster service is not running."))
        return cluster


class ClusterView(ClusterObject):
    """Get-Cluster's object. Its common properties are set by assigning them (F-CLU-29):
    `(Get-Cluster).SameSubnetThreshold = 40` takes effect at once."""

    SETTABLE_NAMES = tuple(HEARTBEAT_RANGES)

    def ps_set(self, name: str, value: object) -> None:
        number = _dword(value)
        low, high = HEARTBEAT_RANGES[name]
        if number is None or not low <= number <= high:
            # assumed wording (F-CLU-29): Win32 87 ERROR_INVALID_PARAMETER
            raise DotNetError(NetException(EXCEPTION, "The parameter is incorrect.", hresult=-2147024809))
        self.cluster().common_properties[name] = number
        self.set_value(name, number)


class ResourceView(ClusterObject):
    """A ClusterResource. Assigning Name renames it, as Microsoft's clustered DTC walkthrough does
    (`$resource.Name = $DTCdisk`, SQD create-clustered-dtc..., step 8)."""

    SETTABLE_NAMES = ("Name",)

    def ps_set(self, name: str, value: object) -> None:
        cluster = self.cluster()
        old, new = to_string(self.ps_get("Name")), to_string(value)
        resource = cluster.resource(old)
        if resource is None:
            raise DotNetError(NetException(EXCEPTION, "The cluster resource could not be found."))
        if key(new) != key(old) and cluster.resource(new) is not None:
            # assumed wording: Win32 5010 ERROR_OBJECT_ALREADY_EXISTS
            raise DotNetError(NetException(EXCEPTION, "The specified object already exists."))
        rename_resource(cluster, resource, new)
        self.set_value("Name", new)


def _dword(value: object) -> int | None:
    try:
        return int(to_string(value)) if not isinstance(value, int) else int(value)
    except ValueError:
        return None


def rename_resource(cluster: Cluster, resource: Resource, new: str) -> None:
    old = resource.name
    del cluster.resources[key(old)]
    resource.name = new
    cluster.resources[key(new)] = resource
    for other in cluster.resources.values():
        other.dependencies = [new if key(d) == key(old) else d for d in other.dependencies]
    if key(old) in cluster.dtc_settings:
        cluster.dtc_settings[key(new)] = cluster.dtc_settings.pop(key(old))


def cluster_object(world: World, cluster: Cluster) -> ClusterView:
    values: dict[str, object] = {
        "Name": cluster.name,
        "Domain": world.domain.fqdn,
        "DetectedCloudPlatform": world.cloud_platform if world.cloud_platform in ("Azure", "Mixed") else "None",
    }
    values.update({name: cluster.common_properties.get(name, HEARTBEAT_DEFAULTS[name]) for name in HEARTBEAT_RANGES})
    return ClusterView(f"{NS}.Cluster", world, values)


def node_object(world: World, cluster: Cluster, name: str) -> ClusterObject:
    node = world.node(name)
    spelled = node.name if node is not None else name
    return ClusterObject(
        f"{NS}.ClusterNode",
        world,
        {
            "Name": spelled,
            "NodeName": spelled,
            "Cluster": Lazy(lambda: cluster_object(world, cluster)),
            "State": "Up" if windows.cluster_node_up(world, spelled) else "Down",  # F-CLU-24
            "Type": "Node",
            "Id": str(cluster.nodes.index(spelled) + 1) if spelled in cluster.nodes else None,
        },
    )


def group_state(cluster: Cluster, group: ClusterGroup) -> str:
    return windows.group_state(cluster, group)


def group_object(world: World, cluster: Cluster, group: ClusterGroup) -> ClusterObject:
    core = key(group.name) == key(CLUSTER_GROUP)
    storage = key(group.name) == key(AVAILABLE_STORAGE)
    return ClusterObject(
        f"{NS}.ClusterGroup",
        world,
        {
            "Name": group.name,
            "Cluster": Lazy(lambda: cluster_object(world, cluster)),
            "OwnerNode": Lazy(lambda: node_object(world, cluster, group.owner_node)),
            "State": group_state(cluster, group),
            "IsCoreGroup": core or storage,
            "GroupType": "Cluster" if core else "AvailableStorage" if storage else "Unknown",
        },
    )


def resource_type_object(world: World, cluster: Cluster, name: str) -> ClusterObject:
    return ClusterObject(
        f"{NS}.ClusterResourceType",
        world,
        {"Name": name, "DisplayName": name, "Cluster": Lazy(lambda: cluster_object(world, cluster))},
    )


def resource_object(world: World, cluster: Cluster, resource: Resource) -> ResourceView:
    group = cluster.group(resource.group)
    core = group is not None and key(group.name) == key(CLUSTER_GROUP)
    return ResourceView(
        f"{NS}.ClusterResource",
        world,
        {
            "Name": resource.name,
            "Cluster": Lazy(lambda: cluster_object(world, cluster)),
            "OwnerGroup": Lazy(lambda: group_object(world, cluster, group)) if group is not None else None,
            "OwnerNode": Lazy(lambda: node_object(world, cluster, group.owner_node)) if group is not None else None,
            "ResourceType": Lazy(lambda: resource_type_object(world, cluster, resource.type)),
            "State": resource.state,
            "IsCoreResource": core,  # the core name, core IP and witness (F-CLU-09; inferred)
            "IsNetworkClassResource": resource.type in NETWORK_CLASS,
            "IsStorageClassResource": resource.type == "Physical Disk",
        },
    )


def parameters_of(resource: Resource) -> dict[str, str | int]:
    listed = dict(PRIVATE_PROPERTIES.get(resource.type, {}))
    listed.update(resource.parameters)
    return listed


def parameter_object(world: World, owner: object, name: str, value: object) -> ClusterObject:
    kind = "UInt32" if isinstance(value, int) and not isinstance(value, bool) else "String"
    return ClusterObject(
        f"{NS}.ClusterParameter",
        world,
        {"ClusterObject": owner, "Name": name, "IsReadOnly": False, "ParameterType": kind, "Value": value},
    )


def access_object(world: World, cluster: Cluster, account: str, allow: bool, rights: str) -> ClusterObject:
    return ClusterObject(
        f"{NS}.ClusterAccessRule",
        world,
        {
            "Cluster": Lazy(lambda: cluster_object(world, cluster)),
            "AccessControlType": v.EnumValue(ACCESS_CONTROL_TYPE, 0 if allow else 1),
            "ClusterRights": rights,
            "IdentityReference": account,
        },
    )


def quorum_object(world: World, cluster: Cluster) -> ClusterObject:
    witness = cluster.resource(WITNESS) if cluster.quorum.type == "NodeAndCloudWitness" else None
    return ClusterObject(
        f"{NS}.ClusterQuorumSettings",
        world,
        {
            "Cluster": Lazy(lambda: cluster_object(world, cluster)),
            "QuorumResource": resource_object(world, cluster, witness) if witness is not None else None,
            "QuorumType": "Majority",  # F-CLU-07: every witness kind reports Majority on Windows Server 2016+
        },
    )


def disk_info_object(world: World, cluster: Cluster, disk: Disk) -> ClusterObject:
    return ClusterObject(
        f"{NS}.ClusterDiskInfo",
        world,
        {
            "Cluster": Lazy(lambda: cluster_object(world, cluster)),
            "Id": disk.unique_id,
            "Name": next_disk_name(cluster),
            "Number": disk.number,
            "Size": disk.size,
            "Partitions": v.TypedArray([], f"{NS}.ClusterDiskPartitionInfo"),
        },
    )


def next_disk_name(cluster: Cluster) -> str:
    """The name Add-ClusterDisk gives a disk: "Cluster Disk <n>", the lowest n free (assumed: F-CLU-21, P-06)."""
    number = 1
    while cluster.resource(f"Cluster Disk {number}") is not None:
        number += 1
    return f"Cluster Disk {number}"


def clustered_disk(cluster: Cluster | None, disk: Disk) -> Resource | None:
    if cluster is None:
        return None
    return next(
        (
            r
            for r in cluster.resources.values()
            if r.type == "Physical Disk" and key(str(r.parameters.get("DiskIdGuid", ""))) == key(disk.unique_id)
        ),
        None,
    )


# --------------------------------------------------------------------------------------------- the cmdlet base


class ClusterCmdlet(Cmdlet):
    """What every FailoverClusters cmdlet here shares: the world, the local cluster, errors in the module's form."""

    OPENS_CLUSTER: ClassVar[bool] = True  # New-Cluster and Test-Cluster work without a cluster

    @property
    def node_machine(self) -> NodeMachine:
        return self.machine  # type: ignore[return-value]

    @property
    def world(self) -> World:
        return self.node_machine.world

    @property
    def node(self) -> Node:
        return self.node_machine.node

    def begin(self) -> None:
        named = self.get("Cluster")
        if named and self.OPENS_CLUSTER:
            cluster = self.world.cluster
            local = {key(self.node.name)} | ({key(cluster.name)} if cluster is not None else set())
            if key(str(named)) not in local:
                self.not_modelled(f"-Cluster {named} (a cluster other than this node's)")

    def local_cluster(self) -> Cluster:
        """The cluster this node belongs to, through its cluster service (F-CLU-01)."""
        cluster = self.world.cluster
        if (
            cluster is None
            or not cluster.has_node(self.node.name)
            or not windows.cluster_node_up(self.world, self.node.name)
        ):
            # implements F-CLU-01: a terminating error that -ErrorAction SilentlyContinue does not silence
            self.throw_terminating_error(
                self.cluster_error(
                    "The cluster service is not running.  Make sure that the service is running on all nodes in "
                    "the cluster.\n    There are no more endpoints available from the endpoint mapper",
                    "ClusterEndpointNotRegistered",
                    "ConnectionError",
                    self.node.name,
                )
            )
        assert cluster is not None
        return cluster

    def cluster_error(
        self, message: str, error_id: str, category: str = "InvalidOperation", target: object = None
    ) -> ErrorRecord:
        return self.error(EXCEPTION, message, error_id, category, target)

    def fail(self, message: str, error_id: str, category: str = "InvalidOperation", target: object = None) -> None:
        self.throw_terminating_error(self.cluster_error(message, error_id, category, target))

    def not_modelled(self, what: str) -> None:
        self.throw_terminating_error(
            self.error(
                "System.Management.Automation.RuntimeException",
                f"The simulated node does not model {self.call.signature.name} with {what}.",
                "SimulatorCommandNotModelled",
                "NotImplemented",
            )
        )

    def require_access(self, cluster: Cluster, write: bool) -> None:
        """The cluster's access list: Full to change, Read to look; a Deny entry wins (F-CLU-10)."""
        user = self.node_machine.identity().user
        domain = self.world.domain
        if any(domain.is_member(user, denied) for denied in cluster.denied):
            self.fail_access_denied(user)
        granted = self.node_machine.identity().is_admin or any(
            domain.is_member(user, account) and (rights == "Full" or not write)
            for account, rights in cluster.access.items()
        )
        if not granted:
            self.fail_access_denied(user)

    def fail_access_denied(self, user: str) -> None:
        # assumed wording: Win32 5 ERROR_ACCESS_DENIED, with the account named
        self.fail(
            f"You do not have administrative privileges on the cluster. Contact your network administrator "
            f"to request access.\n    Access is denied ({user}).",
            "ClusterAccessDenied",
            "PermissionDenied",
        )

    def network_identity(self, what: str) -> str:
        """The account that reaches other nodes and AD from here: the session's own, only if it holds network
        credentials (CredSSP, or a scheduled task with a stored password): F-CLU-03, F-REM-03."""
        identity = self.node_machine.identity()
        if not identity.network_credentials:
            # assumed wording (F-CLU-03/04/05): the second hop arrives as an anonymous logon and is refused
            self.throw_terminating_error(
                self.error(
                    "System.UnauthorizedAccessException",
                    f"{what}\n    Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))",
                    "UnauthorizedAccess",
                    "PermissionDenied",
                    hresult=-2147024891,
                )
            )
        return identity.user

    def group_named(self, cluster: Cluster, name: str, terminating: bool = True) -> ClusterGroup | None:
        group = cluster.group(name)
        if group is None:
            # assumed: the cmdlet's words around Win32 5013 ERROR_GROUP_NOT_FOUND (F-CLU-20, P-02)
            record = self.cluster_error(
                f"The cluster group '{name}' could not be found.\n    The cluster group could not be found.",
                "ClusterGroupNotFound",
                "ObjectNotFound",
                name,
            )
            if terminating:
                self.throw_terminating_error(record)
            self.write_error(record)
        return group

    def resource_named(self, cluster: Cluster, name: str, terminating: bool = True) -> Resource | None:
        resource = cluster.resource(name)
        if resource is None:
            # assumed: the cmdlet's words around Win32 5007 ERROR_RESOURCE_NOT_FOUND (F-CLU-20, P-02)
            record = self.cluster_error(
                f"The cluster resource '{name}' could not be found.\n    The cluster resource could not be found.",
                "ClusterResourceNotFound",
                "ObjectNotFound",
                name,
            )
            if terminating:
                self.throw_terminating_error(record)
            self.write_error(record)
        return resource

    def member(self, cluster: Cluster, name: str) -> str:
        found = next((n for n in cluster.nodes if key(n) == key(name)), None)
        if found is None:
            # assumed wording: Win32 5042 ERROR_CLUSTER_NODE_NOT_FOUND
            self.fail(
                f"The node '{name}' is not a member of cluster '{cluster.name}'.\n    The cluster node was not found.",
                "ClusterNodeNotFound",
                "ObjectNotFound",
                name,
            )
        assert found is not None
        return found

    def rule(self, error: PowerShellError, target: object = None) -> None:
        """A refusal from the shared rules (windows.py), as this cmdlet's terminating error."""
        self.fail(error.message, error.error_id.split(",", 1)[0] or "ClusterCmdletException", error.category, target)

    def input_names(self, parameter: str, kind: str) -> list[str]:
        """Names from -<parameter> or from the pipeline object of type `kind` (-InputObject)."""
        given = self.get(parameter)
        if given:
            items = enumerate_items(given)
            return [to_string(item) for item in (items if items is not None else [given])]
        piped = self.get("InputObject")
        if piped is None:
            return []
        if isinstance(piped, ClusterObject):
            type_name = piped.ps_type_name()
            if type_name == f"{NS}.{kind}":
                return [to_string(piped.ps_get("Name"))]
            if kind == "ClusterResource" and type_name == f"{NS}.ClusterGroup":
                return [r.name for r in self.local_cluster().group_resources(to_string(piped.ps_get("Name")))]
        self.not_modelled(f"an -InputObject of type {getattr(piped, 'ps_type_name', lambda: type(piped).__name__)()}")
        return []


# --------------------------------------------------------------------------------------------- reading


class GetCluster(ClusterCmdlet):
    def process(self) -> None:
        if self.get("Name") or self.get("Domain"):
            names = {key(self.node.name)} | ({key(self.world.cluster.name)} if self.world.cluster else set())
            if key(str(self.get("Name"))) not in names or self.get("Domain"):
                self.not_modelled("-Name/-Domain of another cluster")
        cluster = self.local_cluster()
        self.require_access(cluster, write=False)
        self.write_object(cluster_object(self.world, cluster))


class GetClusterNode(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=False)
        wanted = self.input_names("Name", "ClusterNode")
        for name in wanted or cluster.nodes:
            if wanted and not cluster.has_node(name):
                self.write_error(
                    self.cluster_error(
                        f"The node '{name}' was not found.\n    The cluster node was not found.",
                        "ClusterNodeNotFound",
                        "ObjectNotFound",
                        name,
                    )
                )  # assumed
                continue
            self.write_object(node_object(self.world, cluster, self.member(cluster, name)))


class GetClusterGroup(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=False)
        piped = self.get("InputObject")
        if isinstance(piped, ClusterObject) and piped.ps_type_name() == f"{NS}.ClusterNode":
            owner = to_string(piped.ps_get("Name"))
            groups = [g for g in cluster.groups.values() if key(g.owner_node) == key(owner)]
        elif self.get("Name"):
            groups = [
                g
                for name in self.input_names("Name", "ClusterGroup")
                if (g := self.group_named(cluster, name, terminating=False))
            ]
        else:
            groups = list(cluster.groups.values())
        for group in groups:
            self.write_object(group_object(self.world, cluster, group))


class GetClusterResource(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=False)
        piped = self.get("InputObject")
        names = [to_string(n) for n in enumerate_items(self.get("Name")) or []] if self.get("Name") else []
        if isinstance(piped, ClusterObject) and piped.ps_type_name() == f"{NS}.ClusterGroup":
            pool = cluster.group_resources(to_string(piped.ps_get("Name")))
        elif piped is None or (isinstance(piped, ClusterObject) and piped.ps_type_name() == f"{NS}.Cluster"):
            pool = list(cluster.resources.values())
        else:
            self.not_modelled("this -InputObject")
            return
        if not names:
            for resource in pool:
                self.write_object(resource_object(self.world, cluster, resource))
            return
        for name in names:
            found = next((r for r in pool if key(r.name) == key(name)), None)
            if found is not None:
                self.write_object(resource_object(self.world, cluster, found))
            elif cluster.resource(name) is None:
                self.resource_named(cluster, name, terminating=False)


class GetClusterParameter(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=False)
        owner = self.get("InputObject")
        if not isinstance(owner, ResourceView):
            self.not_modelled("parameters of anything but a resource (-InputObject <ClusterResource>)")
            return
        resource = self.resource_named(cluster, to_string(owner.ps_get("Name")))
        assert resource is not None
        listed = parameters_of(resource)
        wanted = [to_string(n) for n in enumerate_items(self.get("Name")) or []] if self.get("Name") else list(listed)
        for name in wanted:
            real = next((n for n in listed if n.lower() == name.lower()), None)
            if real is None:
                # assumed wording: Win32 13 ERROR_INVALID_DATA around an unknown property name
                self.write_error(
                    self.cluster_error(
                        f"Parameter '{name}' does not exist on the cluster object '{resource.name}'.",
                        "InvalidClusterParameter",
                        "InvalidArgument",
                        name,
                    )
                )
                continue
            self.write_object(parameter_object(self.world, owner, real, listed[real]))


class GetClusterOwnerNode(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=False)
        resource_name, group_name = self.get("Resource"), self.get("Group")
        piped = self.get("InputObject")
        if piped is not None and isinstance(piped, ClusterObject):
            if piped.ps_type_name() == f"{NS}.ClusterResource":
                resource_name = to_string(piped.ps_get("Name"))
            elif piped.ps_type_name() == f"{NS}.ClusterGroup":
                group_name = to_string(piped.ps_get("Name"))
        if resource_name:
            resource = self.resource_named(cluster, str(resource_name))
            assert resource is not None
            owners = resource.possible_owners or list(cluster.nodes)  # F-CLU-17: every node by default
            subject: object = resource_object(self.world, cluster, resource)
        elif group_name:
            group = self.group_named(cluster, str(group_name))
            assert group is not None
            owners = list(group.preferred_owners)
            subject = group_object(self.world, cluster, group)
        else:
            self.not_modelled("neither -Resource nor -Group")
            return
        nodes = v.TypedArray([node_object(self.world, cluster, n) for n in owners], f"{NS}.ClusterNode")
        self.write_object(
            ClusterObject(f"{NS}.ClusterOwnerNodeList", self.world, {"ClusterObject": subject, "OwnerNodes": nodes})
        )


def dependency_expression(resource: Resource) -> str:
    """[A] and [B]: the resources it depends on, all of them required (F-CLU-16; the exact spacing is assumed, P-08)."""
    return " and ".join(f"[{name}]" for name in resource.dependencies)


class GetClusterResourceDependency(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=False)
        for name in self.input_names("Resource", "ClusterResource"):
            resource = self.resource_named(cluster, name, terminating=False)
            if resource is None:
                continue
            self.write_object(
                ClusterObject(
                    f"{NS}.ClusterResourceDependency",
                    self.world,
                    {
                        "Resource": resource_object(self.world, cluster, resource),
                        "DependencyExpression": dependency_expression(resource),
                    },
                )
            )


class GetClusterAccess(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=False)
        wanted = {key(to_string(u)) for u in enumerate_items(self.get("User")) or []} if self.get("User") else None
        # implements F-CLU-10: the list includes the users who are blocked (Deny entries)
        entries = [(ADMINISTRATORS, True, "Full")]
        entries += [(account, True, rights) for account, rights in cluster.access.items()]
        entries += [(account, False, "Full") for account in cluster.denied]
        for account, allow, rights in entries:
            if wanted is None or key(account) in wanted:
                self.write_object(access_object(self.world, cluster, account, allow, rights))


class GetClusterQuorum(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=False)
        self.write_object(quorum_object(self.world, cluster))


class GetClusterAvailableDisk(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=False)
        for disk in self.world.disks:
            # implements F-CLU-23: a disk every node sees, not yet clustered; a RAW disk is not listed (assumed, P-07)
            if disk.partition_style == "RAW" or clustered_disk(cluster, disk) is not None:
                continue
            self.write_object(disk_info_object(self.world, cluster, disk))


# --------------------------------------------------------------------------------------------- changing


class SetClusterParameter(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        owner = self.get("InputObject")
        if not isinstance(owner, ResourceView):
            self.not_modelled("parameters of anything but a resource (-InputObject <ClusterResource>)")
            return
        if self.flag("Delete"):
            self.not_modelled("-Delete")
        resource = self.resource_named(cluster, to_string(owner.ps_get("Name")))
        assert resource is not None
        if self.has("Multiple"):
            table = self.get("Multiple")
            changes = [(to_string(k), table[k]) for k in table] if isinstance(table, v.Hashtable) else []
        elif self.has("Name"):
            changes = [(to_string(self.get("Name")), self.get("Value"))]
        else:
            self.not_modelled("neither -Name/-Value nor -Multiple")
            return
        known = parameters_of(resource)
        for name, value in changes:
            real = next((n for n in known if n.lower() == name.lower()), None)
            if real is None and not self.flag("Create"):
                # assumed wording (no source for the unknown-name refusal)
                self.fail(
                    f"Unable to set the parameter '{name}' on the cluster object '{resource.name}'.\n"
                    "    The parameter is incorrect.",
                    "InvalidClusterParameter",
                    "InvalidArgument",
                    name,
                )
            real = real or name
            default = PRIVATE_PROPERTIES.get(resource.type, {}).get(real, "")
            resource.parameters[real] = _as_dword(value) if isinstance(default, int) else _as_text(value)
        if resource.state == "Online":
            # implements F-CLU-12: Win32 5024 ERROR_RESOURCE_PROPERTIES_STORED; a warning, not an error (assumed, L-06)
            self.write_warning(
                "The properties were stored but not all changes will take effect until the next time the resource "
                "is brought online."
            )


def _as_dword(value: object) -> int:
    items = enumerate_items(value)
    if items is not None and len(items) == 1:
        value = items[0]
    return int(value) if isinstance(value, int) else int(to_string(value))


def _as_text(value: object) -> str:
    return to_string(value)


class SetClusterOwnerNode(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        owners = [self.member(cluster, to_string(n)) for n in enumerate_items(self.get("Owners")) or []]
        resource_name, group_name = self.get("Resource"), self.get("Group")
        piped = self.get("InputObject")
        if isinstance(piped, ClusterObject):
            if piped.ps_type_name() == f"{NS}.ClusterResource":
                resource_name = to_string(piped.ps_get("Name"))
            elif piped.ps_type_name() == f"{NS}.ClusterGroup":
                group_name = to_string(piped.ps_get("Name"))
        if resource_name:  # implements F-CLU-17: possible owners live on the resource
            resource = self.resource_named(cluster, str(resource_name))
            assert resource is not None
            resource.possible_owners = owners
        elif group_name:  # ... preferred owners, in order, on the group
            group = self.group_named(cluster, str(group_name))
            assert group is not None
            group.preferred_owners = owners
        else:
            self.not_modelled("neither -Resource nor -Group")


class AddClusterResource(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        name, kind = to_string(self.get("Name")), to_string(self.get("ResourceType"))
        group_name = to_string(self.get("Group")) if self.get("Group") else AVAILABLE_STORAGE
        real_kind = next((k for k in PRIVATE_PROPERTIES if key(k) == key(kind)), None)
        if real_kind is None:
            # assumed wording: Win32 5078 ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND
            self.fail(
                f"The resource type '{kind}' is not registered in this cluster.\n"
                "    The specified resource type was not found.",
                "ClusterResourceTypeNotFound",
                "ObjectNotFound",
                kind,
            )
        group = self.group_named(cluster, group_name)
        assert group is not None and real_kind is not None
        if cluster.resource(name) is not None:
            # assumed wording: Win32 5010 ERROR_OBJECT_ALREADY_EXISTS
            self.fail(
                f"Failed to create the resource '{name}'.\n    The specified object already exists.",
                "ClusterResourceExists",
                "ResourceExists",
                name,
            )
        resource = Resource(name, real_kind, group.name)
        cluster.resources[key(name)] = resource
        self.write_object(resource_object(self.world, cluster, resource))


class RemoveClusterResource(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        if not self.flag("Force"):
            self.not_modelled("its confirmation prompt (no -Force)")
        for name in self.input_names("Name", "ClusterResource"):
            resource = self.resource_named(cluster, name)
            assert resource is not None
            delete_resource(self.world, cluster, resource)


def delete_resource(world: World, cluster: Cluster, resource: Resource) -> None:
    windows.take_offline(world, resource)
    for other in cluster.resources.values():
        other.dependencies = [d for d in other.dependencies if key(d) != key(resource.name)]
    if resource.type in ("Network Name", "Distributed Network Name"):
        # the role's computer object goes with its name (assumed, F-CLU-11)
        world.domain.computers.pop(key(str(resource.parameters.get("DnsName", resource.name))), None)
    cluster.dtc_settings.pop(key(resource.name), None)
    del cluster.resources[key(resource.name)]


class AddClusterResourceDependency(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        names = self.input_names("Resource", "ClusterResource")
        provider = self.resource_named(cluster, to_string(self.get("Provider")))
        assert provider is not None
        for name in names:
            resource = self.resource_named(cluster, name)
            assert resource is not None
            if key(provider.name) in {key(d) for d in resource.dependencies}:
                # implements F-CLU-16: Win32 5003 ERROR_DEPENDENCY_ALREADY_EXISTS (the cmdlet's prefix is assumed)
                self.fail(
                    f"Unable to add a dependency on '{provider.name}' to '{resource.name}'.\n"
                    "    The cluster resource cannot be made dependent on the specified resource because it is "
                    "already dependent.",
                    "DependencyAlreadyExists",
                    "InvalidOperation",
                    name,
                )
            resource.dependencies.append(provider.name)
            self.write_object(resource_object(self.world, cluster, resource))


class RemoveClusterResourceDependency(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        provider = to_string(self.get("Provider"))
        for name in self.input_names("Resource", "ClusterResource"):
            resource = self.resource_named(cluster, name)
            assert resource is not None
            before = len(resource.dependencies)
            resource.dependencies = [d for d in resource.dependencies if key(d) != key(provider)]
            if len(resource.dependencies) == before:
                # assumed wording: Win32 5002 ERROR_DEPENDENCY_NOT_FOUND
                self.fail(
                    f"The resource '{name}' does not depend on '{provider}'.\n"
                    "    The cluster dependency could not be found.",
                    "DependencyNotFound",
                    "ObjectNotFound",
                    name,
                )
            self.write_object(resource_object(self.world, cluster, resource))


class GrantClusterAccess(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        rights = "ReadOnly" if self.flag("ReadOnly") and not self.flag("Full") else "Full"
        for user in enumerate_items(self.get("User")) or []:
            # A grant adds an Allow entry; a Deny entry for the user stays and still wins (F-CLU-10).
            cluster.access[to_string(user)] = "Full" if rights == "Full" else "Read"


class BlockClusterAccess(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        for user in enumerate_items(self.get("User")) or []:
            if key(to_string(user)) not in {key(d) for d in cluster.denied}:
                cluster.denied.append(to_string(user))


class RemoveClusterAccess(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        for user in [to_string(u) for u in enumerate_items(self.get("User")) or []]:
            for account in [a for a in cluster.access if key(a) == key(user)]:
                del cluster.access[account]
            cluster.denied = [d for d in cluster.denied if key(d) != key(user)]


class StartClusterResource(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        for name in self.input_names("Name", "ClusterResource"):
            resource = self.resource_named(cluster, name)
            assert resource is not None
            try:
                windows.bring_online(self.world, resource)  # F-CLU-16: its providers first
            except PowerShellError as refused:
                self.rule(refused, name)
            self.write_object(resource_object(self.world, cluster, resource))


class StopClusterResource(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        for name in self.input_names("Name", "ClusterResource"):
            resource = self.resource_named(cluster, name)
            assert resource is not None
            windows.take_offline(self.world, resource)  # F-CLU-16: its dependants first
            self.write_object(resource_object(self.world, cluster, resource))


class StartClusterGroup(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        for name in self.input_names("Name", "ClusterGroup"):
            group = self.group_named(cluster, name)
            assert group is not None
            try:
                windows.group_online(self.world, group)
            except PowerShellError as refused:
                self.rule(refused, name)
            self.write_object(group_object(self.world, cluster, group))


class StopClusterGroup(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        for name in self.input_names("Name", "ClusterGroup"):
            group = self.group_named(cluster, name)
            assert group is not None
            windows.group_offline(self.world, group)
            self.write_object(group_object(self.world, cluster, group))


class MoveClusterGroup(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        for name in self.input_names("Name", "ClusterGroup"):
            group = self.group_named(cluster, name)
            assert group is not None
            target = self.get("Node")
            if not target:  # "to any other node" (Move-ClusterGroup example 1)
                if not windows.fail_over(self.world, group):
                    self.fail_move(group.name, "(any other node)")
            else:
                node = self.member(cluster, to_string(target))
                if not windows.can_own(self.world, cluster, group, node):
                    self.fail_move(group.name, node)
                try:
                    windows.move_group(self.world, group, node)
                except PowerShellError as refused:
                    self.rule(refused, name)
            self.write_object(group_object(self.world, cluster, group))

    def fail_move(self, group: str, node: str) -> None:
        # implements F-CLU-18: Win32 5016 ERROR_HOST_NODE_NOT_GROUP_OWNER (the prefix is assumed)
        self.fail(
            f"An error occurred while moving the clustered role '{group}' to node '{node}'.\n"
            "    The operation failed because either the specified cluster node is not the owner of the group, "
            "or the node is not a possible owner of the group.",
            "MoveClusterGroupFailed",
            "InvalidOperation",
            group,
        )


class RemoveClusterGroup(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        if not self.flag("Force"):
            self.not_modelled("its confirmation prompt (no -Force)")
        for name in self.input_names("Name", "ClusterGroup"):
            group = self.group_named(cluster, name)
            assert group is not None
            resources = cluster.group_resources(group.name)
            if resources and not self.flag("RemoveResources"):
                # "If the group still has resources in it, then either remove the resources first, or specify the
                # RemoveResources parameter" (WPD Remove-ClusterGroup.md); the wording is assumed
                self.fail(
                    f"The clustered role '{group.name}' still has resources. Remove them first or use "
                    "-RemoveResources.",
                    "ClusterGroupNotEmpty",
                    "InvalidOperation",
                    name,
                )
            windows.group_offline(self.world, group)
            for resource in resources:
                # implements F-CLU-21: every resource goes, a Physical Disk too (the disk leaves the cluster)
                delete_resource(self.world, cluster, resource)
            del cluster.groups[key(group.name)]


class SetClusterQuorum(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        if self.flag("NoWitness"):
            witness = cluster.resource(WITNESS)
            if witness is not None:
                delete_resource(self.world, cluster, witness)
            cluster.quorum = Quorum()
        elif self.flag("CloudWitness"):
            # implements F-CLU-08
            account, access_key = to_string(self.get("AccountName") or ""), self.get("AccessKey")
            if not account or not access_key or self.get("SASToken"):
                self.not_modelled("a cloud witness without -AccountName and -AccessKey")
            endpoint = to_string(self.get("Endpoint") or "core.windows.net")
            witness = cluster.resource(WITNESS)
            if witness is None:
                witness = Resource(WITNESS, "Cloud Witness", CLUSTER_GROUP)
                cluster.resources[key(WITNESS)] = witness
            witness.parameters.update({"AccountName": account, "EndpointInfo": endpoint})
            cluster.quorum = Quorum("NodeAndCloudWitness", account, endpoint, to_string(access_key))
            windows.take_offline(self.world, witness)
            windows.bring_online(self.world, witness)
        else:
            self.not_modelled("a disk or file share witness")
        self.write_object(quorum_object(self.world, cluster))


class AddClusterDisk(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        for item in enumerate_items(self.get("InputObject")) or [self.get("InputObject")]:
            number = (
                item.ps_get("Number") if isinstance(item, v.DotNetObject) and item.ps_has_property("Number") else None
            )
            disk = next((d for d in self.world.disks if number is not None and d.number == int(number)), None)  # type: ignore[call-overload]
            if disk is None:
                self.not_modelled("a disk that is not one of the shared disks")
                return
            if disk.partition_style == "RAW" or clustered_disk(cluster, disk) is not None:
                # implements F-CLU-23: a basic, initialized disk not yet clustered (the wording is assumed)
                self.fail(
                    f"The disk {disk.number} is not suitable for clustering: it is not initialized or it is "
                    "already clustered.",
                    "ClusterDiskNotSuitable",
                    "InvalidOperation",
                    disk.number,
                )
            resource = Resource(next_disk_name(cluster), "Physical Disk", AVAILABLE_STORAGE)
            resource.parameters["DiskIdGuid"] = disk.unique_id
            cluster.resources[key(resource.name)] = resource
            windows.bring_online(self.world, resource)
            self.write_object(resource_object(self.world, cluster, resource))


class AddClusterServerRole(ClusterCmdlet):
    def process(self) -> None:
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        name = to_string(self.get("Name") or "")
        if not name or self.get("DnsName") or self.get("NetworkNameName") or self.get("IgnoreNetwork"):
            self.not_modelled("-DnsName/-NetworkNameName/-IgnoreNetwork or without -Name")
        addresses = [to_string(a) for a in enumerate_items(self.get("StaticAddress")) or []]
        if len(addresses) != 1:
            self.not_modelled("other than one -StaticAddress (DHCP or several)")
        address = addresses[0]
        # implements F-CLU-03/11: the role's computer object is created in AD from here: a second hop
        self.network_identity(f"An error occurred while creating the clustered role '{name}'.")
        world = self.world
        if cluster.group(name) is not None or cluster.resource(name) is not None:
            self.fail(
                f"An error occurred while creating the clustered role '{name}'.\n    The specified object already "
                "exists.",
                "ClusterGroupExists",
                "ResourceExists",
                name,
            )  # assumed wording (Win32 5010)
        if key(name) in world.domain.computers:
            # assumed wording (F-CLU-11): the network name's computer object is taken
            self.fail(
                f"An error occurred while creating the clustered role '{name}'.\n    The computer object "
                f"'{name}' already exists in domain {world.domain.fqdn}.",
                "ComputerObjectExists",
                "ResourceExists",
                name,
            )
        in_use = {n.ip for n in world.nodes.values()} | {
            str(r.parameters.get("Address")) for r in cluster.resources.values() if r.type == "IP Address"
        }
        if address in in_use:
            # assumed wording: Win32 5057 ERROR_CLUSTER_IPADDR_IN_USE
            self.fail(
                f"An error occurred while creating the clustered role '{name}'.\n    The cluster IP address is "
                "already in use.",
                "ClusterIPAddressInUse",
                "ResourceExists",
                address,
            )
        storage: list[Resource] = []
        for disk_name in [to_string(d) for d in enumerate_items(self.get("Storage")) or []]:
            disk = self.resource_named(cluster, disk_name)
            assert disk is not None
            if disk.type != "Physical Disk" or key(disk.group) != key(AVAILABLE_STORAGE):
                self.fail(
                    f"The disk '{disk_name}' is not in Available Storage.",
                    "ClusterDiskInUse",
                    "InvalidOperation",
                    disk_name,
                )
            storage.append(disk)
        owner = (
            self.node.name
            if windows.cluster_node_up(world, self.node.name)
            else next(n for n in cluster.nodes if windows.cluster_node_up(world, n))
        )
        group = ClusterGroup(name, owner_node=owner)
        cluster.groups[key(name)] = group
        node = world.node(owner)
        prefix = node.prefix_length if node is not None else 24
        ip = Resource(
            f"IP Address {address}",  # assumed resource names (F-CLU-11, P-06)
            "IP Address",
            name,
            parameters={
                "Address": address,
                "SubnetMask": _mask(prefix),
                "Network": "Cluster Network 1",
                "EnableDhcp": 0,
            },
        )
        network_name = Resource(
            name, "Network Name", name, parameters={"Name": name, "DnsName": name}, dependencies=[ip.name]
        )
        cluster.resources[key(ip.name)] = ip
        cluster.resources[key(name)] = network_name
        world.domain.computers[key(name)] = ComputerObject(name, "vco")
        for disk in storage:
            windows.take_offline(world, disk)
            disk.group = name
        try:
            windows.group_online(world, group)  # the role comes online as it is created (assumed)
        except PowerShellError as refused:
            self.rule(refused, name)
        self.write_object(group_object(world, cluster, group))


def _mask(prefix: int) -> str:
    bits = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    return ".".join(str((bits >> shift) & 0xFF) for shift in (24, 16, 8, 0))


# --------------------------------------------------------------------------------------------- the cluster itself

# Test-Cluster's tests for the categories the scripts select; the names appear in observed output (F-CLU-04).
NETWORK_COMMUNICATION = ("Network", "Validate Network Communication")
ACTIVE_DIRECTORY = ("System Configuration", "Validate Active Directory Configuration")
REQUIRED_SERVICES = ("System Configuration", "Validate Required Services")  # assumed name
INVENTORY = ("Inventory", "List Operating System Information")  # assumed name
CATEGORIES = (
    "Inventory",
    "Network",
    "System Configuration",
    "Storage",
    "Cluster Configuration",
    "Hyper-V Configuration",
)


class TestCluster(ClusterCmdlet):
    OPENS_CLUSTER = False

    def process(self) -> None:
        world, machine = self.world, self.node_machine
        if self.flag("List"):
            for category, test in (INVENTORY, NETWORK_COMMUNICATION, ACTIVE_DIRECTORY, REQUIRED_SERVICES):
                self.write_object(
                    ClusterObject(
                        f"{NS}.ClusterTestInfo", world, {"Category": category, "DisplayName": test, "Description": test}
                    )
                )
            return
        if self.get("Cluster") or self.get("InputObject") or self.get("Disk") or self.get("Pool"):
            self.not_modelled("-Cluster/-InputObject/-Disk/-Pool")
        names = [to_string(n) for n in enumerate_items(self.get("Node")) or []]
        cluster = world.cluster
        if not names:
            names = list(self.local_cluster().nodes)
        if cluster is not None and any(cluster.has_node(n) for n in names):
            names += [n for n in cluster.nodes if key(n) not in {key(m) for m in names}]  # example 2
        if any(key(n) != key(self.node.name) for n in names):
            # implements F-CLU-04 (observed): it reaches the other nodes with the session's token
            self.network_identity("Failed to access the remote nodes to run the validation tests.")
        selected = self._selected()
        results: list[tuple[tuple[str, str], str, str]] = []  # (category, test), "Success"|"Warning"|"Failed", detail
        for check in (INVENTORY, REQUIRED_SERVICES, ACTIVE_DIRECTORY, NETWORK_COMMUNICATION):
            if check[0] not in selected and check[1] not in selected:
                continue
            status, detail = self._run(check, names)
            results.append((check, status, detail))
        report = self._report_path(machine)
        lines = ["<html><head><title>Failover Cluster Validation Report</title></head><body>"]
        lines += [f"<p>{category} - {test}: {status}. {detail}</p>" for (category, test), status, detail in results]
        lines.append("</body></html>")
        machine.filesystem.make_directory(report.rsplit("\\", 1)[0])
        machine.filesystem.write_bytes(report, "\r\n".join(lines).encode("utf-8"))
        for (category, test), status, _ in results:
            if status == "Warning":  # observed wording, two periods included
                self.write_warning(f"{category} - {test}: The test reported some warnings..")
            elif status == "Failed":  # assumed wording (L-04)
                self.write_warning(f"{category} - {test}: The test failed.")
        failed = any(status == "Failed" for _, status, _ in results)
        unselected = not set(CATEGORIES) <= selected
        flags = ", ".join(
            [
                *(["HadUnselectedTests"] if unselected else []),
                "HadFailures" if failed else "ClusterConditionallyApproved",
            ]
        )  # HadFailures: assumed
        self.write_warning(
            f"\nTest Result:\n{flags}\nTesting has completed for the tests you selected. You should review the "
            "warnings in the Report.  A cluster solution is supported by Microsoft only if you run all cluster "
            f"validation tests, and all tests succeed (with or without warnings).\nTest report file path: {report}"
        )
        entry = machine.filesystem.stat(report)
        self.write_object(FileItem(entry if entry is not None else FileEntry(report, False, 0)))

    def _selected(self) -> set[str]:
        include = [to_string(i) for i in enumerate_items(self.get("Include")) or []]
        ignore = {to_string(i).lower() for i in enumerate_items(self.get("Ignore")) or []}
        chosen = set(include) if include else set(CATEGORIES)
        return {c for c in chosen if c.lower() not in ignore}

    def _run(self, test: tuple[str, str], names: list[str]) -> tuple[str, str]:
        world = self.world
        problems: list[str] = []
        for name in names:
            node = world.node(name)
            if node is None or not node.up:
                problems.append(f"The node '{name}' could not be reached.")
                continue
            if test == REQUIRED_SERVICES and key("Failover-Clustering") not in {key(f) for f in node.features}:
                problems.append(f"The Failover Clustering feature is not installed on node '{node.name}'.")
            if test == ACTIVE_DIRECTORY and key(node.name) not in world.domain.computers:
                problems.append(f"The node '{node.name}' is not joined to domain {world.domain.fqdn}.")
        if problems:
            return "Failed", " ".join(problems)
        if test == NETWORK_COMMUNICATION:
            # "the nodes are reachable only on a single network. You can ignore this warning on Azure" (SQD
            # hadr-cluster-best-practices, Networking): every simulated node has one network adapter
            return "Warning", "Node(s) are reachable from each other by only one pair of network interfaces."
        return "Success", ""

    def _report_path(self, machine: NodeMachine) -> str:
        given = self.get("ReportName")
        if given:
            return f"{to_string(given)}.htm"  # observed: the extension is always appended
        stamp = machine.now().strftime("%Y.%m.%d At %H.%M.%S")
        temporary = machine.environment().get("TEMP", "C:\\Windows\\Temp")
        return f"{temporary}\\Validation Report {stamp}.htm"


class NewCluster(ClusterCmdlet):
    OPENS_CLUSTER = False

    def process(self) -> None:
        world = self.world
        name = to_string(self.get("Name"))
        names = [to_string(n) for n in enumerate_items(self.get("Node")) or []] or [self.node.name]
        if self.get("Credentials") or self.get("AdministrativeAccessPoint") or self.get("IgnoreNetwork"):
            self.not_modelled("-Credentials/-AdministrativeAccessPoint/-IgnoreNetwork")
        context = f"There was an error creating cluster '{name}'."  # assumed prefix
        # implements F-CLU-05: the cluster name object is created in AD and the other nodes are reached: a second hop
        identity = self.network_identity(context)
        members: list[str] = []
        for node_name in names:
            node = world.node(node_name)
            if node is None or not node.up:
                self.fail(
                    f"{context}\n    The node '{node_name}' could not be reached.",
                    "ClusterNodeUnreachable",
                    "ConnectionError",
                    node_name,
                )  # assumed wording
            assert node is not None
            if key("Failover-Clustering") not in {key(f) for f in node.features}:
                self.fail(
                    f"{context}\n    The Failover Clustering feature is not installed on node '{node.name}'.",
                    "FailoverClusteringNotInstalled",
                    "InvalidOperation",
                    node.name,
                )  # assumed wording
            if world.cluster is not None and world.cluster.has_node(node.name):
                # implements F-CLU-06 (observed)
                self.fail(
                    f"There was an error adding node '{node.name}' to the cluster\n    The computer "
                    f"'{node.name}.{world.domain.fqdn}' is joined to a cluster.",
                    "ClusterNodeAlreadyMember",
                    "ResourceExists",
                    node.name,
                )
            if not world.domain.in_any(identity, node.administrators):
                self.fail(
                    f"{context}\n    Access is denied ({identity} is not an administrator on {node.name}).",
                    "UnauthorizedAccess",
                    "PermissionDenied",
                    node.name,
                )  # assumed wording
            members.append(node.name)
        existing = world.domain.computers.get(key(name))
        # implements F-AD-14: a prestaged cluster name object (disabled, Full Control for the user who creates the
        # cluster) is taken over; any other existing object is refused
        prestaged = existing is not None and not existing.enabled and _full_control(world, existing.dn, identity)
        if existing is not None and not prestaged:
            # assumed wording (F-CLU-06, lab experiment L-05)
            self.fail(
                f"{context}\n    The computer object '{name}' already exists in domain {world.domain.fqdn}.",
                "ComputerObjectExists",
                "ResourceExists",
                name,
            )
        if world.cluster is not None:
            self.not_modelled("a second cluster in the same simulated world")
        if not prestaged and not world.domain.may_create_computers(identity):
            # F-CLU-05: "Create Computer objects" on the OU is a prerequisite (assumed wording)
            self.fail(
                f"{context}\n    Access is denied: {identity} may not create computer objects in {world.domain.fqdn}.",
                "UnauthorizedAccess",
                "PermissionDenied",
                name,
            )
        requested = to_string(self.get("ManagementPointNetworkType") or "Automatic")
        # implements F-CLU-05/F-AZ-02: Automatic is Distributed in Azure, Singleton on premises
        mode = (
            requested
            if requested != "Automatic"
            else ("Distributed" if world.cloud_platform == "Azure" else "Singleton")
        )
        addresses = [to_string(a) for a in enumerate_items(self.get("StaticAddress")) or []]
        if mode == "Singleton" and len(addresses) != 1:
            self.not_modelled("a Singleton management point without one -StaticAddress (DHCP)")
        if mode == "Distributed" and addresses:
            self.not_modelled("-StaticAddress with a Distributed management point")
        cluster = Cluster(
            name=name, nodes=members, management_point=mode, static_address=addresses[0] if addresses else ""
        )
        cluster.groups[key(CLUSTER_GROUP)] = ClusterGroup(
            CLUSTER_GROUP, owner_node=self.node.name if self.node.name in members else members[0]
        )
        cluster.groups[key(AVAILABLE_STORAGE)] = ClusterGroup(
            AVAILABLE_STORAGE, owner_node=cluster.groups[key(CLUSTER_GROUP)].owner_node
        )
        core_type = "Distributed Network Name" if mode == "Distributed" else "Network Name"
        core = Resource("Cluster Name", core_type, CLUSTER_GROUP, parameters={"Name": name, "DnsName": name})
        cluster.resources[key(core.name)] = core
        if mode == "Singleton":
            address = Resource(
                "Cluster IP Address",
                "IP Address",
                CLUSTER_GROUP,
                parameters={"Address": addresses[0], "SubnetMask": _mask(24), "EnableDhcp": 0},
            )
            cluster.resources[key(address.name)] = address
            core.dependencies.append(address.name)
        if existing is not None and prestaged:
            existing.enabled, existing.kind = True, "cno"
        else:
            world.domain.computers[key(name)] = ComputerObject(name, "cno")
        world.cluster = cluster
        for member in members:
            node = world.nodes[key(member)]
            service = node.services.setdefault(key(CLUSTER_SERVICE), Service(CLUSTER_SERVICE, "Cluster Service"))
            service.state, service.start_mode, service.started_by = "Running", "Auto", "scm"
        windows.group_online(world, cluster.groups[key(CLUSTER_GROUP)])
        self.write_object(cluster_object(world, cluster))


def _full_control(world: World, dn: str, identity: str) -> bool:
    """`identity` holds GenericAll on the directory object `dn` (an explicit allow rule, F-AD-14)."""
    domain = world.domain
    for rule in domain.acls.get(key(dn), []):
        principal = domain.principal_of_sid(rule.sid)
        full = rule.allow and rule.rights & 983551 == 983551
        if principal is not None and full and domain.is_member(identity, principal):
            return True
    return False


class RemoveCluster(ClusterCmdlet):
    def process(self) -> None:
        world = self.world
        cluster = self.local_cluster()
        self.require_access(cluster, write=True)
        if not self.flag("Force"):
            self.not_modelled("its confirmation prompt (no -Force)")
        # implements F-CLU-22/F-CLU-03: it reaches every node (and AD with -CleanupAD) with the session's token
        identity = self.network_identity(f"An error occurred while destroying cluster '{cluster.name}'.")
        for member in cluster.nodes:
            node = world.node(member)
            if node is not None and not world.domain.in_any(identity, node.administrators):
                self.fail(
                    f"An error occurred while destroying cluster '{cluster.name}'.\n    Access is denied.",
                    "UnauthorizedAccess",
                    "PermissionDenied",
                    member,
                )  # assumed wording
        for group in list(cluster.groups.values()):
            windows.group_offline(world, group)
        if self.flag("CleanupAD"):
            for resource in cluster.resources.values():
                if resource.type in ("Network Name", "Distributed Network Name"):
                    world.domain.computers.pop(key(str(resource.parameters.get("DnsName", resource.name))), None)
            world.domain.computers.pop(key(cluster.name), None)
        for member in cluster.nodes:
            node = world.node(member)
            service = node.service(CLUSTER_SERVICE) if node is not None else None
            if service is not None:
                service.state, service.start_mode, service.started_by = "Stopped", "Disabled", ""
        world.cluster = None


# --------------------------------------------------------------------------------------------- registration

IMPLEMENTATIONS: dict[str, type[ClusterCmdlet]] = {
    "Get-Cluster": GetCluster,
    "Get-ClusterNode": GetClusterNode,
    "Get-ClusterGroup": GetClusterGroup,
    "Get-ClusterResource": GetClusterResource,
    "Get-ClusterParameter": GetClusterParameter,
    "Set-ClusterParameter": SetClusterParameter,
    "Get-ClusterOwnerNode": GetClusterOwnerNode,
    "Set-ClusterOwnerNode": SetClusterOwnerNode,
    "Get-ClusterResourceDependency": GetClusterResourceDependency,
    "Add-ClusterResourceDependency": AddClusterResourceDependency,
    "Remove-ClusterResourceDependency": RemoveClusterResourceDependency,
    "Get-ClusterAccess": GetClusterAccess,
    "Grant-ClusterAccess": GrantClusterAccess,
    "Block-ClusterAccess": BlockClusterAccess,
    "Remove-ClusterAccess": RemoveClusterAccess,
    "Add-ClusterResource": AddClusterResource,
    "Remove-ClusterResource": RemoveClusterResource,
    "Start-ClusterResource": StartClusterResource,
    "Stop-ClusterResource": StopClusterResource,
    "Start-ClusterGroup": StartClusterGroup,
    "Stop-ClusterGroup": StopClusterGroup,
    "Move-ClusterGroup": MoveClusterGroup,
    "Remove-ClusterGroup": RemoveClusterGroup,
    "Add-ClusterServerRole": AddClusterServerRole,
    "Get-ClusterQuorum": GetClusterQuorum,
    "Set-ClusterQuorum": SetClusterQuorum,
    "Get-ClusterAvailableDisk": GetClusterAvailableDisk,
    "Add-ClusterDisk": AddClusterDisk,
    "Test-Cluster": TestCluster,
    "New-Cluster": NewCluster,
    "Remove-Cluster": RemoveCluster,
}

for _name, _implementation in IMPLEMENTATIONS.items():
    surface.command(FC.definition(_name, _implementation), module=MODULE)


def signature(name: str) -> CommandSignature:
    """The catalogue signature a cmdlet binds by (for tests and tools)."""
    return FC.signature(name)


__all__ = ["FC", "IMPLEMENTATIONS", "has_module", "signature"]
