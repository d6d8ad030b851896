"""Lunar regolith temperatures: the 1-D heat-conduction model of Hayne et al. (2017).

The regolith is a column of depth-dependent density and contact conductivity with a
temperature-dependent radiative conductivity and heat capacity, heated at the top by absorbed
sunlight (angle-dependent albedo), cooled by thermal emission, and fed from below by the lunar
geothermal flux. The heat equation ρ c ∂T/∂t = ∂/∂z (K ∂T/∂z) (Hayne et al. 2017, eq. A1) is solved
by explicit, flux-conservative finite differences on a geometrically stretched grid, in a numba
kernel, with a stable step set from the largest diffusivity of each layer over 40–450 K.

Two drivers:

* :func:`diurnal_surface_temperature` — idealised: the Sun circles at a fixed sub-solar latitude
  and distance with the mean synodic period; gives surface temperature against local time for any
  latitude and surface slope/aspect (Diviner-style curves);
* :func:`surface_temperature_series` — at a :class:`~guanghan.environment.surface_illumination.
  SurfaceSite`, driven by the actual Sun direction and distance from DE440 at every model step,
  spun up on the lunation before the first epoch.

Both spin up by repeating one lunation of forcing until the temperature profile at the start of a
lunation changes by less than ``spinup_tol_k`` (the deep layers reach equilibrium with the bottom
flux). The first spin-up starts from a uniform column at the lunation-mean radiative-equilibrium
temperature.

Assumptions and limitations
    * One dimension: no lateral conduction, no shadowing or re-radiation by surrounding terrain (a
      tilted facet sees cold sky over its whole upper hemisphere), no rocks. A terrain horizon only
      switches the direct sunlight off.
    * The surface node has no heat capacity (its temperature balances the fluxes at each step, found
      by Newton's method), as in Hayne et al. (2017) App. A2.1.
    * Highland normal albedo A0 = 0.12 by default (Hayne Table A1); mare sites are darker (A0 ≈ 0.07,
      Hayne et al. 2017, §2): set ``albedo_0``.
    * No eclipses by the Earth (a lunar eclipse drops the surface ~150 K for a few hours).

References
    Hayne, P. O. et al. (2017), "Global regolith thermophysical properties of the Moon from the
    Diviner Lunar Radiometer Experiment", J. Geophys. Res. Planets 122, 2371–2400: eq. A1 (heat
    equation), eqs. A2–A4 (ρ(z), Kc(z), K(T)), eq. A5/A6 (albedo A(i), heat capacity c(T)),
    App. A2 (grid: Δz0 = zs/m, Δz(i+1) = Δz(i)(1 + 1/n), depth b·zs; boundary conditions),
    Table A1 (parameter values).
    Keihm, S. J. (1984), Icarus 60, 568–589 (angle-dependent albedo); Vasavada, A. R. et al. (2012),
    JGR 117, E00H18.
    Hemingway, B. S. et al. (1981), Proc. Lunar Planet. Sci. 12B; Ledlow, M. J. et al. (1992), ApJ
    384, 640 (heat capacity data fitted by Hayne's polynomial).
    Langseth, M. G. et al. (1976), Proc. Lunar Sci. Conf. 7th, 3143 (heat flow ≈ 0.018 W/m²).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from pydantic import Field

from guanghan.config_model import ConfigModel
from guanghan.environment import surface_illumination as illum
from guanghan.environment.constants import AU, MEAN_SYNODIC_MONTH_S, SOLAR_IRRADIANCE_1AU, STEFAN_BOLTZMANN



class RegolithProperties(ConfigModel):
    """Thermophysical parameters of the regolith column; defaults are Hayne et al. (2017) Table A1."""

    albedo_0: float = Field(default=0.12, ge=0.0, lt=1.0)          # A0, normal Bond albedo (highland)
    albedo_a: float = Field(default=0.06, ge=0.0, le=1.0)          # a, Keihm (1984) / Hayne Table A1
    albedo_b: float = Field(default=0.25, ge=0.0, le=1.0)          # b, idem
    emissivity: float = Field(default=0.95, gt=0.0, le=1.0)        # ε, Hayne Table A1
    density_surface_kg_m3: float = Field(default=1100.0, gt=0.0, le=4000.0)   # ρs, Table A1
    density_deep_kg_m3: float = Field(default=1800.0, gt=0.0, le=4000.0)      # ρd, Table A1
    h_parameter_m: float = Field(default=0.06, gt=0.0, le=1.0)     # H, Table A1 standard (global fit)
    conductivity_surface_w_mk: float = Field(default=7.4e-4, gt=0.0, le=10.0)  # Ks, Table A1
    conductivity_deep_w_mk: float = Field(default=3.4e-3, gt=0.0, le=10.0)     # Kd, Table A1
    chi: float = Field(default=2.7, ge=0.0, le=100.0)              # χ, radiative conductivity, Table A1
    heat_flow_w_m2: float = Field(default=0.018, ge=0.0, le=1.0)   # Qb, Langseth et al. (1976)
    # c(T) = c0 + c1 T + c2 T² + c3 T³ + c4 T⁴ (J kg⁻¹ K⁻¹), Hayne et al. (2017) eq. A6 / Table A1,
    # a fit to Hemingway et al. (1981) and Ledlow et al. (1992); valid above ~10 K.
    heat_capacity_coeffs: tuple[float, float, float, float, float] = (
        -3.6125, 2.7431, 2.3616e-3, -1.2340e-5, 8.9093e-9)


class ModelGrid(ConfigModel):
    """Numerical settings: grid (Hayne App. A2.2: m, n, b), stability factor and spin-up control."""

    layers_per_skin_depth: int = Field(default=10, ge=2, le=100)      # m
    growth_n: float = Field(default=5.0, gt=0.5, le=100.0)             # n: Δz grows by (1 + 1/n)
    depth_skin_depths: float = Field(default=20.0, ge=3.0, le=100.0)   # b
    stability_factor: float = Field(default=0.45, gt=0.0, le=0.5)      # fraction of the explicit limit
    spinup_max_lunations: int = Field(default=2000, ge=1, le=100_000)
    spinup_tol_k: float = Field(default=0.005, gt=0.0, le=10.0)


@dataclass(frozen=True)
class Column:
    """The discretised column: node depths (m), density (kg/m³) and contact conductivity (W/m/K)."""

    z_m: np.ndarray
    density_kg_m3: np.ndarray
    contact_conductivity_w_mk: np.ndarray
    stable_step_s: float


# --------------------------------------------------------------------------- material laws


def heat_capacity_j_kgk(temp_k, props: RegolithProperties | None = None) -> np.ndarray:
    """Specific heat c(T) (J/kg/K): Hayne et al. (2017) eq. A6 polynomial."""
    props = props or RegolithProperties()
    t = np.asarray(temp_k, float)
    c0, c1, c2, c3, c4 = props.heat_capacity_coeffs
    return c0 + t * (c1 + t * (c2 + t * (c3 + t * c4)))


def angle_albedo(incidence_rad, props: RegolithProperties | None = None) -> np.ndarray:
    """A(i) = A0 + a (i/45°)³ + b (i/90°)⁸: Keihm (1984), Hayne et al. (2017) eq. A5."""
    props = props or RegolithProperties()
    i = np.asarray(incidence_rad, float)
    return props.albedo_0 + props.albedo_a * (i / (math.pi / 4)) ** 3 + props.albedo_b * (i / (math.pi / 2)) ** 8


def absorbed_flux_w_m2(cos_incidence, irradiance_w_m2, props: RegolithProperties | None = None):
    """Absorbed solar flux (1 − A(i)) S cos i (W/m²), zero for cos i ≤ 0 (Hayne eq. A7 boundary term)."""
    props = props or RegolithProperties()
    mu = np.clip(np.asarray(cos_incidence, float), 0.0, 1.0)
    return np.where(mu > 0.0, (1.0 - angle_albedo(np.arccos(mu), props)) * irradiance_w_m2 * mu, 0.0)


def build_column(props: RegolithProperties | None = None, grid: ModelGrid | None = None,
                 period_s: float = MEAN_SYNODIC_MONTH_S) -> Column:
    """Nodes and properties: Δz0 = zs/m, Δz(i+1) = Δz(i)(1 + 1/n) down to b·zs (Hayne App. A2.2),
    zs = sqrt(κ P / π) with κ from the surface values and c(250 K)."""
    props, grid = props or RegolithProperties(), grid or ModelGrid()
    if props.density_deep_kg_m3 < props.density_surface_kg_m3:
        raise ValueError(f"density_deep_kg_m3 = {props.density_deep_kg_m3} is below density_surface_kg_m3 "
                         f"= {props.density_surface_kg_m3}: the regolith compacts with depth")
    kappa = props.conductivity_surface_w_mk / (props.density_surface_kg_m3 * float(heat_capacity_j_kgk(250.0, props)))
    zs = math.sqrt(kappa * period_s / math.pi)                          # skin depth, Hayne eq. A31
    dz = [zs / grid.layers_per_skin_depth]                              # eq. A32
    z = [0.0]
    while z[-1] < grid.depth_skin_depths * zs:                          # eq. A33
        z.append(z[-1] + dz[-1])
        dz.append(dz[-1] * (1.0 + 1.0 / grid.growth_n))
    z = np.array(z)
    decay = np.exp(-z / props.h_parameter_m)
    rho_s, rho_d = props.density_surface_kg_m3, props.density_deep_kg_m3
    k_s, k_d = props.conductivity_surface_w_mk, props.conductivity_deep_w_mk
    rho = rho_d - (rho_d - rho_s) * decay                               # Hayne eq. A2
    kc = k_d - (k_d - k_s) * decay                                      # Hayne eq. A3
    # explicit stability: Δt ≤ ρc (Δz₋ + Δz₊)/2 / (K/Δz₋ + K/Δz₊) at the largest diffusivity over 40–450 K
    temps = np.linspace(40.0, 450.0, 83)
    # largest K/(Kc c) over the range
    ratio = np.max((1.0 + props.chi * (temps / 350.0) ** 3) / heat_capacity_j_kgk(temps, props))
    dzm, dzp = np.diff(z)[:-1], np.diff(z)[1:]
    limits = rho[1:-1] * 0.5 * (dzm + dzp) / (kc[1:-1] * ratio * (1.0 / dzm + 1.0 / dzp))
    return Column(z, rho, kc, grid.stability_factor * 2.0 * float(limits.min()))


# --------------------------------------------------------------------------- compiled kernel


@njit(cache=True)
def _march(temp, z, rho, kc, chi, cp, emis, qb, q_abs, dt, surf_out):
    """Advance ``temp`` (nodes, K) through len(q_abs) − 1 steps of ``dt`` (s); q_abs (W/m²) at each
    step epoch; writes the surface temperature at each epoch into ``surf_out``."""
    n = temp.size
    sigma = STEFAN_BOLTZMANN
    r350 = chi / 350.0 ** 3
    k = np.empty(n)
    new = np.empty(n)
    h0 = z[1] - z[0]
    h1 = z[2] - z[1]
    # one-sided second-order derivative at z = 0 on unequal spacing: g = a0 T0 + a1 T1 + a2 T2
    a0 = -(2.0 * h0 + h1) / (h0 * (h0 + h1))
    a1 = (h0 + h1) / (h0 * h1)
    a2 = -h0 / (h1 * (h0 + h1))
    surf_out[0] = temp[0]
    for j in range(q_abs.size - 1):
        for i in range(n):
            t = temp[i]
            k[i] = kc[i] * (1.0 + r350 * t * t * t)                      # Hayne eq. A4
        for i in range(1, n - 1):
            t = temp[i]
            c = cp[0] + t * (cp[1] + t * (cp[2] + t * (cp[3] + t * cp[4])))   # eq. A6
            dzm = z[i] - z[i - 1]
            dzp = z[i + 1] - z[i]
            flux_p = 0.5 * (k[i] + k[i + 1]) * (temp[i + 1] - temp[i]) / dzp
            flux_m = 0.5 * (k[i] + k[i - 1]) * (temp[i] - temp[i - 1]) / dzm
            new[i] = t + dt * 2.0 * (flux_p - flux_m) / (rho[i] * c * (dzm + dzp))   # eq. A1, conservative
        # bottom: K ∂T/∂z = −Qb (heat flows up from the interior), Hayne App. A2.1
        new[n - 1] = new[n - 2] + qb * (z[n - 1] - z[n - 2]) / k[n - 2]
        # surface: ε σ T0⁴ = Q_abs + K ∂T/∂z|0 (Hayne eq. A7), Newton's method on T0
        q = q_abs[j + 1]
        t0 = temp[0]
        for _ in range(60):
            k0 = kc[0] * (1.0 + r350 * t0 * t0 * t0)
            grad = a0 * t0 + a1 * new[1] + a2 * new[2]
            f = emis * sigma * t0 ** 4 - q - k0 * grad
            df = 4.0 * emis * sigma * t0 ** 3 - 3.0 * kc[0] * r350 * t0 * t0 * grad - k0 * a0
            step = f / df
            t0 -= step
            t0 = max(t0, 2.0)
            if abs(step) < 1e-7:
                break
        new[0] = t0
        for i in range(n):
            temp[i] = new[i]
        surf_out[j + 1] = t0


def _run(column: Column, props: RegolithProperties, temp: np.ndarray, q_abs: np.ndarray,
         dt: float) -> np.ndarray:
    surf = np.empty(q_abs.size)
    _march(temp, column.z_m, column.density_kg_m3, column.contact_conductivity_w_mk, props.chi,
           np.asarray(props.heat_capacity_coeffs, float), props.emissivity, props.heat_flow_w_m2,
           np.ascontiguousarray(q_abs, dtype=np.float64), dt, surf)
    return surf


def spin_up(column: Column, props: RegolithProperties, grid: ModelGrid, q_lunation: np.ndarray,
            dt: float) -> tuple[np.ndarray, int, bool]:
    """Repeat one lunation of absorbed flux (W/m², periodic: last value = first) until the start-of-
    lunation profile changes by < ``grid.spinup_tol_k``; returns (profile, lunations, converged)."""
    t_init = (float(np.mean(q_lunation)) / (props.emissivity * STEFAN_BOLTZMANN)) ** 0.25
    temp = np.full(column.z_m.size, max(t_init, 40.0))
    for count in range(1, grid.spinup_max_lunations + 1):
        before = temp.copy()
        _run(column, props, temp, q_lunation, dt)
        if np.max(np.abs(temp - before)) < grid.spinup_tol_k:
            return temp, count, True
    return temp, grid.spinup_max_lunations, False


# --------------------------------------------------------------------------- drivers


@dataclass(frozen=True)
class DiurnalResult:
    """Surface temperature (K) against local solar time (h, 0 = midnight) over one lunation, with the
    final profile (K) at the node depths (m) and the spin-up record."""

    local_time_h: np.ndarray
    surface_temp_k: np.ndarray
    depth_m: np.ndarray
    profile_temp_k: np.ndarray
    lunations: int
    converged: bool

    def at_local_time(self, hours) -> np.ndarray:
        """Surface temperature (K) at local time(s) (h), periodic interpolation."""
        return np.interp(np.mod(hours, 24.0), self.local_time_h, self.surface_temp_k, period=24.0)


def sun_unit_enu(lat_rad: float, subsolar_lat_rad: float, hour_angle_rad) -> np.ndarray:
    """Sun unit vector (n, 3) in local ENU at latitude φ for declination δ and hour angle h (rad):
    E = −cos δ sin h, N = cos φ sin δ − sin φ cos δ cos h, U = sin φ sin δ + cos φ cos δ cos h
    (Meeus ch. 13, rotated to ENU)."""
    h = np.atleast_1d(np.asarray(hour_angle_rad, float))
    sp, cp = math.sin(lat_rad), math.cos(lat_rad)
    sd, cd = math.sin(subsolar_lat_rad), math.cos(subsolar_lat_rad)
    return np.stack([-cd * np.sin(h), cp * sd - sp * cd * np.cos(h), sp * sd + cp * cd * np.cos(h)], axis=1)


def _check_lat(lat_deg: float) -> None:
    if not -90.0 <= lat_deg <= 90.0:
        raise ValueError(f"lat_deg = {lat_deg} is outside [-90, 90]")


def diurnal_surface_temperature(lat_deg: float, *, slope_deg: float = 0.0, aspect_deg: float = 0.0,
                                props: RegolithProperties | None = None,
                                grid: ModelGrid | None = None, subsolar_lat_deg: float = 0.0,
                                solar_distance_au: float = 1.0,
                                period_s: float = MEAN_SYNODIC_MONTH_S) -> DiurnalResult:
    """Equilibrium surface temperature against local time at latitude ``lat_deg`` for a facet of
    ``slope_deg`` facing down-slope towards azimuth ``aspect_deg``; the Sun at a fixed sub-solar
    latitude and distance (au), irradiance 1361 W/m² / r²."""
    props, grid = props or RegolithProperties(), grid or ModelGrid()
    _check_lat(lat_deg)
    if not 0.1 <= solar_distance_au <= 10.0:
        raise ValueError(f"solar_distance_au = {solar_distance_au} is outside [0.1, 10]")
    if not abs(subsolar_lat_deg) <= 90.0:
        raise ValueError(f"subsolar_lat_deg = {subsolar_lat_deg} is outside [-90, 90]")
    column = build_column(props, grid, period_s)
    n = math.ceil(period_s / column.stable_step_s)
    dt = period_s / n
    hour_angle = -math.pi + 2.0 * math.pi * np.arange(n + 1) / n           # local midnight to midnight
    sun = sun_unit_enu(math.radians(lat_deg), math.radians(subsolar_lat_deg), hour_angle)
    mu = illum.incidence_cosine(sun, illum.slope_normal_enu(slope_deg, aspect_deg))
    q = absorbed_flux_w_m2(mu, SOLAR_IRRADIANCE_1AU / solar_distance_au ** 2, props)
    temp, count, ok = spin_up(column, props, grid, q, dt)
    surf = _run(column, props, temp, q, dt)
    return DiurnalResult(np.degrees(hour_angle) / 15.0 + 12.0, surf, column.z_m, temp, count, ok)


@dataclass(frozen=True)
class SiteTemperatures:
    """Surface temperature (K) at a site at the requested epochs (ET s), with its extremes."""

    ets: np.ndarray
    surface_temp_k: np.ndarray
    lunations: int
    converged: bool

    @property
    def min_temp_k(self) -> float:
        return float(self.surface_temp_k.min())

    @property
    def max_temp_k(self) -> float:
        return float(self.surface_temp_k.max())


def _site_flux(site, ets, normal, props, horizon):
    sun = illum.sun_direction(site, ets)
    mu = illum.incidence_cosine(sun.unit_enu, normal)
    if horizon is not None:
        mu = np.where(sun.elevation_rad > horizon.elevation_rad(sun.azimuth_rad), mu, 0.0)
    irr = SOLAR_IRRADIANCE_1AU * (AU / sun.distance_m) ** 2                   # inverse square
    return absorbed_flux_w_m2(mu, irr, props)


def surface_temperature_series(site: illum.SurfaceSite, ets, *, slope_deg: float = 0.0,
                               aspect_deg: float = 0.0,
                               horizon: illum.HorizonProfile | None = None,
                               props: RegolithProperties | None = None,
                               grid: ModelGrid | None = None) -> SiteTemperatures:
    """Surface temperature (K) at ``site`` at epochs ``ets`` (ET s, increasing), driven by the DE440
    Sun direction and distance; spun up on the mean synodic month before ``ets[0]``."""
    props, grid = props or RegolithProperties(), grid or ModelGrid()
    ets = np.atleast_1d(np.asarray(ets, float))
    if ets.ndim != 1 or ets.size == 0 or np.any(np.diff(ets) < 0.0):
        raise ValueError("ets must be a non-empty, non-decreasing 1-D array of epochs (ET s)")
    normal = illum.slope_normal_enu(slope_deg, aspect_deg)
    period = MEAN_SYNODIC_MONTH_S
    column = build_column(props, grid, period)
    n = math.ceil(period / column.stable_step_s)
    dt = period / n
    spin_ets = ets[0] - period + dt * np.arange(n + 1)
    temp, count, ok = spin_up(column, props, grid, _site_flux(site, spin_ets, normal, props, horizon), dt)
    span = ets[-1] - ets[0]
    m = max(1, math.ceil(span / dt))
    run_ets = ets[0] + (span / m) * np.arange(m + 1) if span > 0 else ets[:1].copy()
    if run_ets.size == 1:
        surf = _run(column, props, temp, np.repeat(_site_flux(site, run_ets, normal, props, horizon), 2), dt)[:1]
    else:
        surf = _run(column, props, temp, _site_flux(site, run_ets, normal, props, horizon), span / m)
    return SiteTemperatures(ets, np.interp(ets, run_ets, surf), count, ok)
