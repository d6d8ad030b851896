"""Earth entry: guided (skip) or open-loop entry from the entry interface to touchdown.

:func:`simulate_entry` flies the 3-DOF capsule (:mod:`guanghan.dynamics.entry_kernels`) under the
predictor–corrector bank guidance (:mod:`guanghan.gnc.entry_guidance`) or, for studies, an
open-loop bank law (:mod:`guanghan.gnc.entry_open_loop`: constant bank, bank profile, ballistic)
down to drogue deployment, then the canopy descent (:mod:`guanghan.gnc.parachute`) to the ground,
and returns an :class:`EntryResult`: time history, events and summary figures.

Assumptions and limitations
    * Perfect navigation: the guidance sees the true state and a perfect accelerometer's
      aerodynamic acceleration, from which it estimates the drag ratio and L/D. Its vehicle model
      is the nominal one; the truth may differ (``density_scale``, ``truth_vehicle``).
    * Guidance atmosphere: the on-board forecast, NRLMSIS 2.1 at the interface epoch at
      ``forecast_points`` stations on the great circle from the interface to the target (0: one
      profile averaged over ``profile_points`` points of it). Truth atmosphere: NRLMSIS at
      ``truth_track_points`` stations on that great circle (0: the forecast), interpolated along
      the track at every integration step (:mod:`guanghan.dynamics.entry_track_kernels`), times a
      constant ``density_scale`` and an optional seeded altitude profile
      (:class:`~guanghan.environment.density_dispersion.DensityPerturbation`); the station counts
      and their errors are in :mod:`guanghan.gnc.entry_atmosphere`. Forecast and truth share
      NRLMSIS and the day's indices: what a real forecast gets wrong is what ``density_scale`` and
      the perturbation model. Time is frozen at the interface epoch: over the ~25 min of flight
      the capsule crosses ~50° of longitude, so local time along the track changes mostly through
      position, which the stations capture; ``tests/test_atmosphere.py`` bounds the rest. The
      canopy descent uses the truth column at the drogue point.
    * Open loop: no site is needed, so the atmosphere's great circle ends where the capsule comes
      down instead: a first flight of the same bank law through the interface's NRLMSIS column
      gives a drogue point, the next flies along the great circle to it, and so on until that
      point moves by less than 10 km (``OPEN_LOOP_PASSES`` flights at most; the passes and the
      last shift are in the ``entry_interface`` event). A ballistic or steep entry needs 2
      passes; a skip, whose range depends on the air it skips off, 3 or 4. Without a site,
      touchdown is at the ellipsoid (0 m); with one, at the site's altitude, and the miss is
      measured from it.
    * Earth rotation vector from SPICE at the interface epoch, constant during the entry; the
      J2000 history is converted back with SPICE's full ITRF93 transformation at every epoch.
    * The aim point is the target shifted against the wind drift under canopy, computed in the
      forecast's column at the target (zero-wind aim otherwise); touchdown is where the geodetic
      height reaches the target's altitude.
    * Flight-path angle and azimuth are measured from the local horizontal plane normal to the
      geocentric radius; azimuth clockwise from north. Miss and downrange are great-circle
      distances on the Earth's mean sphere (IUGG R1, :mod:`guanghan.environment.constants`).
    * Bank-angle changes are rate-limited in the simulation (capsule ``max_bank_rate_deg_s``),
      through lift-up on a reversal (the signed bank angle passes through 0).
    * The guidance stops below ``guidance.final_phase_end_speed_m_s`` (Apollo's VQUIT,
      :mod:`guanghan.gnc.entry_guidance`) and the last command is held to the drogue.

The atmosphere set-up (:mod:`guanghan.gnc.entry_atmosphere`), the phases and closed-loop steering
(:mod:`guanghan.gnc.entry_steering`), the open-loop laws (:mod:`guanghan.gnc.entry_open_loop`) and
the summary figures (:mod:`guanghan.gnc.entry_result`) live in their own modules.

References: see the modules above; phases follow Lu (2014) §IV and the Apollo skip-entry scheme.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from guanghan import run_limits
from guanghan.dynamics import aerothermal
from guanghan.dynamics.entry_kernels import height, heights, planet_array
from guanghan.dynamics.entry_track_kernels import aero_history_track, aero_track, integrate_track
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import spice_kernels
from guanghan.environment.atmosphere import AtmosphereProfile, AtmosphereTrack, MsisDrivers
from guanghan.environment.constants import EARTH_MEAN_RADIUS as R_MEAN
from guanghan.environment.density_dispersion import DensityPerturbation
from guanghan.environment.geodetic import (cartesian_from_planetodetic, enu_basis,
                                           planetodetic_from_cartesian)
from guanghan.environment.sites import Site
from guanghan.errors import InputError, PropagationError
from guanghan.gnc.entry_atmosphere import site_unit, track_atmosphere
from guanghan.gnc.entry_guidance import EntryGuidance, GuidanceSettings
from guanghan.gnc.entry_predictor import GuidanceModel
from guanghan.gnc.entry_open_loop import Ballistic, OpenLoopMode, OpenLoopSteering
from guanghan.gnc.entry_result import EntryResult, entry_summary
from guanghan.gnc.entry_steering import ClosedLoopSteering, EntryLog, Flight, next_phase
from guanghan.gnc.entry_vehicle import EntryVehicle
from guanghan.gnc.parachute import descend, expected_drift

OPEN_LOOP_PASSES = 6               # flights at most to fit an open-loop entry's atmosphere track
OPEN_LOOP_CONVERGED_M = 10_000.0   # m: the track's end moves less than this between two passes


@dataclass(frozen=True)
class EntrySettings:
    """Simulation settings: truth RK4 steps (s), atmosphere drivers, limits, and the open-loop
    bank law that replaces the guidance (None: closed loop)."""

    guidance: GuidanceSettings = field(default_factory=GuidanceSettings)
    step_s: float = 0.5
    coast_step_s: float = 2.0
    msis_drivers: MsisDrivers | None = None     # None: CelesTrak indices of the interface day
    forecast_points: int = 8                    # NRLMSIS stations of the guidance's forecast; 0:
                                                # one profile averaged over profile_points points
    profile_points: int = 7
    truth_track_points: int = 12                # NRLMSIS stations of the truth; 0: the forecast
                                                # (guanghan.gnc.entry_atmosphere: the counts)
    max_flight_s: float = 5400.0
    strict: bool = False                        # True: raise GuidanceFailure instead of logging
    open_loop: OpenLoopMode | None = None       # constant bank, bank profile or ballistic


def _validate(entry, vehicle, target, settings, ab, r0) -> None:
    vehicle.validate()
    if target is None and settings.open_loop is None:
        raise InputError("closed-loop guidance flies to a landing site: give one, or fly an "
                         "open-loop mode (constant_bank, bank_profile, ballistic)",
                         quantity="site", value=None)
    if target is not None and not -90.0 <= target.lat_deg <= 90.0:
        raise InputError("must be within [-90, 90] deg", quantity="site.lat_deg", value=target.lat_deg)
    ground = _ground_m(target)
    h0 = height(r0, *ab)
    if h0 <= max(0.0, ground):
        raise InputError(f"the entry state is {h0 / 1e3:.1f} km above the ellipsoid: below the "
                         "surface", quantity="entry_interface", value=entry.utc)
    vehicle.parachutes.validate_for(h0 / 1e3, ground / 1e3)
    if settings.guidance.terminal_altitude_km != vehicle.parachutes.drogue_altitude_km:
        raise InputError("must equal parachutes.drogue_altitude_km "
                         f"({vehicle.parachutes.drogue_altitude_km} km)",
                         quantity="guidance.terminal_altitude_km",
                         value=settings.guidance.terminal_altitude_km)
    spin = settings.open_loop
    if isinstance(spin, Ballistic) and abs(spin.roll_rate_deg_s) > vehicle.capsule.max_bank_rate_deg_s:
        raise InputError(f"exceeds the capsule's max_bank_rate_deg_s "
                         f"({vehicle.capsule.max_bank_rate_deg_s} deg/s)",
                         quantity="guidance.roll_rate_deg_s", value=spin.roll_rate_deg_s)
    if settings.truth_track_points != 0 and not 2 <= settings.truth_track_points <= 200:
        raise InputError("must be 0 (the guidance's forecast) or within [2, 200] stations",
                         quantity="truth_track_points", value=settings.truth_track_points)
    if settings.forecast_points != 0 and not 2 <= settings.forecast_points <= 200:
        raise InputError("must be 0 (one averaged profile) or within [2, 200] stations",
                         quantity="forecast_points", value=settings.forecast_points)
    for name in ("step_s", "coast_step_s"):
        if not 0.0 < getattr(settings, name) <= settings.guidance.period_s * 5:
            raise InputError(f"must be > 0 and at most 5 guidance periods (guidance.period_s = "
                             f"{settings.guidance.period_s} s)",
                             quantity=name, value=getattr(settings, name))


def _ground_m(target: Site | None) -> float:
    """Height (m) of the ground at touchdown: the site's, else the ellipsoid's."""
    return target.altitude_m if target is not None else 0.0


class _Truth:
    """The flown vehicle in the truth atmosphere: kernel arrays and scratch columns (SI).

    ``lift_factor`` multiplies the vehicle's L/D (0: a zero-lift ballistic entry)."""

    def __init__(self, planet, vehicle: EntryVehicle, track: AtmosphereTrack, density_scale: float,
                 lift_factor: float = 1.0):
        self.planet, self.track, self.scale = planet, track, density_scale
        self.vehicle = vehicle.arrays()
        self.vehicle[0][2] *= lift_factor
        self._atm = (track.altitude0, track.step, track.theta, track.start, track.normal,
                     track.log_density, track.sound_speed, density_scale)

    def integrate(self, x: np.ndarray, banks: np.ndarray, dt: float) -> np.ndarray:
        """States after each RK4 step of ``dt`` (s) with bank ``banks[k]`` (rad) on step k."""
        return integrate_track(x, banks, dt, self.planet, *self.vehicle, *self._atm)

    def sensed(self, x: np.ndarray, bank: float) -> np.ndarray:
        """Aerodynamic acceleration (m/s², ITRF93): a perfect accelerometer."""
        out = np.empty(3)
        aero_track(x, bank, *self.vehicle, self.planet, *self._atm, out)
        return out

    def history(self, states: np.ndarray, banks: np.ndarray):
        """(density (kg/m³), Mach, |aero acceleration| (m/s²)) along ``states``."""
        return aero_history_track(np.ascontiguousarray(states), np.ascontiguousarray(banks),
                                  self.planet, *self.vehicle, *self._atm)


def _aim_unit(target, vehicle, forecast: AtmosphereTrack, ab) -> np.ndarray:
    """Unit vector (ITRF93) of the aim point: the target moved against the expected canopy drift
    in the forecast's column at the target."""
    lat = np.radians(target.lat_deg)
    column = forecast.profile_at(cartesian_from_planetodetic(lat, np.radians(target.lon_deg), 0.0))
    east, north = expected_drift(vehicle.parachutes, vehicle.mass_kg, column, target.altitude_m)
    a, b = ab
    e2 = 1.0 - (b / a) ** 2
    n_rad = a / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
    m_rad = n_rad * (1.0 - e2) / (1.0 - e2 * np.sin(lat) ** 2)
    lat_aim = lat - north / m_rad
    lon_aim = np.radians(target.lon_deg) - east / (n_rad * np.cos(lat))
    r = cartesian_from_planetodetic(lat_aim, lon_aim, target.altitude_m)
    return r / np.linalg.norm(r)


def _crossing(hist: np.ndarray, ab, level: float, downward: bool) -> int | None:
    """Index of the first state of ``hist`` past the altitude ``level`` (m), or None."""
    h = heights(hist, *ab)
    past = (h <= level) if downward else (h > level)
    idx = np.flatnonzero(past[1:]) + 1
    return int(idx[0]) if idx.size else None


def _fly_to_drogue(fl, steer, truth, settings, ab, log, et0, rate) -> None:
    """Flight from the interface to drogue deployment (modifies ``fl``)."""
    gs = settings.guidance
    h_drogue = gs.terminal_altitude_km * 1e3
    while True:
        next_phase(fl, gs, height(fl.x, *ab), log, et0, steer.guided)
        dt = settings.coast_step_s if fl.phase == "skip" else settings.step_s
        cycle = steer.cycle_s(fl.phase)
        n = 1 if cycle is None else max(1, int(round(cycle / dt)))
        banks = steer.banks(fl, dt, n, rate)
        hist = truth.integrate(fl.x, banks, dt)
        cut = _crossing(hist, ab, h_drogue, downward=True)
        if cut is not None:
            h = np.array([height(hist[cut - 1], *ab), height(hist[cut], *ab)])
            w = (h[0] - h_drogue) / (h[0] - h[1])
            hist = hist[: cut + 1].copy()
            hist[cut] = hist[cut - 1] + w * (hist[cut] - hist[cut - 1])
            fl.append(hist, banks, dt)
            fl.times[-1] = fl.t + dt * (cut - 1 + w)
            fl.x, fl.t, fl.bank = hist[cut], fl.times[-1], banks[cut - 1]
            return
        fl.append(hist, banks, dt)
        fl.x, fl.t, fl.bank = hist[-1].copy(), fl.t + dt * n, banks[-1]
        run_limits.charge(n)
        if fl.t > settings.max_flight_s:
            raise PropagationError(f"the capsule did not come down to the drogue altitude "
                                   f"({gs.terminal_altitude_km} km) within {settings.max_flight_s:.0f} s "
                                   f"of flight: it skipped out (entry too shallow or too fast) or "
                                   f"is still climbing at {height(fl.x, *ab) / 1e3:.0f} km")


def _fly(x0, steer, truth, settings, ab, log, et0, rate) -> Flight:
    fl = Flight(x0.copy())
    fl.times.append(0.0)
    fl.states.append(x0.copy())
    fl.phases.append("first_entry")
    _fly_to_drogue(fl, steer, truth, settings, ab, log, et0, rate)
    fl.banks.insert(0, fl.banks[0])
    return fl


def simulate_entry(entry: SpacecraftState, vehicle: EntryVehicle, target: Site | None,
                   settings: EntrySettings = EntrySettings(), density_scale: float = 1.0,
                   truth_vehicle: EntryVehicle | None = None,
                   profile: AtmosphereProfile | None = None,
                   density_perturbation: DensityPerturbation | None = None) -> EntryResult:
    """Entry from ``entry`` to touchdown, guided to ``target`` or open loop
    (``settings.open_loop``; ``target`` may then be None, and only gives the miss).

    ``entry`` is the Earth-centred J2000 state at the interface. ``vehicle`` is what the guidance
    believes; ``truth_vehicle`` (default: the same) flies, in the
    truth atmosphere (NRLMSIS along the ground track) times ``density_scale`` times
    exp(``density_perturbation``). ``profile`` replaces NRLMSIS for both guidance and truth.
    """
    if not density_scale > 0.0:
        raise InputError("must be > 0", quantity="density_scale", value=density_scale)
    truth_vehicle = truth_vehicle or vehicle
    truth_vehicle.validate()
    ab = tuple(spice_kernels.radii("EARTH")[[0, 2]])
    et0 = entry.et
    xf = spice_kernels.state_transforms("J2000", "ITRF93", np.array([et0]))[0]
    x0 = xf @ np.concatenate([entry.r, entry.v])
    _validate(entry, vehicle, target, settings, ab, x0[:3])
    planet = planet_array(et0)
    rate = np.radians(truth_vehicle.capsule.max_bank_rate_deg_s)
    open_loop = settings.open_loop
    lift = OpenLoopSteering(open_loop).lift_factor if open_loop is not None else 1.0

    def truth_in(track: AtmosphereTrack) -> _Truth:
        if density_perturbation is not None:
            track = track.perturbed(density_perturbation.on_grid(
                track.altitude0, track.step, track.log_density.shape[1]))
        return _Truth(planet, truth_vehicle, track, density_scale, lift)

    def atmosphere(end, forecast_points=settings.forecast_points,
                   truth_points=settings.truth_track_points, profile_points=settings.profile_points):
        return track_atmosphere(et0, x0[:3], end, settings.msis_drivers, forecast_points,
                                truth_points, ab, profile_points)

    h0_km = height(x0[:3], *ab) / 1e3
    if open_loop is not None:
        def fly_open(track: AtmosphereTrack):
            truth, log = truth_in(track), EntryLog(settings.strict)
            log.add(et0, "entry_interface", altitude_km=h0_km, mode=open_loop.mode)
            return _fly(x0, OpenLoopSteering(open_loop), truth, settings, ab, log, et0, rate), truth, log

        if profile is not None:
            fl, truth, log = fly_open(AtmosphereTrack.uniform(profile))
        else:
            fl, truth, log = _open_loop_passes(fly_open, atmosphere, x0, settings)
        return _finish(fl, entry, truth_vehicle, target, truth, ab, log, 0)
    if profile is None:
        forecast, track = atmosphere(site_unit(target.lat_deg, target.lon_deg))
    else:
        forecast = track = AtmosphereTrack.uniform(profile)
    truth = truth_in(track)
    log = EntryLog(settings.strict)
    log.add(et0, "entry_interface", altitude_km=h0_km, mode="closed_loop")
    model = GuidanceModel.build(planet, vehicle.arrays(), forecast,
                                np.radians(vehicle.capsule.max_bank_rate_deg_s))
    guidance = EntryGuidance(model, settings.guidance, _aim_unit(target, vehicle, forecast, ab))
    fl = _fly(x0, ClosedLoopSteering(guidance, truth, log, et0), truth, settings, ab, log, et0, rate)
    return _finish(fl, entry, truth_vehicle, target, truth, ab, log, guidance.calls)


def _open_loop_passes(fly_open, atmosphere, x0, settings):
    """An open-loop flight through NRLMSIS along the great circle to where it comes down: first
    through the interface's column, then along the great circle to the last pass's drogue point,
    until that point moves by less than ``OPEN_LOOP_CONVERGED_M`` (at most ``OPEN_LOOP_PASSES``
    flights). The interface event records the passes and the last shift (km)."""
    unit = lambda r: r / np.linalg.norm(r)                                  # noqa: E731
    end = unit(x0[:3])
    fl, truth, log = fly_open(atmosphere(end, 0, 0, 1)[1])        # the interface's column
    passes = 1
    while True:
        shift = R_MEAN * np.arccos(np.clip(unit(fl.x[:3]) @ end, -1.0, 1.0))
        if (passes > 1 and shift < OPEN_LOOP_CONVERGED_M) or passes == OPEN_LOOP_PASSES:
            break
        end = unit(fl.x[:3])
        n = settings.truth_track_points                # no forecast: the truth's stations only
        fl, truth, log = fly_open(atmosphere(end, n, n)[1])
        passes += 1
    log.events[0]["details"].update(atmosphere_passes=passes,
                                    atmosphere_end_shift_km=float(shift) / 1e3)
    return fl, truth, log


def _canopy(fl, vehicle, ground_m, truth, ab, log, et0):
    """Canopy descent from the drogue point; returns (times, Earth-fixed states) and landing."""
    r_d = fl.x[:3]
    lat_d, lon_d, h_d = planetodetic_from_cartesian(r_d)
    enu = enu_basis(lat_d, lon_d)
    chutes = vehicle.parachutes
    gravity = truth.planet[0] / (r_d @ r_d)
    d = descend(chutes, vehicle.mass_kg, enu @ fl.x[3:], truth.track.profile_at(r_d),
                ground_m, gravity, truth.scale)
    log.add(et0 + fl.t, "drogue_deploy", altitude_km=h_d / 1e3,
            speed_m_s=float(np.linalg.norm(fl.x[3:])))
    log.add(et0 + fl.t + d.main_time, "main_deploy", altitude_km=chutes.main_altitude_km)
    keep = np.unique(np.r_[np.arange(0, len(d.times), 20), len(d.times) - 1])[1:]
    local = d.states[keep]
    r = r_d + (local[:, :3] - [0.0, 0.0, h_d]) @ enu
    v = local[:, 3:] @ enu
    return fl.t + d.times[keep], np.hstack([r, v]), d


def _finish(fl, entry, vehicle, target, truth, ab, log, calls):
    et0 = entry.et
    t_entry = np.asarray(fl.times)
    x_entry = np.asarray(fl.states)
    bank = np.asarray(fl.banks)
    rho, mach, acc = truth.history(x_entry, bank)
    speed = np.linalg.norm(x_entry[:, 3:], axis=1)
    q = aerothermal.stagnation_heat_flux(rho, speed, vehicle.capsule.nose_radius_m)
    t_can, x_can, descent = _canopy(fl, vehicle, _ground_m(target), truth, ab, log, et0)
    times = np.r_[t_entry, t_can]
    x_itrf = np.vstack([x_entry, x_can])
    et = et0 + times
    geo = np.column_stack(planetodetic_from_cartesian(x_itrf[:, :3]))
    land = geo[-1]
    log.add(et[-1], "touchdown", lat_deg=float(np.degrees(land[0])),
            lon_deg=float(np.degrees(land[1])), speed_m_s=descent.touchdown_speed)
    n_can = len(t_can)
    phases = np.array(fl.phases + ["parachute"] * n_can)
    g_can = np.zeros(n_can)
    result = EntryResult(
        et=et, state_itrf93=x_itrf, lat_deg=np.degrees(geo[:, 0]),
        lon_deg=np.degrees(geo[:, 1]), altitude_km=geo[:, 2] / 1e3,
        bank_deg=np.r_[np.degrees(bank), np.full(n_can, np.nan)],
        g_load=np.r_[aerothermal.g_load(acc), g_can], heat_flux_w_m2=np.r_[q, np.zeros(n_can)],
        mach=np.r_[mach, np.full(n_can, np.nan)], phase=phases, events=log.events, summary={},
        guidance_calls=calls)
    result.summary = entry_summary(result, entry, target, t_entry, q)
    return result
