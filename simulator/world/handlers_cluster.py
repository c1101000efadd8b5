"""FailoverCluster: Windows features, Test-Cluster, New-Cluster, cloud witness, Remove-Cluster."""

from __future__ import annotations

from simulator.world import errors, windows
from simulator.world.model import Cluster, ClusterGroup, ComputerObject, Quorum, Resource, Service, World, key
from simulator.world.operations import DELEGATION, Call, Param, operation

KNOWN_FEATURES = {
    "FAILOVER-CLUSTERING",
    "RSAT-CLUSTERING",
    "RSAT-CLUSTERING-POWERSHELL",
    "RSAT-CLUSTERING-MGMT",
    "RSAT-CLUSTERING-CMDINTERFACE",
    "RSAT-AD-POWERSHELL",
}
CLUSTER_GROUP = "Cluster Group"
AVAILABLE_STORAGE = "Available Storage"


def _features(call: Call) -> dict[str, object]:
    installed = {key(f) for f in call.node.features}
    return {
        "computerName": call.node.name,
        "features": [{"name": name, "installed": key(name) in installed} for name in call.texts("Features")],
        "restartNeeded": False,
    }


@operation("feature_get", params=(Param("Features", "string[]", mandatory=True),), reads_only=True)
def feature_get(call: Call) -> dict[str, object]:
    return _features(call)


@operation("feature_install", params=(Param("Features", "string[]", mandatory=True),))
def feature_install(call: Call) -> dict[str, object]:
    windows.require_admin(call)
    unknown = [f for f in call.texts("Features") if key(f) not in KNOWN_FEATURES]
    if unknown:
        raise errors.PowerShellError(
            f"ArgumentNotValid: The role, role service, or feature name is not valid: '{unknown[0]}'. "
            "The name was not found.",
            "InvalidArgument",
            "NameDoesNotExist,Microsoft.Windows.ServerManager.Commands.AddWindowsFeatureCommand",
        )
    installed = {key(f) for f in call.node.features}
    missing = [f for f in call.texts("Features") if key(f) not in installed]
    call.node.features.extend(missing)
    return {**_features(call), "actions": [f"Install-WindowsFeature {f}" for f in missing]}


def cluster_state(world: World, node_name: str) -> dict[str, object]:
    cluster = world.cluster
    if cluster is None or not cluster.has_node(node_name):
        return {
            "exists": False,
            "name": "",
            "nodes": [],
            "managementPointNetworkType": "",
            "quorum": None,
            "heartbeat": None,
        }
    witness = cluster.quorum.type == "NodeAndCloudWitness"
    return {
        "exists": True,
        "name": cluster.name,
        "nodes": [
            {"name": n, "state": "Up" if (node := world.node(n)) is not None and node.up else "Down"}
            for n in cluster.nodes
        ],
        "managementPointNetworkType": cluster.management_point,
        "quorum": {
            "type": "Majority",
            "witness": "Cloud Witness" if witness else "",
            "witnessAccountName": cluster.quorum.account_name if witness else "",
            "witnessEndpoint": cluster.quorum.endpoint if witness else "",
        },
        "heartbeat": {
            "sameSubnetDelay": cluster.common_properties["SameSubnetDelay"],
            "sameSubnetThreshold": cluster.common_properties["SameSubnetThreshold"],
            "crossSubnetDelay": cluster.common_properties["CrossSubnetDelay"],
            "crossSubnetThreshold": cluster.common_properties["CrossSubnetThreshold"],
        },
    }


@operation("cluster_get", reads_only=True)
def cluster_get(call: Call) -> dict[str, object]:
    return cluster_state(call.world, call.node.name)


def _validation_failures(world: World, nodes: list[str]) -> list[str]:
    failures = []
    for name in nodes:
        node = world.node(name)
        if node is None or not node.up:
            failures.append(f"The node '{name}' could not be reached.")
            continue
        if "FAILOVER-CLUSTERING" not in {key(f) for f in node.features}:
            failures.append(f"The Failover Clustering feature is not installed on node '{node.name}'.")
        if key(node.name) not in world.domain.computers:
            failures.append(f"Node '{node.name}' is not joined to domain {world.domain.fqdn}.")
    return failures


@operation("cluster_test", params=(Param("Nodes", "string[]", mandatory=True), *DELEGATION), reads_only=True)
def cluster_test(call: Call) -> dict[str, object]:
    failures = _validation_failures(call.world, call.texts("Nodes"))
    return {
        "passed": not failures,
        "nodes": call.texts("Nodes"),
        "result": "HadFailures" if failures else "ClusterConditionallyApproved",
        "failures": failures,
        "warnings": [],
        "report": "",
    }


@operation(
    "cluster_heartbeat_set",
    params=(
        Param("SameSubnetDelay", "int", mandatory=True),
        Param("SameSubnetThreshold", "int", mandatory=True),
        Param("CrossSubnetDelay", "int", mandatory=True),
        Param("CrossSubnetThreshold", "int", mandatory=True),
    ),
)
def cluster_heartbeat_set(call: Call) -> dict[str, object]:
    cluster = windows.require_cluster(call.world)
    actions = []
    for name in ("SameSubnetDelay", "SameSubnetThreshold", "CrossSubnetDelay", "CrossSubnetThreshold"):
        if cluster.common_properties.get(name) != call.integer(name):
            cluster.common_properties[name] = call.integer(name)
            actions.append(f"(Get-Cluster).{name} = {call.integer(name)}")
    return {**cluster_state(call.world, call.node.name), "actions": actions}


@operation(
    "cluster_new",
    params=(
        Param("Name", mandatory=True),
        Param("Nodes", "string[]", mandatory=True),
        Param("ManagementPointNetworkType", default="Distributed"),
        Param("StaticAddress"),
        *DELEGATION,
    ),
)
def cluster_new(call: Call) -> dict[str, object]:
    world, name, nodes = call.world, call.text("Name"), call.texts("Nodes")
    existing = world.cluster
    if existing is not None and key(existing.name) == key(name) and existing.has_node(call.node.name):
        return {**cluster_state(world, call.node.name), "actions": []}
    windows.require_admin(call)
    context = f"There was an error creating the cluster.\nAn error occurred creating cluster '{name}'"
    identity = windows.network_identity(call, context)
    failures = _validation_failures(world, nodes)
    if failures:
        raise errors.invalid(f"{context}.\n{failures[0]}", "ClusterCmdletException")
    if existing is not None:
        taken = next((n for n in nodes if existing.has_node(n)), None)
        if taken is not None:
            raise errors.exists(
                f"{context}.\nThe node '{taken}' is already part of cluster '{existing.name}'."
            )
    if key(name) in world.domain.computers:
        raise errors.exists(
            f"{context}.\nThe computer object '{name}' already exists in domain {world.domain.fqdn}; "
            "a cluster name must be unique."
        )
    if not windows.is_node_admin_everywhere(world, identity, nodes) or not world.domain.in_any(
        identity, world.domain.computer_creators
    ):
        raise errors.access_denied(context)
    mode = call.text("ManagementPointNetworkType")
    if mode == "Automatic":
        mode = "Distributed"  # what WS2019+ picks when it detects Azure
    if mode == "Singleton" and not call.text("StaticAddress"):
        raise errors.invalid(f"{context}.\nA static address is required for a Singleton management point.")
    members = [world.nodes[key(n)].name for n in nodes]
    cluster = Cluster(
        name=name, nodes=members, management_point=mode, static_address=call.text("StaticAddress")
    )
    cluster.groups[key(CLUSTER_GROUP)] = ClusterGroup(CLUSTER_GROUP, owner_node=call.node.name)
    cluster.groups[key(AVAILABLE_STORAGE)] = ClusterGroup(AVAILABLE_STORAGE, owner_node=call.node.name)
    name_type = "Distributed Network Name" if mode == "Distributed" else "Network Name"
    core = Resource("Cluster Name", name_type, CLUSTER_GROUP, parameters={"DnsName": name, "Name": name})
    cluster.resources[key(core.name)] = core
    if mode == "Singleton":
        address = Resource(
            "Cluster IP Address",
            "IP Address",
            CLUSTER_GROUP,
            parameters={"Address": call.text("StaticAddress")},
        )
        cluster.resources[key(address.name)] = address
        core.dependencies.append(address.name)
    world.domain.computers[key(name)] = ComputerObject(name, "cno")
    world.cluster = cluster
    for member in members:
        node = world.nodes[key(member)]
        node.services.setdefault("CLUSSVC", Service("ClusSvc", "Cluster Service"))
        node.services["CLUSSVC"].state, node.services["CLUSSVC"].start_mode = "Running", "Auto"
    windows.group_online(world, cluster.groups[key(CLUSTER_GROUP)])
    return {**cluster_state(world, call.node.name), "actions": [f"New-Cluster {name}"]}


@operation(
    "cluster_quorum_set",
    params=(
        Param("WitnessAccountName", mandatory=True),
        Param("WitnessAccessKey", mandatory=True, secret=True),
        Param("WitnessEndpoint", default="core.windows.net"),
    ),
)
def cluster_quorum_set(call: Call) -> dict[str, object]:
    windows.require_admin(call)
    cluster = windows.require_cluster(call.world)
    account, endpoint = call.text("WitnessAccountName"), call.text("WitnessEndpoint")
    current = cluster.quorum
    if current.type == "NodeAndCloudWitness" and (current.account_name, current.endpoint) == (
        account,
        endpoint,
    ):
        return {**cluster_state(call.world, call.node.name), "actions": []}
    if not call.text("WitnessAccessKey"):
        raise errors.invalid("The storage account access key is not valid.", "InvalidArgument")
    cluster.quorum = Quorum("NodeAndCloudWitness", account, endpoint, call.text("WitnessAccessKey"))
    witness = Resource("Cloud Witness", "Cloud Witness", CLUSTER_GROUP, parameters={"AccountName": account})
    cluster.resources[key(witness.name)] = witness
    windows.bring_online(call.world, witness)
    return {
        **cluster_state(call.world, call.node.name),
        "actions": [f"Set-ClusterQuorum -CloudWitness {account}"],
    }


@operation("cluster_remove", params=(Param("Name", mandatory=True), *DELEGATION))
def cluster_remove(call: Call) -> dict[str, object]:
    world, name = call.world, call.text("Name")
    cluster = world.cluster
    if cluster is None or key(cluster.name) != key(name) or not cluster.has_node(call.node.name):
        return {**cluster_state(world, call.node.name), "actions": []}
    windows.require_admin(call)
    identity = windows.network_identity(call, f"An error occurred while destroying cluster '{name}'")
    if not windows.is_node_admin_everywhere(world, identity, cluster.nodes):
        raise errors.access_denied(f"An error occurred while destroying cluster '{name}'")
    for group in list(cluster.groups.values()):
        windows.group_offline(world, group)
    for resource in cluster.resources.values():
        if resource.type in ("Network Name", "Distributed Network Name"):
            world.domain.computers.pop(key(str(resource.parameters.get("DnsName", resource.name))), None)
    world.domain.computers.pop(key(cluster.name), None)
    for member in cluster.nodes:
        node = world.node(member)
        if node is not None and "CLUSSVC" in node.services:
            node.services["CLUSSVC"].state, node.services["CLUSSVC"].start_mode = "Stopped", "Disabled"
    world.cluster = None
    return {**cluster_state(world, call.node.name), "actions": [f"Remove-Cluster {name} -CleanupAD"]}
