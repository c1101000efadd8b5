"""Progress a person can follow in long steps: while an operation runs on a node, `ops` says which step runs on
which node and for how long, at least every ENTSSO_PROGRESS_SECONDS, in a terminal and in CI logs alike.

How often the heartbeat comes is tested on a clock of the test's own (no timed assertion); what it says is
tested on the renderer with given notes and events, and end to end: an up whose SSO install the simulator
slows (the fault plan's per-operation duration) must name the install's step, node and operation while it
runs. The notes carry no parameter, so no secret can reach a progress line.
"""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from engine_support import sim_stack
from rich.console import Console

from ops import progress
from ops.engine_worker import Translator
from ops.errors import LocalConditionError
from ops.model import Event, Op, Operation, OperationNote
from providers import notes
from providers.base import Remote
from simulator.world import FaultPlan

STAMPED = re.compile(r"^  \.\.\.     \[\+(\d+):(\d+\.\d)\] (.*)$")
SSO_INSTALL_SECONDS = 6.0
INTERVAL = 1.5


def stamped(text: str) -> list[tuple[float, str]]:
    """The heartbeat lines of a run's output: (seconds since the run started, what they say)."""
    found = []
    for line in text.splitlines():
        match = STAMPED.match(line)
        if match:
            found.append((int(match.group(1)) * 60 + float(match.group(2)), match.group(3)))
    return found


@pytest.mark.slow
def test_a_long_install_is_never_silent_and_says_what_runs_where(tmp_path: Path) -> None:
    plan = FaultPlan(durations={"sso_install": SSO_INSTALL_SECONDS})
    with sim_stack(tmp_path, plan=plan) as r:
        out = io.StringIO()
        console = Console(file=out, width=200, highlight=False, soft_wrap=True)  # not a terminal: CI's plain lines
        result = progress.run(r.workspace, "up", console, engine=r.engine, interval=INTERVAL)
        secrets = [r.settings.secret(key) for key in ("installPassword", "serviceAccountPassword", "backupPassword")]
    assert not result.failed, result.error
    text = out.getvalue()
    lines = stamped(text)
    assert lines, "no progress line while the run was under way"
    assert "SsoInstall mss-sso-install-mssnode1 (step 1): created" in text
    # While each node's install runs (6 s, four intervals), the lines name its step, node and operation, with
    # the time it has been running; how often they come is the heartbeat's own test, on a clock of its own.
    for step, node in (("step 1", "MSSNODE1"), ("step 6", "MSSNODE2")):
        during = [what for _, what in lines if what.startswith(f"{step} on {node}: sso_install running for ")]
        assert during, (node, [what for _, what in lines])
        seconds = [int(re.search(r"running for (\d+) s", what).group(1)) for what in during]  # type: ignore[union-attr]
        assert seconds == sorted(seconds), seconds
        assert all(what.endswith(f"(SsoInstall mss-sso-install-{node.lower()})") for what in during)
    assert all(secret and secret not in text for secret in secrets)


def test_a_note_is_one_line_of_json_and_only_notes_parse(capsys: pytest.CaptureFixture[str]) -> None:
    notes.note("start", "MSSNODE1", "sso_install", "SsoInstall")
    notes.note("end", "MSSNODE1", "sso_install", "SsoInstall", ok=True, seconds=360.0)
    written = capsys.readouterr().err.splitlines()
    assert len(written) == 2 and all(line.startswith(notes.PREFIX) for line in written)
    started, ended = (notes.parse(line) for line in written)
    assert started is not None and ended is not None
    assert (started["phase"], started["node"], started["operation"]) == ("start", "MSSNODE1", "sso_install")
    assert ended["ok"] is True and ended["seconds"] == 360.0
    for other in ("info: hello", notes.PREFIX + "not json", notes.PREFIX + '{"phase": "start"}', ""):
        assert notes.parse(other) is None


def test_the_worker_passes_notes_on_and_keeps_them_out_of_the_messages() -> None:
    passed: list[OperationNote] = []
    translator = Translator(Operation.UP, lambda _event: None, passed.append)
    line = (
        notes.PREFIX
        + '{"at": 1.0, "label": "SsoInstall", "node": "MSSNODE2", "operation": "sso_install", "phase": "start"}'
    )
    for message in (line + "\n", "something a provider printed\n"):
        diagnostic = SimpleNamespace(severity="info#err", message=message, urn="", ephemeral=False)
        translator(
            SimpleNamespace(
                resource_pre_event=None,
                res_outputs_event=None,
                res_op_failed_event=None,
                diagnostic_event=diagnostic,
                summary_event=None,
                policy_event=None,
            )
        )
    assert [(n.node, n.operation, n.resource_type) for n in passed] == [("MSSNODE2", "sso_install", "SsoInstall")]
    assert translator.messages == ["something a provider printed"]
    assert translator.warnings == []


def event(phase: str, name: str, kind: str, step: str = "create") -> Event:
    urn = (
        f"urn:pulumi:sim::entsso-cluster::entsso:sso:SsoMasterSecretCluster$pulumi-python:dynamic/entsso:{kind}::{name}"
    )
    return Event(phase, urn, f"pulumi-python:dynamic/entsso:{kind}", name, Op.CREATE, step=step)


def test_the_heartbeat_names_step_node_operation_and_time_and_falls_back_to_the_resource() -> None:
    now = [500.0]
    wall = 1_800_000_000.0
    out = Console(file=io.StringIO(), width=200)
    renderer = progress.Renderer(out, nodes=["MSSNODE1", "MSSNODE2"], clock=lambda: now[0], wall=lambda: wall)
    assert renderer.heartbeat() == ["[+00:00.0] no step is running: the engine is working"]
    renderer(event("start", "mss-sso-install-mssnode2", "SsoInstall"))
    renderer(event("start", "mss-sso-install-mssnode1", "SsoInstall"))
    renderer(event("start", "mss-secret-server", "SecretServerName"))
    renderer.note(OperationNote("start", "MSSNODE2", "sso_install", "SsoInstall", at=wall - 150))
    renderer.note(OperationNote("start", "MSSNODE1", "sso_install", "SsoInstall", at=wall - 90))
    renderer.note(OperationNote("start", "MSSNODE1", "secret_server_set", "SecretServerName: updatedb", at=wall - 5))
    now[0] += 151.2
    lines = renderer.heartbeat()
    assert all(line.startswith("[+02:31.2] ") for line in lines), lines
    assert [line.split("] ", 1)[1] for line in lines] == [
        "step 6 on MSSNODE2: sso_install running for 2 min 30 s (SsoInstall mss-sso-install-mssnode2)",
        "step 1 on MSSNODE1: sso_install running for 1 min 30 s (SsoInstall mss-sso-install-mssnode1)",
        "steps 10-13 on MSSNODE1: secret_server_set running for 5 s (SecretServerName mss-secret-server)",
    ]
    renderer.note(OperationNote("end", "MSSNODE2", "sso_install", "SsoInstall", at=wall, ok=True, seconds=150.0))
    after = [line.split("] ", 1)[1] for line in renderer.heartbeat()]
    assert after[-1] == "SsoInstall mss-sso-install-mssnode2 (step 6): create running for 2 min 31 s"
    renderer(event("end", "mss-sso-install-mssnode2", "SsoInstall"))
    assert not any("mssnode2" in line for line in renderer.heartbeat())


def test_a_note_carries_no_parameter_so_no_secret_reaches_a_progress_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A provider's remote call with a password: its notes (and so the heartbeat) name node, operation and
    label, never a parameter."""
    password = "Pa$$w0rd-" + "7e1c9a"

    class Session:
        node = SimpleNamespace(name="MSSNODE1")
        label = "SsoServer"

        def run(self, operation: str, script: str, parameters: dict[str, object], secret: object) -> dict[str, object]:
            assert parameters["ServicePassword"] == password
            raise RuntimeError("the node refused")  # the end note still comes, and still without parameters

    with pytest.raises(RuntimeError):
        Remote(Session()).call("sso_configure", ServicePassword=password)  # type: ignore[arg-type]
    written = capsys.readouterr().err.splitlines()
    parsed = [notes.parse(line) for line in written]
    assert [(n["phase"], n["node"], n["operation"]) for n in parsed if n] == [
        ("start", "MSSNODE1", "sso_configure"),
        ("end", "MSSNODE1", "sso_configure"),
    ]
    assert parsed[1] is not None and parsed[1]["ok"] is False
    assert password not in "\n".join(written)
    renderer = progress.Renderer(Console(file=io.StringIO(), width=200), nodes=["MSSNODE1"])
    renderer.note(OperationNote.from_json(parsed[0]))  # type: ignore[arg-type]
    assert password not in "\n".join(renderer.heartbeat())


class FakeClock:
    """A monotonic clock that moves only when the heartbeat waits: each wait takes what it asked for, or the
    next of `late` extra seconds (a wake-up the scheduler delayed); the heartbeat stops after `waits` waits."""

    def __init__(self, waits: int, late: tuple[float, ...] = ()) -> None:
        self.now = 1000.0
        self.waits = waits
        self.late = list(late)

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += seconds + (self.late.pop(0) if self.late else 0.0)
        self.waits -= 1
        return self.waits < 0


@pytest.mark.parametrize("late", [(), (0.0, 0.7, 0.0, 0.3, 1.1, 0.0, 0.0, 2.9, 0.5)])
def test_the_heartbeat_is_never_further_apart_than_the_interval(late: tuple[float, ...]) -> None:
    """Thirty-second interval, ten simulated minutes: with punctual wake-ups, no two heartbeats are more than
    30 s apart; a wake-up the scheduler delays delays the heartbeat by no more than that delay."""
    clock = FakeClock(waits=100, late=late)
    out = io.StringIO()
    renderer = progress.Renderer(Console(file=out, width=200), nodes=["N1", "N2"], clock=clock)
    renderer(event("start", "mss-sso-install-n1", "SsoInstall"))
    progress.Heartbeat(renderer, Console(file=out, width=200), 30.0, wait=clock.wait).beat()
    lines = stamped(out.getvalue())
    stamps = [0.0] + [at for at, _ in lines]
    assert clock.now - renderer.started >= 600 and len(lines) >= 600 / 30
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert max(gaps) <= 30.0 + max(late, default=0.0) + 0.1, gaps  # the stamps are shown to the tenth
    if not late:
        assert max(gaps) <= 30.0, gaps
    running = [
        int(m.group(1)) * 60 + int(m.group(2))
        for _, what in lines
        if (m := re.search(r"create running for (\d+) min (\d+) s$", what))
    ]
    assert running and running == sorted(running) and running[-1] >= 570, running


def test_the_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(progress.INTERVAL_VARIABLE, raising=False)
    assert progress.progress_interval() == 30.0
    monkeypatch.setenv(progress.INTERVAL_VARIABLE, "5")
    assert progress.progress_interval() == 5.0
    for bad in ("soon", "0", "-1", "86400"):
        monkeypatch.setenv(progress.INTERVAL_VARIABLE, bad)
        with pytest.raises(LocalConditionError, match=progress.INTERVAL_VARIABLE):
            progress.progress_interval()


def test_steps_are_named_for_the_node_they_run_on() -> None:
    nodes = ["MSSNODE1", "MSSNODE2"]
    assert progress.step_of("SsoInstall", "sso_install", "MSSNODE1", nodes) == "step 1"
    assert progress.step_of("SsoInstall", "sso_install", "mssnode2", nodes) == "step 6"
    assert progress.step_of("SsoServer", "sso_configure", "MSSNODE2", nodes) == "steps 7-8"
    assert progress.step_of("ClusterFeatures", "feature_install", "MSSNODE2", nodes) == "prerequisite"
    assert progress.step_of("SecretRestore", "secret_restore", "MSSNODE2", nodes) == "step 26"
    assert progress.step_of("SecretRestore", "sso_client_check", "MSSNODE1", nodes) == ""
    assert progress.steps_label("pulumi-python:dynamic/entsso:SsoServer", 0) == "steps 2-4"
    assert progress.steps_label("pulumi-python:dynamic/entsso:EntssoRole") == "step 18"
