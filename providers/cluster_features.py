"""Prerequisite, on one node: the Failover-Clustering feature and its PowerShell module.

Split out of FailoverCluster so that each node's feature installation is a step of its own in the graph: the
cluster forms once every node has it, and the node's SSO install (SsoInstall) never runs at the same time,
since a node runs one installer at a time (docs/windows-facts.md F-SVC-05, F-SVC-06). Get: feature_get.
Test: every feature installed, none waiting for a restart. Set: feature_install for the missing ones. Delete
forgets: the features stay (removing them would need a restart and takes nothing of ours away).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult
from pydantic import Field

from providers.base import EntssoProvider, InputModel, same_computer
from providers.targets import NodeTarget

logger = logging.getLogger("entsso.providers")

FEATURES = ["Failover-Clustering", "RSAT-Clustering-PowerShell"]


class ClusterFeaturesInputs(InputModel):
    node: NodeTarget
    features: list[str] = Field(default_factory=lambda: list(FEATURES), min_length=1)


class ClusterFeaturesProvider(EntssoProvider):
    inputs_model = ClusterFeaturesInputs
    # Another node is another machine; another list of features is installed in place (nothing is removed).
    replace_on = frozenset({"node"})
    # Part of the procedure's prerequisite (FailoverCluster claims step 0): no documented step of its own.
    steps: ClassVar[dict[int, str]] = {}

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return same_computer(super().diff(id_, olds, news), olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = ClusterFeaturesInputs.from_props(props)
        return CreateResult(_id(inputs), {**props, **_outputs(self._converge(inputs))})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, **_outputs(self._converge(ClusterFeaturesInputs.from_props(news)))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = ClusterFeaturesInputs.from_props(props)
        with self.node(inputs.node, "read ClusterFeatures") as remote:
            state = remote.call("feature_get", Features=inputs.features)
        if not _all_installed(state):  # removed by hand: the next up installs them again
            return ReadResult("", {})
        return ReadResult(id_, {**props, **_outputs(state)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = ClusterFeaturesInputs.from_props(props)
        logger.info("forgetting ClusterFeatures on %s: the features stay installed", inputs.node["name"])

    def _converge(self, inputs: ClusterFeaturesInputs) -> dict[str, Any]:
        name = inputs.node["name"]
        with self.node(inputs.node, "ClusterFeatures") as remote:
            state = remote.call("feature_get", Features=inputs.features)
            if not _all_installed(state) and not state.get("restartNeeded"):
                state = remote.call("feature_install", Features=inputs.features)
        if state.get("restartNeeded"):
            raise RuntimeError(f"{name} must restart to finish installing {', '.join(inputs.features)}")
        if not _all_installed(state):
            missing = [f["name"] for f in state["features"] if not f["installed"]]
            raise RuntimeError(f"{name}: {', '.join(missing)} not installed after Install-WindowsFeature")
        return state


def _all_installed(state: dict[str, Any]) -> bool:
    return all(feature["installed"] for feature in state["features"])


def _outputs(state: dict[str, Any]) -> dict[str, Any]:
    return {"installed": sorted(str(feature["name"]) for feature in state["features"] if feature["installed"])}


def _id(inputs: ClusterFeaturesInputs) -> str:
    return f"{inputs.node['name']}/features"


class ClusterFeatures(Resource, module="entsso", name="ClusterFeatures"):
    """Failover-Clustering and its PowerShell module on one node (the procedure's prerequisite)."""

    installed: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        *,
        node: pulumi.Input[NodeTarget],
        features: pulumi.Input[list[str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"node": node, "features": features or list(FEATURES), "installed": None}
        super().__init__(ClusterFeaturesProvider(), resource_name, props, opts)
