"""The node machine: a simulated node's disk, registry, identity and DPAPI as a script sees them."""

from __future__ import annotations

import pytest

from simulator.world.machine import run_script
from simulator.world.model import World
from simulator.wsman.backend import Session
from tests.test_world import INSTALL, N1, N2, OUTSIDER, new_world


def as_install(node: str = N1, delegated: bool = False) -> Session:
    return Session(node=node, user=INSTALL, auth="ntlm", encrypted=True, delegated=delegated)


def test_a_script_sees_the_nodes_disk_and_name() -> None:
    world = new_world()
    result = run_script(
        world,
        N1,
        "$env:COMPUTERNAME; Test-Path 'C:\\Install\\BizTalk\\Setup.exe'; Test-Path 'C:\\Nope'",
        as_install(),
    )
    assert result.terminating is None, result.terminating
    assert result.output == [N1, True, False]


def test_files_written_by_a_script_persist_on_that_node_only() -> None:
    world: World = new_world()
    script = (
        "New-Item -ItemType Directory -Path C:\\Data | Out-Null; Set-Content -LiteralPath C:\\Data\\a.txt -Value 'hi'"
    )
    assert run_script(world, N1, script, as_install()).terminating is None
    assert run_script(world, N1, "Get-Content -LiteralPath C:\\Data\\a.txt", as_install()).output == ["hi"]
    other = run_script(world, N2, "Test-Path C:\\Data\\a.txt", as_install(N2))
    assert other.output == [False]


def test_registry_reads_go_to_the_nodes_registry() -> None:
    world = new_world()
    node = world.node(N1)
    assert node is not None
    node.registry["HKLM\\SOFTWARE\\CONTOSO"] = {"Answer": "42"}
    result = run_script(world, N1, "(Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Contoso').Answer", as_install())
    assert result.output == ["42"]


def test_a_registry_string_beyond_u_ffff_reaches_a_script_as_utf16_and_the_result_line_keeps_it() -> None:
    # A .NET string is UTF-16 code units: U+10002 is the pair D800 DC02, so the bootstrap's \uXXXX escaping of the
    # result line gives \ud800\udc02 (JSON's spelling of that character), not "\u10002" (U+1000 then "2"). Found by
    # tests/test_property_bad_input.py: SQL Server "SQL \U00010002" came back as "SQL \u10002".
    world = new_world()
    node = world.node(N1)
    assert node is not None
    node.registry["HKLM\\SOFTWARE\\CONTOSO"] = {"Server": "SQL \U00010002"}
    text = (
        "$s = (Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Contoso').Server\n$s.Length\n"
        "[regex]::Replace($s, '[^\\x20-\\x7e]', {param($m) '\\u{0:x4}' -f [int][char]$m.Value})"
    )
    result = run_script(world, N1, text, as_install())
    assert result.terminating is None, result.terminating.message
    assert result.output == [6, "SQL \\ud800\\udc02"]


def test_a_directory_name_ending_in_a_unicode_space_keeps_it() -> None:
    # Windows drops only a trailing U+0020 or period from a name (F-FS-12); an ideographic space (U+3000) is part of
    # it. Found by tests/test_property_bad_input.py: sso_configure made "D:\\Backups X\u3000" as "D:\\Backups X",
    # and Configuration.exe, given the real path, answered 0xC0002A20 for the backup file in it.
    world = new_world()
    text = (
        "$d = 'C:\\ProgramData\\Backups X' + [char]0x3000\n"
        "New-Item -ItemType Directory -Path $d | Out-Null\n"
        "Test-Path -LiteralPath $d -PathType Container\n"
        "Test-Path -LiteralPath 'C:\\ProgramData\\Backups X'"
    )
    result = run_script(world, N1, text, as_install())
    assert result.terminating is None, result.terminating.message
    assert result.output == [True, False]


def test_dpapi_local_machine_blobs_open_on_their_own_node_only() -> None:
    world = new_world()
    seal = (
        "Add-Type -AssemblyName System.Security; $s = [Security.Cryptography.DataProtectionScope]::LocalMachine; "
        "[Convert]::ToBase64String([Security.Cryptography.ProtectedData]::Protect([byte[]](1,2,3), $null, $s))"
    )
    blob = run_script(world, N1, seal, as_install()).output[0]
    unseal = (
        "Add-Type -AssemblyName System.Security; $s = [Security.Cryptography.DataProtectionScope]::LocalMachine; "
        f"[Security.Cryptography.ProtectedData]::Unprotect([Convert]::FromBase64String('{blob}'), $null, $s) -join ','"
    )
    assert run_script(world, N1, unseal, as_install()).output == ["1,2,3"]
    elsewhere = run_script(world, N2, unseal, as_install(N2))
    assert elsewhere.output == []
    assert "Key not valid for use in specified state." in elsewhere.errors[0].message


def test_identity_follows_the_session() -> None:
    world = new_world()
    admin = run_script(world, N1, "[Security.Principal.WindowsIdentity]::GetCurrent().Name", as_install())
    assert admin.output == [INSTALL]
    outsider = Session(node=N1, user=OUTSIDER, auth="ntlm", encrypted=True, delegated=False)
    assert run_script(world, N1, "$env:USERNAME", outsider).output == ["jdoe"]


def test_an_operation_runs_through_the_real_bootstrap_and_library() -> None:
    from tests.world_support import ScriptFailed, invoke, session

    world = new_world()
    result = invoke(world, session(N1, INSTALL), "file_get", Path="C:\\Install\\BizTalk\\Setup.exe")
    assert result["exists"] is True
    with pytest.raises(ScriptFailed) as failed:
        invoke(world, session(N1, INSTALL), "file_get")
    assert "Path" in failed.value.message and failed.value.line == 0
