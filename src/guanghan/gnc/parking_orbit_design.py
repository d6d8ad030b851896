"""Design of the lunar parking orbit from which a return at the published TEI epochs works.

The post-docking orbit of a sample return is an input not always published (Chang'e-5). Working
backwards from the entry interface, :func:`design_parking` builds a circular orbit of a requested
altitude (and, optionally, inclination to the lunar equator) from which TEI-1 and TEI-2 at their
epochs reach the EI target: the departure hyperbola's periapsis at the middle of TEI-2
(:func:`guanghan.gnc.departure_design.departure`), the pre-TEI-2 ellipse of period (TEI-2 middle −
TEI-1 middle) through it with a periapsis at the middle of TEI-1 too, made circular there
(impulsive TEI-1). Free parameters: the rotation θ of the departure plane about the outgoing
asymptote, and the TEI-2 periapsis altitude when an inclination is requested.

Assumptions and limitations
    Impulsive TEI-1 in the design (the flown TEI-1 is a finite burn solved later); the circular
    orbit is osculating at TEI-1's middle. Altitudes over the mean sphere.

References
    Vallado, *Fundamentals of Astrodynamics and Applications* (4th ed.), §6.4 (B-plane); Brent's
    method (scipy ``brentq``) for the plane angle; trust-region least squares for θ and the TEI-2
    altitude together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydantic import Field
from scipy.optimize import brentq, least_squares, root_scalar

from guanghan.config_model import ConfigModel
from guanghan.dynamics.patched_flight import PatchedModels, integrate_to
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import frames, spice_kernels
from guanghan.errors import GuidanceFailure, InputError
from guanghan.gnc import departure_design as dd
from guanghan.gnc.return_plan import ReturnProblem


class ParkingOrbit(ConfigModel):
    """A circular lunar orbit designed so that TEI at the published epochs reaches the target."""

    altitude_km: float = Field(ge=20, le=5000, description=(
        "a designed parking orbit of 20 to 5,000 km (below 20 km it meets the terrain)"))
    inclination_deg: float | None = Field(default=None, ge=0, le=180)   # to the lunar equator
    lead_s: float = Field(default=600.0, gt=0, le=86_400.0)   # the leg starts this long before TEI-1


@dataclass(frozen=True)
class ParkingDesign:
    """A designed parking orbit: circular state at the middle of TEI-1 (Moon-centred J2000), its
    altitude over the mean sphere (km) and inclination to the lunar equator (deg, MOON_ME), the
    TEI-2 periapsis altitude (km) and B-plane angle (deg) of the departure it leads to."""

    circular: SpacecraftState
    altitude_km: float
    inclination_deg: float
    tei2_altitude_km: float
    b_plane_angle_deg: float
    departure: dd.Departure


def inclination_deg(state: SpacecraftState) -> float:
    """Inclination (deg) of the inertial orbit plane of a Moon-centred J2000 state to the lunar
    equator (MOON_ME axes at the state's epoch)."""
    h = frames.rotation("J2000", "MOON_ME", [state.et])[0] @ np.cross(state.r, state.v)
    return math.degrees(math.acos(float(np.clip(h[2] / np.linalg.norm(h), -1.0, 1.0))))


def _parking(cfg: ReturnProblem, models: PatchedModels, tei2_altitude_km: float,
             b_plane_angle_deg: float | None, x_guess=None) -> ParkingDesign:
    """Backwards from the EI: departure hyperbola periapsis at the middle of TEI-2
    (:func:`~guanghan.gnc.return_targeting.departure`); the pre-TEI-2 ellipse of period (TEI-2
    middle − TEI-1 middle) through that point, with the speed making it a periapsis at the
    middle of TEI-1 too; made circular there (impulsive TEI-1)."""
    mu = models.moon.central.mu
    t_p, t_1 = _tei_middles(cfg)
    dep = dd.departure(cfg.entry_target(), t_p, tei2_altitude_km * 1e3, models,
                       cfg.mid_downrange_km,
                       b_plane_angle_deg=b_plane_angle_deg, x_guess=x_guess)
    r_p, v_h = dep.r_moon_j2000, dep.v_moon_j2000
    a = (mu * ((t_p - t_1) / (2 * math.pi)) ** 2) ** (1.0 / 3.0)
    mass = cfg.stack_mass_kg

    def at_t1(v_e):
        return integrate_to(models.moon, SpacecraftState(t_p, r_p, v_h / np.linalg.norm(v_h) * v_e, mass), t_1)

    def radial_speed(v_e):            # the perturbed ellipse must be at periapsis at t_1 too
        s = at_t1(v_e)
        return s.r @ s.v / np.linalg.norm(s.r)

    v_kepler = math.sqrt(mu * (2.0 / np.linalg.norm(r_p) - 1.0 / a))
    sol = root_scalar(radial_speed, x0=v_kepler, x1=v_kepler - 1.0, method="secant", xtol=1e-6)
    v_e = sol.root
    if not sol.converged or abs(v_e - v_kepler) > 30.0:       # secant left the basin: bracket it
        grid = v_kepler + np.arange(-30.0, 30.1, 2.0)
        vals = [radial_speed(v) for v in grid]
        pairs = [(a, b) for a, b, fa, fb in zip(grid, grid[1:], vals, vals[1:]) if fa < 0 < fb]
        if not pairs:
            raise GuidanceFailure("trans_earth_design", f"no pre-TEI-2 ellipse through the {tei2_altitude_km:.0f}"
                                  f" km periapsis returns to periapsis at the middle of TEI-1")
        v_e = brentq(radial_speed, *min(pairs, key=lambda ab: abs(ab[0] - v_kepler)), xtol=1e-6)
    s1 = at_t1(v_e)
    r_hat = s1.r / np.linalg.norm(s1.r)
    horiz = s1.v - (s1.v @ r_hat) * r_hat
    circ = SpacecraftState(t_1, s1.r, horiz / np.linalg.norm(horiz) * math.sqrt(mu / np.linalg.norm(s1.r)), mass)
    return ParkingDesign(circ, (np.linalg.norm(s1.r) - moon_radius()) / 1e3, inclination_deg(circ),
                         tei2_altitude_km, dep.b_plane_angle_deg, dep)


def moon_radius() -> float:
    return float(spice_kernels.radii("MOON").mean())


def _tei_middles(cfg: ReturnProblem) -> tuple[float, float]:
    """Planned middles (ET s) of TEI-2 and TEI-1, from the epochs and the duration guesses."""
    return (cfg.tei2_et + 0.5 * cfg.plan.tei_2.duration_guess_s,
            cfg.tei1_et + 0.5 * cfg.plan.tei_1.duration_guess_s)


class _PlaneScan:
    """Parking designs over the rotation θ of the departure plane about its asymptote, each solved
    from the design at the nearest θ already known (continuation)."""

    def __init__(self, cfg: ReturnProblem, models: PatchedModels):
        self.cfg, self.models = cfg, models
        self.natural = _parking(cfg, models, cfg.plan.tei2_periapsis_altitude_km, None)
        self.known = {(cfg.plan.tei2_periapsis_altitude_km, self.natural.b_plane_angle_deg): self.natural}

    def at(self, theta_deg: float, tei2_altitude_km: float | None = None) -> ParkingDesign:
        h2 = self.cfg.plan.tei2_periapsis_altitude_km if tei2_altitude_km is None else tei2_altitude_km
        near = min(self.known, key=lambda k: abs(math.remainder(k[1] - theta_deg, 360.0)) + abs(k[0] - h2))
        p = _parking(self.cfg, self.models, h2, theta_deg, self.known[near].departure.x)
        self.known[(h2, theta_deg)] = p
        return p

    def ring(self, step_deg: float = 30.0) -> list[ParkingDesign]:
        """Designs at θ natural + k·step, k = 0 … (360/step − 1), then back to the start."""
        t0 = self.natural.b_plane_angle_deg
        return [self.natural] + [self.at(t0 + k * step_deg) for k in range(1, round(360 / step_deg))]

    def root(self, f, lo: ParkingDesign, hi_theta: float, h2: float | None = None) -> ParkingDesign:
        """θ in (lo, hi_theta) where f(design) = 0 (Brent), the designs solved by continuation."""
        theta = brentq(lambda t: f(self.at(t, h2)), lo.b_plane_angle_deg, hi_theta, xtol=1e-3)
        return self.at(theta, h2)


def _brackets(ring: list[ParkingDesign], f) -> list[tuple[ParkingDesign, float]]:
    """Consecutive ring designs (cyclic) between which f changes sign: (design, next θ unwrapped)."""
    out = []
    for a, b in zip(ring, ring[1:] + ring[:1]):
        if f(a) * f(b) <= 0:
            t1 = a.b_plane_angle_deg + (b.b_plane_angle_deg - a.b_plane_angle_deg) % 360.0
            out.append((a, t1))
    return out


def design_parking(cfg: ReturnProblem, *, altitude_km: float = 200.0,
                   inclination_deg: float | None = None) -> ParkingDesign:
    """A circular parking orbit of mean altitude ``altitude_km`` at TEI-1 from which the published
    TEI epochs reach the EI target (see :func:`_parking` for the backward construction).

    Free parameters: the rotation θ of the departure plane about the outgoing asymptote and the
    TEI-2 periapsis altitude. Without ``inclination_deg`` the TEI-2 altitude is held at
    ``cfg.plan.tei2_periapsis_altitude_km`` and θ solved (Brent) for the parking altitude (the root
    nearest the plane the EI geometry gives by itself); with it, θ and the TEI-2 altitude are
    solved together (trust-region least squares, 1 km and 0.01°) from the θ-scan root whose
    altitude is nearest the request. ScenarioError (field ``altitude_km`` or ``inclination_deg``)
    with the reachable range when no θ meets the request.
    """
    if not 20.0 <= altitude_km <= 5000.0:
        raise InputError("must be in [20, 5000] km", quantity="altitude_km", value=altitude_km)
    if inclination_deg is not None and not 0.0 <= inclination_deg <= 180.0:
        raise InputError("must be in [0, 180] deg", quantity="inclination_deg", value=inclination_deg)
    scan = _PlaneScan(cfg, cfg.models())
    ring = scan.ring()
    alt = lambda p: p.altitude_km - altitude_km
    if inclination_deg is None:
        found = _brackets(ring, alt)
        if not found:
            raise InputError(
                f"no parking orbit of that altitude leads to TEI-2 at {cfg.plan.tei2_periapsis_altitude_km} km: "
                f"turning the departure plane reaches {min(p.altitude_km for p in ring):.0f}–"
                f"{max(p.altitude_km for p in ring):.0f} km (give inclination_deg to free the TEI-2 altitude)",
                quantity="altitude_km", value=altitude_km)
        t0 = scan.natural.b_plane_angle_deg
        lo, hi = min(found, key=lambda b: abs(math.remainder(b[0].b_plane_angle_deg + 15.0 - t0, 360.0)))
        return scan.root(alt, lo, hi)
    inc = lambda p: p.inclination_deg - inclination_deg
    found = _brackets(ring, inc)
    if not found:
        incs = [p.inclination_deg for p in ring]
        raise InputError(f"the departure planes through the EI target reach {min(incs):.1f}–"
                         f"{max(incs):.1f} deg", quantity="inclination_deg", value=inclination_deg)
    lo, hi = min(found, key=lambda b: abs(alt(b[0])))
    p = scan.root(inc, lo, hi)

    def fun(z):
        q = scan.at(z[1], z[0])
        return np.array([alt(q), inc(q) / 0.01])

    sol = least_squares(fun, [p.tei2_altitude_km - alt(p), p.b_plane_angle_deg], x_scale=[10.0, 1.0],
                        diff_step=[1e-4, 1e-4], bounds=([20.0, -np.inf], [5000.0, np.inf]), max_nfev=30)
    best = scan.at(sol.x[1], sol.x[0])
    if abs(alt(best)) > 1.0 or abs(inc(best)) > 0.01:
        raise InputError(f"no TEI-2 periapsis altitude in 20–5000 km gives it at {inclination_deg} deg "
                            f"(closest {best.altitude_km:.1f} km, {best.inclination_deg:.3f} deg)",
                            quantity="altitude_km", value=altitude_km)
    return best


def design_parking_orbit(cfg: ReturnProblem, lead_s: float = 600.0, *, altitude_km: float = 200.0,
                         inclination_deg: float | None = None) -> SpacecraftState:
    """The designed parking orbit (:func:`design_parking`) as the Moon-centred J2000 state
    ``lead_s`` (s) before TEI-1 (mass orbiter + returner)."""
    design = design_parking(cfg, altitude_km=altitude_km, inclination_deg=inclination_deg)
    return integrate_to(cfg.models().moon, design.circular, cfg.tei1_et - lead_s)
