"""The orbiter's divert after the returner separates: a burn along the local horizontal raising the
perigee clear of the atmosphere.

Sized by Brent's method on the burn duration for perigee = minimum + margin, then flown with the
execution errors of its draws; the achieved perigee is found from the apsides of the flown orbit.

Assumptions and limitations
    The burn is along the local horizontal at ignition (all of it raises the angular momentum
    h = r v_t), fixed in J2000 while it lasts; at most 30 % of the orbiter's mass may be burnt.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from guanghan.dynamics import events as ev
from guanghan.dynamics.forces import FiniteBurn
from guanghan.dynamics.kepler import state_to_elements
from guanghan.dynamics.patched_flight import PatchedModels
from guanghan.dynamics.propulsion import delta_v_from_masses
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment.constants import STANDARD_GRAVITY as G0
from guanghan.environment.geodetic import EARTH_EQUATORIAL_RADIUS
from guanghan.errors import GuidanceFailure
from guanghan.gnc.entry_target import entry_geometry
from guanghan.gnc.execution_errors import dispersed
from guanghan.gnc.return_plan import ReturnProblem
from guanghan.gnc.return_targeting import fly


def fly_divert(cfg: ReturnProblem, orbiter: SpacecraftState, models: PatchedModels, events: list,
               z: np.ndarray):
    """Orbiter divert: burn along the local horizontal sized for perigee = minimum + margin, flown
    with the execution errors of draws ``z``."""
    eng = cfg.divert_engine
    t0 = orbiter.et + cfg.plan.orbiter_divert.delay_s
    s0 = fly(orbiter, t0, models).final_state
    r_hat = s0.r / np.linalg.norm(s0.r)
    u = s0.v - (s0.v @ r_hat) * r_hat             # local horizontal: all of it raises h = r v_t
    u /= np.linalg.norm(u)
    mu = models.earth.central.mu
    r_goal = EARTH_EQUATORIAL_RADIUS + (cfg.plan.orbiter_divert.min_perigee_altitude_km + cfg.plan.orbiter_divert.margin_km) * 1e3

    def burn(d):
        return FiniteBurn(t0, d, eng.total_thrust_n, eng.isp_s, "inertial", tuple(u))

    def miss(d):
        s = fly(s0, t0 + d + 1.0, models, [burn(d)]).final_state
        el = state_to_elements(mu, s.r, s.v)
        return el.a * (1.0 - el.e) - r_goal

    longest = 0.3 * s0.mass * eng.isp_s * G0 / eng.total_thrust_n      # 30 % of the mass at most
    if miss(longest) < 0:
        raise GuidanceFailure("orbiter_divert", f"a {longest:.0f} s burn cannot raise the perigee to "
                              f"{cfg.plan.orbiter_divert.min_perigee_altitude_km} km + margin")
    d = brentq(miss, 0.1, longest, xtol=1e-3)
    b = dispersed(burn(d), cfg.plan.execution_errors, z, orbiter.mass)
    dets = [ev.apsides()]
    f = fly(orbiter, t0 + 6 * 3600.0, models, [b], None)
    res = f.legs[-1]
    peri = [e for e in ev.find_events(res.trajectory, dets) if e.name == "periapsis"]
    y = peri[0].state if peri else res.trajectory.final_state
    alt = float(entry_geometry(peri[0].et if peri else res.trajectory.end_et, y[:3], y[3:6],
                                  cfg.site_lat_deg, cfg.site_lon_deg).altitude_km)
    m0, m1 = res.trajectory.states([b.start_et, b.end_et])[:, 6]
    events.append({"et": float(t0), "event": "orbiter_divert", "details": {
        "duration_s": d, "delta_v_m_s": delta_v_from_masses(m0, m1, b.isp_s), "perigee_altitude_km": alt}})
    return f.legs, b, alt
