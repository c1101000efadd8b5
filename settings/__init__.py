"""Typed stack settings (pydantic v2): the one place that knows what a stack may say."""

from settings.load import from_pulumi_config, load_stack_file, stack_file
from settings.model import (
    PROJECT,
    SECRET_KEYS,
    LabMachine,
    Node,
    Target,
    Tier,
    backup_password_problem,
    check_host_name,
)
from settings.stack import SettingsError, StackSettings, validate_stack

__all__ = [
    "PROJECT",
    "SECRET_KEYS",
    "LabMachine",
    "Node",
    "SettingsError",
    "StackSettings",
    "Target",
    "Tier",
    "backup_password_problem",
    "check_host_name",
    "from_pulumi_config",
    "load_stack_file",
    "stack_file",
    "validate_stack",
]
