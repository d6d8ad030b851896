"""The sequencer: run a scenario's phases in order, chaining each phase's final state to the next.

``run(scenario)`` returns a :class:`RunResult` with the event log (list of
``{"utc", "phase", "event", "details"}``), the summary (``"<phase>.<quantity>_<unit>"`` → value)
and the trajectory (Arrow table). Writing files and reports is the ``analysis`` layer's job
(:mod:`guanghan.analysis.outputs`).

A phase starts from its own ``initial_orbit``/``initial_state`` when the scenario gives one (so each
leg can run alone), else from the previous phase's final state; the vehicle's mass comes from the
scenario's modules unless the state is inherited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

import guanghan
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment.ephemeris import check_span
from guanghan.errors import EphemerisRangeError, ScenarioError
from guanghan.mission.event_log import EventLog
from guanghan.mission.initial_conditions import state_from_cartesian, state_from_orbit
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


def initial_state(scenario, index: int, previous: SpacecraftState | None) -> SpacecraftState:
    """The state phase ``index`` starts from (J2000, Moon-centred)."""
    phase = scenario.phases[index]
    et = scenario.phase_start_et(index, previous.et if previous is not None else None)
    mass = scenario.vehicle_mass_kg(phase.vehicle)
    if phase.initial_orbit is not None:
        return state_from_orbit(phase.initial_orbit, et, mass)
    if phase.initial_state is not None:
        return state_from_cartesian(phase.initial_state, et, mass)
    if previous is None:
        raise ScenarioError("the first phase needs initial_orbit or initial_state",
                            file=str(scenario.source_path), field=f"phases[{index}]")
    if abs(previous.et - et) > 1e-6:
        raise ScenarioError(f"starts at a different epoch than the previous phase ends "
                            f"({previous.utc}) and gives no initial state",
                            file=str(scenario.source_path), field=f"phases[{index}].start_utc")
    return previous


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
        start = initial_state(scenario, i, state)
        end_et = start.et + getattr(phase, "duration_h", 0.0) * 3600.0
        try:
            check_span([start.et, end_et])
        except EphemerisRangeError as exc:
            raise ScenarioError(str(exc), file=str(scenario.source_path),
                                field=f"phases[{i}].duration_h", value=phase.duration_h) from None
        result = PHASE_RUNNERS[phase.type](phase, scenario, start)
        results.append(result)
        log.extend(result.events)
        summary.update(result.summary)
        state = result.final_state
    if progress:
        progress("done", n, n)
    table = pa.concat_tables([r.trajectory for r in results]) if results else SCHEMA.empty_table()
    meta = {
        "scenario": str(scenario.source_path) if scenario.source_path else scenario.mission.name,
        "guanghan_version": guanghan.__version__,
        "run_wall_s": time.perf_counter() - wall,
        "models": {r.name: r.meta.get("force_model", "") for r in results},
        "sites": [{"name": k, "body": s.body, "lat_deg": s.lat_deg, "lon_deg": s.lon_deg}
                  for k, s in scenario.sites.items()],
    }
    return RunResult(scenario.mission.name, log.to_list(), summary, table, results, meta)
