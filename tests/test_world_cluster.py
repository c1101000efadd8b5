"""Failover clustering, the ENTSSO role and the clustered DTC: the real scripts on the simulated Windows.

Every operation runs as the runner runs it (tests/world_support.invoke: the real bootstrap, envelope, library
and script) through the interpreter on a node of the world; Windows answers through the cmdlets of
simulator/world/surface/cluster.py, dtc.py and storage.py. Each test names the facts (docs/windows-facts.md)
and the issue 12 findings it shows.
"""

from __future__ import annotations

from typing import Any

import pytest

from providers import runner_wire
from simulator.powershell.engine import ProcessResult
from simulator.world import windows
from simulator.world.machine import run_script
from simulator.world.model import SQL_KEY, Service, SsoDatabase, World, key
from tests.test_world import CAP, DTC, INSTALL, N1, N2, OUTSIDER, SERVICE, WSFC, new_world
from tests.world_support import SCRIPTS, ScriptFailed, invoke, session

CREDSSP = {"DelegationMode": "CredSSP"}
SSO_IP, DTC_IP, SSO_PROBE, DTC_PROBE = "10.10.1.50", "10.10.1.60", 59999, 59998
DTC_DISK = "MSSDTC Disk"  # a name the cluster would never choose itself ("Cluster Disk <n>")
FEATURES = ["Failover-Clustering", "RSAT-Clustering-PowerShell"]


# --------------------------------------------------------------------------------------------- helpers


def nodes_ready(nodes: int = 2) -> World:
    """Domain-joined nodes with the clustering features, ENTSSO configured on each (the SSO area's work, seeded)."""
    world = new_world(nodes)
    for node in world.nodes.values():
        node.features += FEATURES
        node.services[key("ENTSSO")] = Service(
            "ENTSSO", "Enterprise Single Sign-On Service", "Stopped", "Manual", SERVICE
        )
        node.registry[key(SQL_KEY)] = {"Server": "SQL01", "Database": "SSODB"}
    world.sql.databases[key("SSODB")] = SsoDatabase("SSODB", exists=True, secret_server=CAP)
    return world


def op(world: World, node: str, operation: str, delegated: bool = False, user: str = INSTALL, **params: Any) -> Any:
    return invoke(world, session(node, user, delegated=delegated), operation, **params)


def refused(world: World, node: str, operation: str, delegated: bool = False, **params: Any) -> ScriptFailed:
    with pytest.raises(ScriptFailed) as caught:
        op(world, node, operation, delegated=delegated, **params)
    return caught.value


def ps(world: World, node: str, text: str, delegated: bool = False, user: str = INSTALL) -> ProcessResult:
    """powershell.exe -Command `text` with $ErrorActionPreference Stop, as the scripts run."""
    return run_script(world, node, "$ErrorActionPreference = 'Stop'\n" + text, session(node, user, delegated=delegated))


def invoke_text(
    world: World,
    node: str,
    operation: str,
    script: str,
    library: str | None = None,
    delegated: bool = False,
    **params: Any,
) -> Any:
    """An operation whose script or library text was changed (the mutation canaries)."""
    stdin = runner_wire.envelope(operation, script, params, library).decode("ascii")
    bootstrap = runner_wire.BOOTSTRAP_PATH.read_text(encoding="utf-8")
    process = run_script(world, node, bootstrap, session(node, INSTALL, delegated=delegated), stdin=stdin)
    outcome = runner_wire.read_result(process.stdout.encode("utf-8"))
    assert outcome is not None, process.stdout
    if not outcome.ok:
        raise ScriptFailed(outcome)
    return outcome.result


def clustered(nodes: int = 2) -> World:
    world = nodes_ready(nodes)
    op(world, N1, "cluster_new", delegated=True, Name=WSFC, Nodes=[N1, N2], **CREDSSP)
    return world


def with_dtc(world: World) -> dict[str, Any]:
    return op(
        world,
        N1,
        "dtc_set",
        delegated=True,
        Name=DTC,
        StaticAddress=DTC_IP,
        Disk=DTC_DISK,
        ProbePort=DTC_PROBE,
        **CREDSSP,
    )


def with_role(world: World) -> dict[str, Any]:
    op(
        world,
        N1,
        "role_set",
        delegated=True,
        Name=CAP,
        StaticAddress=SSO_IP,
        ProbePort=SSO_PROBE,
        PreferredOwners=[N1, N2],
        **CREDSSP,
    )
    return op(world, N1, "generic_service_set", Name=CAP, ServiceAccount=SERVICE, PossibleOwners=[N1, N2])


def without_actions(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k != "actions"}


# --------------------------------------------------------------------------------------------- the module


def test_the_module_exists_only_where_its_feature_is_installed() -> None:
    # F-CLU-28
    world = new_world()
    result = ps(world, N1, "Get-Cluster")
    assert result.terminating is not None
    assert result.terminating.error_id == "CommandNotFoundException"
    assert "The term 'Get-Cluster' is not recognized" in result.terminating.message
    world.nodes[key(N1)].features.append("RSAT-Clustering-PowerShell")
    assert "ClusterEndpointNotRegistered" in str(ps(world, N1, "Get-Cluster").terminating.error_id)  # type: ignore[union-attr]


def test_objects_have_exactly_the_properties_of_their_types() -> None:
    # F-CLU-27: a misspelled property throws under strict mode, as on Windows
    world = clustered()
    names = ps(world, N1, "(Get-ClusterGroup -Name 'Cluster Group').PSObject.Properties | ForEach-Object { $_.Name }")
    assert "OwnerNode" in names.output and "OwnerNodes" not in names.output
    strict = ps(world, N1, "Set-StrictMode -Version Latest; (Get-ClusterGroup -Name 'Cluster Group').OwnerNodes")
    assert strict.terminating is not None
    assert strict.terminating.error_id == "PropertyNotFoundStrict"


# --------------------------------------------------------------------------------------------- the cluster


def test_get_cluster_on_a_node_that_is_not_clustered_throws_even_with_silently_continue() -> None:
    # F-CLU-01: the fact itself, as P-01 probes it
    world = nodes_ready()
    probe = ps(
        world, N1, "try { Get-Cluster -ErrorAction SilentlyContinue; 'returned' } catch { $_.FullyQualifiedErrorId }"
    )
    assert probe.output == ["ClusterEndpointNotRegistered,Microsoft.FailoverClusters.PowerShell.GetClusterCommand"]
    shown = run_script(world, N1, "Get-Cluster -ErrorAction SilentlyContinue; 'next'", session(N1, INSTALL))
    assert shown.output == ["next"] and len(shown.errors) == 1  # ends its statement, and is not silenced
    error = shown.errors[0]
    assert error.category_info.category == "ConnectionError"
    assert error.message.startswith("The cluster service is not running.  Make sure that the service is running")


def test_cluster_get_on_a_node_that_is_not_clustered_reports_absent() -> None:
    # finding 1: today's `Get-Cluster -ErrorAction SilentlyContinue` ends the script on the first up
    world = nodes_ready()
    assert op(world, N1, "cluster_get") == {
        "exists": False,
        "name": "",
        "nodes": [],
        "managementPointNetworkType": "",
        "quorum": None,
        "heartbeat": None,
    }


def test_a_member_whose_cluster_service_stopped_is_down_and_reports_absent_itself() -> None:
    # F-CLU-01, F-CLU-24, F-CLU-26: ClusSvc stops on node 1: its roles move, node 2 sees it Down
    world = clustered()
    with_role(world)
    windows.stop_cluster_service(world, world.nodes[key(N1)])
    assert op(world, N1, "cluster_get")["exists"] is False
    state = op(world, N2, "cluster_get")
    assert state["nodes"] == [{"name": N1, "state": "Down"}, {"name": N2, "state": "Up"}]
    assert op(world, N2, "role_get", Name=CAP)["ownerNode"] == N2


def test_test_cluster_needs_delegated_credentials() -> None:
    # finding 2, F-CLU-04, F-REM-03: it reaches the other node with the session's token
    world = nodes_ready()
    error = refused(world, N1, "cluster_test", Nodes=[N1, N2], **CREDSSP)
    assert error.category == "PermissionDenied" and "Access is denied" in error.message
    report = op(world, N1, "cluster_test", delegated=True, Nodes=[N1, N2], **CREDSSP)
    assert report["passed"] is True and report["failures"] == []
    assert report["result"] == "HadUnselectedTests, ClusterConditionallyApproved"
    # Azure's single network path is a warning Microsoft says to ignore: listed, not a failure
    assert report["warnings"] == ["Network - Validate Network Communication: The test reported some warnings.."]
    assert world.nodes[key(N1)].file(report["report"]) is not None


def test_test_cluster_reports_failed_tests_that_raise_no_exception() -> None:
    # finding 2, F-CLU-04: a failed test is a warning and a line in the report; "no exception" is not "passed"
    world = nodes_ready()
    world.domain.computers.pop(key(N2))  # node 2 left the domain
    report = op(world, N1, "cluster_test", delegated=True, Nodes=[N1, N2], **CREDSSP)
    assert report["passed"] is False
    assert report["failures"] == ["System Configuration - Validate Active Directory Configuration: The test failed."]
    assert "ClusterConditionallyApproved" not in report["result"]


def test_cluster_new_needs_delegation_and_the_right_to_create_computer_objects() -> None:
    # F-CLU-05, F-REM-03
    world = nodes_ready()
    no_hop = refused(world, N1, "cluster_new", Name=WSFC, Nodes=[N1, N2], **CREDSSP)
    assert "Access is denied" in no_hop.message and no_hop.error_id.endswith("NewClusterCommand")
    creators = world.domain.computer_creators
    world.domain.computer_creators = []
    rights = refused(world, N1, "cluster_new", delegated=True, Name=WSFC, Nodes=[N1, N2], **CREDSSP)
    assert "may not create computer objects" in rights.message
    assert world.cluster is None and key(WSFC) not in world.domain.computers
    world.domain.computer_creators = creators
    created = op(world, N1, "cluster_new", delegated=True, Name=WSFC, Nodes=[N1, N2], **CREDSSP)
    assert created["actions"] == [f"New-Cluster {WSFC}"] and world.domain.computers[key(WSFC)].kind == "cno"
    again = op(world, N2, "cluster_new", delegated=True, Name=WSFC, Nodes=[N1, N2], **CREDSSP)
    assert again["actions"] == []


def test_cluster_new_reports_what_cluster_get_reports() -> None:
    # finding 3, F-CLU-05, F-CLU-07, F-AZ-02: Majority, and the management point Windows chose
    world = nodes_ready()
    created = op(
        world,
        N1,
        "cluster_new",
        delegated=True,
        Name=WSFC,
        Nodes=[N1, N2],
        ManagementPointNetworkType="Automatic",
        **CREDSSP,
    )
    assert without_actions(created) == op(world, N2, "cluster_get")
    assert created["managementPointNetworkType"] == "Distributed"  # Automatic in Azure
    assert created["quorum"] == {"type": "Majority", "witness": "", "witnessAccountName": "", "witnessEndpoint": ""}


def test_a_singleton_cluster_reports_singleton() -> None:
    # F-CLU-05, F-CLU-09: the core name is a Network Name with its IP address
    world = nodes_ready()
    world.cloud_platform = "None"  # on premises, Automatic means Singleton
    created = op(
        world,
        N1,
        "cluster_new",
        delegated=True,
        Name=WSFC,
        Nodes=[N1, N2],
        ManagementPointNetworkType="Automatic",
        StaticAddress="10.10.1.40",
        **CREDSSP,
    )
    assert created["managementPointNetworkType"] == "Singleton"


def test_a_cluster_name_already_in_the_domain_is_refused() -> None:
    # F-CLU-06 (the wording is assumed, L-05)
    world = nodes_ready()
    world.domain.computers[key(WSFC)] = world.domain.computers[key(N1)].__class__(WSFC, "computer")
    error = refused(world, N1, "cluster_new", delegated=True, Name=WSFC, Nodes=[N1, N2], **CREDSSP)
    assert f"The computer object '{WSFC}' already exists" in error.message
    assert world.cluster is None


def test_quorum_and_management_point_come_from_the_clusters_own_resources() -> None:
    # finding 4, F-CLU-07, F-CLU-09: a DNN or a Cloud Witness resource in some role decides nothing
    world = nodes_ready()
    world.cloud_platform = "None"
    op(
        world,
        N1,
        "cluster_new",
        delegated=True,
        Name=WSFC,
        Nodes=[N1, N2],
        ManagementPointNetworkType="Singleton",
        StaticAddress="10.10.1.40",
        **CREDSSP,
    )
    with_role(world)
    decoys = (
        f"Add-ClusterResource -Name SomeDnn -ResourceType 'Distributed Network Name' -Group {CAP} | Out-Null; "
        f"Add-ClusterResource -Name SomeWitness -ResourceType 'Cloud Witness' -Group {CAP} | Out-Null"
    )
    assert ps(world, N1, decoys).terminating is None
    state = op(world, N2, "cluster_get")
    assert state["managementPointNetworkType"] == "Singleton"
    assert state["quorum"]["witness"] == ""
    witnessed = op(world, N2, "cluster_quorum_set", WitnessAccountName="msswitness", WitnessAccessKey="a2V5")
    assert witnessed["actions"] == ["Set-ClusterQuorum -CloudWitness msswitness"]
    assert witnessed["managementPointNetworkType"] == "Singleton"
    assert witnessed["quorum"] == {
        "type": "Majority",
        "witness": "Cloud Witness",
        "witnessAccountName": "msswitness",
        "witnessEndpoint": "core.windows.net",
    }
    again = op(world, N1, "cluster_quorum_set", WitnessAccountName="msswitness", WitnessAccessKey="a2V5")
    assert again["actions"] == []


def test_cluster_quorum_set_on_a_node_that_is_not_clustered_fails_with_windows_words() -> None:
    # F-CLU-01
    world = nodes_ready()
    error = refused(world, N1, "cluster_quorum_set", WitnessAccountName="w", WitnessAccessKey="k")
    assert error.error_id == "ClusterEndpointNotRegistered,Microsoft.FailoverClusters.PowerShell.GetClusterCommand"


def test_heartbeat_thresholds_are_set_on_the_cluster_object_and_read_back() -> None:
    # F-CLU-29 (issue 13): Microsoft's relaxed values for Azure
    world = clustered()
    assert op(world, N1, "cluster_get")["heartbeat"] == {
        "sameSubnetDelay": 1000,
        "sameSubnetThreshold": 20,
        "crossSubnetDelay": 1000,
        "crossSubnetThreshold": 20,
    }
    relaxed = {"SameSubnetDelay": 1000, "SameSubnetThreshold": 40, "CrossSubnetDelay": 1000, "CrossSubnetThreshold": 40}
    state = op(world, N2, "cluster_heartbeat_set", **relaxed)
    assert state["actions"] == ["(Get-Cluster).SameSubnetThreshold = 40", "(Get-Cluster).CrossSubnetThreshold = 40"]
    assert op(world, N1, "cluster_get")["heartbeat"]["crossSubnetThreshold"] == 40
    assert op(world, N1, "cluster_heartbeat_set", **relaxed)["actions"] == []
    out_of_range = refused(world, N1, "cluster_heartbeat_set", **{**relaxed, "SameSubnetThreshold": 200})
    assert out_of_range.error_id.startswith("ParameterArgumentValidationError")
    direct = ps(world, N1, "(Get-Cluster).SameSubnetThreshold = 200")  # the cluster itself refuses it too
    assert direct.terminating is not None and "The parameter is incorrect." in direct.terminating.message


def test_cluster_remove_needs_delegation_and_cleans_up_active_directory() -> None:
    # F-CLU-22, F-CLU-03
    world = clustered()
    with_role(world)
    assert refused(world, N1, "cluster_remove", Name=WSFC, **CREDSSP).category == "PermissionDenied"
    removed = op(world, N2, "cluster_remove", delegated=True, Name=WSFC, **CREDSSP)
    assert removed["exists"] is False and removed["actions"] == [f"Remove-Cluster {WSFC} -CleanupAD"]
    assert world.cluster is None and key(WSFC) not in world.domain.computers and key(CAP) not in world.domain.computers
    for name in (N1, N2):
        assert world.nodes[key(name)].services[key("ClusSvc")].state == "Stopped"
        assert world.nodes[key(name)].services[key("ENTSSO")].state == "Stopped"
    assert op(world, N1, "cluster_remove", delegated=True, Name=WSFC, **CREDSSP)["actions"] == []


# --------------------------------------------------------------------------------------------- the ENTSSO role


def test_role_set_needs_delegation_for_the_roles_computer_object() -> None:
    # F-CLU-03, F-CLU-11 (finding 2's Add-ClusterServerRole)
    world = clustered()
    error = refused(
        world, N1, "role_set", Name=CAP, StaticAddress=SSO_IP, ProbePort=SSO_PROBE, PreferredOwners=[N1, N2], **CREDSSP
    )
    assert "Access is denied" in error.message and error.error_id.endswith("AddClusterServerRoleCommand")
    assert op(world, N1, "role_get", Name=CAP)["exists"] is False and key(CAP) not in world.domain.computers


def test_the_probe_answers_once_the_ip_came_online_with_its_properties() -> None:
    # F-CLU-12, F-AZ-01: stored on an online IP, a probe port waits for the next online
    world = clustered()
    role = op(
        world,
        N1,
        "role_set",
        delegated=True,
        Name=CAP,
        StaticAddress=SSO_IP,
        ProbePort=SSO_PROBE,
        PreferredOwners=[N1, N2],
        **CREDSSP,
    )
    assert role["ipAddress"]["probePort"] == SSO_PROBE and role["ipAddress"]["state"] == "Online"
    assert windows.probe_answerer(world, SSO_PROBE) == N1
    stored = ps(
        world,
        N1,
        f"Get-ClusterResource -Name 'IP Address {SSO_IP}' | Set-ClusterParameter -Name ProbePort -Value 50000",
    )
    assert stored.terminating is None
    assert any("will take effect" in text for stream, text in stored.host_lines if stream == "warning")
    assert windows.probe_answerer(world, 50000) == "" and windows.probe_answerer(world, SSO_PROBE) == N1
    again = op(
        world,
        N1,
        "role_set",
        delegated=True,
        Name=CAP,
        StaticAddress=SSO_IP,
        ProbePort=SSO_PROBE,
        PreferredOwners=[N1, N2],
        **CREDSSP,
    )
    assert again["actions"] == [
        f"Set-ClusterParameter -InputObject 'IP Address {SSO_IP}' ProbePort={SSO_PROBE}",
        f"Start-ClusterGroup {CAP}",
    ]
    assert windows.probe_answerer(world, SSO_PROBE) == N1 and again["state"] == "Online"


def test_role_set_reports_the_resource_it_is_given() -> None:
    # finding 17: role_set read the role for a hard-coded resource name 'ENTSSO'
    world = clustered()
    op(
        world,
        N1,
        "role_set",
        delegated=True,
        Name=CAP,
        StaticAddress=SSO_IP,
        ProbePort=SSO_PROBE,
        PreferredOwners=[N1, N2],
        **CREDSSP,
    )
    op(
        world,
        N1,
        "generic_service_set",
        Name=CAP,
        ResourceName="SSO Service",
        ServiceAccount=SERVICE,
        PossibleOwners=[N1, N2],
    )
    state = op(
        world,
        N1,
        "role_set",
        delegated=True,
        Name=CAP,
        StaticAddress=SSO_IP,
        ProbePort=SSO_PROBE,
        PreferredOwners=[N1, N2],
        ResourceName="SSO Service",
        **CREDSSP,
    )
    assert state["service"] is not None and state["service"]["resource"] == "SSO Service"


def test_generic_service_gives_entsso_the_network_name_and_is_idempotent() -> None:
    # F-CLU-13, F-CLU-14, F-CLU-16, F-CLU-17, F-SSO-19
    world = clustered()
    first = with_role(world)
    assert first["service"] == {
        "resource": "ENTSSO",
        "type": "Generic Service",
        "serviceName": "ENTSSO",
        "useNetworkName": 1,
        "possibleOwners": [N1, N2],
        "dependencies": [CAP],
        "state": "Online",
    }
    node = world.nodes[key(N1)]
    assert node.endpoint_names == [CAP] and windows.seen_computer_name(world, node) == CAP
    assert node.services[key("ENTSSO")].start_mode == "Manual"  # the resource DLL's doing (F-CLU-14)
    assert {"account": SERVICE, "access": "Full", "type": "Allow"} in first["clusterAccess"]
    again = op(world, N2, "generic_service_set", Name=CAP, ServiceAccount=SERVICE, PossibleOwners=[N1, N2])
    assert again["actions"] == [] and without_actions(again) == op(world, N1, "role_get", Name=CAP)


def test_a_deny_entry_is_not_a_grant() -> None:
    # finding 16, F-CLU-10
    world = clustered()
    with_role(world)
    assert ps(world, N1, f"Block-ClusterAccess -User '{SERVICE}'").terminating is None
    blocked = op(world, N1, "role_get", Name=CAP)
    assert {"account": SERVICE, "access": "Full", "type": "Deny"} in blocked["clusterAccess"]
    repaired = op(world, N1, "generic_service_set", Name=CAP, ServiceAccount=SERVICE, PossibleOwners=[N1, N2])
    assert repaired["actions"] == [
        f"Remove-ClusterAccess -User {SERVICE}",
        f"Grant-ClusterAccess -User {SERVICE} -Full",
    ]
    assert [e for e in repaired["clusterAccess"] if e["account"] == SERVICE] == [
        {"account": SERVICE, "access": "Full", "type": "Allow"}
    ]


def test_generic_service_set_reaches_no_other_node() -> None:
    # findings 19 and 20, F-REM-05: ENTSSO on the other node is the provider's to set, through its own session
    world = clustered()
    op(
        world,
        N1,
        "role_set",
        delegated=True,
        Name=CAP,
        StaticAddress=SSO_IP,
        ProbePort=SSO_PROBE,
        PreferredOwners=[N1, N2],
        **CREDSSP,
    )
    other = world.nodes[key(N2)].services[key("ENTSSO")]
    other.state, other.start_mode, other.started_by = "Running", "Auto", "scm"
    state = op(world, N1, "generic_service_set", Name=CAP, ServiceAccount=SERVICE, PossibleOwners=[N1, N2])
    assert (other.state, other.start_mode) == ("Running", "Auto")  # untouched from node 1
    assert all(isinstance(action, str) for action in state["actions"])  # no PSComputerName/RunspaceId objects
    assert "Invoke-Command" not in (SCRIPTS / "generic_service_set.ps1").read_text(encoding="utf-8")


def test_a_generic_service_without_its_service_or_a_possible_owner_fails_to_come_online() -> None:
    # F-CLU-15 (Win32 1060, 1058), F-CLU-19 (Win32 5071); the cmdlet's prefix is assumed
    world = clustered()
    with_role(world)
    missing = refused(
        world,
        N1,
        "generic_service_set",
        Name=CAP,
        ResourceName="Other",
        ServiceName="NoSuchService",
        ServiceAccount=SERVICE,
        PossibleOwners=[N1, N2],
    )
    assert "The specified service does not exist as an installed service." in missing.message
    disabled = ps(world, N1, "Stop-ClusterResource -Name ENTSSO | Out-Null")
    assert disabled.terminating is None
    world.nodes[key(N1)].services[key("ENTSSO")].start_mode = "Disabled"
    started = ps(world, N1, "Start-ClusterResource -Name ENTSSO")
    assert started.terminating is not None and "because it is disabled" in started.terminating.message
    world.nodes[key(N1)].services[key("ENTSSO")].start_mode = "Manual"
    owners = ps(world, N1, f"Set-ClusterOwnerNode -Resource ENTSSO -Owners {N2}; Start-ClusterResource -Name ENTSSO")
    assert owners.terminating is not None
    assert "The owner node cannot run this resource." in owners.terminating.message


def test_dependencies_and_absent_names_as_the_cluster_reports_them() -> None:
    # F-CLU-16 (Win32 5003), F-CLU-20 (a missing role is a non-terminating error: assumed, P-02)
    world = clustered()
    with_role(world)
    twice = ps(world, N1, f"Add-ClusterResourceDependency -Resource ENTSSO -Provider {CAP}")
    assert twice.terminating is not None and "because it is already dependent" in twice.terminating.message
    expression = ps(world, N1, "(Get-ClusterResourceDependency -Resource ENTSSO).DependencyExpression")
    assert expression.output == [f"[{CAP}]"]
    absent = run_script(world, N1, "Get-ClusterGroup -Name NoSuchRole; 'next'", session(N1, INSTALL))
    assert absent.output == ["next"] and absent.errors[0].category_info.category == "ObjectNotFound"
    assert op(world, N1, "role_get", Name="NoSuchRole") == {"exists": False, "name": "NoSuchRole"}


def test_moving_to_a_node_that_is_not_a_possible_owner_is_refused() -> None:
    # F-CLU-17, F-CLU-18: possible owners are the resource's; the move is refused with Win32 5016's words
    world = clustered()
    with_role(world)
    op(world, N1, "generic_service_set", Name=CAP, ServiceAccount=SERVICE, PossibleOwners=[N1])
    role = op(world, N1, "role_get", Name=CAP)
    assert role["service"]["possibleOwners"] == [N1] and role["preferredOwners"] == [N1, N2]
    error = refused(world, N1, "role_move", Name=CAP, Node=N2)
    assert "the node is not a possible owner of the group" in error.message
    assert error.error_id == "MoveClusterGroupFailed,Microsoft.FailoverClusters.PowerShell.MoveClusterGroupCommand"
    assert op(world, N2, "role_get", Name=CAP)["ownerNode"] == N1


def test_the_role_moves_and_entsso_follows_with_the_network_name() -> None:
    # F-CLU-13, F-CLU-16, F-SSO-21: on the new owner ENTSSO runs under the cluster, the old one's stops
    world = clustered()
    with_role(world)
    moved = op(world, N1, "role_move", Name=CAP, Node=N2)
    assert moved["ownerNode"] == N2 and moved["state"] == "Online"
    assert moved["actions"] == [
        f"Move-ClusterGroup {CAP} -Node {N2}",
        "Stop-ClusterResource/Start-ClusterResource ENTSSO",
    ]
    assert (
        world.nodes[key(N2)].endpoint_names == [CAP] and world.nodes[key(N1)].services[key("ENTSSO")].state == "Stopped"
    )
    assert windows.probe_answerer(world, SSO_PROBE) == N2


def test_when_the_owner_goes_down_the_role_fails_over_and_comes_back_with_it() -> None:
    # F-CLU-26, F-SVC-07
    world = clustered()
    with_role(world)
    windows.power_off(world, world.nodes[key(N1)])
    assert op(world, N2, "role_get", Name=CAP)["ownerNode"] == N2
    assert world.nodes[key(N2)].endpoint_names == [CAP]
    windows.power_on(world, world.nodes[key(N1)])
    assert op(world, N1, "cluster_get")["nodes"] == [{"name": N1, "state": "Up"}, {"name": N2, "state": "Up"}]


def test_role_remove_removes_the_role_and_its_computer_object() -> None:
    world = clustered()
    with_role(world)
    assert op(world, N2, "role_remove", Name=CAP)["actions"] == [f"Remove-ClusterGroup {CAP} -RemoveResources"]
    assert op(world, N1, "role_get", Name=CAP) == {"exists": False, "name": CAP}
    assert key(CAP) not in world.domain.computers and world.nodes[key(N1)].services[key("ENTSSO")].state == "Stopped"
    assert op(world, N2, "role_remove", Name=CAP)["actions"] == []


# --------------------------------------------------------------------------------------------- the clustered DTC


def test_the_shared_disk_arrives_raw_and_is_not_available_to_the_cluster() -> None:
    # F-AZ-03, F-CLU-23, F-AZ-04 (P-07: a RAW disk is not listed, assumed)
    world = clustered()
    disks = ps(world, N1, "Get-Disk | ForEach-Object { '{0} {1} {2}' -f $_.Number, $_.PartitionStyle, $_.IsBoot }")
    assert disks.output == ["0 GPT True", "1 MBR False", "2 RAW False"]
    lun = ps(
        world, N1, "Get-PhysicalDisk | Where-Object { $_.PhysicalLocation -match 'LUN 0$' } | ForEach-Object DeviceId"
    )
    assert lun.output == ["0", "2"]  # the OS disk at adapter 0 and the data disk at adapter 1
    assert ps(world, N1, "@(Get-ClusterAvailableDisk).Count").output == [0]


def test_dtc_set_prepares_the_raw_disk_and_names_the_cluster_disk_itself() -> None:
    # finding 14 (F-AZ-03, F-CLU-23), F-CLU-30, F-DTC-03
    world = clustered()
    state = with_dtc(world)
    assert state["actions"][:4] == [
        "Initialize-Disk 2 -PartitionStyle GPT",
        "New-Partition -DiskNumber 2 -UseMaximumSize; Format-Volume NTFS",
        "Add-ClusterDisk (disk 2 at LUN 0)",
        f"Rename cluster disk 'Cluster Disk 1' to '{DTC_DISK}'",
    ]
    disk = world.disks[0]
    assert disk.partition_style == "GPT" and [(p.file_system, p.label) for p in disk.partitions] == [("NTFS", DTC)]
    assert (state["state"], state["disk"], state["resource"]) == ("Online", DTC_DISK, f"MSDTC-{DTC}")
    assert sorted(state["dependencies"]) == sorted([DTC, DTC_DISK])
    assert key(DTC) in world.domain.computers
    again = with_dtc(world)
    assert again["actions"] == [] and without_actions(again) == without_actions(state)


def test_dtc_set_needs_delegation_and_a_disk_at_its_lun() -> None:
    # F-CLU-03; a missing disk is refused with the LUN named
    world = clustered()
    error = refused(world, N1, "dtc_set", Name=DTC, StaticAddress=DTC_IP, Disk=DTC_DISK, **CREDSSP)
    assert "Access is denied" in error.message
    missing = refused(
        world, N1, "dtc_set", delegated=True, Name=DTC, StaticAddress=DTC_IP, Disk="Other", DiskLun=5, **CREDSSP
    )
    assert "No shared data disk is attached at LUN 5" in missing.message


def test_dtc_network_settings_are_the_dtc_resources_and_live_on_its_owner() -> None:
    # finding 12, F-DTC-01, F-DTC-02
    world = clustered()
    with_dtc(world)
    on_owner = op(world, N1, "dtc_get", Name=DTC)
    assert on_owner["networkSettings"] == {
        "inboundTransactionsEnabled": True,
        "outboundTransactionsEnabled": True,
        "remoteClientAccessEnabled": False,
        "authenticationLevel": "Incoming",
    }
    elsewhere = op(world, N2, "dtc_get", Name=DTC)
    assert elsewhere["networkSettings"] is None and elsewhere["ownerNode"] == N1
    by_role_name = ps(world, N1, f"Get-DtcNetworkSetting -DtcName {DTC}")  # the role's name is not the instance's
    assert by_role_name.terminating is not None and "was not found" in by_role_name.terminating.message
    op(world, N1, "role_move", Name=DTC, Node=N2, ResourceName=f"MSDTC-{DTC}")
    assert op(world, N2, "dtc_get", Name=DTC)["networkSettings"] == on_owner["networkSettings"]


def test_dtc_network_settings_are_set_by_a_run_on_the_owner_only() -> None:
    # finding 12: on another node dtc_set leaves them to the owner (the provider runs it there)
    world = clustered()
    with_dtc(world)
    world.cluster.dtc_settings[key(f"MSDTC-{DTC}")]["InboundTransactionsEnabled"] = False  # type: ignore[union-attr]
    elsewhere = op(
        world,
        N2,
        "dtc_set",
        delegated=True,
        Name=DTC,
        StaticAddress=DTC_IP,
        Disk=DTC_DISK,
        ProbePort=DTC_PROBE,
        **CREDSSP,
    )
    assert elsewhere["actions"] == [] and elsewhere["networkSettings"] is None
    owner = with_dtc(world)
    assert owner["actions"] == [f"Set-DtcNetworkSetting -DtcName MSDTC-{DTC}"]
    assert owner["networkSettings"]["inboundTransactionsEnabled"] is True


def test_dtc_probe_properties_take_effect_and_are_converged_on_every_run() -> None:
    # finding 13, F-CLU-12, F-AZ-01
    world = clustered()
    with_dtc(world)
    assert windows.probe_answerer(world, DTC_PROBE) == N1  # set while the role was built, and in effect
    changed = ps(
        world,
        N1,
        f"Get-ClusterResource -Name 'IP Address {DTC_IP}' | Set-ClusterParameter ProbePort 50000; "
        f"Stop-ClusterResource -Name 'IP Address {DTC_IP}' | Out-Null; Start-ClusterGroup {DTC} | Out-Null",
    )
    assert changed.terminating is None and windows.probe_answerer(world, DTC_PROBE) == ""
    repaired = with_dtc(world)
    assert f"Set-ClusterParameter -InputObject 'IP Address {DTC_IP}' ProbePort={DTC_PROBE}" in repaired["actions"]
    assert repaired["probePort"] == DTC_PROBE and windows.probe_answerer(world, DTC_PROBE) == N1


def test_dtc_remove_deletes_the_disk_resource_and_dtc_set_builds_the_role_again() -> None:
    # finding 15, F-CLU-21
    world = clustered()
    with_dtc(world)
    assert op(world, N2, "dtc_remove", Name=DTC)["actions"] == [f"Remove-ClusterGroup {DTC} -RemoveResources"]
    assert world.cluster is not None and not [r for r in world.cluster.resources.values() if r.type == "Physical Disk"]
    assert ps(world, N1, "@(Get-ClusterAvailableDisk).Count").output == [1]  # formatted, no longer clustered
    rebuilt = with_dtc(world)
    assert rebuilt["actions"][:2] == [
        "Add-ClusterDisk (disk 2 at LUN 0)",
        f"Rename cluster disk 'Cluster Disk 1' to '{DTC_DISK}'",
    ]
    assert (rebuilt["state"], rebuilt["disk"]) == ("Online", DTC_DISK)
    assert op(world, N2, "dtc_remove", Name=DTC)["actions"] and op(world, N2, "dtc_remove", Name=DTC)["actions"] == []


def test_dtc_set_finishes_a_run_that_stopped_after_adding_the_disk() -> None:
    # a re-run resumes: the disk is found by its GUID under the name the cluster gave it, and renamed
    world = clustered()
    assert (
        ps(
            world,
            N1,
            "Initialize-Disk -Number 2; New-Partition -DiskNumber 2 -UseMaximumSize | Out-Null; "
            "Get-Disk -Number 2 | Add-ClusterDisk | Out-Null",
        ).terminating
        is None
    )
    state = with_dtc(world)
    assert state["actions"][0] == f"Rename cluster disk 'Cluster Disk 1' to '{DTC_DISK}'"
    assert state["state"] == "Online" and state["disk"] == DTC_DISK


# --------------------------------------------------------------------------------------------- canaries


def test_canary_a_misspelled_property_fails_as_windows_powershell_would() -> None:
    # issue 11 item 10: ClusterGroup has OwnerNode, not OwnerNodeName
    world = clustered()
    with_role(world)
    library = runner_wire.LIBRARY_PATH.read_text(encoding="utf-8").replace(
        "ownerNode       = $group.OwnerNode.Name", "ownerNode       = $group.OwnerNodeName"
    )
    assert "$group.OwnerNodeName" in library
    script = (SCRIPTS / "role_get.ps1").read_text(encoding="utf-8")
    with pytest.raises(ScriptFailed) as caught:
        invoke_text(world, N1, "role_get", script, library, Name=CAP)
    assert (
        caught.value.message
        == "The property 'OwnerNodeName' cannot be found on this object. Verify that the property exists."
    )
    assert caught.value.error_id == "PropertyNotFoundStrict"


def test_canary_a_parameter_the_cmdlet_does_not_have_fails_with_the_binders_words() -> None:
    # issue 11 item 10: Get-ClusterOwnerNode has -Resource, not -Name (the error text of
    # github.com/MicrosoftDocs/windows-powershell-docs/pull/1358)
    world = clustered()
    with_role(world)
    library = runner_wire.LIBRARY_PATH.read_text(encoding="utf-8").replace(
        "(Get-ClusterOwnerNode -Resource $service.Name)", "(Get-ClusterOwnerNode -Name $service.Name)"
    )
    script = (SCRIPTS / "role_get.ps1").read_text(encoding="utf-8")
    with pytest.raises(ScriptFailed) as caught:
        invoke_text(world, N1, "role_get", script, library, Name=CAP)
    assert caught.value.message == "A parameter cannot be found that matches parameter name 'Name'."
    assert (
        caught.value.error_id
        == "NamedParameterNotFound,Microsoft.FailoverClusters.PowerShell.GetClusterOwnerNodeCommand"
    )
    dtc = (
        (SCRIPTS / "dtc_set.ps1")
        .read_text(encoding="utf-8")
        .replace("Get-DtcNetworkSetting -DtcName $resourceName", "Get-DtcNetworkSetting -Name $resourceName")
    )
    with pytest.raises(ScriptFailed) as msdtc:
        invoke_text(world, N1, "dtc_set", dtc, delegated=True, Name=DTC, StaticAddress=DTC_IP, Disk=DTC_DISK, **CREDSSP)
    assert msdtc.value.error_id == "NamedParameterNotFound,Get-DtcNetworkSetting"


def test_an_outsider_cannot_change_the_cluster() -> None:
    # the cluster's access list: Full to change it (F-CLU-10); the wording is assumed
    world = clustered()
    result = ps(world, N1, "Get-ClusterGroup | Out-Null", user=OUTSIDER)
    assert result.terminating is not None and result.terminating.category_info.category == "PermissionDenied"
