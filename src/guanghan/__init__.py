"""Guanghan: plan, simulate and verify robotic lunar sample-return missions end to end.

    import guanghan as gh
    result = gh.run(gh.load_scenario("chang-e-5"))       # a packaged scenario, or a TOML path
    result.events; result.summary; result.trajectory   # list, dict, Arrow table
    result.figures()["altitude"]                       # plotly figures; result alone in a notebook
    gh.examples.available()                            # the packaged scenarios
"""

from __future__ import annotations

from guanghan import _numba_cache, examples
from guanghan.version import __version__

_numba_cache.configure()

__all__ = ["load_scenario", "run", "examples", "__version__"]


def load_scenario(path, overrides: dict | None = None):
    """Read and validate a TOML scenario: a file, or a packaged scenario by name
    (:mod:`guanghan.examples`); ``overrides`` (dotted path → value) are set over the file's values
    and validated like them (:mod:`guanghan.mission.scenario_overrides`)."""
    from guanghan.mission.scenario_catalogue import resolve
    from guanghan.mission.scenario_overrides import load_with_overrides

    return load_with_overrides(resolve(path), overrides)


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
