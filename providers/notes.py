"""Progress notes: one line on the provider host's stderr when an operation starts on a node and when it ends.

A dynamic provider has no channel of its own to the program that drives the engine while a step runs: the Python
dynamic-provider host configures the SDK without an engine address (pulumi/dynamic/__main__.py `get_provider`:
`configure(Settings(project=..., stack="stack", organization="organization"))`), so `pulumi.log` falls back to
printing `info: <msg>` on the host's stderr (pulumi/log.py `info`). The Pulumi CLI reads a dynamic-provider
host's stderr line by line as it comes and sends each line into the engine's event stream as a diagnostic of
severity `info#err` with no resource (sdk/go/common/resource/plugin/plugin.go `runtrace`, for a binary that
`isDynamicPluginBinary`, at v3.274.0). So a line written here reaches the Automation API's event stream while
the step still runs: `ops` reads these notes (ops/engine_worker.py) and prints what runs where, and for how long
(ops/progress.py). A plain `pulumi up` shows them as diagnostics.

A note carries the node, the operation, the label of the resource operation and the time: never a parameter.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

PREFIX = "entsso-progress "
_LOCK = threading.Lock()  # the host serves four threads; one note is one write


def note(phase: str, node: str, operation: str, label: str, **more: Any) -> None:
    """`phase` is start or end; `more` is what an end adds (ok, seconds)."""
    line = PREFIX + json.dumps(
        {"phase": phase, "node": node, "operation": operation, "label": label, "at": time.time(), **more},
        sort_keys=True,
    )
    with _LOCK:
        try:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):  # no stderr (closed): progress is a courtesy, never a failure
            pass


def parse(message: str) -> dict[str, Any] | None:
    """A note from a line of the engine's diagnostics, or None when the line is something else."""
    text = message.strip()
    if not text.startswith(PREFIX):
        return None
    try:
        found = json.loads(text.removeprefix(PREFIX))
    except ValueError:
        return None
    return found if isinstance(found, dict) and {"phase", "node", "operation", "label", "at"} <= set(found) else None
