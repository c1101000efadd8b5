"""The Pulumi CLI this project runs, pinned: `pulumi` from PATH when it is the pinned version or newer,
otherwise the pinned version built from the Go module proxy into a per-user cache.

`python -m ops.pulumi_cli` (the Makefile's `cli` step) prints which CLI it uses, building it first when
needed; `ops` finds it with `locate()`. The pin is tools/pulumi-cli/go.mod: a module of our own that
requires github.com/pulumi/pulumi/pkg/v3 (and, through it, sdk/v3) at the version, with go.sum pinning
every module the build needs. The build uses the release's flags (pulumi/pulumi .goreleaser.yml):
`-trimpath`, tags `osusergo,grpcnotrace`, `-ldflags "-s -w -X .../sdk/v3/go/common/version.Version=vX"`;
without that version stamp `pulumi version` prints nothing and the Automation API refuses the CLI.

The cache is `$ENTSSO_CACHE_DIR`, else `$XDG_CACHE_HOME/entsso-cluster`, else `~/.cache/entsso-cluster`,
holding `pulumi/<version>/bin/pulumi` (the layout `pulumi.automation.PulumiCommand(root=...)` expects),
so every clone on the machine shares one build. Go's own module and build caches make a rebuild quick.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parent.parent / "tools" / "pulumi-cli"
PACKAGE = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
VERSION_SYMBOL = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
BUILD_TAGS = "osusergo,grpcnotrace"
_PIN = re.compile(r"^\s*(?:require\s+)?github\.com/pulumi/pulumi/pkg/v3\s+(v\d+\.\d+\.\d+)\b", re.MULTILINE)
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


class CliError(Exception):
    """The pinned CLI is not there and cannot be built (no Go, a failed build)."""


@dataclass(frozen=True)
class Cli:
    root: Path  # root / "bin" / "pulumi" is the executable
    version: str  # e.g. "v3.274.0"
    origin: str  # "PATH" or "cache"

    @property
    def executable(self) -> Path:
        return self.root / "bin" / "pulumi"

    @property
    def directory(self) -> Path:
        return self.root / "bin"


def pinned_version(tools_dir: Path = TOOLS_DIR) -> str:
    found = _PIN.search((tools_dir / "go.mod").read_text(encoding="utf-8"))
    if found is None:
        raise CliError(f"{tools_dir / 'go.mod'} does not require github.com/pulumi/pulumi/pkg/v3 at a version")
    return found.group(1)


def semver(text: str) -> tuple[int, int, int] | None:
    found = _SEMVER.match(text.strip())
    return (int(found.group(1)), int(found.group(2)), int(found.group(3))) if found else None


def cache_dir() -> Path:
    if os.environ.get("ENTSSO_CACHE_DIR"):
        return Path(os.environ["ENTSSO_CACHE_DIR"])
    base = Path(os.environ["XDG_CACHE_HOME"]) if os.environ.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "entsso-cluster"


def cache_root(version: str) -> Path:
    return cache_dir() / "pulumi" / version


def version_of(executable: Path | str) -> str | None:
    """What `pulumi version` prints (e.g. "v3.274.0"), or None when it does not run or prints nothing."""
    try:
        completed = subprocess.run(
            [str(executable), "version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    printed = completed.stdout.strip()
    return printed if completed.returncode == 0 and semver(printed) else None


def on_path(pinned: str) -> Cli | None:
    """`pulumi` on PATH when it is the pinned version or newer (and lives in a `bin` directory)."""
    found = shutil.which("pulumi")
    if found is None:
        return None
    executable = Path(found)
    version = version_of(executable)
    wanted = semver(pinned)
    if version is None or wanted is None or (semver(version) or (0, 0, 0)) < wanted:
        return None
    if executable.parent.name != "bin":
        return None  # the Automation API runs <root>/bin/pulumi
    return Cli(executable.parent.parent, version, "PATH")


def cached(pinned: str) -> Cli | None:
    root = cache_root(pinned)
    executable = root / "bin" / "pulumi"
    if executable.is_file() and version_of(executable) == pinned:
        return Cli(root, pinned, "cache")
    return None


def locate(pinned: str | None = None) -> Cli | None:
    pinned = pinned or pinned_version()
    return on_path(pinned) or cached(pinned)


def require(pinned: str | None = None) -> Cli:
    """The CLI to run, or a CliError that says how to get it."""
    pinned = pinned or pinned_version()
    found = locate(pinned)
    if found is None:
        raise CliError(
            f"the Pulumi CLI {pinned} is not installed: run `make cli` (it builds it from the Go module proxy "
            f"into {cache_root(pinned)}), or put pulumi {pinned} or newer on PATH"
        )
    return found


def build_command(version: str, output: Path) -> list[str]:
    return [
        "go",
        "build",
        "-trimpath",
        "-tags",
        BUILD_TAGS,
        "-ldflags",
        f"-s -w -X {VERSION_SYMBOL}={version}",
        "-o",
        str(output),
        PACKAGE,
    ]


def _minutes(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def build(pinned: str | None = None, say: Callable[[str], None] = print) -> Cli:
    """Build the pinned CLI into the cache (one build at a time per machine), printing progress."""
    pinned = pinned or pinned_version()
    root = cache_root(pinned)
    (root / "bin").mkdir(parents=True, exist_ok=True)
    go = shutil.which("go")
    if go is None:
        raise CliError(
            f"the Pulumi CLI {pinned} must be built, and that needs Go (1.26 or newer, `go` on PATH): "
            f"install Go, or put pulumi {pinned} or newer on PATH"
        )
    with (root / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another clone may be building the same version right now
        already = cached(pinned)
        if already is not None:
            return already
        partial = root / "bin" / f".pulumi.{os.getpid()}.partial"
        say(
            f"building the Pulumi CLI {pinned} from the Go module proxy into {root} "
            "(once per machine; several minutes on a cold Go cache)"
        )
        started = time.monotonic()
        flags = " ".join(filter(None, [os.environ.get("GOFLAGS", ""), "-mod=readonly"]))
        completed = subprocess.run(
            build_command(pinned, partial),
            cwd=TOOLS_DIR,
            env={**os.environ, "GOFLAGS": flags},
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.monotonic() - started
        if completed.returncode != 0:
            partial.unlink(missing_ok=True)
            tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-15:])
            raise CliError(f"building the Pulumi CLI {pinned} failed after {_minutes(elapsed)}:\n{tail}")
        partial.replace(root / "bin" / "pulumi")
    built = cached(pinned)
    if built is None:
        raise CliError(f"the CLI built into {root} does not say it is {pinned} (`pulumi version`)")
    say(f"built the Pulumi CLI {pinned} in {_minutes(elapsed)}")
    return built


def ensure(say: Callable[[str], None] = print) -> Cli:
    pinned = pinned_version()
    found = locate(pinned)
    if found is not None:
        say(f"Pulumi CLI {found.version} from {found.origin}: {found.executable}")
        return found
    built = build(pinned, say)
    say(f"Pulumi CLI {built.version} from {built.origin}: {built.executable}")
    return built


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.pulumi_cli", description=__doc__.split("\n\n")[0])
    parser.add_argument("--where", action="store_true", help="print the CLI's bin directory; build nothing")
    args = parser.parse_args(argv)
    try:
        if args.where:
            print(require().directory)
        else:
            ensure()
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
