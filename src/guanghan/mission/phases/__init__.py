"""Mission phases: functions ``(phase_config, scenario, index, previous_state) -> PhaseResult``.

``PHASE_RUNNERS`` maps a scenario phase ``type`` to the function that flies it.
"""

from guanghan.mission.phases.entry_phase import run_earth_entry
from guanghan.mission.phases.lunar_orbit_coast import run_lunar_orbit_coast
from guanghan.mission.phases.trans_earth_phase import run_trans_earth

PHASE_RUNNERS = {
    "lunar_orbit_coast": run_lunar_orbit_coast,
    "trans_earth": run_trans_earth,
    "earth_entry": run_earth_entry,
}
