"""The real scripts through the interpreter: every one compiles, and the bootstrap runs the library and an
operation end to end, through the simulated powershell.exe of a node whose host is a MachineHost.

The node here is the test machine (tests/powershell_support.py): its cmdlets are test doubles that return
what a test sets up; the world's real cmdlets come with the world (issue 11, item 2).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from powershell_support import (
    FC,
    FakeCluster,
    TestMachine,
    fc_doubles,
    fc_group,
    fc_node,
    fc_parameter,
    fc_resource,
)

from providers import runner_wire
from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet, CommandDefinition
from simulator.powershell.compiler import compile_script
from simulator.powershell.errors import DotNetError, NetException
from simulator.powershell.machine import Machine
from simulator.powershell.types import PSType
from simulator.powershell.values import DotNetObject, EnumType, EnumValue
from simulator.shell import SimulatedShell
from simulator.wsman.backend import Directive, Session

ACCESS_ALLOW = EnumValue(EnumType("System.Security.AccessControl.AccessControlType", (("Allow", 0), ("Deny", 1))), 0)
ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "providers" / "scripts").glob("*.ps1"))
ALL = [
    *SCRIPTS,
    ROOT / "providers" / "bootstrap.ps1",
    ROOT / "providers" / "library.ps1",
    *sorted((ROOT / "components" / "scripts").glob("*.ps1")),
]
SESSION = Session("MSSNODE1", "CORP\\svc-install", "ntlm", encrypted=True, delegated=False)


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_every_script_compiles_with_no_unsupported_construct(path: Path) -> None:
    compiled = compile_script(path.read_text(encoding="utf-8"), path.name)
    assert compiled.parse_failure is None
    assert compiled.unsupported is None
    assert compiled.block is not None


class MachineHost:
    """A host whose node runs scripts in the interpreter (simulator.shell.MachineHost)."""

    def __init__(self, machine: Machine) -> None:
        self._machine = machine
        self.directives: list[str] = []

    def machine(self, session: Session) -> Machine:
        return self._machine

    def directive(self, session: Session, operation: str) -> Directive:
        self.directives.append(operation)
        return Directive()

    def invoke(self, session: Session, operation: str, parameters: dict[str, object]) -> dict[str, object]:
        raise AssertionError("a MachineHost's node runs the script; nothing dispatches operations by name")


def run_operation(
    machine: Machine,
    operation: str,
    parameters: dict[str, object],
    script: str | None = None,
    library: str | None = None,
) -> tuple[runner_wire.ScriptOutcome | None, bytes]:
    text = script if script is not None else (ROOT / "providers" / "scripts" / f"{operation}.ps1").read_text("utf-8")
    stdin = runner_wire.envelope(operation, text, parameters, library)
    host = MachineHost(machine)
    command = SimulatedShell(host).prepare(
        SESSION, runner_wire.POWERSHELL, list(runner_wire.bootstrap_arguments()), stdin
    )
    assert command.operation == operation
    outcome = command.execute()
    lines = [line for line in outcome.stdout.decode("ascii").splitlines() if line.startswith(runner_wire.RESULT_MARKER)]
    assert len(lines) == 1, outcome.stdout  # exactly one result line
    assert outcome.exit_code == (0 if '"ok":true' in lines[0] else 1)
    return runner_wire.read_result(outcome.stdout), outcome.stdout


def cluster_machine() -> tuple[TestMachine, FakeCluster]:
    machine = TestMachine()
    fake = FakeCluster()
    n1, n2 = fc_node("MSSNODE1"), fc_node("MSSNODE2")
    fake.cluster = FC.new("Microsoft.FailoverClusters.PowerShell.Cluster", Name="MSSCLUSTER")
    fake.nodes = [n1, n2]
    core, role = fc_group("Cluster Group", n1), fc_group("SSO", n1)
    fake.groups = [core, role]
    ip = fc_resource("IP Address 10.0.0.5", "IP Address", role)
    name = fc_resource("SSO", "Network Name", role)
    service = fc_resource("ENTSSO", "Generic Service", role)
    witness = fc_resource("Cloud Witness", "Cloud Witness", core)
    core_name = fc_resource("Cluster Name", "Distributed Network Name", core, core=True)
    fake.resources = [core_name, witness, ip, name, service]
    fake.parameters = {
        ip.ps_get("Name"): [  # type: ignore[attr-defined]
            fc_parameter(ip, k, v)
            for k, v in {
                "Address": "10.0.0.5",
                "SubnetMask": "255.255.255.255",
                "ProbePort": 59999,
                "EnableDhcp": 0,
                "OverrideAddressMatch": 1,
            }.items()
        ],
        "SSO": [fc_parameter(name, "DnsName", "SSO")],
        "ENTSSO": [fc_parameter(service, "ServiceName", "ENTSSO"), fc_parameter(service, "UseNetworkName", 1)],
        "Cloud Witness": [
            fc_parameter(witness, "AccountName", "wit"),
            fc_parameter(witness, "EndpointInfo", "core.windows.net"),
        ],
    }
    fake.owners = {"SSO": [n1, n2], "ENTSSO": [n1]}
    fake.dependencies = {"ENTSSO": "[SSO]"}
    fake.access = [
        FC.new(
            "Microsoft.FailoverClusters.PowerShell.ClusterAccessRule",
            IdentityReference="CORP\\svc-sso",
            ClusterRights="Full",
            AccessControlType=ACCESS_ALLOW,
        )
    ]
    machine.definitions = fc_doubles(fake)
    return machine, fake


def test_role_get_runs_through_the_real_bootstrap_and_library() -> None:
    machine, _ = cluster_machine()
    outcome, _ = run_operation(machine, "role_get", {"Name": "sso"})
    assert outcome is not None and outcome.ok, outcome
    assert outcome.result == {
        "exists": True,
        "name": "SSO",
        "state": "Online",
        "ownerNode": "MSSNODE1",
        "preferredOwners": ["MSSNODE1", "MSSNODE2"],
        "ipAddress": {
            "resource": "IP Address 10.0.0.5",
            "address": "10.0.0.5",
            "subnetMask": "255.255.255.255",
            "probePort": 59999,
            "enableDhcp": 0,
            "overrideAddressMatch": 1,
            "state": "Online",
        },
        "networkName": {"resource": "SSO", "dnsName": "SSO", "state": "Online"},
        "service": {
            "resource": "ENTSSO",
            "type": "Generic Service",
            "serviceName": "ENTSSO",
            "useNetworkName": 1,
            "possibleOwners": ["MSSNODE1"],
            "dependencies": ["SSO"],
            "state": "Online",
        },
        "clusterAccess": [{"account": "CORP\\svc-sso", "access": "Full", "type": "Allow"}],
    }


def test_cluster_get_reads_the_quorum_through_the_library() -> None:
    machine, fake = cluster_machine()
    outcome, _ = run_operation(machine, "cluster_get", {})
    assert outcome is not None and outcome.ok, outcome
    assert outcome.result["quorum"] == {
        "type": "Majority",
        "witness": "Cloud Witness",
        "witnessAccountName": "wit",
        "witnessEndpoint": "core.windows.net",
    }
    assert outcome.result["managementPointNetworkType"] == "Distributed"
    fake.cluster = None  # not clustered: Get-Cluster raises a terminating error (F-CLU-01), which the library catches
    outcome, _ = run_operation(machine, "cluster_get", {})
    assert outcome is not None and outcome.ok
    assert outcome.result == {
        "exists": False,
        "name": "",
        "nodes": [],
        "managementPointNetworkType": "",
        "quorum": None,
        "heartbeat": None,
    }


def test_file_put_get_and_remove_run_on_the_machine_files() -> None:
    machine = TestMachine()
    content = b"backup bytes \x00\xff"
    import hashlib

    digest = hashlib.sha256(content).hexdigest().upper()
    path = "C:\\ProgramData\\ENTSSO\\backup.bak"
    outcome, _ = run_operation(
        machine, "file_put", {"Path": path, "ContentBase64": base64.b64encode(content).decode(), "Sha256": digest}
    )
    assert outcome is not None and outcome.ok, outcome
    assert outcome.result["actions"] == [
        "New-Item C:\\ProgramData\\ENTSSO",
        "Set-Acl C:\\ProgramData\\ENTSSO (SYSTEM, Administrators)",
        f"write {path}",
    ]
    assert machine.filesystem.read_bytes(path) == content
    outcome, _ = run_operation(machine, "file_get", {"Path": path})
    assert outcome is not None and outcome.result == {
        "computerName": "MSSNODE1",
        "path": path,
        "exists": True,
        "length": len(content),
        "sha256": digest,
    }
    outcome, _ = run_operation(machine, "file_remove", {"Path": path})
    assert outcome is not None and outcome.result["actions"] == [f"Remove-Item {path}"]
    assert machine.filesystem.stat(path) is None


def test_file_put_refuses_bytes_that_do_not_match_their_hash() -> None:
    outcome, _ = run_operation(
        TestMachine(), "file_put", {"Path": "C:\\x.bin", "ContentBase64": "AAEC", "Sha256": "00"}
    )
    assert outcome is not None and not outcome.ok
    assert outcome.message.startswith(
        "The content's SHA-256 is AE4B3280E56E2FAF83F414A6E3DABE9D5FBE18976544C05FED121ACCB85B53FC"
    )
    lines = (ROOT / "providers" / "scripts" / "file_put.ps1").read_text("utf-8").splitlines()
    assert outcome.line == next(i for i, line in enumerate(lines, 1) if line.startswith("if ($actual -ne $Sha256)"))


class DBInfo(DotNetObject):
    """A COM double of SSOConfigOM: GetDBInfo writes its out values into the argument array."""

    TYPE_NAME = "System.__ComObject"

    def ps_invoke_member(self, name: str, kind: str, arguments: list[object]) -> object:
        assert (name, kind) == ("GetDBInfo", "method")
        arguments[2:] = [True, True, False, "MSSCLUSTER", "CORP\\SSO Admins", "CORP\\SSO Affiliates"]
        return None


def sso_interop(machine: TestMachine) -> None:
    folder = "C:\\Program Files\\Common Files\\Enterprise Single Sign-On"
    machine.filesystem.make_directory(folder)
    dll = folder + "\\Microsoft.EnterpriseSingleSignOn.Interop.dll"
    machine.filesystem.write_bytes(dll, b"MZ")
    config = PSType("Microsoft.EnterpriseSingleSignOn.Interop.SSOConfigOM")
    config.constructor = DBInfo
    machine.assemblies[dll.lower()] = [
        config,
        PSType("Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigDB"),
        PSType("Microsoft.EnterpriseSingleSignOn.Interop.ISSOConfigSS"),
    ]


def test_secret_server_get_reads_out_values_written_through_invokemember() -> None:
    machine = TestMachine()
    sso_interop(machine)
    outcome, _ = run_operation(
        machine, "secret_server_get", {"SqlServer": "SQL01", "Database": "SSODB", "DelegationMode": "CredSSP"}
    )
    assert outcome is not None and outcome.ok, outcome
    assert outcome.result == {
        "sqlServer": "SQL01",
        "database": "SSODB",
        "exists": True,
        "secretServer": "MSSCLUSTER",
        "adminGroup": "CORP\\SSO Admins",
        "affiliateAdminGroup": "CORP\\SSO Affiliates",
    }


def test_secret_server_get_without_the_interop_assembly_fails_as_add_type_does() -> None:
    outcome, _ = run_operation(
        TestMachine(), "secret_server_get", {"SqlServer": "SQL01", "Database": "SSODB", "DelegationMode": "CredSSP"}
    )
    assert outcome is not None and not outcome.ok
    assert outcome.message == (
        "Cannot find path 'C:\\Program Files\\Common Files\\Enterprise Single Sign-On\\"
        "Microsoft.EnterpriseSingleSignOn.Interop.dll' because it does not exist."
    )
    assert outcome.error_id == "PathNotFound,Microsoft.PowerShell.Commands.AddTypeCommand"


# The delegation helper (Invoke-Delegated) runs against the world's Task Scheduler in
# tests/test_world_delegation.py: its COM registration, asynchronous runs and cleanup need the real model,
# not doubles of the ScheduledTasks cmdlets.


# --- the bootstrap's guarantees, with the interpreter running it ----------------------------------


def test_a_refused_parameter_reports_line_0_and_the_library_is_not_loaded() -> None:
    machine, _ = cluster_machine()
    outcome, _ = run_operation(
        machine,
        "role_get",
        {"Name": "SSO", "Colour": "red"},
        library="function Get-RoleState { throw 'the library ran' }",
    )
    assert outcome is not None
    assert (outcome.message, outcome.category, outcome.error_id, outcome.line) == (
        "A parameter cannot be found that matches parameter name 'Colour'.",
        "InvalidArgument",
        "NamedParameterNotFound",
        0,
    )


def test_a_script_that_does_not_parse_is_reported_with_its_line() -> None:
    outcome, _ = run_operation(TestMachine(), "broken", {}, script="param()\n$x = (1 +\n")
    assert outcome is not None
    assert (outcome.category, outcome.line) == ("ParserError", 3)


def test_a_malformed_envelope_is_refused_with_the_bootstraps_words() -> None:
    host = MachineHost(TestMachine())
    stdin = (
        base64.b64encode(json.dumps({"v": 1, "operation": "x", "script": "", "parameters": {}, "library": 5}).encode())
        + b"\r\n"
    )
    command = SimulatedShell(host).prepare(
        SESSION, runner_wire.POWERSHELL, list(runner_wire.bootstrap_arguments()), stdin
    )
    outcome = runner_wire.read_result(command.execute().stdout)
    assert outcome is not None
    assert outcome.message == (
        "The ENTSSO envelope on stdin is malformed: it must be base64 of a UTF-8 JSON object "
        "with v=1, operation, script and parameters."
    )
    assert (outcome.error_id, outcome.line) == ("InvalidEnvelope", 0)


def test_non_ascii_results_come_back_escaped_on_one_ascii_line() -> None:
    script = "[CmdletBinding()]\nparam([string]$Text)\n[ordered]@{ text = $Text; n = 1 }"
    outcome, stdout = run_operation(TestMachine(), "echo", {"Text": "Ünïcødé ✓ 日本 😀 <&>'\""}, script=script)
    assert stdout.isascii()
    assert outcome is not None and outcome.result == {"text": "Ünïcødé ✓ 日本 😀 <&>'\"", "n": 1}


def test_a_free_form_script_runs_in_the_interpreter_too() -> None:
    host = MachineHost(TestMachine())
    encoded = base64.b64encode("'a'; 1 + 1; Get-Nothing".encode("utf-16-le")).decode()
    outcome = SimulatedShell(host).prepare(SESSION, f"powershell -EncodedCommand {encoded}", [], b"").execute()
    assert outcome.stdout == b"a\r\n2\r\n"
    assert outcome.exit_code == 1
    assert b"is not recognized as the name of a cmdlet" in outcome.stderr


def test_cmdlets_of_the_machine_see_the_errors_of_a_com_object_as_scripts_do() -> None:
    machine = TestMachine()
    sso_interop(machine)

    class Refusing(DotNetObject):
        TYPE_NAME = "System.__ComObject"

        def ps_invoke_member(self, name: str, kind: str, arguments: list[object]) -> object:
            raise DotNetError(
                NetException(
                    "System.Runtime.InteropServices.COMException",
                    "The SSO database is not available.",
                    hresult=-2147217843,
                )
            )

    assemblies = machine.assemblies
    for types in assemblies.values():
        types[0].constructor = Refusing
    outcome, _ = run_operation(
        machine, "secret_server_get", {"SqlServer": "SQL01", "Database": "SSODB", "DelegationMode": "CredSSP"}
    )
    assert outcome is not None and not outcome.ok
    # The COM error's own text and HRESULT reach the script under the reflection and PowerShell wrappers.
    assert outcome.message == "ISSOConfigDB.GetDBInfo failed with 0x80040E4D: The SSO database is not available."


def test_sso_configure_writes_the_answer_file_runs_configuration_exe_and_leaves_nothing_behind() -> None:
    from powershell_support import FakeExecutable

    from simulator.powershell.machine import NativeResult

    machine = TestMachine()
    seen: list[bytes] = []

    def configuration(arguments: list[str], stdin: str | None) -> NativeResult:
        answers = arguments[arguments.index("/s") + 1]
        seen.append(machine.filesystem.read_bytes(answers))
        machine.registry.set_value("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ENTSSO\\SQL", "Server", "SQL01")
        machine.registry.set_value("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ENTSSO\\SQL", "Database", "SSODB")
        return NativeResult(0)

    folder = "C:\\Program Files\\Common Files\\Enterprise Single Sign-On"
    machine.executables[(folder + "\\Configuration.exe").lower()] = FakeExecutable("Configuration.exe", configuration)
    machine.filesystem.make_directory(folder)
    machine.filesystem.write_bytes(folder + "\\Configuration.exe", b"MZ")  # installed: the script checks for it

    class Services(Cmdlet):  # a double of Get-CimInstance Win32_Service: ENTSSO installed
        SIGNATURE = CommandSignature(
            "Get-CimInstance",
            (parameter("ClassName", "string", mandatory=True, position=0), parameter("Filter", "string")),
            None,
            "Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand",
        )

        def process(self) -> None:
            service = DotNetObject()
            service.PROPERTIES = ("State", "StartMode", "StartName")  # type: ignore[misc]
            service.State, service.StartMode, service.StartName = "Stopped", "Auto", "CORP\\svc-sso"  # type: ignore[attr-defined]
            self.write_object(service)

    machine.definitions = [CommandDefinition(Services.SIGNATURE, Services)]
    password = "p<&>'\"w"
    outcome, _ = run_operation(
        machine,
        "sso_configure",
        {
            "Mode": "Create",
            "SqlServer": "SQL01",
            "Database": "SSODB",
            "ServiceAccount": "CORP\\svc-sso",
            "ServiceAccountPassword": password,
            "AdminGroup": "CORP\\SSO Admins",
            "AffiliateAdminGroup": "CORP\\SSO Affiliates",
            "BackupFile": "C:\\ProgramData\\ENTSSO\\b.bak",
            "BackupPassword": "b",
            "BackupReminder": "r",
            "DelegationMode": "CredSSP",
        },
    )
    assert outcome is not None and outcome.ok, outcome
    assert outcome.result["configured"] is True and outcome.result["actions"] == [
        "New-Item C:\\ProgramData\\ENTSSO",  # the wizard's backup folder, made private first (F-SSO-29, F-FS-01)
        "Set-Acl C:\\ProgramData\\ENTSSO (SYSTEM, Administrators, CORP\\SSO Admins)",
        "Configuration.exe /s (Create)",
    ]
    answer = seen[0]
    assert answer.startswith(b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>\r\n<Configuration>\r\n  <Feature')
    assert b"<Password>p&lt;&amp;&gt;'\"w</Password>" in answer  # every character escaped by the XmlWriter
    assert not [p for p in machine.filesystem.files() if "EntssoConfig-" in p]  # the answer file is gone
