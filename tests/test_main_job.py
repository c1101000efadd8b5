"""The main job (`make rehearse`, `python -m ops lifecycle --stack sim`) passes through the real Pulumi CLI.

`ops.mainjob.main` serves the stack's simulated nodes on the ports its stack file names; the real
sim stack's (45985-45986) may be taken by a developer's `python -m ops simulate`. So the job runs
on a project of its own under tmp_path (ops.engine.scratch_project: this repository's program, the
sim stack file with a free base port). Its world file, backend and logs then live in that project,
as they would in a fresh checkout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_support import ROOT, STACK, free_port_pair, sim_stack_config

from ops import mainjob
from ops.engine import scratch_project
from simulator.world import load_world

SIMULATOR = "entsso-cluster:simulator"


@pytest.mark.slow
def test_the_main_job_passes_on_free_ports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    simulator = {**sim_stack_config()[SIMULATOR], "basePort": free_port_pair()}
    workspace = scratch_project(tmp_path / "project", STACK, config={SIMULATOR: simulator}, source=ROOT)

    code = mainjob.main(workspace.project_dir, STACK)

    out = capsys.readouterr().out
    assert code == 0, out
    assert "main job passed" in out
    assert "Pulumi CLI v3." in out  # every operation ran through the CLI
    assert "preview sent 0 WinRM requests and plans 0 changes" in out
    for node in ("MSSNODE1", "MSSNODE2"):  # the client check after up, and after failover and back
        assert f"from MSSCLUSTER (owner {node})" in out
    # The nodes it served on the free ports did the work: their world (kept in the project) went
    # through the procedure and back: SSO configured against SSODB, the cluster gone again.
    world = load_world(workspace.project_dir / ".entsso" / "sim" / f"{STACK}.world.json")
    assert world.cluster is None
    database = world.sql.databases["SSODB"]
    assert (database.exists, database.secret_server, sorted(database.servers)) == (
        True,
        "MSSNODE1",
        ["MSSNODE1", "MSSNODE2"],
    )
    # The backend holds the real engine's checkpoint (empty again after destroy) and an update
    # history entry for up, refresh and destroy.
    checkpoint = json.loads(workspace.checkpoint().read_text(encoding="utf-8"))
    assert checkpoint["checkpoint"]["latest"].get("resources") in (None, [])
    history = mainjob.update_history(workspace)
    assert [(entry["kind"], entry["result"]) for entry in history] == [
        ("update", "succeeded"),
        ("refresh", "succeeded"),
        ("destroy", "succeeded"),
    ]
    assert history[0]["resourceChanges"] == {"create": 15}  # the stack, its component, 13 dynamic resources
    assert (workspace.log_dir / f"{STACK}.up.log").stat().st_mode & 0o777 == 0o600
