"""Delivering the in-guest scripts of `components/scripts/` to Azure VMs: managed Run Commands and the join.

Every script a Run Command runs lives in `components/scripts/<name>.ps1` and is sent as it is; names,
addresses and passwords reach it as parameters only. A managed Run Command passes its parameters to a
Windows script on a command line (`script.ps1 -Name value ...`, learn.microsoft.com/azure/virtual-machines/
windows/run-command-managed), and how that line is quoted is not documented: so every free-text value
travels base64-encoded (UTF-8) in a parameter named `<Name>Base64`, which the script decodes first.
Passwords travel in `protectedParameters` (encrypted by Azure, never returned by a read) and are Pulumi
secrets end to end.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import pulumi
from pulumi_azure_native import compute

from components import lab_plan

SCRIPTS = Path(__file__).resolve().parent / "scripts"

# Run Command names and their scripts: one table, in components/lab_plan.py.
CREATE_FOREST = lab_plan.CREATE_FOREST
WAIT_FOR_DIRECTORY = lab_plan.WAIT_FOR_DIRECTORY
DIRECTORY_ACCOUNTS = lab_plan.DIRECTORY_ACCOUNTS
CLUSTER_OU = lab_plan.CLUSTER_OU
CONFIGURE_SQL = lab_plan.CONFIGURE_SQL
NODE_ADMINISTRATORS = lab_plan.NODE_ADMINISTRATORS
STAGE_MEDIA = lab_plan.STAGE_MEDIA
SCRIPT_OF = lab_plan.SCRIPT_OF


INCLUDE = "# entsso-include: "


@cache
def script(name: str) -> str:
    """The text a Run Command sends for `components/scripts/<name>.ps1`: the file, with each line that starts
    `# entsso-include: <library>.ps1` replaced by that library's text (a Run Command carries one script, and the
    helpers the scripts share are written once)."""
    lines = (SCRIPTS / f"{name}.ps1").read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(
        (SCRIPTS / line[len(INCLUDE) :].split()[0]).read_text(encoding="utf-8") if line.startswith(INCLUDE) else line
        for line in lines
    )


def encoded(value: str) -> str:
    """A value as a `...Base64` parameter carries it: base64 of its UTF-8 bytes."""
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def encoded_secret(value: pulumi.Input[str]) -> pulumi.Output[str]:
    """A secret, base64-encoded for a protected parameter; it stays a Pulumi secret."""
    return pulumi.Output.secret(pulumi.Output.from_input(value).apply(encoded))


def run_command(
    name: str,
    *,
    command: str,
    vm_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    location: str,
    parameters: Mapping[str, pulumi.Input[str]],
    protected: Mapping[str, pulumi.Input[str]] | None = None,
    run_as: tuple[str, pulumi.Input[str]] | None = None,
    timeout_seconds: int = 1800,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
) -> compute.VirtualMachineRunCommandByVirtualMachine:
    """A managed Run Command that runs `SCRIPT_OF[command]` once, synchronously, failing the deployment if it fails.

    `parameters` are sent as given (encode free text with `encoded`); `protected` values are made secret
    and sent as protected parameters; `run_as` is (user, password) for a script that must not run as SYSTEM.
    """
    protected_parameters = None
    if protected:
        protected_parameters = [
            compute.RunCommandInputParameterArgs(name=key, value=pulumi.Output.secret(value))
            for key, value in protected.items()
        ]
    return compute.VirtualMachineRunCommandByVirtualMachine(
        name,
        run_command_name=command,
        vm_name=vm_name,
        resource_group_name=resource_group_name,
        location=location,
        source=compute.VirtualMachineRunCommandScriptSourceArgs(script=script(SCRIPT_OF[command])),
        parameters=[compute.RunCommandInputParameterArgs(name=key, value=value) for key, value in parameters.items()],
        protected_parameters=protected_parameters,
        run_as_user=run_as[0] if run_as is not None else None,
        run_as_password=pulumi.Output.secret(run_as[1]) if run_as is not None else None,
        async_execution=False,
        timeout_in_seconds=timeout_seconds,
        treat_failure_as_deployment_failure=True,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def _password_setting(password: str) -> dict[str, str]:
    return {"Password": password}


def domain_join(
    name: str,
    *,
    vm_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    location: str,
    domain_fqdn: str,
    account: str,
    password: pulumi.Input[str],
    ou_path: str | None,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
) -> compute.VirtualMachineExtension:
    """The JsonADDomainExtension: join the domain, create the computer account, restart.

    The password is the extension's only protected setting; the extension restarts the VM itself and the
    platform reports it done after the restart, so what depends on it runs on the joined machine.
    """
    settings: dict[str, str] = {
        "Name": domain_fqdn,
        "User": account,
        "Restart": "true",
        "Options": "3",  # join the domain and create the computer account
    }
    if ou_path:
        settings["OUPath"] = ou_path
    return compute.VirtualMachineExtension(
        name,
        vm_extension_name="JoinDomain",
        vm_name=vm_name,
        resource_group_name=resource_group_name,
        location=location,
        publisher="Microsoft.Compute",
        type="JsonADDomainExtension",
        type_handler_version="1.3",
        auto_upgrade_minor_version=True,
        settings=settings,
        protected_settings=pulumi.Output.secret(password).apply(_password_setting),  # secret in, secret out
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )
