"""Steps 19-22: the Generic Service ENTSSO in the role.

The role itself (step 18, its client access point) is EntssoRole's, which runs beside the clustered DTC; the
move to node 2 (step 23) is SecretRestore's, which moves the role there and cycles ENTSSO before it restores.
Get: role_get on any cluster node. Test: the Generic Service runs ENTSSO with UseNetworkName=1, depends on
the network name, may run on every node, and the service account has full cluster access (an Allow entry
and no Deny entry). Set: generic_service_set (19-22) when its part is wrong. Before it, ENTSSO's startup
type must be Manual and no locally started ENTSSO may run on any node: this provider reads ENTSSO on each
node through its own session to it (sso_get) and changes only a node that is not so (sso_service_set): no
script reaches another node. Delete stops and removes the resource and the role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult
from pydantic import AfterValidator, ConfigDict, Field

from providers.base import EntssoProvider, InputModel, Remote
from providers.runner import RemoteOperationError
from providers.targets import NodeTarget
from settings.model import HostName, check_account

ENTSSO = "ENTSSO"
OUTPUTS = "group resource owner_node possible_owners dependencies service_name use_network_name state full_access"


class EntssoServiceInputs(InputModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    nodes: list[NodeTarget] = Field(min_length=1)
    network_name: HostName
    service_account: Annotated[str, AfterValidator(check_account)]

    def node_names(self) -> list[str]:
        return [str(node["name"]) for node in self.nodes]


class EntssoServiceProvider(EntssoProvider):
    inputs_model = EntssoServiceInputs
    # A new network name is a new role (EntssoRole's replacement) and a new Generic Service in it (the old one
    # goes first: the resource name ENTSSO is unique in the cluster). generic_service_set changes the account and
    # the owners in place; so those are updates.
    replace_on = frozenset({"network_name"})
    steps: ClassVar[dict[int, str]] = {
        19: "generic_service_set",
        20: "generic_service_set",
        21: "generic_service_set",
        22: "generic_service_set",
    }

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = EntssoServiceInputs.model_validate(_inputs(props))
        return CreateResult(inputs.network_name, {**props, **_outputs(self._converge(inputs))})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = EntssoServiceInputs.model_validate(_inputs(news))
        return UpdateResult({**news, **_outputs(self._converge(inputs))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = EntssoServiceInputs.model_validate(_inputs(props))
        state = self.on_any_node(inputs.nodes, "read EntssoService", lambda remote: _role_get(remote, inputs))
        if not state["exists"]:
            return ReadResult(None, {})
        # Where the role runs now is not this resource's to keep: SecretRestore fails it back and the
        # cluster fails it over; the owner recorded at create stays, so a refresh shows no drift.
        return ReadResult(id_, {**props, **_outputs(state), "owner_node": props.get("owner_node", "")})

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

    def _converge(self, inputs: EntssoServiceInputs) -> dict[str, Any]:
        names = inputs.node_names()

        def work(remote: Remote) -> dict[str, Any]:
            state = _role_get(remote, inputs)
            if not state["exists"]:
                raise RuntimeError(f"the role {inputs.network_name} does not exist: EntssoRole (step 18) comes first")
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
            problems = _service_problems(_outputs(state), inputs.network_name, names, inputs.service_account)
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
                local = remote.call("sso_get").get("service") or {}
                if (local.get("state"), local.get("startMode")) != (wanted, "Manual"):
                    remote.call("sso_service_set", State=wanted, StartupType="Manual")


def _role_get(remote: Remote, inputs: EntssoServiceInputs) -> dict[str, Any]:
    return remote.call("role_get", Name=inputs.network_name, ResourceName=ENTSSO)


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
    """Steps 19-22: the Generic Service ENTSSO in the role, started by the cluster only."""

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
        service_account: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "nodes": nodes,
            "network_name": network_name,
            "service_account": service_account,
            **dict.fromkeys(OUTPUTS.split()),
        }
        super().__init__(EntssoServiceProvider(), resource_name, props, opts)
