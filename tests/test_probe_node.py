"""`python -m ops probe-node`: the read-only probes of docs/windows-facts.md section 10.1 on the simulated nodes.

The probes (providers/scripts/probe_node.ps1) run as every operation runs: the real bootstrap, library and
script, through the interpreter on a node of the world (tests/world_support.invoke), or through the runner over
WS-Management against a simulated stack (`ops.probe.run`, `python -m ops probe-node`). The simulated Windows
answers each probe as it models the fact, so a probe says `held` where the world models the assumption,
`did not hold` where a test changed the world against it, and `could not tell` where the node is not in the
state the probe needs. Nothing here decides a verdict for the script.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import tree_sitter
import tree_sitter_powershell

import ops.cli
import settings
from ops import engine, probe, simstack
from providers.targets import NodeTarget
from simulator.world import store
from simulator.world.model import SQL_KEY, SSOSS_KEY, FirewallRule, User, World, key, path_key
from tests import test_world_cluster as cluster_steps
from tests import test_world_sso as sso_steps
from tests.test_world import CAP, DTC, INSTALL, N1, N2, new_world
from tests.world_support import invoke, session

ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "docs" / "windows-facts.md"
SCRIPT = ROOT / "providers" / "scripts" / "probe_node.ps1"
SIM = settings.load_stack_file(ROOT / "Pulumi.sim.yaml")
SERVED_PASSWORD = SIM.secret("installPassword")
# The stack as the probes see it, with the test world's names (tests/test_world.py).
PARAMETERS: dict[str, Any] = {
    "RoleName": CAP,
    "ServiceResource": "ENTSSO",
    "DtcRoleName": DTC,
    "SqlServer": "SQL01",
    "Database": "SSODB",
    "BackupDirectory": r"C:\ProgramData\EntssoCluster",
    "ProbePort": [59999, 59998],
    "DtcDiskLun": 0,
    "Product": "biztalk",
    "SecretServerName": [CAP, N1],
    "HeartbeatTuned": False,
    "SessionDelegated": False,
}
IN_PROJECT = (
    "import sys; from pathlib import Path; import ops.cli as cli; "
    "cli.PROJECT_DIR = Path(sys.argv[1]); sys.exit(cli.main(sys.argv[2:]))"
)


def probed(world: World, node: str, *probes: str, **overrides: Any) -> dict[str, dict[str, Any]]:
    """The node's answers, by probe id, as the runner would get them (a plain session: no delegation)."""
    result = invoke(world, session(node, INSTALL), "probe_node", **{**PARAMETERS, "Probe": list(probes), **overrides})
    assert result["computerName"] == node
    return {answer["id"]: answer for answer in result["probes"]}


def verdict(world: World, node: str, probe_id: str, **overrides: Any) -> tuple[str, str]:
    answer = probed(world, node, probe_id, **overrides)[probe_id]
    return answer["verdict"], answer["reason"]


def full_procedure() -> World:
    """Steps 1-22 through the interpreter (tests/test_world_sso.py): the ENTSSO role on MSSNODE1."""
    world, _ = sso_steps.clustered()
    return world


# ------------------------------------------------------------------------------------- the catalogue


def ledger_rows() -> dict[str, tuple[str, ...]]:
    text = LEDGER.read_text(encoding="utf-8")
    section = text.split("### 10.1", 1)[1].split("### 10.2", 1)[0]
    rows = re.findall(r"^\| (P-\d\d) \| ([^|]+) \|", section, flags=re.MULTILINE)
    return {probe_id: tuple(f.strip() for f in facts.split(",")) for probe_id, facts in rows}


def script_rows() -> dict[str, tuple[str, ...]]:
    text = SCRIPT.read_text(encoding="utf-8")
    headers = re.findall(r"^# (P-\d\d) \(([^)]+)\):", text, flags=re.MULTILINE)
    entries = re.findall(r"^\$catalogue\['(P-\d\d)'\] = \{", text, flags=re.MULTILINE)
    assert [h[0] for h in headers] == entries, "each probe's block follows its header comment"
    return {probe_id: tuple(f.strip() for f in facts.split(",")) for probe_id, facts in headers}


def test_every_probe_of_the_ledger_is_in_the_script_and_the_command_with_the_same_facts() -> None:
    ledger = ledger_rows()
    assert list(ledger) == [f"P-{n:02d}" for n in range(1, 26)]
    assert script_rows() == ledger
    assert {p.id: p.facts for p in probe.PROBES.values()} == ledger


def test_every_assumed_fact_that_names_a_probe_is_one_of_its_facts() -> None:
    text = LEDGER.read_text(encoding="utf-8")
    facts_of = ledger_rows()
    for entry in re.split(r"(?m)^(?=### F-)", text)[1:]:
        fact = entry.split()[1]
        status = next((line for line in entry.splitlines() if line.startswith("- **Status:**")), "")
        for probe_id in re.findall(r"P-(\d\d)", status):
            assert fact in facts_of[f"P-{probe_id}"], f"{fact} names P-{probe_id} in its Status"


def commands_of(text: str) -> set[str]:
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    found: set[str] = set()
    pending = [parser.parse(text.encode("utf-8")).root_node]
    while pending:
        node = pending.pop()
        if node.type == "command_name":
            found.add((node.text or b"").decode("utf-8"))
        pending += node.children
    return found


def test_the_probe_script_only_reads() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    commands = commands_of(text)
    reading = {c for c in commands if c.split("-")[0] in {"Get", "Test", "Join", "Split", "Select", "Where", "Sort"}}
    # New-Verdict is the script's own; New-Object builds a .NET object; Add-Type loads the interop assembly (P-12,
    # P-13); ConvertTo-Json writes text (P-19); Set-StrictMode is the session's own setting.
    assert commands - reading == {
        "New-Verdict",
        "New-Object",
        "Add-Type",
        "ConvertTo-Json",
        "Out-Null",
        "Set-StrictMode",
        "ForEach-Object",
    }
    # The one program it runs is ssomanage, to display (P-22).
    assert re.findall(r"& \$tool ([^|]*)", text) == ["-displaydb 2>&1 "]
    assert "TaskPassword" not in text and "DelegationMode" not in text  # no delegated credentials


def test_probing_every_node_changes_nothing_in_the_world() -> None:
    world = full_procedure()
    before = store.dumps(world)
    for node in (N1, N2):
        probed(world, node)
    assert store.dumps(world) == before


# ---------------------------------------------------------------------------- verdicts on the simulated Windows


def test_on_the_finished_procedure_the_owner_answers_from_what_the_world_models() -> None:
    answers = {k: v["verdict"] for k, v in probed(full_procedure(), N1).items()}
    assert answers == {
        "P-01": "could not tell",  # ClusSvc runs here
        "P-02": "held",
        "P-03": "could not tell",  # no witness in this world
        "P-04": "held",
        "P-05": "held",
        "P-06": "held",
        "P-07": "could not tell",  # the shared disk is initialized by now
        "P-08": "held",
        "P-09": "held",
        "P-10": "could not tell",  # a first secret has no PreviousMSID
        "P-11": "held",
        "P-12": "held",
        "P-13": "held",
        "P-14": "held",
        "P-15": "held",
        "P-16": "held",
        "P-17": "could not tell",  # the world keeps explicit ACLs only (F-FS-07)
        "P-18": "could not tell",  # the WSMan: drive is not modelled
        "P-19": "held",
        "P-20": "held",
        "P-21": "did not hold",  # the world ran no provisioning script: no guest rule opens the probe ports
        "P-22": "could not tell",  # ssomanage -displaydb is not modelled
        "P-23": "could not tell",  # the cluster has ENTSSO by now
        "P-24": "held",
        "P-25": "held",
    }


def test_a_probe_that_needs_another_node_state_says_which() -> None:
    world = full_procedure()
    on_two = probed(world, N2, "P-05", "P-16", "P-10")
    assert on_two["P-05"]["verdict"] == "could not tell"
    assert on_two["P-05"]["reason"] == f"needs the node that owns the ENTSSO role: {N1} owns it"
    # F-DTC-01: the clustered instance does not answer on a node that does not own its resource.
    assert on_two["P-16"]["verdict"] == "held"
    assert on_two["P-16"]["evidence"]["byResourceName"]["answered"] is False
    assert on_two["P-10"]["reason"] == "needs a node where ENTSSO keeps a master secret: there is no SSOSS key here"
    fresh = probed(new_world(), N1, "P-01", "P-02", "P-13", "P-15")
    assert fresh["P-01"]["reason"] == (
        "needs the FailoverClusters module (RSAT-Clustering-PowerShell): Get-Cluster is not there"
    )
    assert fresh["P-02"]["reason"] == (
        "needs a cluster node: the Failover Clustering feature (service ClusSvc) is not installed here"
    )
    assert fresh["P-13"]["reason"].startswith("needs ENTSSO installed")
    assert fresh["P-15"]["reason"] == "needs a node where ENTSSO runs"
    assert {a["verdict"] for a in fresh.values()} == {"could not tell"}


def test_p01_held_where_the_cluster_service_does_not_run_and_could_not_tell_where_it_runs() -> None:
    # F-CLU-01: the world's Get-Cluster throws on a node whose cluster service does not run.
    world = cluster_steps.nodes_ready()
    held = probed(world, N1, "P-01")["P-01"]
    assert held["verdict"] == "held"
    assert held["evidence"]["clusSvc"] == "not installed"  # the world adds ClusSvc with the cluster
    assert held["evidence"]["error"]["errorId"].startswith("ClusterEndpointNotRegistered,")
    cluster_steps.op(world, N1, "cluster_new", delegated=True, Name="MSSWSFC", Nodes=[N1, N2], DelegationMode="CredSSP")
    assert verdict(world, N1, "P-01") == (
        "could not tell",
        "needs a node whose cluster service is not running: ClusSvc is Running here",
    )


def test_p03_needs_a_witness_and_holds_with_the_cloud_witness() -> None:
    world = cluster_steps.clustered()
    assert verdict(world, N1, "P-03") == (
        "could not tell",
        "needs a cluster with a witness: this one has no QuorumResource (node majority)",
    )
    cluster_steps.op(world, N1, "cluster_quorum_set", WitnessAccountName="msswitness", WitnessAccessKey="a2V5")
    answer = probed(world, N1, "P-03")["P-03"]
    assert answer["verdict"] == "held"
    assert answer["evidence"]["quorumType"] == "Majority"
    assert answer["evidence"]["resource"]["displayName"] == "Cloud Witness"


def test_p05_did_not_hold_when_the_owner_keeps_entsso_automatic() -> None:
    world = full_procedure()
    owner = world.nodes[key(N1)]
    owner.services[key("ENTSSO")].start_mode = "Auto"
    assert verdict(world, N1, "P-05") == ("did not hold", "StartMode Auto on the owner while the resource is online")


def test_p06_did_not_hold_when_a_role_s_name_resource_is_named_otherwise() -> None:
    world = full_procedure()
    cluster = world.cluster
    assert cluster is not None
    resource = cluster.resources.pop(key(CAP))
    resource.name = "Name: " + CAP
    cluster.resources[key(resource.name)] = resource
    result, reason = verdict(world, N1, "P-06")
    assert result == "did not hold"
    assert reason == f"'Name: {CAP}' (Network Name) where '{CAP}' was expected"


def test_p07_held_with_the_shared_disk_still_raw() -> None:
    # F-CLU-23, F-AZ-03: the world's Get-ClusterAvailableDisk leaves a RAW disk out (assumed).
    world = cluster_steps.clustered()
    answer = probed(world, N1, "P-07")["P-07"]
    assert answer["verdict"] == "held"
    raw = [d for d in answer["evidence"]["disks"] if d["partitionStyle"] == "RAW"]
    assert [d["number"] for d in raw] == [2] and answer["evidence"]["available"] == []


def test_p10_reads_names_only_and_follows_the_registry() -> None:
    world = full_procedure()
    node = world.nodes[key(N1)]
    secrets = {name: values for name, values in node.registry.items() if name.startswith(key(SSOSS_KEY) + "\\")}
    assert len(secrets) == 1
    ((subkey, values),) = secrets.items()
    answer = probed(world, N1, "P-10")["P-10"]
    assert answer["evidence"]["ssossValueNames"] == ["CurrentMSID"]
    shown = json.dumps(answer)
    for data in [*values.values(), *node.registry[key(SSOSS_KEY)].values()]:
        if len(str(data)) > 3 and str(data) not in subkey:  # the subkey's name (the MSID) is a name
            assert str(data) not in shown  # never registry data under SSOSS
    values["PreviousMSID"] = "{00000000-0000-0000-0000-000000000000}"
    assert verdict(world, N1, "P-10") == ("held", "CurrentMSID on SSOSS and PreviousMSID on a secret subkey")
    del node.registry[key(SSOSS_KEY)]["CurrentMSID"]
    result, _ = verdict(world, N1, "P-10")
    assert result == "did not hold"


def test_p11_did_not_hold_when_a_running_entsso_keeps_its_names_elsewhere() -> None:
    world = full_procedure()
    node = world.nodes[key(N1)]
    assert verdict(world, N1, "P-11")[0] == "held"
    node.registry[key(SQL_KEY)] = {"SQLServer": "SQL01", "SSODB": "SSODB"}
    answer = probed(world, N1, "P-11")["P-11"]
    assert answer["verdict"] == "did not hold"
    assert answer["evidence"]["sqlValueNames"] == ["SQLServer", "SSODB"]


def test_p13_gets_the_whole_exception_chain_and_could_not_tell_over_credssp() -> None:
    world = full_procedure()
    answer = probed(world, N1, "P-13")["P-13"]
    assert answer["verdict"] == "held"
    chain = answer["evidence"]["error"]["chain"]
    assert [level["type"] for level in chain] == [
        "System.Management.Automation.MethodInvocationException",
        "System.Runtime.InteropServices.COMException",
    ]
    assert chain[1]["hresult"] == "0xC0002A21"
    assert verdict(world, N1, "P-13", SessionDelegated=True)[0] == "could not tell"
    world.sql.available = False
    result, reason = verdict(world, N1, "P-13")
    assert (result, reason) == (
        "could not tell",
        "GetDBInfo failed for another reason than an anonymous logon (see the exception chain)",
    )


def test_p14_did_not_hold_without_the_configuration_tool_the_scripts_use() -> None:
    world = full_procedure()
    node = world.nodes[key(N1)]
    tool = next(p for p in node.files if p.endswith(path_key(r"Microsoft BizTalk Server\Configuration.exe")))
    del node.files[tool]
    result, reason = verdict(world, N1, "P-14")
    assert result == "did not hold"
    assert reason.endswith(r"Microsoft BizTalk Server\Configuration.exe")


def test_p17_follows_the_acl_of_programdata() -> None:
    world = full_procedure()
    node = world.nodes[key(N1)]
    read_and_execute, container_and_object, allow = 131241, 3, 0
    rule = {
        "identity": "BUILTIN\\Users",
        "rights": read_and_execute,
        "inheritance": container_and_object,
        "propagation": 0,
        "type": allow,
    }
    node.acls[path_key(r"C:\ProgramData")] = {"protected": True, "rules": [rule]}
    answer = probed(world, N1, "P-17")["P-17"]
    assert answer["verdict"] == "held"
    assert answer["evidence"]["backupRules"] is not None  # the backup folder's own (private) rules are reported
    assert all(r["identity"] != "BUILTIN\\Users" for r in answer["evidence"]["backupRules"])
    node.acls[path_key(r"C:\ProgramData")]["rules"] = [{**rule, "identity": "BUILTIN\\Administrators"}]
    assert verdict(world, N1, "P-17")[0] == "did not hold"


def test_p23_between_configuration_and_step_9() -> None:
    world = sso_steps.installed_and_configured()
    assert verdict(world, N1, "P-23") == ("held", "StartMode Auto")
    world.nodes[key(N1)].services[key("ENTSSO")].start_mode = "Manual"
    assert verdict(world, N1, "P-23") == ("did not hold", "StartMode Manual on a configured node before step 9")


def test_p24_and_p25_judge_what_the_stack_left_alone() -> None:
    world = full_procedure()
    cluster = world.cluster
    assert cluster is not None
    cluster.common_properties["SameSubnetThreshold"] = 10
    assert verdict(world, N1, "P-24") == ("did not hold", "delays and thresholds are 1000, 10, 1000, 20")
    assert verdict(world, N1, "P-24", HeartbeatTuned=True)[0] == "could not tell"
    # F-AZ-04: at LUN 1 the temporary disk (adapter 0) ends the same way as the shared disk would.
    assert verdict(world, N1, "P-25", DtcDiskLun=1)[0] == "could not tell"
    world.disks[0].lun = 1
    assert verdict(world, N1, "P-25", DtcDiskLun=1) == ("did not hold", "2 data disk(s) end in LUN 1, 1 on adapter 1")


def test_p21_sees_the_guest_rules_that_admit_the_probe_ports() -> None:
    world = full_procedure()
    assert verdict(world, N1, "P-21") == (
        "did not hold",
        "no inbound Allow rule for port(s) 59999, 59998: the load balancer probe is blocked (review B3)",
    )
    rules = world.nodes[key(N1)].firewall_rules
    for port in ("59999", "59998"):
        rules[key(f"probe-{port}")] = FirewallRule(name=f"probe-{port}", protocol="TCP", local_ports=[port])
    assert verdict(world, N1, "P-21") == ("held", "an inbound Allow rule admits every probe port")
    rules[key("probe-59998")].enabled = False  # an admin disables one: that port's probe fails again
    rules[key("probe-59999")].protocol = "UDP"  # and a UDP rule does not admit a TCP probe
    assert verdict(world, N1, "P-21")[1].startswith("no inbound Allow rule for port(s) 59999, 59998:")


def test_a_probe_that_fails_answers_could_not_tell_with_the_error_and_the_others_still_run() -> None:
    answers = probed(full_procedure(), N1, "P-18", "P-21", "P-19")
    assert answers["P-18"]["verdict"] == "could not tell"
    assert answers["P-18"]["evidence"]["error"]["errorId"].startswith("SimulatorNotModelled,")
    assert answers["P-21"]["verdict"] == "did not hold"
    assert answers["P-19"]["verdict"] == "held"


# -------------------------------------------------------------------------- the command, through the runner


@contextmanager
def serving(world: World) -> Iterator[list[NodeTarget]]:
    """The sim stack's nodes on free ports, over `world`, with the interpreter on (as probe-node starts them).

    The install account logs on with the sim stack's password: the simulated listeners' NTLM accounts are
    process-wide and must agree (simulator/wsman/auth.py), and the other tests serve the sim stack with it."""
    install = world.domain.user(SIM.domain.install_account)
    assert install is not None
    install.nt_hash = User.with_password(install.name, SERVED_PASSWORD).nt_hash
    stack = simstack.start(SIM, ports="any", world=world)
    try:
        yield [NodeTarget(name=name, endpoint=url) for name, url in stack.endpoints.items()]
    finally:
        stack.stop()


def test_script_parameters_come_from_the_stack_and_hold_no_secret() -> None:
    parameters = probe.script_parameters(SIM, ["P-10"])
    assert parameters == {
        "Probe": ["P-10"],
        "RoleName": "MSSCLUSTER",
        "ServiceResource": "ENTSSO",
        "DtcRoleName": "MSSDTC",
        "SqlServer": "SQL01.corp.contoso.test",
        "Database": "SSODB",
        "BackupDirectory": r"C:\ProgramData\EntssoCluster",
        "ProbePort": [59999, 59998],
        "DtcDiskLun": 0,
        "Product": "biztalk",
        "SecretServerName": ["MSSCLUSTER", "MSSNODE1"],
        "HeartbeatTuned": False,
        "SessionDelegated": False,
    }
    secrets = [SIM.secret(k) for k in ("installPassword", "serviceAccountPassword", "backupPassword")]
    assert not any(s in json.dumps(parameters) for s in secrets)


def test_run_prints_each_node_and_probe_with_its_verdict_and_exits_0() -> None:
    world = full_procedure()
    out = io.StringIO()
    with serving(world) as targets:
        code = probe.run(SIM, "sim", targets, SERVED_PASSWORD, out=out, date="2026-12-03")
    text = out.getvalue()
    assert code == 0
    assert text.startswith("probe-node stack sim, 2026-12-03: 25 probes of docs/windows-facts.md section 10.1")
    assert "simulated nodes: the verdicts are what the simulated Windows models" in text
    assert re.search(r"^MSSNODE1 \(http://127\.0\.0\.1:\d+/wsman\): an unknown build", text, re.MULTILINE)
    assert "  P-04 held           F-CLU-09: the core name is 'Cluster Name' in 'Cluster Group'" in text
    assert "ledger:" not in text  # simulated answers are no evidence for the ledger
    summary = text.rstrip().splitlines()[-2:]
    assert summary[0].startswith("MSSNODE1: ") and "held" in summary[0] and "could not tell" in summary[0]
    assert SERVED_PASSWORD not in text


def test_ledger_lines_for_a_real_node_say_what_section_1_2_asks() -> None:
    report = probe.NodeReport(
        "MSSPRD1", "https://10.20.1.11:5986/wsman", os={"build": "20348.2340", "caption": "Windows"}
    )
    held = probe.ProbeResult("P-11", ("F-SSO-06",), "held", "")
    assert probe.ledger_lines(report, held, "prod", "2027-01-05") == [
        "F-SSO-06 Status: add `held on build 20348.2340 (Windows) by probe-node 2027-01-05 (prod/MSSPRD1)`"
    ]
    wrong = probe.ProbeResult("P-03", ("F-CLU-07", "F-CLU-08"), "did not hold", "")
    lines = probe.ledger_lines(report, wrong, "prod", "2027-01-05")
    assert [line.split(":")[0] for line in lines] == ["F-CLU-07", "F-CLU-08"]
    assert lines[0].endswith(
        "then add `corrected on 2027-01-05 from probe-node on build 20348.2340 (Windows) (prod/MSSPRD1)`"
    )
    assert probe.ledger_lines(report, probe.ProbeResult("P-01", ("F-CLU-01",), "could not tell", ""), "prod", "x") == []


def test_a_node_that_cannot_be_reached_is_reported_and_the_exit_code_is_1() -> None:
    world = full_procedure()
    out = io.StringIO()
    once = SIM.model_copy(update={"winrm": SIM.winrm.model_copy(update={"retry_attempts": 1})})
    with serving(world) as targets:
        dead = NodeTarget(name=N2, endpoint=f"http://127.0.0.1:{simstack.free_ports(1)}/wsman")
        code = probe.run(once, "sim", [targets[0], dead], SERVED_PASSWORD, out=out, probes=["P-04"], json_output=True)
    document = json.loads(out.getvalue())
    assert code == 1
    first, second = document["nodes"]
    assert first["reached"] is True and [r["verdict"] for r in first["results"]] == ["held"]
    assert first["results"][0]["facts"] == ["F-CLU-09"] and first["results"][0]["ledger"] == []
    assert second["reached"] is False and second["results"] == []
    assert second["error"].startswith("the node could not be reached: probe_node on MSSNODE2 failed (transport")


def test_wrong_credentials_leave_the_node_unprobed_and_the_password_unprinted() -> None:
    out = io.StringIO()
    with serving(full_procedure()) as targets:
        code = probe.run(SIM, "sim", targets[:1], "Wr0ng-" + SERVED_PASSWORD, out=out, probes=["P-04"])
    assert code == 1
    assert "the node could not be reached" in out.getvalue() and "refused the credentials" in out.getvalue()
    assert SERVED_PASSWORD not in out.getvalue()


def test_bad_node_or_probe_names_exit_2_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    assert probe.selected(["p3", "P-03", "P-25"]) == ["P-03", "P-25"]
    assert ops.cli.main(["probe-node", "--stack", "sim", "--node", "MSSNODE9"]) == 2
    assert capsys.readouterr().err == "--node MSSNODE9: the stack's nodes are MSSNODE1, MSSNODE2\n"
    assert ops.cli.main(["probe-node", "--stack", "sim", "--probe", "P-26"]) == 2
    assert "--probe P-26: no such probe; the probes are P-01..P-25" in capsys.readouterr().err
    assert ops.cli.main(["probe-node", "--stack", "nosuchstack"]) == 2


def test_deployed_targets_take_endpoints_from_the_nodes_output_and_the_pinned_thumbprints() -> None:
    document = {
        "deployment": {
            "resources": [
                {
                    "type": "pulumi:pulumi:Stack",
                    "outputs": {
                        "nodes": [
                            {"name": "MSSPRD1", "ip": "10.20.1.11", "winrm": "https://10.20.1.11:5986/wsman"},
                            {"name": "MSSPRD2", "ip": "10.20.1.12", "winrm": "https://10.20.1.12:5986/wsman"},
                        ]
                    },
                },
                {
                    "type": "pulumi-python:dynamic:Resource",
                    "inputs": {
                        "node": {
                            "name": "MSSPRD1",
                            "endpoint": "https://10.20.1.11:5986/wsman",
                            "thumbprint": "ab" * 20,
                        }
                    },
                },
            ]
        }
    }
    assert probe.deployed_targets(document) == [
        {"name": "MSSPRD1", "endpoint": "https://10.20.1.11:5986/wsman", "thumbprint": "ab" * 20},
        {"name": "MSSPRD2", "endpoint": "https://10.20.1.12:5986/wsman"},
    ]
    assert probe.deployed_targets({}) == []


@pytest.mark.slow
def test_python_m_ops_probe_node_starts_the_sim_stack_s_nodes_and_probes_them(tmp_path: Path) -> None:
    base = simstack.free_ports(2)
    simulator = {"host": "127.0.0.1", "basePort": base, "stateDirectory": ".entsso/sim"}
    workspace = engine.scratch_project(tmp_path / "project", config={"entsso-cluster:simulator": simulator})
    ran = subprocess.run(
        [
            sys.executable,
            "-c",
            IN_PROJECT,
            str(workspace.project_dir),
            "probe-node",
            "--stack",
            "sim",
            "--node",
            "mssnode2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == ""
    assert f"MSSNODE2 (http://127.0.0.1:{base + 1}/wsman)" in ran.stdout and "MSSNODE1 (" not in ran.stdout
    # A fresh world: nothing is installed yet, so the probes that need a state say which; P-19 runs anywhere.
    assert "  P-19 held " in ran.stdout
    assert (
        "      needs a cluster node: the Failover Clustering feature (service ClusSvc) is not installed here"
        in ran.stdout
    )
    # P-21 did not hold: the simulated nodes never ran enable_winrm_https.ps1, so no guest rule opens the probe ports.
    assert "  P-21 did not hold " in ran.stdout
    assert ran.stdout.rstrip().endswith("MSSNODE2: 3 held, 1 did not hold, 21 could not tell")
