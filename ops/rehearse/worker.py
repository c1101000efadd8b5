"""The worker process: runs one engine operation and streams events and the result to its parent.

Protocol: the parent writes one JSON line (the job) on stdin and keeps stdin open; the worker
writes JSON lines `{"event": ...}` and finally `{"result": ...}` to the file descriptor named in the
job. If stdin reaches end-of-file early (the parent died) or SIGTERM arrives, the worker kills its
provider host and exits at once; the state on disk is consistent after every step anyway.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback
from pathlib import Path
from types import FrameType
from typing import IO, Any

from ops.rehearse.deployment import Deployment, Reporter, display_outputs
from ops.rehearse.host import ProviderHost, concise_error
from ops.rehearse.model import Event, Operation, RunResult
from ops.rehearse.monitor import run_program
from ops.rehearse.properties import SecretMasker
from ops.rehearse.state import StateError, StateStore, passphrase_source

_host: ProviderHost | None = None


def _abandon(exit_code: int) -> None:
    if _host is not None:
        _host.kill()
    os._exit(exit_code)


def _watch_parent(stdin: IO[bytes]) -> None:
    try:
        stdin.read()
    finally:
        _abandon(75)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _abandon(128 + signum)


def run(job: dict[str, Any], emit: Any, masker: SecretMasker) -> RunResult:
    global _host
    project_dir = Path(job["project_dir"])
    operation = Operation(job["operation"])
    stack: str = job["stack"]
    project: str = job["project"]
    config: dict[str, str] = job["config"]
    secret_keys: list[str] = job["secret_keys"]
    os.chdir(project_dir)

    for key in secret_keys:
        if key in config:
            masker.add(config[key])
    result = RunResult(operation=operation, stack=stack)
    # Next to the state, not in /tmp: a killed run leaves it where one looks, and the next run reuses it.
    state_path = Path(job["state_path"])
    state_path.parent.mkdir(parents=True, exist_ok=True)
    log_path = state_path.parent / f".{state_path.name}.host.log"
    os.close(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    store = StateStore(state_path, passphrase_source(project_dir))
    host = ProviderHost(project_dir, project, stack, log_path, python=job["python"])
    reporter = Reporter(emit, masker)
    deployment: Deployment | None = None
    try:
        state = store.load()
        if operation is not Operation.PREVIEW:
            store.unlock()
        _host = host
        host.start(config)
        deployment = Deployment(operation, state, store, host, reporter, masker, job["parallel"])
        if operation in (Operation.UP, Operation.PREVIEW):
            try:
                run_program(
                    Path(job["program"]),
                    project,
                    stack,
                    config,
                    secret_keys,
                    preview=operation is Operation.PREVIEW,
                    handler=deployment,
                    max_workers=job["parallel"] * 4,
                )
                program_ok = True
            except (Exception, SystemExit) as error:  # the program's failure, reported like Pulumi does
                program_ok = False
                print(masker.mask(traceback.format_exc()), file=sys.stderr)
                result.error = "the program failed: " + masker.mask(
                    concise_error(traceback.format_exc()) or f"{type(error).__name__}: {error}"
                )
            deployment.finish_up(program_ok)
            result.outputs = display_outputs(deployment.stack_outputs)
        elif operation is Operation.REFRESH:
            deployment.refresh()
        else:
            deployment.destroy()
    except StateError as error:
        result.error = str(error)
    finally:
        result.outcomes = list(reporter.outcomes)
        if deployment is not None:
            result.warnings = deployment.warnings
        host.stop()
        _host = None
        result.host_log = masker.mask(host.log_tail())
        log_path.unlink(missing_ok=True)
    return result


def main() -> None:
    job = json.loads(sys.stdin.buffer.readline())
    signal.signal(signal.SIGTERM, _on_sigterm)
    threading.Thread(target=_watch_parent, args=(sys.stdin.buffer,), daemon=True, name="parent-watch").start()
    event_fd: int = job["event_fd"]
    os.set_inheritable(event_fd, False)
    channel = os.fdopen(event_fd, "w", encoding="utf-8")
    lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        with lock:
            channel.write(json.dumps(message) + "\n")
            channel.flush()

    def emit(event: Event) -> None:
        send({"event": event.to_json()})

    masker = SecretMasker()
    try:
        result = run(job, emit, masker)
    except Exception:
        details = masker.mask(traceback.format_exc())
        result = RunResult(
            operation=Operation(job["operation"]),
            stack=job["stack"],
            error="the rehearsal engine failed: " + concise_error(details),
        )
        print(details, file=sys.stderr)
    send({"result": result.to_json()})
    channel.close()
    sys.stdout.flush()
    sys.stderr.flush()
    # The program may have left non-daemon threads behind; the run is over and reported.
    os._exit(0)
