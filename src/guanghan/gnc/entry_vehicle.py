"""The entry vehicle: capsule aerodynamics as a configuration record, with its mass and parachutes,
and the entry-interface state from geodetic coordinates.

Assumptions and limitations
    Trimmed capsule with constant L/D and Cd a function of Mach only; the bank angle is
    rate-limited (``max_bank_rate_deg_s``) in the simulation and in the guidance's predictor
    (there with each 2 s step's mean bank).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.dynamics.entry_kernels import planet_array
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import spice_kernels
from guanghan.environment.geodetic import cartesian_from_planetodetic, enu_basis
from guanghan.errors import InputError
from guanghan.gnc.parachute import ParachuteSystem


class Capsule(ConfigModel):
    """Return-capsule aerodynamics: reference area (m²), trim L/D, nose radius (m), Cd against Mach,
    maximum bank rate (deg/s)."""

    reference_area_m2: float = Field(gt=0, le=1e3, description="a capsule cross-section below 1,000 m²")
    lift_to_drag: float = Field(gt=0, le=1.0, description=(
        "a trimmed capsule's L/D: positive (lift is what the guidance steers) and at most 1 (capsules "
        "fly 0.2-0.4; above 1 is a lifting body this model does not describe)"))
    nose_radius_m: float = Field(ge=0.01, le=50.0, description="a nose radius of 1 cm to 50 m")
    cd_mach: list[list[float]] = Field(min_length=1)     # [[Mach, Cd], ...], Mach increasing
    max_bank_rate_deg_s: float = Field(default=20.0, gt=0, le=90.0, description="a bank rate up to 90 deg/s")

    @model_validator(mode="after")
    def _check_table(self) -> "Capsule":
        mach = [row[0] for row in self.cd_mach]
        if any(len(row) != 2 for row in self.cd_mach) \
                or any(b <= a for a, b in zip(mach, mach[1:], strict=False)) \
                or any(not 0 < row[1] <= 5 for row in self.cd_mach) or mach[0] < 0 or mach[-1] > 100:
            fail("needs [Mach, Cd] pairs with Mach increasing within [0, 100] and 0 < Cd <= 5",
                 "cd_mach", self.cd_mach)
        return self


@dataclass(frozen=True)
class EntryVehicle:
    """What flies the entry: the capsule's aerodynamics, its mass (kg) and its parachutes."""

    capsule: Capsule
    mass_kg: float
    parachutes: ParachuteSystem

    def validate(self) -> None:
        """Raise InputError naming the quantity if the vehicle cannot fly."""
        if not self.mass_kg > 0.0:
            raise InputError("must be > 0", quantity="mass_kg", value=self.mass_kg)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(vehicle [mass, area, L/D], Mach nodes, Cd nodes) for the kernels."""
        table = np.asarray(self.capsule.cd_mach, float)
        return (np.array([self.mass_kg, self.capsule.reference_area_m2, self.capsule.lift_to_drag]),
                np.ascontiguousarray(table[:, 0]), np.ascontiguousarray(table[:, 1]))


def rotate_bank(current: float, command: float, rate: float, dt: float, n: int) -> np.ndarray:
    """Signed bank (rad) of each of ``n`` steps of ``dt`` (s) moving from ``current`` towards
    ``command`` at most ``rate`` (rad/s): a sign change rolls through lift-up (σ passes 0)."""
    out = np.empty(n)
    for k in range(n):
        current += min(rate * dt, max(-rate * dt, command - current))
        out[k] = current
    return out


def entry_state_from_geodetic(altitude_km: float, lat_deg: float, lon_deg: float, speed_m_s: float,
                              fpa_deg: float, azimuth_deg: float, utc: str, mass_kg: float,
                              inertial: bool = True) -> SpacecraftState:
    """Earth-centred J2000 state from geodetic position and speed, flight-path angle and azimuth
    (clockwise from north), inertial or Earth-relative, at ``utc``."""
    if not speed_m_s > 0.0:
        raise InputError("must be > 0", quantity="speed_m_s", value=speed_m_s)
    if not -90.0 < fpa_deg < 90.0:
        raise InputError("must be within (-90, 90) deg", quantity="fpa_deg", value=fpa_deg)
    et = spice_kernels.utc_to_et(utc)
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    r = cartesian_from_planetodetic(lat, lon, altitude_km * 1e3)
    up = r / np.linalg.norm(r)
    east, north, _ = enu_basis(np.arcsin(up[2]), lon)       # horizontal of the geocentric radius
    g, z = np.radians(fpa_deg), np.radians(azimuth_deg)
    v = speed_m_s * (np.cos(g) * (np.sin(z) * east + np.cos(z) * north) + np.sin(g) * up)
    if inertial:                          # inertial velocity in ITRF93 axes -> relative
        omega = planet_array(et)[3:6]
        v = v - np.cross(omega, r)
    xf = spice_kernels.state_transforms("ITRF93", "J2000", np.array([et]))[0]
    s = xf @ np.concatenate([r, v])
    return SpacecraftState(et, s[:3], s[3:], mass_kg, "J2000", "EARTH")
