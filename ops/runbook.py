"""`python -m ops runbook --stack NAME`: the change ticket, as Markdown.

Built from the program itself (its graph under the mock runtime, `ops/graph.py`) and the map of
documented steps (`providers/procedure.py`): every step the stack performs, in order, with the
resource that owns it, the node it runs on and what it runs; which of them `up` runs side by side
(stages of the program's dependency graph, as the engine walks it); for Azure stacks the Azure
resources too. Nothing is contacted and no secret is read.
"""

from __future__ import annotations

from pathlib import Path

import settings
from ops import graph
from providers import procedure

DYNAMIC = "pulumi-python:dynamic/entsso:"


def _node(step: procedure.Step, config: settings.StackSettings) -> str:
    names = [node.name for node in config.nodes]
    if step.runs_on == "every node":
        return ", ".join(names)
    if step.runs_on.startswith("node "):
        index = int(step.runs_on.split()[1]) - 1
        return names[index] if index < len(names) else step.runs_on
    return step.runs_on


def _runs_on(resource: graph.Node, where: str) -> bool:
    """A per-node resource (an input `node`) performs only the steps on its node."""
    node = resource.inputs.get("node")
    return not isinstance(node, dict) or str(node.get("name", "")).upper() in where.upper().split(", ")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _steps_here(resource: graph.Node, config: settings.StackSettings) -> tuple[str, str]:
    """The documented steps a dynamic resource performs (`1`, `2-4`, `prerequisite`) and the nodes they run on."""
    kind = resource.type.removeprefix(DYNAMIC)
    node = resource.inputs.get("node")
    if kind in procedure.PREREQUISITE_PARTS:
        return "prerequisite", str(node.get("name", "")) if isinstance(node, dict) else ""
    numbers: list[int] = []
    nodes: list[str] = []
    for step in (procedure.PREREQUISITE, *procedure.STEPS):
        where = _node(step, config)
        if step.resource == kind and _runs_on(resource, where):
            numbers.append(step.number)
            nodes += [n for n in where.split(", ") if n not in nodes]
    if isinstance(node, dict) and node.get("name"):
        nodes = [str(node["name"])]
    where = ", ".join(nodes)
    numbers = sorted({n for n in numbers if n})
    if not numbers:
        return "prerequisite" if procedure.PREREQUISITE.resource == kind else "", where
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][-1] == number - 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    label = ",".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)
    return ("step " if len(numbers) == 1 else "steps ") + label, where


def side_by_side_section(resources: list[graph.Node], config: settings.StackSettings) -> list[str]:
    """Which steps `up` runs at once: the dynamic resources in stages by their longest chain of dependencies.

    The engine starts a resource as soon as everything it waits for is done, so the resources of one stage run
    side by side; the stages are the program's own graph, as `up` walks it."""
    dynamic = {n.urn: n for n in resources if n.type.startswith(DYNAMIC)}
    stage: dict[str, int] = {}

    def stage_of(urn: str, visiting: frozenset[str] = frozenset()) -> int:
        if urn in visiting:
            raise ValueError(f"the program's graph has a cycle through {dynamic[urn].name}")
        if urn not in stage:
            waits = [u for u in dynamic[urn].dependencies if u in dynamic]
            stage[urn] = 1 + max((stage_of(u, visiting | {urn}) for u in waits), default=0)
        return stage[urn]

    stages: dict[int, list[graph.Node]] = {}
    for urn, resource in dynamic.items():
        stages.setdefault(stage_of(urn), []).append(resource)
    lines = [
        "## Side by side (what `up` runs at once)",
        "",
        "The engine starts a resource as soon as what it waits for (the order below) is done: the resources of a",
        "stage run side by side, and a stage may begin before the one above it has ended. On each node one",
        "installer runs at a time: "
        + " before ".join(f"`{operation}`" for operation in procedure.INSTALL_ORDER)
        + " (docs/windows-facts.md section 9).",
        "",
        "| stage | side by side | steps | nodes |",
        "|---|---|---|---|",
    ]
    for number in sorted(stages):
        for index, resource in enumerate(stages[number]):
            steps, nodes = _steps_here(resource, config)
            shown = str(number) if index == 0 else ""
            kind = resource.type.removeprefix(DYNAMIC)
            lines.append(f"| {shown} | {kind} `{resource.name}` | {steps or '-'} | {nodes or '-'} |")
    return [*lines, ""]


def network_section(config: settings.StackSettings) -> list[str]:
    """How traffic flows (issue 13): operator -> each node, each node -> AD/DNS, SQL, the witness."""
    from settings import reach

    lines = ["## Network paths (docs/network.md)", "", "| from | to | path |", "|---|---|---|"]
    lines += [f"| {_cell(a)} | {_cell(b)} | {_cell(c)} |" for a, b, c in reach.network_paths(config)]
    return [*lines, ""]


def lab_section(config: settings.StackSettings, resources: list[graph.Node]) -> list[str]:
    """A self-contained lab (issue 14): the DC, SQL Server, accounts, media and node steps before the procedure.

    The steps and their order come from `components.lab_plan`; the resources and what each waits for come from
    the program's graph, so a step the program does not declare shows up as missing.
    """
    from components import lab_plan

    steps = lab_plan.lab_steps(config)
    if not steps:
        return []
    by_name = {n.name: n for n in resources}
    by_urn = {n.urn: n for n in resources}
    lines = [
        "## Self-contained lab: from an empty subscription (directory.source create)",
        "",
        "| # | phase | what | resources | runs on | what runs | waits for |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, step in enumerate(steps, 1):
        found = [by_name[name] for name in step.resources if name in by_name]
        missing = [name for name in step.resources if name not in by_name]
        names = ", ".join(f"`{name}`" for name in step.resources if name in by_name)
        if missing:
            names += f" (missing from the program: {', '.join(missing)})"
        waits = sorted(
            {
                by_urn[urn].name
                for node in found
                for urn in node.dependencies
                if urn in by_urn and by_urn[urn].custom and by_urn[urn].name not in step.resources
            }
        )
        lines.append(
            f"| {number} | {step.phase} | {_cell(step.what)} | {names} | {_cell(step.runs_on)} | {_cell(step.runs)} | "
            f"{', '.join(waits) or '-'} |"
        )
    lines += [
        "",
        "Then the documented steps below run on the nodes. `pulumi destroy` removes all of it in reverse order;",
        "the media container and its blob are yours and stay (README \"Tearing the lab down\").",
        "",
    ]
    return lines


def render(project_dir: Path, stack: str) -> str:
    config = settings.load_stack_file(settings.stack_file(project_dir, stack), stack)
    nodes = graph.capture(project_dir, stack)
    seen_stack = False
    resources: list[graph.Node] = []
    for node in nodes:
        if node.type == "pulumi:pulumi:Stack":
            if seen_stack:
                continue
            seen_stack = True
        resources.append(node)
    dynamic: dict[str, list[graph.Node]] = {}
    for n in resources:
        if n.type.startswith(DYNAMIC):
            dynamic.setdefault(n.type.removeprefix(DYNAMIC), []).append(n)
    azure = [n for n in resources if n.type.startswith("azure-native:")]

    lines = [
        f"# Runbook: stack `{stack}` ({config.target.value}, {config.tier.value})",
        "",
        "Generated by `python -m ops runbook` from the Pulumi program (mock runtime: nothing was contacted).",
        f"Nodes: {', '.join(f'{n.name} ({n.ip})' for n in config.nodes)}. Cluster: {config.cluster.name}. "
        f"ENTSSO role: {config.sso.network_name} ({config.sso.ip}). "
        f"SSODB: {config.sql.database} on {config.sql.server}.",
        "",
    ]
    if azure:
        lines += [
            f"## Azure resources ({len(azure)})",
            "",
            "| # | type | name | protected |",
            "|---|---|---|---|",
        ]
        lines += [f"| {i} | `{n.type}` | {n.name} | {'yes' if n.protect else ''} |" for i, n in enumerate(azure, 1)]
        lines.append("")
    lines += network_section(config)
    lines += lab_section(config, resources)
    lines += [
        "## Documented steps (Microsoft: How to Cluster the Master Secret Server)",
        "",
        "| step | the procedure says | resource | node | operation | what runs |",
        "|---|---|---|---|---|---|",
    ]
    for step in (procedure.PREREQUISITE, *procedure.STEPS):
        where = _node(step, config)
        names = [n.name for n in dynamic.get(step.resource, []) if _runs_on(n, where)]
        owner = f"{step.resource} `{', '.join(names)}`" if names else f"{step.resource} (not in this stack)"
        if step.resource == "ClusteredDtc" and not config.dtc.enabled:
            owner = "ClusteredDtc (disabled: dtc.enabled false)"
        number = "pre" if step.number == 0 else str(step.number)
        lines.append(
            f"| {number} | {_cell(step.documented)} | {owner} | {where} | `{step.operation}` | {_cell(step.how)} |"
        )
    lines += ["", *side_by_side_section(resources, config)]
    lines += [
        "## Order (dependencies the program declares)",
        "",
        "| resource | waits for | protected |",
        "|---|---|---|",
    ]
    by_urn = {n.urn: n for n in resources}
    for n in resources:
        if not n.type.startswith(DYNAMIC):
            continue
        waits = [by_urn[u].name for u in n.dependencies if u in by_urn and by_urn[u].type.startswith(DYNAMIC)]
        lines.append(
            f"| {n.type.removeprefix(DYNAMIC)} `{n.name}` | {', '.join(waits) or '-'} | {'yes' if n.protect else ''} |"
        )
    lines += [
        "",
        "Review with `pulumi preview` (shows which of these steps a change runs); roll back with `pulumi destroy`",
        "(prod protects the SSO resources and the escrow vault; the master secret backup stays in Key Vault).",
        "",
    ]
    return "\n".join(lines)
