"""Guanghan: plan, simulate and verify robotic lunar sample-return missions end to end.

    import guanghan as gh
    result = gh.run(gh.load_scenario("scenarios/chang-e-5.toml"))
    result.events; result.summary; result.trajectory   # list, dict, Arrow table
"""

from __future__ import annotations

from guanghan import _numba_cache
from guanghan.version import __version__

_numba_cache.configure()

__all__ = ["load_scenario", "run", "__version__"]


def load_scenario(path):
    """Read and validate a TOML scenario file; see :mod:`guanghan.mission.scenario`."""
    from guanghan.mission.scenario import load_scenario as _load

    return _load(path)


def run(scenario, out_dir=None, progress=None):
    """Run a scenario's phases in order (:func:`guanghan.mission.runner.run`); with ``out_dir``,
    also write events.json, summary.json, trajectory.parquet and report.html there atomically."""
    from guanghan.mission.runner import run as _run

    result = _run(scenario, progress=progress)
    if out_dir is not None:
        from guanghan.analysis.outputs import write_run

        write_run(result, scenario, out_dir)
    return result
