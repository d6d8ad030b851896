"""What the site gives the stay: Sun, Earth, temperatures, the operating window and the links.

Each function adapts the phase's records to the physics and returns plain arrays and windows (ET s);
:mod:`.flight` schedules the work in them and :mod:`.packing` writes them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from guanghan.dynamics import panel_thermal, relay_orbit
from guanghan.dynamics.conics import conic_periapsis
from guanghan.dynamics.propagator import Tolerances
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import lunar_dem, spice_kernels
from guanghan.environment import surface_illumination as illum
from guanghan.environment.constants import SPEED_OF_LIGHT
from guanghan.environment.geodetic import MOON_MEAN_RADIUS
from guanghan.gnc import link_budget, link_windows

#: relay propagation: 1 m and 1e-9 keep the link geometry to metres over days (the windows' edges
#: move by milliseconds), at a third of the steps of the library's default
RELAY_TOLERANCES = Tolerances(rtol=1e-9, atol_m=1.0)


def grid(t0: float, t1: float, step_s: float) -> np.ndarray:
    """Epochs (ET s) from ``t0`` to ``t1`` inclusive, at most ``step_s`` apart."""
    n = max(2, int(np.ceil((t1 - t0) / step_s)) + 1)
    return np.linspace(t0, t1, n)


@dataclass(frozen=True)
class Conditions:
    """Sun, Earth, regolith and lander temperatures at the site over the stay, and the operating
    windows (ET s) where the Sun is high enough and the lander within its limits."""

    ets: np.ndarray
    sun_elevation_deg: np.ndarray
    sun_azimuth_deg: np.ndarray
    sun_visible: np.ndarray
    earth_elevation_deg: np.ndarray
    light_time_s: np.ndarray
    regolith_temp_k: np.ndarray
    lander_temp_k: np.ndarray
    operating_windows: list[tuple[float, float]]
    operating_fraction: float


def conditions(phase, site: illum.SurfaceSite, horizon: illum.HorizonProfile, t0: float, t1: float) -> Conditions:
    """Sun and Earth directions (DE440), the regolith surface temperature (Hayne et al. 2017 model,
    level ground, DEM horizon), the lander's thermal model and the operating windows."""
    ets = grid(t0, t1, phase.conditions_step_s)
    sun = illum.sun_direction(site, ets)
    earth = illum.earth_direction(site, ets)
    forcing = panel_thermal.site_forcing(site, ets, horizon=horizon)   # the regolith's series, once
    lander_k = panel_thermal.integrate_panel(phase.lander_thermal, forcing).temp_k
    sky = sun.elevation_rad - horizon.elevation_rad(sun.azimuth_rad)
    ops = phase.operations
    th = phase.lander_thermal
    # every limit as a margin (> 0 inside); only the sign and the zero crossings are used
    margin = np.minimum.reduce([sun.elevation_deg - ops.min_sun_elevation_deg,
                                np.where(sky > 0.0, 1.0, -1.0) if ops.min_sun_elevation_deg >= 0 else np.ones(ets.size),
                                th.max_temp_k - lander_k, lander_k - th.min_temp_k])
    windows, fraction = link_windows.windows_from_margin(ets, margin)
    return Conditions(ets, sun.elevation_deg, sun.azimuth_deg, sky > 0.0, earth.elevation_deg,
                      illum.earth_light_time_s(site, ets), forcing.regolith_temp_k, lander_k,
                      windows, fraction)


@dataclass(frozen=True)
class LinkSet:
    """Windows of one kind of link (``direct`` or ``relay``) with their data volumes (Mbit) and
    mean rates (bit/s), the visibility sampled on the link grid, and the longest round-trip light
    time (s) of the path over the stay."""

    kind: str
    windows: list[tuple[float, float]]
    volumes_mbit: list[float]
    mean_rates_bps: list[float]
    coverage_fraction: float
    ets: np.ndarray
    visible: np.ndarray
    round_trip_s: float
    extra: dict = field(default_factory=dict)


def _volumes(windows, ets, rate_bps):
    vols = [link_budget.window_volume_from_rates(w, ets, rate_bps) for w in windows]
    return [v.volume_mbit for v in vols], [v.mean_rate_bps for v in vols]


def direct_links(phase, site, horizon, t0: float, t1: float) -> LinkSet:
    """Direct-to-Earth windows with the ground network (Earth above the site's mask and terrain,
    a station seeing the Moon) and their volumes on the direct link budget."""
    c = phase.comms
    ets = grid(t0, t1, c.sample_step_s)
    w = link_windows.direct_to_earth_windows(site, c.ground_stations, ets, site_mask_deg=c.site_mask_deg,
                                             horizon=horizon)
    rate = c.direct_link.data_rate_bps(w.range_m) if c.direct_link else np.zeros(ets.size)
    vols, rates = _volumes(w.windows, ets, rate)
    rtt = 2.0 * float(np.max(w.range_m)) / SPEED_OF_LIGHT
    return LinkSet("direct", w.windows, vols, rates, w.coverage_fraction, ets, w.visible, rtt)


class RelayBelowTerrain(ValueError):
    """The relay's orbit passes below the highest lunar terrain during the stay."""


def relay_links(phase, site, horizon, t0: float, t1: float) -> LinkSet:
    """Site–relay–station windows over the stay, the relay propagated from its elements with the
    lunar field, Earth and Sun (:func:`guanghan.dynamics.relay_orbit.propagate_relay`); volumes
    on the lesser of the proximity and trunk link rates."""
    c = phase.comms
    peak = float(np.max(lunar_dem.heights_m()))
    if c.relay.periapsis_altitude_m <= peak:
        raise RelayBelowTerrain(f"the relay's periapsis, {c.relay.periapsis_altitude_m / 1e3:.1f} km above "
                                f"the 1737.4 km sphere, is below the highest lunar terrain "
                                f"({peak / 1e3:.1f} km): its orbit meets the Moon")
    ets = grid(t0, t1, c.sample_step_s)
    result = relay_orbit.propagate_relay(c.relay, t1, start_et=t0, degree=c.relay_gravity_degree,
                                         tolerances=RELAY_TOLERANCES)
    try:
        period = relay_orbit.anomalistic_period_s(result)
    except ValueError:                          # under two periapses between the epoch and the lift-off
        period = float("nan")
    traj = result.trajectory
    states = traj.states(ets)
    pos = states[:, :3]
    mu = spice_kernels.gm("MOON")
    lowest = min(conic_periapsis(SpacecraftState(t, x[:3], x[3:6], c.relay.mass_kg), mu)[0]
                 for t, x in zip(ets[::10], states[::10])) - MOON_MEAN_RADIUS
    if lowest <= peak:
        raise RelayBelowTerrain(f"the relay's osculating periapsis comes down to {lowest / 1e3:.1f} km "
                                f"above the 1737.4 km sphere during the stay, below the highest lunar terrain "
                                f"({peak / 1e3:.1f} km): its orbit meets the Moon")
    w = link_windows.link_windows(site, traj, c.ground_stations, ets, site_mask_deg=c.site_mask_deg,
                                  horizon=horizon)
    rate = c.relay_link.data_rate_bps(w.range_m)
    if c.relay_trunk_link is not None:
        rate = np.minimum(rate, c.relay_trunk_link.data_rate_bps(w.earth_range_m))
    vols, rates = _volumes(w.windows, ets, rate)
    rtt = 2.0 * float(np.max(w.range_m + w.earth_range_m)) / SPEED_OF_LIGHT
    return LinkSet("relay", w.windows, vols, rates, w.coverage_fraction, ets, w.visible, rtt,
                   {"trajectory": traj, "relay_positions_j2000_m": pos, "lowest_altitude_m": lowest,
                    "period_s": period})
