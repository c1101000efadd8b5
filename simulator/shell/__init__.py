"""The simulated cmd.exe and powershell.exe of a Windows node (docs/contracts.md section 2)."""

from simulator.shell.backend import SimulatedCommand, SimulatedShell
from simulator.shell.bootstrap import BOOTSTRAP_MARKER, RESULT_MARKER
from simulator.shell.errors import PowerShellError
from simulator.shell.host import NodeHost, ProcessHost
from simulator.shell.standin import StandInHost

__all__ = [
    "BOOTSTRAP_MARKER",
    "RESULT_MARKER",
    "NodeHost",
    "PowerShellError",
    "ProcessHost",
    "SimulatedCommand",
    "SimulatedShell",
    "StandInHost",
]
