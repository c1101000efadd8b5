"""The scripts in providers/scripts and the simulator's operation registry describe the same operations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell

from simulator.shell import script_parameters
from simulator.world import registry

SCRIPTS = Path(__file__).resolve().parent.parent / "providers" / "scripts"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
SCRIPT_NAMES = sorted(p.stem for p in SCRIPTS.glob("*.ps1"))
# `ops probe-node`'s probes run only where the nodes run the real scripts: no per-operation twin answers them.
TWINNED_NAMES = [name for name in SCRIPT_NAMES if name != "probe_node"]
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
# The helpers several scripts use: one copy each, in the script library the envelope carries.
LIBRARY = Path(__file__).resolve().parent.parent / "providers" / "library.ps1"
SHARED_FUNCTIONS = (
    "Invoke-Delegated", "Get-RoleState", "Get-SsoState", "Get-SecretState", "Get-DtcState", "Get-Quorum",
    "Get-SecretServer", "Get-SsoStartEvent", "Invoke-SsoComMember", "Set-PrivateDirectory",
)


def script_text(name: str) -> str:
    return (SCRIPTS / f"{name}.ps1").read_text(encoding="utf-8")


def secret_parameters(text: str) -> set[str]:
    """Parameters marked as carrying a secret: the PSAvoidUsingPlainTextForPassword suppression attribute."""
    root = PARSER.parse(text.encode("utf-8")).root_node
    block = next(child for child in root.children if child.type == "param_block")
    found = set()
    for parameter_list in (c for c in block.children if c.type == "parameter_list"):
        for parameter in (c for c in parameter_list.children if c.type == "script_parameter"):
            source = (parameter.text or b"").decode("utf-8")
            if "PSAvoidUsingPlainTextForPassword" in source:
                variable = next(c for c in parameter.children if c.type == "variable")
                found.add((variable.text or b"").decode("utf-8").lstrip("$"))
    return found


def test_every_script_has_a_handler_and_every_handler_a_script() -> None:
    assert SCRIPT_NAMES, "no scripts found"
    assert sorted(registry()) == TWINNED_NAMES


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_script_parses_and_follows_the_house_rules(name: str) -> None:
    text = script_text(name)
    assert not PARSER.parse(text.encode("utf-8")).root_node.has_error
    assert "$ErrorActionPreference = 'Stop'" in text
    assert "Set-StrictMode -Version Latest" in text
    if name != "probe_node":  # whose P-19 examines ConvertTo-Json itself
        assert "ConvertTo-Json" not in text, "the bootstrap turns the result into JSON"
    assert not re.search(r"\$env:(?!COMPUTERNAME|CommonProgramW6432|SystemRoot|ProgramData)\w+", text), (
        "scripts read their input from parameters only"
    )
    assert "Invoke-Expression" not in text
    assert "-CheckpointKey" not in text
    assert "Add-ClusterCheckpoint" not in text


@pytest.mark.parametrize("name", TWINNED_NAMES)
def test_param_block_equals_the_registry_declaration(name: str) -> None:
    text = script_text(name)
    declared = registry()[name].params
    parsed = script_parameters(text)
    assert [p.name for p in parsed] == [p.name for p in declared]
    for script_param, handler_param in zip(parsed, declared, strict=True):
        assert script_param.type_name == handler_param.type, script_param.name
        assert script_param.mandatory == handler_param.mandatory, script_param.name
        if script_param.has_default:
            assert script_param.default == handler_param.default, script_param.name
        else:
            assert handler_param.default is None, script_param.name
    assert secret_parameters(text) == {p.name for p in declared if p.secret}


def test_shared_functions_exist_once_in_the_library_and_nowhere_else() -> None:
    library = LIBRARY.read_text(encoding="utf-8")
    for function in SHARED_FUNCTIONS:
        definition = re.compile(rf"^function {re.escape(function)} \{{$", re.M)
        assert len(definition.findall(library)) == 1, function
        copies = [name for name in SCRIPT_NAMES if definition.search(script_text(name))]
        assert copies == [], f"{function} is copied into {copies}"
        assert any(re.search(rf"\b{re.escape(function)}\b", script_text(name)) for name in SCRIPT_NAMES), function


def test_delegating_scripts_take_the_delegation_parameters() -> None:
    for name, found in registry().items():
        names = {p.name for p in found.params}
        # Delegated directly, or through the library's Get-SecretServer (GetDBInfo's own SQL connection).
        uses_helper = "Invoke-Delegated -Work" in script_text(name) or "Get-SecretServer" in script_text(name)
        assert uses_helper == ({"DelegationMode", "TaskUser", "TaskPassword"} <= names), name


def test_updatedb_file_carries_only_the_secret_server_element() -> None:
    text = script_text("secret_server_set")
    written = re.findall(r"WriteElementString\('(\w+)'", text)
    assert written == ["secretServer"]
    assert "ssoAdminAccount" not in text


def test_generic_service_script_sets_what_esso_md_requires() -> None:
    text = script_text("generic_service_set")
    assert "UseNetworkName = 1" in text
    assert "Add-ClusterResourceDependency -Resource $ResourceName -Provider $networkName.Name" in text
    assert "Set-ClusterOwnerNode -Resource $ResourceName" in text  # possible owners on the resource
    assert "Grant-ClusterAccess -User $ServiceAccount -Full" in text
    role = script_text("role_set")
    assert "Set-ClusterOwnerNode -Group $Name" in role  # preferred owners on the group
    assert "ProbePort = $ProbePort; EnableDhcp = 0; OverrideAddressMatch = 1" in role


def test_backup_and_restore_use_the_com_api_not_ssoconfig() -> None:
    library = LIBRARY.read_text(encoding="utf-8")
    assert "$type.InvokeMember($Member, $flags, $null, $config, $Arguments)" in library  # Invoke-SsoComMember
    for name, member in (("secret_backup", "BackupSecret"), ("secret_restore", "RestoreSecret")):
        text = script_text(name)
        assert f"Invoke-SsoComMember -Interface 'ISSOConfigSS' -Member '{member}'" in text
        assert "ssoconfig.exe" not in text.lower()
        assert not re.search(r"^[^#\n]*\bssoconfig\s+-", text, re.I | re.M), "interactive ssoconfig prompts"


def test_docs_list_every_operation_with_its_parameters() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for name, found in registry().items():
        heading = re.search(rf"^### `{name}`\n(.*?)(?=^### |\Z)", docs, re.S | re.M)
        assert heading, f"docs/operations.md has no section for {name}"
        for param in found.params:
            assert f"`{param.name}`" in heading.group(1), f"{name}: {param.name} undocumented"
            if param.secret:
                assert re.search(rf"`{param.name}`[^\n]*SECRET", heading.group(1)), (
                    f"{name}.{param.name} secret"
                )


def test_an_operation_runs_through_the_simulated_shell_and_bootstrap() -> None:
    import base64
    import json

    from simulator.shell import RESULT_MARKER, SimulatedShell
    from simulator.world import WorldHost, seed_world
    from simulator.wsman.backend import Session

    world = seed_world(
        domain_fqdn="corp.example.com",
        domain_netbios="CORP",
        users={"CORP\\svc-install": "pw-1"},
        groups={},
        install_account="CORP\\svc-install",
        sql_server="SQL01",
        nodes={"MSSNODE1": "10.10.1.4"},
    )
    shell = SimulatedShell(WorldHost(world))
    bootstrap = (SCRIPTS.parent / "bootstrap.ps1").read_text(encoding="utf-8")
    envelope = {
        "v": 1,
        "operation": "sso_install",
        "script": script_text("sso_install"),
        "parameters": {"InstallerPath": "C:\\Install\\BizTalk\\Setup.exe"},
    }
    command = shell.prepare(
        Session("MSSNODE1", "CORP\\svc-install", "ntlm", True, False),
        "powershell.exe",
        [
            "-NoProfile",
            "-NonInteractive",
            "-ExecutionPolicy",
            "Bypass",
            "-EncodedCommand",
            base64.b64encode(bootstrap.encode("utf-16-le")).decode("ascii"),
        ],
        base64.b64encode(json.dumps(envelope).encode("utf-8")) + b"\r\n",
    )
    outcome = command.execute()
    line = next(x for x in outcome.stdout.decode("utf-8").splitlines() if x.startswith(RESULT_MARKER))
    result = json.loads(line[len(RESULT_MARKER) :])
    assert outcome.exit_code == 0
    assert result["ok"] is True
    # The script's default Features reached the handler through the shell's binding.
    assert result["result"]["actions"] == [
        "Setup.exe /quiet /ADDLOCAL WMI,BizTalk,AdditionalApps,SSOServer,SSOAdmin"
    ]
    assert world.nodes["MSSNODE1"].products == sorted(
        ["WMI", "BizTalk", "AdditionalApps", "SSOServer", "SSOAdmin"]
    )
