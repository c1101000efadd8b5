"""Step 5: back up the master secret through the COM API and keep a verified copy of its bytes.

Get: the backup file on the node (length, SHA-256). Test: it still holds the bytes this resource
escrowed. Set: ISSOConfigSS.BackupSecret, then the file is read back and its SHA-256 and length
checked against what the backup returned, before anything that depends on the backup runs. A file that is gone
while the node's master secret is still the one escrowed (secret_get) is put back from the escrowed bytes: that
needs no running SSO service, so it also repairs a deleted file while the cluster cannot serve the secret.
Delete removes the file from the node (the escrowed bytes stay), unless a newer backup replaced it.
Nothing here deletes or regenerates the master secret: a backup only reads it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult
from pydantic import Field, SecretStr, field_validator

from providers.base import EntssoProvider, InputModel, same_computer
from providers.runner import RemoteOperationError
from providers.targets import NodeTarget
from settings.model import backup_password_problem

logger = logging.getLogger("entsso.providers")

OUTPUTS = ("sha256", "length", "content", "taken_at", "secret_id")
# ENTSSO's HRESULTs that send the backup to the role's owner (F-SSO-10, F-SSO-13): no SSO service runs on this
# node (ENTSSO_E_NO_SSO_SERVER), or the one that runs is not the master secret server (ENTSSO_E_NOT_SECRET_SERVER).
# secret_backup reports the COM failure's HRESULT in its error id ("HRESULT 0x...") and message (finding 7).
NOT_HERE = ("0xC0002A0F", "0xC0002A0E")


class SecretBackupInputs(InputModel):
    node: NodeTarget
    # Every node that may serve the master secret: once the role exists, ENTSSO runs on its owner only.
    nodes: list[NodeTarget] | None = None
    backup_file: str = Field(pattern=r"^[A-Za-z]:\\[^\\]")
    password: SecretStr
    reminder: str = Field(min_length=1, max_length=512)
    # The SSO administrators' group: with SYSTEM and Administrators, the only ones who may open the backup's folder.
    admin_group: str | None = None
    # The ENTSSO role (its network name), once clustered: a role that is down is brought back online to serve
    # the backup (issue 12 item 3: a new backup while the role is down must not block every up).
    role: str | None = None

    @field_validator("password")
    @classmethod
    def _strong(cls, value: SecretStr) -> SecretStr:
        problem = backup_password_problem(value.get_secret_value())
        if problem:
            raise ValueError(f"the backup password {problem}")
        return value


class SecretBackupProvider(EntssoProvider):
    inputs_model = SecretBackupInputs
    # Every input is part of the backup (where it is, its password, its reminder): a change is a new backup.
    replace_on = frozenset({"node", "backup_file", "password", "reminder"})
    # The new backup is taken before the old file goes, so a verified backup exists at every moment; delete
    # then removes the old file only while it still holds the old bytes (at the same path, the new one is there).
    delete_before_replace = False
    secret_outputs = ("password", "content")
    steps: ClassVar[dict[int, str]] = {5: "secret_backup"}

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return same_computer(super().diff(id_, olds, news), olds, news)

    def drift(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        """The file the last refresh read no longer holds the escrowed bytes: the update takes a new backup."""
        content, sha256 = olds.get("content"), olds.get("sha256")
        if isinstance(content, str) and isinstance(sha256, str) and _sha256(content) != sha256.upper():
            return ["sha256"]
        return []

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = SecretBackupInputs.from_props(props)
        return CreateResult(_id(inputs), {**props, **self._back_up(inputs)})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = SecretBackupInputs.from_props(news)
        with self.node(inputs.node, "SecretBackup") as remote:
            live = remote.call("file_get", Path=inputs.backup_file)
        same_folder_acl = str(olds.get("admin_group") or "").upper() == str(news.get("admin_group") or "").upper()
        if _holds(live, olds) and not self.drift(olds, news) and same_folder_acl:
            return UpdateResult({**news, **{key: olds[key] for key in OUTPUTS}})
        if not live["exists"] and same_folder_acl and self._secret_unchanged(inputs, olds):
            return UpdateResult({**news, **self._put_back(inputs, olds)})
        return UpdateResult({**news, **self._back_up(inputs)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = SecretBackupInputs.from_props(props)
        with self.node(inputs.node, "read SecretBackup") as remote:
            live = remote.call("file_get", Path=inputs.backup_file)
        if not live["exists"]:  # gone: the next up puts the escrowed copy back, or takes a new backup
            return ReadResult(id_, {**props, "sha256": "", "length": 0})
        return ReadResult(id_, {**props, "sha256": str(live["sha256"]).upper(), "length": int(live["length"])})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = SecretBackupInputs.from_props(props)
        try:
            with self.node(inputs.node, "delete SecretBackup") as remote:
                live = remote.call("file_get", Path=inputs.backup_file)
                if live["exists"] and not _holds(live, props):
                    logger.info("keeping %s on %s: it holds a newer backup", inputs.backup_file, inputs.node["name"])
                elif live["exists"]:
                    remote.call("file_remove", Path=inputs.backup_file)
        except RemoteOperationError as error:
            if not self.skip_unreachable(error):
                raise

    def _take(self, target: NodeTarget, inputs: SecretBackupInputs) -> tuple[dict[str, Any], dict[str, Any]]:
        with self.node(target, "SecretBackup") as remote:
            taken = remote.call(
                "secret_backup",
                BackupFile=inputs.backup_file,
                BackupPassword=inputs.password.get_secret_value(),
                BackupReminder=inputs.reminder,
                AdminGroup=inputs.admin_group,
            )
            return taken, remote.call("file_get", Path=inputs.backup_file)

    def _serving(self, inputs: SecretBackupInputs) -> NodeTarget | None:
        """Where the backup can run once this node's ENTSSO refused it, made to serve if it does not.

        - This node's ENTSSO is stopped but starts automatically: it is not under the cluster (the cluster sets its
          Generic Service's service to Manual), so this node is still the master secret server. Start it here
          (after a destroy, an administrator's Stop-Service must not send the backup to a node that is not master).
        - Once the role exists, ENTSSO runs on its owner only: the node whose ENTSSO runs (Manual: the cluster's).
        - The role is down (ENTSSO stopped on every node): bring the role online on its owner and back up there.
        """
        candidates = [inputs.node, *[n for n in inputs.nodes or [] if n["name"].upper() != inputs.node["name"].upper()]]
        services: list[dict[str, Any]] = []
        for candidate in candidates:
            with self.node(candidate, "SecretBackup: find the node that serves the secret") as remote:
                services.append(remote.call("sso_get").get("service") or {})
        here = services[0]
        if here.get("state") == "Stopped" and here.get("startMode") == "Auto":
            with self.node(inputs.node, "SecretBackup: start ENTSSO on the master secret server") as remote:
                remote.call("sso_service_set", State="Running", StartupType="Automatic")
            return inputs.node
        for candidate, service in zip(candidates[1:], services[1:], strict=True):
            if service.get("state") == "Running":
                return candidate
        if not inputs.role:
            return None
        with self.node(inputs.node, "SecretBackup: read the ENTSSO role") as remote:
            role = remote.call("role_get", Name=inputs.role)
            if not role.get("exists"):
                return None
            owner = str(role["ownerNode"])
            remote.call("role_move", Name=inputs.role, Node=owner)  # on its owner already: starts what is down
        return next((c for c in candidates if c["name"].upper() == owner.upper()), None)

    def _secret_unchanged(self, inputs: SecretBackupInputs, olds: Mapping[str, Any]) -> bool:
        """Whether the escrowed backup (state's `content`) is still a backup of the node's current master secret."""
        content, secret_id = str(olds.get("content") or ""), str(olds.get("secret_id") or "")
        if not content or not secret_id or not _bytes(content):
            return False
        with self.node(inputs.node, "SecretBackup: is the escrowed copy still the current secret") as remote:
            secret = remote.call("secret_get")
        return bool(secret.get("present")) and str(secret.get("secretId") or "").upper() == secret_id.upper()

    def _put_back(self, inputs: SecretBackupInputs, olds: Mapping[str, Any]) -> dict[str, Any]:
        """Write the escrowed backup back to its file: it needs no running SSO service, so a deleted file is repaired
        even while the cluster cannot serve the secret (its ENTSSO resource removed: drift, issue 12 item 3)."""
        content = str(olds["content"])
        sha256, length = _sha256(content), len(_bytes(content))
        with self.node(inputs.node, "SecretBackup: put the escrowed copy back") as remote:
            remote.call(
                "file_put", Path=inputs.backup_file, ContentBase64=content, Sha256=sha256, AdminGroup=inputs.admin_group
            )
            on_disk = remote.call("file_get", Path=inputs.backup_file)
        problem = _mismatch(content, sha256, length, on_disk)
        if problem:
            raise RuntimeError(f"the backup {inputs.backup_file} on {inputs.node['name']} does not verify: {problem}")
        return {key: olds[key] for key in OUTPUTS} | {"sha256": sha256, "length": length}

    def _back_up(self, inputs: SecretBackupInputs) -> dict[str, Any]:
        serving = inputs.node
        try:
            taken, on_disk = self._take(serving, inputs)
        except RemoteOperationError as error:
            elsewhere = any(code in f"{error.error_id} {error.message}" for code in NOT_HERE)
            owner = self._serving(inputs) if error.kind == "script" and elsewhere else None
            if owner is None:
                raise
            serving = owner
            taken, on_disk = self._take(serving, inputs)
        content, sha256, length = str(taken["contentBase64"]), str(taken["sha256"]).upper(), int(taken["length"])
        if serving is not inputs.node:  # keep the backup on this resource's node, then tidy the owner's copy
            problem = _mismatch(content, sha256, length, on_disk)
            if problem:
                raise RuntimeError(f"the backup on {serving['name']} does not verify: {problem}")
            with self.node(inputs.node, "SecretBackup: copy to its node") as remote:
                remote.call(
                    "file_put",
                    Path=inputs.backup_file,
                    ContentBase64=content,
                    Sha256=sha256,
                    AdminGroup=inputs.admin_group,
                )
                on_disk = remote.call("file_get", Path=inputs.backup_file)
            with self.node(serving, "SecretBackup: remove the owner's copy") as remote:
                remote.call("file_remove", Path=inputs.backup_file)
        problem = _mismatch(content, sha256, length, on_disk)
        if problem:
            raise RuntimeError(f"the backup {inputs.backup_file} on {inputs.node['name']} does not verify: {problem}")
        return {
            "sha256": sha256,
            "length": length,
            "content": content,
            "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "secret_id": str(taken["secretId"]),
        }


def _mismatch(content: str, sha256: str, length: int, on_disk: Mapping[str, Any]) -> str:
    """Why the bytes the backup returned and the file on disk are not one and the same backup ('' when they are)."""
    if not on_disk["exists"]:
        return "the file is not there after the backup"
    if str(on_disk["sha256"]).upper() != sha256 or int(on_disk["length"]) != length:
        return f"the file has SHA-256 {on_disk['sha256']} ({on_disk['length']} bytes), the backup {sha256} ({length})"
    if _sha256(content) != sha256 or len(_bytes(content)) != length:
        return "the bytes returned do not hash to the SHA-256 the backup reported"
    return ""


def _holds(live: Mapping[str, Any], outputs: Mapping[str, Any]) -> bool:
    """Whether the live file is the backup these outputs describe."""
    return bool(live["exists"]) and str(live["sha256"]).upper() == str(outputs.get("sha256", "")).upper()


def _bytes(content: str) -> bytes:
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _sha256(content: str) -> str:
    return hashlib.sha256(_bytes(content)).hexdigest().upper()


def _id(inputs: SecretBackupInputs) -> str:
    return f"{inputs.node['name']}:{inputs.backup_file}"


class SecretBackup(Resource, module="entsso", name="SecretBackup"):
    """Step 5: a verified backup of the master secret on the node; its bytes are a secret output (escrow)."""

    sha256: pulumi.Output[str]
    length: pulumi.Output[int]
    content: pulumi.Output[str]
    taken_at: pulumi.Output[str]
    secret_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        node: pulumi.Input[NodeTarget],
        nodes: pulumi.Input[list[NodeTarget]] | None = None,
        backup_file: pulumi.Input[str],
        password: pulumi.Input[str],
        reminder: pulumi.Input[str],
        admin_group: pulumi.Input[str] | None = None,
        role: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {
            "node": node,
            "nodes": nodes,
            "backup_file": backup_file,
            "password": password,
            "reminder": reminder,
            "admin_group": admin_group,
            "role": role,
        }
        props: dict[str, Any] = {**inputs, **dict.fromkeys(OUTPUTS)}
        secrets = pulumi.ResourceOptions(additional_secret_outputs=list(SecretBackupProvider.secret_outputs))
        super().__init__(SecretBackupProvider(), resource_name, props, pulumi.ResourceOptions.merge(opts, secrets))
