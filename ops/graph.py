"""The resource graph a stack's program declares, captured under the SDK's mock runtime.

Nothing is created and no node is contacted: every registration is recorded (type, name, parent,
dependencies, options, and its non-secret inputs) and answered with its own inputs. Runs in a child
process (`python -m ops.graph STACK`), because the mock runtime and the program's modules are
process-global. Encrypted config values, which cannot be read without the stack's passphrase,
are replaced by stand-ins that pass validation; no secret is ever printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

STAND_IN_SECRET = "Stand-in-Secret-9!"  # noqa: S105 (a placeholder for ciphertext, never a real secret)
MARKER = "##ENTSSO-GRAPH## "


@dataclass(frozen=True)
class Node:
    """One resource of the graph, with the secret inputs left out."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    dependencies: list[str]
    protect: bool
    inputs: dict[str, Any]


def stack_config(project_dir: Path, stack: str) -> tuple[dict[str, str], list[str]]:
    from settings import SECRET_KEYS

    document = yaml.safe_load((project_dir / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in (document.get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            value = STAND_IN_SECRET
        config[key] = value if isinstance(value, str) else json.dumps(value)
        if key.partition(":")[2] in SECRET_KEYS:
            secret_keys.append(key)
    return config, secret_keys


def capture(project_dir: Path, stack: str, timeout: float = 300.0) -> list[Node]:
    """The stack's graph, in registration order (raises RuntimeError with the program's error)."""
    completed = subprocess.run(
        [sys.executable, "-m", "ops.graph", stack],
        cwd=project_dir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(MARKER)]
    if completed.returncode != 0 or not lines:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-12:]
        raise RuntimeError("the program did not build its graph:\n" + "\n".join(tail))
    return [Node(**item) for item in json.loads(lines[-1].removeprefix(MARKER))]


def _child(stack: str) -> None:
    from ops.mock_runtime import PROVIDER_KEY, Registration, RegistrationResult, is_secret, run_program
    from ops.model import DYNAMIC_TYPE_PREFIX

    project_dir = Path.cwd()
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]
    config, secret_keys = stack_config(project_dir, stack)
    nodes: list[Node] = []
    lock = threading.Lock()

    class Recorder:
        def register(self, registration: Registration) -> RegistrationResult:
            inputs = {
                key: value for key, value in registration.inputs.items() if key != PROVIDER_KEY and not is_secret(value)
            }
            with lock:
                nodes.append(
                    Node(
                        urn=registration.urn,
                        type=registration.type,
                        name=registration.name,
                        parent=registration.parent,
                        custom=registration.custom,
                        dependencies=sorted(registration.depends_on()),
                        protect=registration.protect,
                        inputs=inputs if registration.type.startswith(DYNAMIC_TYPE_PREFIX) else {},
                    )
                )
            return RegistrationResult(id=f"{registration.name}-id", outputs=dict(registration.inputs))

        def register_outputs(self, urn: str, outputs: dict[str, Any]) -> None:
            return None

    run_program(project_dir / "__main__.py", project, stack, config, secret_keys, True, Recorder(), 16)
    print(MARKER + json.dumps([asdict(node) for node in nodes], default=str))


if __name__ == "__main__":
    _child(sys.argv[1])
