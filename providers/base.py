"""What every ENTSSO dynamic provider shares: settings from configure(), check, a pure diff, remote calls.

A provider subclass declares its input model, which inputs force a replacement, which inputs and
outputs are secret, and which documented steps it performs; it then writes create, read, update
and delete as Get/Test/Set sequences of named operations (docs/operations.md).

The host shares one provider instance between four threads and unpickles it without running
`__init__`, so nothing per-call lives on `self`: only the settings `configure()` derives from
stack config, which hold the WinRM password and are never pickled (pickling happens before it).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Self, TypeVar

from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, DiffResult, ResourceProvider
from pulumi.output import Unknown
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, ValidationInfo

from providers import notes
from providers.runner import NodeConnection, RemoteOperationError, RemoteSession, RunnerConfig, WinRmRunner, load_script
from settings.model import PROJECT, WinRm

logger = logging.getLogger("entsso.providers")
T = TypeVar("T")

PROVIDER_KEY = "__provider"
UNKNOWN_INPUTS = "unknown_inputs"  # validation context key: the inputs check() found unknown (a preview)
_SECRET_MARKER = re.compile(
    r"SuppressMessageAttribute\('PSAvoidUsingPlainTextForPassword',\s*''\)\][^$]*\$(\w+)", re.DOTALL
)


class InputModel(BaseModel):
    """Inputs as the program sends them (snake_case keys); unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> Self:
        """The inputs among stored props. A bad one raises ValueError naming fields, never values (secrets)."""
        try:
            return cls.model_validate({key: props[key] for key in cls.model_fields if props.get(key) is not None})
        except ValidationError as error:
            problems = [
                f"{'.'.join(str(part) for part in item['loc']) or 'inputs'}: {item['msg']}"
                for item in error.errors(include_url=False, include_input=False)
            ]
            raise ValueError(f"{cls.__name__}: {'; '.join(problems)}") from None


class ProviderSettings(BaseModel):
    """What configure() reads from stack config: how to reach the nodes and as whom."""

    model_config = ConfigDict(frozen=True)

    winrm: WinRm
    username: str
    password: SecretStr

    @classmethod
    def from_config(cls, get: Any) -> ProviderSettings:
        def structured(key: str) -> dict[str, Any]:
            value = get(f"{PROJECT}:{key}")
            if value is None:
                return {}
            return dict(json.loads(value)) if isinstance(value, str) else dict(value)

        domain = structured("domain")
        return cls(
            winrm=WinRm.model_validate(structured("winrm")),
            username=str(domain.get("installAccount", "")),
            password=SecretStr(str(get(f"{PROJECT}:installPassword") or "")),
        )

    def runner_config(self) -> RunnerConfig:
        return RunnerConfig(
            operation_timeout_s=self.winrm.operation_timeout_seconds,
            read_timeout_s=self.winrm.operation_timeout_seconds + 10,
            deadline_s=float(self.winrm.deadline_seconds),
            retry_attempts=self.winrm.retry_attempts,
            backoff_initial_s=self.winrm.retry_backoff_seconds,
            backoff_jitter_s=self.winrm.retry_backoff_seconds,
        )

    def connection(self, target: Mapping[str, Any]) -> NodeConnection:
        validation = self.winrm.certificate_validation
        thumbprint = target.get("thumbprint")
        if validation == "pin" and not thumbprint:
            raise ValueError(
                f"node {target['name']}: certificateValidation pin needs the node's certificate thumbprint"
            )
        return NodeConnection(
            name=str(target["name"]),
            endpoint=str(target["endpoint"]),
            transport=self.winrm.transport,
            username=self.username,
            password=self.password,
            validation=validation,
            ca_bundle=self.winrm.ca_bundle if validation == "validate" else None,
            thumbprint=thumbprint if validation == "pin" else None,
            allow_insecure=self.winrm.allow_http,
            allow_http=self.winrm.allow_http,
        )


@functools.cache
def secret_parameters(operation: str) -> frozenset[str]:
    """The parameters a script marks as secret (the same marker the simulator's test reads)."""
    return frozenset(_SECRET_MARKER.findall(load_script(operation)))


class EntssoProvider(ResourceProvider):
    inputs_model: ClassVar[type[InputModel]]
    replace_on: ClassVar[frozenset[str]] = frozenset()
    secret_outputs: ClassVar[tuple[str, ...]] = ()
    delete_before_replace: ClassVar[bool] = True
    steps: ClassVar[dict[int, str]] = {}

    settings: ProviderSettings | None = None

    # -- configure / check / diff ------------------------------------------------------------------

    def configure(self, req: ConfigureRequest) -> None:
        self.settings = ProviderSettings.from_config(req.config.get)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        unknown = {key for key, value in news.items() if _has_unknown(value)}
        known = {k: v for k, v in news.items() if k != PROVIDER_KEY and k not in unknown and v is not None}
        failures: list[CheckFailure] = []
        try:
            self.inputs_model.model_validate(known, context={UNKNOWN_INPUTS: frozenset(unknown)})
        except ValidationError as error:
            for item in error.errors(include_url=False, include_input=False):
                field = str(item["loc"][0]) if item["loc"] else ""
                if field in unknown or (item["type"] == "missing" and field in unknown):
                    continue
                where = ".".join(str(part) for part in item["loc"])
                failures.append(CheckFailure(field, f"{where}: {item['msg'].removeprefix('Value error, ')}"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        planned = plan_diff(self.inputs_model, self.replace_on, self.delete_before_replace, olds, news)
        drifted = [] if planned.changes else self.drift(olds, news)
        if not drifted:
            return planned
        return DiffResult(changes=True, replaces=[], stables=planned.stables, delete_before_replace=False)

    def drift(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        """Pure: what the stored outputs (as the last refresh read them) show out of line with the
        inputs, when no input reflects it; an update repairs it. None by default."""
        return []

    # -- remote work ---------------------------------------------------------------------------------

    def _settings(self) -> ProviderSettings:
        if self.settings is None:
            raise RuntimeError("the provider was not configured: stack config entsso-cluster:winrm is missing")
        return self.settings

    def runner(self) -> WinRmRunner:
        return WinRmRunner(self._settings().runner_config())

    @contextmanager
    def node(self, target: Mapping[str, Any], label: str) -> Iterator[Remote]:
        """One shell on a node for this resource operation."""
        with self.runner().session(self._settings().connection(target), label) as session:
            yield Remote(session)

    def delegation(self) -> dict[str, Any]:
        """Parameters of the steps that need network credentials on the node (the WinRM double hop)."""
        settings = self._settings()
        if settings.winrm.delegation == "CredSSP":
            return {"DelegationMode": "CredSSP"}
        return {
            "DelegationMode": "ScheduledTask",
            "TaskUser": settings.username,
            "TaskPassword": settings.password.get_secret_value(),
        }

    def skip_unreachable(self, error: RemoteOperationError) -> bool:
        """On delete: whether a node that cannot be reached may be skipped (the stack allows it)."""
        allowed = self._settings().winrm.skip_unreachable_on_delete and error.kind in ("transport", "timeout")
        if allowed:
            logger.warning("skipping unreachable node %s on delete: %s", error.node, error.message)
        return allowed

    def on_any_node(self, nodes: Sequence[Mapping[str, Any]], label: str, work: Callable[[Remote], T]) -> T:
        """Cluster-wide work that any node can do, on the first node that answers.

        A node that cannot be reached is passed over (the cluster still answers on the others); any
        other failure, and the last node's, is final. `work` must be idempotent (Get/Test/Set).
        """
        failure: RemoteOperationError | None = None
        for target in nodes:
            try:
                with self.node(target, label) as remote:
                    return work(remote)
            except RemoteOperationError as error:
                if error.kind != "transport":
                    raise
                failure = error
                logger.warning("%s: node %s cannot be reached (%s); trying the next", label, error.node, error.message)
        if failure is None:
            raise ValueError(f"{label}: no node to run on")
        raise failure


class Remote:
    """A shell on one node; `call` runs one named operation with its parameters."""

    def __init__(self, session: RemoteSession) -> None:
        self.session = session

    def call(self, operation: str, **parameters: Any) -> dict[str, Any]:
        present = {key: value for key, value in parameters.items() if value is not None}
        node, label, started = self.session.node.name, self.session.label, time.monotonic()
        notes.note("start", node, operation, label)  # what runs where, for ops' progress lines (providers/notes.py)
        ok = False
        try:
            result = self.session.run(operation, load_script(operation), present, secret_parameters(operation))
            ok = True
            return result
        finally:
            notes.note("end", node, operation, label, ok=ok, seconds=round(time.monotonic() - started, 3))


def same_computer(
    planned: DiffResult, olds: Mapping[str, Any], news: Mapping[str, Any], key: str = "node"
) -> DiffResult:
    """`planned` without `key` among the replacements when the node target still names the same computer:
    a new endpoint or certificate thumbprint reaches the same machine, which an update handles."""
    old, new, planned_replaces = olds.get(key), news.get(key), planned.replaces or []
    if key not in planned_replaces or not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return planned
    if _has_unknown(new.get("name")) or str(old.get("name", "")).upper() != str(new.get("name", "")).upper():
        return planned
    replaces = [name for name in planned_replaces if name != key]
    return DiffResult(
        changes=planned.changes,
        replaces=replaces,
        stables=planned.stables,
        delete_before_replace=bool(replaces) and bool(planned.delete_before_replace),
    )


def unknown_inputs(info: ValidationInfo) -> frozenset[str]:
    """In an input model's validator: the inputs not known yet, which a cross-field rule must not judge."""
    context = info.context if isinstance(info.context, Mapping) else {}
    return frozenset(context.get(UNKNOWN_INPUTS, ()))


def _has_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, Mapping):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, Sequence) and not isinstance(value, str):
        return any(_has_unknown(v) for v in value)
    return False


def plan_diff(
    model: type[InputModel],
    replace_on: frozenset[str],
    delete_before_replace: bool,
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
) -> DiffResult:
    """Pure: which declared inputs changed, and which of them force a replacement.

    `olds` are the stored outputs (a superset of the old inputs); outputs that are not inputs and
    `__provider` never count, so a new provider blob alone is not a change.
    """
    changed = sorted(
        key
        for key in model.model_fields
        if _has_unknown(news.get(key)) or _normal(olds.get(key)) != _normal(news.get(key))
    )
    replaces = [key for key in changed if key in replace_on]
    stables = sorted(key for key in model.model_fields if key not in changed)
    return DiffResult(
        changes=bool(changed),
        replaces=replaces,
        stables=stables,
        delete_before_replace=bool(replaces) and delete_before_replace,
    )


def _normal(value: Any) -> Any:
    """Values as the wire delivers them: tuples as lists, None and a missing key alike."""
    if isinstance(value, Mapping):
        return {k: _normal(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    return value


def target_named(nodes: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    for node in nodes:
        if str(node["name"]).upper() == name.upper():
            return node
    raise ValueError(f"node {name} is not one of {', '.join(str(n['name']) for n in nodes)}")
