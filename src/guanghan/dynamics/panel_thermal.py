"""Temperature of a thin flat panel on the lunar surface (a flag, a sunshade, a blanket): a lumped
radiative–conductive balance integrated over a span from the site's illumination.

The panel is one isothermal node of heat capacity C = m c (J/K) with two faces (front, back) of area
A, each with its own solar absorptivity α and infrared emissivity ε. For a face of unit normal n
(local ENU; the back face is −n) the balance is

    C dT/dt = Σ_faces A [ α S max(0, n·s)                  direct sunlight (Sun above the horizon)
                        + α F_g A_r(i) S cos i            sunlight reflected by the regolith
                        + ε F_g ε_r σ T_r⁴                infrared from the regolith surface
                        + ε F_s σ T_space⁴                cold sky (3 K)
                        − ε σ T⁴ ]                         emission
              + G (T_mount − T)                           optional conductive link to a mount

with the view factors of a tilted plane to the infinite level ground and to the sky,
F_g = (1 − n_up)/2, F_s = (1 + n_up)/2 (n_up the face normal's vertical component), the regolith
surface temperature T_r from :mod:`guanghan.environment.regolith_thermal` at the same epochs, and
the regolith's angle-dependent albedo A_r(i) (Hayne et al. 2017) at the Sun's incidence i on level
ground. Integration is backward Euler with a Newton solve per step (numba): the balance is stiff
(a 0.2 kg/m² fabric in sunlight relaxes in seconds), backward Euler is unconditionally stable and
its energy bookkeeping closes exactly: C (T_end − T_0) = Σ Δt · net flux(T_new).

A thermal cycle is counted each time the temperature rises from below T_mid − h to above
T_mid + h after having been below (one rise = one day–night cycle), where T_mid is the midpoint of
the span's extremes and h = 10 % of their range: a hysteresis band that ignores ripples. A rise
counts only once the span has been below the band, so one lunation from a lunar morning gives one
cycle (night, then the next sunrise), as does one starting at night.

Assumptions and limitations
    * Isothermal through the thickness and across the panel (thin, conductive enough): a thick or
      insulating item needs a multi-node model.
    * The ground is level, infinite, Lambertian, at one temperature; the lander's own shadow and IR,
      and the panel's shadow on the ground, are ignored. The panel's faces are grey and diffuse.
    * The Sun is a point source: no partial disc at sunrise (< 1 h of the lunation).

References
    Incropera, F. P. et al., *Fundamentals of Heat and Mass Transfer* (7th ed.), §13.1–13.2 (view
    factors: tilted plane to ground and sky, F = (1 ∓ cos β)/2) and eq. 13.17 (radiative exchange).
    Gilmore, D. G. (ed.), *Spacecraft Thermal Control Handbook* vol. 1 (2nd ed., 2002), ch. 2
    (lunar surface environment) and ch. 5 (lumped-node balances).
    Hayne, P. O. et al. (2017), JGR Planets 122, 2371 (regolith temperatures, albedo A(i), ε = 0.95).
    Hairer, E. and Wanner, G., *Solving ODEs II* (1996), §IV.3 (backward Euler, stiff stability).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.environment import regolith_thermal as rt
from guanghan.environment import surface_illumination as illum
from guanghan.environment.constants import AU, SOLAR_IRRADIANCE_1AU, STEFAN_BOLTZMANN

SPACE_TEMP_K = 3.0                      # K, cosmic background (rounded 2.725 K)


class FlatPanel(ConfigModel):
    """A thin flat panel: geometry, mass, optical properties of both faces, orientation, limits.

    Give ``areal_mass_kg_m2`` or ``density_kg_m3`` (with ``thickness_m``), not both. The front
    normal points towards azimuth ``facing_azimuth_deg`` (from north, through east) and is
    ``tilt_deg`` from the local zenith (0 = facing up, 90 = vertical, like a flag)."""

    name: str = "panel"
    area_m2: float = Field(gt=0.0, le=1000.0)
    thickness_m: float = Field(gt=0.0, le=0.1)
    areal_mass_kg_m2: float | None = Field(default=None, gt=0.0, le=500.0)
    density_kg_m3: float | None = Field(default=None, gt=0.0, le=25_000.0)
    specific_heat_j_kgk: float = Field(gt=0.0, le=20_000.0)
    absorptivity: float = Field(ge=0.0, le=1.0)
    emissivity: float = Field(gt=0.0, le=1.0)
    back_absorptivity: float | None = Field(default=None, ge=0.0, le=1.0)
    back_emissivity: float | None = Field(default=None, gt=0.0, le=1.0)
    facing_azimuth_deg: float = Field(default=0.0, ge=0.0, lt=360.0)
    tilt_deg: float = Field(default=90.0, ge=0.0, le=180.0)
    min_temp_k: float = Field(default=0.0, ge=0.0, le=3000.0)
    max_temp_k: float = Field(default=3000.0, gt=0.0, le=3000.0)
    mount_conductance_w_k: float = Field(default=0.0, ge=0.0, le=1000.0)
    mount_temp_k: float | None = Field(default=None, gt=0.0, le=3000.0)

    @model_validator(mode="after")
    def _check(self):
        if (self.areal_mass_kg_m2 is None) == (self.density_kg_m3 is None):
            fail("give exactly one of areal_mass_kg_m2 and density_kg_m3", "areal_mass_kg_m2",
                 self.areal_mass_kg_m2)
        if self.min_temp_k >= self.max_temp_k:
            fail(f"must be below max_temp_k = {self.max_temp_k}", "min_temp_k", self.min_temp_k)
        if self.mount_conductance_w_k > 0.0 and self.mount_temp_k is None:
            fail(f"mount_conductance_w_k = {self.mount_conductance_w_k} W/K needs a mount temperature",
                 "mount_temp_k", None)
        return self

    @property
    def heat_capacity_j_k(self) -> float:
        """C = (areal mass) × area × c (J/K)."""
        areal = self.areal_mass_kg_m2 if self.areal_mass_kg_m2 is not None else self.density_kg_m3 * self.thickness_m
        return areal * self.area_m2 * self.specific_heat_j_kgk

    @property
    def normal_enu(self) -> np.ndarray:
        """Unit normal of the front face in local ENU."""
        t, a = math.radians(self.tilt_deg), math.radians(self.facing_azimuth_deg)
        return np.array([math.sin(t) * math.sin(a), math.sin(t) * math.cos(a), math.cos(t)])

    def faces(self) -> list[tuple[np.ndarray, float, float]]:
        """(normal ENU, α, ε) of the front and back faces."""
        back_a = self.absorptivity if self.back_absorptivity is None else self.back_absorptivity
        back_e = self.emissivity if self.back_emissivity is None else self.back_emissivity
        n = self.normal_enu
        return [(n, self.absorptivity, self.emissivity), (-n, back_a, back_e)]


@dataclass(frozen=True)
class PanelForcing:
    """Environment at each epoch: Sun unit vector (n, 3, ENU), irradiance (W/m²), regolith surface
    temperature (K, or None for no ground) and regolith albedo at the Sun's incidence (n,)."""

    ets: np.ndarray
    sun_unit_enu: np.ndarray
    irradiance_w_m2: np.ndarray
    regolith_temp_k: np.ndarray | None = None
    regolith_albedo: np.ndarray | None = None
    regolith_emissivity: float = 0.95
    sun_visible: np.ndarray | None = None      # False where terrain hides the Sun


@dataclass(frozen=True)
class PanelResult:
    """Panel temperature history and its summary."""

    ets: np.ndarray
    temp_k: np.ndarray
    absorbed_w: np.ndarray          # environment input absorbed at each epoch (W), excl. emission
    emitted_w: np.ndarray           # ε σ A T⁴ summed over both faces (W)
    conducted_w: np.ndarray         # G (T_mount − T) (W)
    heat_capacity_j_k: float
    min_temp_k: float
    max_temp_k: float
    thermal_cycles: int
    within_limits: bool


def _absorbed_w(panel: FlatPanel, f: PanelForcing) -> np.ndarray:
    """Environment power absorbed by the panel (W) at each epoch (everything but its own emission)."""
    s = np.atleast_2d(f.sun_unit_enu)
    up = s[:, 2] > 0.0
    if f.sun_visible is not None:
        up &= f.sun_visible
    cos_ground = np.where(up, s[:, 2], 0.0)                     # incidence on level ground
    total = np.zeros(s.shape[0])
    for n, alpha, eps in panel.faces():
        f_ground = 0.5 * (1.0 - n[2])                            # Incropera §13.1, tilted plane
        f_sky = 0.5 * (1.0 + n[2])
        direct = np.where(up, np.clip(s @ n, 0.0, None), 0.0)
        face = alpha * f.irradiance_w_m2 * direct + eps * f_sky * STEFAN_BOLTZMANN * SPACE_TEMP_K ** 4
        if f.regolith_temp_k is not None:
            face = face + eps * f_ground * f.regolith_emissivity * STEFAN_BOLTZMANN * f.regolith_temp_k ** 4
            face = face + alpha * f_ground * f.regolith_albedo * f.irradiance_w_m2 * cos_ground
        total += panel.area_m2 * face
    return total


@njit(cache=True)
def _backward_euler(t0, ets, q_abs, cap, emit_coeff, g_mount, t_mount, temp):
    """Backward Euler: C (T₁ − T₀)/Δt = Q(t₁) − k_e T₁⁴ + G (T_m − T₁), Newton on T₁."""
    temp[0] = t0
    for j in range(ets.size - 1):
        dt = ets[j + 1] - ets[j]
        told = temp[j]
        t = told
        for _ in range(80):
            f = cap * (t - told) / dt - q_abs[j + 1] + emit_coeff * t ** 4 - g_mount * (t_mount - t)
            df = cap / dt + 4.0 * emit_coeff * t ** 3 + g_mount
            step = f / df
            t -= step
            t = max(t, 1.0)
            if abs(step) < 1e-9 * t:
                break
        temp[j + 1] = t


def _steady_state(q, emit_coeff, g, t_mount) -> float:
    """T with q + G (T_m − T) = k_e T⁴ (Newton from the radiative estimate)."""
    t = max(((q + g * t_mount) / emit_coeff) ** 0.25, 3.0)
    for _ in range(100):
        f = emit_coeff * t ** 4 + g * t - q - g * t_mount
        step = f / (4.0 * emit_coeff * t ** 3 + g)
        t -= step
        if abs(step) < 1e-10 * t:
            break
    return t


def count_thermal_cycles(temp_k: np.ndarray, band_fraction: float = 0.10) -> int:
    """Rises from below T_mid − h to above T_mid + h, h = band_fraction × (max − min)."""
    lo_t, hi_t = float(np.min(temp_k)), float(np.max(temp_k))
    if hi_t - lo_t <= 0.0:
        return 0
    mid, h = 0.5 * (lo_t + hi_t), band_fraction * (hi_t - lo_t)
    cycles, state = 0, None
    for t in temp_k:
        if t < mid - h:
            state = "low"
        elif t > mid + h:
            if state == "low":
                cycles += 1
            state = "high"
    return cycles


def integrate_panel(panel: FlatPanel, forcing: PanelForcing, initial_temp_k: float | None = None) -> PanelResult:
    """Panel temperature at ``forcing.ets``; starts in quasi-steady state unless ``initial_temp_k``."""
    ets = np.asarray(forcing.ets, float)
    if ets.ndim != 1 or ets.size < 2 or np.any(np.diff(ets) <= 0.0):
        raise ValueError("forcing.ets must be a strictly increasing 1-D array of ≥ 2 epochs (ET s)")
    q = _absorbed_w(panel, forcing)
    emit = panel.area_m2 * STEFAN_BOLTZMANN * sum(e for _, _, e in panel.faces())
    g = panel.mount_conductance_w_k
    t_m = panel.mount_temp_k if panel.mount_temp_k is not None else 0.0
    t0 = _steady_state(float(q[0]), emit, g, t_m) if initial_temp_k is None else float(initial_temp_k)
    if not t0 > 0.0:
        raise ValueError(f"initial_temp_k = {initial_temp_k} must be > 0 K")
    temp = np.empty(ets.size)
    _backward_euler(t0, ets, np.ascontiguousarray(q), panel.heat_capacity_j_k, emit, g, t_m, temp)
    tmin, tmax = float(temp.min()), float(temp.max())
    return PanelResult(ets, temp, q, emit * temp ** 4, g * (t_m - temp), panel.heat_capacity_j_k, tmin, tmax,
                       count_thermal_cycles(temp), panel.min_temp_k <= tmin and tmax <= panel.max_temp_k)


def site_forcing(site: illum.SurfaceSite, ets, *, include_regolith: bool = True,
                 regolith: rt.RegolithProperties | None = None,
                 grid: rt.ModelGrid | None = None,
                 horizon: illum.HorizonProfile | None = None) -> PanelForcing:
    """Environment at a lunar site from DE440 and the regolith model (level ground)."""
    regolith = regolith or rt.RegolithProperties()
    ets = np.asarray(ets, float)
    sun = illum.sun_direction(site, ets)
    irr = SOLAR_IRRADIANCE_1AU * (AU / sun.distance_m) ** 2
    visible = None if horizon is None else sun.elevation_rad > horizon.elevation_rad(sun.azimuth_rad)
    if not include_regolith:
        return PanelForcing(ets, sun.unit_enu, irr, sun_visible=visible)
    t_reg = rt.surface_temperature_series(site, ets, horizon=horizon, props=regolith, grid=grid).surface_temp_k
    incidence = np.arccos(np.clip(sun.unit_enu[:, 2], 0.0, 1.0))
    return PanelForcing(ets, sun.unit_enu, irr, t_reg, rt.angle_albedo(incidence, regolith),
                        regolith.emissivity, visible)


def simulate_panel(panel: FlatPanel, site: illum.SurfaceSite, start_et: float, end_et: float, *,
                   step_s: float = 600.0, include_regolith: bool = True,
                   regolith: rt.RegolithProperties | None = None,
                   horizon: illum.HorizonProfile | None = None) -> PanelResult:
    """Integrate the panel at ``site`` over [start_et, end_et] (ET s) with steps of ~``step_s`` (s)."""
    if not end_et > start_et:
        raise ValueError(f"end_et = {end_et} must be after start_et = {start_et} (ET s)")
    if not 1.0 <= step_s <= 86_400.0:
        raise ValueError(f"step_s = {step_s} is outside [1, 86400] s")
    n = max(2, math.ceil((end_et - start_et) / step_s) + 1)
    ets = np.linspace(start_et, end_et, n)
    forcing = site_forcing(site, ets, include_regolith=include_regolith, regolith=regolith, horizon=horizon)
    return integrate_panel(panel, forcing)
