"""`python -m ops simulate` serves the stack's nodes so that an unmodified WinRM client reaches them,
keeps nothing password-equivalent outside the world file (even when killed mid-write), and ends in
one line, without a traceback, when a local condition stops it: exit 1 for this machine (a corrupt or
busy world file, a port in use), exit 2 for a bad setting (a state directory outside the project).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import winrm
import yaml

import settings
from ops import simstack
from simulator.wsman.auth import nt_hash

ROOT = Path(__file__).resolve().parent.parent
SIM = settings.load_stack_file(ROOT / "Pulumi.sim.yaml")
INSTALL = SIM.domain.install_account
SECRET_KEYS = ("installPassword", "serviceAccountPassword", "backupPassword")
# `python -m ops` with another project directory (a stack file of the test's own).
IN_PROJECT = (
    "import sys; from pathlib import Path; import ops.cli as cli; "
    "cli.PROJECT_DIR = Path(sys.argv[1]); sys.exit(cli.main(sys.argv[2:]))"
)
# `python -m ops` whose world saves stop just before os.replace, the temporary complete on disk, and
# tell the test where that temporary is: the test then kills the process with SIGKILL.
PAUSED_IN_SAVE = (
    "import os, sys, time; from pathlib import Path\n"
    "real = os.replace\n"
    "def replace(src, dst, *args, **kwargs):\n"
    "    if str(dst).endswith('.world.json'):\n"
    "        Path(sys.argv[1]).write_text(str(src)); time.sleep(120)\n"
    "    return real(src, dst, *args, **kwargs)\n"
    "os.replace = replace\n"
    "import ops.cli as cli; sys.exit(cli.main(sys.argv[2:]))\n"
)


def simulate_command(world: Path, base: int) -> list[str]:
    return [sys.executable, "-m", "ops", "simulate", "--stack", "sim", "--base-port", str(base), "--world", str(world)]


def ended(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in lines[0]
    return lines[0]


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, int]]:
    base, world = simstack.free_ports(2), tmp_path / "sim.world.json"
    process = subprocess.Popen(
        simulate_command(world, base), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(5)]
        assert "MSSNODE1" in banner[1], banner
        yield process, world, base
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)


def test_simulate_serves_two_nodes_and_keeps_the_world(tmp_path: Path) -> None:
    base = simstack.free_ports(2)
    world = tmp_path / "sim.world.json"
    process = subprocess.Popen(
        simulate_command(world, base), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(5)]
        assert f"MSSNODE1: http://127.0.0.1:{base}/wsman" in banner[1]
        assert f"MSSNODE2: http://127.0.0.1:{base + 1}/wsman" in banner[2]
        for index, node in enumerate(("MSSNODE1", "MSSNODE2")):
            session = winrm.Session(
                f"http://127.0.0.1:{base + index}/wsman", auth=(INSTALL, SIM.secret("installPassword")), transport="ntlm"
            )
            result = session.run_cmd("hostname")
            assert result.status_code == 0
            assert result.std_out.decode().strip() == node
        assert SIM.secret("installPassword") not in "".join(banner)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "stopped" in out
    assert world.exists()
    assert world.stat().st_mode & 0o077 == 0


# --- bad local conditions end in one line --------------------------------------------------------


def test_a_corrupt_world_file_ends_simulate_with_exit_1(tmp_path: Path) -> None:
    world = tmp_path / "sim.world.json"
    world.write_text('{"format": 2, "world": {"domain": ', encoding="utf-8")
    line = assert_one_line(ended(simulate_command(world, simstack.free_ports(2))), 1, str(world), "not JSON")
    assert "move it away" in line
    assert world.read_text(encoding="utf-8") == '{"format": 2, "world": {"domain": '  # left for the person


def test_a_port_in_use_ends_simulate_with_exit_1_and_frees_the_others(tmp_path: Path) -> None:
    base = simstack.free_ports(2)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", base + 1))  # MSSNODE2's port; MSSNODE1 starts first
        squatter.listen()
        result = ended(simulate_command(tmp_path / "sim.world.json", base))
    assert_one_line(result, 1, f"port {base + 1}", "MSSNODE2", "already in use", "--base-port")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", base))  # MSSNODE1's listener did not outlive the failure


def test_a_world_another_simulator_holds_ends_simulate_with_exit_1(
    serving: tuple[subprocess.Popen[str], Path, int],
) -> None:
    _, world, _ = serving
    assert_one_line(ended(simulate_command(world, simstack.free_ports(2))), 1, str(world), "another simulator")


def project_with_state_directory(where: Path, state_directory: str) -> Path:
    """A project directory holding only a sim stack file whose world would live in `state_directory`."""
    where.mkdir()
    stack = yaml.safe_load((ROOT / "Pulumi.sim.yaml").read_text(encoding="utf-8"))
    stack["config"]["entsso-cluster:simulator"] = {
        **stack["config"]["entsso-cluster:simulator"],
        "stateDirectory": state_directory,
        "basePort": simstack.free_ports(2),
    }
    (where / "Pulumi.sim.yaml").write_text(yaml.safe_dump(stack, sort_keys=False), encoding="utf-8")
    return where


@pytest.mark.parametrize("state_directory", ["../elsewhere", "{tmp}/absolute", "linked/sim"])
@pytest.mark.parametrize("command", [["simulate"], ["preview"]])
def test_a_state_directory_outside_the_project_ends_with_exit_2(
    tmp_path: Path, state_directory: str, command: list[str]
) -> None:
    project = project_with_state_directory(tmp_path / "project", state_directory.format(tmp=tmp_path))
    (tmp_path / "outside").mkdir()
    (project / "linked").symlink_to(tmp_path / "outside")  # inside by name, outside in fact
    result = ended([sys.executable, "-c", IN_PROJECT, str(project), *command, "--stack", "sim"])
    assert_one_line(result, 2, "simulator.stateDirectory", "outside the project")
    assert not any(tmp_path.rglob("*.world.json"))


def test_a_corrupt_world_file_ends_a_rehearsal_with_exit_1(tmp_path: Path) -> None:
    project = project_with_state_directory(tmp_path / "project", ".entsso/sim")
    world = project / ".entsso" / "sim" / "sim.world.json"
    world.parent.mkdir(parents=True)
    world.write_bytes(b"\xff\xfe not a world")
    result = ended([sys.executable, "-c", IN_PROJECT, str(project), "preview", "--stack", "sim"])
    assert_one_line(result, 1, str(world), "cannot be read")


# --- nothing password-equivalent outside the world file ---------------------------------------------


def password_forms(value: str) -> list[bytes]:
    raw = value.encode("utf-8")
    return [raw, value.encode("utf-16-le"), json.dumps(value)[1:-1].encode(), base64.b64encode(raw)]


def hash_forms(value: str) -> list[bytes]:
    digest = nt_hash(value)
    return [digest, digest.hex().encode(), digest.hex().upper().encode(), base64.b64encode(digest)]


def holders(roots: list[Path], forms: list[bytes]) -> set[Path]:
    found: set[Path] = set()
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                content = path.read_bytes()
                if any(form in content for form in forms):
                    found.add(path)
    return found


def assert_secrets_in_place(roots: list[Path], world_files: set[Path]) -> None:
    """No stack secret anywhere in clear; their NT hashes (the domain's) only in `world_files`."""
    assert any(any(root.rglob("*")) for root in roots)
    for key in SECRET_KEYS:
        assert holders(roots, password_forms(SIM.secret(key))) == set(), key
        allowed = world_files if key != "backupPassword" else set()  # not an account: never hashed
        assert holders(roots, hash_forms(SIM.secret(key))) <= allowed, key


def serving_on(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing serves port {port} (exit code {process.poll()})")


@pytest.fixture
def private_tmp(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "tmp").mkdir()
    return {**os.environ, "TMPDIR": str(tmp_path / "tmp")}


def downgraded_to_format_1(world: Path) -> None:
    """Rewrite a world as this simulator wrote it before it kept hashes: passwords in clear."""
    document = json.loads(world.read_text(encoding="utf-8"))
    document["format"] = 1
    passwords = {INSTALL.split("\\")[1].upper(): SIM.secret("installPassword")}
    passwords[SIM.domain.service_account.split("\\")[1].upper()] = SIM.secret("serviceAccountPassword")
    for user in document["world"]["domain"]["users"].values():
        user["password"] = passwords[user["name"].upper()]
        del user["nt_hash"]
    world.write_text(json.dumps(document), encoding="utf-8")


def test_simulate_writes_no_secret_outside_the_world_file(tmp_path: Path, private_tmp: dict[str, str]) -> None:
    state, logs = tmp_path / "state", tmp_path / "logs"
    logs.mkdir()
    world, base = state / "sim.world.json", simstack.free_ports(2)
    roots = [state, tmp_path / "tmp", logs]

    def serve_and_use(run: int) -> None:
        with (logs / f"{run}.out").open("wb") as out, (logs / f"{run}.err").open("wb") as err:
            process = subprocess.Popen(simulate_command(world, base), cwd=ROOT, stdout=out, stderr=err, env=private_tmp)
        try:
            serving_on(base + 1, process)
            for index in range(2):
                client = winrm.Session(
                    f"http://127.0.0.1:{base + index}/wsman", auth=(INSTALL, SIM.secret("installPassword")), transport="ntlm"
                )
                assert client.run_cmd("whoami").std_out == b"corp\\svc-install\r\n"
            bad = winrm.Session(f"http://127.0.0.1:{base}/wsman", auth=(INSTALL, "wrong"), transport="ntlm")
            with pytest.raises(winrm.exceptions.InvalidCredentialsError):
                bad.run_cmd("whoami")
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=20) == 0

    serve_and_use(1)
    assert_secrets_in_place(roots, {world})
    assert holders(roots, hash_forms(SIM.secret("installPassword"))) == {world}  # the domain keeps it

    downgraded_to_format_1(world)  # a world from before: passwords in clear on disk
    assert holders([state], password_forms(SIM.secret("installPassword"))) == {world}
    serve_and_use(2)  # upgrades it on load, at once
    assert_secrets_in_place(roots, {world})
    assert json.loads(world.read_text(encoding="utf-8"))["format"] == 2


@pytest.mark.slow
def test_a_simulator_killed_mid_save_leaves_only_a_private_temporary_the_next_start_removes(
    tmp_path: Path, private_tmp: dict[str, str]
) -> None:
    state, marker = tmp_path / "state", tmp_path / "paused-at"
    world, base = state / "sim.world.json", simstack.free_ports(2)
    roots = [state, tmp_path / "tmp"]
    command = [sys.executable, "-c", PAUSED_IN_SAVE, str(marker), *simulate_command(world, base)[3:]]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=private_tmp)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the simulator never reached its first save"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    temporary = Path(marker.read_text())
    assert not world.exists() and temporary.exists()  # killed between the write and the rename
    assert temporary.parent == state and temporary.name.startswith(".sim.world.json.")
    assert temporary.stat().st_mode & 0o777 == 0o600
    assert_secrets_in_place(roots, {temporary})  # the hash only in the world's own (private) temporary

    result = subprocess.Popen(simulate_command(world, base), cwd=ROOT, stdout=subprocess.PIPE, text=True, env=private_tmp)
    try:
        assert result.stdout is not None and "simulating" in result.stdout.readline()
        assert not temporary.exists()  # the next simulator on this world removed it
    finally:
        result.send_signal(signal.SIGINT)
        result.communicate(timeout=20)
    assert_secrets_in_place(roots, {world})
    assert {p.name for p in state.iterdir()} == {"sim.world.json", "sim.world.json.lock"}
