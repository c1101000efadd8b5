"""Prerequisite: the Windows Server failover cluster the ENTSSO role will live in.

The clustering features come first, from ClusterFeatures on each node (split out so that each node's
feature installation is a step of its own: the node's SSO install must not run during it). Get: the
cluster the first node is in. Test: Test-Cluster before a new cluster (delegated: it reaches every node;
a failed test is a warning in its report, not an exception, so its "Test Result" decides); afterwards
the members, the witness (Get-ClusterQuorum's own quorum resource) and the heartbeat settings. Set:
New-Cluster -NoStorage when the cluster is absent, a cloud witness when the quorum differs, the
heartbeat thresholds when they differ (Microsoft's relaxed values on Azure). Delete: Remove-Cluster
-CleanupAD from the first member that answers.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult
from pydantic import Field, SecretStr, ValidationInfo, model_validator

from providers.base import EntssoProvider, InputModel, unknown_inputs
from providers.runner import RemoteOperationError
from providers.targets import NodeTarget
from settings.model import Heartbeat, HostName

CLOUD_WITNESS = "Cloud Witness"  # the witness resource type's DisplayName (F-CLU-07)
DEFAULT_WITNESS_ENDPOINT = "core.windows.net"
HEARTBEAT_PARAMETERS = {  # cluster_heartbeat_set's parameters and cluster_get's heartbeat keys
    "same_subnet_delay": ("SameSubnetDelay", "sameSubnetDelay"),
    "same_subnet_threshold": ("SameSubnetThreshold", "sameSubnetThreshold"),
    "cross_subnet_delay": ("CrossSubnetDelay", "crossSubnetDelay"),
    "cross_subnet_threshold": ("CrossSubnetThreshold", "crossSubnetThreshold"),
}


class FailoverClusterInputs(InputModel):
    nodes: list[NodeTarget] = Field(min_length=1)
    cluster_name: HostName
    management_point: Literal["Distributed", "Singleton"] = "Distributed"
    static_address: str | None = None
    witness_account: str | None = None
    witness_key: SecretStr | None = None
    witness_endpoint: str | None = None
    delegation: Literal["CredSSP", "ScheduledTask"] = "ScheduledTask"
    heartbeat: Heartbeat | None = None

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> FailoverClusterInputs:
        names = [node["name"].upper() for node in self.nodes]
        if len(set(names)) != len(names):
            raise ValueError(f"nodes: a node is listed twice ({', '.join(names)})")
        unknown = unknown_inputs(info)
        if self.management_point == "Singleton" and not self.static_address and "static_address" not in unknown:
            raise ValueError("a Singleton management point needs static_address (the cluster's own IP)")
        has_account = self.witness_account is not None or "witness_account" in unknown
        has_key = self.witness_key is not None or "witness_key" in unknown
        if has_account != has_key:
            raise ValueError("a cloud witness needs both witness_account and witness_key (or neither)")
        return self

    def witness(self) -> tuple[str, str] | None:
        return None if self.witness_account is None else (self.witness_account, self.endpoint())

    def endpoint(self) -> str:
        return self.witness_endpoint or DEFAULT_WITNESS_ENDPOINT

    def heartbeat_wanted(self) -> dict[str, int] | None:
        return None if self.heartbeat is None else self.heartbeat.model_dump()


class FailoverClusterProvider(EntssoProvider):
    inputs_model = FailoverClusterInputs
    # Another name or management point is another cluster (a new CNO in AD): Remove-Cluster, New-Cluster.
    # `nodes` is not here: its endpoints and thumbprints change with the VMs while the cluster stays, and
    # replacing the cluster to add or evict a member would destroy the ENTSSO role with it. No operation
    # adds or evicts a member either, so a different membership is an update that stops with a clear message.
    # The witness is an update: Set-ClusterQuorum changes it in place. A new key for the same account does
    # not reach the cluster yet: cluster_quorum_set skips when account and endpoint already match.
    replace_on = frozenset({"cluster_name", "management_point", "static_address"})
    secret_outputs = ("witness_key",)
    # 0: the procedure's prerequisite ("a failover cluster"), which has no number of its own.
    steps: ClassVar[dict[int, str]] = {0: "cluster_new"}

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = FailoverClusterInputs.from_props(props)
        return CreateResult(inputs.cluster_name, {**props, **_outputs(self._converge(inputs))})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, **_outputs(self._converge(FailoverClusterInputs.from_props(news)))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = FailoverClusterInputs.from_props(props)
        state = self.on_any_node(inputs.nodes, "read FailoverCluster", lambda remote: remote.call("cluster_get"))
        if not state["exists"] or str(state["name"]).upper() != inputs.cluster_name.upper():
            return ReadResult("", {})
        outs = {**props, **_outputs(state), "management_point": state["managementPointNetworkType"]}
        if inputs.witness() is not None:  # without a witness input the quorum is not ours to judge
            live = _live_witness(state)
            if live != inputs.witness():  # "" (not None) keeps the pair valid for the next read and delete
                outs["witness_account"], outs["witness_endpoint"] = live or ("", "")
        if inputs.heartbeat is not None and _live_heartbeat(state) != inputs.heartbeat_wanted():
            # the next diff shows an update; the live values are in cluster_heartbeat (they may not pass as inputs)
            outs["heartbeat"] = None
        return ReadResult(id_, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = FailoverClusterInputs.from_props(props)
        for node in inputs.nodes:  # Remove-Cluster works from any member
            try:
                with self.node(node, "delete FailoverCluster") as remote:
                    remote.call("cluster_remove", Name=inputs.cluster_name, **self.delegation())
                return
            except RemoteOperationError as error:
                if not self.skip_unreachable(error):
                    raise

    def _converge(self, inputs: FailoverClusterInputs) -> dict[str, Any]:
        names = [node["name"] for node in inputs.nodes]
        with self.node(inputs.nodes[0], "FailoverCluster") as remote:
            state = remote.call("cluster_get")
            if not state["exists"]:
                # Test-Cluster takes minutes on Windows: run it when it guards New-Cluster, not on every up.
                report = remote.call("cluster_test", Nodes=names, **self.delegation())
                if not report["passed"]:
                    raise RuntimeError(
                        f"Test-Cluster did not approve the nodes ({report.get('result') or 'no result'}): "
                        f"{'; '.join(report['failures']) or 'see the report'}; report {report.get('report', '')} on "
                        f"{names[0]}"
                    )
                state = remote.call(
                    "cluster_new",
                    Name=inputs.cluster_name,
                    Nodes=names,
                    ManagementPointNetworkType=inputs.management_point,
                    StaticAddress=inputs.static_address,
                    **self.delegation(),
                )
            elif str(state["name"]).upper() != inputs.cluster_name.upper():
                raise RuntimeError(
                    f"{names[0]} is already a member of cluster {state['name']}, not {inputs.cluster_name}"
                )
            wanted = inputs.witness()
            if wanted is not None and _live_witness(state) != wanted:
                state = remote.call(
                    "cluster_quorum_set",
                    WitnessAccountName=inputs.witness_account,
                    WitnessAccessKey=inputs.witness_key.get_secret_value() if inputs.witness_key else None,
                    WitnessEndpoint=inputs.endpoint(),
                )
            heartbeat = inputs.heartbeat_wanted()
            if heartbeat is not None and _live_heartbeat(state) != heartbeat:
                state = remote.call(
                    "cluster_heartbeat_set",
                    **{HEARTBEAT_PARAMETERS[name][0]: value for name, value in heartbeat.items()},
                )
        _verify(inputs, state)
        return state


def _live_witness(state: dict[str, Any]) -> tuple[str, str] | None:
    quorum = state.get("quorum") or {}
    if quorum.get("witness") != CLOUD_WITNESS:
        return None
    return str(quorum["witnessAccountName"]), str(quorum["witnessEndpoint"])


def _live_heartbeat(state: dict[str, Any]) -> dict[str, int] | None:
    live = state.get("heartbeat")
    if not live:
        return None
    return {name: int(live[key]) for name, (_, key) in HEARTBEAT_PARAMETERS.items()}


def _verify(inputs: FailoverClusterInputs, state: dict[str, Any]) -> None:
    members = sorted(str(node["name"]).upper() for node in state["nodes"])
    wanted = sorted(node["name"].upper() for node in inputs.nodes)
    if members != wanted:
        raise RuntimeError(
            f"cluster {inputs.cluster_name} has the nodes {', '.join(members)}, the stack lists {', '.join(wanted)}: "
            "adding or evicting a member (Add-ClusterNode, Remove-ClusterNode) is not automated; "
            "change the cluster by hand or the stack's nodes"
        )
    if inputs.witness() is not None and _live_witness(state) != inputs.witness():
        raise RuntimeError(f"cluster {inputs.cluster_name}: the quorum is {state['quorum']}, not the cloud witness")
    if inputs.heartbeat is not None and _live_heartbeat(state) != inputs.heartbeat_wanted():
        raise RuntimeError(f"cluster {inputs.cluster_name}: the heartbeat settings are {state.get('heartbeat')}")


def _outputs(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "cluster_nodes": [str(node["name"]) for node in state["nodes"]],
        "quorum": state["quorum"],
        "cluster_heartbeat": state.get("heartbeat"),
    }


class FailoverCluster(Resource, module="entsso", name="FailoverCluster"):
    """The failover cluster of the nodes, with a cloud witness when one is given."""

    cluster_nodes: pulumi.Output[list[str]]
    quorum: pulumi.Output[dict[str, Any]]
    cluster_heartbeat: pulumi.Output[dict[str, int]]

    def __init__(
        self,
        resource_name: str,
        *,
        nodes: pulumi.Input[list[NodeTarget]],
        cluster_name: pulumi.Input[str],
        management_point: pulumi.Input[str],
        delegation: pulumi.Input[str],
        witness_account: pulumi.Input[str] | None = None,
        witness_key: pulumi.Input[str] | None = None,
        witness_endpoint: pulumi.Input[str] | None = None,
        static_address: pulumi.Input[str] | None = None,
        heartbeat: pulumi.Input[dict[str, int]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "nodes": nodes,
            "cluster_name": cluster_name,
            "management_point": management_point,
            "static_address": static_address,
            "witness_account": witness_account,
            "witness_key": witness_key,
            "witness_endpoint": witness_endpoint,
            "delegation": delegation,
            "heartbeat": heartbeat,
            "cluster_nodes": None,
            "quorum": None,
            "cluster_heartbeat": None,
        }
        secrets = pulumi.ResourceOptions(additional_secret_outputs=list(FailoverClusterProvider.secret_outputs))
        super().__init__(FailoverClusterProvider(), resource_name, props, pulumi.ResourceOptions.merge(opts, secrets))
