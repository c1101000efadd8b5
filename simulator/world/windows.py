"""How Windows behaves underneath the cmdlets: services, ENTSSO, cluster resources, reboots.

The surface modules (simulator/world/surface) call these rules where Windows enforces them; they never change
the world in a way Windows would not.
"""

from __future__ import annotations

import os
import time

from simulator.world import errors
from simulator.world.model import (
    ENTSSO,
    EVENT_NO_DSN,
    EVENT_NO_LOCAL_SYSTEM,
    EVENT_NO_SECRETS,
    EVENT_SECRET_SERVER_STARTING,
    EVENT_SERVICE_NOT_SSO_ADMIN,
    EVENT_VALIDATE_FAILED,
    SQL_KEY,
    SSOSS_KEY,
    Cluster,
    ClusterGroup,
    Node,
    Resource,
    Service,
    SsoDatabase,
    World,
    key,
)

# --------------------------------------------------------------------------------------------- SSO database


def sso_config(node: Node) -> tuple[str, str] | None:
    values = node.registry_key(SQL_KEY)
    if not values:
        return None
    return values.get("Server", ""), values.get("Database", "")


def database(world: World, server: str, name: str) -> SsoDatabase:
    """SSODB as an SSO component reaches it; raises SQL's connection error when SQL is unreachable."""
    if key(server) != key(world.sql.name) or not world.sql.available:
        raise errors.sql_unreachable(server, name)
    # An absent database reads as one that does not exist; only SSO configuration (Create) stores one.
    return world.sql.databases.get(key(name)) or SsoDatabase(name=name)


# --------------------------------------------------------------------------------------------- ENTSSO service


def seen_computer_name(world: World, node: Node) -> str:
    """GetComputerName() inside ENTSSO: the role's network name only with UseNetworkName=1 + dependency."""
    resource = entsso_resource_on(world, node)
    if resource is None or resource.parameters.get("UseNetworkName") != 1:
        return node.name
    cluster = world.cluster
    assert cluster is not None
    for dependency in resource.dependencies:
        provider = cluster.resource(dependency)
        if provider is not None and provider.type == "Network Name" and provider.state == "Online":
            return str(provider.parameters.get("DnsName", provider.name))
    return node.name


def entsso_resource_on(world: World, node: Node) -> Resource | None:
    """The Generic Service resource that started ENTSSO on this node, if the cluster started it."""
    service = node.service(ENTSSO)
    cluster = world.cluster
    if cluster is None or service is None or service.started_by != "cluster":
        return None
    for resource in cluster.resources.values():
        group = cluster.group(resource.group)
        if (
            resource.type == "Generic Service"
            and key(str(resource.parameters.get("ServiceName", ""))) == ENTSSO
            and resource.state == "Online"
            and group is not None
            and key(group.owner_node) == key(node.name)
        ):
            return resource
    return None


def start_entsso(world: World, node: Node, by: str) -> None:
    """Start ENTSSO (`by` "scm": Start-Service or boot; "cluster": its Generic Service resource).

    What ENTSSO does as it starts, in this order (the order is assumed, probe P-15):
    - it cannot run as LocalSystem (11038 SSO_ERROR_NO_LOCAL_SYSTEM) nor without the SQL Server and SSODB
      names in the registry (10511 SSO_ERROR_NO_DSN); either way the service stops again and the SCM reports
      "Cannot start service" (implements F-SSO-02, F-SSO-06, F-SVC-03);
    - it reads SSODB as its service account (a service logon has network credentials). SQL unreachable:
      it keeps running but is nobody's master secret server (assumed). A service account outside SSODB's SSO
      Admin account stops it with 10550 SSO_ERROR_SERVICE_NOT_SSO_ADMIN (implements F-SSO-02);
    - it is the master secret server when the computer name it sees is SSODB's secret server: the node's
      name, or the role's network name only when its Generic Service resource started it with
      UseNetworkName and the dependency (implements F-SSO-19, F-SSO-20). Then it registers the RPC
      endpoint SSOSecretServer under that name and logs 10534. A locally started ENTSSO ("scm") never
      sees the network name, so once SSODB names the network name it is not the master, and a resource
      that merely adopts it leaves clients without an endpoint (implements F-SSO-21);
    - as the master it loads the secret this node holds under SSOSS, encrypted for the service account:
      none logs 10520, another account's logs 10565 (implements F-SSO-04, F-SSO-25).
    """
    service = node.service(ENTSSO)
    if service is None:
        raise errors.PowerShellError(
            f"Cannot find any service with service name '{ENTSSO}'.",
            "ObjectNotFound",
            "NoServiceFoundForGivenName",
        )
    if service.state == "Running":
        return
    if service.start_mode == "Disabled":
        raise cannot_start(service)
    if key(service.account) in ("LOCALSYSTEM", "NT AUTHORITY\\SYSTEM", ".\\LOCALSYSTEM"):
        world.log(node, EVENT_NO_LOCAL_SYSTEM, "Error", "The SSO service cannot run under the Local System account.")
        raise cannot_start(service)
    config = sso_config(node)
    if config is None:
        world.log(
            node,
            EVENT_NO_DSN,
            "Error",
            "The SQL Server and SSO database names were not found in the registry. Use the SSO admin utilities "
            "to configure these values.",
        )
        raise cannot_start(service)
    try:
        db: SsoDatabase | None = database(world, *config)
    except errors.PowerShellError:
        db = None  # ENTSSO keeps running and retries SQL; it is not the secret server meanwhile
    if db is not None and db.exists and db.admin_group and not world.domain.is_member(service.account, db.admin_group):
        world.log(
            node,
            EVENT_SERVICE_NOT_SSO_ADMIN,
            "Error",
            "The SSO service could not start because the service account it is running under is not a member of "
            f"the SSO Admin account.\r\nSSO Admin account: {db.admin_group}\r\nSSO service account: {service.account}",
        )
        raise cannot_start(service)
    mark_started(service, by)
    node.endpoint_names, node.loaded_secret = [], ""
    if db is None:
        return
    name = seen_computer_name(world, node)
    if not db.exists or key(db.secret_server) != key(name):
        return
    node.endpoint_names = [name]
    world.log(node, EVENT_SECRET_SERVER_STARTING, "Information", "This computer is the master secret server.")
    current = (node.registry_key(SSOSS_KEY) or {}).get("CurrentMSID", "")
    stored = node.registry_key(f"{SSOSS_KEY}\\{current}") if current else None
    if stored is None:
        world.log(
            node,
            EVENT_NO_SECRETS,
            "Warning",
            "No secrets were found in the registry of the master secret server. Use the configuration tools to "
            "generate or restore a master secret.",
        )
        return
    if key(stored.get("Account", "")) != key(service.account):
        world.log(
            node,
            EVENT_VALIDATE_FAILED,
            "Error",
            "The secret could not be loaded from the registry. The service account for the SSO service may have "
            "been changed or the secret may be corrupted. Restore the secret from a backup file.\r\n"
            f"MSID: {current} ",
        )
        return
    node.loaded_secret = current


def stop_entsso(world: World, node: Node) -> None:
    """Stop ENTSSO: its endpoint and loaded secret go; a Generic Service resource that ran it fails."""
    service = node.service(ENTSSO)
    if service is None or service.state == "Stopped":
        return
    mark_stopped(service)
    node.endpoint_names, node.loaded_secret = [], ""
    # A Generic Service resource notices its service stopped underneath it.
    cluster = world.cluster
    if cluster is None:
        return
    for resource in cluster.resources.values():
        group = cluster.group(resource.group)
        if (
            resource.type == "Generic Service"
            and key(str(resource.parameters.get("ServiceName", ""))) == ENTSSO
            and resource.state == "Online"
            and group is not None
            and key(group.owner_node) == key(node.name)
        ):
            resource.state = "Failed"


def cannot_start(service: Service) -> errors.PowerShellError:
    """implements F-SVC-03: Start-Service's CouldNotStartService (OpenError) with ServiceController's message."""
    return errors.PowerShellError(
        f"Service '{service.display_name} ({service.name})' cannot be started due to the following error: "
        f"Cannot start service {service.name} on computer '.'.",
        "OpenError",
        "CouldNotStartService",
    )


def mark_started(service: Service, by: str) -> None:
    """The service's process runs: a process id (a multiple of 4, as Windows allocates them) and a start time."""
    service.state, service.started_by = "Running", by
    service.process_id = 4 * (256 + int.from_bytes(os.urandom(2), "big"))
    service.started_at = time.time()


def mark_stopped(service: Service) -> None:
    service.state, service.started_by = "Stopped", ""
    service.process_id, service.started_at = 0, 0.0


# ------------------------------------------------------------------------------------ cluster resources


def require_cluster(world: World) -> Cluster:
    if world.cluster is None:
        raise errors.PowerShellError(
            "The cluster service is not running. Make sure that the service is running on all nodes in the "
            "cluster. "
            "There are no more endpoints available from the endpoint mapper.",
            "ConnectionError",
            "ClusterCmdletException",
        )
    return world.cluster


def owner_of(cluster: Cluster, resource: Resource) -> ClusterGroup:
    group = cluster.group(resource.group)
    assert group is not None
    return group


def bring_online(world: World, resource: Resource) -> None:
    cluster = require_cluster(world)
    if resource.state == "Online":
        return
    group = owner_of(cluster, resource)
    owner = group.owner_node
    if resource.possible_owners and key(owner) not in {key(n) for n in resource.possible_owners}:
        # implements F-CLU-19: Win32 5071 ERROR_NODE_CANT_HOST_RESOURCE (which of 5071/5015 applies is assumed)
        raise errors.invalid(
            f"Failed to bring the resource '{resource.name}' online.\n"
            "The cluster resource cannot be brought online. The owner node cannot run this resource.",
            "ClusterCmdletException",
        )
    for dependency in resource.dependencies:
        provider = cluster.resource(dependency)
        if provider is not None:
            bring_online(world, provider)
    node = world.node(owner)
    if resource.type == "Generic Service" and node is not None:
        service_name = str(resource.parameters.get("ServiceName", ""))
        service = node.service(service_name)
        if service is None:
            resource.state = "Failed"
            # implements F-CLU-15: Win32 1060 ERROR_SERVICE_DOES_NOT_EXIST (the cmdlet's prefix is assumed)
            raise errors.invalid(
                f"Failed to bring the resource '{resource.name}' online.\n"
                "The specified service does not exist as an installed service.",
                "ClusterCmdletException",
            )
        if service.start_mode == "Disabled":
            resource.state = "Failed"
            # implements F-CLU-15: Win32 1058 ERROR_SERVICE_DISABLED
            raise errors.invalid(
                f"Failed to bring the resource '{resource.name}' online.\n"
                "The service cannot be started, either because it is disabled or because it has no enabled "
                "devices associated with it.",
                "ClusterCmdletException",
            )
        # implements F-CLU-14 (inferred, P-05): the resource DLL sets its service to manual start before it
        # starts it, so that only the cluster starts it.
        service.start_mode = "Manual"
        if key(service_name) == ENTSSO:
            if service.state == "Running":
                # Started outside the cluster: the resource merely monitors it (esso.md pitfall 2).
                _online(resource)
                return
            _online(resource)  # online first, so ENTSSO sees the network name
            service.started_by = "cluster"
            try:
                service.state = "Stopped"
                start_entsso(world, node, "cluster")
            except errors.PowerShellError:
                resource.state = "Failed"
                raise
            return
        service.state, service.started_by = "Running", "cluster"
    _online(resource)


def _online(resource: Resource) -> None:
    # implements F-CLU-12: the private properties stored while it was offline take effect now
    resource.state = "Online"
    resource.applied = dict(resource.parameters)


def take_offline(world: World, resource: Resource) -> None:
    cluster = require_cluster(world)
    for other in cluster.resources.values():
        if key(resource.name) in {key(d) for d in other.dependencies}:
            take_offline(world, other)
    if resource.type == "Generic Service" and resource.state in ("Online", "Failed"):
        node = world.node(owner_of(cluster, resource).owner_node)
        service = None if node is None else node.service(str(resource.parameters.get("ServiceName", "")))
        if node is not None and service is not None and service.started_by == "cluster":
            if key(service.name) == ENTSSO:
                stop_entsso(world, node)
            else:
                service.state, service.started_by = "Stopped", ""
    resource.state = "Offline"


def group_online(world: World, group: ClusterGroup) -> None:
    cluster = require_cluster(world)
    for resource in cluster.group_resources(group.name):
        bring_online(world, resource)


def group_offline(world: World, group: ClusterGroup) -> None:
    cluster = require_cluster(world)
    for resource in cluster.group_resources(group.name):
        take_offline(world, resource)


def group_state(cluster: Cluster, group: ClusterGroup) -> str:
    states = {r.state for r in cluster.group_resources(group.name)}
    if not states or states == {"Offline"}:
        return "Offline"
    if states == {"Online"}:
        return "Online"
    return "Failed" if "Failed" in states else "PartialOnline"


def cluster_node_up(world: World, node_name: str) -> bool:
    """ClusterNode.State Up: the node runs and so does its cluster service (F-CLU-01, F-CLU-24)."""
    node = world.node(node_name)
    if node is None or not node.up:
        return False
    service = node.service("ClusSvc")
    return service is not None and service.state == "Running"


def can_own(world: World, cluster: Cluster, group: ClusterGroup, node_name: str) -> bool:
    if not cluster.has_node(node_name) or not cluster_node_up(world, node_name):
        return False
    return all(
        not r.possible_owners or key(node_name) in {key(n) for n in r.possible_owners}
        for r in cluster.group_resources(group.name)
    )


def move_group(world: World, group: ClusterGroup, node_name: str) -> None:
    cluster = require_cluster(world)
    if not cluster.has_node(node_name):
        raise errors.not_found(
            f"The node '{node_name}' is not a member of cluster '{cluster.name}'.", "ClusterCmdletException"
        )
    if not can_own(world, cluster, group, node_name):
        raise errors.invalid(
            f"An error occurred while moving the clustered role '{group.name}'.\nThe operation failed "
            "because either "
            f"the specified cluster node '{node_name}' is not the owner of the group, or the node is not a "
            "possible "
            "owner of the group.",
            "ClusterCmdletException",
        )
    if key(group.owner_node) == key(node_name):
        return
    group_offline(world, group)
    group.owner_node = next(n for n in cluster.nodes if key(n) == key(node_name))
    group_online(world, group)


def fail_over(world: World, group: ClusterGroup) -> bool:
    """Move a group to the next node that can own it (preferred owners first); False when none can."""
    cluster = require_cluster(world)
    candidates = [*group.preferred_owners, *cluster.nodes]
    for name in candidates:
        if key(name) != key(group.owner_node) and can_own(world, cluster, group, name):
            move_group(world, group, name)
            return True
    return False


# --------------------------------------------------------------------------------------------- power


def power_off(world: World, node: Node) -> None:
    """The node goes down: its services stop; the cluster fails its groups over where it can."""
    for service in node.services.values():
        if key(service.name) == ENTSSO:
            stop_entsso(world, node)
        mark_stopped(service)
    node.endpoint_names, node.loaded_secret = [], ""
    node.up = False
    cluster = world.cluster
    if cluster is None or not cluster.has_node(node.name):
        return
    for group in cluster.groups.values():
        if key(group.owner_node) != key(node.name):
            continue
        for resource in cluster.group_resources(group.name):
            resource.state = "Offline"
        others = [n for n in [*group.preferred_owners, *cluster.nodes] if key(n) != key(node.name)]
        for name in others:
            if can_own(world, cluster, group, name):
                group.owner_node = next(n for n in cluster.nodes if key(n) == key(name))
                _online_quietly(world, group)
                break


def power_on(world: World, node: Node) -> None:
    """Boot: services per startup type first (as the SCM does), then the cluster brings its groups online."""
    node.up = True
    for service in node.services.values():
        if service.start_mode != "Auto":
            continue
        if key(service.name) == ENTSSO:
            try:
                start_entsso(world, node, "scm")
            except errors.PowerShellError:
                continue
        else:
            mark_started(service, "scm")
    cluster = world.cluster
    if cluster is None or not cluster.has_node(node.name):
        return
    for group in cluster.groups.values():
        if key(group.owner_node) == key(node.name) and group_state(cluster, group) != "Online":
            _online_quietly(world, group)


def _online_quietly(world: World, group: ClusterGroup) -> None:
    # The cluster service brings groups online on its own; a failure leaves the resource Failed, as in
    # Failover Cluster Manager, instead of an error to anyone.
    cluster = require_cluster(world)
    for resource in cluster.group_resources(group.name):
        try:
            bring_online(world, resource)
        except errors.PowerShellError:
            resource.state = "Failed"


def stop_cluster_service(world: World, node: Node) -> None:
    """ClusSvc stops on `node` (Stop-Service, a crash): the node is Down to the cluster and the groups it
    owned fail over to the nodes that can own them (F-CLU-26); its own services keep running."""
    service = node.service("ClusSvc")
    if service is None or service.state != "Running":
        return
    mark_stopped(service)
    cluster = world.cluster
    if cluster is None or not cluster.has_node(node.name):
        return
    for group in cluster.groups.values():
        if key(group.owner_node) != key(node.name):
            continue
        for resource in cluster.group_resources(group.name):
            take_offline(world, resource)
        others = [n for n in [*group.preferred_owners, *cluster.nodes] if key(n) != key(node.name)]
        for name in others:
            if can_own(world, cluster, group, name):
                group.owner_node = next(n for n in cluster.nodes if key(n) == key(name))
                _online_quietly(world, group)
                break


def start_cluster_service(world: World, node: Node) -> None:
    """ClusSvc starts on `node`: the node is Up to the cluster again. Roles stay where they failed over (no
    failback is configured, F-CLU-26); a role it still owns comes online, as at boot."""
    service = node.service("ClusSvc")
    if service is None or service.state == "Running":
        return
    mark_started(service, "scm")
    cluster = world.cluster
    if cluster is None or not cluster.has_node(node.name):
        return
    for group in cluster.groups.values():
        if key(group.owner_node) == key(node.name) and group_state(cluster, group) != "Online":
            _online_quietly(world, group)


def probe_answerer(world: World, port: int) -> str:
    """The node that answers an Azure load balancer probe on `port`, or "" (F-AZ-01, F-CLU-12): the owner of
    an online IP Address resource whose ProbePort in effect is `port`."""
    cluster = world.cluster
    if cluster is None:
        return ""
    for resource in cluster.resources.values():
        if resource.type == "IP Address" and resource.state == "Online" and resource.applied.get("ProbePort") == port:
            group = cluster.group(resource.group)
            if group is not None and cluster_node_up(world, group.owner_node):
                return group.owner_node
    return ""


def reboot(world: World, node: Node) -> None:
    power_off(world, node)
    power_on(world, node)


# --------------------------------------------------------------------------------------------- SSO clients


def secret_server_host(world: World, name: str) -> tuple[Node | None, bool]:
    """The node a client reaches when it contacts `name`, and whether that name resolves at all."""
    node = world.node(name)
    if node is not None:
        return (node if node.up else None), node.up
    cluster = world.cluster
    if cluster is None:
        return None, False
    for resource in cluster.resources.values():
        if resource.type == "Network Name" and key(
            str(resource.parameters.get("DnsName", resource.name))
        ) == key(name):
            if resource.state != "Online":
                return None, False
            return world.node(owner_of(cluster, resource).owner_node), True
    return None, False


def contact_secret_server(world: World, secret_server: str, db: SsoDatabase) -> Node:
    """What an SSO client does to get the master secret: RPC to the SSOSecretServer endpoint of the name."""
    host, resolves = secret_server_host(world, secret_server)
    if host is None or not resolves:
        raise errors.sso_contact(secret_server, errors.RPC_UNAVAILABLE)
    if key(secret_server) not in {key(n) for n in host.endpoint_names}:
        raise errors.sso_contact(secret_server, errors.RPC_NO_ENDPOINTS)
    if not host.loaded_secret or host.loaded_secret != db.secret_id:
        raise errors.PowerShellError(
            "ERROR: 0xC0002A12 : Cannot perform encryption or decryption because the secret is not "
            "available from "
            f"the master secret server '{secret_server}'. See the event log (on computer '{host.name}') "
            "for related "
            "errors. (event 10783)",
            "InvalidOperation",
            "SSO_ERROR_SECRET_NOT_AVAILABLE",
        )
    return host


def sso_client_can_get_secret(world: World) -> tuple[bool, str]:
    """Read-only: can an SSO client get the master secret from the secret server SSODB names?"""
    databases = [db for db in world.sql.databases.values() if db.exists]
    if not databases:
        return False, "no SSO database exists"
    db = databases[0]
    try:
        database(world, world.sql.name, db.name)
        host = contact_secret_server(world, db.secret_server, db)
    except errors.PowerShellError as failure:
        return False, str(failure)
    return True, f"secret served by '{db.secret_server}' from node {host.name}"
