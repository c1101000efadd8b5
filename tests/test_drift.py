"""Drift that always converges (issue 12 item 3): after any change an administrator can make outside the tool,
`refresh` then `up` converge, an SSO client gets the secret from the network name, and the next `preview` plans
nothing.

Each change is what the administrator would type: PowerShell on a node (`WorldHost.powershell`, one
powershell.exe in the interpreter against the simulated Windows, as the install account over WinRM), never a
write into the world's state and never one of our own scripts. The deterministic tests cover the eleven changes
the issue lists; the property test draws them at random, singly and in pairs, on one standing stack (a converged
stack is where every example starts: the property is that it always gets back there).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from engine_support import SimStack, sim_stack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops.model import RunResult, Status
from simulator.world import windows
from simulator.world.model import ENTSSO, key
from simulator.wsman.backend import Session


@dataclass(frozen=True)
class Change:
    """One administrator's change: where it is typed (`where(r)`) and what (`text(r)`)."""

    where: Callable[[SimStack], str]
    text: Callable[[SimStack], str]


def owner(r: SimStack) -> str:
    return r.role_owner()


def other(r: SimStack) -> str:
    return next(node.name for node in r.settings.nodes if key(node.name) != key(owner(r)))


def first(r: SimStack) -> str:
    return r.settings.nodes[0].name


def second(r: SimStack) -> str:
    return r.settings.nodes[1].name


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def backup_file(r: SimStack) -> str:
    sso = r.settings.sso
    return f"{sso.backup_directory}\\{sso.network_name}-master-secret.bak"


def repoint_secret_server(r: SimStack) -> str:
    """ssomanage -updatedb on the role's owner (where ENTSSO runs), naming the other node as secret server."""
    return "\n".join(
        [
            "$file = Join-Path $env:SystemRoot 'Temp\\drift-updatedb.xml'",
            "Set-Content -LiteralPath $file -Value ('<sso><globalInfo><secretServer>{0}</secretServer>"
            f"</globalInfo></sso>' -f {quoted(other(r))})",
            "$ErrorActionPreference = 'Continue'",
            "& (Join-Path $env:CommonProgramW6432 'Enterprise Single Sign-On\\ssomanage.exe') -updatedb $file 2>&1 |"
            " Out-Null",
            "Remove-Item -LiteralPath $file",
        ]
    )


CHANGES: dict[str, Change] = {
    "remove the ENTSSO cluster resource": Change(owner, lambda r: f"Remove-ClusterResource -Name {ENTSSO} -Force"),
    "stop ENTSSO on the owner": Change(owner, lambda r: f"Stop-Service -Name {ENTSSO}"),
    "start ENTSSO locally on the other node": Change(other, lambda r: f"Start-Service -Name {ENTSSO}"),
    "move the role": Change(
        owner, lambda r: f"Move-ClusterGroup -Name {quoted(r.settings.sso.network_name)} -Node {other(r)} | Out-Null"
    ),
    "set UseNetworkName to 0": Change(
        owner, lambda r: f"Get-ClusterResource -Name {ENTSSO} | Set-ClusterParameter -Name UseNetworkName -Value 0"
    ),
    "remove the network-name dependency": Change(
        owner,
        lambda r: (
            f"Remove-ClusterResourceDependency -Resource {ENTSSO} -Provider {quoted(r.settings.sso.network_name)}"
            " | Out-Null"
        ),
    ),
    "remove a possible owner": Change(
        owner, lambda r: f"Set-ClusterOwnerNode -Resource {ENTSSO} -Owners {owner(r)} | Out-Null"
    ),
    "delete the backup file": Change(first, lambda r: f"Remove-Item -LiteralPath {quoted(backup_file(r))}"),
    "point SSODB's secret server elsewhere": Change(owner, repoint_secret_server),
    "take the DTC resource offline": Change(
        owner, lambda r: f"Stop-ClusterResource -Name {quoted('MSDTC-' + r.settings.dtc.network_name)} | Out-Null"
    ),
    "stop the cluster service on one node": Change(second, lambda r: "Stop-Service -Name ClusSvc"),
}


def administrator(r: SimStack, name: str) -> None:
    """The change typed in PowerShell on its node; it must succeed as Windows would let it."""
    change = CHANGES[name]
    node = change.where(r)
    session = Session(node=node, user=r.settings.domain.install_account, auth="ntlm", encrypted=True, delegated=False)
    result = r.nodes.host.powershell(session, change.text(r))
    assert result.terminating is None, f"{name} on {node}: {result.terminating.message}"


def explain(result: RunResult) -> str:
    failed = [f"{o.name}: {o.status.value} {o.error}" for o in result.outcomes if o.status is not Status.OK]
    return "\n".join([f"error: {result.error}", *failed, result.cli_output[-2000:]])


def converges(r: SimStack, label: str) -> None:
    """refresh, then up; then the client gets the secret from the network name and a preview plans nothing."""
    refresh = r.engine.refresh()
    assert not refresh.failed, f"{label}: refresh failed\n{explain(refresh)}"
    up = r.engine.up()
    assert not up.failed, f"{label}: up failed\n{explain(up)}"
    with r.nodes.host.lock:
        ok, why = windows.sso_client_can_get_secret(r.nodes.world)
    assert ok, f"{label}: {why}"
    assert f"'{r.settings.sso.network_name}'" in why, f"{label}: {why}"
    preview = r.engine.preview()
    assert not preview.failed, f"{label}: preview failed\n{explain(preview)}"
    planned = {o.name: (o.op.value, o.changed) for o in preview.outcomes if o.op.changes}
    assert planned == {}, f"{label}: the preview after up still plans {planned}"


@pytest.fixture
def r(tmp_path: Path) -> Iterator[SimStack]:
    with sim_stack(tmp_path) as stack:
        up = stack.engine.up()
        assert not up.failed, explain(up)
        yield stack


@pytest.mark.slow
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_single_change_converges_on_the_next_up(r: SimStack, change: str) -> None:
    administrator(r, change)
    converges(r, change)


@pytest.mark.slow
def test_a_deleted_backup_comes_back_while_the_cluster_cannot_serve_the_secret(r: SimStack) -> None:
    # Found by the pairs property test: with the ENTSSO resource removed no node serves the secret, so no new
    # backup can be taken before EntssoService (later in the graph) adds it back; the escrowed copy needs no SSO.
    administrator(r, "delete the backup file")
    administrator(r, "remove the ENTSSO cluster resource")
    converges(r, "delete the backup file, then remove the ENTSSO cluster resource")


@pytest.fixture(scope="module")
def standing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimStack]:
    with sim_stack(tmp_path_factory.mktemp("drift")) as stack:
        up = stack.engine.up()
        assert not up.failed, explain(up)
        yield stack


# CI draws six examples (about 15 s each); ENTSSO_DRIFT_EXAMPLES=N draws N on demand.
DRIFT_EXAMPLES = int(os.environ.get("ENTSSO_DRIFT_EXAMPLES", "6"))


@pytest.mark.slow
def test_any_change_or_pair_of_changes_converges(standing: SimStack) -> None:
    @settings(
        max_examples=DRIFT_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(changes=st.lists(st.sampled_from(sorted(CHANGES)), min_size=1, max_size=2, unique=True))
    def check(changes: list[str]) -> None:
        for change in changes:
            administrator(standing, change)
        converges(standing, " then ".join(changes))

    check()
