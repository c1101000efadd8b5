"""Errors the operator commands end with in one line (ops.cli turns them into exit codes)."""

from __future__ import annotations


class LocalConditionError(Exception):
    """A condition of this machine (not of the stack's settings) stops the command: a port in use, an
    unreadable or corrupt world file, a world another simulator holds. The message is one line naming
    the problem and what to do; `python -m ops` prints it and exits 1.
    """


class PortInUse(LocalConditionError, OSError):
    """A simulated node's port is taken. Also an OSError, as the failed bind was, so a caller that
    probes free ports and retries on OSError (ops/faultmatrix.py) keeps doing so.
    """
