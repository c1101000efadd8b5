"""SecretRestore (steps 24-26) against the simulated nodes, through real WinRM; and the teardown of 14-26."""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import Any

import pytest
from providers_support import (  # noqa: F401
    CONFIG,
    N1,
    N2,
    bring_world_to,
    configured,
    operations_seen,
    sim,
    targets,
    without_backoff,
    world_op,
)
from pulumi.output import Unknown

from ops import simstack
from providers.base import EntssoProvider
from providers.clustered_dtc import ClusteredDtcProvider
from providers.entsso_role import EntssoRoleProvider
from providers.entsso_service import EntssoServiceProvider
from providers.runner import RemoteOperationError
from providers.secret_restore import COPY_DIRECTORY, SecretRestoreProvider
from simulator.world import Fault, FaultPlan, windows
from simulator.world.model import SSOSS_KEY, key

CAP = CONFIG.sso.network_name
PASSWORD = CONFIG.secret("backupPassword")
COPY = f"{COPY_DIRECTORY}\\{CAP}-restore.bak"

UNKNOWN: Any = Unknown()  # type: ignore[no-untyped-call]  # a preview's unknown value


def restore_inputs(stack: simstack.SimulatedStack, backup: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "nodes": targets(stack),
        "network_name": CAP,
        "backup_content": backup["contentBase64"],
        "backup_sha256": backup["sha256"],
        "password": PASSWORD,
        "restore_node": N2,
        "fail_back_to": N1,
        **changes,
    }


def quick_retries(provider: EntssoProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two attempts, no backoff: a dead node or a fault plan fails in milliseconds instead of seconds."""
    without_backoff(provider, attempts=2)


def client_from_each_node(stack: simstack.SimulatedStack) -> list[tuple[bool, str]]:
    """Fail the role over to each node in turn; what an SSO client gets each time."""
    results = []
    for node in (N2, N1):
        world_op(stack, N1, "role_move", Name=CAP, Node=node)
        with stack.host.lock:
            results.append(windows.sso_client_can_get_secret(stack.world))
    return results


def no_copies_left(stack: simstack.SimulatedStack) -> bool:
    return not any(world_op(stack, node, "file_get", Path=COPY)["exists"] for node in (N1, N2))


def forget_secret(stack: simstack.SimulatedStack, node: str) -> None:
    with stack.host.lock:
        registry = stack.world.nodes[node].registry
        for path in [p for p in registry if p.startswith(key(SSOSS_KEY))]:
            del registry[path]


def test_create_restores_on_node_2_fails_back_and_serves_from_either_node(
    sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup = bring_world_to(sim, "moved")["backup"]
    provider = configured(SecretRestoreProvider)
    seen = operations_seen(sim, monkeypatch)
    created = provider.create(restore_inputs(sim, backup))

    outs = created.outs or {}
    assert outs["restored_on"] == [N1, N2] and outs["owner_node"] == N1
    assert outs["secret_id"] == backup["secretId"]
    assert seen.count("secret_restore") == 1 and seen.count("file_put") == 1  # node 1 already had it
    assert [op for op in seen if op in ("role_move", "sso_client_check")] == [
        "role_move",  # ENTSSO cycled on node 2 before the restore there (S2)
        "sso_client_check",
        "role_move",
        "sso_client_check",
    ]
    for node in (N1, N2):
        assert world_op(sim, node, "secret_get")["secretId"] == backup["secretId"]
    assert no_copies_left(sim)
    assert [ok for ok, _ in client_from_each_node(sim)] == [True, True]

    seen.clear()
    provider.create(restore_inputs(sim, backup))  # converged: reads and one client check
    assert set(seen) == {"secret_get", "role_get", "sso_get", "sso_client_check"}


def test_a_wrong_sha256_never_touches_a_node(sim: simstack.SimulatedStack) -> None:
    backup = bring_world_to(sim, "moved")["backup"]
    provider = configured(SecretRestoreProvider)
    inputs = restore_inputs(sim, backup, backup_sha256=hashlib.sha256(b"another backup").hexdigest())
    failures = provider.check({}, inputs).failures
    assert [f.property for f in failures] == ["backup_sha256"]
    assert "does not match the backup content" in failures[0].reason
    with pytest.raises(ValueError, match="does not match the backup content") as refused:
        provider.create(inputs)
    assert sim.http_requests() == 0
    assert PASSWORD not in str(refused.value) and backup["contentBase64"][:40] not in str(refused.value)


def test_a_wrong_password_fails_cleanly_then_create_finishes(
    sim: simstack.SimulatedStack, caplog: pytest.LogCaptureFixture
) -> None:
    backup = bring_world_to(sim, "moved")["backup"]
    provider = configured(SecretRestoreProvider)
    wrong = "Not-The-Backup-Pa55!"
    with caplog.at_level(logging.DEBUG), pytest.raises(RemoteOperationError) as failure:
        provider.create(restore_inputs(sim, backup, password=wrong))
    assert failure.value.operation == "secret_restore" and "An incorrect password was specified for the backup file." in str(failure.value)
    text = str(failure.value) + repr(failure.value.__dict__) + caplog.text
    for secret in (wrong, PASSWORD, backup["contentBase64"][:40]):
        assert secret not in text
    assert no_copies_left(sim)  # the copy holds the secret: gone although the restore failed
    assert not world_op(sim, N2, "secret_get")["present"]

    outs = provider.create(restore_inputs(sim, backup, fail_back_to=N1.lower())).outs or {}
    assert outs["restored_on"] == [N1, N2] and outs["owner_node"] == N1


def test_create_resumes_after_a_failure_half_way(monkeypatch: pytest.MonkeyPatch) -> None:
    # The restore on node 2 happens, but its answer is lost on every attempt.
    plan = FaultPlan(faults=[Fault(kind="reset_after", node=N2, operation="secret_restore", times=2)])
    with simstack.running(CONFIG, ports="any", plan=plan) as stack:
        backup = bring_world_to(stack, "moved")["backup"]
        provider = configured(SecretRestoreProvider)
        quick_retries(provider, monkeypatch)
        with pytest.raises(RemoteOperationError):
            provider.create(restore_inputs(stack, backup))
        assert world_op(stack, N2, "secret_get")["secretId"] == backup["secretId"]
        assert no_copies_left(stack)

        seen = operations_seen(stack, monkeypatch)
        outs = provider.create(restore_inputs(stack, backup)).outs or {}
        assert "file_put" not in seen and "secret_restore" not in seen
        assert seen.count("role_move") == 1  # the fail-back only
        assert outs["owner_node"] == N1 and outs["restored_on"] == [N1, N2]


def test_read_reports_a_node_that_lost_the_secret_and_update_restores_it(sim: simstack.SimulatedStack) -> None:
    backup = bring_world_to(sim, "moved")["backup"]
    provider = configured(SecretRestoreProvider)
    created = provider.create(restore_inputs(sim, backup))
    forget_secret(sim, N2)

    read = provider.read(created.id, created.outs or {})
    olds = read.outs or {}
    assert read.id == created.id and olds["restored_on"] == [N1]
    diff = provider.diff(created.id, olds, restore_inputs(sim, backup))
    assert diff.changes and not diff.replaces
    outs = provider.update(created.id, olds, restore_inputs(sim, backup)).outs or {}
    assert outs["restored_on"] == [N1, N2] and outs["owner_node"] == N1
    assert [ok for ok, _ in client_from_each_node(sim)] == [True, True]

    forget_secret(sim, N1)
    forget_secret(sim, N2)
    assert provider.read(created.id, outs).id is None


def test_diff_never_replaces(sim: simstack.SimulatedStack) -> None:
    backup = bring_world_to(sim, "backup")["backup"]
    provider = configured(SecretRestoreProvider)
    olds = {**restore_inputs(sim, backup), "restored_on": [N1, N2], "secret_id": backup["secretId"]}
    assert not provider.diff("x", olds, {**restore_inputs(sim, backup), "__provider": "new blob"}).changes
    content = base64.b64encode(b"a newer backup").decode()
    newer = restore_inputs(
        sim, backup, backup_content=content, backup_sha256=hashlib.sha256(b"a newer backup").hexdigest()
    )
    diff = provider.diff("x", olds, newer)
    assert diff.changes and not diff.replaces


def test_delete_removes_leftover_copies_and_keeps_the_secret(
    sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    backup = bring_world_to(sim, "moved")["backup"]
    strict = CONFIG.model_copy(update={"winrm": CONFIG.winrm.model_copy(update={"skip_unreachable_on_delete": False})})
    provider, lenient = configured(SecretRestoreProvider, strict), configured(SecretRestoreProvider)
    quick_retries(provider, monkeypatch)
    quick_retries(lenient, monkeypatch)
    outs = provider.create(restore_inputs(sim, backup)).outs or {}
    for node in (N1, N2):  # copies left behind, e.g. by a run killed between file_put and the restore
        world_op(sim, node, "file_put", Path=COPY, ContentBase64=backup["contentBase64"], Sha256=backup["sha256"])
    provider.delete("x", outs)
    assert no_copies_left(sim)
    assert all(world_op(sim, node, "secret_get")["present"] for node in (N1, N2))

    sim.server(N2).stop()
    with pytest.raises(RemoteOperationError) as failure:
        provider.delete("x", outs)
    assert failure.value.node == N2 and "check that the node is up" in str(failure.value)
    with caplog.at_level(logging.WARNING, logger="entsso.providers"):
        lenient.delete("x", outs)
    assert f"skipping unreachable node {N2} on delete" in caplog.text
    assert PASSWORD not in caplog.text


def test_check_reports_bad_input_and_tolerates_unknowns(sim: simstack.SimulatedStack) -> None:
    backup = bring_world_to(sim, "backup")["backup"]
    provider = configured(SecretRestoreProvider)
    assert provider.check({}, restore_inputs(sim, backup)).failures == []
    bad = provider.check(
        {},
        restore_inputs(sim, backup, backup_content="not base64!", backup_sha256="abc", password="", fail_back_to="X"),
    )
    reasons = {failure.property: failure.reason for failure in bad.failures}
    assert set(reasons) == {"backup_content", "backup_sha256", "password"}
    assert all(PASSWORD not in reason for reason in reasons.values())
    stranger = provider.check({}, restore_inputs(sim, backup, fail_back_to="MSSNODE9")).failures
    assert len(stranger) == 1 and "MSSNODE9 is not one of" in stranger[0].reason
    preview = restore_inputs(sim, backup, backup_content=UNKNOWN, backup_sha256=UNKNOWN, nodes=UNKNOWN)
    assert provider.check({}, preview).failures == []


def test_teardown_in_reverse_order_leaves_the_cluster_as_before(sim: simstack.SimulatedStack) -> None:
    backup = bring_world_to(sim, "secret_server")["backup"]
    cluster = sim.world.cluster
    assert cluster is not None
    before = (sorted(cluster.groups), sorted(cluster.resources), sorted(sim.world.domain.computers))
    dtc, role, service, restore = (
        configured(p) for p in (ClusteredDtcProvider, EntssoRoleProvider, EntssoServiceProvider, SecretRestoreProvider)
    )
    dtc_inputs = {
        "nodes": targets(sim),
        "network_name": CONFIG.dtc.network_name,
        "ip": str(CONFIG.dtc.ip),
        "probe_port": CONFIG.dtc.probe_port,
        "disk": CONFIG.dtc.disk,
    }
    role_inputs = {"nodes": targets(sim), "network_name": CAP, "ip": str(CONFIG.sso.ip), "probe_port": CONFIG.sso.probe_port}
    service_inputs = {"nodes": targets(sim), "network_name": CAP, "service_account": CONFIG.domain.service_account}
    built = [
        (dtc, dtc.create(dtc_inputs)),
        (role, role.create(role_inputs)),
        (service, service.create(service_inputs)),
        (restore, restore.create(restore_inputs(sim, backup))),
    ]
    assert [ok for ok, _ in client_from_each_node(sim)] == [True, True]

    for provider, created in reversed(built):
        provider.delete(created.id, created.outs or {})
    assert (sorted(cluster.groups), sorted(cluster.resources), sorted(sim.world.domain.computers)) == before
    assert no_copies_left(sim)
