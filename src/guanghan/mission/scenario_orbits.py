"""Scenario models of initial conditions: Keplerian elements or a Cartesian state about the Moon."""

from __future__ import annotations

import functools
import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from guanghan.environment import spice_kernels
from guanghan.config_model import ConfigModel, fail


Frame = Literal["J2000", "MOON_ME", "MOON_PA"]
#: Hill-sphere radius of the Moon (km): a (m/3M)^(1/3) with a = 384,400 km, m/M = 0.0123 (Battin §8.4)
HILL_RADIUS_KM = 61_500.0


@functools.lru_cache(maxsize=1)
def _moon_mean_radius_km() -> float:
    return float(sum(spice_kernels.radii("MOON")) / 3.0 / 1e3)


class InitialOrbit(ConfigModel):
    """Osculating Keplerian elements about the Moon, in J2000 or body-fixed axes frozen at start."""

    frame: Frame
    periapsis_altitude_km: float
    apoapsis_altitude_km: float
    inclination_deg: float = Field(ge=0, le=180)
    raan_deg: float = Field(default=0.0, ge=-360, le=360, description="an angle within ±360 deg")
    arg_periapsis_deg: float = Field(default=0.0, ge=-360, le=360, description="an angle within ±360 deg")
    true_anomaly_deg: float = Field(default=0.0, ge=-360, le=360, description="an angle within ±360 deg")

    @model_validator(mode="after")
    def _check_shape(self) -> "InitialOrbit":
        if self.periapsis_altitude_km <= 0:
            fail("periapsis at or below the lunar surface: the altitude must be > 0 km",
                  "periapsis_altitude_km", self.periapsis_altitude_km)
        if self.apoapsis_altitude_km > HILL_RADIUS_KM:
            fail(f"apoapsis beyond the Moon's Hill sphere (~{HILL_RADIUS_KM:.0f} km): the Earth, "
                 "not the Moon, would govern such an orbit", "apoapsis_altitude_km",
                 self.apoapsis_altitude_km)
        if self.apoapsis_altitude_km < self.periapsis_altitude_km:
            fail(f"apoapsis below periapsis (periapsis_altitude_km = {self.periapsis_altitude_km} km); "
                 "swap them?",
                  "apoapsis_altitude_km", self.apoapsis_altitude_km)
        return self


Vector3 = Annotated[list[float], Field(min_length=3, max_length=3)]


class InitialState(ConfigModel):
    """Cartesian Moon-centred state; in a body-fixed frame the velocity is relative to that frame."""

    frame: Frame
    position_km: Vector3
    velocity_km_s: Vector3

    @model_validator(mode="after")
    def _check_above_surface(self) -> "InitialState":
        r_km, radius_km = math.hypot(*self.position_km), _moon_mean_radius_km()
        if r_km > HILL_RADIUS_KM:
            fail(f"|position| = {r_km:.0f} km is beyond the Moon's Hill sphere (~{HILL_RADIUS_KM:.0f} km)",
                 "position_km", self.position_km)
        if math.hypot(*self.velocity_km_s) > 20.0:
            fail("|velocity| above 20 km/s is not a lunar orbit", "velocity_km_s", self.velocity_km_s)
        if r_km <= radius_km:
            fail(f"|position| = {r_km:.3f} km is inside the Moon (mean radius {radius_km} km)",
                  "position_km", self.position_km)
        return self
