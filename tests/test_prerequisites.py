"""What each operation really needs: providers/procedure.py's PREREQUISITES against docs/windows-facts.md section 9.

The table in the ledger is what a reviewer reads; the data in procedure.py is what the plan, the program's graph
and the bench's limit are built from. The fact IDs of every cell must be the same in both, every fact cited must
exist in the ledger, a need the code marks assumed must be marked assumed in the ledger, and every operation a
script implements must say what it needs. The plan derived from the needs must resolve (every need made by a
task of the plan), and each task must belong to the resource that the step map gives its steps to.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from providers import procedure

ROOT = Path(__file__).resolve().parent.parent
LEDGER = (ROOT / "docs" / "windows-facts.md").read_text(encoding="utf-8")
FACT = re.compile(r"F-([A-Z]+)-(\d+)((?:/\d+)*)")


def fact_ids(text: str) -> set[str]:
    """Every fact ID in a cell, `F-SVC-05/06` read as F-SVC-05 and F-SVC-06."""
    found: set[str] = set()
    for area, number, more in FACT.findall(text):
        found.add(f"F-{area}-{number}")
        found.update(f"F-{area}-{extra}" for extra in more.split("/") if extra)
    return found


def ledger_rows() -> dict[str, tuple[str, str, str]]:
    """Section 9's table: operation key (`sso_configure Create`) -> (needs, not needed, status) cells."""
    section = LEDGER.split("## 9. Each operation's true prerequisites", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str, str]] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first, needs, not_needed, status = (cell.strip() for cell in line.strip().strip("|").split("|"))
        mode = re.search(r"` (Create|Join)\b", first)
        for operation in re.findall(r"`([a-z_]+)`", first):
            rows[f"{operation} {mode.group(1)}" if mode else operation] = (needs, not_needed, status)
    return rows


def declared(needs: tuple[procedure.Need, ...]) -> set[str]:
    return {fact for need in needs for fact in need.facts}


def test_every_operation_with_a_script_says_what_it_needs() -> None:
    scripts = {path.stem for path in (ROOT / "providers" / "scripts").glob("*.ps1")}
    assert {procedure.operation_of(key) for key in procedure.PREREQUISITES} == scripts
    assert set(ledger_rows()) == set(procedure.PREREQUISITES)


@pytest.mark.parametrize("operation", sorted(procedure.PREREQUISITES))
def test_the_code_and_the_ledger_cite_the_same_facts(operation: str) -> None:
    entry = procedure.PREREQUISITES[operation]
    needs, not_needed, status = ledger_rows()[operation]
    assert declared(entry.needs) | set(entry.remarks) == fact_ids(needs), "needs"
    assert declared(entry.not_needed) == fact_ids(not_needed), "not needed"
    for need in (*entry.needs, *entry.not_needed):
        if need.assumed:
            assert "assumed" in needs + not_needed + status, f"{need.condition} is assumed in the code only"
        if need.condition != "node":
            assert need.facts or need.assumed or need in entry.not_needed, f"{need.condition}: no fact, not assumed"


def test_every_fact_cited_is_in_the_ledger_and_assumptions_name_an_assumed_fact_or_say_so() -> None:
    headings = set(re.findall(r"^### (F-[A-Z]+-\d+) ", LEDGER, flags=re.MULTILINE))
    cited = {
        fact
        for entry in procedure.PREREQUISITES.values()
        for fact in (*declared(entry.needs), *declared(entry.not_needed), *entry.remarks)
    }
    assert cited <= headings, sorted(cited - headings)
    # The one installer rule is the premise: the ledger's F-SVC-06 is assumed, with lab experiment L-01.
    f_svc_06 = LEDGER.split("### F-SVC-06 ", 1)[1].split("\n### ", 1)[0]
    assert "**Status:** assumed" in f_svc_06 and "L-01" in f_svc_06
    assert procedure.ONE_INSTALLER.assumed and "F-SVC-06" in procedure.ONE_INSTALLER.facts


def test_conditions_and_scopes_are_known() -> None:
    for entry in procedure.PREREQUISITES.values():
        for need in (*entry.needs, *entry.not_needed):
            assert need.condition in procedure.CONDITIONS, need
            assert need.scope in ("here", "every node", "once"), need
    for _description, makers in procedure.CONDITIONS.values():
        assert set(makers) <= set(procedure.PREREQUISITES)


@pytest.mark.parametrize("nodes", [["N1", "N2"], ["N1", "N2", "N3"]])
def test_the_plan_resolves_and_each_task_belongs_to_the_resource_of_its_steps(nodes: list[str]) -> None:
    tasks = procedure.plan(nodes, witness=True, heartbeat=True, dtc=True)
    edges = procedure.edges(tasks)  # raises when a need has no task to make it
    keys = [task.key for task in tasks]
    assert len(keys) == len(set(keys))
    assert {edge.before for edge in edges} | {edge.after for edge in edges} <= set(keys)
    resources = {task.key: procedure.performed_by(task) for task in tasks}
    for task in tasks:
        if task.steps not in ("prerequisite", ""):
            first = int(task.steps.split("-", 1)[0])
            assert procedure.step(first).resource == resources[task.key], task
    assert resources[f"sso_install@{nodes[0]}"] == "SsoInstall"
    assert resources[f"feature_install@{nodes[-1]}"] == "ClusterFeatures"
    assert resources["role_set@cluster"] == "EntssoRole"
    # every node installs both, and nothing in the plan makes SSO wait for the cluster
    for node in nodes:
        assert {f"sso_install@{node}", f"feature_install@{node}"} <= set(keys)
    waits = {(edge.before, edge.after) for edge in edges}
    assert not any(before.startswith("cluster_") and "sso_" in after for before, after in waits)


def test_a_plan_without_dtc_or_witness_leaves_them_out() -> None:
    tasks = procedure.plan(["A", "B"], witness=False, heartbeat=False, dtc=False)
    operations = {task.operation for task in tasks}
    assert not operations & {"dtc_set", "cluster_quorum_set", "cluster_heartbeat_set"}
    procedure.edges(tasks)
    with pytest.raises(ValueError, match="two nodes or more"):
        procedure.plan(["A"])
