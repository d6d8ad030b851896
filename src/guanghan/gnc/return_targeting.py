"""Moon-to-Earth return targeting: finite TEI burns and midcourse corrections on the full force model.

The return is flown in two legs. Near the Moon the spacecraft is integrated Moon-centred (GRAIL
GRGM1200A field, Earth and Sun as third bodies); a terminal event at the lunar sphere of influence
(``soi_radius_m``, ~66,000 km) hands the state over, re-centred, to an Earth-centred leg (EGM96 field
in ITRF93, Moon and Sun as third bodies) that stops at the entry interface (EI), detected on the
GEODETIC altitude (ITRF93, planetodetic). :func:`predict_entry` is that whole chain, with any burns.

Targeting solves finite burns by least squares (scipy ``least_squares``, finite-difference Jacobian):

* :func:`solve_tei1` — duration of the prograde TEI-1 burn so that the periapsis of the raised
  ellipse falls at a given epoch (the middle of TEI-2); a secant root in one variable.
* :func:`solve_tei2` — duration and fixed J2000 direction of TEI-2 (pitch/yaw angles in the
  velocity/normal/binormal frame at ignition), unknowns scaled to Δv-equivalents, in three
  trust-region stages: the osculating v∞ vector of a designed departure, the position at the EI
  epoch on the designed EI point, then the EI residuals, scaled: flight-path angle (HARD, 0.001°),
  crossrange to the landing site (HARD, 0.1 km), EI epoch (SOFT, ``epoch_weight_s``), downrange
  outside the allowed skip-entry band (SOFT barrier, 10 km). Three unknowns, two hard targets:
  the epoch is met exactly whenever the downrange that results lies in the band; otherwise the
  barrier pulls the epoch away (reported).
* :func:`solve_mcc` — a midcourse burn (J2000 Δv vector, 3 unknowns) re-targeting FPA, crossrange
  and the nominal EI epoch (square system).
* :func:`departure` (and :func:`design_departure`) — a preliminary design: the EI state is
  propagated BACKWARDS (scipy DOP853 on the same compiled right-hand side) to the Moon and solved
  (approach bearing, EI speed, downrange) for a periapsis of given altitude at a given epoch, with
  the departure plane turned to a given B-plane angle about the outgoing asymptote. It gives the
  departure hyperbola from which parking orbits are built, and TEI-2's aim and first guess.

Assumptions and limitations
    * Flight-path angle and azimuth are measured from the plane normal to the GEOCENTRIC radius
      (as the entry phase does), Earth-relative ("relative") or inertial. Crossrange/downrange are
      great-circle distances on the 6371 km sphere: the site's angle out of the plane of (r, v_rel)
      in ITRF93 at EI, and the in-plane angle from EI to the site, positive ahead.
    * Third bodies are point masses; no SRP on the return (a few metres at EI over 3.6 days for an
      assumed 14 m² / 2.7 t stack: below the targeting tolerance).
    * The Moon-centred leg is valid inside the SOI; the hand-over radius is a parameter.
    * Tolerances (``RETURN_TOLERANCES``, rtol 1e-11): the EI-1 h position after the whole 4.6-day
      flight differs by ~65 m from rtol 1e-13 (~0.03 s per full propagation); the targets are
      met to that consistency (FPA ~1e-6°). TEI-2 targeting converges at rtol 1e-10 to 1e-12 (its
      finite-difference steps are absolute, 5 mm/s Δv-equivalent, far above integration noise).
      The preliminary design integrates at rtol 1e-10 (it is only a starting point).

References
    Battin, R. H. (1999), *An Introduction to the Mathematics and Methods of Astrodynamics*, §8.4
    (sphere of influence r = a (m/M)^(2/5), eq. 8.67); Vallado, *Fundamentals of Astrodynamics and
    Applications* (4th ed.), §6.4 (B-plane / differential correction), eq. 3-7 and Algorithm 12
    (geodetic coordinates); Bate, Mueller & White (1971), §7.4 (patched conics, lunar return).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, least_squares

from guanghan.dynamics import events as ev
from guanghan.dynamics.forces import (
    G0,
    CentralGravity,
    FiniteBurn,
    ForceModel,
    ThirdBody,
    rhs,
)
from guanghan.dynamics.propagator import PropagationResult, Tolerances, propagate
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames, spice_kernels
from guanghan.environment.geodetic import (
    cartesian_from_planetodetic,
    planetodetic_from_cartesian,
)
from guanghan.environment.gravity_field import load_lunar_field, load_packaged_cof
from guanghan.errors import GuidanceFailure, PropagationError

R_SPHERE = 6_371.0e3                     # m, sphere for crossrange/downrange (as the entry phase)
RETURN_TOLERANCES = Tolerances(rtol=1e-11, atol_m=1e-3)
EARTH_ROTATION_RATE = 7.292115e-5       # rad/s, IERS mean (only for the design's EI speed split)


@dataclass(frozen=True)
class ReturnModels:
    """Moon-centred and Earth-centred force models (no burns), SOI radius (m), tolerances."""

    moon: ForceModel
    earth: ForceModel
    soi_radius_m: float = 66_000e3
    tolerances: Tolerances = RETURN_TOLERANCES


def build_models(lunar_degree: int = 20, earth_degree: int = 8, soi_radius_km: float = 66_000.0,
                 tolerances: Tolerances = RETURN_TOLERANCES) -> ReturnModels:
    """GRGM1200A (degree ``lunar_degree``) + Earth + Sun; EGM96low (``earth_degree``) + Moon + Sun."""
    moon_field = load_lunar_field("GRGM1200A", lunar_degree)
    earth_field = load_packaged_cof("EGM96low", earth_degree)
    gm = {b: spice_kernels.gm(b) for b in ("MOON", "EARTH", "SUN")}
    moon = ForceModel(CentralGravity("MOON", moon_field.mu, moon_field),
                      [ThirdBody("EARTH", gm["EARTH"]), ThirdBody("SUN", gm["SUN"])])
    earth = ForceModel(CentralGravity("EARTH", earth_field.mu, earth_field),
                       [ThirdBody("MOON", gm["MOON"]), ThirdBody("SUN", gm["SUN"])])
    return ReturnModels(moon, earth, soi_radius_km * 1e3, tolerances)


@dataclass(frozen=True)
class EntryTarget:
    """EI targets: geodetic altitude (m), FPA (deg, ``fpa_reference`` "relative"/"inertial"),
    epoch (ET s), site geodetic lat/lon (deg), allowed downrange band (km), epoch weight (s)."""

    altitude_m: float
    fpa_deg: float
    et: float
    site_lat_deg: float
    site_lon_deg: float
    downrange_min_km: float
    downrange_max_km: float
    fpa_reference: str = "relative"
    epoch_weight_s: float = 60.0


@dataclass(frozen=True)
class EntryGeometry:
    """Entry-interface state and its geometry with respect to the landing site."""

    et: float
    r_j2000: np.ndarray            # m, Earth-centred
    v_j2000: np.ndarray            # m/s, inertial
    altitude_km: float             # geodetic
    lat_deg: float                 # geodetic
    lon_deg: float
    speed_inertial_m_s: float
    speed_relative_m_s: float
    fpa_inertial_deg: float
    fpa_relative_deg: float
    azimuth_relative_deg: float    # heading of the Earth-relative velocity, clockwise from north
    crossrange_km: float           # site out of the (r, v_rel) plane, + to the left
    downrange_km: float            # EI to the site along the plane, + ahead

    def fpa_deg(self, reference: str) -> float:
        return self.fpa_relative_deg if reference == "relative" else self.fpa_inertial_deg


def site_unit_itrf(lat_deg: float, lon_deg: float) -> np.ndarray:
    """Unit geocentric vector of a geodetic site (ITRF93)."""
    r = cartesian_from_planetodetic(math.radians(lat_deg), math.radians(lon_deg), 0.0)
    return r / np.linalg.norm(r)


def entry_geometry(et: float, r_j2000, v_j2000, site_lat_deg: float, site_lon_deg: float) -> EntryGeometry:
    """EI geometry of an Earth-centred J2000 state (m, m/s) at ``et`` (s) relative to a site."""
    r_j2000, v_j2000 = np.asarray(r_j2000, float), np.asarray(v_j2000, float)
    x = frames.transform_states(np.concatenate([r_j2000, v_j2000]), "J2000", "ITRF93", [et])[0]
    r, v_rel = x[:3], x[3:]
    v_in = frames.rotation("J2000", "ITRF93", [et])[0] @ v_j2000
    lat, lon, h = planetodetic_from_cartesian(r)
    up = r / np.linalg.norm(r)
    east = np.cross([0.0, 0.0, 1.0], up)
    east /= np.linalg.norm(east)
    north = np.cross(up, east)
    n = np.cross(r, v_rel)
    n /= np.linalg.norm(n)
    site = site_unit_itrf(site_lat_deg, site_lon_deg)
    ahead = np.cross(n, up)
    return EntryGeometry(
        float(et), r_j2000, v_j2000, float(h) / 1e3, math.degrees(lat), math.degrees(lon),
        float(np.linalg.norm(v_j2000)), float(np.linalg.norm(v_rel)),
        math.degrees(math.asin(up @ v_in / np.linalg.norm(v_in))),
        math.degrees(math.asin(up @ v_rel / np.linalg.norm(v_rel))),
        math.degrees(math.atan2(v_rel @ east, v_rel @ north)) % 360.0,
        R_SPHERE * math.asin(float(np.clip(site @ n, -1, 1))) / 1e3,
        R_SPHERE * math.atan2(float(site @ ahead), float(site @ up)) / 1e3)


# --------------------------------------------------------------------------- detectors


def geodetic_altitude(altitude_m: float, name: str, terminal: bool = True) -> ev.Detector:
    """Descent through a geodetic altitude (m) above the ITRF93 ellipsoid (Earth-centred states)."""

    def g(ets, states):
        r_itrf = np.einsum("nij,nj->ni", frames.rotation("J2000", "ITRF93", ets), states[:, :3])
        return planetodetic_from_cartesian(r_itrf)[2] - altitude_m

    return ev.user(g, name, terminal=terminal, direction=-1)


def soi_exit(radius_m: float) -> ev.Detector:
    """Moon-centred distance rising through ``radius_m`` (m): hand over to the Earth-centred leg."""
    return ev.user(lambda t, y: np.linalg.norm(y[:, :3], axis=1) - radius_m, "soi_exit",
                   terminal=True, direction=1)


# --------------------------------------------------------------------------- the flight chain


@dataclass
class Flight:
    """Propagated legs (Moon- then Earth-centred), the SOI hand-over and the stop event."""

    legs: list[PropagationResult]
    soi_exit: SpacecraftState | None
    stop: ev.Event | None

    @property
    def final_state(self) -> SpacecraftState:
        return self.legs[-1].final_state


def fly(state: SpacecraftState, end_et: float, models: ReturnModels, burns=(),
        stop: ev.Detector | None = None) -> Flight:
    """Propagate to ``end_et`` (s) or the ``stop`` event, Moon-centred until the SOI, then Earth."""
    legs, handover, stop_event = [], None, None
    if state.body == "MOON":
        try:
            res = propagate(state, end_et, replace(models.moon, burns=list(burns)), models.tolerances,
                            [soi_exit(models.soi_radius_m)], chunk_steps=256)
        except PropagationError as exc:
            raise GuidanceFailure("trans_earth", f"propagation failed near the Moon: {exc}") from None
        legs.append(res)
        if res.terminated_by is None:
            return Flight(legs, None, None)
        handover = res.final_state
        state = handover.recentered("EARTH")
    if end_et > state.et:
        dets = [stop] if stop is not None else []
        try:                    # short chunks: terminal events are checked after each chunk
            res = propagate(state, end_et, replace(models.earth, burns=list(burns)), models.tolerances,
                            dets, chunk_steps=64)
        except PropagationError as exc:
            raise GuidanceFailure("trans_earth", f"propagation failed near the Earth: {exc}") from None
        legs.append(res)
        stop_event = res.terminated_by
    return Flight(legs, handover, stop_event)


def predict_entry(state: SpacecraftState, models: ReturnModels, burns, target: EntryTarget,
                  horizon_s: float = 2 * 86400.0) -> tuple[EntryGeometry, Flight]:
    """Fly to the EI (geodetic ``target.altitude_m``); GuidanceFailure if the Earth is missed."""
    flight = fly(state, target.et + horizon_s, models, burns, geodetic_altitude(target.altitude_m,
                                                                                  "entry_interface"))
    if flight.stop is None:
        end = flight.final_state
        raise GuidanceFailure("trans_earth", f"no entry interface before {target.et + horizon_s:.0f} "
                              f"ET s (final distance {np.linalg.norm(end.r) / 1e3:.0f} km from "
                              f"{end.body}): the trajectory misses the Earth")
    y = flight.stop.state
    return entry_geometry(flight.stop.et, y[:3], y[3:6], target.site_lat_deg, target.site_lon_deg), flight


def entry_residuals(geo: EntryGeometry, target: EntryTarget, soft: bool = True) -> np.ndarray:
    """Scaled misses: FPA (0.001°), crossrange (0.1 km), epoch, downrange band (10 km)."""
    res = [(geo.fpa_deg(target.fpa_reference) - target.fpa_deg) / 1e-3, geo.crossrange_km / 0.1]
    if soft:
        dr = geo.downrange_km
        out = max(0.0, target.downrange_min_km - dr) + max(0.0, dr - target.downrange_max_km)
        res += [(geo.et - target.et) / target.epoch_weight_s, out / 10.0]
    else:
        res.append(geo.et - target.et)                           # 1 s
    return np.array(res)


# --------------------------------------------------------------------------- burns


def vnb_axes(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rows: velocity, orbit normal, binormal (V × N) unit vectors."""
    vh = v / np.linalg.norm(v)
    nh = np.cross(r, v)
    nh /= np.linalg.norm(nh)
    return np.array([vh, nh, np.cross(vh, nh)])


def direction_from_angles(axes: np.ndarray, pitch_deg: float, yaw_deg: float) -> np.ndarray:
    """Unit vector at ``pitch`` (towards the binormal) and ``yaw`` (towards the normal) from V."""
    p, y = math.radians(pitch_deg), math.radians(yaw_deg)
    return math.cos(y) * (math.cos(p) * axes[0] + math.sin(p) * axes[2]) + math.sin(y) * axes[1]


def angles_from_direction(axes: np.ndarray, u: np.ndarray) -> tuple[float, float]:
    """Inverse of :func:`direction_from_angles` (deg)."""
    c = axes @ (u / np.linalg.norm(u))
    return math.degrees(math.atan2(c[2], c[0])), math.degrees(math.asin(np.clip(c[1], -1, 1)))


def burn_duration(mass_kg: float, dv_m_s: float, thrust_n: float, isp_s: float) -> float:
    """Burn time (s) giving ``dv`` (m/s) from ``mass`` (kg): Tsiolkovsky, ṁ = F/(Isp g0)."""
    return mass_kg * (1.0 - math.exp(-dv_m_s / (isp_s * G0))) * isp_s * G0 / thrust_n


def mass_for_burn(dv_m_s: float, duration_s: float, thrust_n: float, isp_s: float) -> float:
    """Initial mass (kg) for which a burn of ``duration_s`` (s) at ``thrust_n`` (N), ``isp_s`` (s)
    gives ``dv_m_s`` (m/s): m0 = F t / (Isp g0 (1 − exp(−Δv/(Isp g0)))), Tsiolkovsky inverted."""
    c = isp_s * G0
    return thrust_n * duration_s / (c * -math.expm1(-dv_m_s / c))


def delta_v_from_masses(m0: float, m1: float, isp_s: float) -> float:
    """Ideal Δv (m/s) of a burn taking the mass from m0 to m1 (kg): Isp g0 ln(m0/m1)."""
    return isp_s * G0 * math.log(m0 / m1)


@dataclass(frozen=True)
class Engine:
    """Engine set: thrust per engine (N), Isp (s), number fired together."""

    thrust_n: float
    isp_s: float
    count: int = 1

    @property
    def total_thrust_n(self) -> float:
        return self.thrust_n * self.count


def solve_tei1(state: SpacecraftState, start_et: float, engine: Engine, duration_guess_s: float,
               periapsis_et: float, models: ReturnModels) -> tuple[float, float]:
    """TEI-1 duration (s) so the raised ellipse's periapsis falls at ``periapsis_et`` (s).

    Returns (duration, periapsis epoch reached). Secant iteration on the epoch of the FIRST
    periapsis after the burn (one revolution of the raised ellipse, as Chang'e-5 flew it: a
    shorter ellipse also reaches ``periapsis_et`` after several revolutions, on a cheaper TEI-1
    and a costlier TEI-2); the miss then grows monotonically with the duration.
    """
    def miss(duration):
        burn = FiniteBurn(start_et, float(duration), engine.total_thrust_n, engine.isp_s, "prograde")
        res = propagate(state, periapsis_et + 6 * 3600.0, replace(models.moon, burns=[burn]),
                        models.tolerances, [ev.apsides()])
        peri = [e.et for e in res.events if e.name == "periapsis" and e.et > burn.end_et + 3600.0]
        if not peri:
            return 6 * 3600.0                       # no periapsis yet: the period is too long
        return peri[0] - periapsis_et

    lo = hi = float(duration_guess_s)
    f_lo = f_hi = miss(lo)
    for _ in range(40):                             # bracket the sign change, 10 % steps
        if f_lo < 0.0 < f_hi:
            break
        if f_hi <= 0.0:
            lo, f_lo, hi = hi, f_hi, hi * 1.1
            f_hi = miss(hi)
        else:
            hi, f_hi, lo = lo, f_lo, lo / 1.1
            f_lo = miss(lo)
    else:
        raise GuidanceFailure("tei1", f"no TEI-1 duration between {lo:.0f} and {hi:.0f} s puts the next "
                              f"periapsis at ET {periapsis_et:.0f} s")
    root = brentq(miss, lo, hi, xtol=1e-4)
    return float(root), periapsis_et + miss(root)


def tei2_burn(state: SpacecraftState, engine: Engine, x) -> FiniteBurn:
    """TEI-2 from unknowns x = (duration min, pitch deg, yaw deg), direction fixed at ignition."""
    u = direction_from_angles(vnb_axes(state.r, state.v), x[1], x[2])
    return FiniteBurn(state.et, float(x[0]) * 60.0, engine.total_thrust_n, engine.isp_s, "inertial",
                      tuple(u))


def conic_periapsis(state: SpacecraftState, mu: float) -> tuple[float, float]:
    """Periapsis radius (m) and next/last periapsis epoch (ET s) of the osculating conic (e ≠ 1).

    Kepler's equation, elliptic (Curtis eq. 3.14) or hyperbolic (eq. 3.40).
    """
    r, v = state.r, state.v
    rn = np.linalg.norm(r)
    a = 1.0 / (2.0 / rn - v @ v / mu)
    e = float(np.linalg.norm(((v @ v - mu / rn) * r - (r @ v) * v) / mu))
    sgn = 1.0 if r @ v >= 0 else -1.0
    if a < 0:
        return hyperbola_periapsis(state, mu)
    ecc_anom = math.acos(float(np.clip((1.0 - rn / a) / e, -1.0, 1.0))) * sgn
    return a * (1.0 - e), state.et - math.sqrt(a ** 3 / mu) * (ecc_anom - e * math.sin(ecc_anom))


def tei2_scale(state: SpacecraftState, engine: Engine, x) -> np.ndarray:
    """Δv-equivalent size (m/s) of a unit change of each TEI-2 unknown (duration min, pitch deg,
    yaw deg) at ``x``: a/min = F/m·60 s; a degree of attitude turns the burn's Δv by π/180."""
    accel = engine.total_thrust_n / state.mass
    dv = accel * float(x[0]) * 60.0
    return np.array([accel * 60.0, dv * math.pi / 180.0, dv * math.pi / 180.0])


def asymptote(state: SpacecraftState, mu: float) -> np.ndarray:
    """Outgoing v∞ vector (m/s, J2000) of the osculating hyperbola of ``state``.

    Direction S = cos ν∞ P + sin ν∞ Q with cos ν∞ = −1/e (Vallado §6.4 / Battin eq. 4.70)."""
    r, v = state.r, state.v
    rn = np.linalg.norm(r)
    vinf = math.sqrt(max(v @ v - 2.0 * mu / rn, 1e-6))
    h = np.cross(r, v)
    e_vec = ((v @ v - mu / rn) * r - (r @ v) * v) / mu
    e = np.linalg.norm(e_vec)
    p_hat, q_hat = e_vec / e, np.cross(h / np.linalg.norm(h), e_vec / e)
    cos_nu = -1.0 / max(e, 1.0 + 1e-9)
    return vinf * (cos_nu * p_hat + math.sqrt(1.0 - cos_nu ** 2) * q_hat)


def solve_tei2(state: SpacecraftState, engine: Engine, x0, target: EntryTarget, models: ReturnModels,
               extra_burns=(), aim: Departure | None = None,
               tolerance=(0.01, 1.0)) -> tuple[FiniteBurn, EntryGeometry, object]:
    """TEI-2 (duration min, pitch, yaw deg) from the ignition ``state`` for the EI ``target``.

    Three trust-region least-squares stages (scipy ``least_squares``, forward differences with
    absolute steps of 5 mm/s Δv-equivalent, unknowns scaled by :func:`tei2_scale`), each started
    from the last: A (only with ``aim``, a designed :class:`Departure`) the osculating v∞ vector 4 h
    after the design periapsis equal to the design's (0.01 m/s); B (with ``aim``) the Earth-centred
    position at ``target.et`` on the design's EI point (1 km), a smooth Lambert-like problem that
    brings a trajectory missing the Earth to it; C the EI residuals of :func:`entry_residuals`.
    GuidanceFailure names the stage if C leaves the FPA or crossrange outside ``tolerance`` (deg, km).
    """
    x = np.asarray(x0, float)
    scale = 1.0 / tei2_scale(state, engine, x)
    jac_step = 5e-3 * scale

    def flown(x, end_et):
        return fly(state, end_et, models, [tei2_burn(state, engine, x), *extra_burns]).final_state

    def solve(fun, x, nfev):
        return least_squares(fun, x, jac=_forward_jacobian(fun, jac_step), x_scale=scale,
                             xtol=1e-12, ftol=1e-12, max_nfev=nfev)

    misses = {}
    if aim is not None:
        t_chk = aim.et + 4 * 3600.0
        ref = propagate(SpacecraftState(aim.et, aim.r_moon_j2000, aim.v_moon_j2000, state.mass), t_chk,
                        models.moon, models.tolerances).final_state
        vinf_aim = asymptote(ref, models.moon.central.mu)

        def fun_a(x):
            return (asymptote(flown(x, t_chk).recentered("MOON"), models.moon.central.mu) - vinf_aim) / 1e-2

        def fun_b(x):
            return (flown(x, target.et).recentered("EARTH").r - aim.r_ei_j2000) / 1e3

        x = solve(fun_a, x, 30).x
        sol_b = solve(fun_b, x, 40)
        x, misses["B (EI point, km)"] = sol_b.x, float(np.linalg.norm(sol_b.fun))

    def fun(x):
        try:
            geo, _ = predict_entry(state, models, [tei2_burn(state, engine, x), *extra_burns], target)
        except GuidanceFailure:
            return np.full(4, 1e6)
        return entry_residuals(geo, target)

    sol = solve(fun, x, 60)
    burn = tei2_burn(state, engine, sol.x)
    geo, _ = predict_entry(state, models, [burn, *extra_burns], target)
    fpa_miss = geo.fpa_deg(target.fpa_reference) - target.fpa_deg
    if abs(fpa_miss) > tolerance[0] or abs(geo.crossrange_km) > tolerance[1]:
        raise GuidanceFailure("tei2", f"TEI-2 targeting did not converge: stage C (EI residuals) left "
                              f"FPA miss {fpa_miss:.4f} deg (tolerance {tolerance[0]}), crossrange "
                              f"{geo.crossrange_km:.2f} km (tolerance {tolerance[1]}); earlier stage "
                              f"misses {misses}; x = {np.round(sol.x, 5).tolist()}")
    return burn, geo, sol


def mcc_burn(state: SpacecraftState, engine: Engine, dv_j2000) -> FiniteBurn | None:
    """Inertial burn realising the Δv vector (m/s) from ``state``; None below 1 mm/s."""
    dv = float(np.linalg.norm(dv_j2000))
    if dv < 1e-3:
        return None
    return FiniteBurn(state.et, burn_duration(state.mass, dv, engine.total_thrust_n, engine.isp_s),
                      engine.total_thrust_n, engine.isp_s, "inertial", tuple(np.asarray(dv_j2000) / dv))


def _forward_jacobian(fun, step):
    """Forward-difference Jacobian with ABSOLUTE steps (units of x; scalar or per variable) for
    ``least_squares``."""
    def jac(x, *args):
        f0 = fun(x)
        steps = np.broadcast_to(np.asarray(step, float), x.shape)
        cols = []
        for j in range(x.size):
            xj = x.copy()
            xj[j] += steps[j]
            cols.append((fun(xj) - f0) / steps[j])
        return np.array(cols).T
    return jac


def solve_mcc(state: SpacecraftState, engine: Engine, target: EntryTarget, models: ReturnModels,
              aim_r_j2000=None, tolerance=(1e-3, 0.05, 1.0)) -> tuple[FiniteBurn | None, np.ndarray, EntryGeometry]:
    """Midcourse Δv (J2000, m/s) re-targeting FPA, crossrange and the EI epoch ``target.et``.

    No burn if the predicted misses are inside ``tolerance`` (deg, km, s) already. If the coast
    misses the Earth (a TEI error of 1 m/s moves the perigee by ~10³ km), stage 1 first aims the
    Earth-centred position at ``target.et`` at the planned EI point ``aim_r_j2000`` (m; a smooth
    Lambert-like problem, 1 km), then stage 2 solves the EI residuals (square system).
    """
    def burns(dv):
        burn = mcc_burn(state, engine, dv)
        return [burn] if burn else []

    def fun(dv):
        geo, _ = predict_entry(state, models, burns(dv), target)
        return entry_residuals(geo, target, soft=False)

    def fun_aim(dv):
        end = fly(state, target.et, models, burns(dv)).final_state
        return (end.r - np.asarray(aim_r_j2000)) / 1e3

    limits = np.array([tolerance[0] / 1e-3, tolerance[1] / 0.1, tolerance[2]])
    try:
        r0 = fun(np.zeros(3))
    except GuidanceFailure:
        r0 = None
    if r0 is not None and np.all(np.abs(r0) <= limits):
        geo, _ = predict_entry(state, models, [], target)
        return None, np.zeros(3), geo
    x = np.zeros(3)
    if aim_r_j2000 is not None:
        x = least_squares(fun_aim, x, jac=_forward_jacobian(fun_aim, 1e-2), xtol=1e-10, ftol=1e-10,
                          max_nfev=60).x
    sol = least_squares(fun, x, jac=_forward_jacobian(fun, 1e-2), xtol=1e-10, ftol=1e-10, max_nfev=100)
    burn = mcc_burn(state, engine, sol.x)
    geo, _ = predict_entry(state, models, [burn] if burn else [], target)
    return burn, sol.x, geo


# --------------------------------------------------------------------------- preliminary design


def ei_state_itrf(target: EntryTarget, downrange_km: float, bearing_deg: float, speed_m_s: float):
    """ITRF93 state at the EI point ``downrange_km`` from the site on the great circle leaving the
    site at ``bearing_deg`` (deg from north), heading to the site with the target FPA (relative)
    and INERTIAL speed ``speed_m_s``."""
    lat0, lon0 = math.radians(target.site_lat_deg), math.radians(target.site_lon_deg)
    d, b = downrange_km * 1e3 / R_SPHERE, math.radians(bearing_deg)
    lat = math.asin(math.sin(lat0) * math.cos(d) + math.cos(lat0) * math.sin(d) * math.cos(b))
    lon = lon0 + math.atan2(math.sin(b) * math.sin(d) * math.cos(lat0),
                            math.cos(d) - math.sin(lat0) * math.sin(lat))
    r = cartesian_from_planetodetic(lat, lon, target.altitude_m)
    up = r / np.linalg.norm(r)
    site = site_unit_itrf(target.site_lat_deg, target.site_lon_deg)
    along = site - (site @ up) * up
    along /= np.linalg.norm(along)
    g = math.radians(target.fpa_deg)
    u = math.cos(g) * along + math.sin(g) * up
    w = np.cross([0.0, 0.0, EARTH_ROTATION_RATE], r)            # ω × r (m/s)
    s = -(u @ w) + math.sqrt((u @ w) ** 2 - w @ w + speed_m_s ** 2)   # |s u + w| = speed
    return np.concatenate([r, s * u])


def _integrator(model: ForceModel, et0: float, et1: float, rtol: float = 1e-11):
    """A function (et_from, y0, et_to) -> y integrating ``model`` (no burns) with scipy DOP853,
    either direction, inside [et0, et1]."""
    fd = replace(model, burns=[]).compile(et0, et1, et_ref=et0)
    out = np.empty(7)
    atol = np.array([1e-3] * 3 + [1e-6] * 3 + [1e-6])

    def f(tau, y):
        rhs(tau, y, fd, out)
        return out.copy()

    def run(et_from, y0, et_to):
        sol = solve_ivp(f, (et_from - et0, et_to - et0), np.asarray(y0, float), method="DOP853",
                        rtol=rtol, atol=atol)
        return sol.y[:, -1]

    return run


def hyperbola_periapsis(state: SpacecraftState, mu: float) -> tuple[float, float]:
    """Periapsis radius (m) and epoch (ET s) of the osculating two-body hyperbola of ``state``.

    Hyperbolic Kepler equation t - t_p = sqrt(-a³/μ) (e sinh F - F), Curtis eq. 3.40.
    """
    r, v = state.r, state.v
    rn = np.linalg.norm(r)
    a = 1.0 / (2.0 / rn - v @ v / mu)
    e_vec = ((v @ v - mu / rn) * r - (r @ v) * v) / mu
    e = float(np.linalg.norm(e_vec))
    if a >= 0.0 or e <= 1.0:
        return a * (1.0 - e), state.et                     # not hyperbolic: no periapsis epoch
    f = math.acosh(max(1.0, (1.0 - rn / a) / e)) * (1.0 if r @ v >= 0 else -1.0)
    return a * (1.0 - e), state.et - math.sqrt(-a ** 3 / mu) * (e * math.sinh(f) - f)


def b_plane(state: SpacecraftState, mu: float) -> np.ndarray:
    """B-plane vector (B·T, B·R) (m) of the outgoing asymptote of ``state``'s osculating hyperbola.

    B = S × h / v∞, smooth through b = 0; T = unit(S × z_J2000), R = S × T (Vallado §6.4).
    """
    v_inf = asymptote(state, mu)
    vinf = np.linalg.norm(v_inf)
    s_hat = v_inf / vinf
    b_vec = np.cross(s_hat, np.cross(state.r, state.v)) / vinf
    t_hat = np.cross(s_hat, [0.0, 0.0, 1.0])
    t_hat /= np.linalg.norm(t_hat)
    return np.array([b_vec @ t_hat, b_vec @ np.cross(s_hat, t_hat)])


@dataclass(frozen=True)
class Departure:
    """A designed return: Moon-centred J2000 periapsis state at ``et`` (m, m/s), the EI unknowns
    ``x`` (approach bearing deg, inertial EI speed m/s, downrange km), the B-plane angle (deg,
    atan2(B·R, B·T), J2000-based T) of the departure hyperbola and the EI position (J2000, m)."""

    et: float
    r_moon_j2000: np.ndarray
    v_moon_j2000: np.ndarray
    x: np.ndarray
    b_plane_angle_deg: float
    r_ei_j2000: np.ndarray
    asymptote_j2000: np.ndarray     # unit outgoing asymptote S of the osculating hyperbola 12 h out


def design_departure(target: EntryTarget, periapsis_et: float, periapsis_altitude_m: float,
                     models: ReturnModels, downrange_km: float, speed_guess_m_s: float = 10_990.0,
                     *, b_plane_angle_deg: float | None = None, x_guess=None, rtol: float = 1e-10):
    """Moon-centred periapsis state (r, v at ``periapsis_et``) of a trajectory reaching the EI.

    Returns (r_moon_j2000, v_moon_j2000, x); :func:`departure` gives the full :class:`Departure`.
    """
    d = departure(target, periapsis_et, periapsis_altitude_m, models, downrange_km, speed_guess_m_s,
                  b_plane_angle_deg=b_plane_angle_deg, x_guess=x_guess, rtol=rtol)
    return d.r_moon_j2000, d.v_moon_j2000, d.x


def departure(target: EntryTarget, periapsis_et: float, periapsis_altitude_m: float,
              models: ReturnModels, downrange_km: float, speed_guess_m_s: float = 10_990.0,
              *, b_plane_angle_deg: float | None = None, x_guess=None, rtol: float = 1e-10) -> Departure:
    """Design the departure hyperbola by BACKWARD propagation from the EI (preliminary design).

    Unknowns: approach bearing at the site (deg), inertial EI speed (m/s) and downrange (km), the
    EI having the target's relative FPA, epoch and zero crossrange. Stage 1 (from ``x_guess``, or
    the best of a bearing/speed grid) targets the osculating lunar hyperbola 12 h after periapsis:
    a B-plane vector of the length giving the periapsis radius (Vallado §6.4: |B| = r_p
    sqrt(1 + 2μ/(r_p v∞²))), at ``b_plane_angle_deg`` (the rotation of the departure plane about
    the outgoing asymptote; None keeps the side where the first guess passes) (1 km), and the
    periapsis epoch (1 min); stage 2 the Moon-centred altitude (1 km) and radial speed (1 m/s) at
    ``periapsis_et`` and the B-plane angle 12 h out (0.01°). The downrange is an output.
    """
    mu_moon = models.moon.central.mu
    rp_target = float(spice_kernels.radii("MOON").mean()) + periapsis_altitude_m
    t_out = periapsis_et + 12 * 3600.0
    run = _integrator(models.earth, periapsis_et, target.et, rtol)

    def ei_j2000(x):
        x_itrf = ei_state_itrf(target, x[2], x[0], x[1])
        return frames.transform_states(x_itrf, "ITRF93", "J2000", [target.et])[0]

    def moon_state(x, et):
        y = run(target.et, np.append(ei_j2000(x), 1000.0), et)
        return SpacecraftState.from_vector(et, y, body="EARTH").recentered("MOON")

    if x_guess is None:
        grid = [(b, speed_guess_m_s + dv, downrange_km) for b in range(0, 360, 10)
                for dv in (-20.0, 0.0, 20.0)]
        best = np.array(min(grid, key=lambda x: np.linalg.norm(moon_state(x, periapsis_et).r)))
    else:
        best = np.asarray(x_guess, float)
    s_out = moon_state(best, t_out)
    vinf2 = s_out.v @ s_out.v - 2 * mu_moon / np.linalg.norm(s_out.r)
    b0 = b_plane(s_out, mu_moon)
    ang = math.atan2(b0[1], b0[0]) if b_plane_angle_deg is None else math.radians(b_plane_angle_deg)
    b_aim = np.array([math.cos(ang), math.sin(ang)]) * rp_target * math.sqrt(
        1.0 + 2.0 * mu_moon / (rp_target * vinf2))

    def fun_conic(x):
        s = moon_state(x, t_out)
        return np.append((b_plane(s, mu_moon) - b_aim) / 1e3,
                         (hyperbola_periapsis(s, mu_moon)[1] - periapsis_et) / 60.0)

    def fun(x):
        s = moon_state(x, periapsis_et)
        rn = np.linalg.norm(s.r)
        b = b_plane(moon_state(x, t_out), mu_moon)
        turn = math.remainder(math.atan2(b[1], b[0]) - ang, 2 * math.pi)
        return np.array([(rn - rp_target) / 1e3, s.r @ s.v / rn, math.degrees(turn) / 0.01])

    x1 = least_squares(fun_conic, best, x_scale="jac", diff_step=1e-8, max_nfev=100).x
    sol = least_squares(fun, x1, x_scale="jac", diff_step=1e-8, max_nfev=100)
    if np.max(np.abs(sol.fun[:2])) > 1e-2:
        raise GuidanceFailure("trans_earth_design", f"no return trajectory from a {periapsis_altitude_m / 1e3:.0f}"
                              f" km periapsis at ET {periapsis_et:.0f} reaches the EI (misses {sol.fun})")
    s, s_out = moon_state(sol.x, periapsis_et), moon_state(sol.x, t_out)
    b1, vinf = b_plane(s_out, mu_moon), asymptote(s_out, mu_moon)
    return Departure(periapsis_et, s.r, s.v, sol.x, math.degrees(math.atan2(b1[1], b1[0])),
                     ei_j2000(sol.x)[:3], vinf / np.linalg.norm(vinf))


def b_plane_angle_of_plane(s_hat: np.ndarray, n_hat: np.ndarray) -> float:
    """B-plane angle (deg, as :func:`b_plane`) of the hyperbola with asymptote ``s_hat`` whose
    orbit normal is (the part normal to S of) ``n_hat``: B ∥ S × n, since h ∥ B × S."""
    b = np.cross(s_hat, n_hat)
    t_hat = np.cross(s_hat, [0.0, 0.0, 1.0])
    t_hat /= np.linalg.norm(t_hat)
    return math.degrees(math.atan2(b @ np.cross(s_hat, t_hat), b @ t_hat))


def backward(model: ForceModel, state: SpacecraftState, et_to: float) -> SpacecraftState:
    """``state`` integrated (either direction, no burns) to ``et_to`` (s) with ``model``."""
    y = _integrator(model, min(state.et, et_to), max(state.et, et_to))(state.et, state.vector, et_to)
    return SpacecraftState.from_vector(et_to, y, body=model.body)
