"""The `simulator` target's stand-in for the Azure components: where each simulated node listens.

`python -m ops simulate` (and the rehearsal) serve node i of the stack on
`http://<simulator.host>:<simulator.basePort + i>/wsman`; nothing is created in any cloud.
"""

from __future__ import annotations

import hashlib

import pulumi

from components.access import NodeAccess, WitnessAccess
from settings import StackSettings


def simulated_node_endpoint(config: StackSettings, index: int) -> str:
    assert config.simulator is not None
    return f"{config.winrm.scheme}://{config.simulator.host}:{config.simulator.base_port + index}/wsman"


def simulated_nodes(config: StackSettings) -> list[NodeAccess]:
    return [
        NodeAccess(name=node.name, ip=str(node.ip), endpoint=simulated_node_endpoint(config, index), thumbprint=None)
        for index, node in enumerate(config.nodes)
    ]


def simulated_witness(config: StackSettings) -> WitnessAccess | None:
    """The simulated world's cloud witness account; its key is derived, as a storage key would be issued."""
    if config.cluster.witness == "none":
        return None
    account = f"{config.cluster.name.lower()}witness"[:24]
    key = hashlib.sha256(f"simulated-storage-key:{account}".encode()).hexdigest()
    return WitnessAccess(account_name=account, access_key=pulumi.Output.secret(key))
