"""The simulated cmd.exe and powershell.exe of a Windows node (docs/contracts.md section 2)."""

from simulator.shell.backend import SimulatedCommand, SimulatedShell
from simulator.shell.bootstrap import BOOTSTRAP_MARKER, RESULT_MARKER
from simulator.shell.errors import PowerShellError
from simulator.shell.host import MachineHost, OperationHost, ScriptHost
from simulator.shell.parameters import ScriptParameter, ScriptParseError, script_parameters
from simulator.shell.standin import StandInHost

__all__ = [
    "BOOTSTRAP_MARKER",
    "RESULT_MARKER",
    "MachineHost",
    "OperationHost",
    "PowerShellError",
    "ScriptHost",
    "ScriptParameter",
    "ScriptParseError",
    "SimulatedCommand",
    "SimulatedShell",
    "StandInHost",
    "script_parameters",
]
