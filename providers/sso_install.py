"""Steps 1 and 6: the SSO master secret server's binaries on one node.

Split out of SsoServer so that the install (six minutes on a real node) is a step of its own in the graph: it
runs beside the cluster's formation, since installing SSO does not need a cluster (docs/windows-facts.md
F-SSO-33), and never at the same time as the node's feature installation, since a node runs one installer at a
time (F-SVC-05, F-SVC-06). Get: sso_get. Test: ENTSSO is installed. Set: sso_install, the silent setup from the
media. Delete forgets: uninstalling is not automated, and SsoServer's configuration stays with the binaries.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Literal

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult
from pydantic import Field

from providers.base import EntssoProvider, InputModel, same_computer
from providers.targets import NodeTarget

logger = logging.getLogger("entsso.providers")

# BizTalk's setup takes the script's default list (WMI, BizTalk, AdditionalApps, SSOServer, SSOAdmin). HIS installs
# with msiexec (F-SSO-27) and its ESSO-only feature names are not documented: no ADDLOCAL, its default features.
PRODUCT_FEATURES: dict[str, list[str] | None] = {"biztalk": None, "his": None}
# The scripts' name for the product (sso_install, sso_configure, sso_unconfigure).
PRODUCT_NAMES = {"biztalk": "BizTalk", "his": "HIS"}


class SsoInstallInputs(InputModel):
    node: NodeTarget
    installer: str = Field(min_length=3)
    product: Literal["biztalk", "his"] = "biztalk"


class SsoInstallProvider(EntssoProvider):
    inputs_model = SsoInstallInputs
    # Another node is another machine. The installer and the product only matter while the node lacks SSO: an
    # update re-runs Get/Test/Set, which leaves installed binaries alone.
    replace_on = frozenset({"node"})
    steps: ClassVar[dict[int, str]] = {1: "sso_install", 6: "sso_install"}  # the master's install, the member's

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return same_computer(super().diff(id_, olds, news), olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = SsoInstallInputs.from_props(props)
        return CreateResult(_id(inputs), {**props, **_outputs(self._converge(inputs))})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, **_outputs(self._converge(SsoInstallInputs.from_props(news)))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = SsoInstallInputs.from_props(props)
        with self.node(inputs.node, "read SsoInstall") as remote:
            state = remote.call("sso_get")
        if not state["installed"]:  # uninstalled by hand: the next up installs it again
            return ReadResult("", {})
        return ReadResult(id_, {**props, **_outputs(state)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = SsoInstallInputs.from_props(props)
        logger.info("forgetting SsoInstall on %s: the SSO binaries stay installed", inputs.node["name"])

    def _converge(self, inputs: SsoInstallInputs) -> dict[str, Any]:
        with self.node(inputs.node, "SsoInstall") as remote:
            state = remote.call("sso_get")
            if not state["installed"]:
                state = remote.call(
                    "sso_install",
                    InstallerPath=inputs.installer,
                    Features=PRODUCT_FEATURES[inputs.product],
                    Product=PRODUCT_NAMES[inputs.product],
                )
        if not state["installed"]:
            raise RuntimeError(
                f"ENTSSO is not installed on {inputs.node['name']} after the setup from {inputs.installer}"
            )
        return state


def _outputs(state: dict[str, Any]) -> dict[str, Any]:
    return {"installed": bool(state["installed"])}


def _id(inputs: SsoInstallInputs) -> str:
    return f"{inputs.node['name']}/sso-install"


class SsoInstall(Resource, module="entsso", name="SsoInstall"):
    """The SSO master secret server's binaries on one node (steps 1 and 6)."""

    installed: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        node: pulumi.Input[NodeTarget],
        installer: pulumi.Input[str],
        product: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"node": node, "installer": installer, "product": product, "installed": None}
        super().__init__(SsoInstallProvider(), resource_name, props, opts)
