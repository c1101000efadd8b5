"""No secret reaches anything a person or a log can see, with the real Pulumi engine in the loop.

The whole life of the sim stack through the pinned Pulumi CLI (two ups that fail on injected
faults, an up, preview, refresh, a refresh with a wrong install password, failover and back over
WinRM, destroy) runs with recognisable secrets set by `pulumi config set --secret`: the three
passwords (each with a random hex marker, a quote, a backslash and a non-ASCII letter, so escaped
forms are distinct), a wrong password, the master secret itself, the backup's bytes and the cloud
witness key. Everything visible is captured: everything the CLI printed (it masks only decrypted
`secure:` config values, and a provider's exception reaches it as a full Python traceback,
unmasked), `python -m ops`'s own lines and the main job's client check (a recording console),
stdout and stderr, every log record at DEBUG, every RunResult, the progress events, exception texts
and tracebacks of failed remote calls, every file of the stack's state directory (the backend's
checkpoint, update history and backups with the default provider's inputs, PULUMI_HOME, the CLI's
logs) outside Pulumi's encrypted values, the simulator's world file outside the stores that model
Windows' own secrets, every command line the nodes received, and the runbook. Each secret is
searched for raw, JSON-escaped, by its marker, and inside every base64 run (decoded as UTF-8 and
UTF-16). The scan itself is shown to fail on a planted leak: a provider that puts a secret in its
exception, run through the same engine, and a file planted in the backend.

Also: a transport that would carry a secret unencrypted is refused unless the stack is the
simulator, and the runner refuses plain http before it sends anything.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
import logging
import re
import shutil
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from engine_support import PREFIX, ROOT, SimStack, sim_stack, sim_stack_config
from providers_support import configured
from pydantic import ValidationError
from rich.console import Console

import settings
from ops import mainjob, progress
from ops.engine import Engine, scratch_project, stack_document
from ops.model import RunResult
from providers.runner import NodeConnection, RemoteOperationError
from providers.secret_restore import SecretRestoreProvider
from simulator.shell import SimulatedShell, StandInHost
from simulator.world import Fault, FaultPlan, mastersecret
from simulator.world.faults import FaultInjector
from simulator.world.model import SSOSS_KEY
from simulator.wsman import WsManServer

BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")
SIG_KEY = "4dabf18193072939515e22adb298388d"


def recognisable(kind: str) -> str:
    return f'Hyg1ene-{kind}-{uuid.uuid4().hex}!"\\ü'


class Secrets:
    """The values that must never be seen, and every form in which one would be recognised."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def add(self, label: str, value: str) -> None:
        self.values[label] = value

    def add_bytes(self, label: str, data: bytes) -> None:
        """Bytes are recognised whole in base64, and by 16-byte windows (start, middle, end) in hex,
        which also finds a part of them inside any base64 (see `_decoded_base64`)."""
        self.add(f"{label} (base64)", base64.b64encode(data).decode())
        for offset in sorted({0, max(0, len(data) // 2 - 8), max(0, len(data) - 16)}):
            window = data[offset : offset + 16].hex()
            self.add(f"{label} (hex at {offset})", window)
            self.add(f"{label} (HEX at {offset})", window.upper())

    def forms(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for label, value in self.values.items():
            found[label] = value
            found[f"{label} (JSON)"] = json.dumps(value)[1:-1]
            found[f"{label} (JSON, ASCII)"] = json.dumps(value, ensure_ascii=True)[1:-1]
            found[f"{label} (repr)"] = repr(value)[1:-1]
            marker = re.search(r"[0-9a-f]{32}", value)
            if marker:
                found[f"{label} (marker)"] = marker.group()
        return {label: form for label, form in found.items() if len(form) >= 16}

    def leaks(self, where: str, text: str) -> list[str]:
        """Where and which secret `text` shows, as it stands or inside any base64 it holds."""
        forms = self.forms()
        views = [text, *_decoded_base64(text)]
        return [f"{label} in {where}" for label, form in forms.items() if any(form in view for view in views)]


def _decoded_base64(text: str) -> Iterator[str]:
    for run in BASE64_RUN.findall(text):
        for start in range(4):
            chunk = run[start:].rstrip("=")
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                raw = base64.b64decode(chunk, validate=True)
            except (binascii.Error, ValueError):
                continue
            yield raw.decode("utf-8", errors="ignore")
            yield raw.decode("utf-16-le", errors="ignore")
            yield raw.hex()


def without_encrypted(value: Any) -> Any:
    """Engine state as anyone can read it: each secret the engine encrypted (`{<sig>: ..., "ciphertext"}`)
    left out, everything else as it stands."""
    if isinstance(value, dict):
        if SIG_KEY in value and "ciphertext" in value:
            return "[encrypted]"
        return {k: without_encrypted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_encrypted(v) for v in value]
    return value


def readable_files(directory: Path) -> Iterator[tuple[str, str]]:
    """Every file under `directory` as text anyone with the files can read: JSON without the engine's
    encrypted values, anything else as it is (bytes decoded leniently)."""
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        text = raw.decode("utf-8", errors="replace")
        with contextlib.suppress(ValueError):
            text = json.dumps(without_encrypted(json.loads(text)), ensure_ascii=False)
        yield str(path.relative_to(directory)), text


def world_file_without_windows_stores(path: Path) -> str:
    """The simulator's world file without what models Windows' own secret stores: the domain's
    accounts (a domain controller's credential store), ENTSSO's registry value holding the master
    secret, and the nodes' disks (the backup files the procedure writes there)."""
    document = json.loads(path.read_text(encoding="utf-8"))

    def scrub(value: Any, key: str = "") -> Any:
        if key in ("password", "files") or (key == "Secret" and isinstance(value, str)):
            return "[Windows' own store]"
        if isinstance(value, dict):
            return {k: scrub(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    return json.dumps(scrub(document), ensure_ascii=False)


def result_text(result: RunResult) -> str:
    return json.dumps(result.to_json(), ensure_ascii=False, indent=1)


class Seen:
    """Everything captured, by where it was seen."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, text: str) -> None:
        self.texts.append((where, text))

    def leaks(self, secrets: Secrets) -> list[str]:
        return [leak for where, text in self.texts for leak in secrets.leaks(where, text)]


def passwords() -> dict[str, str]:
    return {
        "installPassword": recognisable("Install"),
        "serviceAccountPassword": recognisable("Service"),
        "backupPassword": recognisable("Backup"),
    }


@pytest.fixture
def hygiene(tmp_path: Path) -> Iterator[tuple[SimStack, Secrets]]:
    secrets = Secrets()
    chosen = passwords()
    for key, value in chosen.items():
        secrets.add(key, value)
    # The simulator's NTLM acceptor keeps one password per logon name for the whole process, and
    # other tests log on as the sim stack's install account with its sample password.
    domain = {**sim_stack_config()[PREFIX + "domain"], "installAccount": f"CORP\\svc-hygiene-{uuid.uuid4().hex[:8]}"}
    with sim_stack(
        tmp_path, changes={"domain": domain}, secrets=chosen, world_file=tmp_path / "sim.world.json"
    ) as r:
        yield r, secrets


@pytest.mark.slow
def test_no_secret_is_seen_anywhere_in_a_whole_lifecycle(
    hygiene: tuple[SimStack, Secrets],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    r, secrets = hygiene
    caplog.set_level(logging.DEBUG)
    seen = Seen()
    sink = io.StringIO()
    out = Console(file=sink, record=True, width=240, highlight=False, soft_wrap=True, force_terminal=False)
    events: list[Any] = []

    def cli(operation: str, fault: Fault | None = None) -> RunResult:
        """The operation as `python -m ops` runs and prints it, on this test's stack."""
        with r.nodes.host.lock:
            r.nodes.host.faults = FaultInjector(FaultPlan(faults=[fault] if fault else []))
        try:
            # A short heartbeat, so that the progress lines of long steps are among what is searched.
            result = progress.run(r.workspace, operation, out, engine=r.engine, interval=0.5)
        finally:
            with r.nodes.host.lock:
                r.nodes.host.faults = FaultInjector()
        events.extend(r.engine.on_event.events if isinstance(r.engine.on_event, progress.Renderer) else [])
        seen.add(f"RunResult of {operation}, the CLI's output with it", result_text(result))
        return result

    # Two ups fail on faults: one where the SSO configuration (service, backup and task passwords)
    # is sent, one where the backup bytes and password are sent for the restore.
    failed_early = cli("up", Fault(kind="http_500", operation="sso_configure"))
    failed_late = cli("up", Fault(kind="reset_before", operation="secret_restore"))
    assert failed_early.failed and failed_late.failed
    assert any("sso_configure" in (o.error or "") for o in failed_early.outcomes)
    assert any("secret_restore" in (o.error or "") for o in failed_late.outcomes)
    assert "Traceback (most recent call last)" in failed_early.cli_output  # what the CLI shows unmasked
    assert not cli("up").failed
    assert not cli("preview").failed
    assert not cli("refresh").failed

    # What must stay secret, now that it exists.
    world = r.nodes.world
    first, second = (node.name for node in r.settings.nodes)
    node = world.node(first)
    assert node is not None and world.cluster is not None
    backup_file = f"{r.settings.sso.backup_directory}\\{r.settings.sso.network_name}-master-secret.bak"
    content = node.file(backup_file)
    master = mastersecret.current(node)
    assert content is not None and master is not None
    secrets.add_bytes("backup bytes", content)
    secrets.add_bytes("backup bytes, sealed part", content.split(b"\n", 2)[2])
    secrets.add_bytes("master secret", master.secret)
    assert (node.registry_key(f"{SSOSS_KEY}\\{master.secret_id}") or {})["Secret"] == base64.b64encode(
        master.secret
    ).decode()
    assert world.cluster.quorum.access_key
    secrets.add("cloud witness key", world.cluster.quorum.access_key)

    # Failover and back over WinRM, as the main job does it, with its client check printed.
    for target in (second, first):
        mainjob.remote(r.settings, r.nodes, first, "role_move", Name=r.settings.sso.network_name, Node=target)
        assert mainjob.client_check(r.settings, r.nodes, out).upper() == target.upper()

    # Remote calls that fail, in-process, through the providers' own path (the scripts' secret
    # markers tell the runner what to mask): their exception texts and tracebacks.
    provider = configured(SecretRestoreProvider, r.settings)
    second_node = {"name": second, "endpoint": r.nodes.endpoints[second], "thumbprint": None}
    copy_path = r"C:\ProgramData\EntssoCluster\hygiene-copy.bak"
    problems: list[BaseException] = []
    with provider.node(second_node, "hygiene") as remote:
        try:  # a script error: the content does not hash to the SHA-256 given
            remote.call("file_put", Path=copy_path, ContentBase64=base64.b64encode(content).decode(), Sha256="0" * 64)
        except RemoteOperationError as error:
            problems.append(error)
        with r.nodes.host.lock:
            r.nodes.host.faults = FaultInjector(FaultPlan(faults=[Fault(kind="http_500", operation="secret_restore")]))
        try:  # a transport error after every retry
            remote.call("secret_restore", BackupFile=copy_path, BackupPassword=r.settings.secret("backupPassword"))
        except RemoteOperationError as error:
            problems.append(error)
        finally:
            with r.nodes.host.lock:
                r.nodes.host.faults = FaultInjector()
    assert [type(p).__name__ for p in problems] == ["RemoteOperationError"] * 2
    for problem in problems:
        seen.add("exception text", f"{problem}\n{problem!r}\n{problem.args!r}\n{vars(problem)!r}")
        seen.add("traceback", "".join(traceback.format_exception(problem)))

    # A wrong install password (set with `pulumi config set --secret`) and a change that needs the
    # nodes: the up configures the provider host with the new config (a refresh would not: it uses
    # the provider's config in the checkpoint), and the node refuses the logon.
    wrong = recognisable("Wrong")
    secrets.add("wrong install password", wrong)
    r.set_secret("installPassword", wrong)
    r.with_config(sso={"probePort": 59990})
    refused = cli("up")
    assert refused.failed and any("refused the credentials" in (o.error or "") for o in refused.outcomes), (
        refused.error,
        [(o.name, o.error) for o in refused.outcomes],
    )
    r.set_secret("installPassword", r.settings.secret("installPassword"))
    r.with_config(sso={"probePort": r.settings.sso.probe_port})
    # The failed up had already updated the default provider with the wrong password, and destroy
    # (like refresh) configures the provider from the checkpoint: an up with the right one comes first.
    assert not cli("up").failed

    assert not cli("destroy").failed

    assert " running for " in out.export_text(), "no heartbeat line was captured"
    seen.add("console", out.export_text())
    seen.add("console (raw stream)", sink.getvalue())
    captured = capsys.readouterr()
    seen.add("stdout", captured.out)
    seen.add("stderr", captured.err)
    seen.add("log records", "\n".join(f"{rec.name} {rec.levelname} {rec.getMessage()}" for rec in caplog.records))
    seen.add("log records' arguments", "\n".join(repr(rec.args) for rec in caplog.records))
    seen.add("progress events", "\n".join(json.dumps(e.to_json(), ensure_ascii=False) for e in events))
    state_files = list(readable_files(r.workspace.state))
    for name, text in state_files:
        seen.add(f"state directory: {name}", text)
    seen.add("the simulator's world file", world_file_without_windows_stores(tmp_path / "sim.world.json"))
    seen.add("command lines", "\n".join(r.nodes.command_lines()))
    seen.add("runbook", runbook_text(tmp_path, r))

    leaks = seen.leaks(secrets)
    print(
        f"\nsecret hygiene: {len(secrets.values)} secrets in {len(secrets.forms())} forms searched in "
        f"{len(seen.texts)} captures ({sum(len(t) for _, t in seen.texts)} characters, "
        f"{len(state_files)} files of the state directory, {len(caplog.records)} log records, "
        f"{len(r.nodes.command_lines())} command lines)"
    )
    assert leaks == [], leaks
    names = [name for name, _ in state_files]
    assert any(name.startswith("backend/.pulumi/history/") for name in names), names  # the update history
    assert any(name.startswith("backend/.pulumi/backups/") for name in names), names  # every checkpoint kept
    assert any(name.startswith("logs/") for name in names), names
    assert len(caplog.records) > 50, "the logs this test searches were not captured"
    assert len(set(r.nodes.command_lines())) == 1, "a command line other than the fixed bootstrap"


def runbook_text(tmp_path: Path, r: SimStack) -> str:
    """`python -m ops runbook` for a copy of the project whose stack file holds this test's secrets."""
    project = tmp_path / "runbook-project"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(".venv", ".git", ".entsso", "tests", "__pycache__", ".hypothesis", "*.pyc"),
    )
    document = stack_document(r.workspace.project_dir, "sim")  # the secrets as ciphertext, with the salt
    (project / "Pulumi.hygiene.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    assert settings.load_stack_file(project / "Pulumi.hygiene.yaml").secret("backupPassword") == r.settings.secret(
        "backupPassword"
    )  # the runbook reads the decrypted secrets: what it prints is what this test checks
    completed = subprocess.run(
        [sys.executable, "-m", "ops", "runbook", "--stack", "hygiene"],
        cwd=project,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "Documented steps" in completed.stdout
    return completed.stdout + completed.stderr


# --- the scan fails on a planted leak ----------------------------------------------------------------

LEAKY_PROVIDER = """
import base64

from pulumi.dynamic import ResourceProvider


class Leaky(ResourceProvider):
    password = ""

    def configure(self, req):
        self.password = req.config.get("entsso-cluster:installPassword") or ""

    def create(self, props):
        # The CLI masks the exact text of a secure config value; the same secret in another form
        # (here base64, as a header or a backup would carry it) goes through as it is.
        token = base64.b64encode(f"CORP\\svc-install:{self.password}".encode()).decode()
        raise RuntimeError(f"the node refused Authorization: Basic {token}")
"""
LEAKY_PROGRAM = """
import pulumi
from pulumi.dynamic import Resource
from leaky import Leaky


class Thing(Resource, module="leaky", name="Thing"):
    def __init__(self, name):
        super().__init__(Leaky(), name, {})


Thing("leak")
"""


@pytest.mark.slow
def test_the_scan_finds_a_leak_the_engine_lets_through_and_one_planted_in_the_backend(tmp_path: Path) -> None:
    """A provider that puts the install password, base64-encoded, in its exception, run through the
    same engine: the CLI masks the password's own text wherever it prints (a decrypted secure config
    value), but not another form of it, and prints the traceback with it; the scan says so. Then a
    file planted in the backend."""
    secret = recognisable("Planted")
    secrets = Secrets()
    secrets.add("installPassword", secret)
    workspace = scratch_project(tmp_path / "project", "sim", source=ROOT)
    (workspace.project_dir / "leaky.py").write_text(LEAKY_PROVIDER, encoding="utf-8")
    program = workspace.project_dir / "__main__.py"
    program.write_text(LEAKY_PROGRAM, encoding="utf-8")
    engine = Engine(type(workspace)(workspace.project_dir, "sim", program=program))
    engine.set_secret(PREFIX + "installPassword", secret)

    result = engine.up()

    assert result.failed
    seen = Seen()
    seen.add("RunResult", result_text(result))
    assert "RunResult" in " ".join(seen.leaks(secrets)), "the scan missed a secret in a provider's traceback"
    assert "Authorization: Basic " in result.cli_output and "[secret]" not in result.cli_output

    clean = Seen()
    for name, text in readable_files(workspace.state / "backend"):
        clean.add(name, text)
    assert clean.leaks(secrets) == []  # the checkpoint holds it encrypted only
    planted = workspace.state / "backend" / ".pulumi" / "planted.txt"
    planted.write_text(f"note: {json.dumps(secret)}", encoding="utf-8")
    dirty = Seen()
    for name, text in readable_files(workspace.state / "backend"):
        dirty.add(name, text)
    assert any(".pulumi/planted.txt" in leak for leak in dirty.leaks(secrets)), dirty.leaks(secrets)


# --- transports that would carry a secret unencrypted ------------------------------------------------


def stack(name: str) -> tuple[dict[str, Any], list[str]]:
    document = yaml.safe_load((ROOT / f"Pulumi.{name}.yaml").read_text(encoding="utf-8"))
    config, encrypted = {}, []
    for key, value in document["config"].items():
        short = key.removeprefix(PREFIX)
        if isinstance(value, dict) and "secure" in value:
            encrypted.append(short)
            value = "(encrypted)"
        config[short] = value
    return config, encrypted


def refused(config: dict[str, Any], name: str, encrypted: list[str]) -> list[str]:
    with pytest.raises(settings.SettingsError) as caught:
        settings.validate_stack(config, stack=name, encrypted=encrypted)
    return caught.value.lines


@pytest.mark.parametrize(
    ("name", "winrm", "key", "words"),
    [
        ("sim", {"transport": "basic", "scheme": "http", "allowHttp": True}, "winrm", "clear text"),
        ("sim", {"scheme": "http", "allowHttp": False}, "winrm", "without TLS"),
        ("lab", {"scheme": "http", "allowHttp": True}, "winrm.scheme", "https only"),
        ("lab", {"scheme": "https", "allowHttp": True}, "winrm.scheme", "https only"),
        ("prod", {"scheme": "http", "allowHttp": True}, "winrm.scheme", "https only"),
        ("lab", {"transport": "basic", "scheme": "http", "allowHttp": True}, "winrm", "clear text"),
    ],
)
def test_settings_refuse_a_transport_that_would_send_a_secret_in_clear(
    name: str, winrm: dict[str, Any], key: str, words: str
) -> None:
    config, encrypted = stack(name)
    config["winrm"] = {**config["winrm"], **winrm}
    lines = refused(config, name, encrypted)
    assert any(line.startswith(f"{PREFIX}{key}:") and words in line for line in lines), lines


def test_only_the_simulator_stack_may_use_http() -> None:
    sim, encrypted = stack("sim")
    loaded = settings.validate_stack(sim, stack="sim", encrypted=encrypted)
    assert loaded.winrm.scheme == "http" and loaded.winrm.allow_http and loaded.winrm.transport == "ntlm"
    assert loaded.target is settings.Target.SIMULATOR


def test_the_runner_refuses_plain_http_before_any_request() -> None:
    password, user = recognisable("Runner"), f"CORP\\svc-http-{uuid.uuid4().hex[:8]}"
    server = WsManServer("MSSNODE1", SimulatedShell(StandInHost()), {user: password}).start()
    try:
        assert server.url.startswith("http://")
        with pytest.raises(ValidationError) as caught:
            NodeConnection(name="MSSNODE1", endpoint=server.url, transport="ntlm", username=user, password=password)
        assert "plain http" in str(caught.value)
        assert password not in str(caught.value)
        assert server.counters.snapshot().http_requests == 0
    finally:
        server.stop()
