"""A toy dynamic provider: each resource is a small file in the directory given by its `dir` input.

Create, read, update and delete have real effects on disk, and every call appends a JSON line to
`<dir>/calls.log` (operation, start/end, file, time, and the `generation` of the provider object
that ran it), so tests can see what the engine asked for, in which order, with what overlap, and
with which serialized provider (the one in the state, or the program's).

A resource with a `lock` also holds `<dir>/<lock>.lock`, which a second holder cannot take:
replacing it only works delete-first, which is why `diff` asks for delete-before-replace for it.

Imported by the dynamic-provider host to unpickle the provider: no side effects at import.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

CALL_LOG = "calls.log"
COMPARED = ("dir", "fileName", "content", "lock")
REPLACED_ON = ("dir", "fileName", "lock")


def _log(directory: Any, op: str, phase: str, file_name: Any, generation: int) -> None:
    if not isinstance(directory, str):
        return  # a preview unknown
    line = json.dumps({"op": op, "phase": phase, "file": str(file_name), "t": time.time(), "gen": generation})
    descriptor = os.open(Path(directory) / CALL_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, (line + "\n").encode())
    finally:
        os.close(descriptor)


def _take_lock(lock_file: Path, holder: str) -> None:
    """Create the lock file naming its holder; taking a lock one already holds is fine (idempotent
    create, as a create the engine retries after an interrupted run must be)."""
    try:
        descriptor = os.open(lock_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if lock_file.read_text(encoding="utf-8") != holder:
            raise RuntimeError(f"lock {lock_file.stem} is already held by another resource") from None
        return
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(holder)


def _digest(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()[:16]


class ToyFileProvider(ResourceProvider):
    banner: str = ""  # set by configure(); a class default because unpickling skips __init__
    generation: int = 1

    def __init__(self, generation: int = 1) -> None:
        super().__init__()
        self.generation = generation  # pickled into each resource's __provider blob

    def configure(self, req: ConfigureRequest) -> None:
        self.banner = req.config.get("banner") or ""
        # In the host there is no engine to log to: this goes to the host's stderr.
        pulumi.log.info(f"toy provider configured: token of {len(req.config.get('token') or '')} characters")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        _log(news.get("dir"), "check", "end", news.get("fileName"), self.generation)
        failures = []
        file_name = news.get("fileName")
        if isinstance(file_name, str) and ("/" in file_name or "\\" in file_name or not file_name):
            failures.append(CheckFailure("fileName", f"{file_name!r} is not a plain file name"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        _log(news.get("dir"), "diff", "end", news.get("fileName"), self.generation)
        changed = [key for key in COMPARED if olds.get(key) != news.get(key)]
        replaces = [key for key in changed if key in REPLACED_ON]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(news.get("lock") or olds.get("lock")) if replaces else None,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        _log(props["dir"], "create", "start", props["fileName"], self.generation)
        time.sleep(float(props.get("delay") or 0))
        path = Path(props["dir"]) / props["fileName"]
        if props.get("lock"):
            _take_lock(Path(props["dir"]) / f"{props['lock']}.lock", holder=props["fileName"])
        path.write_text(props["content"], encoding="utf-8")
        _log(props["dir"], "create", "end", props["fileName"], self.generation)
        return CreateResult(id_=str(path), outs=self._outputs(props, path, props["content"]))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        _log(props.get("dir"), "read", "end", props.get("fileName"), self.generation)
        path = Path(id_)
        if not path.exists():
            return ReadResult(id_="", outs={})
        return ReadResult(id_=id_, outs=self._outputs(props, path, path.read_text(encoding="utf-8")))

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _log(news["dir"], "update", "start", news["fileName"], self.generation)
        path = Path(id_)
        path.write_text(news["content"], encoding="utf-8")
        _log(news["dir"], "update", "end", news["fileName"], self.generation)
        return UpdateResult(outs=self._outputs(news, path, news["content"]))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _log(props["dir"], "delete", "start", props["fileName"], self.generation)
        Path(id_).unlink(missing_ok=True)
        if props.get("lock"):
            (Path(props["dir"]) / f"{props['lock']}.lock").unlink(missing_ok=True)
        _log(props["dir"], "delete", "end", props["fileName"], self.generation)

    def _outputs(self, props: dict[str, Any], path: Path, content: str) -> dict[str, Any]:
        outputs = {k: v for k, v in props.items() if k != "__provider"}
        outputs.update(content=content, path=str(path), digest=_digest(content), size=len(content), banner=self.banner)
        return outputs


class File(Resource, module="toy", name="File"):
    path: pulumi.Output[str]
    content: pulumi.Output[str]
    digest: pulumi.Output[str]
    size: pulumi.Output[int]
    banner: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        directory: pulumi.Input[str],
        file_name: pulumi.Input[str],
        content: pulumi.Input[str],
        delay: float = 0.0,
        lock: str | None = None,
        generation: int = 1,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "dir": directory,
            "fileName": file_name,
            "content": content,
            "delay": delay,
            "lock": lock,
            "path": None,
            "digest": None,
            "size": None,
            "banner": None,
        }
        super().__init__(ToyFileProvider(generation), name, props, opts)
