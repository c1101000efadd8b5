"""Steps 9-13: stop ENTSSO on every node, then name the role's network name as SSODB's secret server.

Get: what SSODB's global info holds. Test: it already names `secret_server`. Set: stop ENTSSO on
every node with startup Manual (the cluster will own it), `ssomanage -updatedb` with a file that
holds only `<secretServer>`, re-read. Delete points SSODB back at the original master.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult
from pydantic import Field, model_validator

from providers.base import EntssoProvider, InputModel, target_named
from providers.runner import RemoteOperationError
from providers.targets import NodeTarget
from settings.model import check_host_name


class SecretServerNameInputs(InputModel):
    nodes: list[NodeTarget] = Field(min_length=1)
    master: str
    secret_server: str
    sql_server: str = Field(min_length=1)
    database: str = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self) -> SecretServerNameInputs:
        check_host_name(self.secret_server)
        target_named(self.nodes, self.master)
        return self


class SecretServerNameProvider(EntssoProvider):
    inputs_model = SecretServerNameInputs
    # A different SQL server or database is another SSODB: point the old one back, then the new one.
    replace_on = frozenset({"sql_server", "database"})
    steps: ClassVar[dict[int, str]] = {
        9: "sso_service_set",
        10: "secret_server_set",
        11: "secret_server_set",
        12: "secret_server_set",
        13: "secret_server_set",
    }

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = SecretServerNameInputs.model_validate(_inputs(props))
        previous = self._converge(inputs)
        return CreateResult(_id(inputs), {**props, "previous_secret_server": previous})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = SecretServerNameInputs.model_validate(_inputs(news))
        previous = self._converge(inputs)
        return UpdateResult({**news, "previous_secret_server": olds.get("previous_secret_server") or previous})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = SecretServerNameInputs.model_validate(_inputs(props))
        with self.node(target_named(inputs.nodes, inputs.master), "read SecretServerName") as remote:
            state = remote.call("secret_server_get", **_sso(inputs), **self.delegation())
        if not state["exists"]:
            return ReadResult(None, {})
        return ReadResult(id_, {**props, "secret_server": state["secretServer"]})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = SecretServerNameInputs.model_validate(_inputs(props))
        original = props.get("previous_secret_server") or inputs.master
        master = target_named(inputs.nodes, inputs.master)
        try:
            with self.node(master, "delete SecretServerName") as remote:
                # ENTSSO runs locally again, as before clustering; -updatedb needs it running (F-SSO-13).
                remote.call("sso_service_set", State="Running", StartupType="Automatic")
                state = remote.call("secret_server_get", **_sso(inputs), **self.delegation())
                if state["exists"] and str(state["secretServer"]).upper() != str(original).upper():
                    remote.call("secret_server_set", SecretServer=original, **_sso(inputs), **self.delegation())
                    # The new master secret server takes the role only when its ENTSSO starts again (F-SSO-19).
                    remote.call("sso_service_set", State="Stopped", StartupType="Automatic")
                    remote.call("sso_service_set", State="Running", StartupType="Automatic")
        except RemoteOperationError as error:
            if not self.skip_unreachable(error):
                raise
        for node in inputs.nodes:  # undo step 9 on the other nodes too
            if node is master:
                continue
            try:
                with self.node(node, "delete SecretServerName: start ENTSSO") as remote:
                    remote.call("sso_service_set", State="Running", StartupType="Automatic")
            except RemoteOperationError as error:
                if not self.skip_unreachable(error):
                    raise

    def _converge(self, inputs: SecretServerNameInputs) -> str:
        """Get, test, set; returns the secret server SSODB named before (for delete to restore)."""
        master = target_named(inputs.nodes, inputs.master)
        with self.node(master, "SecretServerName") as remote:
            state = remote.call("secret_server_get", **_sso(inputs), **self.delegation())
        previous = str(state["secretServer"])
        if previous.upper() == inputs.secret_server.upper():
            # Converged by an earlier run; the node it came from is the master. The services are left alone:
            # once the role exists ENTSSO runs on its owner, and EntssoService keeps the local ones stopped.
            return inputs.master
        runner, hand_over = self._sso_server(inputs, master)
        with self.node(runner, "SecretServerName: updatedb") as remote:
            after = remote.call(
                "secret_server_set", SecretServer=inputs.secret_server, **_sso(inputs), **self.delegation()
            )
        if str(after["secretServer"]).upper() != inputs.secret_server.upper():
            raise RuntimeError(f"SSODB still names {after['secretServer']} as its secret server")
        if hand_over:
            for node in inputs.nodes:  # step 9, after -updatedb: net stop entsso, no local start again (F-SSO-21)
                with self.node(node, "SecretServerName: ENTSSO to the cluster") as remote:
                    remote.call("sso_service_set", State="Stopped", StartupType="Manual")
        return previous

    def _sso_server(self, inputs: SecretServerNameInputs, master: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
        """Where `ssomanage -updatedb` can run: a node whose ENTSSO runs (it works through the running SSO
        service, F-SSO-13, C-11), and whether step 9 is still to do afterwards.

        Before clustering ENTSSO runs on the master with automatic start (after Create): -updatedb there, then
        step 9. After clustering only the role's owner runs it, with manual start (EntssoService's): -updatedb
        there and the services stay as the cluster has them. With none running (a run stopped half way through
        step 9), ENTSSO is started on the master first and step 9 follows."""
        with self.node(master, "SecretServerName: SSO service") as remote:
            service = remote.call("sso_get").get("service") or {}
        if service.get("state") == "Running":
            return master, service.get("startMode") == "Auto"
        for node in inputs.nodes:
            if node is master:
                continue
            with self.node(node, "SecretServerName: SSO service") as remote:
                other = remote.call("sso_get").get("service") or {}
            if other.get("state") == "Running" and other.get("startMode") != "Auto":
                return node, False
        with self.node(master, "SecretServerName: start ENTSSO for -updatedb") as remote:
            remote.call("sso_service_set", State="Running", StartupType="Automatic")
        return master, True


def _sso(inputs: SecretServerNameInputs) -> dict[str, str]:
    return {"SqlServer": inputs.sql_server, "Database": inputs.database}


def _inputs(props: dict[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in SecretServerNameInputs.model_fields if props.get(key) is not None}


def _id(inputs: SecretServerNameInputs) -> str:
    return f"{inputs.sql_server}/{inputs.database}/secretServer"


class SecretServerName(Resource, module="entsso", name="SecretServerName"):
    """Steps 9-13: SSODB names the ENTSSO role's network name as its master secret server."""

    secret_server: pulumi.Output[str]
    previous_secret_server: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        nodes: pulumi.Input[list[NodeTarget]],
        master: pulumi.Input[str],
        secret_server: pulumi.Input[str],
        sql_server: pulumi.Input[str],
        database: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "nodes": nodes,
            "master": master,
            "secret_server": secret_server,
            "sql_server": sql_server,
            "database": database,
            "previous_secret_server": None,
        }
        super().__init__(SecretServerNameProvider(), resource_name, props, opts)
