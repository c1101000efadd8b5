"""Cold-start cost of the prod stack's graph (for `python -m ops bench`).

Each measure starts a fresh interpreter, so that importing pulumi, pulumi_azure_native and the
components counts, builds a graph from `Pulumi.prod.yaml` under Pulumi's mock runtime there, and
reports wall time, peak RSS and the number of resources:

- `measure_prod_graph()`: the Azure foundation alone (`azure_foundation(config)`);
- `measure_prod_program()`: the whole program (`__main__.py`): the foundation, the SSO cluster
  component and its dynamic resources, registered (their providers serialised, as `pulumi up`
  does) but never run, and the Key Vault escrow of the backup.

It measures; it never judges: a failed child is reported in the result, not raised.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESULT_MARKER = "##ENTSSO-BENCH## "
STACK = "prod"
SCOPES = ("foundation", "program")  # the Azure foundation alone, or the whole program
# Stands in for each encrypted value of the stack file: the graph needs values, not real ones.
_STAND_IN_VALUE = "Bench-Placeholder-9!"
_INVOKE_RESULTS: dict[str, dict[str, Any]] = {
    "azure-native:storage:listStorageAccountKeys": {"keys": [{"keyName": "key1", "value": "bench-key"}]},
    "azure-native:authorization:getClientConfig": {
        "tenantId": "00000000-0000-0000-0000-000000000000",
        "subscriptionId": "00000000-0000-0000-0000-000000000000",  # the media and escrow role scopes
    },
}


def measure_prod_graph(timeout_seconds: float = 300.0) -> dict[str, Any]:
    """Build the prod Azure foundation in a fresh subprocess; return its timings, peak RSS and resource count."""
    return _measure("foundation", timeout_seconds)


def measure_prod_program(timeout_seconds: float = 300.0) -> dict[str, Any]:
    """Build the whole prod program's graph in a fresh subprocess (dynamic resources registered, not run)."""
    return _measure("program", timeout_seconds)


def _measure(scope: str, timeout_seconds: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "ops.startup_bench", scope],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=timeout_seconds,
            env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"stack": STACK, "scope": scope, "ok": False, "error": f"no result within {timeout_seconds:.0f} s"}
    wall = time.perf_counter() - started
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if completed.returncode != 0 or not lines:
        return {
            "stack": STACK,
            "scope": scope,
            "ok": False,
            "wall_seconds": round(wall, 3),
            "returncode": completed.returncode,
            "error": completed.stderr.strip()[-2000:],
        }
    child: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_MARKER))
    return {"stack": STACK, "scope": scope, "ok": True, "wall_seconds": round(wall, 3), **child}


def _child(scope: str) -> dict[str, Any]:
    """Runs in the fresh interpreter: every import below is part of the measurement."""
    import resource

    started = time.perf_counter()
    import pulumi
    import yaml
    from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

    import settings

    class GraphMocks(Mocks):
        def __init__(self) -> None:
            self.types: dict[str, int] = {}

        def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
            self.types[args.typ] = self.types.get(args.typ, 0) + 1
            state = dict(args.inputs)
            if args.typ.endswith(":VirtualMachineRunCommandByVirtualMachine"):
                state["instanceView"] = {"output": json.dumps({"ok": True, "thumbprint": "0" * 40})}
            return f"{args.name}_id", state

        def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            return dict(_INVOKE_RESULTS.get(args.token, {})), []

    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{STACK}.yaml").read_text(encoding="utf-8"))
    values: dict[str, Any] = {}
    for full_key, value in document["config"].items():
        namespace, _, key = str(full_key).partition(":")
        if namespace == settings.PROJECT:
            encrypted = isinstance(value, dict) and set(value) == {"secure"}
            values[key] = _STAND_IN_VALUE if encrypted else value
    mocks = GraphMocks()
    pulumi.runtime.set_mocks(mocks, project=settings.PROJECT, stack=STACK, preview=False)
    pulumi.runtime.set_all_config(
        {
            f"{settings.PROJECT}:{key}": value if isinstance(value, str) else json.dumps(value)
            for key, value in values.items()
        },
        [f"{settings.PROJECT}:{key}" for key in settings.SECRET_KEYS],
    )
    config = settings.from_pulumi_config()  # as __main__.py reads it
    from components.azure import azure_foundation

    if scope == "program":
        # The rest of what __main__.py imports, so imports count as imports in both scopes.
        for module in ("components.simulated", "components.sso_cluster"):
            importlib.import_module(module)
    # azure-native loads its submodules lazily, on first attribute access: that part of the
    # import cost lands in build_seconds.
    imported = time.perf_counter()

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def foundation_only() -> pulumi.Output[Any]:
        foundation = azure_foundation(config)
        return pulumi.Output.all(*[node.thumbprint for node in foundation.nodes])

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def whole_program() -> pulumi.Output[Any]:
        program_globals = runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__")
        sso = program_globals["sso"]
        return pulumi.Output.all(sso.owner_node, sso.backup_sha256, sso.escrow_secret_id)

    (foundation_only if scope == "foundation" else whole_program)()
    finished = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "child_seconds": round(finished - started, 3),
        "import_seconds": round(imported - started, 3),
        "build_seconds": round(finished - imported, 3),
        "peak_rss_mb": round(peak_kib / 1024, 1),
        "resources": sum(mocks.types.values()),
        "azure_resources": sum(n for typ, n in mocks.types.items() if typ.startswith("azure-native:")),
        "dynamic_resources": sum(n for typ, n in mocks.types.items() if typ.startswith("pulumi-python:dynamic")),
        "resource_types": dict(sorted(mocks.types.items())),
    }


if __name__ == "__main__":
    chosen = sys.argv[1] if len(sys.argv) > 1 else "foundation"
    if chosen not in SCOPES:
        raise SystemExit(f"usage: python -m ops.startup_bench [{'|'.join(SCOPES)}]")
    print(RESULT_MARKER + json.dumps(_child(chosen)), flush=True)
