"""Entry aerothermal figures: stagnation-point convective heat flux, heat load, g-load, Mach.

Assumptions and limitations
    * Convective heating only, at the stagnation point, for a cold, fully catalytic wall in
      equilibrium air (Sutton & Graves 1971). Radiative heating (not negligible above ~10.5 km/s for
      large noses) and wall temperature effects are left out: the heat flux is an estimate for
      comparison between trajectories, not a design value.
    * The heat load is the trapezoidal time integral of the sampled heat flux.
    * Sensed g-load is the magnitude of the non-gravitational (aerodynamic) acceleration over
      standard gravity.

References
    * Sutton, K., Graves, R. A. (1971), "A general stagnation-point convective-heating equation for
      arbitrary gas mixtures", NASA TR R-376, eq. (20); k = 1.7415e-4 kg^0.5/m for Earth air (SI).
"""

from __future__ import annotations

import numpy as np

from guanghan.environment.constants import STANDARD_GRAVITY as G0

#: Sutton–Graves constant for Earth air, SI (kg^0.5 / m): NASA TR R-376 (1971).
SUTTON_GRAVES_K_EARTH = 1.7415e-4


def stagnation_heat_flux(density, speed, nose_radius: float,
                         k: float = SUTTON_GRAVES_K_EARTH) -> np.ndarray:
    """Convective stagnation-point heat flux (W/m²) from density (kg/m³), speed (m/s) and nose
    radius (m): q = k·sqrt(ρ/R_n)·V³ (Sutton & Graves 1971, eq. 20)."""
    if not nose_radius > 0.0:
        raise ValueError(f"nose_radius = {nose_radius} m: must be positive")
    rho = np.asarray(density, float)
    v = np.asarray(speed, float)
    return k * np.sqrt(np.maximum(rho, 0.0) / nose_radius) * v ** 3


def heat_load(times, heat_flux) -> float:
    """Integrated heat load (J/m²) of heat flux samples (W/m²) at times (s), trapezoidal rule."""
    t = np.asarray(times, float)
    q = np.asarray(heat_flux, float)
    return float(np.sum(0.5 * (q[1:] + q[:-1]) * np.diff(t)))


def g_load(aero_acceleration) -> np.ndarray:
    """Sensed load (in g0) of aerodynamic acceleration magnitudes (m/s²)."""
    return np.asarray(aero_acceleration, float) / G0


def mach_number(speed, sound_speed) -> np.ndarray:
    """Mach number of speeds (m/s) relative to the air, at local sound speeds (m/s)."""
    return np.asarray(speed, float) / np.asarray(sound_speed, float)
