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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, DiffResult, ResourceProvider
from pulumi.output import Unknown
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from providers.runner import NodeConnection, RemoteOperationError, RemoteSession, RunnerConfig, WinRmRunner, load_script
from providers.targets import NodeTarget
from settings.model import PROJECT, WinRm

logger = logging.getLogger("entsso.providers")

PROVIDER_KEY = "__provider"
_SECRET_MARKER = re.compile(
    r"SuppressMessageAttribute\('PSAvoidUsingPlainTextForPassword',\s*''\)\][^$]*\$(\w+)", re.DOTALL
)


class InputModel(BaseModel):
    """Inputs as the program sends them (snake_case keys); unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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
            ca_bundle=self.winrm.ca_bundle,
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
            self.inputs_model.model_validate(known)
        except ValidationError as error:
            for item in error.errors(include_url=False, include_input=False):
                field = str(item["loc"][0]) if item["loc"] else ""
                if field in unknown or (item["type"] == "missing" and field in unknown):
                    continue
                where = ".".join(str(part) for part in item["loc"])
                failures.append(CheckFailure(field, f"{where}: {item['msg'].removeprefix('Value error, ')}"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return plan_diff(self.inputs_model, self.replace_on, self.delete_before_replace, olds, news)

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


class Remote:
    """A shell on one node; `call` runs one named operation with its parameters."""

    def __init__(self, session: RemoteSession) -> None:
        self.session = session

    def call(self, operation: str, **parameters: Any) -> dict[str, Any]:
        present = {key: value for key, value in parameters.items() if value is not None}
        return self.session.run(operation, load_script(operation), present, secret_parameters(operation))


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


def targets(value: Sequence[Mapping[str, Any]]) -> list[NodeTarget]:
    return [NodeTarget(name=str(t["name"]), endpoint=str(t["endpoint"]), thumbprint=t.get("thumbprint")) for t in value]


def target_named(nodes: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    for node in nodes:
        if str(node["name"]).upper() == name.upper():
            return node
    raise ValueError(f"node {name} is not one of {', '.join(str(n['name']) for n in nodes)}")
