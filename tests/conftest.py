"""Session fixtures: each full mission is flown once per test session and shared by every test
that needs it (``ce5_run``, ``ce6_run``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))   # tests import `helpers`

from helpers import scenario_path  # noqa: E402


def _fly(name: str):
    import guanghan as gh

    scenario = gh.load_scenario(scenario_path(name))
    return scenario, gh.run(scenario)


@pytest.fixture(scope="session")
def ce5_run():
    """(scenario, RunResult) of the full Chang'e-5 mission."""
    return _fly("chang-e-5")


@pytest.fixture(scope="session")
def ce6_run():
    """(scenario, RunResult) of the full Chang'e-6 mission."""
    return _fly("chang-e-6")
