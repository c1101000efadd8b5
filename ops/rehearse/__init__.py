"""The rehearsal engine: runs a Pulumi Python program as the Pulumi engine would, without the CLI.

The program runs under the SDK's mock runtime; every dynamic resource goes through a real
`python -m pulumi.dynamic` host over gRPC; other resources get deterministic mock outputs. State is
one JSON file per stack with secrets encrypted. See `Engine`.

Modules: engine (caller API, worker process), worker (one run), monitor (program + registrations),
deployment (planner/executor), host (provider host client), state (state file), properties
(values and secrets), mock_cloud (non-dynamic resources), model (results and events).
"""

from ops.rehearse.engine import Engine, EngineError
from ops.rehearse.model import Event, Op, Operation, ResourceOutcome, RunResult, Status, Summary

__all__ = [
    "Engine",
    "EngineError",
    "Event",
    "Op",
    "Operation",
    "ResourceOutcome",
    "RunResult",
    "Status",
    "Summary",
]
