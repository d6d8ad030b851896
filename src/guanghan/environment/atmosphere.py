"""Earth's neutral atmosphere: NRLMSIS 2.1 (through ``pymsis``) and a fast tabulated profile.

:func:`msis` evaluates NRLMSIS 2.1 at geodetic points, driven by the CelesTrak indices of
:mod:`guanghan.environment.space_weather` (or indices the caller gives). Every driver is passed
explicitly, so ``pymsis`` never looks for (or downloads) its own space-weather file.

:func:`build_profile` samples NRLMSIS on a uniform altitude grid at a few ground points (the
expected ground track of an entry) at one epoch, averages log-density and sound speed over the
points, and returns an :class:`AtmosphereProfile`. :func:`profile_state` is the compiled lookup the
entry integrator and its guidance predictor call: log-linear (exponential) interpolation of density
and linear interpolation of sound speed, times a density multiplier for dispersions.

:func:`build_track` keeps the ground points apart instead: an :class:`AtmosphereTrack` holds one
column (altitude grid) per station along a great circle, and :func:`track_column` blends the two
columns that bracket a position into a scratch column (compiled, allocation-free), so a truth
atmosphere can vary along the flight while the guidance keeps its single averaged profile.

Assumptions and limitations
    * The profile is one-dimensional: density depends on geodetic altitude only. Horizontal
      (latitude, local time) and temporal variation over the ~30 min of an entry are replaced by the
      mean over the sampled ground points. ``tests/test_atmosphere.py`` measures the resulting error
      against direct NRLMSIS along a Chang'e-5-like entry track (4° N to 42° N, 15 min, 120 km
      down to 10 km): at most 12 % (near the track's cold winter end at 15 km), mostly < 6 %.
      Guidance absorbs such errors through its drag-ratio estimator.
    * Between grid nodes, density is exponential in altitude (exact for an isothermal layer); outside
      the grid it is extrapolated with the scale height of the end segments.
    * Speed of sound a = sqrt(γ k T / m̄) with γ = 1.4 (diatomic air) and m̄ = ρ / n from the NRLMSIS
      species densities: right below ~90 km, where Mach matters for aerodynamics; γ is not corrected
      for atomic oxygen above.
    * No winds: the atmosphere co-rotates with the Earth.
    * :class:`AtmosphereTrack`: NRLMSIS at one epoch (time frozen over the entry) at stations on
      a great circle; between stations log-density and sound speed are linear in the along-track
      angle of the position projected on that circle (crossrange ignored); held at the end
      stations beyond them. ``tests/test_atmosphere.py`` measures the table against NRLMSIS at
      each point and time of a 15-min Chang'e-5-like track.

References
    * Emmert, J. T., et al. (2021), "NRLMSIS 2.0: A whole-atmosphere empirical model of temperature
      and neutral species densities", Earth and Space Science 8, e2020EA001321.
    * Emmert, J. T., et al. (2022), NRLMSIS 2.1 (nitric oxide added), Earth and Space Science 9.
    * pymsis documentation, ``pymsis.calculate`` (dates, lons, lats, alts, f107s, f107as, aps).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from numba import njit

from guanghan.environment.constants import BOLTZMANN
from guanghan.environment.space_weather import _as_datetime, msis_indices

GAMMA_AIR = 1.4                 # ratio of specific heats of diatomic air (assumption, see above)
_SPECIES = (1, 2, 3, 4, 5, 6, 7, 9)   # pymsis columns N2 O2 O He H Ar N NO (anomalous O excluded)


@dataclass(frozen=True)
class MsisDrivers:
    """Solar and geomagnetic drivers of NRLMSIS: F10.7 (sfu) of the previous day, its 81-day
    centred mean (sfu) and the seven-element ap vector (Picone et al. 2002)."""

    f107_prev_day_sfu: float
    f107a_sfu: float
    ap: tuple[float, ...]

    @classmethod
    def for_epoch(cls, utc: str | dt.datetime, allow_predicted: bool = False) -> "MsisDrivers":
        """Drivers read from the CelesTrak table for ``utc``."""
        f107, f107a, aps = msis_indices(utc, allow_predicted)
        return cls(f107, f107a, tuple(float(a) for a in aps))


def msis(utc: str | dt.datetime, lat_deg, lon_deg, altitude_km,
         drivers: MsisDrivers | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NRLMSIS 2.1 along points at one epoch: (density (kg/m³), temperature (K), sound speed (m/s)).

    ``lat_deg``, ``lon_deg``, ``altitude_km`` broadcast together (geodetic, WGS-84).
    """
    import pymsis  # imported here: a compiled extension not needed by the table lookups

    when = _as_datetime(utc)
    drivers = drivers or MsisDrivers.for_epoch(when)
    lat, lon, alt = np.broadcast_arrays(*(np.atleast_1d(np.asarray(a, float))
                                          for a in (lat_deg, lon_deg, altitude_km)))
    n = lat.size
    dates = np.full(n, np.datetime64(when.replace(tzinfo=None), "ms"))
    out = pymsis.calculate(dates, lon.ravel(), lat.ravel(), alt.ravel(),
                           np.full(n, drivers.f107_prev_day_sfu), np.full(n, drivers.f107a_sfu),
                           np.tile(np.asarray(drivers.ap, float), (n, 1)), version=2.1)
    out = np.asarray(out).reshape(n, -1)
    rho = out[:, 0]
    temp = out[:, 10]
    number = np.nansum(out[:, _SPECIES], axis=1)
    sound = np.sqrt(GAMMA_AIR * BOLTZMANN * temp * number / rho)
    shape = lat.shape
    return rho.reshape(shape), temp.reshape(shape), sound.reshape(shape)


@dataclass(frozen=True)
class AtmosphereProfile:
    """Log-density and sound speed on a uniform geodetic-altitude grid (m, from ``altitude0``)."""

    altitude0: float
    step: float
    log_density: np.ndarray      # ln(kg/m³)
    sound_speed: np.ndarray      # m/s

    def __post_init__(self):     # one dtype for the compiled kernels: one specialisation each
        for name in ("log_density", "sound_speed"):
            object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float64))

    @classmethod
    def exponential(cls, rho0: float, scale_height: float, top: float = 200e3, step: float = 1e3,
                    sound_speed: float = 300.0) -> "AtmosphereProfile":
        """Isothermal profile ρ0·exp(−h/H) (kg/m³, m), for analytic checks."""
        h = np.arange(0.0, top + step, step)
        return cls(0.0, step, np.log(rho0) - h / scale_height, np.full(h.size, sound_speed))

    def state(self, altitude, density_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(density (kg/m³), sound speed (m/s)) at geodetic altitudes (m)."""
        h = np.atleast_1d(np.asarray(altitude, float))
        rho, a = np.empty_like(h), np.empty_like(h)
        for i, hi in enumerate(h):
            rho[i], a[i] = profile_state(hi, self.altitude0, self.step, self.log_density,
                                         self.sound_speed, density_scale)
        return rho, a


def build_profile(utc: str | dt.datetime, lat_deg, lon_deg, drivers: MsisDrivers | None = None,
                  top_km: float = 200.0, step_km: float = 1.0) -> AtmosphereProfile:
    """Profile averaged (in log-density) over ground points ``lat_deg``, ``lon_deg`` at ``utc``."""
    if not 0.0 < step_km <= 10.0 or top_km <= 10.0 * step_km:
        raise ValueError(f"step_km = {step_km}, top_km = {top_km}: need 0 < step_km <= 10 and "
                         "top_km > 10 steps")
    lat = np.atleast_1d(np.asarray(lat_deg, float))
    lon = np.atleast_1d(np.asarray(lon_deg, float))
    if lat.shape != lon.shape or np.any(np.abs(lat) > 90.0):
        raise ValueError(f"lat_deg {lat} and lon_deg {lon} must have one shape, |lat| <= 90")
    alt_km = np.arange(0.0, top_km + 0.5 * step_km, step_km)
    rho, _, sound = msis(utc, lat[:, None], lon[:, None], alt_km[None, :], drivers)
    return AtmosphereProfile(0.0, step_km * 1e3, np.log(rho).mean(axis=0), sound.mean(axis=0))


@njit(cache=True, error_model="numpy", inline="always")
def table_node(altitude, altitude0, step, n):
    """The interval ``i`` (clamped to [0, n − 2]) of a uniform altitude table (``altitude0``,
    ``step``, ``n`` nodes, m) holding ``altitude`` (m), and the weight of node i + 1, which leaves
    [0, 1] beyond the ends (linear extrapolation)."""
    x = (altitude - altitude0) / step
    i = int(np.floor(x))
    if i < 0:
        i = 0
    elif i > n - 2:
        i = n - 2
    return i, x - i


@njit(cache=True, error_model="numpy")
def profile_state(altitude, altitude0, step, log_density, sound_speed, density_scale):
    """Density (kg/m³) and sound speed (m/s) at ``altitude`` (m) from a uniform table (numpy
    error model: no per-division zero check, see :mod:`guanghan.dynamics.entry_kernels`)."""
    i, w = table_node(altitude, altitude0, step, log_density.size)
    log_rho = log_density[i] + w * (log_density[i + 1] - log_density[i])
    wa = min(max(w, 0.0), 1.0)                 # sound speed is held at the end values
    a = sound_speed[i] + wa * (sound_speed[i + 1] - sound_speed[i])
    return density_scale * np.exp(log_rho), a


@dataclass(frozen=True)
class AtmosphereTrack:
    """Columns of log-density and sound speed at stations along a great circle (ITRF93).

    ``theta`` (rad) is each station's angle along the circle from station 0, in the plane spanned
    by ``start`` (unit vector of station 0) and ``normal`` (unit, in-plane, towards the last one).
    """

    altitude0: float
    step: float
    theta: np.ndarray            # (n_stations,) rad, strictly increasing
    start: np.ndarray            # (3,)
    normal: np.ndarray           # (3,)
    log_density: np.ndarray      # (n_stations, n_alt) ln(kg/m³)
    sound_speed: np.ndarray      # (n_stations, n_alt) m/s

    def __post_init__(self):     # one dtype for the compiled kernels: one specialisation each
        for name in ("theta", "start", "normal", "log_density", "sound_speed"):
            object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float64))

    @classmethod
    def uniform(cls, profile: AtmosphereProfile) -> "AtmosphereTrack":
        """One station: the same ``profile`` everywhere."""
        return cls(profile.altitude0, profile.step, np.zeros(1), np.array([1.0, 0.0, 0.0]),
                   np.array([0.0, 1.0, 0.0]), profile.log_density[None, :].copy(),
                   profile.sound_speed[None, :].copy())

    def perturbed(self, delta_log_density: np.ndarray) -> "AtmosphereTrack":
        """The same track with ``delta_log_density`` (one value per altitude node) added."""
        delta = np.asarray(delta_log_density, float)
        if delta.shape != self.log_density.shape[1:]:
            raise ValueError(f"delta_log_density has shape {delta.shape}; the track's altitude grid "
                             f"has {self.log_density.shape[1]} nodes")
        return AtmosphereTrack(self.altitude0, self.step, self.theta, self.start, self.normal,
                               self.log_density + delta[None, :], self.sound_speed)

    def profile_at(self, r_itrf) -> AtmosphereProfile:
        """The column at Earth-fixed position ``r_itrf`` (m) as an :class:`AtmosphereProfile`."""
        logrho = np.empty(self.log_density.shape[1])
        sound = np.empty_like(logrho)
        track_column(np.asarray(r_itrf, float), self.theta, self.start, self.normal,
                     self.log_density, self.sound_speed, logrho, sound)
        return AtmosphereProfile(self.altitude0, self.step, logrho, sound)

    def state(self, r_itrf, altitude, density_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(density (kg/m³), sound speed (m/s)) at positions (n, 3) (m) and altitudes (n,) (m)."""
        r = np.atleast_2d(np.asarray(r_itrf, float))
        h = np.atleast_1d(np.asarray(altitude, float))
        rho, a = np.empty(h.size), np.empty(h.size)
        for i in range(h.size):
            p = self.profile_at(r[i])
            rho[i], a[i] = profile_state(h[i], p.altitude0, p.step, p.log_density, p.sound_speed,
                                         density_scale)
        return rho, a

    def mean_profile(self) -> AtmosphereProfile:
        """Station average of log-density and sound speed (what :func:`build_profile` returns)."""
        return AtmosphereProfile(self.altitude0, self.step, self.log_density.mean(axis=0),
                                 self.sound_speed.mean(axis=0))


def build_track(utc: str | dt.datetime, lat_deg, lon_deg, drivers: MsisDrivers | None = None,
                top_km: float = 200.0, step_km: float = 1.0) -> AtmosphereTrack:
    """NRLMSIS columns at ground stations (geodetic, deg) in order along a great circle, at ``utc``."""
    from guanghan.environment.geodetic import cartesian_from_planetodetic

    lat = np.atleast_1d(np.asarray(lat_deg, float))
    lon = np.atleast_1d(np.asarray(lon_deg, float))
    if lat.shape != lon.shape or lat.ndim != 1 or lat.size < 2 or np.any(np.abs(lat) > 90.0):
        raise ValueError(f"lat_deg {lat} and lon_deg {lon}: need two or more stations, one shape, "
                         "|lat| <= 90")
    if not 0.0 < step_km <= 10.0 or top_km <= 10.0 * step_km:
        raise ValueError(f"step_km = {step_km}, top_km = {top_km}: need 0 < step_km <= 10 and "
                         "top_km > 10 steps")
    u = cartesian_from_planetodetic(np.radians(lat), np.radians(lon), 0.0)
    u /= np.linalg.norm(u, axis=1)[:, None]
    start = u[0]
    normal = u[-1] - (u[-1] @ start) * start
    if np.linalg.norm(normal) < 1e-9:
        raise ValueError("the first and last stations coincide or are antipodal: no great circle")
    normal /= np.linalg.norm(normal)
    theta = np.arctan2(u @ normal, u @ start)
    if np.any(np.diff(theta) <= 0.0):
        raise ValueError(f"stations must advance along the great circle from the first to the last "
                         f"(angles {np.degrees(theta)} deg)")
    alt_km = np.arange(0.0, top_km + 0.5 * step_km, step_km)
    rho, _, sound = msis(utc, lat[:, None], lon[:, None], alt_km[None, :], drivers)
    return AtmosphereTrack(0.0, step_km * 1e3, theta, start, normal, np.log(rho), sound)


@njit(cache=True, error_model="numpy", inline="always")
def track_weights(r, theta, start, normal):
    """(k, k1, w): the stations bracketing Earth-fixed ``r`` (m) and the weight of ``k1``, linear
    in the along-track angle between stations, held at the end stations beyond them."""
    n = theta.size
    ang = np.arctan2(normal[0] * r[0] + normal[1] * r[1] + normal[2] * r[2],
                     start[0] * r[0] + start[1] * r[1] + start[2] * r[2])
    k, w = 0, 0.0
    if n > 1:
        if ang >= theta[n - 1]:
            k, w = n - 2, 1.0
        elif ang > theta[0]:
            while theta[k + 1] < ang:
                k += 1
            w = (ang - theta[k]) / (theta[k + 1] - theta[k])
    return k, min(k + 1, n - 1), w


@njit(cache=True)
def track_column(r, theta, start, normal, log_density, sound_speed, out_log_density, out_sound):
    """Fill the column at Earth-fixed ``r`` (m): linear in the along-track angle between stations."""
    k, k1, w = track_weights(r, theta, start, normal)
    for j in range(out_log_density.size):
        out_log_density[j] = (1.0 - w) * log_density[k, j] + w * log_density[k1, j]
        out_sound[j] = (1.0 - w) * sound_speed[k, j] + w * sound_speed[k1, j]


@njit(cache=True, error_model="numpy", inline="always")
def track_state(altitude, altitude0, step, log_density, sound_speed, k, k1, w, density_scale):
    """Density (kg/m³) and sound speed (m/s) at ``altitude`` (m) in the column between stations
    ``k`` and ``k1`` with weight ``w`` (:func:`track_weights`): the same numbers as
    :func:`profile_state` on the column :func:`track_column` fills, reading only the two altitude
    nodes it needs instead of blending the whole column (what a step of the entry kernels costs)."""
    i, wz = table_node(altitude, altitude0, step, log_density.shape[1])
    lo = (1.0 - w) * log_density[k, i] + w * log_density[k1, i]
    hi = (1.0 - w) * log_density[k, i + 1] + w * log_density[k1, i + 1]
    log_rho = lo + wz * (hi - lo)
    wa = min(max(wz, 0.0), 1.0)                # sound speed is held at the end values
    a0 = (1.0 - w) * sound_speed[k, i] + w * sound_speed[k1, i]
    a1 = (1.0 - w) * sound_speed[k, i + 1] + w * sound_speed[k1, i + 1]
    return density_scale * np.exp(log_rho), a0 + wa * (a1 - a0)
