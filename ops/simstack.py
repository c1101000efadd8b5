"""A stack's simulated nodes: its world seeded from the stack settings, one WS-Man endpoint per node.

Used by `python -m ops simulate`, `python -m ops up|preview|refresh|destroy|lifecycle` and the
tests. The world is kept in `<simulator.stateDirectory>/<stack>.world.json` when a state file is
given, so stopping and starting again is the same machines, as after a reboot. The state directory
must lie inside the project: the world file holds the domain's NT hashes and the nodes' master secrets.

Each node's WinRM listener has Windows' default configuration (simulator/wsman/server.py): Negotiate
only, AllowUnencrypted false, CbtHardeningLevel Relaxed. The sim stack needs nothing else: it logs on
with NTLM, whose message encryption makes plain http acceptable to AllowUnencrypted=false. The
listener knows the install account by the NT hash the simulated domain keeps, not by its password.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ops.errors import LocalConditionError, PortInUse
from settings import SettingsError, StackSettings
from simulator.shell import SimulatedShell
from simulator.world import FaultPlan, World, WorldHost, load_world, save_world, seed_world
from simulator.world.store import WorldClaim, WorldFileError, WorldInUse, claim
from simulator.wsman.server import WsManServer

Ports = Literal["stack", "any"]


def free_ports(count: int = 2) -> int:
    """A port p with p .. p+count-1 free on 127.0.0.1, found by binding (node i listens on p + i)."""
    for _ in range(200):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
        if port + count > 65000:
            continue
        taken = False
        for offset in range(1, count):
            with socket.socket() as other:
                try:
                    other.bind(("127.0.0.1", port + offset))
                except OSError:
                    taken = True
            if taken:
                break
        if not taken:
            return port
    raise RuntimeError(f"no {count} adjacent free ports on 127.0.0.1")


def seeded_world(config: StackSettings) -> World:
    """The world before step 1 for this stack: domain, accounts, groups, SQL, domain-joined nodes."""
    domain = config.domain
    return seed_world(
        domain_fqdn=domain.fqdn,
        domain_netbios=domain.netbios,
        users={
            domain.install_account: config.secret("installPassword"),
            domain.service_account: config.secret("serviceAccountPassword"),
        },
        groups={
            domain.sso_admin_group: [domain.install_account, domain.service_account],
            domain.sso_affiliate_admin_group: [],
        },
        install_account=domain.install_account,
        sql_server=config.sql.server,
        database=config.sql.database,
        nodes={node.name: str(node.ip) for node in config.nodes},
        cluster_disks=[config.dtc.disk] if config.dtc.enabled else [],
        installer_path=config.sso.installer,
        node_subnet=str(config.network.node_subnet_cidr),
    )


def world_file(project_dir: Path, config: StackSettings, stack: str) -> Path:
    """`<stateDirectory>/<stack>.world.json`; SettingsError (exit 2) when the directory is outside the project."""
    assert config.simulator is not None
    directory = project_dir / config.simulator.state_directory
    if not directory.resolve().is_relative_to(project_dir.resolve()):
        raise SettingsError(
            [
                f"simulator.stateDirectory: {config.simulator.state_directory} is outside the project "
                f"({project_dir}); the world file holds password hashes and master secrets, so keep it "
                "inside, e.g. .entsso/sim"
            ]
        )
    return directory / f"{stack}.world.json"


@dataclass
class SimulatedStack:
    host: WorldHost
    servers: list[WsManServer] = field(default_factory=list)
    claim: WorldClaim | None = None

    @property
    def world(self) -> World:
        return self.host.world

    @property
    def endpoints(self) -> dict[str, str]:
        return {server.node: server.url for server in self.servers}

    def server(self, node: str) -> WsManServer:
        return next(s for s in self.servers if s.node.upper() == node.upper())

    def http_requests(self) -> int:
        return sum(s.counters.snapshot().http_requests for s in self.servers)

    def command_lines(self) -> list[str]:
        lines: list[str] = []
        for s in self.servers:
            lines += [str(line) for line in s.counters.snapshot().command_lines]
        return lines

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        if self.claim is not None:
            self.claim.release()


def start(
    config: StackSettings,
    *,
    ports: Ports = "stack",
    state_file: Path | None = None,
    plan: FaultPlan | None = None,
    world: World | None = None,
) -> SimulatedStack:
    """Serve every node of the stack on 127.0.0.1 (ports from the stack, or any free port).

    With a state file, this process claims it (one simulator per world) and removes what a killed
    predecessor left. Raises LocalConditionError, in one line, when the world file is corrupt or held
    by another simulator, or when a port is in use.
    """
    if config.simulator is None:
        raise ValueError("only a simulator stack has simulated nodes")
    held: WorldClaim | None = None
    try:
        if state_file is not None:
            held = claim(state_file)
        if world is None:
            world = load_world(state_file) if state_file is not None and state_file.exists() else seeded_world(config)
        if state_file is not None and not state_file.exists():
            save_world(world, state_file)
    except WorldFileError as problem:
        if held is not None:
            held.release()
        advice = "" if isinstance(problem, WorldInUse) else "; move it away to start from a freshly seeded world"
        raise LocalConditionError(f"{problem}{advice}") from None
    except BaseException:
        if held is not None:
            held.release()
        raise
    host = WorldHost(world, plan=plan, state_file=state_file)
    stack = SimulatedStack(host, claim=held)
    try:
        for index, node in enumerate(config.nodes):
            port = config.simulator.base_port + index if ports == "stack" else 0
            try:
                server = WsManServer(node.name, SimulatedShell(host), port=port, **listener(config, world))
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                raise PortInUse(
                    f"port {port} on 127.0.0.1 (node {node.name}) is already in use; stop what holds it "
                    "(another `python -m ops simulate`?) or choose other ports with --base-port"
                ) from None
            server.start()
            stack.servers.append(server)
            host.on_reboot(_dropper(server))
    except BaseException:
        stack.stop()
        raise
    return stack


def listener(config: StackSettings, world: World) -> dict[str, Any]:
    """A node's WinRM listener settings beyond Windows' defaults: its accounts and its domain.

    The listener knows the install account as the domain does, by the NT hash the world keeps (so a
    world that outlived a password change in the stack file still wants the old password, as AD would).
    """
    install = world.domain.user(config.domain.install_account)
    users: dict[str, str | bytes] = (
        {config.domain.install_account: bytes.fromhex(install.nt_hash)} if install is not None else {}
    )
    return {
        "users": users,
        "domain": config.domain.netbios,
        "dns_domains": {config.domain.netbios: config.domain.fqdn},
    }


def _dropper(server: WsManServer) -> Callable[[str], None]:
    """A rebooted node loses its WinRM shells."""

    def drop(node: str) -> None:
        if node.upper() == server.node.upper():
            server.drop_shells()

    return drop


@contextmanager
def running(config: StackSettings, **kwargs: object) -> Iterator[SimulatedStack]:
    stack = start(config, **kwargs)  # type: ignore[arg-type]
    try:
        yield stack
    finally:
        stack.stop()
