"""The main job (`make rehearse`): the whole lifecycle of the `sim` stack through the Pulumi CLI, each claim checked.

up -> an SSO client gets the secret from the network name -> a second preview changes nothing and
sends no WinRM request -> the role fails over to the other node and back, the client checked on
each -> refresh finds nothing drifted -> destroy, and the world is as it started. Each operation is
a real engine run: the stack's DIY backend keeps its checkpoint and an update history entry for
each, which the job checks at the end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console

import settings
from ops import progress, simstack
from ops.engine import Workspace
from providers.base import ProviderSettings
from providers.runner import WinRmRunner


class CheckFailed(Exception):
    """A claim of the main job did not hold."""


def remote(config: settings.StackSettings, stack: simstack.SimulatedStack, node: str, op: str, **params: Any) -> Any:
    """Run one operation on a simulated node over WinRM, with the stack's own connection settings."""
    provider_settings = ProviderSettings.from_config(
        {
            f"{settings.PROJECT}:winrm": json.dumps(config.winrm.model_dump(by_alias=True, mode="json")),
            f"{settings.PROJECT}:domain": json.dumps(config.domain.model_dump(by_alias=True, mode="json")),
            f"{settings.PROJECT}:installPassword": config.secret("installPassword"),
        }.get
    )
    target = {"name": node, "endpoint": stack.endpoints[node], "thumbprint": None}
    runner = WinRmRunner(provider_settings.runner_config())
    return runner.run_script(provider_settings.connection(target), op, params)


def delegation(config: settings.StackSettings) -> dict[str, Any]:
    """How a step that needs network credentials gets them (GetDBInfo's own SQL connection): the stack's choice."""
    if config.winrm.delegation == "CredSSP":
        return {"DelegationMode": "CredSSP"}
    return {
        "DelegationMode": "ScheduledTask",
        "TaskUser": config.domain.install_account,
        "TaskPassword": config.secret("installPassword"),
    }


def client_check(config: settings.StackSettings, stack: simstack.SimulatedStack, out: Console) -> str:
    """Ask the role's owner, over WinRM, whether an SSO client gets the secret from the network name."""
    first = config.nodes[0].name
    role = remote(config, stack, first, "role_get", Name=config.sso.network_name)
    owner = str(role["ownerNode"])
    answer = remote(config, stack, owner, "sso_client_check", SqlServer=config.sql.server, Database=config.sql.database)
    if not answer["ok"]:
        raise CheckFailed(f"an SSO client cannot get the secret from {config.sso.network_name}: {answer['error']}")
    out.print(f"  [green]ok[/green]      SSO client got the secret from {answer['secretServer']} (owner {owner})")
    return owner


def main(project_dir: Path, stack: str = "sim") -> int:
    out = progress.console()
    config = settings.load_stack_file(settings.stack_file(project_dir, stack), stack)
    if config.simulator is None:
        raise settings.SettingsError([f"stack {stack} is not a simulator stack; the main job runs sim stacks"])
    with progress.simulated_nodes(project_dir, stack, config, keep=False) as nodes:
        if nodes is None:
            raise CheckFailed("the stack's ports are in use (is `python -m ops simulate` running?); stop it first")
        try:
            return _lifecycle(Workspace(project_dir, stack), config, nodes, out)
        except CheckFailed as failure:
            out.print(f"[red]main job failed[/red]: {failure}")
            return 1


def update_history(workspace: Workspace) -> list[dict[str, Any]]:
    """The stack's update history as the DIY backend keeps it (`.pulumi/history/<project>/<stack>/*.history.json`)."""
    directory = workspace.backend_dir / ".pulumi" / "history" / workspace.project_name / workspace.stack
    entries = []
    for path in sorted(directory.glob("*.history.json")):
        entries.append(json.loads(path.read_text(encoding="utf-8")))
    return sorted(entries, key=lambda entry: int(entry.get("startTime", 0)))


def _lifecycle(
    workspace: Workspace, config: settings.StackSettings, nodes: simstack.SimulatedStack, out: Console
) -> int:
    history_before = len(update_history(workspace))
    out.rule("1. pulumi up")
    if progress.run(workspace, "up", out).failed:
        raise CheckFailed("up failed; see the lines above")
    out.rule("2. SSO client check")
    client_check(config, nodes, out)

    out.rule("3. second preview: no changes, no WinRM requests")
    requests = nodes.http_requests()
    preview = progress.run(workspace, "preview", out)
    sent = nodes.http_requests() - requests
    changes = [o for o in preview.outcomes if o.op.changes]
    out.print(f"  preview sent {sent} WinRM requests and plans {len(changes)} changes")
    if preview.failed or sent or changes:
        raise CheckFailed(f"preview was not a no-op: {sent} requests, changes {[o.name for o in changes]}")

    out.rule("4. fail the role over and back")
    first, second = config.nodes[0].name, config.nodes[1].name
    for target in (second, first):
        remote(config, nodes, first, "role_move", Name=config.sso.network_name, Node=target)
        owner = client_check(config, nodes, out)
        if owner.upper() != target.upper():
            raise CheckFailed(f"the role should be on {target} but is on {owner}")

    out.rule("5. pulumi refresh: nothing drifted")
    refresh = progress.run(workspace, "refresh", out)
    drifted = [o.name for o in refresh.outcomes if o.op.changes]
    if refresh.failed or drifted:
        raise CheckFailed(f"refresh failed or found drift after failing over and back: {drifted}")

    out.rule("6. pulumi destroy")
    if progress.run(workspace, "destroy", out).failed:
        raise CheckFailed("destroy failed; see the lines above")
    # What the stack built is gone; what it found (SSO installed and configured, SSODB) stays, with
    # the master secret server named as before the procedure: the first node.
    cluster = nodes.world.cluster
    info = remote(
        config,
        nodes,
        first,
        "secret_server_get",
        SqlServer=config.sql.server,
        Database=config.sql.database,
        **delegation(config),
    )
    out.print(f"  cluster left: {cluster.name if cluster else 'none'}; SSODB's secret server: {info['secretServer']}")
    if cluster is not None or str(info["secretServer"]).upper() != first.upper():
        raise CheckFailed("destroy did not return the world to where it started")

    out.rule("7. the backend: the engine's checkpoint and update history")
    history = update_history(workspace)[history_before:]
    kinds = [str(entry.get("kind")) for entry in history]
    out.print(f"  checkpoint {workspace.checkpoint()}")
    out.print("  update history: " + ", ".join(f"{entry.get('kind')} {entry.get('result')}" for entry in history))
    if kinds != ["update", "refresh", "destroy"] or any(entry.get("result") != "succeeded" for entry in history):
        raise CheckFailed(f"the backend's history is not up, refresh, destroy, each succeeded: {kinds}")
    if not workspace.checkpoint().is_file():
        raise CheckFailed(f"no checkpoint at {workspace.checkpoint()}")
    out.print(
        "[bold green]main job passed[/bold green]: up, client check, no-op preview, failover and back, refresh, destroy"
    )
    return 0
