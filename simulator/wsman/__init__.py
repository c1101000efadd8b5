"""The simulator's WS-Management server: one WinRM endpoint per simulated Windows node."""

from simulator.wsman.backend import Directive, Outcome, PreparedCommand, Session, ShellBackend
from simulator.wsman.server import TlsMaterial, WsManServer
from simulator.wsman.shells import Counters, CounterSnapshot

__all__ = [
    "CounterSnapshot",
    "Counters",
    "Directive",
    "Outcome",
    "PreparedCommand",
    "Session",
    "ShellBackend",
    "TlsMaterial",
    "WsManServer",
]
