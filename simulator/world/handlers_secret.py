"""SecretBackup and SecretRestore: the COM BackupSecret/RestoreSecret calls, node files, the client check."""

from __future__ import annotations

import base64
import binascii
import hashlib

from simulator.world import errors, mastersecret, windows
from simulator.world.handlers_sso import require_installed
from simulator.world.model import (
    ENTSSO,
    EVENT_BACKUP_FAILED,
    EVENT_BACKUP_OK,
    EVENT_RESTORE_FAILED,
    EVENT_RESTORE_OK,
    Node,
    World,
    key,
    path_key,
)
from simulator.world.operations import Call, Param, operation


def file_state(node: Node, path: str) -> dict[str, object]:
    content = node.file(path)
    return {
        "computerName": node.name,
        "path": path,
        "exists": content is not None,
        "length": len(content) if content is not None else 0,
        "sha256": hashlib.sha256(content).hexdigest().upper() if content is not None else "",
    }


@operation("file_get", params=(Param("Path", mandatory=True),), reads_only=True)
def file_get(call: Call) -> dict[str, object]:
    return file_state(call.node, call.text("Path"))


@operation(
    "file_put",
    params=(
        Param("Path", mandatory=True),
        Param("ContentBase64", mandatory=True, secret=True),
        Param("Sha256", mandatory=True),
        Param("AdminGroup"),
    ),
)
def file_put(call: Call) -> dict[str, object]:
    windows.require_admin(call)
    path, expected = call.text("Path"), call.text("Sha256").upper()
    try:
        content = base64.b64decode(call.text("ContentBase64"), validate=True)
    except (binascii.Error, ValueError):
        raise errors.PowerShellError(
            'Exception calling "FromBase64String" with "1" argument(s): "The input is not a valid Base-64 '
            "string as it contains a non-base 64 character, more than two padding characters, or an illegal "
            'character among the padding characters."',
            "NotSpecified",
            "FormatException",
        ) from None
    actual = hashlib.sha256(content).hexdigest().upper()
    if actual != expected:
        raise errors.invalid(
            f"The content's SHA-256 is {actual}, not the expected {expected}; nothing was written."
        )
    if call.node.file(path) == content:
        return {**file_state(call.node, path), "actions": []}
    call.node.files[path_key(path)] = content
    return {**file_state(call.node, path), "actions": [f"write {path}"]}


@operation("file_remove", params=(Param("Path", mandatory=True),))
def file_remove(call: Call) -> dict[str, object]:
    windows.require_admin(call)
    path = call.text("Path")
    removed = call.node.files.pop(path_key(path), None) is not None
    return {**file_state(call.node, path), "actions": [f"Remove-Item {path}"] if removed else []}


def _as_master_secret_server(world: World, node: Node, failure_event: int) -> Node:
    """The checks ENTSSO makes when a backup or restore is asked of the SSO service on `node`."""
    require_installed(node)
    db = windows.node_database(world, node)
    service = node.service(ENTSSO)
    assert service is not None
    if service.state != "Running":
        raise errors.sso_contact(node.name, errors.RPC_UNAVAILABLE)
    host, _ = windows.secret_server_host(world, db.secret_server)
    if host is None or key(host.name) != key(node.name):
        world.log(
            node,
            failure_event,
            "Error",
            f"This computer is not the master secret server ({db.secret_server}).",
        )
        raise errors.not_secret_server(node.name, db.secret_server)
    if key(db.secret_server) not in {key(n) for n in node.endpoint_names}:
        raise errors.sso_contact(db.secret_server, errors.RPC_NO_ENDPOINTS)
    return node


@operation(
    "secret_backup",
    params=(
        Param("BackupFile", mandatory=True),
        Param("BackupPassword", mandatory=True, secret=True),
        Param("BackupReminder", mandatory=True),
        Param("AdminGroup"),
    ),
)
def secret_backup(call: Call) -> dict[str, object]:
    world, node = call.world, call.node
    windows.require_admin(call)
    _as_master_secret_server(world, node, EVENT_BACKUP_FAILED)
    secret = mastersecret.current(node)
    if secret is None or node.loaded_secret != secret.secret_id:
        world.log(
            node, EVENT_BACKUP_FAILED, "Error", "Failed to back up the master secret: no secret is loaded."
        )
        raise errors.invalid(
            "ERROR: 0xC0002A12 : The master secret is not available on this master secret server (event "
            "10520).",
            "SSO_ERROR_NO_SECRET",
        )
    path = call.text("BackupFile")
    content = mastersecret.backup_bytes(secret, call.text("BackupPassword"), call.text("BackupReminder"))
    node.files[path_key(path)] = content
    world.log(node, EVENT_BACKUP_OK, "Information", f"The master secret was backed up to {path}.")
    return {
        **file_state(node, path),
        "secretId": secret.secret_id,
        "contentBase64": base64.b64encode(content).decode("ascii"),
    }


def secret_state(node: Node) -> dict[str, object]:
    secret = mastersecret.current(node)
    return {
        "computerName": node.name,
        "present": secret is not None,
        "secretId": secret.secret_id if secret else "",
        "previousSecretId": secret.previous_id if secret else "",
        "loaded": bool(secret) and node.loaded_secret == (secret.secret_id if secret else ""),
    }


@operation("secret_get", reads_only=True)
def secret_get(call: Call) -> dict[str, object]:
    return secret_state(call.node)


@operation(
    "secret_restore",
    params=(
        Param("BackupFile", mandatory=True),
        Param("BackupPassword", mandatory=True, secret=True),
        Param("ExpectedSecretId"),
    ),
)
def secret_restore(call: Call) -> dict[str, object]:
    world, node = call.world, call.node
    path, expected = call.text("BackupFile"), call.text("ExpectedSecretId")
    before = secret_state(node)
    if expected and before["present"] and key(str(before["secretId"])) == key(expected):
        removed = node.files.pop(path_key(path), None) is not None
        return {**before, "fileRemoved": removed, "actions": [f"Remove-Item {path}"] if removed else []}
    windows.require_admin(call)
    try:
        content = node.file(path)
        if content is None:
            raise errors.not_found(f"ERROR: 0x80070002 : The system cannot find the file specified. ({path})")
        _as_master_secret_server(world, node, EVENT_RESTORE_FAILED)
        try:
            secret = mastersecret.open_backup(content, call.text("BackupPassword"))
        except mastersecret.WrongPassword:
            world.log(
                node, EVENT_RESTORE_FAILED, "Error", f"Failed to restore the master secret from {path}."
            )
            raise errors.PowerShellError(
                "ERROR: 0x80070056 : The password is incorrect.",
                "AuthenticationError",
                "SSO_ERROR_BAD_PASSWORD",
            ) from None
        except mastersecret.NotABackup:
            raise errors.invalid(
                f"ERROR: 0x8007000D : The file '{path}' is not a master secret backup file."
            ) from None
        service = node.service(ENTSSO)
        assert service is not None
        mastersecret.store(node, secret, service.account)
        node.loaded_secret = secret.secret_id
        world.log(
            node,
            EVENT_RESTORE_OK,
            "Information",
            f"The master secret has been successfully restored. File: {path} Current MSID: "
            f"{secret.secret_id} "
            f"Previous MSID: {secret.previous_id} User: {call.session.user} Computer: {node.name}",
        )
    finally:
        # The copy holds the secret: it never outlives the call, whatever happened.
        removed = node.files.pop(path_key(path), None) is not None
    after = secret_state(node)
    if expected and key(str(after["secretId"])) != key(expected):
        raise errors.invalid(f"The restored secret is {after['secretId']}, not the expected {expected}.")
    return {**after, "fileRemoved": removed, "actions": ["ISSOConfigSS.RestoreSecret", f"Remove-Item {path}"]}


@operation(
    "sso_client_check",
    params=(Param("SqlServer", mandatory=True), Param("Database", mandatory=True)),
    reads_only=True,
)
def sso_client_check(call: Call) -> dict[str, object]:
    world, node = call.world, call.node
    secret_server = ""
    try:
        require_installed(node)
        db = windows.database(world, call.text("SqlServer"), call.text("Database"))
        secret_server = db.secret_server
        service = node.service(ENTSSO)
        if service is None or service.state != "Running":
            raise errors.sso_contact(node.name, errors.RPC_UNAVAILABLE)
        host, _ = windows.secret_server_host(world, secret_server)
        if host is None or key(host.name) != key(node.name):
            if host is None:
                windows.contact_secret_server(world, secret_server, db)
            raise errors.not_secret_server(node.name, secret_server)
        windows.contact_secret_server(world, secret_server, db)
    except errors.PowerShellError as failure:
        return {"computerName": node.name, "ok": False, "secretServer": secret_server, "error": str(failure)}
    return {"computerName": node.name, "ok": True, "secretServer": secret_server, "error": ""}
