"""The real Pulumi engine as this project runs it: the pinned CLI, its secrets, its lock, its plugins.

- the CLI is the version tools/pulumi-cli/go.mod pins, built with the release's flags, and `pulumi`
  from PATH is used only when it is that version or newer;
- the sim stack's secrets are `secure:` values under the sample passphrase, and what settings read
  from them is what the CLI decrypts;
- a dynamic-provider host started through the project's launcher dies with the CLI that started
  it, where the stock launcher's host would outlive it (the CLI puts plugins in process groups of
  their own, so a kill of the run's group does not reach them);
- two runs on one stack at once: the DIY backend's lock refuses the second, clearly, and nothing
  is corrupted; a live run's lock is never taken for a stale one;
- the policy pack runs through the CLI against the real engine's resources.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from engine_support import PREFIX, ROOT, SimStack, sim_stack

import settings
from ops import mainjob, pulumi_cli
from ops.engine import Engine, scratch_project, stale_locks
from ops.model import RunResult
from settings import crypt
from simulator.world import Fault, FaultPlan
from simulator.wsman.backend import Directive, Session

LAUNCHER = ROOT / "tools" / "pulumi-cli" / "plugins" / "pulumi-resource-pulumi-python"


# -- the CLI, pinned --------------------------------------------------------------------------------


def test_the_cli_is_the_pinned_version_built_with_the_release_flags() -> None:
    pinned = pulumi_cli.pinned_version()
    go_mod = (pulumi_cli.TOOLS_DIR / "go.mod").read_text(encoding="utf-8")
    go_sum = (pulumi_cli.TOOLS_DIR / "go.sum").read_text(encoding="utf-8")
    assert re.search(rf"github.com/pulumi/pulumi/sdk/v3 {re.escape(pinned)}\b", go_mod)  # the same version
    assert f"github.com/pulumi/pulumi/pkg/v3 {pinned} h1:" in go_sum  # pinned by hash too
    command = pulumi_cli.build_command(pinned, Path("out"))
    assert command[:2] == ["go", "build"] and "-trimpath" in command
    assert command[command.index("-tags") + 1] == "osusergo,grpcnotrace"
    assert command[command.index("-ldflags") + 1] == f"-s -w -X {pulumi_cli.VERSION_SYMBOL}={pinned}"
    cli = pulumi_cli.require()
    assert (pulumi_cli.semver(cli.version) or (0, 0, 0)) >= (pulumi_cli.semver(pinned) or (9, 9, 9))
    assert pulumi_cli.version_of(cli.executable) == cli.version  # the version stamp is there


def _fake_pulumi(directory: Path, version: str) -> Path:
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True)
    fake = bin_dir / "pulumi"
    fake.write_text(f"#!/bin/sh\necho {version}\n", encoding="utf-8")
    fake.chmod(0o755)
    return bin_dir


def test_pulumi_from_path_is_used_only_when_it_is_the_pinned_version_or_newer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pinned = pulumi_cli.pinned_version()
    monkeypatch.setenv("ENTSSO_CACHE_DIR", str(tmp_path / "empty-cache"))
    newer = _fake_pulumi(tmp_path / "newer", "v3.999.0")
    monkeypatch.setenv("PATH", f"{newer}{os.pathsep}/usr/bin:/bin")
    found = pulumi_cli.locate(pinned)
    assert found is not None and (found.origin, found.version, found.directory) == ("PATH", "v3.999.0", newer)

    older = _fake_pulumi(tmp_path / "older", "v3.100.0")
    monkeypatch.setenv("PATH", f"{older}{os.pathsep}/usr/bin:/bin")
    assert pulumi_cli.locate(pinned) is None  # too old, and nothing built in the cache
    with pytest.raises(pulumi_cli.CliError, match="run `make cli`"):
        pulumi_cli.require(pinned)


# -- secrets under the sample passphrase ------------------------------------------------------------


def test_the_sim_stacks_secrets_are_what_the_cli_decrypts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = scratch_project(tmp_path / "project", "sim", source=ROOT)
    engine = Engine(workspace)
    engine.ensure_stack()
    loaded = settings.load_stack_file(ROOT / "Pulumi.sim.yaml")
    document = (ROOT / "Pulumi.sim.yaml").read_text(encoding="utf-8")
    for key in ("installPassword", "serviceAccountPassword", "backupPassword"):
        assert re.search(rf"{PREFIX}{key}:\n\s+secure: v1:", document), key  # encrypted in the stack file
        shown = engine.cli_command("config", "get", PREFIX + key, "--stack", "sim").stdout.strip()
        assert shown == loaded.secret(key)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"SIM_PASSPHRASE := {crypt.SAMPLE_PASSPHRASE}\n" in makefile
    assert crypt.SAMPLE_PASSPHRASE in (ROOT / "README.md").read_text(encoding="utf-8")

    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "not the sample passphrase")
    wrong = {**os.environ, **workspace.environment(pulumi_cli.require())}
    wrong["PULUMI_CONFIG_PASSPHRASE"] = "not the sample passphrase"
    refused = subprocess.run(
        [str(pulumi_cli.require().executable), "config", "get", PREFIX + "installPassword", "--stack", "sim"],
        cwd=workspace.project_dir,
        env=wrong,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0 and "incorrect passphrase" in refused.stderr
    salt = str(settings_document(ROOT)["encryptionsalt"])
    with pytest.raises(crypt.DecryptError, match="incorrect passphrase"):
        crypt.crypter_key("not the sample passphrase", salt)
    # A simulator stack still opens: the environment's passphrase does not, the sample one does.
    assert settings.load_stack_file(ROOT / "Pulumi.sim.yaml").secret("backupPassword") == loaded.secret(
        "backupPassword"
    )


def settings_document(root: Path) -> dict[str, object]:
    import yaml

    document: dict[str, object] = yaml.safe_load((root / "Pulumi.sim.yaml").read_text(encoding="utf-8"))
    return document


# -- provider hosts die with their engine -----------------------------------------------------------

# Stands in for the CLI's side of starting a plugin (sdk/go/common/resource/plugin/plugin.go): the
# plugin in a process group of its own, its port read from its first line of stdout; then it waits
# to be killed.
_FAKE_CLI = """
import subprocess, sys, time
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, process_group=0)
port = child.stdout.readline().decode().strip()
print(child.pid, port, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _host_under_a_killed_parent(command: list[str]) -> tuple[int, bool]:
    """Start `command` as the CLI starts a plugin, SIGKILL the parent, and say whether the plugin
    (pid) was still running 3 seconds later."""
    env = {**os.environ, "PULUMI_RUNTIME_VIRTUALENV": str(ROOT / ".venv")}
    parent = subprocess.Popen(
        [sys.executable, "-c", _FAKE_CLI, *command], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    pid_text, port = parent.stdout.readline().split()
    assert port.isdigit(), "the provider host did not start"
    parent.kill()
    parent.wait()
    time.sleep(3)
    return int(pid_text), _alive(int(pid_text))


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs Linux /proc")
def test_a_provider_host_dies_with_its_engine_where_the_stock_launchers_would_outlive_it() -> None:
    guarded, alive = _host_under_a_killed_parent([str(LAUNCHER), "127.0.0.1:1"])
    assert not alive, f"the guarded provider host {guarded} outlived the CLI that started it"

    # The launcher Pulumi ships (sdk/python/dist/pulumi-resource-pulumi-python) runs python as a
    # child of the shell, without exec and without a guard: that host is orphaned, still listening.
    stock = ["/bin/sh", "-c", f'"{ROOT / ".venv" / "bin" / "python"}" -u -m pulumi.dynamic "$@"', "sh"]
    orphan, alive = _host_under_a_killed_parent(stock)
    try:
        assert alive, "the stock launcher's host died too: this test could not tell the launchers apart"
    finally:
        os.killpg(orphan, signal.SIGKILL)  # its own group: the shell and its python


# -- two runs at once -------------------------------------------------------------------------------


def _held(r: SimStack, operation: str, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    reached = threading.Event()
    original = r.nodes.host.directive

    def directive(session: Session, name: str) -> Directive:
        decided = original(session, name)
        if name == operation:
            reached.set()
        return decided

    monkeypatch.setattr(r.nodes.host, "directive", directive)
    return reached


@pytest.mark.slow
def test_a_second_run_on_a_stack_is_refused_while_one_runs_and_nothing_is_corrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = FaultPlan(faults=[Fault(kind="delay", operation="secret_server_set", times=1, seconds=8)])
    with sim_stack(tmp_path, plan=slow) as r:
        reached = _held(r, "secret_server_set", monkeypatch)
        first: list[RunResult] = []
        running = threading.Thread(target=lambda: first.append(r.engine.up()))
        running.start()
        try:
            assert reached.wait(120), "the first up never reached secret_server_set"
            assert list(r.workspace.lock_dir().glob("*.json")), "the running up holds no lock"
            assert list(stale_locks(r.workspace)) == []  # a live CLI's lock is not stale

            second = Engine(r.workspace).up()
            destroy = Engine(r.workspace).destroy()
        finally:
            running.join(300)

        for refused in (second, destroy):
            assert refused.failed and refused.error is not None
            assert "locked" in refused.error and re.search(r"pid \d+", refused.error), refused.error
            assert refused.outcomes == []  # it did nothing
        assert first and not first[0].failed, first[0].error if first else "the first up did not finish"
        history = mainjob.update_history(r.workspace)
        assert [(entry["kind"], entry["result"]) for entry in history] == [("update", "succeeded")]
        assert len(r.checkpoint()["resources"]) == 16  # the stack, its component, the provider, 13 dynamic resources
        assert not list(r.workspace.lock_dir().glob("*.json"))
        assert not Engine(r.workspace).preview().failed  # the stack is whole: a preview plans nothing
        assert r.nodes.host.client_check()[0]


# -- the policy pack through the CLI ----------------------------------------------------------------


@pytest.mark.slow
def test_the_policy_pack_runs_through_the_cli_on_the_engines_resources(tmp_path: Path) -> None:
    """`--policy-pack policy`: on the sim stack (tier lab, nothing protected) the production pack's
    mandatory `sso-resources-protected` fails the preview, once for each SSO resource."""
    with sim_stack(tmp_path) as r:
        engine = Engine(r.workspace, policy_packs=(ROOT / "policy",))
        preview = engine.preview()
    assert preview.failed and preview.error is not None and "mandatory policy violations" in preview.error
    flagged = sorted(
        v.split(" on ", 1)[1].split(":", 1)[0]
        for v in preview.policy_violations
        if v.startswith("entsso-cluster-prod/sso-resources-protected (mandatory)")
    )
    assert flagged == sorted(o.name for o in preview.outcomes if o.type.startswith("pulumi-python:dynamic/"))
    assert len(flagged) == 13  # every dynamic resource: 3 on each of the two nodes, 7 of the cluster
