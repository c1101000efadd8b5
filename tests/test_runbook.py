"""`python -m ops runbook`: the change ticket lists every documented step with its resource and node,
the Azure resources for Azure stacks, and never a secret. The program under `pulumi preview` on a
bad stack fails with the same one-line problems as `ops validate`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops import graph, runbook

ROOT = Path(__file__).resolve().parent.parent


def steps_table(text: str) -> list[list[str]]:
    section = text.split("## Documented steps", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| step")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


def test_sim_runbook_lists_every_step_once_with_resource_and_node() -> None:
    text = runbook.render(ROOT, "sim")
    rows = steps_table(text)
    assert [row[0] for row in rows] == ["pre", *map(str, range(1, 27))]
    for row in rows:
        assert "not in this stack" not in row[2], row
        assert row[3] in {"MSSNODE1", "MSSNODE2", "MSSNODE1, MSSNODE2"}, row
    assert rows[5][2] == "SecretBackup `mss-backup`" and rows[5][3] == "MSSNODE1"
    assert rows[23][3] == "MSSNODE2"  # step 23: the role moves to node 2
    assert "## Azure resources" not in text
    for secret in ("Sim-Install-Pa55!", "Sim-Service-Pa55!", "Sim-Backup-Pa55!"):
        assert secret not in text


def test_azure_runbook_lists_the_azure_resources_and_notes_what_lab_leaves_out() -> None:
    text = runbook.render(ROOT, "lab-hub")
    azure = re.findall(r"^\| \d+ \| `(azure-native:[^`]+)`", text, flags=re.MULTILINE)
    assert "azure-native:compute:VirtualMachine" in azure and azure.count("azure-native:compute:VirtualMachine") == 2
    assert "azure-native:network:LoadBalancer" in azure
    rows = steps_table(text)
    assert all("disabled" in row[2] for row in rows if row[0] in {"14", "15", "16", "17"})
    assert graph.STAND_IN_SECRET not in text


@pytest.fixture
def broken_project(tmp_path: Path) -> Path:
    for name in ("ops", "settings", "components", "providers", "simulator", "__main__.py", "Pulumi.yaml"):
        (tmp_path / name).symlink_to(ROOT / name)
    text = (ROOT / "Pulumi.sim.yaml").read_text()
    text = text.replace("networkName: MSSCLUSTER", "networkName: MSS_CLUSTER").replace(
        "adminCidr: 10.10.9.0/28", "adminCidr: '*'"
    )
    (tmp_path / "Pulumi.broken.yaml").write_text(text)
    return tmp_path


def test_the_program_on_a_bad_stack_fails_with_the_validate_lines(broken_project: Path) -> None:
    validate = subprocess.run(
        [sys.executable, "-m", "ops", "validate", "--stack", "broken"],
        cwd=broken_project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert validate.returncode == 2
    expected = validate.stderr.strip().splitlines()
    assert len(expected) == 2
    with pytest.raises(RuntimeError) as caught:
        graph.capture(broken_project, "broken")
    for line in expected:
        assert line in str(caught.value)
    assert "Traceback" not in "\n".join(line for line in str(caught.value).splitlines() if line.startswith("entsso"))


def table(text: str, heading: str) -> list[list[str]]:
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]  # past the header row
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows if not row.startswith("|---")]


def test_the_runbook_shows_which_steps_run_side_by_side_as_the_order_has_them() -> None:
    """The change ticket's stages: each resource one stage after the last of what it waits for (so what shares
    a stage runs at once), and the SSO installs of both nodes first, beside each other and before the cluster."""
    text = runbook.render(ROOT, "sim")
    stages: dict[str, int] = {}
    steps: dict[str, tuple[str, str]] = {}
    stage = 0
    for shown, resource, step, nodes in table(text, "Side by side"):
        stage = int(shown) if shown else stage
        name = resource.split("`")[1]
        stages[name], steps[name] = stage, (step, nodes)
    waits = {row[0].split("`")[1]: [w for w in row[1].split(", ") if w != "-"] for row in table(text, "Order")}
    assert set(stages) == set(waits)
    for name, before in waits.items():
        assert stages[name] == 1 + max((stages[w] for w in before), default=0), (name, before)
    first = [name for name, at in stages.items() if at == 1]
    assert sorted(first) == ["mss-sso-install-mssnode1", "mss-sso-install-mssnode2"]
    assert steps["mss-sso-install-mssnode1"] == ("step 1", "MSSNODE1")
    assert steps["mss-sso-install-mssnode2"] == ("step 6", "MSSNODE2")
    assert stages["mss-sso-master-mssnode1"] < stages["mss-cluster"]  # Create does not wait for the cluster
    assert steps["mss-sso-master-mssnode1"] == ("steps 2-4", "MSSNODE1")
    assert steps["mss-features-mssnode2"] == ("prerequisite", "MSSNODE2")
    assert steps["mss-restore"] == ("steps 23-26", "MSSNODE2")
