"""Settings refuse what Windows would refuse in names, paths and passwords (issue 12 item 4).

Each rule is a fact of docs/windows-facts.md: file and directory names (F-FS-12, Microsoft Learn "Naming Files,
Paths, and Namespaces"), MAX_PATH (F-FS-13), cluster resource names (F-CLU-31, MS-CMRP), computer names (F-CLU-32,
KB 909264), ENTSSO's XML answer file (F-SSO-36); control characters are refused in every name, path, reminder and
password. Each problem is one line naming the key path; `python -m ops validate` exits 2 with it, and the program
(`pulumi preview`, through settings.from_pulumi_config) raises the same line. A password is never echoed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

import ops.cli
import settings
from settings import windows_names
from tests.test_settings import PREFIX, ROOT, problems, sim, stack_config

Mutate = Callable[[dict[str, Any]], None]


def lines_for(mutate: Mutate, stack: str = "sim") -> list[str]:
    config = sim() if stack == "sim" else stack_config(stack)[0]
    mutate(config)
    return problems(config, stack=stack, encrypted=[] if stack == "sim" else stack_config(stack)[1])


def line_for(key: str, mutate: Mutate, stack: str = "sim") -> str:
    found = [line for line in lines_for(mutate, stack) if line.startswith(f"{PREFIX}{key}:")]
    assert len(found) == 1, found
    return found[0]


def installer(path: str) -> Mutate:
    return lambda c: c["sso"].update(installer=path)


def backup_directory(path: str) -> Mutate:
    return lambda c: c["sso"].update(backupDirectory=path)


# --------------------------------------------------------------------- F-FS-12: file and directory names


@pytest.mark.parametrize("character", list('<>:"/|?*'))
def test_a_reserved_character_in_a_file_or_directory_name_is_refused(character: str) -> None:
    line = line_for("sso.installer", installer(f"C:\\Install\\Biz{character}Talk\\Setup.exe"))
    assert line == (
        f"{PREFIX}sso.installer: 'Biz{character}Talk' contains {character}, which Windows refuses in a file or "
        "directory name"
    )
    assert line_for("sso.backupDirectory", backup_directory(f"C:\\Back{character}ups")).endswith(
        "which Windows refuses in a file or directory name"
    )


@pytest.mark.parametrize("code", [0, 1, 9, 10, 13, 27, 31, 127, 0x85])
def test_control_characters_in_a_path_are_refused_by_code_point(code: int) -> None:
    line = line_for("sso.installer", installer(f"C:\\Install\\Set{chr(code)}up.exe"))
    assert line.startswith(f"{PREFIX}sso.installer: contains the control character(s) U+{code:04X},")
    assert chr(code) not in line  # SettingsError keeps each problem on its line


@pytest.mark.parametrize(
    "name", ["CON", "PRN", "AUX", "NUL", "COM1", "COM9", "LPT1", "LPT9", "con", "Nul.txt", "lpt3.log.bak"]
)
def test_a_device_name_is_refused_with_or_without_an_extension(name: str) -> None:
    stem = name.split(".")[0].upper()
    assert line_for("sso.installer", installer(f"C:\\{name}\\Setup.exe")) == (
        f"{PREFIX}sso.installer: '{name}' is the device name {stem}, which Windows reserves (also with an extension)"
    )


@pytest.mark.parametrize("name", ["COM0", "COM10", "CONSOLE", "AUXILIARY", "NULL", "LPT"])
def test_names_that_only_resemble_a_device_name_are_taken(name: str) -> None:
    assert windows_names.name_problem(name) is None


@pytest.mark.parametrize("path", ["C:\\Install.\\Setup.exe", "C:\\Install \\Setup.exe", "C:\\Install\\Setup.exe."])
def test_a_name_ending_in_a_space_or_a_period_is_refused(path: str) -> None:
    assert line_for("sso.installer", installer(path)).endswith(
        "ends with a space or a period, which Windows drops from a file or directory name"
    )


@pytest.mark.parametrize(
    "path", ["Setup.exe", "Install\\Setup.exe", "\\\\server\\share\\Setup.exe", "C:Setup.exe", "/mnt/setup.exe"]
)
def test_the_installer_is_a_full_path_on_the_node_s_own_disk(path: str) -> None:
    assert "is not a full path on the node's own disk; write it as e.g. C:\\Install\\BizTalk\\Setup.exe" in line_for(
        "sso.installer", installer(path)
    )


def test_a_drive_root_or_an_empty_name_is_refused_and_a_trailing_backslash_is_taken() -> None:
    assert line_for("sso.backupDirectory", backup_directory("C:\\")).endswith(
        "names the drive itself; name a folder on it"
    )
    assert "an empty name between two backslashes" in line_for(
        "sso.backupDirectory", backup_directory("C:\\ProgramData\\\\Entsso")
    )
    config = sim()
    config["sso"]["backupDirectory"] = "D:\\Backups\\EntssoCluster\\"
    assert settings.validate_stack(config, stack="sim").sso.backup_directory == "D:\\Backups\\EntssoCluster\\"


def test_hostile_but_legal_names_are_taken_as_data() -> None:
    config = sim()
    config["sso"].update(
        installer="C:\\Install\\Biz Talk (2020) $(x) 'a' `b` & ü 日本\\Setup #1.exe",
        backupDirectory="C:\\ProgramData\\.entsso;%PATH%",
    )
    loaded = settings.validate_stack(config, stack="sim")
    assert loaded.sso.installer.endswith("Setup #1.exe")


# ------------------------------------------------------------------------------------ F-FS-13: MAX_PATH


def test_paths_are_held_to_max_path() -> None:
    def long_path(length: int, suffix: str = "") -> str:
        stem = "C:\\"
        body = "\\".join(["d" * 50] * 10)
        return (stem + body)[: length - len(suffix)] + suffix

    file_259, file_260 = long_path(259, "\\Setup.exe"), long_path(260, "\\Setup.exe")
    assert len(file_259) == 259 and len(file_260) == 260
    config = sim()
    config["sso"]["installer"] = file_259
    settings.validate_stack(config, stack="sim")
    assert line_for("sso.installer", installer(file_260)) == (
        f"{PREFIX}sso.installer: is 260 characters; Windows takes 259 in a file path (MAX_PATH 260 with the "
        "terminating NUL)"
    )
    directory_247, directory_248 = long_path(247), long_path(248)
    config["sso"]["backupDirectory"] = directory_247
    settings.validate_stack(config, stack="sim")
    assert line_for("sso.backupDirectory", backup_directory(directory_248)).endswith(
        "is 248 characters; Windows takes 247 in a directory path (MAX_PATH 260, less 12 for a file name in it and "
        "the NUL)"
    )


def test_the_media_staging_directory_follows_the_same_rules() -> None:
    lab_config, encrypted = stack_config("lab")
    lab_config["sso"]["media"]["stagingDirectory"] = "C:\\Install\\AUX"
    lab_config["sso"]["installer"] = "C:\\Install\\AUX\\Setup.exe"
    lines = problems(lab_config, stack="lab", encrypted=encrypted)
    assert (
        f"{PREFIX}sso.media.stagingDirectory: 'AUX' is the device name AUX, which Windows reserves (also with an "
        "extension)" in lines
    )
    assert (
        f"{PREFIX}sso.installer: 'AUX' is the device name AUX, which Windows reserves (also with an extension)" in lines
    )


# --------------------------------------------------------------------- F-CLU-31: cluster resource names


@pytest.mark.parametrize(
    ("disk", "what"),
    [
        ("ENTSSO", "the ENTSSO Generic Service resource"),
        ("entsso", "the ENTSSO Generic Service resource"),
        ("MSSCLUSTER", "the ENTSSO role's network name resource"),
        ("MSSDTC", "the DTC role's network name resource"),
        ("MSDTC-MSSDTC", "the DTC resource"),
        ("Cluster Name", "the cluster's core name resource"),
        ("Cloud Witness", "the cloud witness resource"),
        ("IP Address 10.10.1.50", "the ENTSSO role's IP address resource"),
        ("ip address 10.10.1.51", "the DTC role's IP address resource"),
    ],
)
def test_the_dtc_disk_resource_needs_a_name_no_other_resource_has(disk: str, what: str) -> None:
    line = line_for("dtc.disk", lambda c: c["dtc"].update(disk=disk))
    assert line == (
        f"{PREFIX}dtc.disk: '{disk}' is already the name of {what}; the cluster refuses a second resource of one "
        "name; give the disk resource a name of its own, e.g. Cluster Disk 1"
    )


def test_a_blank_disk_name_is_refused_and_a_disabled_dtc_s_disk_is_not_judged() -> None:
    assert line_for("dtc.disk", lambda c: c["dtc"].update(disk="   ")) == (
        f"{PREFIX}dtc.disk: is empty; a cluster resource needs a name"
    )
    config = sim()
    config["dtc"] = {"enabled": False, "disk": "ENTSSO"}
    assert settings.validate_stack(config, stack="sim").dtc.disk == "ENTSSO"


# ------------------------------------------------------------------------ F-CLU-32: computer names


@pytest.mark.parametrize(
    ("key", "mutate", "name"),
    [
        ("nodes[0].name", lambda c, n: c["nodes"][0].update(name=n), "SERVER"),
        ("nodes[1].name", lambda c, n: c["nodes"][1].update(name=n), "gateway"),
        ("cluster.name", lambda c, n: c["cluster"].update(name=n), "DOMAIN"),
        ("sso.networkName", lambda c, n: c["sso"].update(networkName=n), "Network"),
        ("dtc.networkName", lambda c, n: c["dtc"].update(networkName=n), "SYSTEM"),
    ],
)
def test_a_reserved_word_is_no_computer_or_network_name(key: str, mutate: Any, name: str) -> None:
    assert line_for(key, lambda c: mutate(c, name)) == (
        f"{PREFIX}{key}: '{name}' is a reserved word, which Windows refuses as a computer name"
    )


@pytest.mark.parametrize("name", ["DC", "ba", "SY", "WD"])
def test_a_two_letter_sddl_sid_string_is_no_computer_name(name: str) -> None:
    assert line_for("cluster.name", lambda c: c["cluster"].update(name=name)) == (
        f"{PREFIX}cluster.name: '{name}' is a two-letter SDDL SID string ({name.upper()}), which Windows refuses as a "
        "computer name"
    )


def test_a_computer_name_has_two_characters_at_least() -> None:
    assert line_for("nodes[0].name", lambda c: c["nodes"][0].update(name="N")) == (
        f"{PREFIX}nodes[0].name: 'N' is one character; a DNS host name needs at least two"
    )
    config = sim()
    config["nodes"][0]["name"] = "N1"
    assert settings.validate_stack(config, stack="sim").nodes[0].name == "N1"


# ------------------------------------------------------------------------ control characters everywhere


@pytest.mark.parametrize(
    ("key", "mutate"),
    [
        ("sql.server", lambda c: c["sql"].update(server="SQL01\r\nSQL02")),
        ("sso.backupReminder", lambda c: c["sso"].update(backupReminder="see vault\x1b[31m")),
        ("dtc.disk", lambda c: c["dtc"].update(disk="Cluster Disk\t1")),
        ("simulator.stateDirectory", lambda c: c["simulator"].update(stateDirectory=".entsso/\x07sim")),
        ("domain.installAccount", lambda c: c["domain"].update(installAccount="CORP\\svc-\x85install")),
    ],
)
def test_a_control_character_in_any_name_is_one_line_naming_its_key(key: str, mutate: Mutate) -> None:
    line = line_for(key, mutate)
    assert "control character" in line or "DOMAIN\\name" in line, line
    assert "\n" not in line and "\x1b" not in line and "\x07" not in line


@pytest.mark.parametrize("key", ["installPassword", "serviceAccountPassword", "backupPassword"])
@pytest.mark.parametrize("control", ["\n", "\t", "\x00", "\x7f", "\x9b"])
def test_a_control_character_in_a_password_is_refused_without_echoing_it(key: str, control: str) -> None:
    password = f"Str0ng-Pass{control}word!"
    line = line_for(key, lambda c: c.update({key: password}))
    assert line == (
        f"{PREFIX}{key}: contains a control character (U+0000-U+001F or U+007F-U+009F), which no Windows logon, SSO "
        "prompt or configuration file carries intact; choose one without"
    )
    assert "Str0ng" not in line and "word!" not in line


def test_azure_passwords_are_held_to_it_too_and_encrypted_ones_wait_for_their_plaintext() -> None:
    config, encrypted = stack_config("lab")
    assert settings.validate_stack(config, stack="lab", encrypted=encrypted)  # "(encrypted)": not judged
    config["vmAdminPassword"] = "Azure-Adm1n\r\n"
    lines = problems(config, stack="lab", encrypted=[k for k in encrypted if k != "vmAdminPassword"])
    assert [line.split(":")[1] for line in lines] == ["vmAdminPassword"]
    assert "Azure-Adm1n" not in "\n".join(lines)


# --------------------------------------------------------------- one line, exit code 2, and the program


def write_stack(directory: Path, mutate: Mutate) -> None:
    document = yaml.safe_load((ROOT / "Pulumi.sim.yaml").read_text(encoding="utf-8"))
    config = {key.removeprefix(PREFIX): value for key, value in document["config"].items()}
    mutate(config)
    document["config"] = {PREFIX + key: value for key, value in config.items()}
    (directory / "Pulumi.broken.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def bad_paths(config: dict[str, Any]) -> None:
    config["sso"].update(installer="C:\\Install\\LPT1\\Setup.exe", backupDirectory="C:\\Back|ups.")
    config["dtc"].update(disk="ENTSSO")


EXPECTED = [
    f"{PREFIX}sso.installer: 'LPT1' is the device name LPT1, which Windows reserves (also with an extension)",
    f"{PREFIX}sso.backupDirectory: 'Back|ups.' contains |, which Windows refuses in a file or directory name",
]


def test_ops_validate_prints_each_problem_on_one_line_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_stack(tmp_path, bad_paths)
    monkeypatch.setattr(ops.cli, "PROJECT_DIR", tmp_path)
    assert ops.cli.main(["validate", "--stack", "broken"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == EXPECTED  # the disk's clash is a cross-section rule: after the fields


class NoResources(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        raise AssertionError("settings are read before any resource")

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise AssertionError("settings are read before any call")


@pytest.fixture
def program_config() -> Iterator[Callable[[dict[str, Any]], None]]:
    """The stack's config as the Pulumi engine hands it to the program (set_mocks is process-wide: per test)."""
    pulumi.runtime.set_mocks(NoResources(), project=settings.PROJECT, stack="broken", preview=True)

    def put(config: dict[str, Any]) -> None:
        pulumi.runtime.set_all_config(
            {f"{settings.PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
            [f"{settings.PROJECT}:{k}" for k in settings.SECRET_KEYS if k in config],
        )

    yield put
    pulumi.runtime.set_all_config({}, [])


def test_the_program_raises_the_same_lines_as_validate(program_config: Callable[[dict[str, Any]], None]) -> None:
    config = sim()
    bad_paths(config)
    program_config(config)
    with pytest.raises(settings.SettingsError) as refused:
        settings.from_pulumi_config()  # what __main__.py does under `pulumi preview`
    assert refused.value.lines == EXPECTED
    config = sim()
    config["dtc"].update(disk="MSSDTC")
    program_config(config)
    with pytest.raises(settings.SettingsError) as clash:
        settings.from_pulumi_config()
    assert clash.value.lines == [
        f"{PREFIX}dtc.disk: 'MSSDTC' is already the name of the DTC role's network name resource; the cluster refuses "
        "a second resource of one name; give the disk resource a name of its own, e.g. Cluster Disk 1"
    ]
