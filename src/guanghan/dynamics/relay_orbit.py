"""A lunar relay satellite (e.g. Queqiao-2) on an elliptical frozen orbit, propagated numerically.

The orbit is given as classical elements (periapsis and apoapsis altitudes above the 1 737 400 m
reference sphere, inclination, node, argument of periapsis, true anomaly) at an epoch, referred to
the inertial frame aligned at that epoch with MOON_ME (the lunar equator and prime meridian of
date; the natural frame of frozen-orbit elements), MOON_PA or J2000. It is propagated with the
package's DOP853 propagator under the GRAIL field GRGM1200A to a modest degree plus the Earth and
the Sun as point-mass third bodies; the anomalistic period is measured from successive periapses.

Assumptions and limitations
    * No station-keeping, no solar radiation pressure (a 1.2 t relay with ~20 m² of area moves by
      metres a day from SRP, irrelevant to link geometry over a surface stay).
    * A 200 × 16 000 km orbit at 62.4° has a Keplerian period of 24.32 h (GM 4902.80 km³/s²,
      R 1737.4 km); the "24 h" of the CNSA releases is a rounded figure. The elements are inputs:
      no mission's orbit is hard-coded here.
    * Osculating elements at the epoch: the mean (frozen) elements differ, mostly through the
      Earth's tide at 16 000 km altitude; the measured anomalistic period is that of the osculating
      state under the full force model.

References
    Ely, T. A. (2005), "Stable constellations of frozen elliptical inclined lunar orbits", J.
    Astronaut. Sci. 53(3), 301–316 (frozen orbits at i ≈ 56–63°, ω = 90°/270°).
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (3rd ed.), Algorithm 4.5.
    Lemoine, F. G. et al. (2014), GRL 41, 3382 (GRGM900C; GRGM1200A is its degree-1200 successor).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.dynamics import events as ev
from guanghan.dynamics.forces import CentralGravity, ForceModel, ThirdBody
from guanghan.dynamics.kepler import Elements, elements_to_state
from guanghan.dynamics.propagator import PropagationResult, Tolerances, propagate
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames, spice_kernels
from guanghan.environment.geodetic import MOON_MEAN_RADIUS
from guanghan.environment.gravity_field import load_lunar_field


class RelayOrbit(ConfigModel):
    """Osculating elements of a lunar relay orbit at ``epoch_utc`` in the inertial frame aligned
    with ``frame`` at that epoch. Altitudes (m) are above the 1 737 400 m sphere."""

    name: str = "relay"
    epoch_utc: str
    periapsis_altitude_m: float = Field(gt=0.0, le=1.0e8)
    apoapsis_altitude_m: float = Field(gt=0.0, le=1.0e8)
    inclination_deg: float = Field(ge=0.0, le=180.0)
    raan_deg: float = Field(ge=0.0, lt=360.0)
    argp_deg: float = Field(ge=0.0, lt=360.0)
    true_anomaly_deg: float = Field(default=0.0, ge=0.0, lt=360.0)
    frame: Literal["MOON_ME", "MOON_PA", "J2000"] = "MOON_ME"
    mass_kg: float = Field(default=1200.0, gt=0.0, le=1.0e5)

    @field_validator("epoch_utc")
    @classmethod
    def _epoch(cls, value: str) -> str:
        try:
            spice_kernels.utc_to_et(value)
        except ValueError as exc:
            fail(str(exc), None, value)
        return value

    @model_validator(mode="after")
    def _check(self):
        if self.apoapsis_altitude_m < self.periapsis_altitude_m:
            fail(f"is below periapsis_altitude_m = {self.periapsis_altitude_m}", "apoapsis_altitude_m",
                 self.apoapsis_altitude_m)
        return self

    @property
    def epoch_et(self) -> float:
        return spice_kernels.utc_to_et(self.epoch_utc)

    def elements(self) -> Elements:
        rp = MOON_MEAN_RADIUS + self.periapsis_altitude_m
        ra = MOON_MEAN_RADIUS + self.apoapsis_altitude_m
        return Elements((rp + ra) / 2.0, (ra - rp) / (ra + rp), math.radians(self.inclination_deg),
                        math.radians(self.raan_deg), math.radians(self.argp_deg),
                        math.radians(self.true_anomaly_deg))

    def keplerian_period_s(self, mu: float | None = None) -> float:
        """Two-body period (s) of the elements, with the Moon's GM from the kernels by default."""
        return self.elements().period(spice_kernels.gm("MOON") if mu is None else mu)


def initial_state(orbit: RelayOrbit) -> SpacecraftState:
    """Moon-centred J2000 state at the epoch: elements → state (Curtis Alg. 4.5) in the frame's axes,
    then rotated (no ω × r term: the elements are inertial, the frame only sets their axes)."""
    mu = spice_kernels.gm("MOON")
    r, v = elements_to_state(mu, orbit.elements())
    et = orbit.epoch_et
    if orbit.frame != "J2000":
        rot = frames.rotation(orbit.frame, "J2000", [et])[0]
        r, v = rot @ r, rot @ v
    return SpacecraftState(et, r, v, orbit.mass_kg, "J2000", "MOON")


def relay_force_model(degree: int = 12, model: str = "GRGM1200A",
                      third_bodies: tuple[str, ...] = ("EARTH", "SUN")) -> ForceModel:
    """Lunar spherical harmonics to ``degree`` × ``degree`` plus point-mass third bodies."""
    if not 2 <= degree <= 100:
        raise ValueError(f"degree = {degree} is outside [2, 100] (a relay at ≥ 200 km needs ≲ 20)")
    field = load_lunar_field(model, degree)
    return ForceModel(CentralGravity("MOON", spice_kernels.gm("MOON"), field),
                      [ThirdBody(b, spice_kernels.gm(b)) for b in third_bodies])


def propagate_relay(orbit: RelayOrbit, end_et: float, *, start_et: float | None = None, degree: int = 12,
                    tolerances: Tolerances | None = None,
                    detect_apsides: bool = True) -> PropagationResult:
    """Propagate the relay from its epoch to ``end_et`` (ET s); with ``start_et`` later than the
    epoch, the trajectory still starts at the epoch (use ``trajectory.states`` inside the span).
    Default tolerances: rtol 1e-10, 1 cm on position."""
    tolerances = tolerances or Tolerances(rtol=1e-10, atol_m=1e-2)
    state = initial_state(orbit)
    if start_et is not None and start_et < state.et:
        raise ValueError(f"start_et = {start_et} precedes the orbit epoch {state.et} (ET s); "
                         f"give elements at or before the span")
    return propagate(state, end_et, relay_force_model(degree), tolerances,
                     [ev.apsides()] if detect_apsides else [])


def periapsis_epochs(result: PropagationResult) -> np.ndarray:
    """Epochs (ET s) of the periapses found while propagating (needs ``detect_apsides``)."""
    return np.array([e.et for e in result.events if e.name == "periapsis"])


def anomalistic_period_s(result: PropagationResult) -> float:
    """Mean interval (s) between successive periapses of a propagated orbit."""
    t = periapsis_epochs(result)
    if t.size < 2:
        raise ValueError(f"{t.size} periapsis found: propagate over more than one revolution")
    return float(np.mean(np.diff(t)))
