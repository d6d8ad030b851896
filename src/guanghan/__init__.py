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


def run(scenario, out_dir=None, progress=None, design_from=None):
    """Run a scenario's phases in order (:func:`guanghan.mission.runner.run`); with ``out_dir``,
    also write events.json, summary.json, trajectory.parquet, report.html and design.json there
    atomically. ``design_from``: an earlier run's folder (or its design.json) whose design the legs
    fly instead of designing (:mod:`guanghan.mission.mission_design`)."""
    from guanghan.mission.mission_design import read_design
    from guanghan.mission.runner import run as _run

    design = read_design(design_from) if design_from is not None else None
    result = _run(scenario, progress=progress, design=design)
    if out_dir is not None:
        from guanghan.analysis.outputs import write_run

        write_run(result, scenario, out_dir)
    return result
