"""The rehearsal engine, run against a toy program whose dynamic provider writes real files.

Every test copies tests/rehearse_fixture to its own tmp dir, so state, key file and files are private
to the test. What the engine asked the provider to do is read from the provider's own call log
(written by the host process), not inferred from the engine's report.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ops.rehearse import Engine, Event, Op, Status
from ops.rehearse.deployment import apply_ignore_changes
from ops.rehearse.host import concise_error
from ops.rehearse.model import make_urn
from ops.rehearse.properties import Secret, SecretMasker
from ops.rehearse.state import PASSPHRASE_ENV, PendingKind, ResourceState, StackState, StateError, StateStore

FIXTURE = Path(__file__).parent / "rehearse_fixture"
REPO = Path(__file__).resolve().parent.parent
TOKEN = "tok-81f3-plaintext-must-never-reach-state"
BANNER = "hello from stack config"
BASE_NAMES = {
    "toyproject-dev",
    "group",
    "bucket",
    "alpha",
    "beta",
    "gamma",
    "delta",
    "slow-a",
    "slow-b",
    "vault",
}


@dataclass
class Toy:
    project: Path
    files: Path
    state: Path

    def config(self, **overrides: str) -> dict[str, str]:
        return {"dir": str(self.files), "token": TOKEN, "banner": BANNER, **overrides}

    def engine(self, events: list[Event] | None = None, **overrides: str) -> Engine:
        return Engine(
            self.project,
            "dev",
            self.config(**overrides),
            {"token"},
            self.state,
            on_event=events.append if events is not None else None,
        )

    def calls(self) -> list[dict[str, Any]]:
        log = self.files / "calls.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def forget_calls(self) -> None:
        (self.files / "calls.log").unlink(missing_ok=True)

    def changing_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.calls() if c["op"] in ("create", "update", "delete", "read")]

    def span(self, op: str, file: str) -> tuple[float, float]:
        times = {c["phase"]: c["t"] for c in self.calls() if c["op"] == op and c["file"] == file}
        return times["start"], times["end"]

    def state_document(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.state.read_text())
        return document

    def record(self, name: str) -> dict[str, Any]:
        return next(r for r in self.state_document()["resources"] if r["urn"].endswith(f"::{name}"))


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Toy:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)  # the per-project key file, unless a test sets it
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns("__pycache__", ".entsso"))
    files = tmp_path / "files"
    files.mkdir()
    return Toy(project=project, files=files, state=tmp_path / "state" / "dev.json")


def ops_by_name(result: Any) -> dict[str, tuple[Op, Status]]:
    return {o.name: (o.op, o.status) for o in result.outcomes}


def test_up_from_nothing_creates_everything_for_real(toy: Toy) -> None:
    events: list[Event] = []
    result = toy.engine(events).up()

    assert not result.failed, (result.error, result.outcomes, result.host_log)
    assert {name: op for name, (op, _) in ops_by_name(result).items()} == dict.fromkeys(BASE_NAMES, Op.CREATE)
    assert result.summary.created == len(BASE_NAMES)
    for name in ("alpha", "beta", "gamma", "delta", "slow-a", "slow-b", "vault"):
        assert (toy.files / f"{name}.txt").exists()
    alpha_digest = hashlib.sha256(b"alpha v1").hexdigest()[:16]
    # beta's input came from alpha's output, which the real provider computed in the host
    assert (toy.files / "beta.txt").read_text() == f"beta follows alpha {alpha_digest}"
    assert result.outputs["betaContent"] == f"beta follows alpha {alpha_digest}"
    assert result.outputs["banner"] == BANNER  # stack config reached the provider's configure()
    assert result.outputs["vaultDigest"] == "[secret]"
    assert result.outputs["bucketId"] == "bucket-id"  # the mocked non-dynamic resource
    assert result.outputs["tenantId"] == "00000000-0000-0000-0000-00000000000e"  # a mocked invoke
    # the secret config value reached the host in plain (the host accepts no secrets); its log is kept
    assert f"toy provider configured: token of {len(TOKEN)} characters" in result.host_log

    gamma = toy.record("gamma")
    assert gamma["urn"] == "urn:pulumi:dev::toyproject::toy:index:Group$pulumi-python:dynamic/toy:File::gamma"
    assert gamma["parent"] == "urn:pulumi:dev::toyproject::toy:index:Group::group"
    alpha_urn = "urn:pulumi:dev::toyproject::pulumi-python:dynamic/toy:File::alpha"
    assert toy.record("alpha")["urn"] == alpha_urn
    assert toy.record("beta")["dependencies"] == [alpha_urn]
    assert toy.record("beta")["propertyDependencies"]["content"] == [alpha_urn]
    assert toy.record("alpha")["id"] == str(toy.files / "alpha.txt")
    assert toy.state_document()["pendingOperations"] == []

    ends = {e.name: e for e in events if e.phase == "end"}
    starts = {e.name for e in events if e.phase == "start"}
    assert starts == set(ends) == BASE_NAMES
    assert all(e.status is Status.OK and e.op is Op.CREATE for e in ends.values())


def test_second_preview_and_second_up_change_nothing(toy: Toy) -> None:
    assert not toy.engine().up().failed
    toy.forget_calls()

    preview = toy.engine().preview()
    up = toy.engine().up()

    for result in (preview, up):
        assert not result.failed
        assert {op for op, _ in ops_by_name(result).values()} == {Op.SAME}
        assert result.summary.unchanged == len(BASE_NAMES)
    assert toy.changing_calls() == []
    assert {c["op"] for c in toy.calls()} == {"check", "diff"}


def test_preview_only_checks_and_diffs(toy: Toy) -> None:
    assert not toy.engine().up().failed
    before = toy.state.read_bytes()
    toy.forget_calls()

    result = toy.engine(alphaContent="alpha v2", gammaName="g2.txt", deltaName="d2.txt", withExtra="true").preview()

    assert not result.failed, result.outcomes
    planned = ops_by_name(result)
    assert planned["alpha"] == (Op.UPDATE, Status.OK)
    assert planned["beta"] == (Op.UPDATE, Status.OK)  # its input is alpha's (now unknown) digest
    assert planned["gamma"] == (Op.REPLACE, Status.OK)
    assert planned["delta"] == (Op.REPLACE, Status.OK)
    assert planned["extra"] == (Op.CREATE, Status.OK)
    assert planned["extra-child"] == (Op.CREATE, Status.OK)
    assert planned["vault"] == (Op.SAME, Status.OK)
    assert result.outputs["betaContent"] == "[unknown]"
    assert {c["op"] for c in toy.calls()} <= {"check", "diff"}
    assert toy.changing_calls() == []
    assert toy.state.read_bytes() == before
    assert not (toy.files / "g2.txt").exists()
    assert (toy.files / "alpha.txt").read_text() == "alpha v1"


def test_changed_inputs_update_or_replace_exactly_what_diff_says(toy: Toy) -> None:
    assert not toy.engine().up().failed
    toy.forget_calls()

    result = toy.engine(alphaContent="alpha v2", gammaName="g2.txt", deltaName="d2.txt").up()

    assert not result.failed, result.outcomes
    outcomes = {o.name: o for o in result.outcomes}
    assert (outcomes["alpha"].op, outcomes["alpha"].changed) == (Op.UPDATE, ("content",))
    assert (outcomes["beta"].op, outcomes["beta"].changed) == (Op.UPDATE, ("content",))
    assert (outcomes["gamma"].op, outcomes["gamma"].changed) == (Op.REPLACE, ("fileName",))
    assert (outcomes["delta"].op, outcomes["delta"].changed) == (Op.REPLACE, ("fileName",))
    assert {n for n, o in outcomes.items() if o.op is Op.SAME} == BASE_NAMES - {
        "alpha",
        "beta",
        "gamma",
        "delta",
    }
    assert result.summary.updated == 2
    assert result.summary.replaced == 2
    assert result.summary.deleted == 0

    changing = toy.changing_calls()
    assert sorted(c["file"] for c in changing if c["op"] == "update" and c["phase"] == "end") == [
        "alpha.txt",
        "beta.txt",
    ]
    # gamma holds a lock: its diff asked for delete-before-replace, and the create only works that way
    assert toy.span("delete", "gamma.txt")[1] <= toy.span("create", "g2.txt")[0]
    # delta is replaced create-first, and the old one is deleted at the end of the run
    assert toy.span("create", "d2.txt")[1] <= toy.span("delete", "delta.txt")[0]
    assert changing[-2:] == [c for c in changing if c["file"] == "delta.txt"]
    assert (toy.files / "alpha.txt").read_text() == "alpha v2"
    assert (toy.files / "g2.txt").exists()
    assert (toy.files / "d2.txt").exists()
    assert not (toy.files / "gamma.txt").exists()
    assert not (toy.files / "delta.txt").exists()
    assert not any(r["delete"] for r in toy.state_document()["resources"])


def test_refresh_reports_drift_and_removal(toy: Toy) -> None:
    assert not toy.engine().up().failed
    (toy.files / "alpha.txt").write_text("changed behind its back")
    (toy.files / "delta.txt").unlink()
    toy.forget_calls()

    result = toy.engine().refresh()

    assert not result.failed, result.outcomes
    outcomes = {o.name: o for o in result.outcomes}
    assert outcomes["alpha"].op is Op.READ_DRIFT
    assert set(outcomes["alpha"].changed) == {"content", "digest", "size"}
    assert outcomes["delta"].op is Op.REFRESH_REMOVED
    assert {n for n, o in outcomes.items() if o.op is Op.SAME} == {
        "beta",
        "gamma",
        "slow-a",
        "slow-b",
        "vault",
        "bucket",
    }
    assert (result.summary.updated, result.summary.deleted) == (1, 1)
    assert {c["op"] for c in toy.calls()} == {"read"}
    assert not any(r["urn"].endswith("::delta") for r in toy.state_document()["resources"])
    assert toy.record("alpha")["outputs"]["content"] == "changed behind its back"

    toy.forget_calls()
    again = toy.engine().up()  # converges: delta comes back, alpha's content is put right
    ops = ops_by_name(again)
    assert ops["delta"] == (Op.CREATE, Status.OK)
    assert ops["alpha"] == (Op.UPDATE, Status.OK)
    assert (toy.files / "alpha.txt").read_text() == "alpha v1"
    assert (toy.files / "delta.txt").exists()


def test_destroy_deletes_dependents_first_in_parallel_and_empties_the_state(toy: Toy) -> None:
    assert not toy.engine(withExtra="true").up().failed
    toy.forget_calls()

    result = toy.engine(withExtra="true").destroy()

    assert not result.failed, result.outcomes
    assert result.summary.deleted == len(BASE_NAMES) + 2
    assert toy.state_document()["resources"] == []
    assert sorted(p.name for p in toy.files.iterdir()) == ["calls.log"]
    for dependent, dependency in [("beta", "alpha"), ("extra-child", "extra")]:
        assert toy.span("delete", f"{dependent}.txt")[1] <= toy.span("delete", f"{dependency}.txt")[0]
    order = [o.name for o in result.outcomes]
    assert order.index("group") > max(order.index("gamma"), order.index("delta"))  # children before parent
    assert order[-1] == "toyproject-dev"  # the stack is the parent of everything


def test_resources_the_program_drops_are_deleted_dependents_first(toy: Toy) -> None:
    assert not toy.engine(withExtra="true").up().failed
    toy.forget_calls()

    result = toy.engine().up()

    assert ops_by_name(result)["extra"] == (Op.DELETE, Status.OK)
    assert ops_by_name(result)["extra-child"] == (Op.DELETE, Status.OK)
    assert result.summary.deleted == 2
    assert toy.span("delete", "extra-child.txt")[1] <= toy.span("delete", "extra.txt")[0]
    assert not (toy.files / "extra.txt").exists()


def test_protected_resource_is_not_deleted(toy: Toy) -> None:
    assert not toy.engine(withKeeper="true", protectKeeper="true").up().failed

    result = toy.engine(withKeeper="true", protectKeeper="true").destroy()

    assert result.failed
    keeper = result.outcome("keeper")
    assert keeper.status is Status.FAILED
    assert "marked for protection" in (keeper.error or "")
    assert result.outcome("toyproject-dev").status is Status.SKIPPED  # the keeper's parent must stay
    assert result.outcome("alpha").status is Status.OK
    assert (toy.files / "keeper.txt").exists()
    left = {r["urn"].rsplit("::", 1)[1] for r in toy.state_document()["resources"]}
    assert left == {"keeper", "toyproject-dev"}


def test_a_failed_resource_skips_its_dependents_but_not_the_rest(toy: Toy) -> None:
    result = toy.engine(broken="true").up()

    assert result.failed
    broken = result.outcome("broken")
    assert broken.status is Status.FAILED
    assert broken.error == "check failed: fileName: 'bad/name' is not a plain file name"
    assert result.outcome("after-broken").status is Status.SKIPPED
    rival = result.outcome("rival")  # its create raised in the host: one line, not a traceback
    assert rival.status is Status.FAILED
    assert rival.error == "create failed: RuntimeError: lock gamma is already held by another resource"
    assert {n for n, (_, s) in ops_by_name(result).items() if s is Status.OK} == BASE_NAMES
    assert (result.summary.failed, result.summary.skipped, result.summary.created) == (2, 1, len(BASE_NAMES))
    assert not (toy.files / "after.txt").exists()
    assert not any(r["urn"].endswith(("::rival", "::broken")) for r in toy.state_document()["resources"])
    assert toy.state_document()["pendingOperations"] == []


def test_delete_and_read_use_the_provider_stored_in_the_state(toy: Toy) -> None:
    assert not toy.engine().up().failed
    # A new provider object in the program changes every __provider blob. The toy's diff ignores the
    # blob, so only alpha and beta (whose content changes) are updated, and Update stores the new
    # blob; every other resource keeps the blob its create stored.
    updated = toy.engine(providerGeneration="2", alphaContent="alpha v2").up()
    assert {n for n, (op, _) in ops_by_name(updated).items() if op is Op.UPDATE} == {"alpha", "beta"}
    toy.forget_calls()

    assert not toy.engine(providerGeneration="3").refresh().failed
    assert not toy.engine(providerGeneration="3").destroy().failed

    for op in ("read", "delete"):
        generation_of = {c["file"]: c["gen"] for c in toy.calls() if c["op"] == op}
        assert generation_of.pop("alpha.txt") == 2
        assert generation_of.pop("beta.txt") == 2
        assert set(generation_of.values()) == {1}


def test_a_failing_program_keeps_what_it_did_not_register(toy: Toy) -> None:
    assert not toy.engine(withExtra="true").up().failed
    toy.forget_calls()

    result = Engine(toy.project, "dev", {"token": TOKEN}, {"token"}, toy.state).up()  # no "dir"

    assert result.error is not None
    assert "toyproject:dir" in result.error
    assert toy.changing_calls() == []
    assert (toy.files / "extra.txt").exists()
    assert any("were not deleted" in w for w in result.warnings)


def test_secrets_are_encrypted_at_rest(toy: Toy) -> None:
    assert not toy.engine().up().failed

    text = toy.state.read_text()
    token_digest = hashlib.sha256(TOKEN.encode()).hexdigest()[:16]
    assert TOKEN not in text
    assert token_digest not in text  # vault's digest is an additional secret output
    vault = toy.record("vault")
    for values in (vault["inputs"], vault["outputs"]):
        assert values["content"]["secure"] is True
        assert values["__provider"]["secure"] is True  # the provider blob
    assert vault["outputs"]["digest"]["secure"] is True
    assert toy.record("alpha")["outputs"]["content"] == "alpha v1"  # the rest stays readable
    key_file = toy.project / ".entsso" / "state.key"
    assert key_file.stat().st_mode & 0o777 == 0o600

    # and they decrypt back to the same values, as secrets
    state = StateStore(toy.state, lambda create: key_file.read_bytes().strip()).load()
    record = next(r for r in state.resources if r.name == "vault")
    assert record.inputs["content"] == Secret(TOKEN)
    assert record.outputs["digest"] == Secret(token_digest)


def test_a_passphrase_from_the_environment_must_match(toy: Toy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse battery staple")
    assert not toy.engine().up().failed
    assert not (toy.project / ".entsso").exists()

    monkeypatch.setenv(PASSPHRASE_ENV, "wrong passphrase")
    result = toy.engine().up()

    assert result.error is not None
    assert "passphrase" in result.error
    assert result.outcomes == []
    assert "correct horse" not in result.error


def test_independent_slow_creates_run_concurrently(toy: Toy) -> None:
    result = toy.engine(slowDelay="1.2").up()

    assert not result.failed
    a_start, a_end = toy.span("create", "slow-a.txt")
    b_start, b_end = toy.span("create", "slow-b.txt")
    assert a_start < b_end
    assert b_start < a_end


def _live_members(process_group: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == process_group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs Linux /proc to see the killed processes")
def test_an_up_killed_mid_create_leaves_a_valid_state_and_the_next_up_resumes(toy: Toy) -> None:
    script = (
        "import json, sys; from pathlib import Path; from ops.rehearse import Engine; "
        "a = json.loads(sys.argv[1]); "
        "Engine(Path(a['project']), 'dev', a['config'], {'token'}, Path(a['state'])).up()"
    )
    arguments = json.dumps({"project": str(toy.project), "state": str(toy.state), "config": toy.config(slowDelay="60")})
    runner = subprocess.Popen([sys.executable, "-c", script, arguments], cwd=REPO, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (
            {"slow-a.txt", "slow-b.txt"} <= {c["file"] for c in toy.calls() if c["op"] == "create"}
            and toy.state.exists()
            and any(r["urn"].endswith("::vault") for r in toy.state_document()["resources"])
        ):
            assert runner.poll() is None, "the interrupted up ended by itself"
            assert time.monotonic() < deadline, "the slow creates never started"
            time.sleep(0.05)
    finally:
        os.killpg(runner.pid, signal.SIGKILL)  # the runner, its worker and the provider host
        runner.wait()
    deadline = time.monotonic() + 30
    while _live_members(runner.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _live_members(runner.pid) == []

    interrupted = StateStore(toy.state, lambda create: (toy.project / ".entsso" / "state.key").read_bytes().strip())
    state = interrupted.load()
    assert {(p.kind, p.urn.rsplit("::", 1)[1]) for p in state.pending_operations} >= {
        (PendingKind.CREATING, "slow-a"),
        (PendingKind.CREATING, "slow-b"),
    }
    assert state.live("urn:pulumi:dev::toyproject::pulumi-python:dynamic/toy:File::slow-a") is None
    assert state.live("urn:pulumi:dev::toyproject::pulumi-python:dynamic/toy:File::vault") is not None
    # What the state records is what counts: a create the provider finished but the state did
    # not record before the kill is a pending create, so it is created again (creates are idempotent).
    recorded = {f"{r.name}.txt" for r in state.live_resources()}
    toy.forget_calls()

    resumed = toy.engine(slowDelay="0").up()

    assert not resumed.failed, resumed.outcomes
    ops = ops_by_name(resumed)
    assert ops["slow-a"] == (Op.CREATE, Status.OK)
    assert ops["slow-b"] == (Op.CREATE, Status.OK)
    assert ops["vault"] == (Op.SAME, Status.OK)
    assert sum("interrupted while creating" in w for w in resumed.warnings) >= 2
    created_now = {c["file"] for c in toy.calls() if c["op"] == "create" and c["phase"] == "end"}
    dynamic_files = {f"{n}.txt" for n in BASE_NAMES - {"toyproject-dev", "group", "bucket"}}
    assert created_now == dynamic_files - recorded
    assert toy.state_document()["pendingOperations"] == []
    assert all((toy.files / f"{n}.txt").exists() for n in ("slow-a", "slow-b", "beta"))


# -- pieces that need no processes ------------------------------------------------------------------


def test_concise_error_keeps_the_exception_not_the_frames() -> None:
    details = (
        "Traceback (most recent call last):\n"
        '  File "/x/__main__.py", line 10, in wrapper\n'
        "    return fn(self, request, context)\n"
        "           ^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        '  File "/p/toyprov.py", line 3, in create\n'
        "    raise RuntimeError('lock gamma is already held')\n"
        "RuntimeError: lock gamma is already held\n"
    )
    assert concise_error(details) == "RuntimeError: lock gamma is already held"
    assert concise_error("plain message") == "plain message"


def test_state_round_trips_and_refuses_a_wrong_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = StateStore(path, lambda create: b"one")
    record = ResourceState(
        urn="urn:pulumi:s::p::t:m:T::r",
        type="t:m:T",
        custom=True,
        id="r-id",
        inputs={"password": Secret("p@ss w0rd"), "nested": {"k": [Secret(1), 2]}},
    )
    store.save(StackState(resources=[record]))

    assert "p@ss w0rd" not in path.read_text()
    loaded = StateStore(path, lambda create: b"one").load()
    assert loaded.resources[0].inputs == record.inputs
    with pytest.raises(StateError, match="passphrase"):
        StateStore(path, lambda create: b"two").load()


def test_urns_follow_the_engine_rule_for_parents() -> None:
    stack = make_urn("dev", "proj", "", "pulumi:pulumi:Stack", "proj-dev")
    group = make_urn("dev", "proj", stack, "toy:index:Group", "g")
    inner = make_urn("dev", "proj", group, "toy:index:Inner", "i")
    leaf = make_urn("dev", "proj", inner, "pulumi-python:dynamic/toy:File", "f")
    assert group == "urn:pulumi:dev::proj::toy:index:Group::g"  # the root stack adds no prefix
    assert leaf == "urn:pulumi:dev::proj::toy:index:Group$toy:index:Inner$pulumi-python:dynamic/toy:File::f"


def test_ignore_changes_keeps_old_top_level_values() -> None:
    olds = {"a": 1, "b": 2}
    news = {"a": 10, "b": 20, "c": 30}
    assert apply_ignore_changes(news, olds, ["a", "c"]) == {"a": 1, "b": 20}
    assert apply_ignore_changes(news, None, ["a"]) == news  # nothing to keep on a create


def test_masker_hides_secret_values_in_free_text() -> None:
    masker = SecretMasker()
    masker.add_secrets_in({"password": Secret("S3cr3t!pw"), "nested": {"k": Secret(["tok-123456"])}, "x": "open"})
    text = "login failed for S3cr3t!pw with tok-123456; open stays"
    assert masker.mask(text) == "login failed for [secret] with [secret]; open stays"
