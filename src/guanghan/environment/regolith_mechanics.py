"""Mechanics of the lunar regolith column: bulk density and overburden against depth, Mohr–Coulomb
strength against depth, bearing-capacity factors, and surface gravity; what a drill, a scoop or a
footpad meets.

References
    Hayne, P. O. et al. (2017), JGR Planets 122, 2371–2400, eq. A2 (ρ(z)) and Table A1.
    Carrier, W. D. III, Olhoeft, G. R. and Mendell, W. (1991), "Physical properties of the lunar
    surface", *Lunar Sourcebook* (Heiken, Vaniman and French, eds.), CUP, ch. 9, Table 9.12.
    Terzaghi, K. (1943), *Theoretical Soil Mechanics*, ch. 8; Vesić, A. S. (1973), J. Soil Mech.
    Found. Div. ASCE 99(SM1), 45–73 (N_γ = 2 (N_q + 1) tan φ).
    Jáky, J. (1944), J. Soc. Hungarian Architects and Engineers 78(22), 355–358 (K0 = 1 − sin φ).

Assumptions and limitations
    * Carrier et al.'s values are depth-interval averages, put at the interval middles and held
      constant below 0.45 m, where the table (0–60 cm) ends. ASSUMPTION: no better data.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np
from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.environment import spice_kernels
from guanghan.environment.geodetic import MOON_MEAN_RADIUS
from guanghan.environment.regolith_thermal import RegolithProperties


@lru_cache(maxsize=1)
def lunar_surface_gravity_m_s2() -> float:
    """g = GM / R² (m/s²) on the 1 737.4 km reference sphere, GM from ``gm_de440.tpc`` (≈ 1.624)."""
    return spice_kernels.gm("MOON") / MOON_MEAN_RADIUS ** 2


def bulk_density_kg_m3(depth_m, regolith: RegolithProperties | None = None):
    """ρ(z) = ρd − (ρd − ρs) exp(−z/H) (kg/m³) at depth(s) z (m): Hayne et al. (2017) eq. A2."""
    p = regolith or RegolithProperties()
    rho_s, rho_d = p.density_surface_kg_m3, p.density_deep_kg_m3
    return rho_d - (rho_d - rho_s) * np.exp(-np.asarray(depth_m, float) / p.h_parameter_m)


def column_mass_kg_m2(depth_m, regolith: RegolithProperties | None = None):
    """∫0^z ρ dz' = ρd z − (ρd − ρs) H (1 − exp(−z/H)) (kg/m²): eq. A2 integrated."""
    p = regolith or RegolithProperties()
    z = np.asarray(depth_m, float)
    rho_s, rho_d, h = p.density_surface_kg_m3, p.density_deep_kg_m3, p.h_parameter_m
    return rho_d * z - (rho_d - rho_s) * h * -np.expm1(-z / h)


class RegolithStrength(ConfigModel):
    """Mohr–Coulomb strength against depth, linear between knots, constant beyond the ends.

    Defaults: Carrier et al. (1991) Table 9.12 averages for the intervals 0–15, 0–30, 0–60 and
    30–60 cm, put at the interval middles (7.5, 15, 30, 45 cm)."""

    depth_knots_m: list[float] = Field(default=[0.075, 0.15, 0.30, 0.45], min_length=1, description="depths (m)")
    cohesion_knots_pa: list[float] = Field(default=[520.0, 900.0, 1600.0, 3000.0], description="c (Pa)")
    friction_angle_knots_deg: list[float] = Field(default=[42.0, 46.0, 49.0, 54.0], description="φ (deg)")
    lateral_pressure_coefficient: float | None = Field(default=None, ge=0.0, le=5.0,
                                                       description="K0 (-); None: Jáky's 1 − sin φ(z)")

    @model_validator(mode="after")
    def _check(self):
        z, c, phi = self.depth_knots_m, self.cohesion_knots_pa, self.friction_angle_knots_deg
        for name, values in (("cohesion_knots_pa", c), ("friction_angle_knots_deg", phi)):
            if len(values) != len(z):
                fail(f"needs one value per depth knot ({len(z)})", name, values)
        if z[0] < 0.0 or any(b <= a for a, b in itertools.pairwise(z)) or not all(map(math.isfinite, z)):
            fail("depths must be ≥ 0 m and strictly increasing", "depth_knots_m", z)
        if not all(0.0 <= v <= 1e9 for v in c):
            fail("cohesion must lie in [0, 1e9] Pa", "cohesion_knots_pa", c)
        if not all(0.0 <= v <= 60.0 for v in phi):
            fail("friction angles must lie in [0, 60] deg", "friction_angle_knots_deg", phi)
        return self

    def at(self, depth_m) -> tuple[np.ndarray, np.ndarray]:
        """(c (Pa), φ (rad)) at depth(s) (m)."""
        z = np.asarray(depth_m, float)
        c = np.interp(z, self.depth_knots_m, self.cohesion_knots_pa)
        return c, np.radians(np.interp(z, self.depth_knots_m, self.friction_angle_knots_deg))

    def k0(self, phi_rad) -> np.ndarray:
        """Earth pressure coefficient at rest (-): the given constant, else 1 − sin φ (Jáky 1944)."""
        if self.lateral_pressure_coefficient is not None:
            return np.full_like(np.asarray(phi_rad, float), self.lateral_pressure_coefficient)
        return 1.0 - np.sin(phi_rad)


def bearing_capacity_factors(phi_rad) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N_c, N_q, N_γ) (-): N_q = e^{π tan φ} tan²(45° + φ/2) (Prandtl 1921, Reissner 1924),
    N_c = (N_q − 1) cot φ (→ π + 2 as φ → 0), N_γ = 2 (N_q + 1) tan φ (Vesić 1973)."""
    phi = np.asarray(phi_rad, float)
    tan = np.tan(phi)
    n_q = np.exp(math.pi * tan) * np.tan(math.pi / 4 + phi / 2) ** 2
    small = tan < 1e-9
    n_c = np.where(small, math.pi + 2.0, (n_q - 1.0) / np.where(small, 1.0, tan))
    return n_c, n_q, 2.0 * (n_q + 1.0) * tan
