"""Steps 18-23: the ENTSSO role: client access point, Generic Service ENTSSO, then the move to node 2.

Get: role_get on any cluster node. Test: the role's IP answers the Azure load balancer probe, its
preferred owners are the nodes; the Generic Service runs ENTSSO with UseNetworkName=1, depends on
the network name, may run on every node, and the service account has full cluster access (an Allow
entry and no Deny entry). Set: role_set (step 18, delegated: Add-ClusterServerRole creates the role's
computer object in AD) and generic_service_set (19-22), each only when its part is wrong. Before
generic_service_set, ENTSSO's startup type is set to Manual and a locally started ENTSSO is stopped on
every node, through this provider's own session to each node (sso_service_set): no script reaches
another node. On create, role_move to `active_node` (23), which also cycles ENTSSO. Delete stops and
removes the resource and the role.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult
from pydantic import AfterValidator, ConfigDict, Field, model_validator

from providers.base import EntssoProvider, InputModel, Remote, target_named
from providers.runner import RemoteOperationError
from providers.targets import NodeTarget
from settings.model import HostName, check_account

ENTSSO = "ENTSSO"
IPv4 = Annotated[str, AfterValidator(lambda value: str(ipaddress.IPv4Address(value)))]
OUTPUTS = "group resource owner_node possible_owners dependencies service_name use_network_name state full_access"
PROBE_IP = {"subnetMask": "255.255.255.255", "enableDhcp": 0, "overrideAddressMatch": 1}  # azure.md 1.5


class EntssoServiceInputs(InputModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    nodes: list[NodeTarget] = Field(min_length=1)
    network_name: HostName
    ip: IPv4
    probe_port: int = Field(ge=1, le=65535)
    service_account: Annotated[str, AfterValidator(check_account)]
    active_node: str

    @model_validator(mode="after")
    def _active_node(self) -> EntssoServiceInputs:
        target_named(self.nodes, self.active_node)
        return self

    def node_names(self) -> list[str]:
        return [str(node["name"]) for node in self.nodes]


class EntssoServiceProvider(EntssoProvider):
    inputs_model = EntssoServiceInputs
    # A new network name is a new client access point: a new role and a new computer object (the
    # old one goes first: the address and the resource name ENTSSO are unique in the cluster).
    # role_set changes the address and the probe port of the existing IP resource in place, and
    # generic_service_set the account, the owners; so those are updates.
    replace_on = frozenset({"network_name"})
    steps: ClassVar[dict[int, str]] = {
        18: "role_set",
        19: "generic_service_set",
        20: "generic_service_set",
        21: "generic_service_set",
        22: "generic_service_set",
        23: "role_move",
    }

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = EntssoServiceInputs.model_validate(_inputs(props))
        return CreateResult(inputs.network_name, {**props, **_outputs(self._converge(inputs, move=True))})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = EntssoServiceInputs.model_validate(_inputs(news))
        # Failovers and SecretRestore's fail-back move the role legitimately: only a new active node does.
        move = str(olds.get("active_node", "")).upper() != inputs.active_node.upper()
        return UpdateResult({**news, **_outputs(self._converge(inputs, move=move))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = EntssoServiceInputs.model_validate(_inputs(props))
        state = self.on_any_node(inputs.nodes, "read EntssoService", lambda remote: _role_get(remote, inputs))
        if not state["exists"]:
            return ReadResult(None, {})
        ip = state.get("ipAddress") or {}
        live = {"ip": ip.get("address", ""), "probe_port": ip.get("probePort", 0)}  # drift here is an update
        # Where the role runs now is not this resource's to keep: SecretRestore fails it back and the
        # cluster fails it over; the owner recorded at create (step 23) stays, so a refresh shows no drift.
        return ReadResult(id_, {**props, **live, **_outputs(state), "owner_node": props.get("owner_node", "")})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = EntssoServiceInputs.model_validate(_inputs(props))
        name = inputs.network_name
        try:
            self.on_any_node(inputs.nodes, "delete EntssoService", lambda remote: remote.call("role_remove", Name=name))
        except RemoteOperationError as error:
            if not self.skip_unreachable(error):
                raise

    def drift(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        names = [str(node["name"]) for node in news.get("nodes") or []]
        account = news.get("service_account")
        return _service_problems(olds, news.get("network_name"), names, account if isinstance(account, str) else None)

    def _converge(self, inputs: EntssoServiceInputs, *, move: bool) -> dict[str, Any]:
        names = inputs.node_names()

        def work(remote: Remote) -> dict[str, Any]:
            state = _role_get(remote, inputs)
            if _role_problems(state, inputs):  # step 18
                remote.call(
                    "role_set",
                    Name=inputs.network_name,
                    StaticAddress=inputs.ip,
                    ProbePort=inputs.probe_port,
                    PreferredOwners=names,
                    ResourceName=ENTSSO,
                    **self.delegation(),
                )
                state = _role_get(remote, inputs)
            if _service_problems(_outputs(state), inputs.network_name, names, inputs.service_account):  # 19-22
                self._only_the_cluster_runs_entsso(inputs, state)
                remote.call(
                    "generic_service_set",
                    Name=inputs.network_name,
                    ResourceName=ENTSSO,
                    ServiceName=ENTSSO,
                    ServiceAccount=inputs.service_account,
                    PossibleOwners=names,
                )
                state = _role_get(remote, inputs)
            owner = str(state.get("ownerNode", "")).upper()
            if move and (owner != inputs.active_node.upper() or state["state"] != "Online"):  # step 23
                remote.call("role_move", Name=inputs.network_name, Node=inputs.active_node, ResourceName=ENTSSO)
                state = _role_get(remote, inputs)
            problems = _role_problems(state, inputs)
            problems += _service_problems(_outputs(state), inputs.network_name, names, inputs.service_account)
            if problems:
                raise RuntimeError(f"the ENTSSO role {inputs.network_name} is not right: {'; '.join(problems)}")
            return state

        return self.on_any_node(inputs.nodes, "EntssoService", work)

    def _only_the_cluster_runs_entsso(self, inputs: EntssoServiceInputs, state: Mapping[str, Any]) -> None:
        """Pitfall 2 on every possible owner: ENTSSO starts manually, and runs only where the cluster runs it.

        Each node is reached through the runner's own session to it (sso_service_set), not from another node:
        node-to-node WinRM needs a listener, Kerberos and an allowed network path (F-REM-05), which the nodes'
        network security group does not give (issue 12, finding 19).
        """
        service = state.get("service") or {}
        cluster_runs_it_on = str(state.get("ownerNode", "")).upper() if service.get("state") == "Online" else ""
        for target in inputs.nodes:
            wanted = "Running" if str(target["name"]).upper() == cluster_runs_it_on else "Stopped"
            with self.node(target, f"EntssoService: ENTSSO on {target['name']}") as remote:
                remote.call("sso_service_set", State=wanted, StartupType="Manual")


def _role_get(remote: Remote, inputs: EntssoServiceInputs) -> dict[str, Any]:
    return remote.call("role_get", Name=inputs.network_name, ResourceName=ENTSSO)


def _role_problems(state: Mapping[str, Any], inputs: EntssoServiceInputs) -> list[str]:
    """Step 18 as role_get shows it: the access point, its probe, the preferred owners."""
    if not state["exists"]:
        return [f"the role {inputs.network_name} does not exist"]
    ip, name = state.get("ipAddress") or {}, state.get("networkName") or {}
    wanted = {"address": inputs.ip, "probePort": inputs.probe_port, **PROBE_IP, "state": "Online"}
    problems = [f"IP {key} is {ip.get(key)!r}, not {value!r}" for key, value in wanted.items() if ip.get(key) != value]
    if str(name.get("dnsName", "")).upper() != inputs.network_name.upper() or name.get("state") != "Online":
        problems.append(f"the network name {inputs.network_name} is missing or not online")
    if [n.upper() for n in state.get("preferredOwners", [])] != [n.upper() for n in inputs.node_names()]:
        problems.append(f"preferred owners are {state.get('preferredOwners')}, not {inputs.node_names()}")
    return problems


def _service_problems(
    outputs: Mapping[str, Any], network_name: object, names: list[str], account: str | None = None
) -> list[str]:
    """Steps 19-22 as `_outputs` describes them (what a refresh stores, so that diff can judge drift)."""
    if not outputs.get("resource"):
        return ["the Generic Service ENTSSO is missing"]
    problems: list[str] = []
    if outputs.get("service_name") != ENTSSO:
        problems.append(f"ServiceName is {outputs.get('service_name')!r}, not {ENTSSO}")
    if outputs.get("use_network_name") != 1:
        problems.append(f"UseNetworkName is {outputs.get('use_network_name')}, not 1")
    if str(network_name).upper() not in {str(d).upper() for d in outputs.get("dependencies") or []}:
        problems.append(f"ENTSSO does not depend on the network name {network_name}")
    if [str(n).upper() for n in outputs.get("possible_owners") or []] != [n.upper() for n in names]:
        problems.append(f"possible owners are {outputs.get('possible_owners')}, not {names}")
    if outputs.get("state") != "Online":
        problems.append(f"ENTSSO is {outputs.get('state')}, not Online")
    if account is not None and account.upper() not in {str(a).upper() for a in outputs.get("full_access") or []}:
        problems.append(f"{account} has no full access to the cluster")
    return problems


def _outputs(state: Mapping[str, Any]) -> dict[str, Any]:
    service = state.get("service") or {}
    return {
        "group": state["name"] if state["exists"] else "",
        "resource": service.get("resource", ""),
        "owner_node": state.get("ownerNode", ""),
        "possible_owners": list(service.get("possibleOwners", [])),
        "dependencies": list(service.get("dependencies", [])),
        "service_name": service.get("serviceName", ""),
        "use_network_name": service.get("useNetworkName", 0),
        "state": service.get("state", "Absent"),
        "full_access": _full_access(state.get("clusterAccess") or []),
    }


def _full_access(entries: list[Mapping[str, Any]]) -> list[str]:
    """Accounts with full access to the cluster: an Allow entry for Full, and no Deny entry (F-CLU-10)."""
    denied = {str(e.get("account", "")).upper() for e in entries if e.get("type") == "Deny"}
    return [
        str(e["account"])
        for e in entries
        if e.get("access") == "Full" and e.get("type", "Allow") == "Allow" and str(e["account"]).upper() not in denied
    ]


def _inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in EntssoServiceInputs.model_fields if props.get(key) is not None}


class EntssoService(Resource, module="entsso", name="EntssoService"):
    """Steps 18-23: the clustered ENTSSO role, moved to the node that restores the secret."""

    group: pulumi.Output[str]
    resource: pulumi.Output[str]
    owner_node: pulumi.Output[str]
    possible_owners: pulumi.Output[list[str]]
    dependencies: pulumi.Output[list[str]]
    service_name: pulumi.Output[str]
    use_network_name: pulumi.Output[int]
    state: pulumi.Output[str]
    full_access: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        *,
        nodes: pulumi.Input[list[NodeTarget]],
        network_name: pulumi.Input[str],
        ip: pulumi.Input[str],
        probe_port: pulumi.Input[int],
        service_account: pulumi.Input[str],
        active_node: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "nodes": nodes,
            "network_name": network_name,
            "ip": ip,
            "probe_port": probe_port,
            "service_account": service_account,
            "active_node": active_node,
            **dict.fromkeys(OUTPUTS.split()),
        }
        super().__init__(EntssoServiceProvider(), resource_name, props, opts)
