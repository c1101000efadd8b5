"""`Engine`: the caller's side of a rehearsal. Each operation runs in a fresh worker process.

Why a worker process: the SDK's mock runtime (`set_mocks`, config, the root stack) and the modules a
program imports are process-global. A fresh process per run gives every run (and every test) a
clean runtime, keeps pulumi out of the caller's process, and lets a caller survive a program that
hangs or crashes. The worker starts the provider host itself; if the caller dies, the worker notices
(its stdin closes), kills the host and exits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from ops.rehearse.model import Event, Operation, RunResult

OPS_ROOT = Path(__file__).resolve().parent.parent.parent
_BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv[1]); from ops.rehearse.worker import main; main()"
_OUTPUT_LIMIT = 64 * 1024


class EngineError(Exception):
    """The rehearsal itself could not run (bad project, worker crashed); not a resource failure."""


@dataclass(frozen=True)
class Project:
    name: str
    program: Path  # the __main__.py to run
    python: str  # the interpreter for the worker and the provider host


def read_project(project_dir: Path) -> Project:
    """Read Pulumi.yaml: `name`, `main` (where the program is) and `runtime.options.virtualenv`,
    whose interpreter the CLI would use for the program and the dynamic-provider host."""
    project_file = project_dir / "Pulumi.yaml"
    try:
        document = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise EngineError(f"cannot read {project_file}: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        raise EngineError(f"{project_file} has no project name")
    main = project_dir / str(document.get("main") or ".")
    program = main / "__main__.py" if main.is_dir() else main
    if not program.is_file():
        raise EngineError(f"no program at {program}")
    python = sys.executable
    runtime = document.get("runtime")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    if isinstance(options, dict) and options.get("virtualenv"):
        candidate = project_dir / str(options["virtualenv"]) / "bin" / "python"
        if candidate.exists():
            python = str(candidate)
    return Project(name=document["name"], program=program.resolve(), python=python)


def namespaced(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


class Engine:
    """Runs a Pulumi Python program like the engine would: `up`, `preview`, `refresh`, `destroy`.

    `config` holds stack config values (keys "key" or "namespace:key"; strings, or structured values,
    which are passed on as JSON); `secret_keys` names the secret ones. `on_event` is called (in the
    caller's thread) with an `Event` at the start and end of each resource step. `parallel` bounds
    concurrent deletes and reads; the program gets 4x as many threads for registrations (the provider
    host itself runs 4 calls at a time). `python` defaults to the project's virtualenv (Pulumi.yaml),
    else this interpreter.
    """

    def __init__(
        self,
        project_dir: Path,
        stack: str,
        config: Mapping[str, Any],
        secret_keys: set[str],
        state_path: Path,
        *,
        on_event: Callable[[Event], None] | None = None,
        parallel: int = 16,
        python: str | None = None,
    ) -> None:
        self.project_dir = project_dir.resolve()
        project = read_project(self.project_dir)
        self.project = project.name
        self.program = project.program
        self.stack = stack
        # Config values are strings; structured ones travel as JSON, as `pulumi config set --path` keeps them.
        self.config = {
            namespaced(self.project, k): v if isinstance(v, str) else json.dumps(v) for k, v in config.items()
        }
        self.secret_keys = sorted(namespaced(self.project, k) for k in secret_keys)
        self.state_path = state_path.resolve()
        self.on_event = on_event
        self.parallel = max(1, parallel)
        self.python = python or project.python

    def up(self) -> RunResult:
        return self._run(Operation.UP)

    def preview(self) -> RunResult:
        return self._run(Operation.PREVIEW)

    def refresh(self) -> RunResult:
        return self._run(Operation.REFRESH)

    def destroy(self) -> RunResult:
        return self._run(Operation.DESTROY)

    def _job(self, operation: Operation, event_fd: int) -> dict[str, Any]:
        return {
            "operation": operation.value,
            "project_dir": str(self.project_dir),
            "project": self.project,
            "program": str(self.program),
            "stack": self.stack,
            "config": self.config,
            "secret_keys": self.secret_keys,
            "state_path": str(self.state_path),
            "parallel": self.parallel,
            "python": self.python,
            "event_fd": event_fd,
        }

    def _run(self, operation: Operation) -> RunResult:
        read_fd, write_fd = os.pipe()
        try:
            worker = subprocess.Popen(
                [self.python, "-c", _BOOTSTRAP, str(OPS_ROOT)],
                cwd=self.project_dir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
            )
        except OSError:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        output = bytearray()
        drainer = threading.Thread(target=_keep_tail, args=(worker.stdout, output), daemon=True)
        drainer.start()
        result: RunResult | None = None
        assert worker.stdin is not None
        try:
            # The job (config included, secrets too) goes over the pipe, never on a command line.
            worker.stdin.write((json.dumps(self._job(operation, write_fd)) + "\n").encode())
            worker.stdin.flush()
            with os.fdopen(read_fd, encoding="utf-8") as messages:
                for line in messages:
                    message = json.loads(line)
                    if "event" in message and self.on_event is not None:
                        self.on_event(Event.from_json(message["event"]))
                    elif "result" in message:
                        result = RunResult.from_json(message["result"])
            worker.wait()
        except BaseException:
            worker.terminate()  # the worker kills its provider host on SIGTERM
            worker.wait()
            raise
        finally:
            worker.stdin.close()
            drainer.join(timeout=5)
            if worker.stdout is not None:
                worker.stdout.close()
        tail = bytes(output).decode(errors="replace")
        if result is None:
            raise EngineError(f"the rehearsal worker exited with code {worker.returncode} without a result:\n{tail}")
        for key in self.secret_keys:
            secret = self.config.get(key, "")
            if len(secret) >= 4:
                tail = tail.replace(secret, "[secret]")
        result.program_output = tail
        return result


def _keep_tail(stream: IO[bytes] | None, into: bytearray) -> None:
    if stream is None:
        return
    while chunk := stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536):
        into.extend(chunk)
        if len(into) > _OUTPUT_LIMIT:
            del into[: len(into) - _OUTPUT_LIMIT]
