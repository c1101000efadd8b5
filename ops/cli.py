"""`python -m ops`: one entry point, one subcommand per job. Exit codes: 0 ok, 1 failed, 2 bad input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
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


COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
    "validate": ("check a stack's settings; one line per problem, exit 2 when bad", cmd_validate),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    for name, (help_text, _) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--stack", default="sim", help="stack name: sim (default), lab, prod")
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
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
