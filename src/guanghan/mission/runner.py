"""The sequencer: run a scenario's phases in order, chaining each phase's final state to the next.

``run(scenario)`` returns a :class:`RunResult` with the event log (list of
``{"utc", "phase", "event", "details"}``), the summary (``"<phase>.<quantity>_<unit>"`` → value)
and the trajectory (Arrow table). Writing files and reports is the ``analysis`` layer's job
(:mod:`guanghan.analysis.outputs`).

Each phase function ``(phase, scenario, index, previous_state) -> PhaseResult`` starts from its own
initial condition when the scenario gives one (so each leg can run alone), else from the previous
phase's final state (:func:`guanghan.mission.initial_conditions.phase_start_state`). A phase that
cannot hand on a state (a guidance failure) sets ``aborted``; the run stops there and logs
``mission_aborted`` with the phases not flown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

import guanghan
from guanghan.mission.event_log import EventLog
from guanghan.mission.phase_result import PhaseResult
from guanghan.mission.phases import PHASE_RUNNERS
from guanghan.mission.trajectory_table import SCHEMA

ProgressCallback = Callable[[str, int, int], None]


@dataclass
class RunResult:
    """Everything a run produced."""

    scenario_name: str
    events: list[dict]
    summary: dict
    trajectory: pa.Table
    phases: list[PhaseResult] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    series: dict[str, pa.Table] = field(default_factory=dict)


def run(scenario, progress: ProgressCallback | None = None) -> RunResult:
    """Run every phase of ``scenario`` in order; files are written by :mod:`guanghan.analysis.outputs`."""
    wall = time.perf_counter()
    log = EventLog()
    summary: dict = {}
    results: list[PhaseResult] = []
    state = None
    n = len(scenario.phases)
    for i, phase in enumerate(scenario.phases):
        if progress:
            progress(phase.name, i, n)
        result = PHASE_RUNNERS[phase.type](phase, scenario, i, state)
        results.append(result)
        log.extend(result.events)
        summary.update(result.summary)
        state = result.final_state
        if result.aborted is not None:
            skipped = [p.name for p in scenario.phases[i + 1:]]
            log.add(state.et, phase.name, "mission_aborted", {"reason": result.aborted, "phases_not_flown": skipped})
            summary["mission.aborted_in_phase"] = phase.name
            break
    if progress:
        progress("done", n, n)
    table = pa.concat_tables([r.trajectory for r in results]) if results else SCHEMA.empty_table()
    meta = {
        "scenario": str(scenario.source_path) if scenario.source_path else scenario.mission.name,
        "guanghan_version": guanghan.__version__,
        "run_wall_s": time.perf_counter() - wall,
        "models": {r.name: r.meta.get("force_model", "") for r in results},
        "max_g": {p.name: p.max_g for p in scenario.phases if hasattr(p, "max_g")},
        "sites": [{"name": k, "body": s.body, "lat_deg": s.lat_deg, "lon_deg": s.lon_deg}
                  for k, s in scenario.sites.items()],
    }
    series = {f"{r.name}.{k}": v for r in results for k, v in r.series.items()}
    return RunResult(scenario.mission.name, log.to_list(), summary, table, results, meta, series)
