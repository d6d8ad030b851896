"""Earth–Moon transfer design: the injection state that arrives at a lunar periselene of given
altitude, epoch and orbit inclination, by B-plane targeting on the full force model.

The launch vehicle injects at the perigee of the transfer orbit, at a fixed epoch (launch plus the
flight time), perigee altitude and inclination to the Earth's true equator; the unknowns are the
right ascension of the node and the argument of perigee (in the Earth's true-equator axes frozen at
injection) and the perigee speed, ``x = (Ω deg, ω deg, v_p m/s)``. Three targets at the Moon: the
B-plane vector (B·T, B·R) of the incoming asymptote, with T in the lunar equator
(:func:`~guanghan.dynamics.conics.b_plane_incoming`), and the periselene epoch. The B-plane aim
follows from the periselene radius and inclination: |B| = r_p sqrt(1 + 2μ/(r_p v∞²)) and, with
β the angle from the lunar pole to the asymptote S, cos θ = cos i / sin β (the orbit normal is
B̂ × S, so cos i = −cos θ (pole·R) and pole·R = −sin β); of the two signs of θ the one with the
periselene in the requested hemisphere (P̂ = S/e + sin ν∞ B̂).

The design runs in three steps (the GMAT/Vallado differential-correction approach: a patched-conic
guess, then Newton–type correction of the targets on the full model):

1. patched conic: the transfer plane through the Moon's position at arrival with the injection
   inclination (two solutions: the one passing nearest the launch site at launch, else the one with
   the slower arrival), and the Earth conic of that perigee reaching the Moon's distance at the
   arrival epoch (Kepler's equation, one unknown): outbound, or, for a flight longer than the one
   with its apogee at the Moon's distance, inbound from an apogee at most the lunar sphere of
   influence (66,000 km) beyond it (the Moon catching up with the stack near its apogee);
2. the Earth-centred full model (EGM96, Moon and Sun as third bodies) aimed 12 h before arrival at
   the state of the Moon-centred two-body hyperbola of the aim (position, 1 km);
3. the patched full model (:func:`~guanghan.dynamics.patched_flight.fly_outbound`: EGM96 + Moon +
   Sun outside the lunar sphere of influence, GRGM1200A + Earth + Sun inside) to the periselene:
   B-plane (km) and epoch (s) residuals of the osculating state there (a trajectory through the
   Moon stops at the surface and is measured the same way, so the residuals stay continuous).

Corrections (:func:`correct`) are Powell's hybrid method with Broyden updates (scipy ``root``
"hybr", :mod:`guanghan.gnc.differential_correction`), polished by ``least_squares`` if needed, on
forward differences of absolute steps; every residual is a compiled DOP853 propagation
(:mod:`guanghan.dynamics.propagator`), a few ms each. Midcourse corrections re-target the same residuals (:mod:`guanghan.gnc.lunar_midcourse`).

Assumptions and limitations
    * The injection is at perigee (flight-path angle 0), impulsive in effect: the launch vehicle is
      not simulated, so its state is designed, not published.
    * The arrival inclination must be at least the declination of the approach asymptote over the
      lunar equator (InputError otherwise).
    * No SRP on the transfer (a few hundred metres at the Moon over 4.6 days for 20 m² on 8.2 t).

References
    Vallado, D. A., *Fundamentals of Astrodynamics and Applications* (4th ed., 2013), §6.4 (B-plane
    targeting, |B| = r_p sqrt(1 + 2μ/(r_p v∞²))) and §10.4 (differential correction); GMAT
    Mathematical Specification (R2020a), "Targeting the B-plane" (Differential Corrector, BdotT,
    BdotR targets); Bate, Mueller & White (1971), ch. 7 (lunar trajectories, patched conics);
    Curtis (2020), eqs. 3.14 and 3.40 (time from periapsis, elliptic and hyperbolic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from guanghan.dynamics import events as ev
from guanghan.dynamics.conics import b_plane_incoming, conic_periapsis, incoming_asymptote
from guanghan.dynamics.kepler import Elements, elements_to_state, kepler_universal
from guanghan.dynamics.patched_flight import Flight, PatchedModels, fly_outbound, integrate_to
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import ephemeris, frames, spice_kernels
from guanghan.environment.geodetic import EARTH_EQUATORIAL_RADIUS
from guanghan.errors import GuidanceFailure, InputError, PropagationError
from guanghan.gnc.differential_correction import solve_square

_AIM_LEAD_S = 12 * 3600.0        # step 2 aims this long before the periselene
_SOI_RADIUS_M = 66_000e3         # the lunar sphere of influence (Laplace), bounding an inbound arrival
TIME_UNIT_S = 10.0              # residual scale: 10 s of periselene epoch weigh as 1 km of B
#: forward-difference steps of the injection unknowns (Ω deg, ω deg, v_p m/s): ~0.1-1 km at the
#: Moon, far above the integration noise (metres at rtol 1e-11) and inside the linear range
_STEPS = (1e-5, 1e-5, 1e-4)


@dataclass(frozen=True)
class ArrivalTarget:
    """Periselene epoch (ET s), radius (m), inclination to the lunar equator (deg), hemisphere."""

    et: float
    radius_m: float
    inclination_deg: float
    hemisphere: str

    @property
    def pole(self) -> np.ndarray:
        """The lunar pole (MOON_ME z, J2000 components) at the periselene epoch."""
        return frames.rotation("MOON_ME", "J2000", [self.et])[0][:, 2]


@dataclass(frozen=True)
class InjectionGeometry:
    """Injection epoch (ET s), perigee radius (m), inclination (deg) to the Earth's true equator
    (ITRF93 axes frozen at the epoch), stack mass (kg)."""

    et: float
    perigee_radius_m: float
    inclination_deg: float
    mass_kg: float

    @property
    def to_j2000(self) -> np.ndarray:
        return frames.rotation("ITRF93", "J2000", [self.et])[0]

    def state(self, x) -> SpacecraftState:
        """Earth-centred J2000 perigee state of unknowns ``x = (Ω deg, ω deg, v_p m/s)``."""
        mu, rp = spice_kernels.gm("EARTH"), self.perigee_radius_m
        e = rp * x[2] ** 2 / mu - 1.0
        a = rp / (1.0 - e) if abs(1.0 - e) > 1e-12 else 1e30
        r, v = elements_to_state(mu, Elements(a, e, math.radians(self.inclination_deg),
                                              math.radians(x[0]), math.radians(x[1]), 0.0))
        rot = self.to_j2000
        return SpacecraftState(self.et, rot @ r, rot @ v, self.mass_kg, "J2000", "EARTH")


@dataclass(frozen=True)
class TransferDesign:
    """A designed transfer: unknowns, injection state, the osculating Moon-centred state at the
    periselene reached, the residuals there (km, km, s), the B-plane aimed at and reached (km),
    the launch site's angle from the orbit plane at launch and the in-plane angle from it to the
    injection (deg; None without a site)."""

    x: np.ndarray
    injection: SpacecraftState
    periselene: SpacecraftState
    residuals: np.ndarray
    b_target_km: np.ndarray
    b_reached_km: np.ndarray
    site_offset_deg: float | None
    site_downrange_deg: float | None = None


# --------------------------------------------------------------------------- B-plane aim


def _b_plane_angle(s_hat: np.ndarray, e: float, target: ArrivalTarget) -> float:
    """B-plane angle θ (rad) giving the inclination, on the side of the requested hemisphere."""
    pole = target.pole
    sin_beta = float(np.linalg.norm(np.cross(s_hat, pole)))
    c = math.cos(math.radians(target.inclination_deg)) / max(sin_beta, 1e-12)
    if abs(c) > 1.0:
        decl = 90.0 - math.degrees(math.asin(min(1.0, sin_beta)))
        raise InputError(f"an approach asymptote {decl:.2f} deg from the lunar equator cannot give an "
                         f"orbit inclined {target.inclination_deg} deg: the inclination must lie in "
                         f"[{decl:.2f}, {180 - decl:.2f}] deg on this date",
                         quantity="arrival.inclination_deg", value=target.inclination_deg)
    t_hat = np.cross(s_hat, pole) / sin_beta
    r_hat = np.cross(s_hat, t_hat)
    sin_nu = math.sqrt(max(0.0, 1.0 - 1.0 / e ** 2))

    def north(theta):                  # pole component of the periselene direction S/e + sin ν∞ B̂
        b_hat = math.cos(theta) * t_hat + math.sin(theta) * r_hat
        return float((s_hat / e + sin_nu * b_hat) @ pole)

    thetas = (math.acos(c), -math.acos(c))
    pick = max if target.hemisphere == "north" else min
    return pick(thetas, key=north)


def b_plane_aim(v_inf: np.ndarray, mu: float, target: ArrivalTarget) -> np.ndarray:
    """(B·T, B·R) (m) of the hyperbola with incoming v∞ vector ``v_inf`` (m/s) reaching the target
    periselene radius and inclination (Vallado §6.4)."""
    vinf = float(np.linalg.norm(v_inf))
    rp = target.radius_m
    e = 1.0 + rp * vinf ** 2 / mu
    theta = _b_plane_angle(v_inf / vinf, e, target)
    return rp * math.sqrt(1.0 + 2.0 * mu / (rp * vinf ** 2)) * np.array([math.cos(theta), math.sin(theta)])


def aim_hyperbola(v_inf: np.ndarray, mu: float, target: ArrivalTarget) -> tuple[np.ndarray, np.ndarray]:
    """Moon-centred periselene position (m) and velocity (m/s) of the aimed two-body hyperbola."""
    vinf = float(np.linalg.norm(v_inf))
    s_hat, rp, pole = v_inf / vinf, target.radius_m, target.pole
    e = 1.0 + rp * vinf ** 2 / mu
    theta = _b_plane_angle(s_hat, e, target)
    t_hat = np.cross(s_hat, pole)
    t_hat /= np.linalg.norm(t_hat)
    b_hat = math.cos(theta) * t_hat + math.sin(theta) * np.cross(s_hat, t_hat)
    p_hat = s_hat / e + math.sqrt(1.0 - 1.0 / e ** 2) * b_hat
    h_hat = np.cross(b_hat, s_hat)
    return rp * p_hat, math.sqrt(vinf ** 2 + 2.0 * mu / rp) * np.cross(h_hat, p_hat)


# --------------------------------------------------------------------------- the flight to the Moon


def periselene_stops(radius_m: float) -> list[ev.Detector]:
    """Terminal events of the Moon-centred leg: the periselene (r·v rising through 0) and the
    mean-sphere surface (``radius_m``)."""
    peri = ev.apsides()
    peri.rising, peri.falling, peri.terminal = "periselene", None, True
    return [peri, ev.altitude(0.0, radius_m, terminal=True, name="surface")]


def fly_to_periselene(state: SpacecraftState, models: PatchedModels, horizon_et: float,
                      burns=()) -> tuple[SpacecraftState, Flight]:
    """Fly ``state`` (Earth- or Moon-centred) to the periselene or the surface; GuidanceFailure if
    neither comes before ``horizon_et``."""
    radius = float(spice_kernels.radii("MOON").mean())
    try:
        flight = fly_outbound(state, horizon_et, models, burns, periselene_stops(radius))
    except PropagationError as exc:
        raise GuidanceFailure("earth_moon_transfer", str(exc)) from None
    if flight.stop is None:
        end = flight.final_state.recentered("MOON")
        raise GuidanceFailure("earth_moon_transfer", f"no lunar periselene before "
                              f"{spice_kernels.et_to_utc(horizon_et, 0)}: the trajectory ends "
                              f"{np.linalg.norm(end.r) / 1e3:.0f} km from the Moon")
    y = flight.stop.state
    return SpacecraftState.from_vector(flight.stop.et, y, body="MOON"), flight


def arrival_residuals(peri: SpacecraftState, mu: float, target: ArrivalTarget) -> np.ndarray:
    """B-plane (km) and periselene-epoch (in units of 10 s) misses of the osculating Moon-centred
    state ``peri`` (at the periselene, or where the trajectory meets the surface)."""
    b = b_plane_incoming(peri, mu, target.pole)
    aim = b_plane_aim(incoming_asymptote(peri, mu), mu, target)
    t_p = conic_periapsis(peri, mu)[1]
    return np.append((b - aim) / 1e3, (t_p - target.et) / TIME_UNIT_S)


# --------------------------------------------------------------------------- design


def correct(fun, n: int, steps, max_nfev: int, accept: float = 1e-5):
    """The corrections (from zero) zeroing the square system ``fun``
    (:func:`~guanghan.gnc.differential_correction.solve_square`: hybrid method, ``least_squares``
    to polish a largest residual above ``accept``, 1e-5 = 1 cm of B-plane, 0.1 ms of epoch) on
    forward differences of ABSOLUTE ``steps``, ending at the first point within ``accept``."""
    steps = np.asarray(steps, float)
    return solve_square(fun, np.zeros(n), steps, max_nfev, accept, stop=accept, x_scale=steps, xtol=1e-12,
                        ftol=1e-12)


def _time_to_radius(rp: float, vp: float, r: float, mu: float, inbound: bool = False) -> float:
    """Time (s) from perigee to radius ``r`` outbound (``inbound``: after the apogee, one period
    less the outbound time) on the conic of perigee (rp, vp); inf if the conic never gets there
    (Curtis eqs. 3.14, 3.40)."""
    e = rp * vp ** 2 / mu - 1.0
    p = rp * (1.0 + e)
    c = (p / r - 1.0) / e
    if c < -1.0:
        return math.inf
    nu = math.acos(min(1.0, c))
    if e < 1.0:
        a = p / (1.0 - e * e)
        big_e = 2.0 * math.atan(math.sqrt((1 - e) / (1 + e)) * math.tan(nu / 2.0))
        t_out = math.sqrt(a ** 3 / mu) * (big_e - e * math.sin(big_e))
        return 2.0 * math.pi * math.sqrt(a ** 3 / mu) - t_out if inbound else t_out
    a = p / (e * e - 1.0)
    f = 2.0 * math.atanh(math.sqrt((e - 1) / (e + 1)) * math.tan(nu / 2.0))
    return math.sqrt(a ** 3 / mu) * (e * math.sinh(f) - f)


def conic_guesses(geom: InjectionGeometry, target: ArrivalTarget) -> list[np.ndarray]:
    """Unknowns of the two patched-conic transfers (Earth point mass) from the perigee to the
    Moon's centre at the periselene epoch, one per plane through the Moon with the inclination.
    InputError if the flight time is out of reach of a direct transfer from this perigee."""
    mu, rp = spice_kernels.gm("EARTH"), geom.perigee_radius_m
    rot = geom.to_j2000
    moon = rot.T @ ephemeris.state("MOON", "EARTH", [target.et])[0][:3]   # true-equator axes
    r_m = float(np.linalg.norm(moon))
    u = moon / r_m
    tof = target.et - geom.et
    v_lo = math.sqrt(2.0 * mu * r_m / (rp * (rp + r_m))) * (1.0 + 1e-9)   # apogee at the Moon
    v_hi = math.sqrt(2.0 * mu / rp) + 4000.0
    r_top = r_m + _SOI_RADIUS_M
    v_top = math.sqrt(2.0 * mu * r_top / (rp * (rp + r_top)))          # apogee an SOI beyond
    t_lo, t_hi = _time_to_radius(rp, v_lo, r_m, mu), _time_to_radius(rp, v_hi, r_m, mu)
    t_top = _time_to_radius(rp, v_top, r_m, mu, inbound=True)
    if not t_hi < tof < t_top:
        perigee_km = (rp - EARTH_EQUATORIAL_RADIUS) / 1e3
        raise InputError(f"a direct transfer from a {perigee_km:.0f} km perigee reaches the "
                         f"Moon's distance ({r_m / 1e3:,.0f} km) between {t_hi / 3600:.1f} h (perigee "
                         f"speed {v_hi:.0f} m/s) and {t_top / 3600:.1f} h (inbound from an apogee "
                         f"{_SOI_RADIUS_M / 1e3:,.0f} km beyond the Moon) after injection; the first "
                         f"LOI burn asks for an arrival {tof / 3600:.1f} h after it",
                         quantity="loi[0].utc", value=spice_kernels.et_to_utc(target.et, 0))
    inbound = tof > t_lo
    vp = brentq(lambda v: _time_to_radius(rp, v, r_m, mu, inbound) - tof, v_lo,
                v_top if inbound else v_hi, xtol=1e-9)
    e = rp * vp ** 2 / mu - 1.0
    nu = math.acos((rp * (1.0 + e) / r_m - 1.0) / e) * (-1.0 if inbound else 1.0)
    pole = np.array([0.0, 0.0, 1.0])
    d = float(pole @ u)
    c1 = math.cos(math.radians(geom.inclination_deg)) / (1.0 - d * d)
    c3sq = 1.0 - c1 * c1 * (1.0 - d * d)
    if c3sq < 0.0:
        raise InputError(f"the Moon is {math.degrees(math.asin(abs(d))):.2f} deg from the Earth's equator at "
                         f"arrival: a transfer plane inclined {geom.inclination_deg} deg cannot reach it",
                         quantity="injection.inclination_deg", value=geom.inclination_deg)
    w = np.cross(pole, u) / math.sqrt(1.0 - d * d)
    guesses = []
    for sign in (1.0, -1.0):
        n = c1 * pole - c1 * d * u + sign * math.sqrt(c3sq) * w
        n /= np.linalg.norm(n)
        r_hat = math.cos(nu) * u - math.sin(nu) * np.cross(n, u)       # u turned back by ν about n
        node = np.cross(pole, n)
        raan = math.atan2(node[1], node[0])
        node /= np.linalg.norm(node)
        argp = math.atan2(r_hat @ np.cross(n, node), r_hat @ node)
        guesses.append(np.array([math.degrees(raan), math.degrees(argp), vp]))
    return guesses


def _site_downrange_deg(state: SpacecraftState, site_j2000: np.ndarray | None) -> float | None:
    """Angle (deg, 0-360, in the direction of motion) from the launch site at launch, projected on
    the orbit plane, to the injection point: the arc the ascent would have to fly."""
    if site_j2000 is None:
        return None
    n = np.cross(state.r, state.v)
    n /= np.linalg.norm(n)
    s = site_j2000 - (site_j2000 @ n) * n
    return math.degrees(math.atan2(np.cross(s, state.r) @ n, s @ state.r)) % 360.0


def _site_offset_deg(state: SpacecraftState, site_j2000: np.ndarray | None) -> float | None:
    if site_j2000 is None:
        return None
    n = np.cross(state.r, state.v)
    sin_offset = abs(float(n @ site_j2000)) / (np.linalg.norm(n) * np.linalg.norm(site_j2000))
    return math.degrees(math.asin(sin_offset))


def conic_arrival_speed(geom: InjectionGeometry, x, target: ArrivalTarget) -> float:
    """Speed (m/s) relative to the Moon at the arrival epoch on the Earth conic of unknowns ``x``."""
    s = geom.state(x)
    r, v = kepler_universal(s.r, s.v, target.et - geom.et, spice_kernels.gm("EARTH"))
    moon = ephemeris.state("MOON", "EARTH", [target.et])[0]
    return float(np.linalg.norm(v - moon[3:]))


def design_transfer(geom: InjectionGeometry, target: ArrivalTarget, models: PatchedModels,
                    site_j2000: np.ndarray | None = None, x_guess=None,
                    tolerance=(0.05, 0.5)) -> TransferDesign:
    """The injection reaching ``target`` (steps 1–3 of the module docstring); from ``x_guess``
    (unknowns of an earlier design) only step 3. GuidanceFailure if step 3 leaves a B-plane miss
    above ``tolerance[0]`` km or an epoch miss above ``tolerance[1]`` s."""
    mu_moon = models.moon.central.mu
    horizon = target.et + 2 * 86400.0
    if x_guess is None:
        cands = conic_guesses(geom, target)
        if site_j2000 is not None:
            x = min(cands, key=lambda c: _site_offset_deg(geom.state(c), site_j2000))
        else:
            x = min(cands, key=lambda c: conic_arrival_speed(geom, c, target))
        t_aim = target.et - _AIM_LEAD_S
        s0 = geom.state(x)
        r1, v1 = kepler_universal(s0.r, s0.v, target.et - geom.et, spice_kernels.gm("EARTH"))
        moon = ephemeris.state("MOON", "EARTH", [target.et])[0]
        rp_vec, vp_vec = aim_hyperbola(v1 - moon[3:], mu_moon, target)
        r_aim, _ = kepler_universal(rp_vec, vp_vec, -_AIM_LEAD_S, mu_moon)

        def fun_aim(z):
            s = integrate_to(models.earth, geom.state(x + z), t_aim).recentered("MOON")
            return (s.r - r_aim) / 1e3

        x = x + correct(fun_aim, 3, _STEPS, 60)
    else:
        x = np.asarray(x_guess, float)

    def fun(z):
        try:
            peri, _ = fly_to_periselene(geom.state(x + z), models, horizon)
        except GuidanceFailure:
            return np.full(3, 1e6)
        return arrival_residuals(peri, mu_moon, target)

    x = x + correct(fun, 3, _STEPS, 60)
    injection = geom.state(x)
    peri, _ = fly_to_periselene(injection, models, horizon)
    res = arrival_residuals(peri, mu_moon, target)
    if np.hypot(res[0], res[1]) > tolerance[0] or abs(res[2]) * TIME_UNIT_S > tolerance[1]:
        raise GuidanceFailure("earth_moon_transfer", f"the B-plane targeting did not converge: miss "
                              f"{np.hypot(res[0], res[1]):.3f} km in the B-plane and "
                              f"{res[2] * TIME_UNIT_S:.2f} s in the periselene epoch")
    b = b_plane_incoming(peri, mu_moon, target.pole) / 1e3
    return TransferDesign(x, injection, peri, res * np.array([1.0, 1.0, TIME_UNIT_S]),
                          b - res[:2], b, _site_offset_deg(injection, site_j2000),
                          _site_downrange_deg(injection, site_j2000))

