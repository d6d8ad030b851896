"""Parachute descent: drogue and main deployment at set altitudes, drift in a constant wind.

The capsule under canopy is a point mass in a local east-north-up frame at the drogue deployment
point (flat Earth, constant gravity), with drag CdA of the open canopy acting on the velocity
relative to the air; the air moves with a constant horizontal wind. The drogue opens at
``drogue_altitude_km``, the main at ``main_altitude_km``; each canopy opens instantly.

Assumptions and limitations
    * Flat, non-rotating local frame: over a < 10 km drift the Coriolis acceleration
      (< 0.002 m/s² at 10 m/s) and Earth curvature are negligible.
    * Instant inflation, no canopy dynamics or oscillation; the capsule's own drag is included in
      the given CdA; heat-shield or cover jettison and the mass they carry away are ignored.
    * Density from the entry's atmosphere profile, wind constant with altitude (user input).

References
    * Knacke, T. W. (1992), Parachute Recovery Systems Design Manual, NWC TP 6575, ch. 5
      (steady descent: v = sqrt(2 m g / (ρ CdA)), eq. 5-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from guanghan.environment.constants import STANDARD_GRAVITY as G0
from guanghan.environment.atmosphere import AtmosphereProfile, profile_state
from guanghan.config_model import ConfigModel, fail
from guanghan.errors import InputError


class ParachuteSystem(ConfigModel):
    """Canopies and wind: altitudes (km, geodetic), drag areas CdA (m²), wind (m/s, east/north)."""

    drogue_altitude_km: float = Field(gt=0, le=50.0, description="a canopy opens below 50 km")
    drogue_cd_area_m2: float = Field(ge=0.01, le=500.0, description=(
        "a drogue drag area of 0.01 to 500 m² (Apollo's two drogues: ~60 m²)"))
    main_altitude_km: float = Field(gt=0, le=50.0, description="a canopy opens below 50 km")
    main_cd_area_m2: float = Field(ge=0.01, le=5000.0, description=(
        "a main-canopy drag area of 0.01 to 5,000 m² (Apollo's three mains: ~2,000 m²)"))
    wind_east_m_s: float = Field(default=0.0, ge=-100.0, le=100.0, description="a wind within ±100 m/s")
    wind_north_m_s: float = Field(default=0.0, ge=-100.0, le=100.0, description="a wind within ±100 m/s")

    @model_validator(mode="after")
    def _check_order(self) -> "ParachuteSystem":
        if self.main_altitude_km >= self.drogue_altitude_km:
            fail(f"the main (main_altitude_km) opens below the drogue (drogue_altitude_km = "
                 f"{self.drogue_altitude_km} km)", "main_altitude_km", self.main_altitude_km)
        return self

    def validate_for(self, entry_altitude_km: float | None = None, ground_altitude_km: float = 0.0):
        """Raise InputError naming the field if the set-up cannot work for this entry and ground."""
        checks = [
            ("main_altitude_km", self.main_altitude_km,
             ground_altitude_km < self.main_altitude_km < self.drogue_altitude_km,
             f"must lie between the ground (the site's altitude_m: {ground_altitude_km} km) and the "
             f"drogue altitude ({self.drogue_altitude_km} km)"),
        ]
        if entry_altitude_km is not None:
            checks.append(("drogue_altitude_km", self.drogue_altitude_km,
                           self.drogue_altitude_km < entry_altitude_km,
                           f"must be below the entry interface altitude ({entry_altitude_km} km)"))
        for name, value, ok, why in checks:
            if not ok:
                raise InputError(why, quantity=f"parachutes.{name}", value=value)


@dataclass(frozen=True)
class Descent:
    """Result of a canopy descent, times (s) from drogue deployment, distances (m) east/north."""

    main_time: float
    touchdown_time: float
    east: float
    north: float
    touchdown_speed: float
    times: np.ndarray
    states: np.ndarray             # (n, 6) [e, n, u, ve, vn, vu] (m, m/s)


@njit(cache=True)
def _descend(x0, mass, g, cda_drogue, cda_main, h_main, h_ground, wind, dt, h0, dh, logrho, sound,
             scale, out):
    """RK4 under canopy until the ground; fills ``out`` rows (``dt`` apart), returns (rows used,
    main index). Each row is reached in sub-steps h with λh ≤ 1, λ = ρ v CdA / m the drag's
    stiffness (the Jacobian of −½ρ v² CdA/m): RK4 is stable for real λh down to −2.78 (Hairer &
    Wanner, *Solving ODEs II*, §IV.2), so a large canopy opened fast does not blow up."""
    x = x0.copy()
    k = np.empty((4, 6))
    tmp = np.empty(6)
    main_at = -1
    out[0] = x
    for n in range(1, out.shape[0]):
        cda = cda_main if x[2] <= h_main else cda_drogue
        if main_at < 0 and x[2] <= h_main:
            main_at = n - 1
        rho0, _ = profile_state(x[2], h0, dh, logrho, sound, scale)
        v0 = np.sqrt((x[3] - wind[0]) ** 2 + (x[4] - wind[1]) ** 2 + x[5] ** 2)
        nsub = int(rho0 * v0 * cda / mass * dt) + 1
        h = dt / nsub
        for _ in range(nsub):
            for s in range(4):
                if s == 0:
                    tmp[:] = x
                else:
                    c = 0.5 if s < 3 else 1.0
                    for i in range(6):
                        tmp[i] = x[i] + c * h * k[s - 1, i]
                rho, _ = profile_state(tmp[2], h0, dh, logrho, sound, scale)
                rx, ry, rz = tmp[3] - wind[0], tmp[4] - wind[1], tmp[5]
                vr = np.sqrt(rx * rx + ry * ry + rz * rz)
                f = -0.5 * rho * vr * cda / mass
                k[s, 0], k[s, 1], k[s, 2] = tmp[3], tmp[4], tmp[5]
                k[s, 3], k[s, 4], k[s, 5] = f * rx, f * ry, f * rz - g
            for i in range(6):
                x[i] += h / 6.0 * (k[0, i] + 2.0 * k[1, i] + 2.0 * k[2, i] + k[3, i])
        out[n] = x
        if x[2] <= h_ground:
            return n + 1, main_at
    return out.shape[0], main_at


def descend(system: ParachuteSystem, mass: float, velocity_enu, profile: AtmosphereProfile,
            ground_altitude: float = 0.0, gravity: float = 9.80, density_scale: float = 1.0,
            dt: float = 0.1, max_time: float = 7200.0) -> Descent:
    """Descent from drogue deployment at rest position (0, 0, drogue altitude).

    ``velocity_enu`` (m/s) is the Earth-relative velocity at deployment; ``ground_altitude`` (m)
    the touchdown height; ``gravity`` (m/s²) the local gravity.
    """
    h_drogue = system.drogue_altitude_km * 1e3
    x0 = np.array([0.0, 0.0, h_drogue, *np.asarray(velocity_enu, float)])
    out = np.empty((int(max_time / dt) + 1, 6))
    wind = np.array([system.wind_east_m_s, system.wind_north_m_s])
    n, main_at = _descend(x0, mass, gravity, system.drogue_cd_area_m2, system.main_cd_area_m2,
                          system.main_altitude_km * 1e3, ground_altitude, wind, dt,
                          profile.altitude0, profile.step, profile.log_density,
                          profile.sound_speed, density_scale, out)
    states = out[:n].copy()
    last, prev = states[-1], states[-2]
    w = (prev[2] - ground_altitude) / (prev[2] - last[2]) if prev[2] != last[2] else 1.0
    end = prev + w * (last - prev)
    states[-1] = end
    times = dt * np.arange(n)
    times[-1] = times[-2] + w * dt
    return Descent(dt * max(main_at, 0), float(times[-1]), float(end[0]), float(end[1]),
                   float(np.linalg.norm(end[3:] - np.array([*wind, 0.0]))), times, states)


def expected_drift(system: ParachuteSystem, mass: float, profile: AtmosphereProfile,
                   ground_altitude: float = 0.0) -> tuple[float, float]:
    """Wind drift (m east, m north) from drogue deployment to touchdown, starting at rest in the
    air (horizontal speed = wind) at the drogue's steady descent rate: the aim-point offset."""
    rho, _ = profile.state(system.drogue_altitude_km * 1e3)
    v_down = np.sqrt(2.0 * mass * G0 / (rho[0] * system.drogue_cd_area_m2))   # Knacke eq. 5-1
    d = descend(system, mass, [system.wind_east_m_s, system.wind_north_m_s, -v_down], profile,
                ground_altitude)
    return d.east, d.north
