"""`python -m ops`: one entry point, one subcommand per job.

Exit codes: 0 ok; 1 failed, or a condition of this machine stopped it (a port in use, a corrupt or
busy world file: one line on stderr); 2 bad input (the stack's settings, e.g. a state directory
outside the project: one line per problem).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import settings
from ops.errors import LocalConditionError

PROJECT_DIR = Path(__file__).absolute().parent.parent  # not resolved: a linked checkout keeps its own stacks
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def load(stack: str) -> settings.StackSettings:
    return settings.load_stack_file(settings.stack_file(PROJECT_DIR, stack), stack)


def cmd_validate(args: argparse.Namespace) -> int:
    config = load(args.stack)
    nodes = ", ".join(f"{n.name} ({n.ip})" for n in config.nodes)
    print(f"stack {args.stack}: valid ({config.target.value}, {config.tier.value})")
    print(f"  nodes: {nodes}")
    print(f"  cluster {config.cluster.name}; ENTSSO role {config.sso.network_name} ({config.sso.ip})")
    print(f"  SSODB {config.sql.database} on {config.sql.server}; service account {config.domain.service_account}")
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    from ops import simstack

    config = load(args.stack)
    if config.simulator is None:
        raise settings.SettingsError(
            [f"stack {args.stack} targets {config.target.value}; only sim stacks are simulated"]
        )
    if args.base_port:
        config = config.model_copy(
            update={"simulator": config.simulator.model_copy(update={"base_port": args.base_port})}
        )
    state = args.world or simstack.world_file(PROJECT_DIR, config, args.stack)
    state.parent.mkdir(parents=True, exist_ok=True)
    stack = simstack.start(config, ports="stack", state_file=state)
    try:
        print(f"simulating stack {args.stack}: {len(stack.servers)} nodes, world kept in {state}")
        for server in stack.servers:
            print(f"  {server.node}: {server.url}")
        print(f"  logon: {config.domain.install_account}, password from {settings.PROJECT}:installPassword")
        print("Ctrl-C stops the nodes (the world is kept and comes back as after a reboot)")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        print("stopped")
    return EXIT_OK


def cmd_operation(args: argparse.Namespace) -> int:
    from ops import engine, mainjob, progress, pulumi_cli

    if args.command == "lifecycle":
        return mainjob.main(PROJECT_DIR, args.stack)
    config = load(args.stack)
    workspace = engine.Workspace(PROJECT_DIR, args.stack)
    packs = tuple(Path(p) for p in args.policy_pack)
    try:
        with progress.simulated_nodes(PROJECT_DIR, args.stack, config, keep=args.keep_nodes):
            result = progress.run(workspace, args.command, policy_packs=packs)
    except (engine.EngineError, pulumi_cli.CliError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_FAILED if result.failed else EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from ops import bench

    return bench.main(PROJECT_DIR, args.stack, args.only)


def cmd_probe_node(args: argparse.Namespace) -> int:
    from ops import probe

    return probe.main(
        PROJECT_DIR,
        args.stack,
        node=args.node,
        probes=args.probe,
        json_output=args.json,
        out=sys.stdout,
        err=sys.stderr,
    )


def cmd_runbook(args: argparse.Namespace) -> int:
    from ops import runbook

    load(args.stack)  # bad settings stop here with their one-line problems
    print(runbook.render(PROJECT_DIR, args.stack))
    return EXIT_OK


OPERATIONS = {
    "up": "pulumi up: create or converge the stack (against its simulated nodes for a sim stack)",
    "preview": "pulumi preview: what up would change, with the engine's property diff; changes nothing",
    "refresh": "pulumi refresh: read every resource back and record drift",
    "destroy": "pulumi destroy: remove what the stack built",
    "lifecycle": "the main job on a sim stack: up, client check, no-op preview, failover and back, refresh, destroy",
}
COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "validate": ("check a stack's settings; one line per problem, exit 2 when bad", cmd_validate),
    **{name: (help_text, cmd_operation) for name, help_text in OPERATIONS.items()},
    "runbook": ("the ordered documented steps (and Azure resources) the stack performs, as Markdown", cmd_runbook),
    "bench": ("measure and print figures: work and protocol efficiency, engine overhead, start-up", cmd_bench),
    "simulate": ("serve a sim stack's nodes on 127.0.0.1 in the foreground, for the Pulumi CLI", cmd_simulate),
    "probe-node": (
        "check the ledger's assumed facts on the nodes, read-only: held / did not hold / could not tell",
        cmd_probe_node,
    ),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    for name, (help_text, _) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--stack", default="sim", help="stack name: sim (default), lab, prod")
        if name in ("up", "preview", "refresh", "destroy"):
            command.add_argument("--keep-nodes", action="store_true", help="leave the simulated nodes running")
        if name in ("up", "preview"):
            command.add_argument(
                "--policy-pack", action="append", default=[], help="a policy pack directory to run (repeatable)"
            )
        if name == "bench":
            command.add_argument("--only", action="append", default=[], help="run only these benchmarks (repeatable)")
        if name == "probe-node":
            command.add_argument("--node", default=None, help="probe this node only (default: every node)")
            command.add_argument(
                "--probe", action="append", default=[], help="run only this probe, e.g. P-10 (repeatable)"
            )
            command.add_argument("--json", action="store_true", help="print the results as JSON")
        if name == "simulate":
            command.add_argument("--base-port", type=int, default=0, help="first node's port (default: the stack's)")
            command.add_argument("--world", type=Path, default=None, help="world file (default: the stack's)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    _, run = COMMANDS[args.command]
    try:
        return run(args)
    except settings.SettingsError as error:
        for line in error.lines:
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    except LocalConditionError as problem:
        print(problem, file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
