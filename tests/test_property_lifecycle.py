"""Property test of the stack's life: random sequences of up, preview, config changes, refresh,
faults, changes made behind the stack's back and destroy, with the real program, the real Pulumi
engine (the pinned CLI, its default failure semantics) and simulated nodes, and the claims a user
relies on checked after every step.

The claims (checked by `LifecycleMachine`):

- preview never touches a node: no HTTP request reaches a node and the checkpoint is unchanged;
- after a successful up, state and world agree: every resource the state records is in the world
  with the values the program asked for (see `world_disagreements`), and a following preview is a
  no-op. A change made behind the stack's back is only known after a refresh, as with Pulumi: an
  up that follows one with no refresh in between is not held to the world (its preview still is);
- the master secret is never lost (see `secret_loss`);
- after a successful destroy nothing the stack built is left (see `leftovers`).

Every sequence starts with an up from nothing and ends, unless a step failed, with a refresh, an up
(with a still-armed fault, then without), which must converge, and a destroy.

CI runs `ENTSSO_HYPOTHESIS_EXAMPLES` sequences (default 4) of up to `ENTSSO_HYPOTHESIS_STEPS` steps
(default 6), derandomized: the same sequences on every run, printed step by step with a tally.
Each engine run costs a few seconds, so raise the numbers locally (e.g. `ENTSSO_HYPOTHESIS_EXAMPLES=30`)
to search longer (with `--timeout=0`: pytest-timeout stops this test at 1200 s); shrinking is off
unless `ENTSSO_HYPOTHESIS_SHRINK=1`. The tests at the end are what longer runs found (once strict xfails,
issue 12 item 3): each now converges on the next up.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any, cast

import pytest
from engine_support import SimStack, sim_stack
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ops.engine import Engine
from ops.model import RunResult
from simulator.world import Fault, FaultPlan, World, mastersecret, windows
from simulator.world.faults import FaultInjector
from simulator.world.model import key, path_key
from simulator.world.windows import sso_client_can_get_secret, sso_config
from simulator.wsman.backend import Session
from tests.world_support import run_operation

EXAMPLES = int(os.environ.get("ENTSSO_HYPOTHESIS_EXAMPLES", "4"))
STEPS = int(os.environ.get("ENTSSO_HYPOTHESIS_STEPS", "6"))
PHASES = tuple(Phase) if os.environ.get("ENTSSO_HYPOTHESIS_SHRINK") else (Phase.explicit, Phase.generate)
DYNAMIC = "pulumi-python:dynamic/entsso:"
EVERY_RESOURCE = {
    "ClusterFeatures",
    "SsoInstall",
    "EntssoRole",
    "FailoverCluster",
    "SsoServer",
    "SecretBackup",
    "SecretServerName",
    "ClusteredDtc",
    "EntssoService",
    "SecretRestore",
}
REMINDER = "Vault entry ENTSSO-MSS-SIM"

# Legal changes to the stack's config: (section, key, value). The stack's own values are among
# them, so a sequence can change a value and change it back.
CONFIG_CHANGES: list[tuple[str, str, Any]] = [
    ("sso", "probePort", 59990),
    ("sso", "probePort", 59999),
    ("sso", "backupReminder", "Vault entry ENTSSO-MSS-SIM (rotated)"),
    ("sso", "backupReminder", REMINDER),
    ("dtc", "probePort", 59997),
    ("dtc", "probePort", 59998),
    ("winrm", "operationTimeoutSeconds", 30),
    ("winrm", "operationTimeoutSeconds", 20),
]

# Faults for the next up that sends anything to the nodes. After a transient one (retried) the up
# must still succeed; a lasting one may fail it. Either way the secret is kept, and a later up
# without faults must converge.
TRANSIENT_FAULTS: dict[str, Fault] = {
    "a connection reset before a command runs": Fault(kind="reset_before", times=1),
    "a connection reset after two commands ran": Fault(kind="reset_after", times=2),
    "HTTP 500 twice": Fault(kind="http_500", times=2),
    "three OperationTimeouts": Fault(kind="timeouts", count=3, times=1),
    "the backup's connection drops after it was taken": Fault(kind="reset_after", operation="secret_backup", times=1),
}
LASTING_FAULTS: dict[str, Fault] = {
    "a node reboots before its first command": Fault(kind="reboot", times=1),
    "the role fails over while it is read": Fault(kind="failover", operation="role_get", times=1),
    "SQL Server is unreachable while the secret server is set": Fault(
        kind="sql_unavailable", operation="secret_server_set"
    ),
    "role_set always answers HTTP 500": Fault(kind="http_500", operation="role_set"),
}
FAULTS = {**TRANSIENT_FAULTS, **LASTING_FAULTS}

TALLY: Counter[str] = Counter()
SEQUENCES: list[list[str]] = []


Record = dict[str, Any]


def live_records(r: SimStack) -> list[Record]:
    """The stack's resources as `pulumi stack export --show-secrets` gives them (the engine's checkpoint)."""
    return [record for record in r.resources(show_secrets=True) if not record.get("delete")]


def short_type(record: Record) -> str:
    return str(record["type"]).removeprefix(DYNAMIC)


def node_secret(world: World, name: str) -> mastersecret.MasterSecret | None:
    node = world.node(name)
    return mastersecret.current(node) if node is not None else None


def secret_loss(world: World, backup_password: str, escrow: tuple[str, str] | None, node_names: list[str]) -> list[str]:
    """Why the master secret could be lost; empty when it cannot.

    "Never lost" means: once SSODB exists with a master secret id, (1) at least one node holds a
    master secret with that id in its registry, and every node holding that id holds the same
    bytes; and (2) once the stack has recorded a backup (SecretBackup's content in the state; the
    last one recorded stays the escrow after the state forgets it), that backup's bytes hash to the
    recorded SHA-256 and open with the stack's backup password to that same id and the same bytes.
    So the secret can always be served by a node, and restored from the escrow on a new node.
    """
    problems: list[str] = []
    database = next(iter(world.sql.databases.values()), None)
    if database is None or not database.exists or not database.secret_id:
        return problems
    holders = {
        name: found
        for name in node_names
        if (found := node_secret(world, name)) is not None and key(found.secret_id) == key(database.secret_id)
    }
    if not holders:
        problems.append(f"no node holds SSODB's master secret {database.secret_id}")
    if len({found.secret for found in holders.values()}) > 1:
        problems.append(f"the nodes hold different bytes under the secret id {database.secret_id}")
    if escrow is not None:
        content, sha256 = escrow
        raw = base64.b64decode(content)
        if hashlib.sha256(raw).hexdigest().upper() != sha256.upper():
            problems.append("the recorded backup's bytes do not hash to its recorded SHA-256")
        try:
            opened = mastersecret.open_backup(raw, backup_password)
        except (mastersecret.WrongPassword, mastersecret.NotABackup) as error:
            problems.append(f"the recorded backup does not open with the backup password: {type(error).__name__}")
        else:
            if key(opened.secret_id) != key(database.secret_id):
                problems.append(f"the recorded backup holds {opened.secret_id}, SSODB needs {database.secret_id}")
            elif holders and opened.secret not in {found.secret for found in holders.values()}:
                problems.append("the recorded backup's secret bytes differ from the nodes'")
    return problems


def world_disagreements(world: World, records: list[Record], expected: dict[str, Any]) -> list[str]:
    """Where the world differs from what the state records and the program asked for (`expected`)."""
    problems: list[str] = []
    nodes = [str(n) for n in expected["nodes"]]
    found = {short_type(r) for r in records if str(r["type"]).startswith(DYNAMIC)}
    if found != EVERY_RESOURCE:
        problems.append(f"after up the state holds {sorted(found)}, not every resource")
    database = next(iter(world.sql.databases.values()), None)
    for record in records:
        kind, outputs = short_type(record), dict(record.get("outputs") or {})
        if kind == "FailoverCluster":
            cluster = world.cluster
            if cluster is None or key(cluster.name) != key(expected["cluster"]):
                problems.append(f"cluster {expected['cluster']} is not in the world")
            elif sorted(map(key, cluster.nodes)) != sorted(map(key, nodes)):
                problems.append(f"cluster nodes are {cluster.nodes}, not {nodes}")
        elif kind == "SsoServer":
            node = world.node(str(outputs["node"]["name"]))
            configured = sso_config(node) if node is not None else None
            if configured is None or tuple(map(key, configured)) != (key(expected["sql"]), key(expected["db"])):
                problems.append(f"{outputs['node']['name']}: ENTSSO is not configured against SSODB ({configured})")
        elif kind == "SecretBackup":
            node = world.node(str(outputs["node"]["name"]))
            content = node.file(str(outputs["backup_file"])) if node is not None else None
            if content is None:
                problems.append(f"the backup file {outputs['backup_file']} is not on {outputs['node']['name']}")
            elif hashlib.sha256(content).hexdigest().upper() != str(outputs["sha256"]).upper():
                problems.append("the backup file on the node is not the backup the state records")
            if outputs["reminder"] != expected["reminder"]:
                problems.append(f"the backup's reminder is {outputs['reminder']!r}, not {expected['reminder']!r}")
        elif kind == "SecretServerName":
            if database is None or key(database.secret_server) != key(expected["network_name"]):
                server = database.secret_server if database else None
                problems.append(f"SSODB's secret server is {server}, not {expected['network_name']}")
        elif kind == "ClusteredDtc":
            dtc = dtc_state(world, expected["dtc_name"])
            if not dtc["exists"] or dtc["state"] != "Online":
                problems.append(f"the clustered DTC is not online: {dtc}")
            elif probe_port(world, expected["dtc_name"]) != expected["dtc_probe"]:
                problems.append(
                    f"DTC probe port is {probe_port(world, expected['dtc_name'])}, not {expected['dtc_probe']}"
                )
        elif kind == "EntssoService":
            role = role_state(world, expected["network_name"], "ENTSSO")
            service = cast(dict[str, Any], role.get("service") or {})
            ip = cast(dict[str, Any], role.get("ipAddress") or {})
            if not role["exists"] or role["state"] != "Online":
                problems.append(f"the ENTSSO role is not online: {role.get('state')}")
            elif key(str(role["ownerNode"])) not in map(key, nodes):
                problems.append(f"the role is owned by {role['ownerNode']}")
            if service.get("useNetworkName") != 1:
                problems.append(f"the Generic Service ENTSSO has UseNetworkName {service.get('useNetworkName')}")
            if ip.get("probePort") != expected["sso_probe"]:
                problems.append(f"the role's probe port is {ip.get('probePort')}, not {expected['sso_probe']}")
        elif kind == "SecretRestore":
            ids = {name: getattr(node_secret(world, name), "secret_id", "") for name in nodes}
            wanted = database.secret_id if database else ""
            if len({key(i) for i in ids.values()}) != 1 or key(next(iter(ids.values()))) != key(wanted):
                problems.append(f"the nodes hold secret ids {ids}, SSODB uses {wanted}")
            if key(str(outputs["secret_id"])) != key(wanted):
                problems.append(f"the state records secret id {outputs['secret_id']}, SSODB uses {wanted}")
    ok, why = sso_client_can_get_secret(world)
    if not ok:
        problems.append(f"an SSO client cannot get the secret: {why}")
    return problems


def role_state(world: World, group_name: str, resource_name: str) -> dict[str, Any]:
    """What the cluster holds for the role (the world's truth, read as Get-ClusterGroup/Resource would show it)."""
    cluster = world.cluster
    group = cluster.group(group_name) if cluster is not None else None
    if cluster is None or group is None:
        return {"exists": False}
    resource = cluster.resource(resource_name)
    ip = next((r for r in cluster.group_resources(group.name) if r.type == "IP Address"), None)
    return {
        "exists": True,
        "state": windows.group_state(cluster, group),
        "ownerNode": group.owner_node,
        "service": None if resource is None else {"useNetworkName": resource.parameters.get("UseNetworkName")},
        "ipAddress": None if ip is None else {"probePort": ip.parameters.get("ProbePort")},
    }


def dtc_state(world: World, group_name: str) -> dict[str, Any]:
    """The clustered DTC's resource as the cluster holds it."""
    cluster = world.cluster
    group = cluster.group(group_name) if cluster is not None else None
    if cluster is None or group is None:
        return {"exists": False}
    dtc = next((r for r in cluster.group_resources(group.name) if r.type == "Distributed Transaction Coordinator"), None)
    return {"exists": dtc is not None, "state": None if dtc is None else dtc.state}


def probe_port(world: World, group: str) -> object:
    cluster = world.cluster
    if cluster is None:
        return None
    for resource in cluster.group_resources(group):
        if resource.type == "IP Address":
            return resource.parameters.get("ProbePort")
    return None


def node_files(world: World) -> set[tuple[str, str]]:
    return {(node.name, path) for node in world.nodes.values() for path in node.files}


def leftovers(world: World, first_node: str, allowed_files: set[tuple[str, str]]) -> list[str]:
    """What the stack built that is still in the world. What it found stays (SSO configured, SSODB, the
    configuration wizard's backup that came with it), and so do SSO's program files; the cluster, its roles,
    the secret server name and every other file the stack wrote must not."""
    problems: list[str] = []
    if world.cluster is not None:
        problems.append(f"cluster {world.cluster.name} with roles {sorted(world.cluster.groups)} is left")
    database = next(iter(world.sql.databases.values()), None)
    if database is not None and database.exists and key(database.secret_server) != key(first_node):
        problems.append(f"SSODB's secret server is {database.secret_server}, not back to {first_node}")
    problems += [
        f"{path} is left on {node}"
        for node, path in sorted(node_files(world) - allowed_files)
        if not installed_or_windows_log(path)
    ]
    return problems


def installed_or_windows_log(path: str) -> bool:
    """SSO stays installed (its program files), and Windows keeps its own logs (setup's, Test-Cluster's reports)."""
    return path.startswith("c:\\program files") or (
        path.startswith("c:\\windows\\temp\\") and path.endswith((".log", ".htm"))
    )


class LifecycleMachine(RuleBasedStateMachine):
    """One stack's life; a fresh world, state and simulated nodes for every sequence."""

    workdir: pytest.TempPathFactory

    def __init__(self) -> None:
        super().__init__()
        TALLY["sequences"] += 1
        self.steps: list[str] = []
        SEQUENCES.append(self.steps)
        self._exit = ExitStack()
        self.r: SimStack = self._exit.enter_context(sim_stack(self.workdir.mktemp("lifecycle")))
        self.changes: dict[str, dict[str, Any]] = {}
        self.fault: Fault | None = None
        self.fault_name = ""
        self.last = ""  # the previous step's name
        self.settled = False  # an up succeeded and nothing has happened since
        self.unseen_drift = False  # changed behind the stack's back since the last refresh
        self.escrow: tuple[str, str] | None = None  # (base64 content, SHA-256) of the last recorded backup
        self.records: list[Record] = []  # the checkpoint's resources after the last engine run
        self.built_files: set[tuple[str, str]] = set()  # (node, path) of the backups the stack took
        s = self.r.settings
        wizard = path_key(f"{s.sso.backup_directory}\\{s.sso.network_name}-configuration-wizard.bak")
        self.files_that_stay = node_files(self.r.nodes.world) | {(s.nodes[0].name, wizard)}
        self.backup_password = self.r.settings.secret("backupPassword")
        self.node_names = [n.name for n in self.r.settings.nodes]

    def teardown(self) -> None:
        """Every sequence ends the same way, unless a step already failed: refresh; an up with the
        fault still armed, if one is; then an up with no fault, which must converge to a world that
        agrees with the state; then destroy."""
        try:
            if sys.exc_info()[1] is None:
                self.step("end: refresh")
                refreshed = self.run("refresh")
                assert not refreshed.failed, (refreshed.error, [(o.name, o.error) for o in refreshed.outcomes])
                self.unseen_drift = False
                if self.fault is not None:
                    self.step(f"end: up with {self.fault_name}")
                    self.up_and_check()
                self.fault = None
                self.step("end: up")
                self.up_and_check()
                self.step("end: destroy")
                self.destroy_and_check()
                self.the_secret_is_never_lost()
        finally:
            self._exit.close()

    # --- helpers ---------------------------------------------------------------------------------

    def engine(self) -> Engine:
        return self.r.with_config(**self.changes)

    def setting(self, section: str, name: str) -> Any:
        full = self.r.config[f"entsso-cluster:{section}"]
        return self.changes.get(section, {}).get(name, full[name])

    def expected(self) -> dict[str, Any]:
        s = self.r.settings
        return {
            "nodes": self.node_names,
            "cluster": s.cluster.name,
            "sql": s.sql.server,
            "db": s.sql.database,
            "network_name": s.sso.network_name,
            "dtc_name": s.dtc.network_name,
            "sso_probe": self.setting("sso", "probePort"),
            "dtc_probe": self.setting("dtc", "probePort"),
            "reminder": self.setting("sso", "backupReminder"),
        }

    def run(self, operation: str) -> RunResult:
        TALLY["engine runs"] += 1
        result: RunResult = getattr(self.engine(), operation)()
        self.record()
        return result

    def record(self) -> None:
        """Keep what the checkpoint now records: its resources, the escrowed backup, where the backup file is."""
        self.records = live_records(self.r)
        for record in self.records:
            outputs = dict(record.get("outputs") or {})
            if short_type(record) == "SecretBackup" and outputs.get("content"):
                self.escrow = (str(outputs["content"]), str(outputs["sha256"]))
                self.built_files.add((str(outputs["node"]["name"]), str(outputs["backup_file"])))

    def step(self, name: str) -> None:
        TALLY[name.split(" on ")[0]] += 1
        self.steps.append(name)
        self.last = name

    def running_entsso(self) -> list[str]:
        world = self.r.nodes.world
        return [
            name
            for name in self.node_names
            if (service := world.node(name).service("ENTSSO")) is not None  # type: ignore[union-attr]
            and service.state == "Running"
        ]

    def backup_files_present(self) -> list[tuple[str, str]]:
        world = self.r.nodes.world
        return sorted((n, p) for n, p in self.built_files if world.node(n).file(p) is not None)  # type: ignore[union-attr]

    def session(self, node: str) -> Session:
        install = self.r.settings.domain.install_account
        return Session(node=node, user=install, auth="ntlm", encrypted=True, delegated=False)

    def behind_the_back(self, node: str, operation: str, **parameters: Any) -> None:
        """An administrator's change on a node, outside the stack (through the world's own operation)."""
        self.step(f"behind the back: {operation} on {node}")
        run_operation(self.r.nodes.host, self.session(node), operation, **parameters)
        self.unseen_drift = True
        self.settled = False

    def assert_preview_is_noop(self, label: str) -> None:
        before_requests, before_state = self.r.nodes.http_requests(), self.r.checkpoint_path.read_bytes()
        TALLY["engine runs"] += 1
        preview = self.engine().preview()
        sent = self.r.nodes.http_requests() - before_requests
        assert not preview.failed, (label, preview.error, [(o.name, o.error) for o in preview.outcomes])
        assert sent == 0, f"{label}: preview sent {sent} HTTP requests to the nodes"
        planned = [(o.name, o.op.value, o.changed) for o in preview.outcomes if o.op.changes]
        assert planned == [], f"{label}: the preview after a successful up plans {planned}"
        assert self.r.checkpoint_path.read_bytes() == before_state, f"{label}: preview wrote the checkpoint"

    def up_and_check(self) -> RunResult:
        """An up (with the armed fault, which stays armed while an up sends nothing to the nodes),
        then the claims about a successful up."""
        fault = self.fault
        if fault is not None:
            with self.r.nodes.host.lock:
                self.r.nodes.host.faults = FaultInjector(FaultPlan(faults=[fault]))
        requests = self.r.nodes.http_requests()
        try:
            result = self.run("up")
        finally:
            with self.r.nodes.host.lock:
                self.r.nodes.host.faults = FaultInjector()
        if self.r.nodes.http_requests() > requests:
            self.fault = None
        failures = [(o.name, o.error) for o in result.outcomes if o.error]
        if fault is None or fault in TRANSIENT_FAULTS.values():
            assert not result.failed, (f"up with {fault} failed", result.error, failures)
        TALLY["up failed (lasting fault)" if result.failed else "up succeeded"] += 1
        if result.failed:
            return result
        self.settled = True
        if not self.unseen_drift:
            TALLY["world checked against the state"] += 1
            with self.r.nodes.host.lock:
                problems = world_disagreements(self.r.nodes.world, self.records, self.expected())
            assert problems == [], problems
        self.assert_preview_is_noop(f"up with changes {self.changes} and fault {fault}")
        return result

    # --- the first step of every sequence: the stack is built ------------------------------------

    @initialize()
    def first_up(self) -> None:
        self.step("up")
        self.up_and_check()

    # --- rules (each precondition keeps a step from repeating one that changes nothing) ----------

    @precondition(lambda self: not self.settled)
    @rule()
    def up(self) -> None:
        self.step("up" + (f" with {self.fault_name}" if self.fault is not None else ""))
        self.up_and_check()

    @precondition(lambda self: self.last != "preview")
    @rule()
    def preview(self) -> None:
        self.step("preview")
        before_requests, before_state = self.r.nodes.http_requests(), self.r.checkpoint_path.read_bytes()
        TALLY["engine runs"] += 1
        result = self.engine().preview()
        assert not result.failed, (result.error, [(o.name, o.error) for o in result.outcomes])
        assert self.r.nodes.http_requests() == before_requests, "preview sent HTTP requests to a node"
        assert self.r.checkpoint_path.read_bytes() == before_state, "preview changed the checkpoint"

    @rule(data=st.data())
    def change_config(self, data: st.DataObject) -> None:
        section, name, value = data.draw(
            st.sampled_from([c for c in CONFIG_CHANGES if self.setting(c[0], c[1]) != c[2]]), label="change"
        )
        self.step(f"{section}.{name}={value}")
        self.changes[section] = {**self.changes.get(section, {}), name: value}
        self.settled = False

    @precondition(lambda self: self.last != "refresh")
    @rule()
    def refresh(self) -> None:
        self.step("refresh")
        result = self.run("refresh")
        assert not result.failed, (result.error, [(o.name, o.error) for o in result.outcomes])
        self.unseen_drift = False
        self.settled = False  # what the refresh read may need an up to repair

    @precondition(lambda self: self.fault is None)
    @rule(name=st.sampled_from(sorted(FAULTS)))
    def fault_on_next_up(self, name: str) -> None:
        self.step(f"fault next up: {name}")
        self.fault, self.fault_name = FAULTS[name], name
        self.settled = False

    @precondition(
        lambda self: bool(role_state(self.r.nodes.world, self.r.settings.sso.network_name, "ENTSSO")["exists"])
    )
    @rule()
    def move_the_role(self) -> None:
        role = role_state(self.r.nodes.world, self.r.settings.sso.network_name, "ENTSSO")
        other = next(n for n in self.node_names if key(n) != key(str(role["ownerNode"])))
        self.behind_the_back(other, "role_move", Name=self.r.settings.sso.network_name, Node=other)

    # While the stack stands (the cluster exists). After a destroy, ENTSSO stopped on node 1 makes
    # the next up fail: see test_up_after_destroy_with_entsso_stopped_on_node_1 below.
    @precondition(lambda self: self.r.nodes.world.cluster is not None and bool(self.running_entsso()))
    @rule(data=st.data())
    def stop_entsso_locally(self, data: st.DataObject) -> None:
        node = data.draw(st.sampled_from(self.running_entsso()), label="node")
        service = self.r.nodes.world.node(node).service("ENTSSO")  # type: ignore[union-attr]
        assert service is not None
        mode = {"Auto": "Automatic"}.get(service.start_mode, service.start_mode)
        self.behind_the_back(node, "sso_service_set", State="Stopped", StartupType=mode)

    @precondition(lambda self: bool(self.backup_files_present()))
    @rule()
    def delete_the_backup_file(self) -> None:
        node, path = self.backup_files_present()[0]
        self.behind_the_back(node, "file_remove", Path=path)

    @precondition(lambda self: bool(self.records))
    @rule()
    def destroy(self) -> None:
        self.step("destroy")
        self.destroy_and_check()

    def destroy_and_check(self) -> None:
        result = self.run("destroy")
        assert not result.failed, (result.error, [(o.name, o.error) for o in result.outcomes])
        assert self.records == [], "destroy left resources in the checkpoint"
        with self.r.nodes.host.lock:
            problems = leftovers(self.r.nodes.world, self.node_names[0], self.files_that_stay)
        assert problems == [], problems
        self.unseen_drift = False
        self.settled = False

    # --- after every step ------------------------------------------------------------------------

    @invariant()
    def the_secret_is_never_lost(self) -> None:
        with self.r.nodes.host.lock:
            problems = secret_loss(self.r.nodes.world, self.backup_password, self.escrow, self.node_names)
        assert problems == [], problems


@pytest.mark.slow
@pytest.mark.timeout(1200)  # ~35 runs of the Pulumi CLI: about 2.5 minutes on 2 idle cores, far more on a busy machine
def test_any_sequence_of_operations_keeps_the_promises(tmp_path_factory: pytest.TempPathFactory) -> None:
    TALLY.clear()
    SEQUENCES.clear()
    LifecycleMachine.workdir = tmp_path_factory
    run_state_machine_as_test(
        LifecycleMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            derandomize=True,
            deadline=None,
            database=None,
            # Shrinking replays sequences of 1-2 s runs for minutes; the failing sequence is printed
            # step by step anyway. ENTSSO_HYPOTHESIS_SHRINK=1 asks for the shortest one.
            phases=PHASES,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print(f"\nlifecycle property: {dict(sorted(TALLY.items()))}")
    for number, steps in enumerate(SEQUENCES, 1):
        print(f"  sequence {number}: {' -> '.join(steps)}")
    assert TALLY["sequences"] >= 1 and TALLY["up succeeded"] >= 1


@pytest.mark.slow
def test_up_after_destroy_with_entsso_stopped_on_node_1(tmp_path: Path) -> None:
    """Found by the property test: after destroy ENTSSO runs locally again; an administrator stops
    it on node 1 (still SSODB's master secret server); the next up must start it, or at least
    say that node 1's ENTSSO is stopped."""
    with sim_stack(tmp_path) as r:
        assert not r.engine.up().failed
        assert not r.engine.destroy().failed
        first = r.settings.nodes[0].name
        session = Session(
            node=first, user=r.settings.domain.install_account, auth="ntlm", encrypted=True, delegated=False
        )
        stopped = r.nodes.host.powershell(session, "Stop-Service -Name ENTSSO")  # the administrator, on node 1
        assert stopped.terminating is None, stopped.terminating.message
        again = r.engine.up()
        assert not again.failed, [(o.name, o.error) for o in again.outcomes if o.error]


@pytest.mark.slow
@pytest.mark.parametrize("why", ["the backup reminder changes", "the backup file was deleted"])
def test_a_new_backup_while_the_role_is_down_does_not_block_every_up(tmp_path: Path, why: str) -> None:
    """Found by the property test: ENTSSO stopped on the role's owner (the cluster marks the Generic
    Service failed) and refresh sees it. Then refresh and up repair the role; but when step 5 must
    run again too (a new reminder, or the backup file gone), no up can succeed until someone starts
    the role by hand."""
    with sim_stack(tmp_path) as r:
        assert not r.engine.up().failed
        s = r.settings
        owner = str(role_state(r.nodes.world, s.sso.network_name, "ENTSSO")["ownerNode"])

        def by_hand(node: str, text: str) -> None:  # PowerShell typed on the node by an administrator
            session = Session(node=node, user=s.domain.install_account, auth="ntlm", encrypted=True, delegated=False)
            result = r.nodes.host.powershell(session, text)
            assert result.terminating is None, result.terminating.message

        by_hand(owner, "Stop-Service -Name ENTSSO")
        engine = r.engine
        if why == "the backup reminder changes":
            engine = r.with_config(sso={"backupReminder": "Vault entry ENTSSO-MSS-SIM (rotated)"})
        else:
            backup = f"{s.sso.backup_directory}\\{s.sso.network_name}-master-secret.bak"
            by_hand(s.nodes[0].name, f"Remove-Item -LiteralPath '{backup}'")
        assert not engine.refresh().failed
        up = engine.up()  # the next up converges: no second up, no one starting the role by hand
        assert not up.failed, [(o.name, o.error) for o in up.outcomes if o.error]
        assert sso_client_can_get_secret(r.nodes.world)[0]
        assert not [o.name for o in engine.preview().outcomes if o.op.changes]
