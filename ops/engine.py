"""`Engine`: runs `up`, `preview`, `refresh` and `destroy` of a stack through the real Pulumi engine.

The engine is the pinned Pulumi CLI (ops/pulumi_cli.py), driven through the Automation API with the
program in `__main__.py` as an inline program (ops/engine_worker.py, in a process of its own per
run). The Python language host (`pulumi-language-python`) cannot be had here: its Go module has no
version tags and the Go module proxy this project reaches serves no pseudo-version of it, so the
CLI cannot start a Python program by itself. The inline program is the Automation API's own way to
run one without it; everything else (planning, steps, the dynamic-provider host, the checkpoint,
the lock) is the CLI's.

Each stack's runs use, under the project's state directory (`.entsso/` unless told otherwise):
`backend/` the DIY (file) backend with the checkpoint, update history and backups
(PULUMI_BACKEND_URL=file://...), `pulumi-home/` as PULUMI_HOME, and `logs/<stack>.<operation>.log`
with everything the CLI printed on its last run of that operation. Secrets use the passphrase
provider (the sim stack's sample passphrase, settings/crypt.py, or PULUMI_CONFIG_PASSPHRASE); no
update check, no plugin downloads.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from ops import pulumi_cli
from ops.model import Event, Operation, OperationNote, RunResult
from settings import crypt

PROJECT_ROOT = Path(__file__).absolute().parent.parent  # not resolved: a linked checkout keeps its own paths
PROGRAM = PROJECT_ROOT / "__main__.py"
POLICY_LAUNCHER = PROJECT_ROOT / "tools" / "pulumi-cli" / "plugins" / "policy-pack"
STATE_DIR = ".entsso"
_BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv[1]); from ops.engine_worker import main; main()"
_MUTATING = (Operation.UP, Operation.REFRESH, Operation.DESTROY)


class EngineError(Exception):
    """The run could not start or its worker crashed (a missing CLI, a bad project); not a resource failure."""


def read_project(project_dir: Path) -> dict[str, Any]:
    project_file = project_dir / "Pulumi.yaml"
    try:
        document = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise EngineError(f"cannot read {project_file}: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        raise EngineError(f"{project_file} has no project name")
    return document


def virtualenv_of(project_dir: Path, document: dict[str, Any]) -> Path:
    """The virtualenv Pulumi.yaml names (runtime.options.virtualenv), else this interpreter's."""
    runtime = document.get("runtime")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    if isinstance(options, dict) and options.get("virtualenv"):
        candidate = project_dir / str(options["virtualenv"])
        if (candidate / "bin" / "python").exists():
            return candidate
    return Path(sys.prefix)


@dataclass(frozen=True)
class Workspace:
    """A stack and where its runs happen.

    `project_dir` holds Pulumi.yaml and Pulumi.<stack>.yaml and is the CLI's working directory (and
    the dynamic-provider host's); `program` is the `__main__.py` the inline program runs. The
    backend and PULUMI_HOME are in the state directory; an Azure stack's are the environment's
    PULUMI_BACKEND_URL and PULUMI_HOME when set (a simulator stack's never are).
    """

    project_dir: Path
    stack: str
    program: Path = PROGRAM
    state_dir: Path | None = None

    @property
    def state(self) -> Path:
        return self.state_dir or self.project_dir / STATE_DIR

    @property
    def backend_dir(self) -> Path:
        return self.state / "backend"

    @property
    def pulumi_home(self) -> Path:
        return self.state / "pulumi-home"

    @property
    def log_dir(self) -> Path:
        return self.state / "logs"

    @property
    def stack_file(self) -> Path:
        return self.project_dir / f"Pulumi.{self.stack}.yaml"

    @property
    def project_name(self) -> str:
        return str(read_project(self.project_dir)["name"])

    def checkpoint(self) -> Path:
        """The stack's checkpoint in the DIY backend (pkg/backend/diy: .pulumi/stacks/<project>/<stack>.json)."""
        return self.backend_dir / ".pulumi" / "stacks" / self.project_name / f"{self.stack}.json"

    def lock_dir(self) -> Path:
        """Where the DIY backend locks the stack (pkg/backend/diy/lock.go: .pulumi/locks/<org>/<project>/<stack>)."""
        return self.backend_dir / ".pulumi" / "locks" / "organization" / self.project_name / self.stack

    def _stack_document(self) -> dict[str, Any]:
        try:
            document = yaml.safe_load(self.stack_file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            return {}
        return document if isinstance(document, dict) else {}

    def simulator(self) -> bool:
        """A simulator stack (target: simulator): its runs never leave the project's state directory."""
        config = self._stack_document().get("config") or {}
        return any(str(k).endswith(":target") and v == "simulator" for k, v in config.items())

    def passphrase(self) -> str | None:
        """The passphrase for the stack's secrets: for a simulator stack, the environment's if it opens the
        stack, else the sample one; for other stacks, whatever the environment gives the CLI (None)."""
        if not self.simulator():
            return None
        salt = self._stack_document().get("encryptionsalt")
        if not salt:
            return next(iter(crypt.passphrases_from_environment()), crypt.SAMPLE_PASSPHRASE)
        try:
            return crypt.simulator_key(str(salt))[0]
        except crypt.DecryptError as error:
            raise EngineError(f"{self.stack_file.name}: the stack's secrets do not open: {error}") from None

    def environment(self, cli: pulumi_cli.Cli) -> dict[str, str]:
        """What every CLI command of this stack runs with (and the plugins it starts inherit)."""
        document = read_project(self.project_dir)
        env = {
            "PULUMI_BACKEND_URL": self.backend_dir.resolve().as_uri(),
            "PULUMI_HOME": str(self.pulumi_home.resolve()),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",  # ops/pulumi_cli.py checked the version
            # The Automation API replaces the project's runtime options for an inline program, so the
            # dynamic-provider launcher (tools/pulumi-cli/plugins) learns the virtualenv from here.
            "PULUMI_RUNTIME_VIRTUALENV": str(virtualenv_of(self.project_dir, document).resolve()),
            # The provider host unpickles providers.* by reference: the program's directory first.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(self.program.parent), os.environ.get("PYTHONPATH")])),
        }
        passphrase = self.passphrase()
        if passphrase is not None:
            env["PULUMI_CONFIG_PASSPHRASE"] = passphrase
        if not self.simulator():
            # An Azure stack lives where its operators keep it: their backend and Pulumi home (where
            # `pulumi plugin install` put the azure-native plugin), when they name them.
            for name in ("PULUMI_BACKEND_URL", "PULUMI_HOME"):
                if os.environ.get(name):
                    env[name] = os.environ[name]
        return env


def language_host(cli: pulumi_cli.Cli) -> Path | None:
    """The Python language host the CLI would use (beside it, or on PATH), if there is one."""
    beside = cli.directory / "pulumi-language-python"
    if beside.is_file():
        return beside
    found = shutil.which("pulumi-language-python")
    return Path(found) if found else None


@dataclass(frozen=True)
class StaleLock:
    path: Path
    pid: int
    since: str


def _pulumi_process(pid: int) -> bool:
    """Whether `pid` is a running Pulumi CLI (not a pid reused by something else since)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: assume it is theirs and alive
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except OSError:
        return True  # no /proc: trust kill(0)
    return state != "Z" and Path(command.decode(errors="replace")).name == "pulumi"


def stale_locks(workspace: Workspace) -> Iterator[StaleLock]:
    """Locks of the stack left by a Pulumi CLI on this machine that no longer runs (killed with SIGKILL)."""
    directory = workspace.lock_dir()
    if not directory.is_dir():
        return
    host = socket.gethostname()
    for path in sorted(directory.glob("*.json")):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
            pid, hostname = int(content["pid"]), str(content["hostname"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours to judge: the CLI will report it
        if hostname == host and not _pulumi_process(pid):
            yield StaleLock(path, pid, str(content.get("timestamp", "")))


def clear_stale_locks(workspace: Workspace) -> list[str]:
    """Remove the stack's stale locks; one note per lock removed."""
    notes = []
    for lock in stale_locks(workspace):
        lock.path.unlink(missing_ok=True)
        lock.path.with_name(lock.path.name + ".attrs").unlink(missing_ok=True)
        notes.append(
            f"removed the stack's lock left by Pulumi CLI pid {lock.pid} (since {lock.since or 'unknown'}), "
            "which no longer runs; its run was killed, and this run resumes from its checkpoint"
        )
    return notes


@dataclass
class Engine:
    """The stack's operations through the pinned CLI. `on_event` gets each progress Event and `on_note` each
    provider's note that an operation started or ended on a node (both in the caller's thread, as they come);
    `policy_packs` are passed to up and preview (`--policy-pack`)."""

    workspace: Workspace
    on_event: Callable[[Event], None] | None = None
    on_note: Callable[[OperationNote], None] | None = None
    policy_packs: tuple[Path, ...] = ()
    cli: pulumi_cli.Cli | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def stack(self) -> str:
        return self.workspace.stack

    def up(self) -> RunResult:
        return self.run(Operation.UP)

    def preview(self) -> RunResult:
        return self.run(Operation.PREVIEW)

    def refresh(self) -> RunResult:
        return self.run(Operation.REFRESH)

    def destroy(self) -> RunResult:
        return self.run(Operation.DESTROY)

    def _cli(self) -> pulumi_cli.Cli:
        if self.cli is None:
            try:
                self.cli = pulumi_cli.require()
            except pulumi_cli.CliError as error:
                raise EngineError(str(error)) from None
        return self.cli

    def _policy_packs(self, env: dict[str, str]) -> list[str]:
        """The packs as the CLI takes them. A CLI with the Python language host runs a pack directory
        itself; ours has none, and runs an executable given as a pack as the analyzer (pkg/resource/
        plugin/analyzer_plugin.go): tools/pulumi-cli/plugins/policy-pack, told the directory in env."""
        packs = [p.resolve() for p in self.policy_packs]
        if not packs or language_host(self._cli()) is not None:
            return [str(p) for p in packs]
        if len(packs) > 1:
            raise EngineError("without the Python language host, one policy pack at a time can run")
        env["ENTSSO_POLICY_PACK"] = str(packs[0])
        return [str(POLICY_LAUNCHER)]

    def _job(self, operation: Operation, event_fd: int) -> dict[str, Any]:
        workspace = self.workspace
        env = workspace.environment(self._cli())
        packs = self._policy_packs(env) if operation in (Operation.UP, Operation.PREVIEW) else []
        return {
            "operation": operation.value,
            "project_dir": str(workspace.project_dir.resolve()),
            "program": str(workspace.program.resolve()),
            "stack": workspace.stack,
            "cli_root": str(self._cli().root),
            "env": env,
            "policy_packs": packs,
            "event_fd": event_fd,
        }

    def run(self, operation: Operation) -> RunResult:
        workspace = self.workspace
        workspace.backend_dir.mkdir(parents=True, exist_ok=True)
        workspace.pulumi_home.mkdir(parents=True, exist_ok=True)
        self.notes = clear_stale_locks(workspace) if operation in _MUTATING else []
        job_fd_read, job_fd_write = os.pipe()
        try:
            job = self._job(operation, job_fd_write)
            python = str(virtualenv_of(workspace.project_dir, read_project(workspace.project_dir)) / "bin" / "python")
            worker = subprocess.Popen(
                [python if Path(python).exists() else sys.executable, "-c", _BOOTSTRAP, str(PROJECT_ROOT)],
                cwd=workspace.project_dir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(job_fd_write,),
            )
        except BaseException:
            os.close(job_fd_read)
            raise
        finally:
            os.close(job_fd_write)
        output = bytearray()
        drainer = threading.Thread(target=_keep_tail, args=(worker.stdout, output), daemon=True)
        drainer.start()
        result: RunResult | None = None
        assert worker.stdin is not None
        try:
            # The job (the passphrase too) goes over the pipe, never on a command line.
            worker.stdin.write((json.dumps(job) + "\n").encode())
            worker.stdin.flush()
            with os.fdopen(job_fd_read, encoding="utf-8") as messages:
                for line in messages:
                    message = json.loads(line)
                    if "event" in message and self.on_event is not None:
                        self.on_event(Event.from_json(message["event"]))
                    elif "note" in message and self.on_note is not None:
                        self.on_note(OperationNote.from_json(message["note"]))
                    elif "result" in message:
                        result = RunResult.from_json(message["result"])
            worker.wait()
        except BaseException:
            worker.terminate()
            worker.wait()
            raise
        finally:
            worker.stdin.close()
            drainer.join(timeout=5)
            if worker.stdout is not None:
                worker.stdout.close()
        if result is None:
            tail = bytes(output).decode(errors="replace")[-4000:]
            raise EngineError(f"the engine worker exited with code {worker.returncode} without a result:\n{tail}")
        result.warnings = [*self.notes, *result.warnings]
        self._keep_log(operation, result)
        return result

    def _keep_log(self, operation: Operation, result: RunResult) -> None:
        directory = self.workspace.log_dir
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.stack}.{operation.value}.log"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as log:
            log.write(result.cli_output + "\n")

    # -- the checkpoint, through the CLI -----------------------------------------------------------

    def cli_command(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A plain CLI command on this stack's backend (e.g. `stack export`), with the stack's environment."""
        cli = self._cli()
        return subprocess.run(
            [str(cli.executable), *arguments, "--non-interactive"],
            cwd=self.workspace.project_dir,
            env={**os.environ, **self.workspace.environment(cli)},
            capture_output=True,
            text=True,
            timeout=300,
            check=check,
        )

    def ensure_stack(self) -> None:
        """The stack in the backend (created there, with the stack file's encryption salt, if new)."""
        self.workspace.backend_dir.mkdir(parents=True, exist_ok=True)
        self.cli_command("stack", "select", "--create", "--stack", self.stack)

    def set_secret(self, key: str, value: str) -> None:
        """`pulumi config set --secret KEY` with the value on stdin (never on a command line)."""
        self.ensure_stack()
        cli = self._cli()
        subprocess.run(
            [str(cli.executable), "config", "set", "--secret", "--stack", self.stack, key, "--non-interactive"],
            cwd=self.workspace.project_dir,
            env={**os.environ, **self.workspace.environment(cli)},
            input=value,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def export(self, show_secrets: bool = False) -> dict[str, Any]:
        """The stack's deployment as `pulumi stack export` gives it (secrets decrypted when asked)."""
        arguments = ["stack", "export", "--stack", self.stack]
        if show_secrets:
            arguments.append("--show-secrets")
        completed = self.cli_command(*arguments)
        document: dict[str, Any] = json.loads(completed.stdout)
        return document


def _keep_tail(stream: IO[bytes] | None, into: bytearray, limit: int = 64 * 1024) -> None:
    if stream is None:
        return
    while chunk := stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536):
        into.extend(chunk)
        if len(into) > limit:
            del into[: len(into) - limit]


def stack_document(project_dir: Path, stack: str) -> dict[str, Any]:
    """A stack file as YAML data (secure values stay ciphertext)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise EngineError(f"{path} has no `config:` mapping")
    return document


def write_stack_document(path: Path, document: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")


def scratch_project(
    directory: Path,
    stack: str = "sim",
    *,
    config: dict[str, Any] | None = None,
    source: Path = PROJECT_ROOT,
) -> Workspace:
    """A project of its own in `directory` running `source`'s program on a copy of its stack file.

    Pulumi.yaml is `source`'s with its relative paths made absolute (the virtualenv, the plugins),
    so the CLI and the plugins find them from here; the stack file is `source`'s with the `config`
    values given (namespaced keys) put in place of its own. Runs keep their state in
    `directory/.entsso`. Used by the tests, the fault matrix and the benchmarks, which each need a
    stack, ports and backend of their own.
    """
    directory.mkdir(parents=True, exist_ok=True)
    project = read_project(source)
    runtime = project.get("runtime")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    if isinstance(options, dict) and options.get("virtualenv"):
        options["virtualenv"] = str((source / str(options["virtualenv"])).absolute())
    plugins = project.get("plugins")
    if isinstance(plugins, dict):
        for entries in plugins.values():
            for entry in entries or []:
                if isinstance(entry, dict) and entry.get("path") and not Path(str(entry["path"])).is_absolute():
                    entry["path"] = str((source / str(entry["path"])).absolute())
    (directory / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False), encoding="utf-8")
    document = stack_document(source, stack)
    document["config"].update(config or {})
    write_stack_document(directory / f"Pulumi.{stack}.yaml", document)
    return Workspace(directory, stack, program=source / "__main__.py")


def set_config(workspace: Workspace, changes: dict[str, Any]) -> None:
    """Put config values (namespaced keys) into the stack file, as `pulumi config set --path` would."""
    document = stack_document(workspace.project_dir, workspace.stack)
    document["config"].update(changes)
    write_stack_document(workspace.stack_file, document)
