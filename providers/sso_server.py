"""Steps 2-4 (role master) and 7-8 (role member): the configuration of the SSO binaries on one node.

The binaries come first, from SsoInstall on the same node (steps 1 and 6): configuring SSO needs them, and
neither needs a cluster (docs/windows-facts.md F-SSO-33), so this resource waits for the node's SsoInstall only
(and a member for the master's Create). Get: ENTSSO on the node and the SSODB it is configured against. Test:
configured against this SSODB, running as the service account. Set: Configuration.exe Create (the master:
creates SSODB and the secret, and the wizard backs the secret up to `backup_file`) or Join (a member). Delete
forgets the node by default: a destroy must never take the master secret or SSODB with it;
`unconfigure_on_delete` runs Configuration.exe /u instead.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Literal

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult
from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from providers.base import EntssoProvider, InputModel, same_computer, unknown_inputs
from providers.runner import RemoteOperationError
from providers.sso_install import PRODUCT_NAMES
from providers.targets import NodeTarget
from settings.model import backup_password_problem, check_account

logger = logging.getLogger("entsso.providers")


class SsoServerInputs(InputModel):
    node: NodeTarget
    role: Literal["master", "member"]
    product: Literal["biztalk", "his"] = "biztalk"
    sql_server: str = Field(min_length=1)
    database: str = Field(min_length=1)
    service_account: str
    service_password: SecretStr = Field(min_length=1)
    admin_group: str
    affiliate_admin_group: str
    backup_file: str | None = Field(default=None, pattern=r"^[A-Za-z]:\\")
    backup_password: SecretStr | None = None
    backup_reminder: str | None = None
    delegation: Literal["CredSSP", "ScheduledTask"] = "ScheduledTask"
    unconfigure_on_delete: bool = False

    @field_validator("service_account", "admin_group", "affiliate_admin_group")
    @classmethod
    def _down_level(cls, value: str) -> str:
        return check_account(value)

    @model_validator(mode="after")
    def _master_backs_up(self, info: ValidationInfo) -> SsoServerInputs:
        if self.role != "master":
            return self
        missing = [
            name
            for name in ("backup_file", "backup_password", "backup_reminder")
            if getattr(self, name) is None and name not in unknown_inputs(info)
        ]
        if missing:
            raise ValueError(f"role master needs {', '.join(missing)}: the Create wizard backs the new secret up")
        problem = backup_password_problem(self.backup_password.get_secret_value()) if self.backup_password else None
        if problem:
            raise ValueError(f"backup_password {problem}")
        return self


class SsoServerProvider(EntssoProvider):
    inputs_model = SsoServerInputs
    # Another node, role or SSODB is another SSO server. The service account and its password are here too:
    # Configuration.exe is the only operation that sets ENTSSO's logon and it leaves a configured node alone
    # (sso_configure skips), so a new account or password needs the node configured afresh, which only a
    # replacement with unconfigure_on_delete does (delete_before_replace: /u first, then Join). With the
    # default forget, the new create finds the node configured: it stops if ENTSSO runs as another account,
    # and a password alone it cannot check (Windows never reveals one). A master is never configured afresh
    # once SSODB exists: Create refuses it, as it must, since Create would make a new master secret.
    # Everything else is an update that re-runs Get/Test/Set: product, admin groups and the backup settings only
    # matter while the node is configured, and a configured node keeps them. (The installer path went to
    # SsoInstall; a state written before the split still holds it, and diff, which compares inputs only, ignores it.)
    replace_on = frozenset({"node", "role", "sql_server", "database", "service_account", "service_password"})
    secret_outputs = ("service_password", "backup_password")
    steps: ClassVar[dict[int, str]] = dict.fromkeys((2, 3, 4, 7, 8), "sso_configure")  # Create, then each Join

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return same_computer(super().diff(id_, olds, news), olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = SsoServerInputs.from_props(props)
        return CreateResult(_id(inputs), {**props, **_outputs(inputs, self._converge(inputs))})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = SsoServerInputs.from_props(news)
        return UpdateResult({**news, **_outputs(inputs, self._converge(inputs))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = SsoServerInputs.from_props(props)
        with self.node(inputs.node, "read SsoServer") as remote:
            state = remote.call("sso_get")
        if not state["installed"] or not state["configured"]:
            return ReadResult("", {})
        live = {
            "sql_server": state["sqlServer"],
            "database": state["database"],
            "service_account": (state["service"] or {}).get("account", ""),
        }
        # Windows names are case-insensitive: only a different name is drift.
        drift = {key: value for key, value in live.items() if str(value).upper() != str(props.get(key, "")).upper()}
        return ReadResult(id_, {**props, **_outputs(inputs, state), **drift})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = SsoServerInputs.from_props(props)
        if not inputs.unconfigure_on_delete:
            logger.info("forgetting SsoServer on %s: ENTSSO stays configured against SSODB", inputs.node["name"])
            return
        try:
            with self.node(inputs.node, "delete SsoServer") as remote:
                remote.call("sso_unconfigure", Product=PRODUCT_NAMES[inputs.product], **self.delegation())
        except RemoteOperationError as error:
            if not self.skip_unreachable(error):
                raise

    def _converge(self, inputs: SsoServerInputs) -> dict[str, Any]:
        with self.node(inputs.node, f"SsoServer ({inputs.role})") as remote:
            state = remote.call("sso_get")
            if state["configured"]:
                return _verified(inputs, state)
            if not state["installed"]:
                raise RuntimeError(
                    f"ENTSSO is not installed on {inputs.node['name']}: SsoInstall (steps 1 and 6) installs it first"
                )
            remote.call("sso_configure", **_configuration(inputs), **self.delegation())
            return _verified(inputs, remote.call("sso_get"))


def _configuration(inputs: SsoServerInputs) -> dict[str, Any]:
    master = inputs.role == "master"
    return {
        "Mode": "Create" if master else "Join",
        "SqlServer": inputs.sql_server,
        "Database": inputs.database,
        "ServiceAccount": inputs.service_account,
        "ServiceAccountPassword": inputs.service_password.get_secret_value(),
        "AdminGroup": inputs.admin_group,
        "AffiliateAdminGroup": inputs.affiliate_admin_group,
        "BackupFile": inputs.backup_file if master else None,
        "BackupPassword": inputs.backup_password.get_secret_value() if master and inputs.backup_password else None,
        "BackupReminder": inputs.backup_reminder if master else None,
        "Product": PRODUCT_NAMES[inputs.product],
    }


def _verified(inputs: SsoServerInputs, state: dict[str, Any]) -> dict[str, Any]:
    name, wanted = inputs.node["name"], f"{inputs.sql_server}/{inputs.database}"
    if not state["installed"] or not state["configured"]:
        raise RuntimeError(f"ENTSSO on {name} is not {'configured' if state['installed'] else 'installed'}")
    live = f"{state['sqlServer']}/{state['database']}"
    if live.upper() != wanted.upper():
        raise RuntimeError(
            f"ENTSSO on {name} is configured against {live}, not {wanted}: unconfigure it first "
            "(Configuration.exe /u, or unconfigure_on_delete on the resource that configured it)"
        )
    account = str((state["service"] or {}).get("account", ""))
    if account.upper() != inputs.service_account.upper():
        raise RuntimeError(
            f"ENTSSO on {name} runs as {account}, not {inputs.service_account}: a configured node keeps its "
            "service account; set unconfigure_on_delete so the replacement configures it afresh"
        )
    return state


def _outputs(inputs: SsoServerInputs, state: dict[str, Any]) -> dict[str, Any]:
    configured = bool(state["configured"])
    return {
        "installed": bool(state["installed"]),
        "configured": configured,
        "is_master": configured and inputs.role == "master",
    }


def _id(inputs: SsoServerInputs) -> str:
    return f"{inputs.node['name']}/{inputs.sql_server}/{inputs.database}"


class SsoServer(Resource, module="entsso", name="SsoServer"):
    """ENTSSO configured on one node (installed by SsoInstall): Create on the master, Join on a member."""

    installed: pulumi.Output[bool]
    configured: pulumi.Output[bool]
    is_master: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        node: pulumi.Input[NodeTarget],
        role: pulumi.Input[str],
        product: pulumi.Input[str],
        sql_server: pulumi.Input[str],
        database: pulumi.Input[str],
        service_account: pulumi.Input[str],
        service_password: pulumi.Input[str],
        admin_group: pulumi.Input[str],
        affiliate_admin_group: pulumi.Input[str],
        backup_file: pulumi.Input[str] | None = None,
        backup_password: pulumi.Input[str] | None = None,
        backup_reminder: pulumi.Input[str] | None = None,
        delegation: pulumi.Input[str] = "ScheduledTask",
        unconfigure_on_delete: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "node": node,
            "role": role,
            "product": product,
            "sql_server": sql_server,
            "database": database,
            "service_account": service_account,
            "service_password": service_password,
            "admin_group": admin_group,
            "affiliate_admin_group": affiliate_admin_group,
            "backup_file": backup_file,
            "backup_password": backup_password,
            "backup_reminder": backup_reminder,
            "delegation": delegation,
            "unconfigure_on_delete": unconfigure_on_delete,
            "installed": None,
            "configured": None,
            "is_master": None,
        }
        secrets = pulumi.ResourceOptions(additional_secret_outputs=list(SsoServerProvider.secret_outputs))
        super().__init__(SsoServerProvider(), resource_name, props, pulumi.ResourceOptions.merge(opts, secrets))
