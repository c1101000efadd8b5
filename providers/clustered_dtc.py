"""Steps 14-17: a clustered DTC, the modern form of `comclust -a` and the DTC restart on each node.

Get: dtc_get on any cluster node. Test: the DTC role has its Distributed Transaction Coordinator
resource online, depending on the role's network name and on the cluster disk, its IP answers the
load balancer probe, and the DTC network settings a cluster needs. Set: dtc_set (delegated:
Add-ClusterServerRole creates the role's computer object in AD), which adds only what is missing: the
Azure shared disk at `disk_lun` prepared (it arrives RAW) and added to the cluster under the name
`disk`, the role with its client access point, the DTC resource and its dependencies, the probe
properties of the IP, the network settings (changing those restarts DTC, which is what steps 15 and 17
do by hand). The network settings belong to the DTC instance on the node that owns the DTC resource,
so they are read and set there. Delete removes the role and its resources.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
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
    # Incoming: the belief that a clustered DTC cannot use Mutual comes from Windows Server 2003 material and is not
    # confirmed; Microsoft's current walkthrough sets Mutual on a clustered DTC (docs/windows-facts.md F-DTC-02).
    "authenticationLevel": "Incoming",
}


class ClusteredDtcInputs(InputModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    nodes: list[NodeTarget] = Field(min_length=1)
    network_name: HostName
    ip: IPv4
    probe_port: int = Field(default=0, ge=0, le=65535)
    disk: str = Field(min_length=1)  # the name dtc_set gives the cluster disk resource
    disk_lun: int = Field(default=0, ge=0, le=63)  # where the shared disk is attached (components' SHARED_DISK_LUN)


class ClusteredDtcProvider(EntssoProvider):
    inputs_model = ClusteredDtcInputs
    # The network name is the role, a computer object in AD and the name DTC clients use; the disk holds
    # the DTC log and is a dependency fixed at creation; the address is the access point's. A change to
    # any of them is a new role, and the old one goes first (delete before replace) because the name,
    # the address and the disk can each belong to one role only. The probe port is converged in place
    # on every run (it takes effect when dtc_set brings the IP online again, F-CLU-12): an update.
    replace_on = frozenset({"network_name", "disk", "disk_lun", "ip"})
    steps: ClassVar[dict[int, str]] = {14: "dtc_set", 15: "dtc_set", 16: "dtc_set", 17: "dtc_set"}

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = ClusteredDtcInputs.model_validate(_inputs(props))
        return CreateResult(inputs.network_name, {**props, **_outputs(self._converge(inputs))})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = ClusteredDtcInputs.model_validate(_inputs(news))
        return UpdateResult({**news, **_outputs(self._converge(inputs))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = ClusteredDtcInputs.model_validate(_inputs(props))
        state = self.on_any_node(inputs.nodes, "read ClusteredDtc", lambda remote: _dtc_get(remote, inputs))
        state = self._on_owner(inputs, state, "read ClusteredDtc", lambda remote: _dtc_get(remote, inputs))
        if not state["exists"]:
            return ReadResult(None, {})
        live = {"ip": state["ipAddress"], "disk": state["disk"]}  # a changed one shows as a replacement
        if inputs.probe_port:
            live["probe_port"] = state.get("probePort", 0)  # a changed one shows as an update
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
            state = _dtc_get(remote, inputs)
            wrong = _problems(_outputs(state), inputs.network_name, inputs.disk, _probe(state, inputs))
            if not state["exists"] or wrong:
                state = remote.call(
                    "dtc_set",
                    Name=inputs.network_name,
                    StaticAddress=inputs.ip,
                    Disk=inputs.disk,
                    DiskLun=inputs.disk_lun,
                    ProbePort=inputs.probe_port,
                    **self.delegation(),
                )
            return state

        state = self.on_any_node(inputs.nodes, "ClusteredDtc", work)
        state = self._on_owner(inputs, state, "ClusteredDtc: network settings", work)
        problems = _problems(_outputs(state), inputs.network_name, inputs.disk, _probe(state, inputs))
        if state.get("networkSettings") is None:
            problems.append(f"the DTC network settings could not be read on its owner node {state.get('ownerNode')}")
        if state["ipAddress"] != inputs.ip:
            problems.append(f"its address is {state['ipAddress']}, not {inputs.ip}")
        if str(state["disk"]).upper() != inputs.disk.upper():
            problems.append(f"it uses the disk '{state['disk']}', not '{inputs.disk}'")
        if problems:
            raise RuntimeError(f"the clustered DTC role {inputs.network_name} is not right: {'; '.join(problems)}")
        return state

    def _on_owner(
        self, inputs: ClusteredDtcInputs, state: dict[str, Any], label: str, work: Callable[[Remote], dict[str, Any]]
    ) -> dict[str, Any]:
        """`work` again on the node that owns the DTC resource, when the node that answered is not that node.

        The DTC network settings belong to the DTC instance named after the resource, and Windows reaches it on
        the resource's owner node (F-DTC-01): a script on another node reports them as unknown (null).
        """
        if not state["exists"] or state.get("networkSettings") is not None:
            return state
        owner_name = str(state.get("ownerNode", "")).upper()
        owner = next((t for t in inputs.nodes if str(t["name"]).upper() == owner_name), None)
        if owner is None:
            return state
        with self.node(owner, label) as remote:
            return work(remote)


def _dtc_get(remote: Remote, inputs: ClusteredDtcInputs) -> dict[str, Any]:
    return remote.call("dtc_get", Name=inputs.network_name)


def _probe(state: Mapping[str, Any], inputs: ClusteredDtcInputs) -> tuple[int, int] | None:
    """(live, wanted) probe port of the DTC's IP, when the stack wants a probe (finding 13: converged every run)."""
    return (int(state.get("probePort", 0) or 0), inputs.probe_port) if inputs.probe_port else None


def _problems(
    outputs: Mapping[str, Any], network_name: object, disk: object, probe: tuple[int, int] | None = None
) -> list[str]:
    """What is wrong with a DTC role as `_outputs` describes it (empty: converged). Network settings read as null
    (asked on a node that does not own the DTC) are not judged here: they are read again on the owner."""
    if not outputs.get("resource"):
        return ["the Distributed Transaction Coordinator resource is missing"]
    problems: list[str] = []
    if probe is not None and probe[0] != probe[1]:
        problems.append(f"the DTC IP's probe port is {probe[0]}, not {probe[1]}")
    if outputs.get("state") != "Online":
        problems.append(f"the DTC resource is {outputs.get('state')}, not Online")
    dependencies = {str(name).upper() for name in outputs.get("dependencies") or []}
    for needed in (network_name, disk):
        if needed and str(needed).upper() not in dependencies:
            problems.append(f"the DTC resource does not depend on '{needed}'")
    if outputs.get("network_settings") is not None and outputs.get("network_settings") != DTC_NETWORK_SETTINGS:
        problems.append("the DTC network settings are not the cluster ones (inbound/outbound on, Incoming)")
    return problems


def _outputs(state: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "group": state["name"] if state["exists"] else "",
        "resource": state.get("resource", ""),
        "state": state.get("state", "Absent"),
        "owner_node": state.get("ownerNode", ""),
        "dependencies": list(state.get("dependencies", [])),
        "network_settings": dict(state["networkSettings"]) if state.get("networkSettings") is not None else None,
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
        disk_lun: pulumi.Input[int] = 0,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "nodes": nodes,
            "network_name": network_name,
            "ip": ip,
            "probe_port": probe_port,
            "disk": disk,
            "disk_lun": disk_lun,
            **dict.fromkeys(OUTPUTS),
        }
        super().__init__(ClusteredDtcProvider(), resource_name, props, opts)
