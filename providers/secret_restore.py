"""Steps 23-26: move the role to node 2, restore the master secret there, then fail back and check every node.

Nothing starts without a verified backup: `backup_sha256` must be the SHA-256 of the decoded
`backup_content`, checked before any node is contacted. Get: secret_get on every node. Test: every
node holds the secret (the id the original master holds, else the one the first restore yields),
the role is back on `fail_back_to` and ENTSSO serves the secret there under the network name. Set:
node by node, `restore_node` first and `fail_back_to` last: move the role there (role_move cycles
ENTSSO, S2), and where the secret is missing, file_put the backup, secret_restore (which deletes
the copy), secret_get; then sso_client_check on that owner. Delete removes leftover copies only:
the secret stays on the nodes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult
from pydantic import ConfigDict, Field, SecretStr, ValidationInfo, field_validator, model_validator

from providers.base import EntssoProvider, InputModel, Remote, target_named
from providers.runner import RemoteOperationError
from providers.targets import NodeTarget
from settings.model import HostName

logger = logging.getLogger("entsso.providers")
COPY_DIRECTORY = r"C:\ProgramData\EntssoCluster"


class SecretRestoreInputs(InputModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    nodes: list[NodeTarget] = Field(min_length=1)
    network_name: HostName
    backup_content: SecretStr  # base64 of the backup file
    backup_sha256: str
    password: SecretStr = Field(min_length=1)
    restore_node: str
    fail_back_to: str
    # With SYSTEM and Administrators, the only ones who may open the folder of the backup's copy (finding 21).
    admin_group: str | None = None

    @field_validator("backup_content")
    @classmethod
    def _base64(cls, value: SecretStr) -> SecretStr:
        try:
            if not base64.b64decode(value.get_secret_value(), validate=True):
                raise ValueError("the backup is empty")
        except (binascii.Error, ValueError):
            raise ValueError("is not the base64 of a backup file") from None
        return value

    @field_validator("backup_sha256")
    @classmethod
    def _verified(cls, value: str, info: ValidationInfo) -> str:
        digest = value.strip().upper()
        if len(digest) != 64 or any(ch not in "0123456789ABCDEF" for ch in digest):
            raise ValueError("is not a SHA-256 (64 hexadecimal digits)")
        content = info.data.get("backup_content")
        if (
            content is not None
            and hashlib.sha256(base64.b64decode(content.get_secret_value())).hexdigest().upper() != digest
        ):
            raise ValueError("does not match the backup content: the backup is not the verified one; refusing")
        return digest

    @model_validator(mode="after")
    def _nodes(self) -> SecretRestoreInputs:
        target_named(self.nodes, self.restore_node)
        target_named(self.nodes, self.fail_back_to)
        return self

    def node_names(self) -> list[str]:
        return [str(node["name"]) for node in self.nodes]

    def name_of(self, node: str) -> str:
        """A node's name as `nodes` spells it (Windows names are case-insensitive)."""
        return str(target_named(self.nodes, node)["name"])

    def order(self) -> list[str]:
        """Where the role goes: the restore node first, the node it fails back to last."""
        first, last = self.name_of(self.restore_node), self.name_of(self.fail_back_to)
        middle = [name for name in self.node_names() if name not in (first, last)]
        return [first, *middle, last] if first != last or middle else [first]

    def copy_path(self) -> str:
        return f"{COPY_DIRECTORY}\\{self.network_name}-restore.bak"


class SecretRestoreProvider(EntssoProvider):
    inputs_model = SecretRestoreInputs
    # Nothing here is a new object: the secret lives in each node's registry and the role belongs to
    # EntssoService, so any change (a new backup, password, network name or node) re-converges.
    replace_on = frozenset()
    secret_outputs = ("password", "backup_content")
    # 23: the move to node 2 is the first role_move (it cycles ENTSSO there, which the restore needs, F-SSO-11).
    steps: ClassVar[dict[int, str]] = {23: "role_move", 24: "role_move", 25: "file_put", 26: "secret_restore"}

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = SecretRestoreInputs.model_validate(_inputs(props))
        return CreateResult(f"{inputs.network_name}/master-secret", {**props, **self._converge(inputs)})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = SecretRestoreInputs.model_validate(_inputs(news))
        return UpdateResult({**news, **self._converge(inputs)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = SecretRestoreInputs.model_validate(_inputs(props))
        secrets = self._secrets(inputs, "read SecretRestore")
        secret_id = str(props.get("secret_id") or "")
        holders = [name for name in inputs.node_names() if _holds(secrets[name], secret_id)]
        if not holders:
            return ReadResult(None, {})
        role = self.on_any_node(inputs.nodes, "read SecretRestore", lambda remote: _role(remote, inputs))
        return ReadResult(id_, {**props, "restored_on": holders, "owner_node": role.get("ownerNode", "")})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = SecretRestoreInputs.model_validate(_inputs(props))
        for node in inputs.nodes:
            try:
                with self.node(node, "delete SecretRestore") as remote:
                    remote.call("file_remove", Path=inputs.copy_path())
            except RemoteOperationError as error:
                if not self.skip_unreachable(error):
                    raise

    def drift(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        held = {str(name).upper() for name in olds.get("restored_on") or []}
        names = [str(node["name"]) for node in news.get("nodes") or []]
        return [f"the master secret is missing on {name}" for name in names if name.upper() not in held]

    def _converge(self, inputs: SecretRestoreInputs) -> dict[str, Any]:
        names, fail_back = inputs.node_names(), inputs.name_of(inputs.fail_back_to)
        secrets = self._secrets(inputs, "SecretRestore")
        # The backup is the original master's secret: the id it holds is the one to restore and verify.
        expected = next((secrets[n]["secretId"] for n in [fail_back, *names] if secrets[n]["present"]), "")
        done = {"restored_on": names, "secret_id": expected, "owner_node": fail_back}
        if expected and all(_holds(secrets[name], expected) for name in names):
            with self.node(target_named(inputs.nodes, fail_back), "SecretRestore: check") as remote:
                owner = str(_role(remote, inputs).get("ownerNode", ""))
                if owner.upper() == fail_back.upper() and not _serving_problem(remote, inputs):
                    return done
        for name in inputs.order():
            with self.node(target_named(inputs.nodes, name), f"SecretRestore on {name}") as remote:
                role = _role(remote, inputs)
                if not role["exists"]:
                    raise RuntimeError(f"the role {inputs.network_name} does not exist; EntssoService comes first")
                needs_restore = not _holds(secrets[name], expected)
                # S2: bring the role here and cycle ENTSSO before a restore, even when it is here already
                # (an ENTSSO that came online while SQL was unreachable never became the master server).
                if str(role["ownerNode"]).upper() != name.upper() or needs_restore:
                    remote.call("role_move", Name=inputs.network_name, Node=name)
                if needs_restore:
                    expected = self._restore(remote, inputs, expected)
                    if not _holds(remote.call("secret_get"), expected):
                        raise RuntimeError(f"{name} does not hold the master secret {expected} after the restore")
                problem = _serving_problem(remote, inputs)
                if problem:
                    raise RuntimeError(
                        f"step 26: ENTSSO on {name} does not serve the master secret (sso_client_check): {problem}"
                        f" - check that the ENTSSO resource of {inputs.network_name} is online on {name} and that"
                        " SQL Server answers, then run up again: it resumes"
                    )
        return {**done, "secret_id": expected}

    def _secrets(self, inputs: SecretRestoreInputs, label: str) -> dict[str, dict[str, Any]]:
        secrets: dict[str, dict[str, Any]] = {}
        for node in inputs.nodes:
            with self.node(node, label) as remote:
                secrets[str(node["name"])] = remote.call("secret_get")
        return secrets

    def _restore(self, remote: Remote, inputs: SecretRestoreInputs, expected: str) -> str:
        path = inputs.copy_path()
        try:
            content = inputs.backup_content.get_secret_value()
            remote.call(
                "file_put", Path=path, ContentBase64=content, Sha256=inputs.backup_sha256, AdminGroup=inputs.admin_group
            )
            restored = remote.call(
                "secret_restore",
                BackupFile=path,
                BackupPassword=inputs.password.get_secret_value(),
                ExpectedSecretId=expected or None,
            )
        except RemoteOperationError:
            try:  # the copy holds the secret: it must not outlive a failed restore
                remote.call("file_remove", Path=path)
            except RemoteOperationError as cleanup:
                logger.warning("could not remove the backup copy %s on %s: %s", path, cleanup.node, cleanup.message)
            raise
        return str(restored["secretId"])


def _holds(secret: Mapping[str, Any], secret_id: str) -> bool:
    return bool(secret["present"]) and bool(secret_id) and str(secret["secretId"]).upper() == secret_id.upper()


def _role(remote: Remote, inputs: SecretRestoreInputs) -> dict[str, Any]:
    return remote.call("role_get", Name=inputs.network_name)


def _serving_problem(remote: Remote, inputs: SecretRestoreInputs) -> str:
    """Empty when an SSO client on this node gets the secret from the network name (it owns the role)."""
    sso = remote.call("sso_get")
    check = remote.call("sso_client_check", SqlServer=sso["sqlServer"], Database=sso["database"])
    if not check["ok"]:
        return str(check["error"])
    if str(check["secretServer"]).upper() != inputs.network_name.upper():
        return f"SSODB names {check['secretServer']} as the secret server, not {inputs.network_name}"
    return ""


def _inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in SecretRestoreInputs.model_fields if props.get(key) is not None}


class SecretRestore(Resource, module="entsso", name="SecretRestore"):
    """Steps 24-26: the master secret restored on every node that may own the ENTSSO role."""

    restored_on: pulumi.Output[list[str]]
    secret_id: pulumi.Output[str]
    owner_node: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        nodes: pulumi.Input[list[NodeTarget]],
        network_name: pulumi.Input[str],
        backup_content: pulumi.Input[str],
        backup_sha256: pulumi.Input[str],
        password: pulumi.Input[str],
        restore_node: pulumi.Input[str],
        fail_back_to: pulumi.Input[str],
        admin_group: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "nodes": nodes,
            "network_name": network_name,
            "backup_content": backup_content,
            "backup_sha256": backup_sha256,
            "password": password,
            "restore_node": restore_node,
            "fail_back_to": fail_back_to,
            "admin_group": admin_group,
            **dict.fromkeys(("restored_on", "secret_id", "owner_node")),
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=list(SecretRestoreProvider.secret_outputs))
        super().__init__(SecretRestoreProvider(), resource_name, props, pulumi.ResourceOptions.merge(opts, secret))
