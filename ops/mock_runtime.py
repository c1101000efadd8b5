"""The program under the SDK's mock runtime, every registration handed to a recorder (`ops runbook`'s graph).

This is Pulumi's own unit-test mechanism (`pulumi.runtime.set_mocks`), not an engine: nothing is
planned, created or kept. The SDK's `MockMonitor` hands `Mocks.new_resource` only type, name and
inputs; a graph needs the whole RegisterResourceRequest (parent, dependencies, options), so
`RecordingMonitor` overrides `RegisterResource` and `RegisterResourceOutputs` and passes each
registration to a handler, which answers it (ops/graph.py answers with the inputs). Invokes and
reads still go through `Mocks` (mock_cloud.MockCloud).
"""

from __future__ import annotations

import asyncio
import logging
import runpy
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pulumi
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import mocks, settings
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import wait_for_rpcs

from ops.mock_cloud import MockCloud
from ops.model import DYNAMIC_TYPE_PREFIX, ROOT_STACK_TYPE

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 (the SDK's secret marker, not a secret)
PROVIDER_KEY = "__provider"

PropertyMap = dict[str, Any]


@dataclass(frozen=True)
class Secret:
    """A secret input as the program sent it (the SDK's signature map on the wire)."""

    value: Any


def from_wire(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Secret(from_wire(value.get("value")))
        return {k: from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    return value


def to_wire(value: Any) -> Any:
    if isinstance(value, Secret):
        return {SIG_KEY: SECRET_SIG, "value": to_wire(value.value)}
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    """True when the value is, or contains, a secret."""
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(is_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(is_secret(v) for v in value)
    return False


def struct_to_map(struct: struct_pb2.Struct) -> PropertyMap:
    as_dict: dict[str, Any] = json_format.MessageToDict(struct)
    return {k: from_wire(v) for k, v in as_dict.items()}


def map_to_struct(props: PropertyMap) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(to_wire(props))
    return struct


def make_urn(stack: str, project: str, parent_urn: str, type_: str, name: str) -> str:
    """The engine's NewURN: the parent's qualified type prefixes the type, except for the root stack."""
    qualified = type_
    if parent_urn:
        parent_type = parent_urn.split("::")[2]
        if parent_type != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


@dataclass(frozen=True)
class Registration:
    """One RegisterResource call of the program, in the engine's terms."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: PropertyMap
    dependencies: list[str]
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    additional_secret_outputs: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)

    @property
    def is_dynamic(self) -> bool:
        return self.custom and self.type.startswith(DYNAMIC_TYPE_PREFIX)

    def depends_on(self) -> set[str]:
        needed = set(self.dependencies)
        for urns in self.property_dependencies.values():
            needed.update(urns)
        if self.parent:
            needed.add(self.parent)
        return needed

    @classmethod
    def from_request(cls, request: Any, urn: str) -> Registration:
        property_dependencies = {key: list(deps.urns) for key, deps in request.propertyDependencies.items()}
        dependencies = list(
            dict.fromkeys([*request.dependencies, *(u for urns in property_dependencies.values() for u in urns)])
        )
        return cls(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            inputs=struct_to_map(request.object),
            dependencies=dependencies,
            property_dependencies=property_dependencies,
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            delete_before_replace=bool(request.deleteBeforeReplace),
            additional_secret_outputs=list(request.additionalSecretOutputs),
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(request.replaceOnChanges),
        )


@dataclass(frozen=True)
class RegistrationResult:
    id: str
    outputs: PropertyMap
    ok: bool = True


class RegistrationHandler(Protocol):
    def register(self, registration: Registration) -> RegistrationResult: ...

    def register_outputs(self, urn: str, outputs: PropertyMap) -> None: ...


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, handler: RegistrationHandler, project: str, stack: str) -> None:
        super().__init__(MockCloud())
        self._handler = handler
        self._project = project
        self._stack = stack

    def RegisterResource(self, request: Any) -> Any:
        urn = make_urn(self._stack, self._project, request.parent, request.type, request.name)
        result = self._handler.register(Registration.from_request(request, urn))
        return resource_pb2.RegisterResourceResponse(
            urn=urn,
            id=result.id,
            object=map_to_struct(result.outputs),
            result=resource_pb2.Result.SUCCESS if result.ok else resource_pb2.Result.FAIL,
        )

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self._handler.register_outputs(request.urn, struct_to_map(request.outputs))
        return empty_pb2.Empty()


def run_program(
    program: Path,
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    preview: bool,
    handler: RegistrationHandler,
    max_workers: int,
) -> None:
    """Run `program` (a __main__.py) to completion, as the Python language host does, under mocks.

    Call once per process: the SDK's runtime settings and the program's modules are process-global.
    Raises whatever the program raised.
    """
    program_dir = program.parent
    sys.path.insert(0, str(program_dir))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="register")
    loop.set_default_executor(executor)
    logger = logging.getLogger("pulumi.program")
    logger.addHandler(logging.StreamHandler(sys.stderr))
    logger.setLevel(logging.INFO)
    try:
        mocks.set_mocks(
            MockCloud(),
            project=project,
            stack=stack,
            preview=preview,
            logger=logger,
            monitor=RecordingMonitor(handler, project, stack),
        )
        pulumi.runtime.set_all_config(config, secret_keys)
        # set_mocks registered a root stack of its own; let that settle, then run the program in a
        # fresh root stack as the language host does, so that `pulumi.export` reaches the stack outputs.
        loop.run_until_complete(wait_for_rpcs())
        settings.set_root_resource(None)  # type: ignore[arg-type]

        def run_main() -> None:
            runpy.run_path(str(program), run_name="__main__")

        loop.run_until_complete(pulumi.runtime.run_in_stack(run_main))
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
        executor.shutdown(wait=True, cancel_futures=True)
