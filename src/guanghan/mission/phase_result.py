"""What every phase returns: the state it ends in, its events, its key figures and its trajectory."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from guanghan.dynamics.state import SpacecraftState
from guanghan.mission.event_log import EventLog


@dataclass
class PhaseResult:
    """``(state, config) -> PhaseResult``: final state, event log, summary figures, sampled trajectory.

    Summary keys are ``"<phase>.<quantity>_<unit>"`` (e.g. ``lunar_orbit_coast.mean_altitude_km``).
    """

    name: str
    final_state: SpacecraftState
    events: EventLog
    summary: dict
    trajectory: pa.Table
    meta: dict = field(default_factory=dict)
    series: dict[str, pa.Table] = field(default_factory=dict)   # extra time histories for reports
    aborted: str | None = None        # why the mission cannot go on past this phase (None: it can)
