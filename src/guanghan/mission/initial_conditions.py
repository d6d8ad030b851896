"""Initial states of phases from a scenario: Keplerian elements or a Cartesian state in a named frame.

Elements given in a body-fixed frame (``MOON_ME``, ``MOON_PA``) are osculating elements of the
inertial motion expressed in that frame's axes frozen at the start epoch (the usual way lunar
orbits are quoted: inclination to the lunar equator). A Cartesian state in a body-fixed frame has a
velocity relative to that rotating frame and is converted with the full state transformation.
Altitudes are above the Moon's mean radius (``pck00011.tpc``).
"""

from __future__ import annotations

import math

import numpy as np

from guanghan.dynamics.kepler import Elements, elements_to_state
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames, spice_kernels


def state_from_orbit(orbit, et: float, mass: float, body: str = "MOON") -> SpacecraftState:
    """J2000 state at ``et`` from a scenario ``initial_orbit`` (altitudes km, angles deg)."""
    radius = float(spice_kernels.radii(body).mean())
    mu = spice_kernels.gm(body)
    rp = radius + orbit.periapsis_altitude_km * 1e3
    ra = radius + orbit.apoapsis_altitude_km * 1e3
    el = Elements((rp + ra) / 2.0, (ra - rp) / (ra + rp), math.radians(orbit.inclination_deg),
                  math.radians(orbit.raan_deg), math.radians(orbit.arg_periapsis_deg),
                  math.radians(orbit.true_anomaly_deg))
    r, v = elements_to_state(mu, el)
    if orbit.frame != "J2000":
        rot = frames.rotation(orbit.frame, "J2000", [et])[0]
        r, v = rot @ r, rot @ v
    return SpacecraftState(et, r, v, mass, "J2000", body)


def state_from_cartesian(state, et: float, mass: float, body: str = "MOON") -> SpacecraftState:
    """J2000 state at ``et`` from a scenario ``initial_state`` (km, km/s in ``state.frame``)."""
    x = np.concatenate([np.asarray(state.position_km, float), np.asarray(state.velocity_km_s, float)]) * 1e3
    sc = SpacecraftState(et, x[:3], x[3:], mass, state.frame, body)
    return sc.to_frame("J2000")
