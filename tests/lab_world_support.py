"""Running the self-contained lab's in-guest steps against bare simulated machines, as Azure would.

`lab_program(build)` runs the real components of `Pulumi.lab.yaml` under Pulumi's mocks (tests/test_components_azure.py)
and keeps what Azure would be asked to run: each Run Command's script text, parameters, protected parameters and
run-as account, each JsonADDomainExtension's settings, each media role assignment. `LabRun` then plays them, in the
order of `components/lab_plan.py`, on `simulator.world.bare.bare_world`:
- a Run Command is `powershell.exe -File <script> -Name value ...` (its parameters and protected parameters as
  arguments, docs/lab.md), as SYSTEM or as its run-as user, through the interpreter (`engine.run_file` on the node's
  `NodeMachine`); it fails when the script does (treatFailureAsDeploymentFailure);
- the JsonADDomainExtension is the world operation it performs (`simulator.world.surface.ad.join_domain`), then the
  VM's restart;
- a role assignment gives the node's identity its data-plane role on the container;
- a restart the DC scheduled (shutdown.exe) happens before the next step, 60 s later in Azure.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pycdlib
from pulumi.runtime import rpc
from test_components_azure import RUN_COMMAND, Built

from components import lab_plan
from ops.simstack import seeded_world
from simulator.powershell.engine import run_file
from simulator.powershell.machine import Identity
from simulator.world import surface, windows
from simulator.world.bare import bare_world
from simulator.world.machine import NodeMachine
from simulator.world.model import World, key
from simulator.world.seed import INSTALLER_PLACEHOLDER
from simulator.world.surface.ad import JoinFailed, join_domain
from simulator.wsman.backend import Session

EXTENSION = "azure-native:compute:VirtualMachineExtension"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SYSTEM = "NT AUTHORITY\\SYSTEM"


def media_iso(files: dict[str, bytes] | None = None) -> bytes:
    """A real ISO 9660 image with Joliet names holding the setup media (Setup.exe at its root)."""
    image = pycdlib.PyCdlib()
    image.new(joliet=3, vol_ident="BTS2020")
    for index, (name, data) in enumerate(
        (files or {"Setup.exe": INSTALLER_PLACEHOLDER, "readme.txt": b"BizTalk"}).items()
    ):
        image.add_fp(io.BytesIO(data), len(data), f"/F{index}.;1", joliet_path="/" + name)
    out = io.BytesIO()
    image.write_fp(out)
    image.close()
    return out.getvalue()


MEDIA = media_iso()
MEDIA_SHA256 = hashlib.sha256(MEDIA).hexdigest().upper()


def _unwrap(value: Any) -> Any:
    return rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value


@dataclass
class Step:
    name: str  # the resource's logical name
    typ: str
    inputs: dict[str, Any]

    @property
    def vm(self) -> str:
        return str(self.inputs["vmName"])


@dataclass
class LabProgram:
    built: Built
    steps: dict[str, Step]
    principals: dict[str, str]  # VM name -> its identity's principal id

    @property
    def config(self) -> Any:
        return self.built.config

    def ordered(self) -> list[Step]:
        """Every in-guest step and role assignment in the order components/lab_plan.py declares them."""
        found: list[Step] = []
        for step in lab_plan.lab_steps(self.config):
            for name in step.resources:
                if name in self.steps and self.steps[name] not in found:
                    found.append(self.steps[name])
        return found


def lab_program(build: Callable[..., Built], change: Callable[[dict[str, Any]], None] | None = None) -> LabProgram:
    def with_media(values: dict[str, Any]) -> None:
        values["sso"]["media"]["sha256"] = MEDIA_SHA256
        if change is not None:
            change(values)

    built = build("lab", change=with_media)
    steps: dict[str, Step] = {}
    principals: dict[str, str] = {}
    for resource in built.mocks.resources:
        if resource.typ in (RUN_COMMAND, EXTENSION, ROLE_ASSIGNMENT):
            steps[resource.name] = Step(resource.name, resource.typ, dict(resource.inputs))
        if resource.typ == "azure-native:compute:VirtualMachine" and resource.inputs.get("identity"):
            principals[str(resource.inputs["vmName"])] = f"{resource.name}-principal"  # the mocks' principal id
    return LabProgram(built, steps, principals)


class RunCommandFailed(Exception):
    def __init__(self, step: str, message: str, result: Any = None) -> None:
        super().__init__(f"{step}: {message}")
        self.message = message
        self.result = result


@dataclass
class LabRun:
    program: LabProgram
    world: World = field(init=False)
    blob_key: str = field(init=False)
    log: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failure: Any = None  # the last script's terminating error record

    def __post_init__(self) -> None:
        config = self.program.config
        directory, azure = config.directory, config.azure
        secrets = {"vmAdminPassword": config.secret("vmAdminPassword")}
        self.world = bare_world(
            domain_controller=(directory.domain_controller.name, str(directory.domain_controller.ip)),
            sql_server=(directory.sql_server.name, str(directory.sql_server.ip)),
            sql_dns_name=config.sql.server,
            nodes={n.name: str(n.ip) for n in config.nodes},
            admin_username=azure.admin_username,
            admin_password=secrets["vmAdminPassword"],
            infra_subnet=str(directory.subnet_cidr),
            node_subnet=str(config.network.node_subnet_cidr),
        )
        for vm, principal in self.program.principals.items():
            node = self.world.node(vm)
            assert node is not None
            node.managed_identity = principal
        media = config.sso.media
        account = media.storage_account_id.rstrip("/").rsplit("/", 1)[-1]
        self.blob_key = f"{account}/{media.container}/{media.blob}"
        self.world.blobs[self.blob_key] = MEDIA

    # --- what Azure does ------------------------------------------------------------------------------------------

    def restart_scheduled(self) -> None:
        """Restarts every VM that scheduled one (shutdown.exe /r /t 60, or the join extension)."""
        for node in list(self.world.nodes.values()):
            if node.restart_scheduled:
                windows.reboot(self.world, node)
                surface.node_rebooted(self.world, node)

    def run(self, name: str) -> dict[str, Any]:
        step = self.program.steps[name]
        if step.typ == RUN_COMMAND:
            return self.run_command(step)
        if step.typ == EXTENSION:
            return self.join(step)
        return self.assign_role(step)

    def run_command(
        self, step: Step, parameters: dict[str, str] | None = None, script: str | None = None
    ) -> dict[str, Any]:
        node = self.world.node(step.vm)
        assert node is not None, step.vm
        inputs = step.inputs
        arguments = {p["name"]: p["value"] for p in inputs.get("parameters") or []}
        arguments.update({p["name"]: p["value"] for p in _unwrap(inputs.get("protectedParameters")) or []})
        arguments.update(parameters or {})
        user = inputs.get("runAsUser")
        if user:
            # The Run Command logs the run-as user on with its password (a local account of this VM here).
            password = _unwrap(inputs.get("runAsPassword"))
            local = node.local_users.get(key(str(user).split("\\", 1)[-1]))
            assert local is not None and local.has_password(password), f"{step.name}: run-as logon failed"
            identity = Identity(
                str(user), is_admin=any(key(a) == key(str(user)) for a in node.administrators), network_credentials=True
            )
        else:
            identity = Identity(SYSTEM, is_admin=True, network_credentials=True)
        session = Session(node=node.name, user=identity.user, auth="local", encrypted=True, delegated=True)
        text = script if script is not None else inputs["source"]["script"]
        try:
            process = run_file(
                NodeMachine(self.world, node, session, identity), text, dict(arguments), name=f"{step.name}.ps1"
            )
        finally:
            surface.process_ended(self.world)
        lines = [line for line in process.stdout.splitlines() if line.strip()]
        result: dict[str, Any] | None = None
        if lines:
            try:
                result = json.loads(lines[-1])
            except json.JSONDecodeError:
                result = None
        self.log.append((step.name, result or {}))
        if process.exit_code != 0 or process.terminating is not None or result is None:
            terminating = process.terminating
            message = terminating.message if terminating is not None else process.stdout
            where = f" (line {terminating.invocation_info.script_line_number})" if terminating is not None else ""
            self.failure = terminating
            raise RunCommandFailed(step.name, message + where, result)
        return result

    def join(self, step: Step) -> dict[str, Any]:
        node = self.world.node(step.vm)
        assert node is not None
        settings = step.inputs["settings"]
        password = _unwrap(step.inputs["protectedSettings"])["Password"]
        try:
            join_domain(self.world, node, settings["Name"], settings["User"], password, settings.get("OUPath"))
        except JoinFailed as failure:
            raise RunCommandFailed(
                step.name, f"Exception(s) occured while joining Domain '{settings['Name']}': {failure}"
            ) from None
        self.restart_scheduled()  # "Restart": "true": the extension restarts the VM
        return {"joined": settings["Name"]}

    def assign_role(self, step: Step) -> dict[str, Any]:
        scope = str(step.inputs["scope"])
        account = scope.split("/storageAccounts/", 1)[1].split("/", 1)[0]
        container = scope.rsplit("/", 1)[-1]
        readers = self.world.blob_readers.setdefault(f"{account}/{container}", [])
        principal = str(step.inputs["principalId"])
        if principal not in readers:
            readers.append(principal)
        return {"assigned": principal}

    # --- the whole lab --------------------------------------------------------------------------------------------

    def steps(self) -> Iterator[Step]:
        for step in self.program.ordered():
            if step.inputs.get("runCommandName") == lab_plan.ENABLE_WINRM:
                continue  # enable_winrm_https.ps1 needs the Cert: and WSMan: drives, which the world does not model
            yield step

    def build(self, until: str | None = None) -> None:
        for step in self.steps():
            if step.name == until:
                return
            self.restart_scheduled()
            self.run(step.name)
        self.restart_scheduled()


def seeded(program: LabProgram) -> World:
    """What `seed_world` builds for a stack with these settings today (the sim stack's starting point)."""
    return seeded_world(program.config)


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")
