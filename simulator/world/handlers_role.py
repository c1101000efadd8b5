"""ClusteredDtc and EntssoService: the DTC role, the ENTSSO role (access point, Generic Service), moves."""

from __future__ import annotations

from simulator.world import errors, windows
from simulator.world.handlers_cluster import AVAILABLE_STORAGE
from simulator.world.model import ENTSSO, Cluster, ClusterGroup, ComputerObject, Resource, World, key
from simulator.world.operations import DELEGATION, Call, Param, operation

PROBE_SUBNET_MASK = "255.255.255.255"
DTC_TYPE = "Distributed Transaction Coordinator"


def _resources_of(cluster: Cluster, group: str, kind: str) -> list[Resource]:
    return [r for r in cluster.group_resources(group) if r.type == kind]


def _network_name(cluster: Cluster, group: str) -> Resource | None:
    return next(iter(_resources_of(cluster, group, "Network Name")), None)


def _ip_address(cluster: Cluster, group: str) -> Resource | None:
    return next(iter(_resources_of(cluster, group, "IP Address")), None)


def _find_group(world: World, name: str) -> tuple[Cluster, ClusterGroup]:
    cluster = windows.require_cluster(world)
    group = cluster.group(name)
    if group is None:
        raise errors.not_found(f"The cluster group '{name}' was not found.", "ClusterCmdletException")
    return cluster, group


def _add_access_point(
    world: World, cluster: Cluster, group: str, name: str, address: str, probe_port: int
) -> None:
    """Add-ClusterServerRole's client access point, with the IP set up for the Azure load balancer probe."""
    if key(name) in world.domain.computers:
        raise errors.exists(
            f"The computer object '{name}' already exists in domain {world.domain.fqdn}; a network name "
            "must be unique."
        )
    in_use = {n.ip for n in world.nodes.values()} | {
        str(r.parameters.get("Address")) for r in cluster.resources.values() if r.type == "IP Address"
    }
    if address in in_use:
        raise errors.exists(f"The IP address '{address}' is already in use on the network.")
    ip = Resource(
        f"IP Address {address}", "IP Address", group, parameters=_probe_parameters(address, probe_port)
    )
    network_name = Resource(name, "Network Name", group, parameters={"DnsName": name, "Name": name})
    network_name.dependencies.append(ip.name)
    cluster.resources[key(ip.name)] = ip
    cluster.resources[key(network_name.name)] = network_name
    world.domain.computers[key(name)] = ComputerObject(name, "vco")


def _probe_parameters(address: str, probe_port: int) -> dict[str, str | int]:
    """The IP resource's private properties; with a probe port, those the Azure load balancer needs."""
    if not probe_port:
        return {
            "Address": address,
            "SubnetMask": "255.255.255.0",
            "Network": "Cluster Network 1",
            "EnableDhcp": 0,
        }
    return {
        "Address": address,
        "SubnetMask": PROBE_SUBNET_MASK,
        "Network": "Cluster Network 1",
        "EnableDhcp": 0,
        "OverrideAddressMatch": 1,
        "ProbePort": probe_port,
    }


def _first_owner(world: World, cluster: Cluster, candidates: list[str]) -> str:
    for name in [*candidates, *cluster.nodes]:
        node = world.node(name)
        if node is not None and node.up and cluster.has_node(name):
            return node.name
    raise errors.invalid("No cluster node is up to own the role.")


def owner_of_online(cluster: Cluster, resource: Resource | None) -> str:
    """The node where the cluster runs this resource, or "" when it is absent or not online."""
    if resource is None or resource.state != "Online":
        return ""
    group = cluster.group(resource.group)
    return group.owner_node if group is not None else ""


def _remove_group(world: World, cluster: Cluster, group: ClusterGroup) -> None:
    windows.group_offline(world, group)
    for resource in cluster.group_resources(group.name):
        # Disk resources leave the cluster too; the disk stays among the shared disks, contents kept.
        if resource.type == "Network Name":
            world.domain.computers.pop(key(str(resource.parameters.get("DnsName", resource.name))), None)
        del cluster.resources[key(resource.name)]
    del cluster.groups[key(group.name)]


# --------------------------------------------------------------------------------------------- ClusteredDtc


def dtc_state(world: World, name: str) -> dict[str, object]:
    cluster = world.cluster
    group = cluster.group(name) if cluster else None
    dtc = next(iter(_resources_of(cluster, name, DTC_TYPE)), None) if cluster and group else None
    if cluster is None or group is None or dtc is None:
        return {"exists": False, "name": name}
    ip = _ip_address(cluster, name)
    disk = next(iter(_resources_of(cluster, name, "Physical Disk")), None)
    return {
        "exists": True,
        "name": name,
        "resource": dtc.name,
        "state": dtc.state,
        "ownerNode": group.owner_node,
        "ipAddress": str(ip.parameters.get("Address", "")) if ip else "",
        "probePort": ip.parameters.get("ProbePort", 0) if ip else 0,
        "disk": disk.name if disk else "",
        "dependencies": list(dtc.dependencies),
        "networkSettings": dict(cluster.dtc_settings.get(key(name), {})),
    }


@operation("dtc_get", params=(Param("Name", mandatory=True),), reads_only=True)
def dtc_get(call: Call) -> dict[str, object]:
    return dtc_state(call.world, call.text("Name"))


@operation(
    "dtc_set",
    params=(
        Param("Name", mandatory=True),
        Param("StaticAddress", mandatory=True),
        Param("Disk", mandatory=True),
        Param("DiskLun", "int", default=0),
        Param("ProbePort", "int", default=0),
        *DELEGATION,
    ),
)
def dtc_set(call: Call) -> dict[str, object]:
    world, name, disk_name = call.world, call.text("Name"), call.text("Disk")
    windows.require_admin(call)
    cluster = windows.require_cluster(world)
    actions: list[str] = []
    if cluster.group(name) is None:
        windows.network_identity(call, f"Add-ClusterServerRole '{name}'")  # the role's computer object in AD
        disk = cluster.resource(disk_name)
        if disk is None:
            if key(disk_name) not in {key(d) for d in world.shared_disks}:
                raise errors.not_found(
                    f"The cluster disk '{disk_name}' was not found among the available disks."
                )
            disk = Resource(disk_name, "Physical Disk", AVAILABLE_STORAGE)
            cluster.resources[key(disk_name)] = disk
            actions.append(f"Add-ClusterDisk {disk_name}")
        elif disk.type != "Physical Disk" or key(disk.group) != key(AVAILABLE_STORAGE):
            raise errors.exists(f"The cluster disk '{disk_name}' is already used by the role '{disk.group}'.")
        group = ClusterGroup(name, owner_node=_first_owner(world, cluster, [call.node.name]))
        cluster.groups[key(name)] = group
        try:
            _add_access_point(
                world, cluster, name, name, call.text("StaticAddress"), call.integer("ProbePort")
            )
        except errors.PowerShellError:
            del cluster.groups[key(name)]
            raise
        windows.take_offline(world, disk)
        disk.group = name
        dtc = Resource(f"MSDTC-{name}", DTC_TYPE, name, dependencies=[name, disk_name])
        cluster.resources[key(dtc.name)] = dtc
        actions.append(
            f"Add-ClusterServerRole {name}; Add-ClusterResource {dtc.name} -ResourceType '{DTC_TYPE}'"
        )
    group = cluster.groups[key(name)]
    ip = _ip_address(cluster, name)
    if ip is not None and call.integer("ProbePort"):  # converged on every run (finding 13), as the script does
        probe = _probe_parameters(str(ip.parameters.get("Address", "")), call.integer("ProbePort"))
        if any(ip.parameters.get(k) != v for k, v in probe.items()):
            windows.take_offline(world, ip)
            ip.parameters.update(probe)
            actions.append(f"Set-ClusterParameter -InputObject '{ip.name}' ProbePort={call.integer('ProbePort')}")
    if windows.group_state(cluster, group) != "Online":
        windows.group_online(world, group)
        actions.append(f"Start-ClusterGroup {name}")
    wanted: dict[str, str | bool] = {
        "inboundTransactionsEnabled": True,
        "outboundTransactionsEnabled": True,
        "remoteClientAccessEnabled": False,
        "authenticationLevel": "Incoming",
    }
    if cluster.dtc_settings.get(key(name)) != wanted:
        cluster.dtc_settings[key(name)] = dict(wanted)
        actions.append(f"Set-DtcNetworkSetting -DtcName {name}")
    return {**dtc_state(world, name), "actions": actions}


@operation("dtc_remove", params=(Param("Name", mandatory=True),))
def dtc_remove(call: Call) -> dict[str, object]:
    world, name = call.world, call.text("Name")
    cluster = world.cluster
    if cluster is None or cluster.group(name) is None:
        return {**dtc_state(world, name), "actions": []}
    windows.require_admin(call)
    group = cluster.groups[key(name)]
    _remove_group(world, cluster, group)
    cluster.dtc_settings.pop(key(name), None)
    return {**dtc_state(world, name), "actions": [f"Remove-ClusterGroup {name} -RemoveResources"]}


# --------------------------------------------------------------------------------------------- EntssoService


def role_state(world: World, name: str, resource_name: str) -> dict[str, object]:
    cluster = world.cluster
    group = cluster.group(name) if cluster else None
    if cluster is None or group is None:
        return {"exists": False, "name": name}
    ip, network_name = _ip_address(cluster, name), _network_name(cluster, name)
    service = cluster.resource(resource_name)
    if service is not None and key(service.group) != key(name):
        service = None
    return {
        "exists": True,
        "name": group.name,
        "state": windows.group_state(cluster, group),
        "ownerNode": group.owner_node,
        "preferredOwners": list(group.preferred_owners),
        "ipAddress": None
        if ip is None
        else {
            "resource": ip.name,
            "address": ip.parameters.get("Address", ""),
            "subnetMask": ip.parameters.get("SubnetMask", ""),
            "probePort": ip.parameters.get("ProbePort", 0),
            "enableDhcp": ip.parameters.get("EnableDhcp", 0),
            "overrideAddressMatch": ip.parameters.get("OverrideAddressMatch", 0),
            "state": ip.state,
        },
        "networkName": None
        if network_name is None
        else {
            "resource": network_name.name,
            "dnsName": network_name.parameters.get("DnsName", ""),
            "state": network_name.state,
        },
        "service": None
        if service is None
        else {
            "resource": service.name,
            "type": service.type,
            "serviceName": service.parameters.get("ServiceName", ""),
            "useNetworkName": service.parameters.get("UseNetworkName", 0),
            "possibleOwners": list(service.possible_owners) or list(cluster.nodes),
            "dependencies": list(service.dependencies),
            "state": service.state,
        },
        "clusterAccess": [{"account": a, "access": r, "type": "Allow"} for a, r in sorted(cluster.access.items())]
        + [{"account": a, "access": "Full", "type": "Deny"} for a in cluster.denied],
    }


@operation(
    "role_get",
    params=(Param("Name", mandatory=True), Param("ResourceName", default=ENTSSO)),
    reads_only=True,
)
def role_get(call: Call) -> dict[str, object]:
    return role_state(call.world, call.text("Name"), call.text("ResourceName"))


@operation(
    "role_set",
    params=(
        Param("Name", mandatory=True),
        Param("StaticAddress", mandatory=True),
        Param("ProbePort", "int", mandatory=True),
        Param("PreferredOwners", "string[]", mandatory=True),
        Param("ResourceName", default=ENTSSO),
        *DELEGATION,
    ),
)
def role_set(call: Call) -> dict[str, object]:
    world, name = call.world, call.text("Name")
    windows.require_admin(call)
    cluster = windows.require_cluster(world)
    owners = call.texts("PreferredOwners")
    strangers = [n for n in owners if not cluster.has_node(n)]
    if strangers:
        raise errors.not_found(f"The node '{strangers[0]}' is not a member of cluster '{cluster.name}'.")
    actions: list[str] = []
    if cluster.group(name) is None:
        windows.network_identity(call, f"Add-ClusterServerRole '{name}'")  # the role's computer object in AD
        cluster.groups[key(name)] = ClusterGroup(name, owner_node=_first_owner(world, cluster, owners))
        try:
            _add_access_point(
                world, cluster, name, name, call.text("StaticAddress"), call.integer("ProbePort")
            )
        except errors.PowerShellError:
            del cluster.groups[key(name)]
            raise
        actions.append(f"Add-ClusterServerRole -Name {name} -StaticAddress {call.text('StaticAddress')}")
    group = cluster.groups[key(name)]
    ip = _ip_address(cluster, name)
    if ip is None:
        raise errors.not_found(f"The role '{name}' has no IP Address resource.")
    wanted = _probe_parameters(call.text("StaticAddress"), call.integer("ProbePort"))
    if any(ip.parameters.get(k) != v for k, v in wanted.items()):
        ip.parameters.update(wanted)
        windows.take_offline(world, ip)  # IP parameters apply on the next online
        actions.append(f"Set-ClusterParameter -InputObject '{ip.name}' ProbePort={call.integer('ProbePort')}")
    if [key(n) for n in group.preferred_owners] != [key(n) for n in owners]:
        group.preferred_owners = [next(m for m in cluster.nodes if key(m) == key(n)) for n in owners]
        actions.append(f"Set-ClusterOwnerNode -Group {name} -Owners {','.join(owners)}")
    if windows.group_state(cluster, group) != "Online":
        windows.group_online(world, group)
        actions.append(f"Start-ClusterGroup {name}")
    return {**role_state(world, name, call.text("ResourceName")), "actions": actions}


@operation(
    "generic_service_set",
    params=(
        Param("Name", mandatory=True),
        Param("ResourceName", default=ENTSSO),
        Param("ServiceName", default=ENTSSO),
        Param("ServiceAccount", mandatory=True),
        Param("PossibleOwners", "string[]", mandatory=True),
    ),
)
def generic_service_set(call: Call) -> dict[str, object]:
    world, name, resource_name = call.world, call.text("Name"), call.text("ResourceName")
    cluster, _ = _find_group(world, name)
    windows.require_admin(call)
    owners = [next((m for m in cluster.nodes if key(m) == key(n)), n) for n in call.texts("PossibleOwners")]
    strangers = [n for n in owners if not cluster.has_node(n)]
    if strangers:
        raise errors.not_found(f"The node '{strangers[0]}' is not a member of cluster '{cluster.name}'.")
    service_name = call.text("ServiceName")
    actions: list[str] = []
    resource = cluster.resource(resource_name)
    if resource is None:
        resource = Resource(resource_name, "Generic Service", name, parameters={"StartupParameters": ""})
        cluster.resources[key(resource_name)] = resource
        actions.append(f"Add-ClusterResource {resource_name} -ResourceType 'Generic Service' -Group {name}")
    elif resource.type != "Generic Service" or key(resource.group) != key(name):
        raise errors.exists(
            f"A cluster resource named '{resource_name}' already exists in role '{resource.group}'."
        )
    wanted: dict[str, str | int] = {"ServiceName": service_name, "UseNetworkName": 1}
    changed = any(resource.parameters.get(k) != v for k, v in wanted.items())
    if changed:
        resource.parameters.update(wanted)
        actions.append(f"Set-ClusterParameter ServiceName={service_name} UseNetworkName=1")
    network_name = _network_name(cluster, name)
    if network_name is None:
        raise errors.not_found(f"The role '{name}' has no Network Name resource.")
    if key(network_name.name) not in {key(d) for d in resource.dependencies}:
        resource.dependencies.append(network_name.name)
        changed = True
        actions.append(f"Add-ClusterResourceDependency {resource_name} '{network_name.name}'")
    if [key(n) for n in resource.possible_owners or cluster.nodes] != [key(n) for n in owners]:
        resource.possible_owners = owners
        actions.append(f"Set-ClusterOwnerNode -Resource {resource_name} -Owners {','.join(owners)}")
    account = call.text("ServiceAccount")
    if key(account) in {key(d) for d in cluster.denied}:
        cluster.denied = [d for d in cluster.denied if key(d) != key(account)]
        cluster.access.pop(account, None)
        actions.append(f"Remove-ClusterAccess -User {account}")
    if cluster.access.get(account) != "Full":
        cluster.access[account] = "Full"
        actions.append(f"Grant-ClusterAccess -User {account} -Full")
    if changed and resource.state != "Offline":
        windows.take_offline(world, resource)  # private properties apply on the next online
    if resource.state != "Online":
        windows.bring_online(world, resource)
        actions.append(f"Start-ClusterResource {resource_name}")
    return {**role_state(world, name, resource_name), "actions": actions}


@operation(
    "role_move",
    params=(
        Param("Name", mandatory=True),
        Param("Node", mandatory=True),
        Param("ResourceName", default=ENTSSO),
    ),
)
def role_move(call: Call) -> dict[str, object]:
    world, name, target = call.world, call.text("Name"), call.text("Node")
    cluster, group = _find_group(world, name)
    windows.require_admin(call)
    actions: list[str] = []
    if key(group.owner_node) != key(target):
        windows.move_group(world, group, target)
        actions.append(f"Move-ClusterGroup {name} -Node {target}")
    resource = cluster.resource(call.text("ResourceName"))
    if resource is not None and key(resource.group) == key(name):
        # S2: take ENTSSO offline and online again on the new owner before a restore there.
        windows.take_offline(world, resource)
        windows.bring_online(world, resource)
        actions.append(f"Stop-ClusterResource/Start-ClusterResource {resource.name}")
    if windows.group_state(cluster, group) != "Online":
        windows.group_online(world, group)
    return {**role_state(world, name, call.text("ResourceName")), "actions": actions}


@operation("role_remove", params=(Param("Name", mandatory=True),))
def role_remove(call: Call) -> dict[str, object]:
    world, name = call.world, call.text("Name")
    cluster = world.cluster
    if cluster is None or cluster.group(name) is None:
        return {"exists": False, "name": name, "actions": []}
    windows.require_admin(call)
    _remove_group(world, cluster, cluster.groups[key(name)])
    return {"exists": False, "name": name, "actions": [f"Remove-ClusterGroup {name}"]}
