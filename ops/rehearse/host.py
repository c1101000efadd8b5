"""A client for the SDK's own dynamic-provider host (`python -m pulumi.dynamic`), driven over gRPC.

The host is started the way the Pulumi CLI starts it: cwd = the project directory (so provider
classes pickled by reference import from there), PULUMI_PROJECT/PULUMI_STACK in the environment,
the port read from its first stdout line. Everything it prints afterwards goes to a log file.
All dynamic resources of a stack share this one host (4 worker threads, like the real one).
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import grpc
from google.protobuf import struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from ops.rehearse.properties import PropertyMap, plain_struct, struct_to_map

STARTUP_TIMEOUT = 60.0


class ProviderError(Exception):
    """A provider call failed; `str()` is a concise message (the provider's exception, not the traceback)."""


@dataclass(frozen=True)
class CheckResult:
    inputs: PropertyMap
    failures: list[tuple[str, str]]


@dataclass(frozen=True)
class DiffResult:
    changes: int  # provider_pb2.DiffResponse.DIFF_UNKNOWN / DIFF_NONE / DIFF_SOME
    replaces: list[str]
    delete_before_replace: bool
    diffs: list[str]


@dataclass(frozen=True)
class ReadResult:
    id: str
    outputs: PropertyMap
    inputs: PropertyMap | None


DIFF_UNKNOWN = provider_pb2.DiffResponse.DIFF_UNKNOWN
DIFF_NONE = provider_pb2.DiffResponse.DIFF_NONE
DIFF_SOME = provider_pb2.DiffResponse.DIFF_SOME


def concise_error(details: str) -> str:
    """The exception at the end of a Python traceback (type and message), without the frames."""
    lines = details.rstrip().splitlines()
    last_frame = max((i for i, line in enumerate(lines) if line.startswith("  File ")), default=-1)
    if last_frame < 0:
        return details.strip() or "unknown error"
    rest = lines[last_frame + 1 :]
    while rest and (rest[0].startswith("    ") or not rest[0].strip()):
        rest = rest[1:]  # the frame's source line and its ^^^ markers
    return "\n".join(rest).strip() or lines[-1].strip()


class ProviderHost:
    def __init__(self, project_dir: Path, project: str, stack: str, log_path: Path, python: str = sys.executable):
        self._project_dir = project_dir
        self._project = project
        self._stack = stack
        self._log_path = log_path
        self._python = python
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: Any = None
        self._stub: Any = None
        self._ready = threading.Event()
        self._ready_lock = threading.Lock()
        self._start_error: str | None = None
        self._config: dict[str, str] = {}
        self._log: IO[bytes] | None = None
        self._drainer: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, config: dict[str, str]) -> None:
        """Spawn the host; the port is read (and Configure sent) on first use, so that the host's
        start-up overlaps with the program's."""
        self._config = config
        env = {**os.environ, "PULUMI_PROJECT": self._project, "PULUMI_STACK": self._stack}
        self._log = self._log_path.open("ab")
        self._process = subprocess.Popen(
            [self._python, "-u", "-m", "pulumi.dynamic"],
            cwd=self._project_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._drainer is not None:
            self._drainer.join(timeout=5)
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._log is not None:
            self._log.close()

    def kill(self) -> None:
        """Last-resort stop from a signal handler: no waiting, no locks."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _ensure_ready(self) -> Any:
        if self._ready.is_set():
            if self._start_error is not None:
                raise ProviderError(self._start_error)
            return self._stub
        with self._ready_lock:
            if not self._ready.is_set():
                try:
                    self._connect()
                except ProviderError as error:
                    self._start_error = str(error)
                finally:
                    self._ready.set()
        return self._ensure_ready()

    def _connect(self) -> None:
        process = self._process
        if process is None or process.stdout is None:
            raise ProviderError("the dynamic provider host was not started")
        port_line = _read_line(process.stdout, STARTUP_TIMEOUT)
        if not port_line.strip().isdigit():
            process.poll()
            raise ProviderError(
                f"the dynamic provider host did not start (exit code {process.returncode}); "
                f"see its log: {_tail(self._log_path, 600)}"
            )
        assert self._log is not None
        self._drainer = threading.Thread(
            target=_drain, args=(process.stdout, self._log), daemon=True, name="provider-host-stdout"
        )
        self._drainer.start()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{int(port_line)}")
        grpc.channel_ready_future(self._channel).result(timeout=STARTUP_TIMEOUT)
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        args = struct_pb2.Struct()
        args.update(self._config)
        response = self._call(
            self._stub.Configure,
            provider_pb2.ConfigureRequest(variables=self._config, args=args, acceptSecrets=True, acceptResources=True),
        )
        if response.acceptSecrets:
            # Our callers always send revealed values; a host that accepts secrets would still work,
            # but it would not be the SDK host this engine was written against.
            raise ProviderError("unexpected dynamic provider host: it accepts secrets")

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request)
        except grpc.RpcError as error:
            code = error.code()
            details = error.details() or ""
            if code == grpc.StatusCode.UNKNOWN:
                raise ProviderError(concise_error(details)) from None
            raise ProviderError(f"{code.name}: {concise_error(details)}") from None

    # -- the resource provider protocol ------------------------------------------------------

    def check(self, urn: str, olds: PropertyMap, news: PropertyMap) -> CheckResult:
        stub = self._ensure_ready()
        response = self._call(
            stub.Check,
            provider_pb2.CheckRequest(
                urn=urn, olds=plain_struct(olds), news=plain_struct(news), name=_name(urn), type=_type(urn)
            ),
        )
        return CheckResult(
            inputs=struct_to_map(response.inputs),
            failures=[(f.property, f.reason) for f in response.failures],
        )

    def diff(
        self,
        urn: str,
        id_: str,
        olds: PropertyMap,
        news: PropertyMap,
        old_inputs: PropertyMap,
        ignore_changes: list[str],
    ) -> DiffResult:
        stub = self._ensure_ready()
        response = self._call(
            stub.Diff,
            provider_pb2.DiffRequest(
                id=id_,
                urn=urn,
                olds=plain_struct(olds),
                news=plain_struct(news),
                old_inputs=plain_struct(old_inputs),
                ignoreChanges=ignore_changes,
                name=_name(urn),
                type=_type(urn),
            ),
        )
        return DiffResult(
            changes=response.changes,
            replaces=list(response.replaces),
            delete_before_replace=response.deleteBeforeReplace,
            diffs=list(response.diffs),
        )

    def create(self, urn: str, inputs: PropertyMap) -> tuple[str, PropertyMap]:
        stub = self._ensure_ready()
        response = self._call(
            stub.Create,
            provider_pb2.CreateRequest(urn=urn, properties=plain_struct(inputs), name=_name(urn), type=_type(urn)),
        )
        if not response.id:
            raise ProviderError("the provider's create returned an empty id")
        return response.id, struct_to_map(response.properties)

    def update(
        self,
        urn: str,
        id_: str,
        olds: PropertyMap,
        news: PropertyMap,
        old_inputs: PropertyMap,
        ignore_changes: list[str],
    ) -> PropertyMap:
        stub = self._ensure_ready()
        response = self._call(
            stub.Update,
            provider_pb2.UpdateRequest(
                id=id_,
                urn=urn,
                olds=plain_struct(olds),
                news=plain_struct(news),
                old_inputs=plain_struct(old_inputs),
                ignoreChanges=ignore_changes,
                name=_name(urn),
                type=_type(urn),
            ),
        )
        return struct_to_map(response.properties)

    def read(self, urn: str, id_: str, outputs: PropertyMap, inputs: PropertyMap) -> ReadResult:
        stub = self._ensure_ready()
        response = self._call(
            stub.Read,
            provider_pb2.ReadRequest(
                id=id_,
                urn=urn,
                properties=plain_struct(outputs),
                inputs=plain_struct(inputs),
                name=_name(urn),
                type=_type(urn),
            ),
        )
        return ReadResult(
            id=response.id,
            outputs=struct_to_map(response.properties),
            inputs=struct_to_map(response.inputs) if response.HasField("inputs") else None,
        )

    def delete(self, urn: str, id_: str, outputs: PropertyMap, inputs: PropertyMap) -> None:
        stub = self._ensure_ready()
        self._call(
            stub.Delete,
            provider_pb2.DeleteRequest(
                id=id_,
                urn=urn,
                properties=plain_struct(outputs),
                old_inputs=plain_struct(inputs),
                name=_name(urn),
                type=_type(urn),
            ),
        )

    def log_tail(self, limit: int = 8192) -> str:
        return _tail(self._log_path, limit)


def _name(urn: str) -> str:
    return urn.split("::")[3]


def _type(urn: str) -> str:
    return urn.split("::")[2].split("$")[-1]


def _read_line(stream: IO[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    buffer = b""
    descriptor = stream.fileno()
    while not buffer.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        readable, _, _ = select.select([descriptor], [], [], remaining)
        if not readable:
            break
        chunk = os.read(descriptor, 1)
        if not chunk:
            break
        buffer += chunk
    return buffer.decode(errors="replace")


def _drain(stream: IO[bytes], sink: IO[bytes]) -> None:
    """Keep reading the host's stdout so a chatty provider never blocks on a full pipe."""
    try:
        while chunk := os.read(stream.fileno(), 65536):
            sink.write(chunk)
            sink.flush()
    except (OSError, ValueError):
        return


def _tail(path: Path, limit: int) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode(errors="replace")
