"""Property tests of bad and hostile stack input.

1. Generated bad stack files (wrong types, missing keys, out-of-range values, hostile strings,
   unknown keys, YAML-special scalars, broken YAML) are refused: `settings.load_stack_file` raises
   `SettingsError` whose every line starts with the config key path (`entsso-cluster:...`; the
   stack file's path for a file that is not YAML at all), the mutated key among them; nothing else
   is raised; no secret value appears. `python -m ops validate` prints exactly those lines and
   exits 2, with no traceback.
2. Hostile strings in the fields where settings accept free text (passwords, account and group
   names, backup reminder, installer path, SQL Server name, backup directory, DTC disk) reach the
   simulated node unchanged through the providers' own path (stack config -> ProviderSettings ->
   WinRM runner -> script parameters), and every command line the nodes receive is the fixed
   bootstrap, the same for every example.
3. Any text, any nesting, sent through the runner to the stand-in echo operation comes back and
   arrives unchanged, under the same fixed command line.

Examples are derandomized (the same on every run); `ENTSSO_HYPOTHESIS_EXAMPLES=N` raises every
test's number of examples to at least N. Each test prints how many examples ran.
"""

from __future__ import annotations

import base64
import itertools
import os
import shutil
import subprocess
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from providers_support import configured, targets

import settings as stack_settings
from ops import simstack
from providers import runner_wire
from providers.base import EntssoProvider
from providers.runner import NodeConnection, RunnerConfig, WinRmRunner
from providers.sso_server import SsoServerProvider
from simulator.shell import SimulatedShell, StandInHost
from simulator.world import mastersecret
from simulator.world.model import SQL_KEY, key
from simulator.world.windows import sso_config
from simulator.wsman import WsManServer

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "entsso-cluster:"
MORE = int(os.environ.get("ENTSSO_HYPOTHESIS_EXAMPLES", "0"))
ECHO = (Path(__file__).parent / "data" / "standin" / "echo.ps1").read_text(encoding="utf-8")
BOOTSTRAP = runner_wire.bootstrap_command_line()
MISSING = object()


def examples(default: int) -> settings:
    return settings(
        max_examples=max(default, MORE),
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def sim_config() -> dict[str, Any]:
    """Pulumi.sim.yaml's project config, keys without the namespace."""
    document = yaml.safe_load((ROOT / "Pulumi.sim.yaml").read_text(encoding="utf-8"))
    return {key.removeprefix(PREFIX): value for key, value in document["config"].items()}


# --- hostile text ----------------------------------------------------------------------------------

# Pieces that break quoting, substitution, command separation, lines, terminals and encodings.
HOSTILE_PIECES = [
    "'",
    '"',
    "`",
    "$(",
    ")",
    "$(Remove-Item C:\\ -Recurse)",
    "`$(whoami)`",
    "; shutdown /s",
    "& calc",
    "| Out-File x",
    "> nul",
    "%PATH%",
    "${env:USERNAME}",
    "@'",
    "'@",
    "#",
    "\n",
    "\r\n",
    "\t",
    "\x07",
    "\x1b[31m",
    "\u202e",
    "\u00a0",
    "ü",
    "日本",
    "😀",
    "\\",
    "{0}",
    "%s",
]
# Scalars YAML reads as something other than the text (when unquoted) or that look like syntax.
YAML_SPECIAL = [
    "yes",
    "no",
    "on",
    "off",
    "true",
    "null",
    "~",
    "0x1F",
    "1e3",
    ".inf",
    ".nan",
    "0o17",
    "2001-12-14",
    "!!python/object/apply:os.system ['echo pwned']",
    "&anchor x",
    "*alias",
    "- item",
    "? key",
    "key: value",
    "{a: 1}",
    "[1, 2]",
    "%YAML 1.1",
    "---",
    "...",
    "<<",
    "|",
    ">",
    "@",
    "'unbalanced",
    '"unbalanced',
]
NUL_FREE = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
# The pieces Windows takes in a password or a name: no control character (settings/windows_names.py).
PRINTABLE_PIECES = [p for p in HOSTILE_PIECES if not any(unicodedata.category(ch) == "Cc" for ch in p)]
hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE_PIECES + YAML_SPECIAL), st.text(NUL_FREE, min_size=1, max_size=6)),
    min_size=1,
    max_size=6,
).map("".join)
# Characters Windows refuses in a computer name; one of them makes any name bad.
NAME_BREAKERS = ["'", '"', "`", "$(", ";", "\n", "\x07", "ü", "日本", "😀", " ", "_", ".", "&", "|", "\\", "@"]
bad_host_name = st.one_of(
    st.tuples(st.text(NUL_FREE, max_size=5), st.sampled_from(NAME_BREAKERS), st.text(NUL_FREE, max_size=5)).map(
        "".join
    ),
    st.integers(16, 300).map(lambda n: "N" * n),
    st.integers(1, 99999).map(str),
    st.just(""),
)
wrong_for_text = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(st.integers(), max_size=2), st.just({"a": 1})
)
long_text = st.integers(256, 5000).map(lambda n: ("$(x)'\"" * n)[:n])


def out_of(low: int, high: int) -> st.SearchStrategy[Any]:
    """Values an int field bounded by [low, high] must refuse."""
    return st.one_of(
        st.integers(max_value=low - 1),
        st.integers(min_value=high + 1),
        hostile_text.filter(lambda t: not t.strip().lstrip("+-").isdigit()),
        st.floats(min_value=low, max_value=high).filter(lambda f: not f.is_integer()),
        st.lists(st.integers(), max_size=2),
        st.just({"value": low}),
    )


def not_one_of(*allowed: str) -> st.SearchStrategy[Any]:
    return st.one_of(hostile_text.filter(lambda t: t not in allowed), st.integers(), st.lists(st.just(allowed[0])))


bad_ip = st.one_of(
    hostile_text,
    st.ip_addresses(v=4).filter(lambda ip: not str(ip).startswith("10.10.1.")).map(str),
    st.sampled_from(["10.10.1.300", "10.10.1", "::1", "10.10.1.11/24", ""]),
    st.integers(min_value=256),
)
bad_cidr = st.one_of(
    hostile_text, st.sampled_from(["10.10.1.0/33", "10.10.1.5/24", "*", "0.0.0.0/0", "any", "::/0", ""]), st.integers()
)
account_breakers = st.sampled_from(["", "CORP", "CORP\\", "OTHER\\svc", "CORP\\a;b", 'CORP\\a"b', "CORP\\a|b", "x@y"])
bad_account = st.one_of(account_breakers, hostile_text.filter(lambda t: "\\" not in t), wrong_for_text)

# Backup passwords the complexity rule refuses: too short, too few character classes, too long.
weak_backup_password = st.one_of(
    st.text(NUL_FREE, max_size=4).map(lambda t: "Wk!" + t),
    st.integers(8, 40).map(lambda n: "wkpass" + "q" * n),
    st.integers(125, 400).map(lambda n: "Wk1!" + "x" * n),
)
SECRET_SHAPES = {"int", "list", "dict"}  # a secret given as the wrong type, holding the secret
# What Windows refuses in names, paths and passwords (settings/windows_names.py): a control character anywhere;
# in a path, a reserved character or device name, a trailing space or period, a relative or UNC path.
CONTROLS = st.sampled_from(["\n", "\r\n", "\t", "\x07", "\x1b[31m", "\x00", "\x7f", "\x85"])
controlled_text = st.tuples(st.text(NUL_FREE, max_size=4), CONTROLS, st.text(NUL_FREE, max_size=4)).map("".join)
controlled_path = st.tuples(st.just("C:\\Media\\Set"), CONTROLS, st.just("up.exe")).map("".join)
controlled_password = st.tuples(st.just("Ctl-Pw-1a"), CONTROLS, st.text(NUL_FREE, max_size=6)).map("".join)
BAD_WINDOWS_PATHS = [
    "C:\\Media\\Set<up>.exe",
    "C:\\Med:ia\\Setup.exe",
    "C:\\Media|x\\Setup.exe",
    "C:\\CON\\Setup.exe",
    "C:\\Media\\nul.txt",
    "C:\\Media.\\Setup.exe",
    "C:\\Media \\Setup.exe",
    "Media\\Setup.exe",
    "\\\\server\\share\\Setup.exe",
    "C:\\" + "M" * 300,
]

# (key path, values it must refuse). Paths are config keys without the namespace.
BAD_VALUES: list[tuple[tuple[str | int, ...], st.SearchStrategy[Any]]] = [
    (("target",), not_one_of("simulator", "azure")),
    (("tier",), not_one_of("lab", "production")),
    (
        ("protect",),
        st.one_of(
            hostile_text.filter(
                lambda t: t.lower() not in {"yes", "no", "on", "off", "true", "false", "t", "f", "y", "n", "1", "0"}
            ),
            st.lists(st.booleans()),
            st.integers(2),
        ),
    ),
    (("domain",), st.one_of(hostile_text, st.lists(st.integers(), max_size=2), st.integers())),
    (("domain", "fqdn"), st.one_of(hostile_text, wrong_for_text, long_text)),
    (("domain", "netbios"), st.one_of(bad_host_name, wrong_for_text)),
    (("domain", "installAccount"), bad_account),
    (("domain", "serviceAccount"), bad_account),
    (("domain", "ssoAdminGroup"), bad_account),
    (("domain", "ssoAffiliateAdminGroup"), bad_account),
    (("sql", "server"), st.one_of(st.just(""), long_text, wrong_for_text, controlled_text)),
    (("sql", "database"), st.one_of(hostile_text, wrong_for_text, st.just(""))),
    (("network", "nodeSubnetCidr"), bad_cidr),
    (("network", "adminCidr"), bad_cidr),
    (("nodes",), st.one_of(hostile_text, st.integers(), st.just({"name": "MSSNODE1"}), st.just([]))),
    (("nodes", 0), st.one_of(hostile_text, st.integers(), st.lists(st.integers(), max_size=2))),
    (("nodes", 0, "name"), st.one_of(bad_host_name, wrong_for_text)),
    (("nodes", 1, "name"), st.one_of(bad_host_name, wrong_for_text)),
    (("nodes", 0, "ip"), bad_ip),
    (("nodes", 1, "ip"), bad_ip),
    (("cluster", "name"), st.one_of(bad_host_name, wrong_for_text)),
    (("cluster", "managementPoint"), not_one_of("Distributed", "Singleton")),
    (("cluster", "witness"), not_one_of("cloud", "none")),
    (("sso",), st.one_of(hostile_text, st.lists(st.integers(), max_size=2), st.integers())),
    (("sso", "networkName"), st.one_of(bad_host_name, wrong_for_text)),
    (("sso", "ip"), bad_ip),
    (("sso", "probePort"), out_of(1024, 65535)),
    (
        ("sso", "installer"),
        st.one_of(st.text(NUL_FREE, max_size=2), wrong_for_text, st.sampled_from(BAD_WINDOWS_PATHS), controlled_path),
    ),
    (("sso", "product"), not_one_of("biztalk", "his")),
    (
        ("sso", "backupDirectory"),
        st.one_of(
            hostile_text.filter(lambda t: not (t[:1].isascii() and t[:1].isalpha() and t[1:3] == ":\\")),
            wrong_for_text,
            st.sampled_from(BAD_WINDOWS_PATHS),
            controlled_path,
        ),
    ),
    (
        ("sso", "backupReminder"),
        st.one_of(st.just(""), st.integers(513, 5000).map(lambda n: "R" * n), wrong_for_text, controlled_text),
    ),
    (("dtc", "networkName"), st.one_of(bad_host_name, wrong_for_text)),
    (("dtc", "ip"), bad_ip),
    (("dtc", "probePort"), out_of(1024, 65535)),
    (("dtc", "disk"), st.one_of(st.just(""), wrong_for_text, controlled_text, st.sampled_from(["ENTSSO", "mssdtc"]))),
    (("winrm", "transport"), not_one_of("ntlm", "kerberos", "credssp", "basic")),
    (("winrm", "scheme"), not_one_of("https", "http")),
    (("winrm", "port"), out_of(1, 65535)),
    (("winrm", "certificateValidation"), not_one_of("validate", "pin", "ignore")),
    (("winrm", "delegation"), not_one_of("CredSSP", "ScheduledTask")),
    (("winrm", "allowHttp"), st.one_of(st.just(False), st.lists(st.booleans()), st.integers(2))),
    (("winrm", "operationTimeoutSeconds"), out_of(5, 300)),
    (("winrm", "deadlineSeconds"), out_of(30, 14400)),
    (("winrm", "retryAttempts"), out_of(1, 20)),
    (
        ("winrm", "retryBackoffSeconds"),
        st.one_of(
            st.floats(max_value=-0.001), st.floats(min_value=60.001), hostile_text.filter(lambda t: not _is_number(t))
        ),
    ),
    (("simulator", "host"), st.one_of(hostile_text.filter(lambda t: t != "127.0.0.1"), st.just("0.0.0.0"))),
    (("simulator", "basePort"), out_of(1024, 65000)),
    (("installPassword",), st.one_of(st.sampled_from(["int", "list", "dict"]), controlled_password)),
    (("serviceAccountPassword",), st.one_of(st.sampled_from(["int", "list", "dict"]), controlled_password)),
    (("backupPassword",), st.one_of(st.sampled_from(["list", "dict"]), weak_backup_password, controlled_password)),
]
REQUIRED: list[tuple[str | int, ...]] = [
    ("target",),
    ("domain",),
    ("domain", "fqdn"),
    ("domain", "netbios"),
    ("domain", "installAccount"),
    ("domain", "serviceAccount"),
    ("domain", "ssoAdminGroup"),
    ("domain", "ssoAffiliateAdminGroup"),
    ("sql",),
    ("sql", "server"),
    ("network",),
    ("network", "nodeSubnetCidr"),
    ("network", "adminCidr"),
    ("nodes",),
    ("nodes", 1, "name"),
    ("nodes", 0, "ip"),
    ("cluster",),
    ("cluster", "name"),
    ("sso",),
    ("sso", "networkName"),
    ("sso", "ip"),
    ("sso", "backupReminder"),
    ("simulator",),
    ("installPassword",),
    ("serviceAccountPassword",),
    ("backupPassword",),
]
TOP_KEYS = set(sim_config()) | set(stack_settings.SECRET_KEYS)
SECTIONS = ["domain", "sql", "network", "cluster", "sso", "dtc", "winrm", "simulator"]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def key_path(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (("." if text else "") + part)
    return text


def ancestors(path: tuple[str | int, ...]) -> list[str]:
    return [key_path(path[:end]) for end in range(len(path), 0, -1)]


RAW = "RAW-SCALAR-PLACEHOLDER"


@dataclass
class Case:
    """A stack config made bad at one key path, or a stack file that is not YAML."""

    config: dict[str, Any]
    path: tuple[str | int, ...] | None  # the key made bad, when one is
    secrets: list[str]  # values no output may contain
    raw: str | None = None  # written unquoted in place of RAW: YAML reads it as it will
    broken: bool = False  # an unclosed flow sequence: not YAML

    def text(self) -> str:
        document = {"config": {PREFIX + key: value for key, value in self.config.items()}}
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=10_000)
        if self.raw is not None:
            text = text.replace(RAW, self.raw)
        return text + ('"unclosed: [\n' if self.broken else "")


def put(config: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    parent: Any = config
    for part in path[:-1]:
        parent = parent[part]
    if value is MISSING:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value


secret_text = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=12)


@st.composite
def recognisable_secrets(draw: st.DrawFn) -> dict[str, str]:
    """Valid secrets no message could contain by chance: a marker and hostile text."""
    tail = draw(st.lists(st.sampled_from(PRINTABLE_PIECES), min_size=1, max_size=3).map("".join))
    mark = draw(secret_text)
    return {
        "installPassword": f"Hyg-Install-{mark}{tail}",
        "serviceAccountPassword": f"Hyg-Service-{mark}{tail}",
        "backupPassword": f"Hyg-Backup-1{mark}{tail}"[:128],
    }


@st.composite
def bad_stack(draw: st.DrawFn) -> Case:
    config = sim_config()
    secrets = draw(recognisable_secrets())
    config.update(secrets)
    shown = list(secrets.values())
    kind = draw(st.sampled_from(["value", "value", "value", "missing", "unknown key", "raw yaml", "not yaml"]))
    if kind == "value":
        path, values = draw(st.sampled_from(BAD_VALUES))
        value = draw(values)
        if path[0] in stack_settings.SECRET_KEYS and value in SECRET_SHAPES:
            secret = secrets[str(path[0])]
            value = {"int": len(secret), "list": [secret], "dict": {"value": secret}}[value]
        elif path[0] in stack_settings.SECRET_KEYS and isinstance(value, str):
            shown.append(value)  # a refused password is a password all the same: never echoed
        put(config, path, value)
        return Case(config, path, shown)
    if kind == "missing":
        path = draw(st.sampled_from(REQUIRED))
        put(config, path, MISSING)
        return Case(config, path, shown)
    if kind == "unknown key":
        section = draw(st.sampled_from([None, *SECTIONS]))
        # As YAML reads the key back: a line break inside a scalar (e.g. NEL) is folded to a space.
        name = draw(hostile_text.map(as_yaml_reads_it).filter(lambda t: t.strip() != "" and ":" not in t))
        value = draw(st.one_of(hostile_text, st.integers()))
        if section is None:
            config[name] = value
            return Case(config, (name,), shown)
        config[section] = {**config[section], name: value}
        return Case(config, (section, name), shown)
    if kind == "raw yaml":
        path = draw(st.sampled_from([("target",), ("tier",), ("winrm",), ("sso",), ("cluster",)]))
        put(config, path, RAW)
        return Case(config, path, shown, raw=draw(st.sampled_from(YAML_SPECIAL)))
    return Case(config, None, shown, broken=True)


def as_yaml_reads_it(text: str) -> str:
    return str(yaml.safe_load(yaml.safe_dump(text, allow_unicode=True)))


def write_case(directory: Path, name: str, case: Case) -> Path:
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(case.text(), encoding="utf-8")
    return path


def refusal(path: Path, case: Case) -> list[str]:
    """The problem lines for a bad stack file, with the properties every refusal must have."""
    try:
        stack_settings.load_stack_file(path, path.name.removeprefix("Pulumi.").removesuffix(".yaml"))
    except stack_settings.SettingsError as error:
        lines = error.lines
    else:
        raise AssertionError(f"settings accepted a bad stack ({case.path!r}):\n{path.read_text()}")
    assert lines, "a refusal with no problem line"
    for line in lines:
        assert line.startswith(PREFIX) or line.startswith(f"{path}:"), f"not a key path: {line!r}"
    seen = "\n".join(lines) + repr(lines)
    for secret in case.secrets:
        assert secret not in seen, f"a secret value is echoed in {lines!r}"
    not_yaml = all(line.startswith(f"{path}:") for line in lines)  # e.g. an unquoted `key: value`
    if case.path is not None and not not_yaml:
        named = [printable(f"{PREFIX}{key}:") for key in ancestors(case.path)]
        assert any(line.startswith(tuple(named)) for line in lines), (named, lines)
    return lines


def test_bad_stack_files_are_refused_line_by_line_by_key_path(tmp_path: Path) -> None:
    ran: Counter[str] = Counter()

    @examples(300)
    @given(case=bad_stack())
    def check(case: Case) -> None:
        ran["examples"] += 1
        top = str((case.path or ("",))[0])
        where = f"at {top}" if top in TOP_KEYS else "at an unknown top-level key"
        ran["not YAML" if case.broken else ("raw YAML " if case.raw else "") + where] += 1
        refusal(write_case(tmp_path, "case", case), case)

    check()
    print(f"\nbad stack files refused in-process: {dict(ran)}")
    assert ran["examples"] >= 100


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ops and settings packages in a directory of their own, so `python -m ops validate --stack X`
    reads stack files written by the test (it reads them beside the ops package)."""
    project = tmp_path_factory.mktemp("project")
    for package in ("ops", "settings"):
        shutil.copytree(ROOT / package, project / package, ignore=shutil.ignore_patterns("__pycache__"))
    return project


def validate_cli(project: Path, stack: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops", "validate", "--stack", stack],
        cwd=project,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
        timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin"), "PYTHONIOENCODING": "utf-8"},
    )


@pytest.mark.slow
def test_ops_validate_exits_2_with_exactly_the_problem_lines(project_copy: Path) -> None:
    ran: Counter[str] = Counter()

    @examples(8)
    @given(case=bad_stack())
    def check(case: Case) -> None:
        ran["examples"] += 1
        stack = f"case{ran['examples']}"
        lines = refusal(write_case(project_copy, stack, case), case)
        result = validate_cli(project_copy, stack)
        assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stdout == ""
        assert result.stderr == "".join(line + "\n" for line in lines)
        for secret in case.secrets:
            assert secret not in result.stderr + result.stdout

    check()
    print(f"\nops validate subprocesses: {ran['examples']}")


def printable(text: str) -> str:
    """A key path as a problem line shows it: control characters escaped."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def test_a_line_break_in_a_refused_value_cannot_forge_a_problem_line(project_copy: Path) -> None:
    config = sim_config()
    config["nodes"][1]["name"] = "MSSNODE2\nentsso-cluster:winrm.transport: accepted\x1b[2K"
    write_case(project_copy, "forged", Case(config, ("nodes", 1, "name"), []))
    result = validate_cli(project_copy, "forged")
    assert result.returncode == 2
    problems = result.stderr.splitlines()
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{PREFIX}nodes[1].name: ") and problems[0].isprintable(), problems


def test_an_account_name_with_a_control_character_is_refused() -> None:
    config = sim_config()
    config["domain"]["installAccount"] = "CORP\\svc\ninstall"
    with pytest.raises(stack_settings.SettingsError) as refused:
        stack_settings.validate_stack(config, stack="sim")
    assert refused.value.lines[0].startswith(f"{PREFIX}domain.installAccount:")


# --- 2: accepted hostile strings reach the node unchanged -------------------------------------------

# Characters a Windows account or group name may hold (sAMAccountName refuses "/\[]:;|=,+*?<>@ and
# control characters); the settings pattern allows the rest, including quotes, $() and backticks.
ACCOUNT_PIECES = ["'", "`", "$(", ")", "$(whoami)", "&", "%PATH%", "#", "ü", "日本", "😀", " ", "-", ".", "{0}"]
account_name = st.lists(
    st.one_of(st.sampled_from(ACCOUNT_PIECES), st.text("abcXYZ019", min_size=1, max_size=3)), min_size=1, max_size=5
).map(lambda parts: ("svc" + "".join(parts))[:60])


LOGON_NUMBERS = itertools.count(1)


@st.composite
def accepted_hostile(draw: st.DrawFn) -> dict[str, Any]:
    """A sim stack whose free-text fields (and account names) hold hostile text the settings accept."""
    config = sim_config()
    # Hostile, but what Windows takes: no control character; in a path no reserved character, no trailing
    # space or period (settings/windows_names.py).
    text = hostile_text.map(without_controls).filter(lambda t: t.strip() != "")
    path_text = text.map(lambda t: "".join(ch for ch in t if ch not in NTFS_RESERVED)[:120].rstrip(" ."))
    config["installPassword"] = "I" + draw(text)
    config["serviceAccountPassword"] = "S" + draw(text)
    config["backupPassword"] = ("Bk-1a-Pw" + draw(text))[:128]
    config["sso"] = {
        **config["sso"],
        "backupReminder": draw(text.map(lambda t: t[:512])),
        "installer": ("C:\\Media " + draw(path_text)).rstrip(" ."),
        "backupDirectory": ("D:\\Backups " + draw(path_text)).rstrip(" ."),
    }
    config["sql"] = {**config["sql"], "server": draw(text.map(lambda t: ("SQL " + t)[:255]))}
    config["dtc"] = {**config["dtc"], "disk": "Disk " + draw(text)}
    install, service, admins, affiliates = (draw(account_name) for _ in range(4))
    config["domain"] = {  # distinct suffixes: two settings never name one account
        **config["domain"],
        # The simulator's NTLM acceptor keeps one password per logon name for the whole process:
        # each example's logon name is its own.
        "installAccount": f"CORP\\{install}-i{next(LOGON_NUMBERS)}",
        "serviceAccount": f"CORP\\{service}-s",
        "ssoAdminGroup": f"CORP\\{admins} Admins",
        "ssoAffiliateAdminGroup": f"CORP\\{affiliates} Affiliates",
    }
    return config


NTFS_RESERVED = '<>:"/\\|?*'


def without_controls(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cc")


def _keys_differ_in_more_than_case(mapping: dict[str, Any]) -> bool:
    return len({key.lower() for key in mapping}) == len(mapping)


def call(provider: EntssoProvider, target: Any, operation: str, **parameters: Any) -> dict[str, Any]:
    with provider.node(target, f"hostile {operation}") as remote:
        return remote.call(operation, **parameters)


@pytest.mark.slow
def test_hostile_text_the_settings_accept_reaches_the_node_unchanged() -> None:
    ran: Counter[str] = Counter()
    command_lines: set[str] = set()

    @examples(10)
    @given(config=accepted_hostile())
    def check(config: dict[str, Any]) -> None:
        ran["examples"] += 1
        s = stack_settings.validate_stack(config, stack="sim")  # accepted: these are data, not syntax
        nodes = simstack.start(s, ports="any")
        try:
            provider = configured(SsoServerProvider, s)  # stack config -> ProviderSettings, as configure() does
            first, second = targets(nodes)
            n1, n2 = first["name"], second["name"]
            install = s.secret("installPassword")  # the NTLM logon password, and the scheduled task's
            backup_password, reminder = s.secret("backupPassword"), s.sso.backup_reminder
            for target in (first, second):
                call(
                    provider, target, "feature_install", Features=["Failover-Clustering", "RSAT-Clustering-PowerShell"]
                )
            call(provider, first, "cluster_new", Name=s.cluster.name, Nodes=[n1, n2], **provider.delegation())
            assert provider.delegation()["TaskPassword"] == install
            dtc = call(
                provider,
                first,
                "dtc_set",
                Name=s.dtc.network_name,
                StaticAddress=str(s.dtc.ip),
                Disk=s.dtc.disk,
                **provider.delegation(),
            )
            assert dtc["disk"] == s.dtc.disk
            installed = call(provider, first, "sso_install", InstallerPath=s.sso.installer)
            assert installed["installed"] is True  # the world found the media at exactly this path
            wizard = f"{s.sso.backup_directory}\\wizard.bak"
            call(
                provider,
                first,
                "sso_configure",
                Mode="Create",
                SqlServer=s.sql.server,
                Database=s.sql.database,
                ServiceAccount=s.domain.service_account,
                ServiceAccountPassword=s.secret("serviceAccountPassword"),  # the world logs the account on with it
                AdminGroup=s.domain.sso_admin_group,
                AffiliateAdminGroup=s.domain.sso_affiliate_admin_group,
                BackupFile=wizard,
                BackupPassword=backup_password,
                BackupReminder=reminder,
                **provider.delegation(),
            )
            backup_file = f"{s.sso.backup_directory}\\master.bak"
            taken = call(
                provider,
                first,
                "secret_backup",
                BackupFile=backup_file,
                BackupPassword=backup_password,
                BackupReminder=reminder,
            )
            answer = call(provider, first, "sso_get")

            world = nodes.world
            node = world.node(n1)
            assert node is not None
            raw = base64.b64decode(str(taken["contentBase64"]))
            assert taken["path"] == backup_file and node.file(backup_file) == raw
            assert mastersecret.reminder(raw) == reminder
            assert mastersecret.open_backup(raw, backup_password).secret_id == world.sql.databases["SSODB"].secret_id
            assert mastersecret.reminder(node.file(wizard) or b"") == reminder
            assert answer["sqlServer"] == s.sql.server and sso_config(node) == (s.sql.server, s.sql.database)
            assert node.registry_key(SQL_KEY) == {"Server": s.sql.server, "Database": s.sql.database}
            assert node.service("ENTSSO").account == s.domain.service_account  # type: ignore[union-attr]
            assert world.sql.databases["SSODB"].admin_group == s.domain.sso_admin_group
            assert world.cluster is not None
            disk = world.cluster.resource(s.dtc.disk)  # dtc_set named the cluster disk as the settings say
            assert disk is not None and disk.type == "Physical Disk" and key(disk.group) == key(s.dtc.network_name)
            for server in nodes.servers:
                for command, arguments in server.counters.snapshot().command_lines:
                    command_lines.add(" ".join([command, *arguments]))
        finally:
            nodes.stop()

    check()
    print(f"\nhostile accepted settings sent to simulated nodes: {ran['examples']} examples")
    assert command_lines == {BOOTSTRAP}, "a command line other than the fixed bootstrap reached a node"


# --- 3: any text through the runner, to the stand-in echo -------------------------------------------

ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
# echo.ps1 binds Text [string] (mandatory: not empty), Items [string[]], Data [hashtable] and Secret [string]; a hashtable's
# keys are case-insensitive, so nested keys differ in more than case.
json_values = st.recursive(
    st.one_of(ANY_TEXT, st.integers(-(2**53), 2**53), st.booleans(), st.none()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(ANY_TEXT.filter(bool), inner, max_size=4).filter(_keys_differ_in_more_than_case),
    ),
    max_leaves=12,
)
echo_parameters = st.fixed_dictionaries(
    {
        "Text": ANY_TEXT.filter(bool),
        "Items": st.lists(ANY_TEXT, min_size=1, max_size=5),
        "Secret": ANY_TEXT.filter(bool),
    },
    optional={
        "Data": st.dictionaries(ANY_TEXT.filter(bool), json_values, max_size=4).filter(_keys_differ_in_more_than_case)
    },
)

USER, PASSWORD = "CORP\\svc-echo", "Echo-Pa55word!"
FAST = RunnerConfig(
    operation_timeout_s=2,
    read_timeout_s=5,
    deadline_s=20,
    retry_attempts=1,
    backoff_initial_s=0.01,
    backoff_max_s=0.05,
    backoff_jitter_s=0.0,
)


def test_any_text_reaches_the_echo_operation_unchanged_under_the_fixed_command_line() -> None:
    ran: Counter[str] = Counter()
    host = StandInHost()
    server = WsManServer("MSSNODE1", SimulatedShell(host), {USER: PASSWORD}).start()
    connection = NodeConnection(
        name="MSSNODE1", endpoint=server.url, transport="ntlm", username=USER, password=PASSWORD, allow_http=True
    )
    try:

        @examples(60)
        @given(parameters=echo_parameters)
        def check(parameters: dict[str, Any]) -> None:
            ran["examples"] += 1
            with WinRmRunner(FAST).session(connection, "echo") as remote:
                answer = remote.run("echo", ECHO, parameters, secret_parameters={"Secret"})
            assert {name: answer[name] for name in parameters} == parameters
            node, operation, _ = host.invocations[-1]  # the answer is what echo.ps1 itself was given
            assert (node, operation) == ("MSSNODE1", "echo")

        check()
        lines = {" ".join([command, *arguments]) for command, arguments in server.counters.snapshot().command_lines}
    finally:
        server.stop()
    print(f"\nechoed parameter sets: {ran['examples']}")
    assert lines == {BOOTSTRAP}
