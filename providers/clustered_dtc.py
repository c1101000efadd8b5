"""Steps 14-17: a clustered DTC, the modern form of `comclust -a` and the DTC restart on each node.

Get: dtc_get on any cluster node. Test: the DTC role has its Distributed Transaction Coordinator
resource online, depending on the role's network name and on the cluster disk, and the DTC network
settings a cluster needs. Set: dtc_set, which adds only what is missing (the disk, the role with its
client access point, the DTC resource and its dependencies, the network settings; changing those
restarts DTC, which is what steps 15 and 17 do by hand). Delete removes the role and its resources.
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

IPv4 = Annotated[str, AfterValidator(lambda value: str(ipaddress.IPv4Address(value)))]
OUTPUTS = ("group", "resource", "state", "owner_node", "dependencies", "network_settings")
DTC_NETWORK_SETTINGS: dict[str, Any] = {
    "inboundTransactionsEnabled": True,
    "outboundTransactionsEnabled": True,
    "remoteClientAccessEnabled": False,
    "authenticationLevel": "Incoming",  # mutual authentication is not usable with a clustered DTC
}


class ClusteredDtcInputs(InputModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    nodes: list[NodeTarget] = Field(min_length=1)
    network_name: HostName
    ip: IPv4
    probe_port: int = Field(default=0, ge=0, le=65535)
    disk: str = Field(min_length=1)


class ClusteredDtcProvider(EntssoProvider):
    inputs_model = ClusteredDtcInputs
    # dtc_set builds the role once and never reshapes it: the network name is the role, a computer
    # object in AD and the name DTC clients use; the disk holds the DTC log and is a dependency fixed
    # at creation; the IP and its load balancer probe are set on the access point only as it is
    # created. A change to any of them is a new role, and the old one goes first (delete before
    # replace) because the name, the address and the disk can each belong to one role only.
    replace_on = frozenset({"network_name", "disk", "ip", "probe_port"})
    steps: ClassVar[dict[int, str]] = {14: "dtc_set", 15: "dtc_set", 16: "dtc_set", 17: "dtc_set"}

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = ClusteredDtcInputs.model_validate(_inputs(props))
        return CreateResult(inputs.network_name, {**props, **_outputs(self._converge(inputs))})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = ClusteredDtcInputs.model_validate(_inputs(news))
        return UpdateResult({**news, **_outputs(self._converge(inputs))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = ClusteredDtcInputs.model_validate(_inputs(props))
        state = self.on_any_node(
            inputs.nodes, "read ClusteredDtc", lambda remote: remote.call("dtc_get", Name=inputs.network_name)
        )
        if not state["exists"]:
            return ReadResult(None, {})
        live = {"ip": state["ipAddress"], "disk": state["disk"]}  # a changed one shows as a replacement
        return ReadResult(id_, {**props, **live, **_outputs(state)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = ClusteredDtcInputs.model_validate(_inputs(props))
        name = inputs.network_name
        try:
            self.on_any_node(inputs.nodes, "delete ClusteredDtc", lambda remote: remote.call("dtc_remove", Name=name))
        except RemoteOperationError as error:
            if not self.skip_unreachable(error):
                raise

    def drift(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        return _problems(olds, news.get("network_name"), olds.get("disk"))

    def _converge(self, inputs: ClusteredDtcInputs) -> dict[str, Any]:
        def work(remote: Remote) -> dict[str, Any]:
            state = remote.call("dtc_get", Name=inputs.network_name)
            if not state["exists"] or _problems(_outputs(state), inputs.network_name, inputs.disk):
                state = remote.call(
                    "dtc_set",
                    Name=inputs.network_name,
                    StaticAddress=inputs.ip,
                    Disk=inputs.disk,
                    ProbePort=inputs.probe_port,
                )
            problems = _problems(_outputs(state), inputs.network_name, inputs.disk)
            if state["ipAddress"] != inputs.ip:
                problems.append(f"its address is {state['ipAddress']}, not {inputs.ip}")
            if str(state["disk"]).upper() != inputs.disk.upper():
                problems.append(f"it uses the disk '{state['disk']}', not '{inputs.disk}'")
            if problems:
                raise RuntimeError(f"the clustered DTC role {inputs.network_name} is not right: {'; '.join(problems)}")
            return state

        return self.on_any_node(inputs.nodes, "ClusteredDtc", work)


def _problems(outputs: Mapping[str, Any], network_name: object, disk: object) -> list[str]:
    """What is wrong with a DTC role as `_outputs` describes it (empty: converged)."""
    if not outputs.get("resource"):
        return ["the Distributed Transaction Coordinator resource is missing"]
    problems: list[str] = []
    if outputs.get("state") != "Online":
        problems.append(f"the DTC resource is {outputs.get('state')}, not Online")
    dependencies = {str(name).upper() for name in outputs.get("dependencies") or []}
    for needed in (network_name, disk):
        if needed and str(needed).upper() not in dependencies:
            problems.append(f"the DTC resource does not depend on '{needed}'")
    if outputs.get("network_settings") != DTC_NETWORK_SETTINGS:
        problems.append("the DTC network settings are not the cluster ones (inbound/outbound on, Incoming)")
    return problems


def _outputs(state: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "group": state["name"] if state["exists"] else "",
        "resource": state.get("resource", ""),
        "state": state.get("state", "Absent"),
        "owner_node": state.get("ownerNode", ""),
        "dependencies": list(state.get("dependencies", [])),
        "network_settings": dict(state.get("networkSettings", {})),
    }


def _inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in ClusteredDtcInputs.model_fields if props.get(key) is not None}


class ClusteredDtc(Resource, module="entsso", name="ClusteredDtc"):
    """Steps 14-17: a Distributed Transaction Coordinator in a cluster role of its own."""

    group: pulumi.Output[str]
    resource: pulumi.Output[str]
    state: pulumi.Output[str]
    owner_node: pulumi.Output[str]
    dependencies: pulumi.Output[list[str]]
    network_settings: pulumi.Output[dict[str, Any]]

    def __init__(
        self,
        resource_name: str,
        *,
        nodes: pulumi.Input[list[NodeTarget]],
        network_name: pulumi.Input[str],
        ip: pulumi.Input[str],
        probe_port: pulumi.Input[int],
        disk: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "nodes": nodes,
            "network_name": network_name,
            "ip": ip,
            "probe_port": probe_port,
            "disk": disk,
            **dict.fromkeys(OUTPUTS),
        }
        super().__init__(ClusteredDtcProvider(), resource_name, props, opts)
