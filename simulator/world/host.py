"""`WorldHost`: the `NodeHost` and `ProcessHost` of docs/contracts.md section 2, over one world, thread-safe.

Every powershell.exe on its nodes runs in the interpreter (the real bootstrap, library and script, or whatever
text arrives) on the `NodeMachine` of the session's node, one process at a time under the world's lock. The
fault plan's world faults (a role failing over, SQL Server unavailable) strike the process whose envelope names
the operation they are keyed to; what the process started (a scheduled task) runs on when it ends; the world is
saved when the process changed it. The host knows no operation: the name only keys the fault plan.
"""

from __future__ import annotations

import ipaddress
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path

from simulator.powershell.engine import ProcessResult, run_process
from simulator.shell.cmdline import Adapter
from simulator.world import store, surface, windows
from simulator.world.faults import Fault, FaultInjector, FaultPlan
from simulator.world.machine import NodeMachine
from simulator.world.model import World, key
from simulator.wsman.backend import Directive, Outcome, Session

CORE_GROUPS = {key("Cluster Group"), key("Available Storage")}


class WorldHost:
    """Runs the nodes' processes under one lock per world and applies the fault plan.

    `state_file`, when given, receives the world after every process that changed it, so a restarted
    simulator comes back as the machines would after a reboot.
    """

    def __init__(self, world: World, plan: FaultPlan | None = None, state_file: Path | None = None) -> None:
        self.world = world
        self.lock = threading.RLock()
        self.faults = FaultInjector(plan)
        self.state_file = state_file
        self._reboot_callbacks: list[Callable[[str], None]] = []
        self._pending: dict[tuple[str, str], deque[list[Fault]]] = defaultdict(deque)

    def on_reboot(self, callback: Callable[[str], None]) -> None:
        """Register a callback told the node name when a node reboots (the server drops its shells)."""
        self._reboot_callbacks.append(callback)

    def request_delay(self, node: str | None = None) -> float:
        return self.faults.request_delay(node)

    def directive(self, session: Session, operation: str) -> Directive:
        with self.lock:
            decision = self.faults.decide(session.node, operation)
            during = [f for f in decision.world_faults if f.kind != "reboot"]
            rebooted = any(f.kind == "reboot" for f in decision.world_faults)
            runs = not (
                decision.directive.reset_before or decision.directive.http_500 or decision.directive.hang
            )
            if during and runs:
                self._pending[(key(session.node), operation)].append(during)
            if rebooted:
                self.reboot(session.node)
                decision.directive.reset_before = True  # the command's connection died with the node
        return decision.directive

    def machine(self, session: Session) -> NodeMachine:
        """The session's node as one powershell.exe sees it (NodeHost)."""
        node = self.world.node(session.node)
        if node is None:
            raise KeyError(f"no node {session.node} in this world")
        return NodeMachine(self.world, node, session)

    def run_process(self, session: Session, operation: str | None, run: Callable[[], Outcome]) -> Outcome:
        """One powershell.exe process on a node (ProcessHost): under the lock, with the faults that strike it."""
        with self.lock:
            queue = self._pending.get((key(session.node), operation)) if operation is not None else None
            during = queue.popleft() if queue else []
            sql_was_available = self.world.sql.available
            before = store.dumps(self.world) if self.state_file is not None else ""
            try:
                for fault in during:
                    self._apply(fault, session.node)
                return run()
            finally:
                if any(f.kind == "sql_unavailable" for f in during):
                    self.world.sql.available = sql_was_available
                surface.process_ended(self.world)  # what the process started (a scheduled task) runs on
                if self.state_file is not None and store.dumps(self.world) != before:
                    store.save(self.world, self.state_file)

    def powershell(self, session: Session, text: str, stdin: str = "") -> ProcessResult:
        """`powershell.exe -Command <text>` on the session's node, as its user at the console or over WinRM
        (an administrator's change outside the stack, a test's probe): one process like any other, under the
        lock, what it started run on, the world saved if it changed. No fault of the plan strikes it."""
        with self.lock:
            before = store.dumps(self.world) if self.state_file is not None else ""
            try:
                return run_process(self.machine(session), text, stdin)
            finally:
                surface.process_ended(self.world)
                if self.state_file is not None and store.dumps(self.world) != before:
                    store.save(self.world, self.state_file)

    def reboot(self, node_name: str) -> None:
        with self.lock:
            node = self.world.node(node_name)
            if node is None:
                return
            windows.reboot(self.world, node)
            surface.node_rebooted(self.world, node)
            if self.state_file is not None:
                store.save(self.world, self.state_file)
        for callback in self._reboot_callbacks:
            callback(node.name)

    def adapters(self, node_name: str) -> list[Adapter]:
        """The node's network adapter as ipconfig shows it (cmdline.MachineFacts); none for an unknown node."""
        with self.lock:
            node = self.world.node(node_name)
            if node is None:
                return []
            network = ipaddress.IPv4Network(f"{node.ip}/{node.prefix_length}", strict=False)
            gateway = node.gateway or str(network.network_address + 1)
            return [Adapter("Ethernet", node.ip, node.prefix_length, gateway)]

    def client_check(self) -> tuple[bool, str]:
        with self.lock:
            return windows.sso_client_can_get_secret(self.world)

    def _apply(self, fault: Fault, node_name: str) -> None:
        if fault.kind == "sql_unavailable":
            self.world.sql.available = False
            return
        cluster = self.world.cluster
        if fault.kind != "failover" or cluster is None:
            return
        for group in list(cluster.groups.values()):
            if key(group.name) in CORE_GROUPS:
                continue
            if fault.role is not None and key(group.name) != key(fault.role):
                continue
            if fault.role is None and key(group.owner_node) != key(node_name):
                continue
            windows.fail_over(self.world, group)
