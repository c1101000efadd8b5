"""The real program's lifecycle: `__main__.py` on the sim stack, through the real Pulumi engine (the pinned
CLI, ops/engine.py), against simulated nodes this test owns (tests/engine_support.py).

What is checked is what a user of the stack relies on: up builds everything and an SSO client gets
the master secret from the network name; a second preview or up does nothing and says nothing to
the nodes; a changed setting touches exactly what the preview said it would; a refresh sees what
was changed behind its back and the next up puts it right; an up killed with SIGKILL mid-procedure
leaves no process behind and the next up resumes; and destroy takes away what the stack built.
The simulated world is read directly (under its lock) to judge the outcome, never the engine's
own report alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_support import BOOKKEEPING, ROOT, SimStack, sim_stack

from ops.model import Op, RunResult, Status
from simulator.world import Fault, FaultPlan, WorldHost, mastersecret, store
from simulator.world.faults import FaultInjector
from simulator.world.model import ENTSSO
from simulator.wsman.backend import Directive, Session

STACK_NAME = "entsso-cluster-sim"
COMPONENT = "mss"
PROCEDURE = (
    "mss-sso-install-mssnode1",
    "mss-features-mssnode1",
    "mss-sso-install-mssnode2",
    "mss-features-mssnode2",
    "mss-cluster",
    "mss-sso-master-mssnode1",
    "mss-backup",
    "mss-sso-member-mssnode2",
    "mss-secret-server",
    "mss-dtc",
    "mss-role",
    "mss-entsso",
    "mss-restore",
)
EVERYTHING = frozenset({*BOOKKEEPING, *PROCEDURE})
PROVIDER = "default"  # the dynamic resources' default provider: the stack's config is its input

Plan = dict[str, tuple[Op, tuple[str, ...]]]


# -- helpers ----------------------------------------------------------------------------------------


@pytest.fixture
def r(tmp_path: Path) -> Iterator[SimStack]:
    with sim_stack(tmp_path) as stack:
        yield stack


def explain(result: RunResult) -> str:
    """Enough of a failed run to see why, without the reader opening anything."""
    failed = [f"{o.name}: {o.status.value} {o.error}" for o in result.outcomes if o.status is not Status.OK]
    return "\n".join(
        [f"error: {result.error}", *failed, *(f"warning: {w}" for w in result.warnings), result.cli_output[-3000:]]
    )


def succeeded(result: RunResult) -> RunResult:
    assert not result.failed, explain(result)
    return result


def counted(r: SimStack, run: Callable[[], RunResult]) -> tuple[RunResult, int]:
    """A run and the WinRM requests (HTTP requests to any node) it sent."""
    before = r.nodes.http_requests()
    result = run()
    return result, r.nodes.http_requests() - before


def changes(result: RunResult) -> Plan:
    """What a run did (or, for a preview, would do) to each resource it did not leave alone."""
    return {o.name: (o.op, o.changed) for o in result.outcomes if o.op.changes}


def assert_no_op_preview(r: SimStack, engine_preview: Callable[[], RunResult]) -> None:
    preview, sent = counted(r, engine_preview)
    succeeded(preview)
    assert changes(preview) == {}
    assert {o.name for o in preview.outcomes} == EVERYTHING
    assert sent == 0, f"a preview sent {sent} WinRM requests; it must only Check and Diff"


def client_gets_secret(r: SimStack) -> str:
    """An SSO client's view (the simulated world's): the secret, from the server SSODB names."""
    ok, why = r.nodes.host.client_check()
    assert ok, why
    return why


def backup_file(r: SimStack, network_name: str | None = None) -> str:
    sso = r.settings.sso
    return f"{sso.backup_directory}\\{network_name or sso.network_name}-master-secret.bak"


def file_on(r: SimStack, node: str, path: str) -> bytes | None:
    with r.nodes.host.lock:
        found = r.nodes.world.node(node)
        assert found is not None
        return found.file(path)


def sha256_upper(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest().upper()


def node_names(r: SimStack) -> tuple[str, str]:
    first, second = (node.name for node in r.settings.nodes)
    return first, second


def world_facts(host: WorldHost) -> dict[str, Any]:
    """What the stack builds, as facts that do not depend on chance.

    Left out: event logs, and what is random by nature (the master secret's bytes and id, a backup's
    salt): each node records instead whether it holds SSODB's secret, the one the master created.
    """
    with host.lock:
        world = host.world
        database = next((db for db in world.sql.databases.values() if db.exists), None)
        secret_id = database.secret_id if database else ""
        masters = [s for s in (mastersecret.current(n) for n in world.nodes.values()) if s is not None]
        original = next((s.secret for s in masters if s.secret_id == secret_id), b"")
        cluster = world.cluster
        cluster_facts = None
        if cluster is not None:
            cluster_facts = {
                "name": cluster.name,
                "nodes": sorted(cluster.nodes),
                "management_point": cluster.management_point,
                "quorum": (cluster.quorum.type, cluster.quorum.account_name, cluster.quorum.endpoint),
                "groups": {g.name: (g.owner_node, tuple(g.preferred_owners)) for g in cluster.groups.values()},
                "resources": {
                    res.name: (
                        res.type,
                        res.group,
                        res.state,
                        tuple(sorted(res.dependencies)),
                        tuple(res.possible_owners),
                        tuple(sorted(res.parameters.items())),
                    )
                    for res in cluster.resources.values()
                },
                "access": dict(cluster.access),
                "dtc_settings": json.dumps(cluster.dtc_settings, sort_keys=True),
            }
        nodes: dict[str, Any] = {}
        for node in world.nodes.values():
            service = node.service(ENTSSO)
            secret = mastersecret.current(node)
            nodes[node.name] = {
                "entsso": None
                if service is None
                else (service.state, service.start_mode, service.account, service.started_by),
                "holds_ssodb_secret": secret is not None
                and secret.secret_id == secret_id
                and secret.secret == original,
                "serves_ssodb_secret": bool(secret_id) and node.loaded_secret == secret_id,
                "endpoint_names": sorted(node.endpoint_names),
                "files": sorted(stable_file_name(path) for path in node.files),
                "features": sorted(node.features),
                "products": sorted(node.products),
            }
        return {
            "cluster": cluster_facts,
            "computers": sorted((c.name, c.kind) for c in world.domain.computers.values()),
            "ssodb": None
            if database is None
            else (database.secret_server, sorted(database.servers), database.admin_group, database.affiliate_group),
            "nodes": nodes,
        }


def world_snapshot(host: WorldHost) -> dict[str, Any]:
    """The whole world as its disks hold it, without the event logs (they only grow) and without what a
    service's process is given anew at each start (its process id and start time)."""
    with host.lock:
        document: dict[str, Any] = json.loads(store.dumps(host.world))["world"]
    document.pop("event_sequence")
    for node in document["nodes"].values():
        node.pop("events")
        # Windows' own logs (setup's, Test-Cluster's validation reports) accumulate, one per run
        for table in ("files", "file_names"):
            node[table] = {path: value for path, value in node.get(table, {}).items() if not is_windows_log(path)}
        for service in node["services"].values():
            service.pop("process_id", None)
            service.pop("started_at", None)
    return document


def by_hand(r: SimStack, node: str, text: str) -> None:
    """An administrator's change on `node`, outside the stack: PowerShell typed there (the install account over
    WinRM), run by the node's powershell.exe in the interpreter against the simulated Windows."""
    session = Session(node=node, user=r.settings.domain.install_account, auth="ntlm", encrypted=True, delegated=False)
    result = r.nodes.host.powershell(session, text)
    assert result.terminating is None, result.terminating.message


def set_use_network_name(r: SimStack, node: str, value: int) -> None:
    by_hand(r, node, f"Get-ClusterResource -Name {ENTSSO} | Set-ClusterParameter -Name UseNetworkName -Value {value}")


def move_role(r: SimStack, node: str, to: str) -> None:
    by_hand(r, node, f"Move-ClusterGroup -Name '{r.settings.sso.network_name}' -Node {to} | Out-Null")


def remove_file(r: SimStack, node: str, path: str) -> None:
    by_hand(r, node, f"Remove-Item -LiteralPath '{path}'")


def differences(before: Any, after: Any, where: str = "") -> list[str]:
    """Where two JSON documents differ, one line per leaf (the failing assertion names what changed)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            line
            for name in sorted(set(before) | set(after), key=str)
            for line in differences(before.get(name, "<absent>"), after.get(name, "<absent>"), f"{where}.{name}")
        ]
    return [] if before == after else [f"{where}: {str(before)[:200]} -> {str(after)[:200]}"]


def stable_file_name(path: str) -> str:
    """Without the GUIDs and times in the names of Windows' own logs (setup's log, a validation report)."""
    path = re.sub(r"[0-9a-f]{32}", "<guid>", path)
    return re.sub(r"\d{4}\.\d{2}\.\d{2} at \d{2}\.\d{2}\.\d{2}", "<time>", path)


def is_windows_log(path: str) -> bool:
    return path.startswith("c:\\windows\\temp\\") and path.endswith((".log", ".htm"))


# -- 1. up from nothing --------------------------------------------------------------------------


def test_up_from_nothing_builds_the_clustered_secret_server(r: SimStack) -> None:
    first, second = node_names(r)

    up = succeeded(r.engine.up())

    assert {o.name: o.op for o in up.outcomes} == dict.fromkeys(EVERYTHING, Op.CREATE)
    assert up.summary.created == len(EVERYTHING)
    assert up.engine_changes == {"create": len(EVERYTHING) - 1}  # the engine does not count its provider
    assert (up.summary.updated, up.summary.replaced, up.summary.deleted) == (0, 0, 0)
    backup = file_on(r, first, backup_file(r))
    assert backup is not None, "the verified backup is not on the original master"
    assert up.outputs["backupSha256"] == sha256_upper(backup)
    assert up.outputs["secretServer"] == r.settings.sso.network_name
    assert up.outputs["ownerNode"] == first  # restored on node 2, then failed back to the master
    assert up.outputs["clusterName"] == r.settings.cluster.name
    assert up.outputs["clientAccessPoint"] == {"name": r.settings.sso.network_name, "ip": str(r.settings.sso.ip)}
    assert [(n["name"], n["winrm"]) for n in up.outputs["nodes"]] == list(r.nodes.endpoints.items())
    assert client_gets_secret(r) == f"secret served by '{r.settings.sso.network_name}' from node {first}"
    facts = world_facts(r.nodes.host)
    assert facts["ssodb"][0] == r.settings.sso.network_name
    assert all(facts["nodes"][n]["holds_ssodb_secret"] for n in (first, second))
    assert r.role_owner() == first
    assert not any(path.endswith("-restore.bak") for n in facts["nodes"].values() for path in n["files"])


# -- 2. a second preview and up do nothing ------------------------------------------------------


@pytest.mark.slow
def test_preview_and_up_again_change_nothing_and_send_nothing(r: SimStack) -> None:
    succeeded(r.engine.up())
    before = world_facts(r.nodes.host)

    assert_no_op_preview(r, r.engine.preview)
    again, sent = counted(r, r.engine.up)

    succeeded(again)
    assert changes(again) == {}
    assert again.summary.unchanged == len(EVERYTHING)
    # Every resource's diff is pure, so an up with nothing to change has nothing to ask the nodes.
    assert sent == 0, f"a no-op up sent {sent} WinRM requests"
    assert world_facts(r.nodes.host) == before
    client_gets_secret(r)


# -- 3. a changed setting changes exactly what the preview says -----------------------------------

# (config change, what the preview plans and the up does), every other resource left alone. The
# default provider holds the stack's config as its inputs, so every config change updates it too
# (and the engine configures the provider host with the new config before the resources' steps).
CONFIG_CHANGES: dict[str, tuple[dict[str, Any], Plan]] = {
    "sso.probePort": (
        {"sso": {"probePort": 59990}},
        {
            PROVIDER: (Op.UPDATE, ("entsso-cluster:sso",)),
            "mss-role": (Op.UPDATE, ("probe_port",)),
        },
    ),
    "sso.backupReminder": (
        {"sso": {"backupReminder": "Vault entry ENTSSO-MSS-SIM, rotated"}},
        {
            PROVIDER: (Op.UPDATE, ("entsso-cluster:sso",)),
            # the SSO servers carry the wizard's backup settings: an update that finds them configured
            "mss-sso-master-mssnode1": (Op.UPDATE, ("backup_reminder",)),
            "mss-sso-member-mssnode2": (Op.UPDATE, ("backup_reminder",)),
            "mss-backup": (Op.REPLACE, ("reminder",)),
            "mss-restore": (Op.UPDATE, ("backup_content", "backup_sha256")),
        },
    ),
    "dtc.probePort": (
        {"dtc": {"probePort": 59997}},
        {
            PROVIDER: (Op.UPDATE, ("entsso-cluster:dtc",)),
            "mss-dtc": (Op.UPDATE, ("probe_port",)),  # converged in place (issue 12, finding 13)
        },
    ),
    "sso.networkName": (
        {"sso": {"networkName": "MSSCLUSTER2"}},
        {
            PROVIDER: (Op.UPDATE, ("entsso-cluster:sso",)),
            "mss-sso-master-mssnode1": (Op.UPDATE, ("backup_file",)),
            "mss-sso-member-mssnode2": (Op.UPDATE, ("backup_file",)),
            "mss-backup": (Op.REPLACE, ("backup_file", "role")),
            "mss-secret-server": (Op.UPDATE, ("secret_server",)),
            "mss-role": (Op.REPLACE, ("network_name",)),
            "mss-entsso": (Op.REPLACE, ("network_name",)),
            "mss-restore": (Op.UPDATE, ("backup_content", "backup_sha256", "network_name")),
        },
    ),
}


def _check_changed_world(r: SimStack, case: str, old_backup: bytes, outputs: dict[str, Any]) -> None:
    """The change is in the world, not only in the state."""
    first, _ = node_names(r)
    with r.nodes.host.lock:
        cluster = r.nodes.world.cluster
        assert cluster is not None
        resources = {res.name: res for res in cluster.resources.values()}
        groups = {group.name for group in cluster.groups.values()}
        computers = {c.name for c in r.nodes.world.domain.computers.values()}
    if case == "sso.probePort":
        assert resources[f"IP Address {r.settings.sso.ip}"].parameters["ProbePort"] == 59990
    elif case == "dtc.probePort":
        assert resources[f"IP Address {r.settings.dtc.ip}"].parameters["ProbePort"] == 59997
        assert resources[f"MSDTC-{r.settings.dtc.network_name}"].state == "Online"
    elif case == "sso.backupReminder":
        backup = file_on(r, first, backup_file(r))
        assert backup is not None and backup != old_backup, "no new backup was taken"
        assert mastersecret.reminder(backup) == "Vault entry ENTSSO-MSS-SIM, rotated"
        assert outputs["backupSha256"] == sha256_upper(backup)
    elif case == "sso.networkName":
        old, new = r.settings.sso.network_name, "MSSCLUSTER2"
        assert new in groups and old not in groups
        assert new in computers and old not in computers  # the old role's computer object went with it
        assert outputs["secretServer"] == new
        assert file_on(r, first, backup_file(r)) is None  # the old backup went once the new one was verified
        backup = file_on(r, first, backup_file(r, new))
        assert backup is not None
        assert outputs["backupSha256"] == sha256_upper(backup)
        assert client_gets_secret(r).startswith(f"secret served by '{new}'")


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CONFIG_CHANGES))
def test_a_changed_setting_changes_exactly_what_the_preview_said(r: SimStack, case: str) -> None:
    config_change, expected = CONFIG_CHANGES[case]
    first, _ = node_names(r)
    succeeded(r.engine.up())
    old_backup = file_on(r, first, backup_file(r))
    assert old_backup is not None
    changed = r.with_config(**config_change)

    preview, preview_requests = counted(r, changed.preview)
    up = succeeded(changed.up())

    assert changes(succeeded(preview)) == expected
    assert preview_requests == 0
    # The up did what the preview planned, nothing more. (Which properties changed is shown for
    # plain inputs only: a secret input, such as the backup's content, shows as [secret] on both
    # sides of an update's event, so an up cannot tell; its preview saw it become unknown.)
    assert {name: op for name, (op, _) in changes(up).items()} == {name: op for name, (op, _) in expected.items()}
    for name, (_, keys) in changes(up).items():
        assert set(keys) <= set(expected[name][1]), (name, keys)
    assert up.summary.unchanged == len(EVERYTHING) - len(expected)
    _check_changed_world(r, case, old_backup, up.outputs)
    client_gets_secret(r)
    facts = world_facts(r.nodes.host)
    assert all(node["holds_ssodb_secret"] for node in facts["nodes"].values())
    assert not any(path.endswith("-restore.bak") for n in facts["nodes"].values() for path in n["files"])
    assert_no_op_preview(r, changed.preview)


# -- 4. refresh sees drift, up repairs it ---------------------------------------------------------


@pytest.mark.slow
def test_refresh_sees_a_service_that_lost_its_network_name_and_up_repairs_it(r: SimStack) -> None:
    """UseNetworkName set to 0 by hand, then a failover: ENTSSO restarts on node 2 under the node's
    own name and clients of the network name lose the secret. Refresh shows it; up puts it right
    and leaves the role where the failover put it (a failover is not drift)."""
    first, second = node_names(r)
    succeeded(r.engine.up())
    set_use_network_name(r, first, 0)
    move_role(r, first, second)
    assert not r.nodes.host.client_check()[0], "the drift should have cut clients off"

    refresh = succeeded(r.engine.refresh())

    assert changes(refresh) == {
        "mss-entsso": (Op.READ_DRIFT, ("use_network_name",)),
        "mss-restore": (Op.READ_DRIFT, ("owner_node",)),
    }
    assert (refresh.summary.updated, refresh.summary.deleted) == (2, 0)

    up = succeeded(r.engine.up())

    assert {name: op for name, (op, _) in changes(up).items()} == {"mss-entsso": Op.UPDATE}
    assert client_gets_secret(r) == f"secret served by '{r.settings.sso.network_name}' from node {second}"
    with r.nodes.host.lock:
        cluster = r.nodes.world.cluster
        assert cluster is not None
        resource = cluster.resource(ENTSSO)
        assert resource is not None
        assert resource.parameters["UseNetworkName"] == 1
    assert r.role_owner() == second
    assert up.outputs["ownerNode"] == second
    assert_no_op_preview(r, r.engine.preview)


@pytest.mark.slow
def test_refresh_sees_a_deleted_backup_and_up_puts_the_escrowed_copy_back(r: SimStack) -> None:
    first, _ = node_names(r)
    first_up = succeeded(r.engine.up())
    remove_file(r, first, backup_file(r))

    refresh = succeeded(r.engine.refresh())

    drift = changes(refresh)
    assert drift.pop("mss-backup") == (Op.READ_DRIFT, ("length", "sha256"))
    assert drift == {}  # where the role runs is SecretRestore's to report, not EntssoService's

    up = succeeded(r.engine.up())

    # The master secret is unchanged, so the escrowed bytes are its backup: they go back to the file, and
    # SecretRestore, which restored those very bytes, has nothing to do.
    assert changes(up) == {"mss-backup": (Op.UPDATE, ())}
    backup = file_on(r, first, backup_file(r))
    assert backup is not None
    assert up.outputs["backupSha256"] == sha256_upper(backup) == first_up.outputs["backupSha256"]
    client_gets_secret(r)
    assert_no_op_preview(r, r.engine.preview)


@pytest.mark.slow
def test_after_a_failover_refresh_and_up_repair_every_drift(r: SimStack) -> None:
    """The role moved by hand to node 2, UseNetworkName set to 0 and the backup deleted on node 1."""
    first, second = node_names(r)
    succeeded(r.engine.up())
    move_role(r, first, second)
    set_use_network_name(r, first, 0)
    remove_file(r, first, backup_file(r))

    refresh = succeeded(r.engine.refresh())

    assert changes(refresh) == {
        "mss-backup": (Op.READ_DRIFT, ("length", "sha256")),
        "mss-entsso": (Op.READ_DRIFT, ("use_network_name",)),
        "mss-restore": (Op.READ_DRIFT, ("owner_node",)),
    }

    succeeded(r.engine.up())

    client_gets_secret(r)
    assert file_on(r, first, backup_file(r)) is not None
    assert_no_op_preview(r, r.engine.preview)


# -- 5. an up killed mid-procedure resumes --------------------------------------------------------


def _live_members(process_group: int) -> list[int]:
    """Processes of the group that are still running (zombies excluded)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == process_group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def provider_hosts(project_dir: Path) -> list[int]:
    """Dynamic-provider hosts (`python -m pulumi.dynamic`, or our guarded launcher of it) running in `project_dir`.

    The CLI starts its plugins in process groups of their own, so a kill of the run's group does not
    reach them: whether one outlived its engine is only seen by looking for it.
    """
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        dynamic = "pulumi.dynamic" in command or "guarded_host.py dynamic" in command
        if dynamic and state != "Z" and Path(cwd) == project_dir.resolve():
            found.append(int(entry.name))
    return found


def _watch_for(host: WorldHost, operation: str, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """An event set when `operation` reaches a node (the command is on the node, not yet run)."""
    reached = threading.Event()
    original = host.directive

    def directive(session: Session, name: str) -> Directive:
        decided = original(session, name)
        if name == operation:
            reached.set()
        return decided

    monkeypatch.setattr(host, "directive", directive)
    return reached


_RUNNER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from ops.engine import Engine, Workspace
getattr(Engine(Workspace(Path(sys.argv[2]), "sim", program=Path(sys.argv[1]) / "__main__.py")), sys.argv[3])()
"""


def kill_when(r: SimStack, operation: str, command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run `operation` (`python -m ops`'s engine, in a process group of its own) and SIGKILL the whole
    group when `command` reaches a node (the command is on the node, held there by a delay fault).
    Then no process of the run may be left: not in its group, and no provider host anywhere."""
    reached = _watch_for(r.nodes.host, command, monkeypatch)
    runner = subprocess.Popen(
        [sys.executable, "-c", _RUNNER, str(ROOT), str(r.workspace.project_dir), operation],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not reached.wait(0.05):
            assert runner.poll() is None, f"the {operation} ended before it reached {command}"
            assert time.monotonic() < deadline, f"the {operation} never reached {command}"
        assert provider_hosts(r.workspace.project_dir), "no dynamic-provider host was seen while the run ran"
    finally:
        os.killpg(runner.pid, signal.SIGKILL)
        runner.wait()
    deadline = time.monotonic() + 30
    while (_live_members(runner.pid) or provider_hosts(r.workspace.project_dir)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _live_members(runner.pid) == []
    assert provider_hosts(r.workspace.project_dir) == [], "a dynamic-provider host outlived its engine"
    assert list(r.workspace.lock_dir().glob("*.json")), "the killed CLI's lock should still be there"


def pending(r: SimStack) -> set[tuple[str, str]]:
    return {(p["type"], p["resource"]["urn"].rsplit("::", 1)[1]) for p in r.checkpoint().get("pending_operations") or []}


def resumes_cleanly(r: SimStack, result: RunResult) -> None:
    succeeded(result)
    assert any("removed the stack's lock" in w for w in result.warnings), result.warnings
    assert pending(r) == set()
    assert not list(r.workspace.lock_dir().glob("*.json"))


def slowed(command: str) -> FaultPlan:
    return FaultPlan(faults=[Fault(kind="delay", operation=command, times=1, seconds=120)])


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs Linux /proc to see the killed processes")
def test_an_up_killed_mid_procedure_leaves_no_host_and_resumes_as_a_clean_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The secret server name is set (steps 10-13) with ENTSSO running on the master (ssomanage works through
    # it, F-SSO-13), before step 9 stops it everywhere: the slowed command holds the run there, with the world
    # half way through the procedure.
    with sim_stack(tmp_path / "reference") as reference:
        succeeded(reference.engine.up())
        clean = world_facts(reference.nodes.host)
    with sim_stack(tmp_path / "killed", plan=slowed("secret_server_set")) as r:
        first, _ = node_names(r)
        kill_when(r, "up", "secret_server_set", monkeypatch)

        halfway = world_facts(r.nodes.host)
        assert halfway["ssodb"][0] == first  # SSODB still names the master: steps 10-13 never ran
        assert halfway["nodes"][first]["entsso"][0] == "Running"  # step 9 has not run: -updatedb needs it
        assert r.nodes.host.client_check()[0]  # so the original master still serves the secret meanwhile
        assert ("creating", "mss-secret-server") in pending(r)
        recorded = {res["urn"].rsplit("::", 1)[1] for res in r.checkpoint()["resources"]}
        assert {"mss-sso-master-mssnode1", "mss-backup", "mss-sso-member-mssnode2"} <= recorded
        assert not recorded & {"mss-secret-server", "mss-entsso", "mss-restore"}

        resumed = r.engine.up()

        resumes_cleanly(r, resumed)
        assert any("pending operations" in w for w in resumed.warnings), resumed.warnings
        assert any("cleared the pending create of mss-secret-server" in w for w in resumed.warnings)
        created = {name for name, (op, _) in changes(resumed).items()}
        assert created == EVERYTHING - recorded
        assert {op for op, _ in changes(resumed).values()} == {Op.CREATE}
        assert world_facts(r.nodes.host) == clean
        client_gets_secret(r)
        assert {res["urn"].rsplit("::", 1)[1] for res in r.checkpoint()["resources"]} == EVERYTHING


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs Linux /proc to see the killed processes")
def test_an_up_killed_at_its_first_command_resumes_as_a_clean_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sim_stack(tmp_path / "reference") as reference:
        succeeded(reference.engine.up())
        clean = world_facts(reference.nodes.host)
    with sim_stack(tmp_path / "killed", plan=slowed("sso_get")) as r:
        kill_when(r, "up", "sso_get", monkeypatch)  # the first command: SsoInstall reads a node
        assert any(kind == "creating" and name.startswith("mss-sso-install-") for kind, name in pending(r))

        resumes_cleanly(r, r.engine.up())

        assert world_facts(r.nodes.host) == clean
        client_gets_secret(r)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs Linux /proc to see the killed processes")
def test_a_destroy_killed_half_way_is_finished_by_the_next_destroy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sim_stack(tmp_path / "reference") as reference:
        succeeded(reference.engine.up())
        succeeded(reference.engine.destroy())
        destroyed = world_facts(reference.nodes.host)
    with sim_stack(tmp_path / "killed") as r:
        succeeded(r.engine.up())
        with r.nodes.host.lock:  # the role's removal (EntssoService, steps 18-23) holds the destroy
            r.nodes.host.faults = FaultInjector(slowed("role_remove"))
        kill_when(r, "destroy", "role_remove", monkeypatch)
        with r.nodes.host.lock:
            r.nodes.host.faults = FaultInjector()
        assert ("deleting", "mss-entsso") in pending(r)

        finished = r.engine.destroy()

        resumes_cleanly(r, finished)
        assert not r.checkpoint().get("resources")
        assert world_facts(r.nodes.host) == destroyed


# -- 6. destroy -----------------------------------------------------------------------------------


def _step9_watch(host: WorldHost, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """ENTSSO on every node as SecretServerName finds it (its first change, `secret_server_set`, comes before
    step 9): configured, local."""
    seen: dict[str, Any] = {}
    original = host.directive

    def directive(session: Session, name: str) -> Directive:
        if name == "secret_server_set" and not seen:
            seen.update({n: facts for n, facts in world_facts(host)["nodes"].items()})
        return original(session, name)

    monkeypatch.setattr(host, "directive", directive)
    return seen


@pytest.mark.slow
def test_destroy_takes_away_what_the_stack_built(r: SimStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both views of "as it started".

    What the stack is responsible for, against the world before the first up: no cluster, role,
    resource or computer object of its own is left, SSODB names the original master again, ENTSSO
    runs on each node as it did before step 9 (local, automatic start), and no backup or restore
    copy is left (the wizard's backup belongs to the configured SSO). SSO stays installed and
    configured (SsoServer's delete forgets it by design, so a destroy never takes the master secret)
    and the clustering features stay installed: so the whole world is compared only between the end
    of a first up+destroy and the end of a second one, which must be identical.
    """
    first, second = node_names(r)
    before = world_facts(r.nodes.host)
    before_step9 = _step9_watch(r.nodes.host, monkeypatch)
    succeeded(r.engine.up())

    destroyed, _ = counted(r, r.engine.destroy)

    succeeded(destroyed)
    assert {o.name: o.op for o in destroyed.outcomes} == dict.fromkeys(EVERYTHING, Op.DELETE)
    after = world_facts(r.nodes.host)
    assert after["cluster"] is None
    assert after["computers"] == before["computers"]
    assert after["ssodb"] is not None and after["ssodb"][0] == first
    wizard = f"{r.settings.sso.backup_directory}\\{r.settings.sso.network_name}-configuration-wizard.bak".lower()
    for name in (first, second):
        node, then = after["nodes"][name], before_step9[name]
        assert (node["entsso"], node["endpoint_names"], node["serves_ssodb_secret"]) == (
            then["entsso"],
            then["endpoint_names"],
            then["serves_ssodb_secret"],
        )
        assert node["entsso"][:2] == ("Running", "Auto")
        added = set(node["files"]) - set(before["nodes"][name]["files"])
        # SSO stays installed (its program files) and Windows keeps its own logs (setup's log, Test-Cluster's
        # validation report); nothing else the stack wrote may stay, but the wizard's backup on the Create node.
        left = {p for p in added if not p.startswith("c:\\program files") and not is_windows_log(p)}
        assert left == ({wizard} if name == first else set())
    assert not r.checkpoint().get("resources"), "destroy left resources in the checkpoint"
    after_first_cycle = world_snapshot(r.nodes.host)

    succeeded(r.engine.up())
    client_gets_secret(r)
    succeeded(r.engine.destroy())

    assert differences(after_first_cycle, world_snapshot(r.nodes.host)) == []
