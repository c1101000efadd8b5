"""The self-contained lab's in-guest scripts, run against bare simulated machines (issue 14, Deliver item 6)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lab_world_support import LabRun, lab_program
from test_components_azure import Built, build  # noqa: F401 - `build` is the shared fixture


def test_the_lab_builds_from_bare_machines(build: Callable[..., Built]) -> None:
    run = LabRun(lab_program(build))
    for step in run.steps():
        run.restart_scheduled()
        print(step.name, run.run(step.name))
