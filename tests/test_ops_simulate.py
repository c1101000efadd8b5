"""`python -m ops simulate` serves the stack's nodes so that an unmodified WinRM client reaches them."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import winrm

from ops import simstack

ROOT = Path(__file__).resolve().parent.parent


def test_simulate_serves_two_nodes_and_keeps_the_world(tmp_path: Path) -> None:
    base = simstack.free_ports(2)
    world = tmp_path / "sim.world.json"
    command = [
        sys.executable,
        "-m",
        "ops",
        "simulate",
        "--stack",
        "sim",
        "--base-port",
        str(base),
        "--world",
        str(world),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(5)]
        assert f"MSSNODE1: http://127.0.0.1:{base}/wsman" in banner[1]
        assert f"MSSNODE2: http://127.0.0.1:{base + 1}/wsman" in banner[2]
        for index, node in enumerate(("MSSNODE1", "MSSNODE2")):
            session = winrm.Session(
                f"http://127.0.0.1:{base + index}/wsman",
                auth=("CORP\\svc-install", "Sim-Install-Pa55!"),
                transport="ntlm",
            )
            result = session.run_cmd("hostname")
            assert result.status_code == 0
            assert result.std_out.decode().strip() == node
        assert "Sim-Install-Pa55!" not in "".join(banner)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "stopped" in out
    assert world.exists()
    assert world.stat().st_mode & 0o077 == 0
