"""Reading a stack's settings: from its stack file (ops) or from the running Pulumi program."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from settings import crypt
from settings.model import PROJECT, SECRET_KEYS
from settings.stack import SettingsError, StackSettings, validate_stack


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def load_stack_file(path: Path, stack: str | None = None) -> StackSettings:
    """Validate the `config:` of a Pulumi stack file.

    Values Pulumi has encrypted (`{secure: ...}`) cannot be read without the stack's passphrase:
    they count as present, and `pulumi preview` checks them once it has decrypted them.
    """
    stack = stack or path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError([f"{path}: no such stack file; the stacks here are sim, lab, lab-hub and prod"]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SettingsError([f"{path}: is not valid YAML{where}; fix the indentation or quoting"]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise SettingsError([f"{path}: has no `config:` mapping; see Pulumi.sim.yaml for the shape"])
    config: dict[str, Any] = {}
    encrypted: list[str] = []
    lines: list[str] = []
    key_of_simulator = _simulator_key(document, path, lines)
    for full_key, value in document["config"].items():
        namespace, _, key = str(full_key).partition(":")
        if not key:
            lines.append(f"{full_key}: config keys are namespaced; write it as {PROJECT}:{full_key}")
            continue
        if namespace != PROJECT:
            continue  # other packages' settings, e.g. azure-native:location
        if isinstance(value, dict) and set(value) == {"secure"}:
            if key not in SECRET_KEYS:
                lines.append(f"{full_key}: is encrypted but is not a secret setting; set it with `pulumi config set`")
                continue
            if key_of_simulator is not None:  # the simulator's sample secrets: read as the CLI reads them
                try:
                    config[key] = crypt.decrypt(key_of_simulator, str(value["secure"]))
                except crypt.DecryptError as error:
                    lines.append(f"{full_key}: cannot be decrypted ({error}); `pulumi config set --secret` it again")
                continue
            encrypted.append(key)
            value = "(encrypted)"
        config[key] = value
    try:
        settings = validate_stack(
            config, stack=stack, encrypted=encrypted, plain_secrets_allowed=_simulator_stack(config)
        )
    except SettingsError as error:
        raise SettingsError(lines + error.lines) from None
    if lines:
        raise SettingsError(lines)
    return settings


def _simulator_stack(config: dict[str, Any]) -> bool:
    return config.get("target") == "simulator"


def _simulator_key(document: dict[str, Any], path: Path, lines: list[str]) -> bytes | None:
    """The key that opens a simulator stack's `secure:` values (settings/crypt.py); None for other stacks."""
    if document["config"].get(f"{PROJECT}:target") != "simulator" or "encryptionsalt" not in document:
        return None
    try:
        return crypt.simulator_key(str(document["encryptionsalt"]))[1]
    except crypt.DecryptError as error:
        lines.append(
            f"{path}: encryptionsalt: {error}; the sim stack's secrets open with the sample passphrase "
            f"`{crypt.SAMPLE_PASSPHRASE}`"
        )
        return None


def from_pulumi_config() -> StackSettings:
    """The running program's settings, from the config the Pulumi engine (or the mock runtime) holds."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    # The CLI hands config to the program in PULUMI_CONFIG; the mock runtime sets it in-process.
    raw: dict[str, Any] = {**(runtime_config.get_config_env() or {}), **runtime_config.CONFIG.get()}
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    config: dict[str, Any] = {}
    for full_key, text in raw.items():
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT or not key:
            continue
        config[key] = _decode(text) if isinstance(text, str) else text
    if pulumi.get_stack() and config.get("target") != "simulator":
        plain = [
            k
            for k in SECRET_KEYS
            if k in config
            and not (runtime_config.is_config_secret(f"{PROJECT}:{k}") or f"{PROJECT}:{k}" in secret_keys)
        ]
    else:
        plain = []
    settings = validate_stack(config, stack=pulumi.get_stack(), plain_secrets_allowed=True)
    if plain:
        raise SettingsError(
            [f"{PROJECT}:{k}: is stored in plain text; run `pulumi config set --secret {PROJECT}:{k}`" for k in plain]
        )
    return settings


def _decode(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in "{[" or stripped in ("true", "false"):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return text
    return text
