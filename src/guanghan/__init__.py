"""Guanghan: plan, simulate and verify robotic lunar sample-return missions end to end.

    import guanghan as gh
    result = gh.run(gh.load_scenario("scenarios/chang-e-5.toml"))
    result.events; result.summary; result.trajectory   # list, dict, Arrow table
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["load_scenario", "run", "__version__"]


def load_scenario(path):
    """Read and validate a TOML scenario file; see :mod:`guanghan.mission.scenario`."""
    from guanghan.mission.scenario import load_scenario as _load

    return _load(path)


def run(scenario, out_dir=None, progress=None):
    """Run a scenario's phases in order; see :func:`guanghan.mission.runner.run`."""
    from guanghan.mission.runner import run as _run

    return _run(scenario, out_dir=out_dir, progress=progress)
