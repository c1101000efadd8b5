"""SecretBackup (step 5) against the simulated nodes, through real WinRM."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pulumi.dynamic
import pytest
from providers_support import (  # noqa: F401
    CONFIG,
    N1,
    backup_file,
    bring_world_to,
    configured,
    operations_seen,
    sim,
    targets,
    without_backoff,
)
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pulumi.output import Unknown

from ops import simstack
from providers.runner import RemoteOperationError
from providers.secret_backup import OUTPUTS, SecretBackup, SecretBackupProvider
from simulator.world import Fault, FaultPlan, mastersecret, windows
from simulator.world.model import key
from simulator.wsman.backend import Outcome

PASSWORD = CONFIG.secret("backupPassword")
SECRETS = (PASSWORD, CONFIG.secret("installPassword"))

UNKNOWN: Any = Unknown()  # type: ignore[no-untyped-call]  # a preview's unknown value


def props(stack: simstack.SimulatedStack, **changes: Any) -> dict[str, Any]:
    return {
        "node": next(target for target in targets(stack) if target["name"] == N1),
        "backup_file": backup_file(),
        "password": PASSWORD,
        "reminder": CONFIG.sso.backup_reminder,
        **changes,
    }


def provider(config: Any = CONFIG) -> SecretBackupProvider:
    """A configured provider whose transient-fault retries do not wait (the tests stop nodes on purpose)."""
    return without_backoff(configured(SecretBackupProvider, config))


def outs(result: CreateResult | UpdateResult | ReadResult) -> dict[str, Any]:
    assert result.outs is not None
    return result.outs


@pytest.fixture
def ran(sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every operation the world runs, in order."""
    return operations_seen(sim, monkeypatch)


def on_disk(stack: simstack.SimulatedStack, path: str = "") -> bytes | None:
    return stack.world.nodes[key(N1)].file(path or backup_file())


def master_secret(stack: simstack.SimulatedStack) -> mastersecret.MasterSecret | None:
    return mastersecret.current(stack.world.nodes[key(N1)])


def test_create_backs_up_verifies_and_returns_the_bytes(
    sim: simstack.SimulatedStack, caplog: pytest.LogCaptureFixture
) -> None:
    bring_world_to(sim, "sso")
    before = master_secret(sim)
    with caplog.at_level(logging.DEBUG):
        created = provider().create(props(sim))
    result = outs(created)
    content = base64.b64decode(result["content"])
    assert on_disk(sim) == content and result["length"] == len(content)
    assert result["sha256"] == hashlib.sha256(content).hexdigest().upper()
    restored = mastersecret.open_backup(content, PASSWORD)  # the escrowed bytes restore the secret
    assert before is not None and restored.secret_id == before.secret_id == result["secret_id"]
    assert master_secret(sim) == before  # a backup never changes the master secret
    assert datetime.fromisoformat(result["taken_at"]).tzinfo is not None
    assert created.id == f"{N1}:{backup_file()}"
    assert not any(secret in caplog.text for secret in (*SECRETS, result["content"]))


def test_create_again_after_a_failure_half_way_takes_a_fresh_verified_backup(
    sim: simstack.SimulatedStack, ran: list[str]
) -> None:
    bring_world_to(sim, "sso")
    failing = simstack.start(
        CONFIG, ports="any", world=sim.world, plan=FaultPlan(faults=[Fault(kind="http_500", operation="file_get")])
    )
    try:
        with pytest.raises(RemoteOperationError) as caught:
            provider().create(props(failing))
    finally:
        failing.stop()
    assert caught.value.operation == "file_get" and on_disk(sim) is not None  # taken, never verified
    assert not any(secret in str(caught.value) for secret in SECRETS)
    ran.clear()
    result = outs(provider().create(props(sim)))  # the bytes are only known by taking the backup again
    assert ran == ["secret_backup", "file_get"]
    assert hashlib.sha256(on_disk(sim) or b"").hexdigest().upper() == result["sha256"]


def test_a_backup_that_does_not_read_back_the_same_fails(
    sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    bring_world_to(sim, "sso")
    run_process = sim.host.run_process

    def meddling(session: Any, operation: str | None, run: Callable[[], Outcome]) -> Outcome:
        outcome = run_process(session, operation, run)
        if operation == "secret_backup":  # something rewrites the file before it is read back
            files = sim.world.nodes[key(N1)].files
            files[next(name for name in files if name.endswith("master-secret.bak"))] += b"x"
        return outcome

    monkeypatch.setattr(sim.host, "run_process", meddling)
    with pytest.raises(RuntimeError, match="does not verify: the file has SHA-256") as caught:
        provider().create(props(sim))
    assert not any(secret in str(caught.value) for secret in SECRETS)


def test_read_reports_a_missing_or_changed_file_and_update_takes_a_new_backup(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "sso")
    prov = provider()
    created = prov.create(props(sim))
    node = sim.world.nodes[key(N1)]
    node.files = {name: b"not a backup" if name.endswith("master-secret.bak") else c for name, c in node.files.items()}
    read = prov.read(created.id, outs(created))
    assert read.id == created.id and outs(read)["sha256"] == hashlib.sha256(b"not a backup").hexdigest().upper()
    assert outs(read)["length"] == len(b"not a backup") and outs(read)["content"] == outs(created)["content"]
    planned = prov.diff(created.id, outs(read), props(sim))
    assert planned.changes is True and planned.replaces == []
    updated = outs(prov.update(created.id, outs(read), props(sim)))
    assert on_disk(sim) == base64.b64decode(updated["content"]) != base64.b64decode(outs(created)["content"])
    assert prov.diff(created.id, updated, props(sim)).changes is False
    node.files = {name: c for name, c in node.files.items() if not name.endswith("master-secret.bak")}
    gone = prov.read(created.id, updated)
    assert gone.id == created.id and (outs(gone)["sha256"], outs(gone)["length"]) == ("", 0)
    assert prov.diff(created.id, outs(gone), props(sim)).changes is True


def test_a_deleted_file_comes_back_from_the_escrowed_copy_while_the_secret_is_unchanged(
    sim: simstack.SimulatedStack, ran: list[str]
) -> None:
    bring_world_to(sim, "sso")
    prov = provider()
    created = outs(prov.create(props(sim)))
    node = sim.world.nodes[key(N1)]
    node.files = {name: c for name, c in node.files.items() if not name.endswith("master-secret.bak")}
    windows.stop_entsso(sim.world, node)  # and no SSO service runs to take a new one
    gone = outs(prov.read("id", created))
    ran.clear()
    restored = outs(prov.update("id", gone, props(sim)))
    assert "secret_backup" not in ran and "file_put" in ran  # no SSO service needed: the bytes are escrowed
    assert on_disk(sim) == base64.b64decode(created["content"])
    assert all(restored[name] == created[name] for name in OUTPUTS)
    assert prov.diff("id", restored, props(sim)).changes is False


def test_update_of_an_intact_backup_keeps_it(sim: simstack.SimulatedStack, ran: list[str]) -> None:
    bring_world_to(sim, "sso")
    prov = provider()
    created = prov.create(props(sim))
    moved = {**props(sim)["node"], "thumbprint": None, "endpoint": props(sim)["node"]["endpoint"] + "?again"}
    assert prov.diff(created.id, outs(created), props(sim, node=moved)).replaces == []
    ran.clear()
    updated = prov.update(created.id, outs(created), props(sim))
    assert ran == ["file_get"] and all(outs(updated)[name] == outs(created)[name] for name in OUTPUTS)


def test_a_replacement_takes_the_new_backup_before_the_old_file_goes(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "sso")
    prov = provider()
    old = prov.create(props(sim))
    for name, value in [
        ("password", "Another-Backup-Pa55!"),
        ("reminder", "Vault entry 2"),
        ("backup_file", "C:\\B\\2.bak"),
    ]:
        planned = prov.diff(old.id, outs(old), props(sim, **{name: value}))
        assert planned.replaces == [name] and planned.delete_before_replace is False, name
    renamed = {**props(sim)["node"], "name": "MSSNODE2"}
    assert prov.diff(old.id, outs(old), props(sim, node=renamed)).replaces == ["node"]
    # Same path, new password: the engine creates the new one, then deletes the old, which must keep the file.
    new = prov.create(props(sim, password="Another-Backup-Pa55!"))
    prov.delete(old.id, outs(old))
    assert on_disk(sim) == base64.b64decode(outs(new)["content"])
    assert mastersecret.open_backup(on_disk(sim) or b"", "Another-Backup-Pa55!").secret_id == outs(new)["secret_id"]
    # A new path: the old file goes once the new one is there.
    newer = prov.create(props(sim, backup_file="C:\\B\\2.bak"))
    prov.delete(new.id, outs(new))
    assert on_disk(sim) is None and on_disk(sim, "C:\\B\\2.bak") == base64.b64decode(outs(newer)["content"])


def test_delete_removes_only_the_file(sim: simstack.SimulatedStack) -> None:
    bring_world_to(sim, "sso")
    files_before = set(sim.world.nodes[key(N1)].files)
    secret = master_secret(sim)
    prov = provider()
    created = prov.create(props(sim))
    prov.delete(created.id, outs(created))
    assert set(sim.world.nodes[key(N1)].files) == files_before  # the wizard's own backup stays
    assert master_secret(sim) == secret
    prov.delete(created.id, outs(created))  # already gone: nothing to do


def test_unreachable_node_on_delete(sim: simstack.SimulatedStack, caplog: pytest.LogCaptureFixture) -> None:
    bring_world_to(sim, "sso")
    created = provider().create(props(sim))
    sim.server(N1).stop()
    strict = CONFIG.model_copy(update={"winrm": CONFIG.winrm.model_copy(update={"skip_unreachable_on_delete": False})})
    with caplog.at_level(logging.DEBUG), pytest.raises(RemoteOperationError) as caught:
        provider(strict).delete(created.id, outs(created))
    assert caught.value.node == N1 and "check that the node is up" in str(caught.value)
    with caplog.at_level(logging.DEBUG):
        provider().delete(created.id, outs(created))
    assert any(f"skipping unreachable node {N1}" in r.getMessage() for r in caplog.records)
    assert on_disk(sim) is not None  # nothing could be removed; the warning says so
    assert not any(s in caplog.text or s in str(caught.value) for s in (*SECRETS, outs(created)["content"]))


def test_check_reports_bad_input_and_tolerates_unknowns(sim: simstack.SimulatedStack) -> None:
    prov = provider()
    bad = prov.check({}, {**props(sim, password="weakpass", backup_file="backup.bak"), "reminder": ""})
    assert {f.property for f in bad.failures} == {"password", "backup_file", "reminder"}
    assert not any("weakpass" in f.reason for f in bad.failures)
    assert prov.check({}, props(sim, password=UNKNOWN, node=UNKNOWN)).failures == []


def test_the_resource_seeds_outputs_and_keeps_password_and_bytes_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def register(self: Any, provider: Any, name: str, props: dict[str, Any], opts: Any) -> None:
        seen.update(provider=provider, props=props, opts=opts)

    monkeypatch.setattr(pulumi.dynamic.Resource, "__init__", register)
    node = {"name": N1, "endpoint": "http://127.0.0.1:1/wsman", "thumbprint": None}
    SecretBackup("b", node=node, backup_file=backup_file(), password="x", reminder="r")  # type: ignore[arg-type]
    assert isinstance(seen["provider"], SecretBackupProvider)
    assert all(name in seen["props"] and seen["props"][name] is None for name in OUTPUTS)
    assert seen["opts"].additional_secret_outputs == ["password", "content"]
