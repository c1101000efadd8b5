"""The main job (`make rehearse`, `python -m ops rehearse lifecycle --stack sim`) passes.

`ops.mainjob.main` serves the stack's simulated nodes on the ports its stack file names; the real
sim stack's (45985-45986) may be taken by a developer's `python -m ops simulate`. So the job runs
on a project of its own under tmp_path: a Pulumi.yaml whose `main` is this repository (the real
`__main__.py`) and the sim stack file with a free base port. The job's state, world file and
state key then live in that project, as they would in a fresh checkout.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from rehearse_support import ROOT, STACK, free_port_pair

from ops import mainjob
from ops.rehearse.state import PASSPHRASE_ENV
from simulator.world import load_world

SIMULATOR = "entsso-cluster:simulator"


def _write_yaml(path: Path, document: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def project_on_free_ports(where: Path) -> tuple[Path, int]:
    """A project that runs this repository's program with the sim stack moved to free ports."""
    where.mkdir()
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    project["main"] = str(ROOT)
    project["runtime"]["options"]["virtualenv"] = str(ROOT / ".venv")
    _write_yaml(where / "Pulumi.yaml", project)
    stack = yaml.safe_load((ROOT / f"Pulumi.{STACK}.yaml").read_text(encoding="utf-8"))
    base_port = free_port_pair()
    stack["config"][SIMULATOR] = {**stack["config"][SIMULATOR], "basePort": base_port}
    _write_yaml(where / f"Pulumi.{STACK}.yaml", stack)
    return where, base_port


@pytest.mark.slow
def test_the_main_job_passes_on_free_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project, _ = project_on_free_ports(tmp_path / "project")
    # The provider host runs in the project directory; it unpickles the providers from this repository.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)  # the project's own key file, as in a fresh checkout

    code = mainjob.main(project, STACK)

    out = capsys.readouterr().out
    assert code == 0, out
    assert "main job passed" in out
    assert "preview sent 0 WinRM requests and plans 0 changes" in out
    for node in ("MSSNODE1", "MSSNODE2"):  # the client check after up, and after failover and back
        assert f"from MSSCLUSTER (owner {node})" in out
    # The nodes it served on the free ports did the work: their world (kept in the project) went
    # through the procedure and back: SSO configured against SSODB, the cluster gone again.
    world = load_world(project / ".entsso" / "sim" / f"{STACK}.world.json")
    assert world.cluster is None
    database = world.sql.databases["SSODB"]
    assert (database.exists, database.secret_server, sorted(database.servers)) == (
        True,
        "MSSNODE1",
        ["MSSNODE1", "MSSNODE2"],
    )
    assert (project / ".entsso" / "state.key").stat().st_mode & 0o777 == 0o600
