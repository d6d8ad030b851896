"""Earth entry: closed-loop guided (skip) entry from the entry interface to touchdown.

:func:`simulate_entry` flies the 3-DOF capsule (:mod:`guanghan.dynamics.entry_kernels`) under the
predictor–corrector bank guidance (:mod:`guanghan.gnc.entry_guidance`) down to drogue deployment,
then the canopy descent (:mod:`guanghan.gnc.parachute`) to the ground, and returns an
:class:`EntryResult`: time history, events and summary figures.

Assumptions and limitations
    * Perfect navigation: the guidance sees the true state. The guidance's vehicle and atmosphere
      models are the nominal ones; the truth may differ (``density_scale``, ``truth_vehicle``).
    * Guidance atmosphere: one profile, NRLMSIS 2.1 at the interface epoch averaged over points
      on the great circle from the interface to the target. Truth atmosphere: NRLMSIS at
      ``truth_track_points`` stations on that great circle, interpolated along the track at every
      integration step (:mod:`guanghan.dynamics.entry_track_kernels`), times a constant
      ``density_scale`` and an optional seeded altitude profile
      (:class:`~guanghan.environment.density_dispersion.DensityPerturbation`). Time is frozen at
      the interface epoch: over the ~25 min of flight the capsule crosses ~50° of longitude, so
      local time along the track changes mostly through position, which the stations capture;
      ``tests/test_atmosphere.py`` bounds the rest. The canopy descent uses the truth column at
      the drogue point. The along-track truth is OFF by default (``truth_track_points = 0``: the
      truth is the guidance's profile times the dispersions): on the chained Chang'e-5 return
      (interface 9° N 55° E, 6,600 km from the site) the single-profile predictor cannot absorb the
      along-track variation and misses by ~36 km; a predictor that reads the track is the fix.
    * Earth rotation vector from SPICE at the interface epoch, constant during the entry; the
      J2000 history is converted back with SPICE's full ITRF93 transformation at every epoch.
    * The aim point is the target shifted against the wind drift under canopy (zero-wind aim
      otherwise); touchdown is where the geodetic height reaches the target's altitude.
    * Flight-path angle and azimuth are measured from the local horizontal plane normal to the
      geocentric radius; azimuth clockwise from north. Miss and downrange are great-circle
      distances on the Earth's mean sphere (IUGG R1, :mod:`guanghan.environment.constants`).
    * Bank-angle changes are rate-limited in the simulation (capsule ``max_bank_rate_deg_s``),
      through lift-up on a reversal (the signed bank angle passes through 0).

This module is a little over the ~400-line guide: it is one closed loop (set-up, guided flight,
canopy descent, figures) whose parts share the flight's private state.

References: see the modules above; phases follow Lu (2014) §IV and the Apollo skip-entry scheme.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from guanghan import run_limits
from guanghan.dynamics import aerothermal
from guanghan.dynamics.entry_kernels import height, planet_array
from guanghan.dynamics.entry_track_kernels import aero_history_track, aero_track, integrate_track
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import spice_kernels
from guanghan.environment.atmosphere import (AtmosphereProfile, AtmosphereTrack, MsisDrivers,
                                             build_profile, build_track)
from guanghan.environment.constants import STANDARD_GRAVITY as G0
from guanghan.environment.density_dispersion import DensityPerturbation
from guanghan.environment.geodetic import (cartesian_from_planetodetic, enu_basis,
                                           great_circle_distance, planetodetic_from_cartesian)
from guanghan.environment.sites import Site
from guanghan.errors import GuidanceFailure, InputError, PropagationError
from guanghan.gnc.entry_guidance import EntryGuidance, GuidanceModel, GuidanceSettings
from guanghan.gnc.entry_vehicle import EntryVehicle
from guanghan.gnc.parachute import descend, expected_drift


@dataclass(frozen=True)
class EntrySettings:
    """Simulation settings: truth RK4 steps (s), atmosphere drivers, limits."""

    guidance: GuidanceSettings = field(default_factory=GuidanceSettings)
    step_s: float = 0.5
    coast_step_s: float = 2.0
    msis_drivers: MsisDrivers | None = None     # None: CelesTrak indices of the interface day
    profile_points: int = 7                     # ground points averaged into the guidance profile
    truth_track_points: int = 0                 # NRLMSIS stations of the truth atmosphere; 0: the
                                                # guidance's profile (see the module's limitations)
    max_flight_s: float = 5400.0
    strict: bool = False                        # True: raise GuidanceFailure instead of logging


@dataclass
class EntryResult:
    """Time history (arrays, SI), events (list of dicts) and summary figures (dict)."""

    et: np.ndarray
    state_j2000: np.ndarray          # (n, 6) m, m/s
    state_itrf93: np.ndarray         # (n, 6) m, m/s (Earth-relative velocity)
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    altitude_km: np.ndarray
    bank_deg: np.ndarray
    g_load: np.ndarray
    heat_flux_w_m2: np.ndarray
    mach: np.ndarray
    phase: np.ndarray                # str labels
    events: list[dict]
    summary: dict
    guidance_calls: int = 0          # predictor runs, for cost accounting


def _rotate_bank(current: float, command: float, rate: float, dt: float, n: int) -> np.ndarray:
    """Signed bank per step moving from ``current`` to ``command`` at most ``rate`` (rad/s)."""
    out = np.empty(n)
    for k in range(n):
        current += np.clip(command - current, -rate * dt, rate * dt)
        out[k] = current
    return out


def _validate(entry, vehicle, target, settings, ab, r0) -> None:
    vehicle.validate()
    if not -90.0 <= target.lat_deg <= 90.0:
        raise InputError("must be within [-90, 90] deg", quantity="site.lat_deg", value=target.lat_deg)
    h0 = height(r0, *ab)
    if h0 <= max(0.0, target.altitude_m):
        raise InputError(f"the entry state is {h0 / 1e3:.1f} km above the ellipsoid: below the "
                         "surface", quantity="entry_interface", value=entry.utc)
    vehicle.parachutes.validate_for(h0 / 1e3, target.altitude_m / 1e3)
    if settings.guidance.terminal_altitude_km != vehicle.parachutes.drogue_altitude_km:
        raise InputError("must equal parachutes.drogue_altitude_km "
                         f"({vehicle.parachutes.drogue_altitude_km} km)",
                         quantity="guidance.terminal_altitude_km",
                         value=settings.guidance.terminal_altitude_km)
    if settings.truth_track_points != 0 and not 2 <= settings.truth_track_points <= 200:
        raise InputError("must be 0 (the guidance's profile) or within [2, 200] stations",
                         quantity="truth_track_points", value=settings.truth_track_points)
    for name in ("step_s", "coast_step_s"):
        if not 0.0 < getattr(settings, name) <= settings.guidance.period_s * 5:
            raise InputError(f"must be > 0 and at most 5 guidance periods (guidance.period_s = "
                             f"{settings.guidance.period_s} s)",
                             quantity=name, value=getattr(settings, name))


def _ground_points(r0, target, n: int, ab) -> tuple[np.ndarray, np.ndarray]:
    """Geodetic (lat, lon) (deg) of ``n`` points on the great circle from ``r0`` to the target."""
    p0 = r0 / np.linalg.norm(r0)
    pt = cartesian_from_planetodetic(np.radians(target.lat_deg), np.radians(target.lon_deg), 0.0)
    pt /= np.linalg.norm(pt)
    angle = np.arccos(np.clip(p0 @ pt, -1.0, 1.0))
    fr = np.linspace(0.0, 1.0, n)
    pts = (np.sin((1 - fr[:, None]) * angle) * p0 + np.sin(fr[:, None] * angle) * pt) / np.sin(angle)
    lat, lon, _ = planetodetic_from_cartesian(pts * ab[0])
    return np.degrees(lat), np.degrees(lon)


def _profile(entry_et, r0, target, settings, ab) -> AtmosphereProfile:
    lat, lon = _ground_points(r0, target, settings.profile_points, ab)
    return build_profile(spice_kernels.et_to_utc(entry_et), lat, lon, settings.msis_drivers)


def _track(entry_et, r0, target, settings, ab) -> AtmosphereTrack:
    lat, lon = _ground_points(r0, target, settings.truth_track_points, ab)
    return build_track(spice_kernels.et_to_utc(entry_et), lat, lon, settings.msis_drivers)


class _Truth:
    """The flown vehicle in the truth atmosphere: kernel arrays and scratch columns (SI)."""

    def __init__(self, planet, vehicle: EntryVehicle, track: AtmosphereTrack, density_scale: float):
        self.planet, self.track, self.scale = planet, track, density_scale
        self.vehicle = vehicle.arrays()
        self._atm = (track.altitude0, track.step, track.theta, track.start, track.normal,
                     track.log_density, track.sound_speed, density_scale)
        self._cols = (np.empty(track.log_density.shape[1]), np.empty(track.log_density.shape[1]))

    def integrate(self, x: np.ndarray, banks: np.ndarray, dt: float) -> np.ndarray:
        """States after each RK4 step of ``dt`` (s) with bank ``banks[k]`` (rad) on step k."""
        return integrate_track(x, banks, dt, self.planet, *self.vehicle, *self._atm, *self._cols)

    def sensed(self, x: np.ndarray, bank: float) -> np.ndarray:
        """Aerodynamic acceleration (m/s², ITRF93): a perfect accelerometer."""
        out = np.empty(3)
        aero_track(x, bank, *self.vehicle, self.planet, *self._atm, *self._cols, out)
        return out

    def history(self, states: np.ndarray, banks: np.ndarray):
        """(density (kg/m³), Mach, |aero acceleration| (m/s²)) along ``states``."""
        return aero_history_track(np.ascontiguousarray(states), np.ascontiguousarray(banks),
                                  self.planet, *self.vehicle, *self._atm)


def _aim_unit(target, vehicle, profile, ab) -> np.ndarray:
    east, north = expected_drift(vehicle.parachutes, vehicle.mass_kg, profile, target.altitude_m)
    a, b = ab
    lat = np.radians(target.lat_deg)
    e2 = 1.0 - (b / a) ** 2
    n_rad = a / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
    m_rad = n_rad * (1.0 - e2) / (1.0 - e2 * np.sin(lat) ** 2)
    lat_aim = lat - north / m_rad
    lon_aim = np.radians(target.lon_deg) - east / (n_rad * np.cos(lat))
    r = cartesian_from_planetodetic(lat_aim, lon_aim, target.altitude_m)
    return r / np.linalg.norm(r)


class _Log:
    def __init__(self, strict: bool):
        self.events, self.strict, self.failed_phases = [], strict, set()
        self.limited_phases = set()

    def load_limited(self, et: float, phase: str, sigma0: float, sensed_g: float) -> None:
        if phase not in self.limited_phases:                  # one event per phase
            self.limited_phases.add(phase)
            self.add(et, "load_limiter_active", phase=phase, sigma0_deg=np.degrees(sigma0),
                     sensed_g=sensed_g)

    def add(self, et: float, event: str, **details) -> None:
        plain = {k: float(v) if isinstance(v, (float, np.floating)) else v
                 for k, v in details.items()}
        self.events.append({"et": float(et), "event": event, "details": plain})

    def failure(self, et: float, exc: GuidanceFailure) -> None:
        if self.strict:
            raise exc
        if exc.phase not in self.failed_phases:           # one event per phase
            self.failed_phases.add(exc.phase)
            self.add(et, "guidance_failure", phase=exc.phase, reason=exc.reason)


@dataclass
class _Flight:
    """Mutable state of the guided flight loop."""

    x: np.ndarray
    t: float = 0.0
    bank: float = 0.0
    phase: str = "first_entry"
    times: list = field(default_factory=list)
    states: list = field(default_factory=list)
    banks: list = field(default_factory=list)
    phases: list = field(default_factory=list)

    def append(self, hist: np.ndarray, banks: np.ndarray, dt: float) -> None:
        self.times.extend(self.t + dt * np.arange(1, len(hist)))
        self.states.extend(hist[1:])
        self.banks.extend(banks[: len(hist) - 1])
        self.phases.extend([self.phase] * (len(hist) - 1))


def _crossing(hist: np.ndarray, ab, level: float, downward: bool) -> int | None:
    """Index of the first state of ``hist`` past the altitude ``level`` (m), or None."""
    h = np.array([height(s, *ab) for s in hist])
    past = (h <= level) if downward else (h > level)
    idx = np.flatnonzero(past[1:]) + 1
    return int(idx[0]) if idx.size else None


def _next_phase(fl: _Flight, gs: GuidanceSettings, ab, log: _Log, et0: float) -> None:
    h = height(fl.x, *ab)
    climbing = fl.x[:3] @ fl.x[3:] > 0.0
    speed = np.linalg.norm(fl.x[3:])
    h_atm = gs.sensible_atmosphere_km * 1e3
    if fl.phase in ("first_entry", "second_entry") and climbing and h > h_atm:
        fl.phase = "skip"
        log.add(et0 + fl.t, "skip_exit", altitude_km=h / 1e3, speed_m_s=speed)
    elif fl.phase == "skip" and not climbing and h <= h_atm:
        fl.phase = "second_entry"
        log.add(et0 + fl.t, "second_entry", altitude_km=h / 1e3, speed_m_s=speed)
    elif fl.phase in ("first_entry", "second_entry") and speed < gs.final_phase_speed_m_s:
        fl.phase = "final"
        log.add(et0 + fl.t, "final_phase", altitude_km=h / 1e3, speed_m_s=speed)


def _fly_to_drogue(fl, guidance, truth, settings, ab, log, et0, rate) -> None:
    """Guided flight from the interface to drogue deployment (modifies ``fl``)."""
    gs = settings.guidance
    h_drogue = gs.terminal_altitude_km * 1e3
    first = True
    while True:
        _next_phase(fl, gs, ab, log, et0)
        if fl.phase == "skip":
            dt, period, command = settings.coast_step_s, 5.0 * gs.period_s, fl.bank
        else:
            dt, period = settings.step_s, gs.period_s
            sensed = truth.sensed(fl.x, fl.bank)
            cmd = guidance.command(fl.x, fl.phase, fl.phase != "final", sensed, fl.bank)
            if cmd.failure is not None:
                log.failure(et0 + fl.t, cmd.failure)
            if cmd.load_limited:
                log.load_limited(et0 + fl.t, fl.phase, cmd.sigma0,
                                 float(np.linalg.norm(sensed)) / G0)
            if cmd.reversed and not first:
                log.add(et0 + fl.t, "bank_reversal", to_sign=int(np.sign(cmd.bank)),
                        speed_m_s=float(np.linalg.norm(fl.x[3:])))
            command = cmd.bank
            if first:                       # the capsule is trimmed at the first command
                fl.bank, first = command, False
        n = max(1, int(round(period / dt)))
        banks = _rotate_bank(fl.bank, command, rate, dt, n)
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


def simulate_entry(entry: SpacecraftState, vehicle: EntryVehicle, target: Site,
                   settings: EntrySettings = EntrySettings(), density_scale: float = 1.0,
                   truth_vehicle: EntryVehicle | None = None,
                   profile: AtmosphereProfile | None = None,
                   density_perturbation: DensityPerturbation | None = None) -> EntryResult:
    """Closed-loop entry from ``entry`` to touchdown near ``target``.

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
    if profile is None:
        profile = _profile(et0, x0[:3], target, settings, ab)
        track = _track(et0, x0[:3], target, settings, ab) if settings.truth_track_points \
            else AtmosphereTrack.uniform(profile)
    else:
        track = AtmosphereTrack.uniform(profile)
    if density_perturbation is not None:
        track = track.perturbed(density_perturbation.on_grid(track.altitude0, track.step,
                                                             track.log_density.shape[1]))
    prof = (profile.altitude0, profile.step, profile.log_density, profile.sound_speed)
    model = GuidanceModel(planet, *vehicle.arrays(), *prof)
    guidance = EntryGuidance(model, settings.guidance, _aim_unit(target, vehicle, profile, ab))
    truth = _Truth(planet, truth_vehicle, track, density_scale)
    log = _Log(settings.strict)
    log.add(et0, "entry_interface", altitude_km=height(x0[:3], *ab) / 1e3)
    fl = _Flight(x0.copy())
    fl.times.append(0.0)
    fl.states.append(x0.copy())
    fl.phases.append("first_entry")
    rate = np.radians(truth_vehicle.capsule.max_bank_rate_deg_s)
    _fly_to_drogue(fl, guidance, truth, settings, ab, log, et0, rate)
    fl.banks.insert(0, fl.banks[0])
    return _finish(fl, entry, truth_vehicle, target, truth, ab, log, guidance.calls)


def _canopy(fl, vehicle, target, truth, ab, log, et0):
    """Canopy descent from the drogue point; returns (times, Earth-fixed states) and landing."""
    r_d = fl.x[:3]
    lat_d, lon_d, h_d = planetodetic_from_cartesian(r_d)
    enu = enu_basis(lat_d, lon_d)
    chutes = vehicle.parachutes
    gravity = truth.planet[0] / (r_d @ r_d)
    d = descend(chutes, vehicle.mass_kg, enu @ fl.x[3:], truth.track.profile_at(r_d),
                target.altitude_m, gravity, truth.scale)
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
    t_can, x_can, descent = _canopy(fl, vehicle, target, truth, ab, log, et0)
    times = np.r_[t_entry, t_can]
    x_itrf = np.vstack([x_entry, x_can])
    et = et0 + times
    xf = spice_kernels.state_transforms("ITRF93", "J2000", et)
    x_j2000 = np.einsum("nij,nj->ni", xf, x_itrf)
    geo = np.column_stack(planetodetic_from_cartesian(x_itrf[:, :3]))
    land = geo[-1]
    log.add(et[-1], "touchdown", lat_deg=float(np.degrees(land[0])),
            lon_deg=float(np.degrees(land[1])), speed_m_s=descent.touchdown_speed)
    n_can = len(t_can)
    phases = np.array(fl.phases + ["parachute"] * n_can)
    g_can = np.zeros(n_can)
    result = EntryResult(
        et=et, state_j2000=x_j2000, state_itrf93=x_itrf, lat_deg=np.degrees(geo[:, 0]),
        lon_deg=np.degrees(geo[:, 1]), altitude_km=geo[:, 2] / 1e3,
        bank_deg=np.r_[np.degrees(bank), np.full(n_can, np.nan)],
        g_load=np.r_[aerothermal.g_load(acc), g_can], heat_flux_w_m2=np.r_[q, np.zeros(n_can)],
        mach=np.r_[mach, np.full(n_can, np.nan)], phase=phases, events=log.events, summary={},
        guidance_calls=calls)
    result.summary = _summary(result, entry, target, t_entry, q, ab)
    return result


def _summary(res: EntryResult, entry, target, t_entry, q, ab) -> dict:
    r, v = entry.r, entry.v
    rel = res.state_itrf93[0]
    fpa = lambda rr, vv: float(np.degrees(np.arcsin(rr @ vv / np.linalg.norm(rr) / np.linalg.norm(vv))))  # noqa: E731
    skip = res.phase == "skip"
    first = res.phase == "first_entry"
    lat0, lon0 = np.radians(res.lat_deg[0]), np.radians(res.lon_deg[0])
    lat1, lon1 = np.radians(res.lat_deg[-1]), np.radians(res.lon_deg[-1])
    entry_part = slice(0, len(t_entry))
    return {
        "interface_utc": spice_kernels.et_to_utc(res.et[0]),
        "interface_altitude_km": float(res.altitude_km[0]),
        "interface_speed_inertial_m_s": float(np.linalg.norm(v)),
        "interface_fpa_inertial_deg": fpa(r, v),
        "interface_speed_relative_m_s": float(np.linalg.norm(rel[3:])),
        "interface_fpa_relative_deg": fpa(rel[:3], rel[3:]),
        "first_dip_min_altitude_km": float(res.altitude_km[first].min()),
        "skip_apogee_km": float(res.altitude_km[skip].max()) if skip.any() else None,
        "peak_g": float(res.g_load[entry_part].max()),
        "peak_heat_flux_w_m2": float(q.max()),
        "heat_load_j_m2": aerothermal.heat_load(t_entry, q),
        "downrange_km": float(great_circle_distance(lat0, lon0, lat1, lon1)) / 1e3,
        "landing_lat_deg": float(res.lat_deg[-1]),
        "landing_lon_deg": float(res.lon_deg[-1]),
        "miss_km": float(great_circle_distance(lat1, lon1, np.radians(target.lat_deg),
                                               np.radians(target.lon_deg))) / 1e3,
        "drogue_utc": spice_kernels.et_to_utc(res.et[len(t_entry) - 1]),
        "landing_utc": spice_kernels.et_to_utc(res.et[-1]),
        "time_of_flight_s": float(res.et[-1] - res.et[0]),
        "bank_reversals": sum(e["event"] == "bank_reversal" for e in res.events),
    }
