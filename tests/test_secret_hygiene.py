"""No secret reaches anything a person or a log can see.

The whole life of the sim stack (two ups that fail on injected faults, an up, preview, refresh, a
refresh with a wrong install password, failover and back over WinRM, destroy) runs with
recognisable secrets: the three passwords (each with a random hex marker, a quote, a backslash and
a non-ASCII letter, so escaped forms are distinct), a wrong password, the master secret itself,
the backup's bytes and the cloud witness key. Everything visible is captured: the CLI's lines
(`ops.rehearsal.run` and the main job's client check into a recording console), stdout and stderr,
every log record at DEBUG, every RunResult (error, warnings, outcomes, host log, program output,
outputs), the progress events, exception texts and tracebacks of failed remote calls, the state
file without its encrypted values, every command line the nodes received, and the runbook. Each
secret is searched for raw, JSON-escaped, by its marker, and inside every base64 run (decoded as
UTF-8 and UTF-16).

Also: a transport that would carry a secret unencrypted is refused unless the stack is the
simulator, and the runner refuses plain http before it sends anything.
"""

from __future__ import annotations

import base64
import binascii
import copy
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
from providers_support import configured
from pydantic import ValidationError
from rehearse_support import PREFIX, ROOT, Rehearsal, sim_stack_config
from rehearse_support import rehearsal as rehearsed_stack
from rich.console import Console

import settings
from ops import mainjob, rehearsal
from ops.rehearse.engine import Engine
from ops.rehearse.model import RunResult
from providers.runner import NodeConnection, RemoteOperationError
from providers.secret_restore import SecretRestoreProvider
from simulator.shell import SimulatedShell, StandInHost
from simulator.world import Fault, FaultPlan, mastersecret
from simulator.world.faults import FaultInjector
from simulator.world.model import SSOSS_KEY
from simulator.wsman import WsManServer

BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")


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
    """The state as anyone can read it: every {"ciphertext", "secure": true} value left out."""
    if isinstance(value, dict):
        if value.get("secure") is True and "ciphertext" in value:
            return "[encrypted]"
        return {k: without_encrypted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_encrypted(v) for v in value]
    return value


def result_text(result: RunResult) -> str:
    return json.dumps(result.to_json(), ensure_ascii=False, indent=1)


class Seen:
    """Everything captured, by where it was seen."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, text: str) -> None:
        self.texts.append((where, text))


@pytest.fixture
def hygiene(tmp_path: Path) -> Iterator[tuple[Rehearsal, Secrets]]:
    secrets = Secrets()
    passwords = {
        "installPassword": recognisable("Install"),
        "serviceAccountPassword": recognisable("Service"),
        "backupPassword": recognisable("Backup"),
    }
    for key, value in passwords.items():
        secrets.add(key, value)
    # The simulator's NTLM acceptor keeps one password per logon name for the whole process, and
    # other tests log on as the sim stack's install account with its sample password.
    domain = {**sim_stack_config()[PREFIX + "domain"], "installAccount": f"CORP\\svc-hygiene-{uuid.uuid4().hex[:8]}"}
    with rehearsed_stack(tmp_path, changes={**passwords, "domain": domain}) as r:
        yield r, secrets


def engine_for(r: Rehearsal, config: dict[str, Any], renderer: rehearsal.Renderer) -> Engine:
    secret_keys = {k for k in config if k.removeprefix(PREFIX) in settings.SECRET_KEYS}
    return Engine(ROOT, "sim", config, secret_keys, r.state_path, on_event=renderer)


@pytest.mark.slow
def test_no_secret_is_seen_anywhere_in_a_whole_lifecycle(
    hygiene: tuple[Rehearsal, Secrets],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r, secrets = hygiene
    caplog.set_level(logging.DEBUG)
    seen = Seen()
    sink = io.StringIO()
    out = Console(file=sink, record=True, width=240, highlight=False, soft_wrap=True, force_terminal=False)
    config: dict[str, Any] = copy.deepcopy(r.config)

    def cli(operation: str, fault: Fault | None = None) -> RunResult:
        """The operation as `python -m ops rehearse` runs and prints it, on this test's stack."""
        monkeypatch.setattr(rehearsal, "engine", lambda _dir, _stack, renderer: engine_for(r, config, renderer))
        with r.nodes.host.lock:
            r.nodes.host.faults = FaultInjector(FaultPlan(faults=[fault] if fault else []))
        try:
            result = rehearsal.run(ROOT, "sim", operation, out)
        finally:
            with r.nodes.host.lock:
                r.nodes.host.faults = FaultInjector()
        seen.add(f"RunResult of {operation}", result_text(result))
        if r.state_path.exists():
            state = without_encrypted(json.loads(r.state_path.read_text(encoding="utf-8")))
            seen.add(f"state file after {operation}", json.dumps(state, ensure_ascii=False))
        return result

    # Two ups fail on faults: one where the SSO configuration (service, backup and task passwords)
    # is sent, one where the backup bytes and password are sent for the restore.
    failed_early = cli("up", Fault(kind="http_500", operation="sso_configure"))
    failed_late = cli("up", Fault(kind="reset_before", operation="secret_restore"))
    assert failed_early.failed and failed_late.failed
    assert any("sso_configure" in (o.error or "") for o in failed_early.outcomes)
    assert any("secret_restore" in (o.error or "") for o in failed_late.outcomes)
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

    # A refresh with a wrong install password: every node refuses the logon.
    wrong = recognisable("Wrong")
    secrets.add("wrong install password", wrong)
    config[PREFIX + "installPassword"] = wrong
    refused = cli("refresh")
    assert refused.failed and any("refused the credentials" in (o.error or "") for o in refused.outcomes)
    config[PREFIX + "installPassword"] = r.settings.secret("installPassword")

    assert not cli("destroy").failed

    seen.add("console", out.export_text())
    seen.add("console (raw stream)", sink.getvalue())
    captured = capsys.readouterr()
    seen.add("stdout", captured.out)
    seen.add("stderr", captured.err)
    seen.add("log records", "\n".join(f"{rec.name} {rec.levelname} {rec.getMessage()}" for rec in caplog.records))
    seen.add("log records' arguments", "\n".join(repr(rec.args) for rec in caplog.records))
    seen.add("progress events", "\n".join(json.dumps(e.to_json(), ensure_ascii=False) for e in r.events))
    seen.add("command lines", "\n".join(r.nodes.command_lines()))
    seen.add("runbook", runbook_text(tmp_path, r))

    leaks = [leak for where, text in seen.texts for leak in secrets.leaks(where, text)]
    print(
        f"\nsecret hygiene: {len(secrets.values)} secrets in {len(secrets.forms())} forms searched in "
        f"{len(seen.texts)} captures ({sum(len(t) for _, t in seen.texts)} characters, "
        f"{len(caplog.records)} log records, {len(r.nodes.command_lines())} command lines)"
    )
    assert leaks == [], leaks
    assert len(caplog.records) > 50, "the logs this test searches were not captured"
    assert len(set(r.nodes.command_lines())) == 1, "a command line other than the fixed bootstrap"


def runbook_text(tmp_path: Path, r: Rehearsal) -> str:
    """`python -m ops runbook` for a copy of the project whose stack file holds this test's secrets."""
    if not (ROOT / "ops" / "runbook.py").exists():
        pytest.skip("ops/runbook.py (render(project_dir, stack) -> str) is not there yet")
    project = tmp_path / "project"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(".venv", ".git", ".entsso", "tests", "__pycache__", ".hypothesis", "*.pyc"),
    )
    document = {"config": {key: value for key, value in r.config.items()}}
    (project / "Pulumi.hygiene.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
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
    sim, _ = stack("sim")
    loaded = settings.validate_stack(sim, stack="sim")
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
