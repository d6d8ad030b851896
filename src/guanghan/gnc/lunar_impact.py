"""Disposal by lunar impact: a retrograde finite deorbit burn, the impact point on the terrain,
and a design helper that places the impact near a target.

Impact: the trajectory after the burn is propagated with a terminal altitude event below the
lowest terrain of the DEM (so the impact lies before it); then, on the dense trajectory, the
first epoch at which the height over the 1737.4 km sphere equals the DEM height under the
ground track (MOON_ME, bilinear :func:`guanghan.environment.lunar_dem.height_m`) is found:
every stretch of the trajectory below the highest terrain is sampled every ≤ 200 m of ground
track, the first sign change of h(t) − h_DEM(lat(t), lon(t)) is bracketed and refined by Brent's
method. (Re-running an altitude event at the DEM height found under the previous estimate is
the same fixed-point idea, but does not converge at grazing angles over sloping ground.)

Design: the burn epoch is scanned over one revolution (``n_scan`` epochs), the impact of each
computed, and the epoch nearest the target (great-circle miss, or latitude miss alone) refined
by a bounded scalar minimisation.

Assumptions and limitations
    * The burn tracks the velocity (retrograde, constant thrust, ideal Δv by the rocket
      equation); no execution errors here (see :mod:`guanghan.gnc.execution_errors`).
    * The DEM is 1/8° (≈ 3.8 km): the impact point is as good as that terrain; below it the
      vehicle is a point (no attitude, no break-up).
    * Refinement finds a local minimum of the miss near the best scanned epoch.

References
    Curtis, H. D., *Orbital Mechanics for Engineering Students* (4th ed., 2020), ch. 2–3 (the
    conic and Kepler's problem: the impact point of the tests' two-body truth).
    Brent, R. P. (1973), *Algorithms for Minimization without Derivatives*, ch. 4 (root) and
    ch. 5 (bounded minimisation, scipy's ``minimize_scalar``).
    Smith, D. E. et al. (2010), Space Sci. Rev. 150, 209–241 (LOLA topography).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
from pydantic import Field
from scipy.optimize import brentq, minimize_scalar

from guanghan.config_model import ConfigModel
from guanghan.dynamics import events as ev
from guanghan.dynamics.forces import FiniteBurn, ForceModel
from guanghan.dynamics.kepler import state_to_elements
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.propulsion import Engine, burn_duration
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames, lunar_dem, time_scales
from guanghan.environment.geodetic import MOON_MEAN_RADIUS, great_circle_distance
from guanghan.errors import GuidanceFailure, InputError

#: m: margin below the DEM's lowest and above its highest point for the search window
_MARGIN_M = 500.0
#: m: largest ground-track spacing of the terrain search
_GROUND_STEP_M = 200.0
#: default integration tolerances: rtol 1e-10, 1 cm
TOLERANCES = Tolerances(rtol=1e-10, atol_m=1e-2)


class DeorbitPlan(ConfigModel):
    """Deorbit burn: ideal Δv (m/s) and the longest flight (h) from the burn to the impact."""

    delta_v_m_s: float = Field(default=50.0, gt=0, le=2000, description="retrograde ideal Δv (m/s)")
    max_flight_h: float = Field(default=6.0, gt=0, le=240, description=(
        "no impact within this many hours of the burn is a failure"))


@dataclass(frozen=True)
class Impact:
    """Impact: epoch (ET s), planetocentric lat/lon (deg, MOON_ME), terrain height (m over
    1737.4 km), speed (m/s, MOON_ME) and flight-path angle below the horizontal (deg)."""

    et: float
    lat_deg: float
    lon_deg: float
    terrain_height_m: float
    speed_m_s: float
    flight_path_angle_deg: float
    state_j2000: np.ndarray

    @property
    def utc(self) -> str:
        return time_scales.et_to_utc(self.et)


@dataclass
class DeorbitResult:
    """The burn, the impact and the trajectory from the start state to the impact."""

    burn: FiniteBurn
    impact: Impact
    trajectory: object
    figures: dict = field(default_factory=dict)


Terrain = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _sphere(lat_deg, lon_deg):
    return np.zeros(np.shape(lat_deg))


def deorbit_burn(mass_kg: float, burn_et: float, delta_v_m_s: float, engine: Engine) -> FiniteBurn:
    """Retrograde (velocity-tracking) burn centred on ``burn_et`` (ET s) giving ``delta_v_m_s``."""
    d = burn_duration(mass_kg, delta_v_m_s, engine.total_thrust_n, engine.isp_s)
    return FiniteBurn(burn_et - 0.5 * d, d, engine.total_thrust_n, engine.isp_s, "retrograde")


@lru_cache(maxsize=1)
def _dem_span_m() -> tuple[float, float]:
    """Heights (m) just below the DEM's lowest and above its highest point."""
    grid = lunar_dem.heights_m()
    return float(grid.min()) - _MARGIN_M, float(grid.max()) + _MARGIN_M


def _heights(traj, ets: np.ndarray, terrain: Terrain):
    """(height over the sphere − terrain height (m), lat, lon (deg), terrain (m)) at ``ets``."""
    y = traj.states(ets)
    r_me = np.einsum("nij,nj->ni", frames.rotation("J2000", "MOON_ME", ets), y[:, :3])
    rad = np.linalg.norm(r_me, axis=1)
    lat = np.degrees(np.arcsin(np.clip(r_me[:, 2] / rad, -1, 1)))
    lon = np.degrees(np.arctan2(r_me[:, 1], r_me[:, 0]))
    h_t = np.asarray(terrain(lat, lon), float)
    return rad - MOON_MEAN_RADIUS - h_t, lat, lon, h_t


def find_impact(start: SpacecraftState, model: ForceModel, end_et: float,
                tolerances: Tolerances = TOLERANCES,
                terrain: Terrain | None = lunar_dem.height_m):
    """(Impact, trajectory) of ``start`` on ``model`` (burns included) before ``end_et`` (ET s), or
    (None, trajectory) if it does not reach the surface. ``terrain=None``: the 1737.4 km sphere."""
    terrain = terrain or _sphere
    h_lo, h_hi = (-1.0, 0.0) if terrain is _sphere else _dem_span_m()
    res = propagate(start, end_et, model, tolerances,
                    [ev.altitude(h_lo, MOON_MEAN_RADIUS, terminal=True, name="below_terrain")])
    traj = res.trajectory
    if res.terminated_by is None:
        return None, traj
    coarse = np.linspace(traj.start_et, traj.end_et, max(2, int((traj.end_et - traj.start_et) / 5.0) + 1))
    alt = np.linalg.norm(traj.states(coarse)[:, :3], axis=1) - MOON_MEAN_RADIUS
    low = alt < h_hi
    low[:-1] |= low[1:]                      # widen each low stretch by one coarse step each way
    low[1:] |= low[:-1].copy()
    dt = _GROUND_STEP_M / float(np.linalg.norm(traj.final_state[3:6]))
    ets = np.unique(np.concatenate([np.arange(coarse[i], coarse[i + 1], dt)
                                    for i in np.flatnonzero(low[:-1] & low[1:])] + [[traj.end_et]]))
    g = _heights(traj, ets, terrain)[0]
    hit = np.flatnonzero((g[:-1] > 0) & (g[1:] <= 0))
    t_imp = traj.end_et
    if hit.size:
        i = int(hit[0])
        t_imp = brentq(lambda t: float(_heights(traj, np.array([t]), terrain)[0][0]), ets[i], ets[i + 1],
                       xtol=1e-4)
    return _impact(traj, t_imp, terrain), traj.truncated(t_imp)


def _impact(traj, t_imp: float, terrain: Terrain) -> Impact:
    _, lat, lon, h_t = _heights(traj, np.array([t_imp]), terrain)
    y = traj.states([t_imp])[0]
    x_me = frames.transform_states(y[:6], "J2000", "MOON_ME", [t_imp])[0]
    v = x_me[3:]
    up = x_me[:3] / np.linalg.norm(x_me[:3])
    fpa = math.degrees(math.asin(float(np.clip(-(v @ up) / np.linalg.norm(v), -1, 1))))
    return Impact(float(t_imp), float(lat[0]), float(lon[0]), float(h_t[0]), float(np.linalg.norm(v)),
                  fpa, y)


def fly_deorbit(start: SpacecraftState, model: ForceModel, engine: Engine, plan: DeorbitPlan,
                burn_et: float, tolerances: Tolerances = TOLERANCES,
                terrain: Terrain | None = lunar_dem.height_m) -> DeorbitResult:
    """Burn at ``burn_et`` (ET s, not before ``start``) and the impact that follows."""
    burn = deorbit_burn(start.mass, burn_et, plan.delta_v_m_s, engine)
    if burn.start_et < start.et:
        raise InputError(f"the burn would start {start.et - burn.start_et:.1f} s before the start state",
                         quantity="burn_et", value=burn_et, limit=start.et + 0.5 * burn.duration_s)
    end = burn.end_et + plan.max_flight_h * 3600.0
    impact, traj = find_impact(start, replace(model, burns=[*model.burns, burn]), end, tolerances, terrain)
    if impact is None:
        raise GuidanceFailure("lunar_impact", (
            f"no impact within {plan.max_flight_h} h of the burn: a {plan.delta_v_m_s} m/s burn leaves "
            f"the periapsis above the terrain; raise delta_v_m_s"))
    return DeorbitResult(burn, impact, traj, {"flight_time_s": impact.et - burn_et, "burn_et": burn_et})


def design_deorbit(start: SpacecraftState, model: ForceModel, engine: Engine, plan: DeorbitPlan,
                   target_lat_deg: float, target_lon_deg: float | None = None, n_scan: int = 24,
                   earliest_et: float | None = None,
                   tolerances: Tolerances = TOLERANCES,
                   terrain: Terrain | None = lunar_dem.height_m) -> DeorbitResult:
    """Burn epoch within one revolution from ``earliest_et`` (default: start + 60 s) whose impact
    is nearest (lat, lon) — or, without a longitude, nearest the latitude — of the target."""
    if not -90.0 <= target_lat_deg <= 90.0:
        raise InputError("latitude outside [-90, 90] deg", quantity="target_lat_deg", value=target_lat_deg)
    mu = model.central.mu
    el = state_to_elements(mu, start.r, start.v)
    if el.e >= 1.0:
        raise InputError("the start orbit is not bound", quantity="eccentricity", value=el.e, limit=1.0)
    period = el.period(mu)
    t0 = (start.et + 60.0) if earliest_et is None else earliest_et
    lat0, lon0 = math.radians(target_lat_deg), math.radians(target_lon_deg or 0.0)

    def miss_m(burn_et: float) -> float:
        try:
            imp = fly_deorbit(start, model, engine, plan, burn_et, tolerances, terrain).impact
        except GuidanceFailure:
            return math.inf
        if target_lon_deg is None:
            return abs(math.radians(imp.lat_deg) - lat0) * MOON_MEAN_RADIUS
        return float(great_circle_distance(math.radians(imp.lat_deg), math.radians(imp.lon_deg), lat0, lon0,
                                           MOON_MEAN_RADIUS))

    scan = t0 + period * np.arange(n_scan) / n_scan
    misses = np.array([miss_m(t) for t in scan])
    if not np.any(np.isfinite(misses)):
        raise GuidanceFailure("lunar_impact", f"no burn epoch in the revolution gives an impact with "
                                              f"{plan.delta_v_m_s} m/s; raise delta_v_m_s")
    k = int(np.argmin(misses))
    step = period / n_scan
    best = minimize_scalar(miss_m, bounds=(max(t0, scan[k] - step), scan[k] + step), method="bounded",
                           options={"xatol": 1.0})
    burn_et = float(best.x) if best.fun <= misses[k] else float(scan[k])
    result = fly_deorbit(start, model, engine, plan, burn_et, tolerances, terrain)
    result.figures.update({"miss_km": min(float(best.fun), float(misses[k])) / 1e3,
                           "scan_miss_km": misses / 1e3, "scan_burn_et": scan})
    return result
