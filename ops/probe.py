"""`python -m ops probe-node --stack NAME [--node N]`: check the ledger's assumed facts on the nodes, read-only.

docs/windows-facts.md section 10.1 lists one read-only probe per assumed fact (P-01..P-25). This command runs
them all, in `providers/scripts/probe_node.ps1`, on each node of the stack (or the one `--node` names) through the
project's own runner: the same WinRM session the operation scripts get (the bootstrap and the envelope, the stack's
install account, no delegated credentials). For each probe it prints `held`, `did not hold` or `could not tell`
(with the node state the probe needs), the evidence, and, for a real node, the line to put into the ledger
(section 1.2 says how). A probe never changes a node and never reads a secret or registry data under SSOSS.

Where the nodes come from: a sim stack's simulated nodes are started for the run (as `ops up` starts them: their
powershell.exe runs the probe script in the interpreter like any other) unless `ops simulate` already serves them;
an Azure stack's WinRM endpoints and pinned certificate thumbprints come from its deployment (`pulumi stack
export`), its install password from its config (`pulumi config get`, never a command line).

Exit codes: 0 when every probe ran on every node, whatever the verdicts; 1 when a node could not be reached (or
the probes could not run there); 2 for bad input (an unknown node or probe, bad settings).
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import SecretStr

import settings
from ops.errors import LocalConditionError
from providers.base import ProviderSettings
from providers.runner import RemoteOperationError, WinRmRunner, load_script
from providers.runner_wire import Masker
from providers.targets import NodeTarget

OPERATION = "probe_node"
SERVICE_RESOURCE = "ENTSSO"  # the Generic Service resource's name (providers/entsso_service.py)
EXIT_OK, EXIT_UNREACHABLE, EXIT_BAD_INPUT = 0, 1, 2
Verdict = Literal["held", "did not hold", "could not tell"]
VERDICTS: tuple[Verdict, ...] = ("held", "did not hold", "could not tell")


@dataclass(frozen=True)
class Probe:
    """One row of docs/windows-facts.md section 10.1."""

    id: str
    facts: tuple[str, ...]
    checks: str


PROBES: dict[str, Probe] = {
    probe.id: probe
    for probe in (
        Probe("P-01", ("F-CLU-01",), "Get-Cluster where ClusSvc does not run throws ClusterEndpointNotRegistered"),
        Probe("P-02", ("F-CLU-20",), "a missing role or resource with -ErrorAction SilentlyContinue returns nothing"),
        Probe("P-03", ("F-CLU-07", "F-CLU-08"), "QuorumType Majority; the witness's type DisplayName is Cloud Witness"),
        Probe(
            "P-04", ("F-CLU-09",), "the core name is 'Cluster Name' in 'Cluster Group', a (Distributed) Network Name"
        ),
        Probe(
            "P-05", ("F-CLU-14", "F-SVC-07"), "ENTSSO's StartMode is Manual on the owner while its resource is online"
        ),
        Probe(
            "P-06", ("F-CLU-11", "F-CLU-21"), "resource names: 'IP Address <addr>', the role's name, 'Cluster Disk <n>'"
        ),
        Probe("P-07", ("F-CLU-23", "F-AZ-03"), "a RAW disk is not offered by Get-ClusterAvailableDisk"),
        Probe("P-08", ("F-CLU-16",), "dependency expressions are [Name] terms joined by ' and '"),
        Probe("P-09", ("F-CLU-10",), "Get-ClusterAccess entries have AccessControlType Allow or Deny"),
        Probe("P-10", ("F-SSO-05",), "SSOSS has CurrentMSID; the secret's subkey has PreviousMSID (names only)"),
        Probe("P-11", ("F-SSO-06",), "ENTSSO\\SQL holds the values Server and Database"),
        Probe("P-12", ("F-SSO-07",), "the interop assembly, SSOConfigOM and ISSOConfigSS/DB/OM"),
        Probe(
            "P-13",
            ("F-SSO-09", "F-PS-11", "F-PS-12", "F-PS-13"),
            "GetDBInfo from a non-delegated session reaches SQL Server as ANONYMOUS LOGON",
        ),
        Probe("P-14", ("F-SSO-28",), "Configuration.exe is where sso_configure looks for it"),
        Probe("P-15", ("F-SSO-25", "F-SSO-35"), "ENTSSO's event IDs and levels since the service started"),
        Probe(
            "P-16", ("F-DTC-01", "F-DTC-05"), "the clustered DTC's DtcName is its resource's, answering on the owner"
        ),
        Probe("P-17", ("F-FS-01",), "C:\\ProgramData lets BUILTIN\\Users read what is created under it"),
        Probe("P-18", ("F-REM-01",), "the WinRM service's configuration is Windows' default"),
        Probe(
            "P-19", ("F-PS-02", "F-PS-03", "F-PS-09"), "strict mode's texts and ErrorIds; ConvertTo-Json's depth, enums"
        ),
        Probe("P-20", ("F-SVC-04", "F-SVC-12"), "Get-WindowsFeature objects have Name, Installed, InstallState"),
        Probe("P-21", ("F-AZ-01",), "an inbound Allow firewall rule admits each load balancer probe port"),
        Probe("P-22", ("F-SSO-13", "F-SSO-18"), "ssomanage -displaydb needs a running SSO service"),
        Probe("P-23", ("F-SVC-07",), "ENTSSO's StartMode is Auto after configuration, before step 9"),
        Probe("P-24", ("F-CLU-29",), "an untuned cluster's heartbeat is 1000 ms and 20, same and cross subnet"),
        Probe("P-25", ("F-AZ-04",), "the shared disk alone ends in 'LUN <n>' on adapter 1"),
    )
}


class BadInput(Exception):
    """An argument that names no node or no probe: one line, exit code 2."""


@dataclass
class ProbeResult:
    id: str
    facts: tuple[str, ...]
    verdict: Verdict
    reason: str
    evidence: Any = None


@dataclass
class NodeReport:
    node: str
    endpoint: str
    reached: bool = True
    error: str = ""  # why the node could not be reached, or why its probes could not run
    os: dict[str, str] = field(default_factory=dict)
    results: list[ProbeResult] = field(default_factory=list)

    @property
    def build(self) -> str:
        """`build 20348.2340 (Microsoft Windows Server 2022 Datacenter)`, or why it is unknown."""
        build, caption = self.os.get("build", ""), self.os.get("caption", "")
        if not build:
            return "an unknown build"
        return f"build {build}" + (f" ({caption})" if caption else "")


def selected(probes: Sequence[str]) -> list[str]:
    """The probe ids asked for (`P-3`, `p03` and `P-03` alike), all when none; BadInput for an unknown one."""
    chosen: list[str] = []
    for text in probes:
        match = re.fullmatch(r"[Pp]-?0*(\d{1,2})", text.strip())
        probe_id = f"P-{int(match.group(1)):02d}" if match else text
        if probe_id not in PROBES:
            raise BadInput(
                f"--probe {text}: no such probe; the probes are P-01..P-{len(PROBES):02d} (docs/windows-facts.md 10.1)"
            )
        if probe_id not in chosen:
            chosen.append(probe_id)
    return chosen or list(PROBES)


def script_parameters(config: settings.StackSettings, probes: Sequence[str]) -> dict[str, object]:
    """What the probes need to know of the stack: names, ports, paths. Never a secret."""
    from components.failover_cluster import SHARED_DISK_LUN

    return {
        "Probe": list(probes),
        "RoleName": config.sso.network_name,
        "ServiceResource": SERVICE_RESOURCE,
        "DtcRoleName": config.dtc.network_name if config.dtc.enabled else "",
        "SqlServer": config.sql.server,
        "Database": config.sql.database,
        "BackupDirectory": config.sso.backup_directory,
        "ProbePort": [config.sso.probe_port, *([config.dtc.probe_port] if config.dtc.enabled else [])],
        "DtcDiskLun": SHARED_DISK_LUN if config.dtc.enabled else -1,
        "Product": config.sso.product,
        "SecretServerName": [config.sso.network_name, config.master.name],
        "HeartbeatTuned": config.cluster.heartbeat_for(config.target) is not None,
        "SessionDelegated": config.winrm.transport == "credssp",
    }


def probe_node(
    runner: WinRmRunner,
    connection_settings: ProviderSettings,
    target: NodeTarget,
    parameters: Mapping[str, object],
) -> NodeReport:
    """Every probe `parameters["Probe"]` names, on one node in one shell; a node that cannot be reached is
    reported, not raised."""
    connection = connection_settings.connection(target)
    report = NodeReport(target["name"], target["endpoint"])
    requested = parameters.get("Probe")
    wanted = [str(p) for p in requested] if isinstance(requested, list) else list(PROBES)
    try:
        with runner.session(connection, "probe-node") as session:
            answer = session.run(OPERATION, load_script(OPERATION), parameters)
    except RemoteOperationError as error:
        report.reached = error.kind == "script"
        what = "the probes could not run there" if report.reached else "the node could not be reached"
        report.error = f"{what}: {error}"
        return report
    os_info = answer.get("os")
    report.os = {k: str(v) for k, v in os_info.items()} if isinstance(os_info, Mapping) else {}
    answered = answer.get("probes")
    given = {str(r.get("id")): r for r in answered if isinstance(r, Mapping)} if isinstance(answered, list) else {}
    for probe_id in wanted:
        probe = PROBES[probe_id]
        raw = given.get(probe_id)
        verdict = raw.get("verdict") if raw is not None else None
        if raw is None or verdict not in VERDICTS:
            report.results.append(
                ProbeResult(probe_id, probe.facts, "could not tell", "the node gave no answer for this probe", raw)
            )
            continue
        report.results.append(
            ProbeResult(probe_id, probe.facts, verdict, str(raw.get("reason") or ""), raw.get("evidence"))
        )
    return report


def ledger_lines(report: NodeReport, result: ProbeResult, stack: str, date: str) -> list[str]:
    """What to write into docs/windows-facts.md for this result (section 1.2); nothing for could not tell."""
    where = f"({stack}/{report.node})"
    if result.verdict == "held":
        return [f"{fact} Status: add `held on {report.build} by probe-node {date} {where}`" for fact in result.facts]
    if result.verdict == "did not hold":
        return [
            f"{fact}: correct the fact from this evidence (with the world code and the scripts that depend on it), "
            f"then add `corrected on {date} from probe-node on {report.build} {where}`"
            for fact in result.facts
        ]
    return []


def render(reports: Sequence[NodeReport], stack: str, date: str, simulated: bool, out: TextIO, mask: Masker) -> None:
    """The reports as text: per node its build, then per probe its verdict, reason, evidence and ledger lines."""

    def say(text: str) -> None:
        out.write(mask(text) + "\n")

    say(f"probe-node stack {stack}, {date}: {len(PROBES)} probes of docs/windows-facts.md section 10.1, read-only")
    if simulated:
        say(
            "  simulated nodes: the verdicts are what the simulated Windows models (its assumed facts answer as "
            "assumed); they are no evidence for the ledger"
        )
    for report in reports:
        say("")
        if report.error:
            say(f"{report.node} ({report.endpoint}): {report.error}")
            continue
        os_note = "" if report.os.get("build") else f" ({report.os.get('source') or 'no OS information'})"
        say(f"{report.node} ({report.endpoint}): {report.build}{os_note}")
        for result in report.results:
            say(f"  {result.id} {result.verdict:<14} {', '.join(result.facts)}: {PROBES[result.id].checks}")
            say(f"      {result.reason}")
            if result.evidence not in (None, {}, []):
                say(f"      evidence: {json.dumps(result.evidence, ensure_ascii=False, sort_keys=False)}")
            if not simulated:
                for line in ledger_lines(report, result, stack, date):
                    say(f"      ledger: {line}")
    say("")
    for report in reports:
        if report.error:
            say(f"{report.node}: not probed")
            continue
        counts = {verdict: sum(r.verdict == verdict for r in report.results) for verdict in VERDICTS}
        say(f"{report.node}: " + ", ".join(f"{count} {verdict}" for verdict, count in counts.items()))


def as_json(reports: Sequence[NodeReport], stack: str, date: str, simulated: bool) -> dict[str, Any]:
    """The reports as data (`--json`), e.g. to keep a real node's output under tests/data/probe/."""
    nodes = []
    for report in reports:
        entry = asdict(report)
        entry["build"] = report.build
        for result, raw in zip(report.results, entry["results"], strict=True):
            raw["facts"] = list(result.facts)
            raw["ledger"] = [] if simulated else ledger_lines(report, result, stack, date)
        nodes.append(entry)
    return {"stack": stack, "date": date, "simulated": simulated, "nodes": nodes}


def connection_settings(config: settings.StackSettings, password: str) -> ProviderSettings:
    """How the providers reach the nodes: the stack's WinRM settings and its install account."""
    return ProviderSettings(winrm=config.winrm, username=config.domain.install_account, password=SecretStr(password))


def chosen_targets(targets: Sequence[NodeTarget], node: str | None) -> list[NodeTarget]:
    if node is None:
        return list(targets)
    found = [t for t in targets if t["name"].upper() == node.upper()]
    if not found:
        names = ", ".join(t["name"] for t in targets)
        raise BadInput(f"--node {node}: the stack's nodes are {names}")
    return found


def run(
    config: settings.StackSettings,
    stack: str,
    targets: Sequence[NodeTarget],
    password: str,
    *,
    node: str | None = None,
    probes: Sequence[str] = (),
    out: TextIO,
    json_output: bool = False,
    date: str | None = None,
) -> int:
    """Probe the chosen nodes and print the reports; the exit code."""
    chosen = chosen_targets(targets, node)
    wanted = selected(probes)
    day = date or datetime.date.today().isoformat()
    provider_settings = connection_settings(config, password)
    runner = WinRmRunner(provider_settings.runner_config())
    parameters = script_parameters(config, wanted)
    reports = [probe_node(runner, provider_settings, target, parameters) for target in chosen]
    simulated = config.simulator is not None
    mask = Masker([config.secret(key) for key in settings.SECRET_KEYS if _has_secret(config, key)])
    if json_output:
        out.write(mask(json.dumps(as_json(reports, stack, day, simulated), ensure_ascii=False, indent=2)) + "\n")
    else:
        render(reports, stack, day, simulated, out, mask)
    return EXIT_OK if all(r.reached and not r.error for r in reports) else EXIT_UNREACHABLE


def _has_secret(config: settings.StackSettings, key: str) -> bool:
    try:
        config.secret(key)
    except KeyError:
        return False
    return True


# --- where the nodes are ------------------------------------------------------------------------------


@contextmanager
def simulated_targets(project_dir: Path, stack: str, config: settings.StackSettings) -> Iterator[list[NodeTarget]]:
    """The sim stack's nodes, started for the run as `ops up` starts them unless `ops simulate` serves them."""
    from components.simulated import simulated_node_endpoint
    from ops import progress

    with progress.simulated_nodes(project_dir, stack, config, keep=False) as nodes:
        endpoints = nodes.endpoints if nodes is not None else {}
        yield [
            NodeTarget(name=n.name, endpoint=endpoints.get(n.name) or simulated_node_endpoint(config, index))
            for index, n in enumerate(config.nodes)
        ]


def deployed_targets(document: Mapping[str, Any]) -> list[NodeTarget]:
    """An Azure stack's nodes from its deployment (`pulumi stack export`): the `nodes` output's WinRM endpoints,
    and the certificate thumbprint each provider input pins for that node."""
    deployment = document.get("deployment") or {}
    resources = deployment.get("resources") or []
    outputs: Mapping[str, Any] = next(
        (r.get("outputs") or {} for r in resources if r.get("type") == "pulumi:pulumi:Stack"), {}
    )
    thumbprints: dict[str, str] = {}

    def collect(value: Any) -> None:
        if isinstance(value, Mapping):
            if isinstance(value.get("name"), str) and isinstance(value.get("thumbprint"), str):
                thumbprints[value["name"].upper()] = value["thumbprint"]
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for resource in resources:
        collect(resource.get("inputs") or {})
    targets: list[NodeTarget] = []
    for entry in outputs.get("nodes") or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("winrm"), str):
            continue
        target = NodeTarget(name=str(entry["name"]), endpoint=entry["winrm"])
        if str(entry["name"]).upper() in thumbprints:
            target["thumbprint"] = thumbprints[str(entry["name"]).upper()]
        targets.append(target)
    return targets


def azure_access(project_dir: Path, stack: str) -> tuple[list[NodeTarget], str]:
    """An Azure stack's node targets and install password, through the pinned Pulumi CLI and the stack's backend."""
    import subprocess

    from ops.engine import Engine, EngineError, Workspace

    engine = Engine(Workspace(project_dir, stack))
    try:
        document = json.loads(engine.cli_command("stack", "export", "--stack", stack).stdout)
        password = engine.cli_command("config", "get", f"{settings.PROJECT}:installPassword", "--stack", stack).stdout
    except (EngineError, subprocess.CalledProcessError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
        detail = (
            error.stderr.strip().splitlines()[-1]
            if isinstance(error, subprocess.CalledProcessError) and error.stderr
            else str(error)
        )
        raise LocalConditionError(
            f"stack {stack}: its deployment and install password could not be read through the Pulumi CLI ({detail}); "
            "log in to its backend and set PULUMI_CONFIG_PASSPHRASE (or its secrets provider) first"
        ) from None
    targets = deployed_targets(document)
    if not targets:
        raise LocalConditionError(
            f"stack {stack} has no deployed nodes (no `nodes` output): run `python -m ops up --stack {stack}` first"
        )
    return targets, password.rstrip("\n")


def main(
    project_dir: Path,
    stack: str,
    *,
    node: str | None = None,
    probes: Sequence[str] = (),
    json_output: bool = False,
    out: TextIO,
    err: TextIO,
) -> int:
    """`python -m ops probe-node`: SettingsError (exit 2) and LocalConditionError (exit 1) reach ops.cli."""
    # The report names every failure itself: the runner's log lines would repeat them on stderr.
    logging.getLogger("entsso").addHandler(logging.NullHandler())
    config = settings.load_stack_file(settings.stack_file(project_dir, stack), stack)
    try:
        selected(probes)  # a bad --probe stops here, before any node starts
        if config.simulator is not None:
            chosen_targets([NodeTarget(name=n.name, endpoint="") for n in config.nodes], node)
            with simulated_targets(project_dir, stack, config) as targets:
                return run(
                    config,
                    stack,
                    targets,
                    config.secret("installPassword"),
                    node=node,
                    probes=probes,
                    out=out,
                    json_output=json_output,
                )
        targets, password = azure_access(project_dir, stack)
        return run(config, stack, targets, password, node=node, probes=probes, out=out, json_output=json_output)
    except BadInput as problem:
        err.write(f"{problem}\n")
        return EXIT_BAD_INPUT
