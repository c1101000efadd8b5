"""Moved to simulator/powershell/syntax.py (the interpreter owns parsing); kept for existing imports."""

from simulator.powershell.syntax import LANGUAGE, ParseFailure, Position, check, command_names, parse

__all__ = ["LANGUAGE", "ParseFailure", "Position", "check", "command_names", "parse"]
