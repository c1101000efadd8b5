"""Shared scaffolding for provider tests: the sim stack's nodes on free ports, configured providers,
and a way to bring the simulated world to the state a resource expects (the operations' own scripts run
on the nodes, so a provider test does not depend on the providers before it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import settings
from ops import simstack
from providers.base import EntssoProvider, ProviderSettings
from providers.runner import WinRmRunner
from providers.targets import NodeTarget
from simulator.wsman.backend import Outcome, Session
from tests.world_support import run_operation

ROOT = Path(__file__).resolve().parent.parent
_SIM = settings.load_stack_file(ROOT / "Pulumi.sim.yaml")
# Tests keep the stack's retry count but not its waits: a transient fault is retried in milliseconds.
CONFIG = _SIM.model_copy(update={"winrm": _SIM.winrm.model_copy(update={"retry_backoff_seconds": 0.02})})
N1, N2 = (node.name for node in CONFIG.nodes)
P = TypeVar("P", bound=EntssoProvider)

PHASES = ("features", "cluster", "sso", "backup", "secret_server", "dtc", "role", "moved")


def stack_config(config: settings.StackSettings = CONFIG) -> dict[str, str]:
    """Stack config as the dynamic-provider host's Configure receives it (project-namespaced strings)."""
    return {
        "entsso-cluster:winrm": json.dumps(config.winrm.model_dump(by_alias=True, mode="json")),
        "entsso-cluster:domain": json.dumps(config.domain.model_dump(by_alias=True, mode="json")),
        "entsso-cluster:installPassword": config.secret("installPassword"),
    }


@pytest.fixture
def sim() -> Iterator[simstack.SimulatedStack]:
    stack = simstack.start(CONFIG, ports="any")
    try:
        yield stack
    finally:
        stack.stop()


def configured(provider_class: type[P], config: settings.StackSettings = CONFIG) -> P:
    provider = provider_class()
    provider.settings = ProviderSettings.from_config(stack_config(config).get)
    return provider


def without_backoff(provider: P, *, attempts: int | None = None) -> P:
    """The provider with retries that do not wait (tests stop nodes and inject faults on purpose);
    `attempts` also caps the number of tries."""
    update: dict[str, Any] = {"backoff_initial_s": 0.0, "backoff_max_s": 0.0, "backoff_jitter_s": 0.0}
    if attempts is not None:
        update["retry_attempts"] = attempts
    runner_config = provider._settings().runner_config().model_copy(update=update)
    provider.runner = lambda: WinRmRunner(runner_config)  # type: ignore[method-assign]
    return provider


def _spy(stack: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch, note: Callable[[Session, str], None]) -> None:
    """Note every powershell.exe the runner starts for an operation (the bootstrap's envelope names it)."""
    run_process = stack.host.run_process

    def recording(session: Session, operation: str | None, run: Callable[[], Outcome]) -> Outcome:
        if operation is not None:
            note(session, operation)
        return run_process(session, operation, run)

    monkeypatch.setattr(stack.host, "run_process", recording)


def record_calls(stack: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The (node, operation) of every operation the world runs from now on, in order."""
    calls: list[tuple[str, str]] = []
    _spy(stack, monkeypatch, lambda session, operation: calls.append((session.node, operation)))
    return calls


def operations_seen(stack: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every operation the world runs from now on, in order."""
    seen: list[str] = []
    _spy(stack, monkeypatch, lambda _session, operation: seen.append(operation))
    return seen


def targets(stack: simstack.SimulatedStack) -> list[NodeTarget]:
    return [NodeTarget(name=name, endpoint=url, thumbprint=None) for name, url in stack.endpoints.items()]


def _session(node: str) -> Session:
    return Session(node=node, user=CONFIG.domain.install_account, auth="ntlm", encrypted=True, delegated=False)


def world_op(stack: simstack.SimulatedStack, node: str, operation: str, **parameters: Any) -> dict[str, Any]:
    """Run one operation's script on `node` as the install account, as the host runs it (no WinRM)."""
    return run_operation(stack.host, _session(node), operation, **parameters)


def backup_file() -> str:
    return f"{CONFIG.sso.backup_directory}\\{CONFIG.sso.network_name}-master-secret.bak"


def bring_world_to(stack: simstack.SimulatedStack, phase: str) -> dict[str, Any]:
    """Do, in the world, every documented step up to and including `phase` (see PHASES)."""
    c = CONFIG
    task = {
        "DelegationMode": "ScheduledTask",
        "TaskUser": c.domain.install_account,
        "TaskPassword": c.secret("installPassword"),
    }
    sso = {"SqlServer": c.sql.server, "Database": c.sql.database}
    configure = {
        **sso,
        "ServiceAccount": c.domain.service_account,
        "ServiceAccountPassword": c.secret("serviceAccountPassword"),
        "AdminGroup": c.domain.sso_admin_group,
        "AffiliateAdminGroup": c.domain.sso_affiliate_admin_group,
        **task,
    }
    facts: dict[str, Any] = {}
    stop = PHASES.index(phase)

    def reached(name: str) -> bool:
        return PHASES.index(name) <= stop

    if reached("features"):
        for node in (N1, N2):
            world_op(stack, node, "feature_install", Features=["Failover-Clustering", "RSAT-Clustering-PowerShell"])
    if reached("cluster"):
        world_op(stack, N1, "cluster_new", Name=c.cluster.name, Nodes=[N1, N2], **task)
    if reached("sso"):
        for node in (N1, N2):
            world_op(stack, node, "sso_install", InstallerPath=c.sso.installer)
        world_op(
            stack,
            N1,
            "sso_configure",
            Mode="Create",
            BackupFile=backup_file() + ".wizard",
            BackupPassword=c.secret("backupPassword"),
            BackupReminder=c.sso.backup_reminder,
            **configure,
        )
        world_op(stack, N2, "sso_configure", Mode="Join", **configure)
    if reached("backup"):
        facts["backup"] = world_op(
            stack,
            N1,
            "secret_backup",
            BackupFile=backup_file(),
            BackupPassword=c.secret("backupPassword"),
            BackupReminder=c.sso.backup_reminder,
        )
    if reached("secret_server"):
        # ssomanage works through the running ENTSSO (F-SSO-13): the name first, then the services stop.
        world_op(stack, N1, "secret_server_set", SecretServer=c.sso.network_name, **sso, **task)
        for node in (N1, N2):
            world_op(stack, node, "sso_service_set", State="Stopped", StartupType="Manual")
    if reached("dtc"):
        world_op(
            stack, N1, "dtc_set", Name=c.dtc.network_name, StaticAddress=str(c.dtc.ip), Disk=c.dtc.disk, **task
        )
    if reached("role"):
        world_op(
            stack,
            N1,
            "role_set",
            Name=c.sso.network_name,
            StaticAddress=str(c.sso.ip),
            ProbePort=c.sso.probe_port,
            PreferredOwners=[N1, N2],
            **task,
        )
        world_op(
            stack,
            N1,
            "generic_service_set",
            Name=c.sso.network_name,
            ServiceAccount=c.domain.service_account,
            PossibleOwners=[N1, N2],
        )
    if reached("moved"):
        world_op(stack, N1, "role_move", Name=c.sso.network_name, Node=N2)
    return facts
