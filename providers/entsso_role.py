"""Step 18: the cluster role that will hold ENTSSO, with its client access point.

Split out of EntssoService so that the role is a step of its own in the graph: Add-ClusterServerRole needs the
cluster and nothing of SSO or DTC (docs/windows-facts.md section 9), so it runs beside the clustered DTC and the
SSO configuration instead of after them. Get: role_get on any cluster node. Test: the role exists, its network
name and IP are online, the IP answers the Azure load balancer probe, its preferred owners are the nodes. Set:
role_set (delegated: Add-ClusterServerRole creates the role's computer object in AD). Delete: role_remove (the
role with everything in it; EntssoService's delete, which runs first, has usually removed it already).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult
from pydantic import AfterValidator, ConfigDict, Field

from providers.base import EntssoProvider, InputModel, Remote
from providers.runner import RemoteOperationError
from providers.targets import NodeTarget
from settings.model import HostName

ENTSSO = "ENTSSO"  # the Generic Service the role will hold (EntssoService adds it)
IPv4 = Annotated[str, AfterValidator(lambda value: str(ipaddress.IPv4Address(value)))]
PROBE_IP = {"subnetMask": "255.255.255.255", "enableDhcp": 0, "overrideAddressMatch": 1}  # azure.md 1.5
OUTPUTS = ("group", "preferred_owners")


class EntssoRoleInputs(InputModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    nodes: list[NodeTarget] = Field(min_length=1)
    network_name: HostName
    ip: IPv4
    probe_port: int = Field(ge=1, le=65535)

    def node_names(self) -> list[str]:
        return [str(node["name"]) for node in self.nodes]


class EntssoRoleProvider(EntssoProvider):
    inputs_model = EntssoRoleInputs
    # A new network name is a new client access point: a new role and a new computer object (the old one goes
    # first: the address and the name are unique in the cluster). role_set changes the address and the probe
    # port of the existing IP resource in place, so those are updates.
    replace_on = frozenset({"network_name"})
    steps: ClassVar[dict[int, str]] = {18: "role_set"}

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = EntssoRoleInputs.model_validate(_inputs(props))
        return CreateResult(inputs.network_name, {**props, **_outputs(self._converge(inputs))})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = EntssoRoleInputs.model_validate(_inputs(news))
        return UpdateResult({**news, **_outputs(self._converge(inputs))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = EntssoRoleInputs.model_validate(_inputs(props))
        state = self.on_any_node(inputs.nodes, "read EntssoRole", lambda remote: _role_get(remote, inputs))
        if not state["exists"]:
            return ReadResult(None, {})
        ip = state.get("ipAddress") or {}
        live = {"ip": ip.get("address", ""), "probe_port": ip.get("probePort", 0)}  # drift here is an update
        return ReadResult(id_, {**props, **live, **_outputs(state)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = EntssoRoleInputs.model_validate(_inputs(props))
        name = inputs.network_name
        try:
            self.on_any_node(inputs.nodes, "delete EntssoRole", lambda remote: remote.call("role_remove", Name=name))
        except RemoteOperationError as error:
            if not self.skip_unreachable(error):
                raise

    def _converge(self, inputs: EntssoRoleInputs) -> dict[str, Any]:
        def work(remote: Remote) -> dict[str, Any]:
            state = _role_get(remote, inputs)
            if role_problems(state, inputs.network_name, inputs.ip, inputs.probe_port, inputs.node_names()):
                remote.call(
                    "role_set",
                    Name=inputs.network_name,
                    StaticAddress=inputs.ip,
                    ProbePort=inputs.probe_port,
                    PreferredOwners=inputs.node_names(),
                    ResourceName=ENTSSO,
                    **self.delegation(),
                )
                state = _role_get(remote, inputs)
            problems = role_problems(state, inputs.network_name, inputs.ip, inputs.probe_port, inputs.node_names())
            if problems:
                raise RuntimeError(f"the ENTSSO role {inputs.network_name} is not right: {'; '.join(problems)}")
            return state

        return self.on_any_node(inputs.nodes, "EntssoRole", work)


def _role_get(remote: Remote, inputs: EntssoRoleInputs) -> dict[str, Any]:
    return remote.call("role_get", Name=inputs.network_name, ResourceName=ENTSSO)


def role_problems(state: Mapping[str, Any], network_name: str, ip: str, probe_port: int, nodes: list[str]) -> list[str]:
    """Step 18 as role_get shows it: the access point, its probe, the preferred owners."""
    if not state["exists"]:
        return [f"the role {network_name} does not exist"]
    live_ip, name = state.get("ipAddress") or {}, state.get("networkName") or {}
    wanted = {"address": ip, "probePort": probe_port, **PROBE_IP, "state": "Online"}
    problems = [
        f"IP {key} is {live_ip.get(key)!r}, not {value!r}" for key, value in wanted.items() if live_ip.get(key) != value
    ]
    if str(name.get("dnsName", "")).upper() != network_name.upper() or name.get("state") != "Online":
        problems.append(f"the network name {network_name} is missing or not online")
    if [n.upper() for n in state.get("preferredOwners", [])] != [n.upper() for n in nodes]:
        problems.append(f"preferred owners are {state.get('preferredOwners')}, not {nodes}")
    return problems


def _outputs(state: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "group": state["name"] if state["exists"] else "",
        "preferred_owners": list(state.get("preferredOwners") or []),
    }


def _inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in EntssoRoleInputs.model_fields if props.get(key) is not None}


class EntssoRole(Resource, module="entsso", name="EntssoRole"):
    """Step 18: the role with its client access point (network name and IP with the load balancer's probe port)."""

    group: pulumi.Output[str]
    preferred_owners: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        *,
        nodes: pulumi.Input[list[NodeTarget]],
        network_name: pulumi.Input[str],
        ip: pulumi.Input[str],
        probe_port: pulumi.Input[int],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "nodes": nodes,
            "network_name": network_name,
            "ip": ip,
            "probe_port": probe_port,
            **dict.fromkeys(OUTPUTS),
        }
        super().__init__(EntssoRoleProvider(), resource_name, props, opts)
