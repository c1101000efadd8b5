"""A whole stack's settings, the rules that span sections, and the one-line-per-problem errors."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import Field, ValidationError
from pydantic.alias_generators import to_camel

from settings.model import (
    PROJECT,
    SECRET_KEYS,
    Azure,
    Cluster,
    Domain,
    Dtc,
    Network,
    Node,
    Secrets,
    Simulator,
    Sql,
    Sso,
    Target,
    Tier,
    WinRm,
    _Model,
)


class SettingsError(Exception):
    """Bad stack configuration: one line per problem, each naming the config key path."""

    def __init__(self, lines: list[str]) -> None:
        # A refused value is quoted in its line: its line breaks and escape sequences must not
        # forge another problem line or reach the terminal.
        lines = ["".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in line) for line in lines]
        super().__init__("\n".join(lines))
        self.lines = lines


class StackSettings(_Model):
    target: Target
    tier: Tier = Tier.LAB
    protect: bool = False
    domain: Domain
    sql: Sql
    network: Network
    nodes: list[Node] = Field(min_length=2, max_length=8)
    cluster: Cluster
    sso: Sso
    dtc: Dtc = Dtc(enabled=False)
    winrm: WinRm = WinRm()
    simulator: Simulator | None = None
    azure: Azure | None = None
    secrets: Secrets = Secrets()

    @property
    def master(self) -> Node:
        return self.nodes[0]

    def secret(self, key: str) -> str:
        """The plaintext of a secret key (camelCase), for handing to Pulumi as a secret Output."""
        value = getattr(self.secrets, _snake(key))
        if value is None:
            raise KeyError(key)
        return str(value.get_secret_value())


def _snake(camel: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in camel)


def _key(*path: str | int) -> str:
    text = f"{PROJECT}:"
    for index, part in enumerate(path):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if index else "") + part
    return text


_TOP_KEYS = [to_camel(name) for name in StackSettings.model_fields if name != "secrets"]


def _pydantic_lines(error: ValidationError, secret_keys: set[str]) -> list[str]:
    lines = []
    for item in error.errors(include_url=False, include_input=False):
        loc = list(item["loc"])
        if loc and loc[0] == "secrets":
            loc = loc[1:]
        message = item["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        kind = item["type"]
        if kind == "extra_forbidden":
            parent_model = _model_at(loc[:-1])
            known = [to_camel(n) for n in parent_model.model_fields] if parent_model else []
            if parent_model is StackSettings:
                known = _TOP_KEYS + list(SECRET_KEYS)
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            message = "unknown key" + (
                f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"
            )
        elif kind == "missing":
            message = "is required"
            if loc and loc[-1] in secret_keys:
                message += f"; set it with `pulumi config set --secret {_key(str(loc[-1]))}`"
        lines.append(f"{_key(*loc)}: {message}")
    return lines


def _model_at(loc: list[Any]) -> type[_Model] | None:
    model: type[_Model] | None = StackSettings
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(_snake(str(part)))
        if field is None:
            return None
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, _Model)), None)
    return model


def _reserved_in_subnet(subnet: ipaddress.IPv4Network) -> set[ipaddress.IPv4Address]:
    """Azure keeps the network address, .1 (gateway), .2 and .3 (DNS) and the broadcast address."""
    base = int(subnet.network_address)
    return {ipaddress.IPv4Address(base + i) for i in range(4)} | {subnet.broadcast_address}


def _cross_section_problems(s: StackSettings, stack: str | None) -> Iterable[str]:
    names: dict[str, str] = {}
    host_names = [(_key("nodes", i, "name"), n.name) for i, n in enumerate(s.nodes)]
    host_names += [(_key("cluster", "name"), s.cluster.name), (_key("sso", "networkName"), s.sso.network_name)]
    if s.dtc.enabled:
        host_names.append((_key("dtc", "networkName"), s.dtc.network_name))
    for key, name in host_names:
        if name.upper() in names:
            yield f"{key}: '{name}' is already used by {names[name.upper()]}; every node and network name must differ"
        else:
            names[name.upper()] = key

    subnet = s.network.node_subnet_cidr
    reserved = _reserved_in_subnet(subnet)
    addresses: dict[ipaddress.IPv4Address, str] = {}
    ips = [(_key("nodes", i, "ip"), n.ip) for i, n in enumerate(s.nodes)] + [(_key("sso", "ip"), s.sso.ip)]
    if s.dtc.enabled and s.dtc.ip is not None:
        ips.append((_key("dtc", "ip"), s.dtc.ip))
    for key, ip in ips:
        if ip not in subnet:
            yield f"{key}: {ip} is outside the node subnet {subnet}; pick an address inside it"
        elif ip in reserved:
            yield f"{key}: {ip} is one of the addresses Azure reserves in {subnet} (first four and last); pick another"
        elif ip in addresses:
            yield f"{key}: {ip} is already used by {addresses[ip]}; every node and client access point needs its own"
        else:
            addresses[ip] = key
    if s.dtc.enabled and s.dtc.probe_port == s.sso.probe_port:
        yield f"{_key('dtc', 'probePort')}: {s.dtc.probe_port} is the SSO role's probe port; use another"

    if s.target is Target.SIMULATOR:
        if s.azure is not None:
            yield f"{_key('azure')}: the simulator target builds nothing on Azure; remove it or set target: azure"
        if s.simulator is None:
            yield f"{_key('simulator')}: is required for target simulator"
    else:
        if s.azure is None:
            yield f"{_key('azure')}: is required for target azure"
        if s.simulator is not None:
            yield f"{_key('simulator')}: only the simulator target uses this key; remove it"
        if s.winrm.scheme != "https" or s.winrm.allow_http:
            yield f"{_key('winrm', 'scheme')}: Azure nodes are reached over https only; set scheme https"
        if s.winrm.certificate_validation == "ignore":
            yield f"{_key('winrm', 'certificateValidation')}: 'ignore' is for the simulator; use validate or pin"
        for key in ("vmAdminPassword", "domainJoinPassword"):
            if getattr(s.secrets, _snake(key)) is None:
                yield f"{_key(key)}: is required for target azure; set it with `pulumi config set --secret {_key(key)}`"
    for key in ("installPassword", "serviceAccountPassword", "backupPassword"):
        if getattr(s.secrets, _snake(key)) is None:
            yield f"{_key(key)}: is required; set it with `pulumi config set --secret {_key(key)}`"

    production = s.tier is Tier.PRODUCTION
    if stack is not None and stack.lower().startswith("prod") and not production:
        yield f"{_key('tier')}: stack '{stack}' is a production stack; set tier: production"
    if production:
        if s.target is not Target.AZURE:
            yield f"{_key('target')}: a production stack runs on azure"
        if s.azure is not None:
            if s.azure.placement != "zones":
                yield f"{_key('azure', 'placement')}: production needs availability zones; set placement: zones"
            if s.azure.winrm_access != "private":
                yield f"{_key('azure', 'winrmAccess')}: production reaches WinRM privately; set winrmAccess: private"
            if s.azure.escrow != "keyVault":
                yield f"{_key('azure', 'escrow')}: production escrows the master secret backup; set escrow: keyVault"
        if s.winrm.certificate_validation not in ("validate", "pin"):
            yield f"{_key('winrm', 'certificateValidation')}: production validates certificates; use validate or pin"
        if s.winrm.skip_unreachable_on_delete:
            yield f"{_key('winrm', 'skipUnreachableOnDelete')}: production never skips a node on delete; set false"
        if not s.protect:
            yield f"{_key('protect')}: production protects the SSO resources from deletion; set protect: true"


def validate_stack(
    config: Mapping[str, Any],
    *,
    stack: str | None = None,
    encrypted: Iterable[str] = (),
    plain_secrets_allowed: bool = True,
) -> StackSettings:
    """Validate a stack's project config (keys without the `entsso-cluster:` prefix).

    `encrypted` names secret keys whose value is ciphertext here (a stack file read without the
    passphrase): they count as present, and their strength is checked when Pulumi decrypts them.
    """
    encrypted_keys = set(encrypted)
    data: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    lines: list[str] = []
    for key, value in config.items():
        if key in SECRET_KEYS:
            if not plain_secrets_allowed and key not in encrypted_keys:
                lines.append(f"{_key(key)}: is stored in plain text; run `pulumi config set --secret {_key(key)}`")
            secrets[key] = value
        else:
            data[key] = value
    data["secrets"] = secrets
    try:
        settings = StackSettings.model_validate(data, context={"encrypted": encrypted_keys})
    except ValidationError as error:
        raise SettingsError(lines + _pydantic_lines(error, set(SECRET_KEYS))) from None
    lines += list(_cross_section_problems(settings, stack))
    if lines:
        raise SettingsError(lines)
    return settings
