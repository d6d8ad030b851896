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
The preliminary design (the departure hyperbola TEI-2 aims at) is :mod:`guanghan.gnc.departure_design`;
the flight chain is :mod:`guanghan.dynamics.patched_flight`; the EI geometry is
:mod:`guanghan.gnc.entry_target`.

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
from dataclasses import replace

import numpy as np
from scipy.optimize import brentq, least_squares

from guanghan.dynamics import events as ev
from guanghan.dynamics import patched_flight
from guanghan.dynamics.conics import asymptote
from guanghan.dynamics.forces import FiniteBurn
from guanghan.dynamics.local_frames import direction_from_angles, vnb_axes
from guanghan.dynamics.patched_flight import CISLUNAR_TOLERANCES as RETURN_TOLERANCES
from guanghan.dynamics.patched_flight import Flight, PatchedModels, geodetic_altitude
from guanghan.dynamics.propagator import propagate
from guanghan.dynamics.propulsion import Engine, burn_duration
from guanghan.dynamics.state import SpacecraftState
from guanghan.errors import GuidanceFailure, PropagationError
from guanghan.gnc.departure_design import Departure
from guanghan.gnc.differential_correction import forward_jacobian, remember_last, solve_square
from guanghan.gnc.entry_target import EntryGeometry, EntryTarget, entry_geometry, entry_residuals

#: A midcourse correction's first stage (aim at the planned EI point, km) ends within 1 m of it: it
#: only brings a trajectory that misses the Earth into the second stage's reach.
MCC_AIM_STOP_KM = 1e-3
#: Its second stage ends at EI residuals (:func:`entry_residuals`, soft=False) all ≤ 1e-4 of their
#: units: FPA 1e-7°, crossrange 1 cm, epoch 0.1 ms, far inside the 1e-3°, 50 m, 1 s deadband.
MCC_STOP = 1e-4

__all__ = ["RETURN_TOLERANCES", "fly", "predict_entry", "solve_tei1", "tei2_burn", "tei2_scale",
           "solve_tei2", "mcc_burn", "solve_mcc", "entry_residuals", "EntryTarget", "EntryGeometry"]


def fly(state: SpacecraftState, end_et: float, models: PatchedModels, burns=(),
        stop: ev.Detector | None = None) -> Flight:
    """:func:`guanghan.dynamics.patched_flight.fly`, a propagation failure reported as the
    return's GuidanceFailure (the targeting treats it as an unreachable trial)."""
    try:
        return patched_flight.fly(state, end_et, models, burns, stop)
    except PropagationError as exc:
        raise GuidanceFailure("trans_earth", str(exc)) from None


def predict_entry(state: SpacecraftState, models: PatchedModels, burns, target: EntryTarget,
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


def solve_tei1(state: SpacecraftState, start_et: float, engine: Engine, duration_guess_s: float,
               periapsis_et: float, models: PatchedModels) -> tuple[float, float]:
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


def tei2_scale(state: SpacecraftState, engine: Engine, x) -> np.ndarray:
    """Δv-equivalent size (m/s) of a unit change of each TEI-2 unknown (duration min, pitch deg,
    yaw deg) at ``x``: a/min = F/m·60 s; a degree of attitude turns the burn's Δv by π/180."""
    accel = engine.total_thrust_n / state.mass
    dv = accel * float(x[0]) * 60.0
    return np.array([accel * 60.0, dv * math.pi / 180.0, dv * math.pi / 180.0])


def solve_tei2(state: SpacecraftState, engine: Engine, x0, target: EntryTarget, models: PatchedModels,
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
        return _least_squares(fun, x, jac_step, x_scale=scale, xtol=1e-12, ftol=1e-12,
                              max_nfev=nfev)

    misses = {}
    if aim is not None:
        t_chk = aim.et + 4 * 3600.0
        ref = propagate(SpacecraftState(aim.et, aim.r_moon_j2000, aim.v_moon_j2000, state.mass), t_chk,
                        models.moon, models.tolerances).final_state
        vinf_aim = asymptote(ref, models.moon.central.mu)

        def fun_a(x):
            try:
                v_inf = asymptote(flown(x, t_chk).recentered("MOON"), models.moon.central.mu)
                return (v_inf - vinf_aim) / 1e-2
            except GuidanceFailure:             # a trial into the Moon: a large miss, the step refused
                return np.full(3, 1e6)

        def fun_b(x):
            try:
                return (flown(x, target.et).recentered("EARTH").r - aim.r_ei_j2000) / 1e3
            except GuidanceFailure:
                return np.full(3, 1e6)

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


def _least_squares(fun, x, step, **options):
    """``least_squares`` on ``fun`` with the forward-difference Jacobian of absolute ``step``."""
    fun = remember_last(fun)
    return least_squares(fun, x, jac=forward_jacobian(fun, step), **options)


def solve_mcc(state: SpacecraftState, engine: Engine, target: EntryTarget, models: PatchedModels,
              aim_r_j2000=None, tolerance=(1e-3, 0.05, 1.0)) -> tuple[FiniteBurn | None, np.ndarray, EntryGeometry]:
    """Midcourse Δv (J2000, m/s) re-targeting FPA, crossrange and the EI epoch ``target.et``.

    No burn if the predicted misses are inside ``tolerance`` (deg, km, s) already. If the coast
    misses the Earth (a TEI error of 1 m/s moves the perigee by ~10³ km), stage 1 first aims the
    Earth-centred position at ``target.et`` at the planned EI point ``aim_r_j2000`` (m; a smooth
    Lambert-like problem, 1 km), then stage 2 solves the EI residuals. Both are square systems
    solved by the hybrid method (:func:`~guanghan.gnc.differential_correction.solve_square`),
    ending at :data:`MCC_AIM_STOP_KM` and :data:`MCC_STOP`.
    """
    def burns(dv):
        burn = mcc_burn(state, engine, dv)
        return [burn] if burn else []

    def fun(dv):
        try:
            geo, _ = predict_entry(state, models, burns(dv), target)
        except GuidanceFailure:                 # a trial that misses the Earth: a large residual
            return np.full(3, 1e6)
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
        x = solve_square(fun_aim, x, 1e-2, 60, accept=MCC_AIM_STOP_KM, stop=MCC_AIM_STOP_KM,
                         xtol=1e-10, ftol=1e-10)
    x = solve_square(fun, x, 1e-2, 100, accept=MCC_STOP, stop=MCC_STOP, xtol=1e-10, ftol=1e-10)
    burn = mcc_burn(state, engine, x)
    geo, _ = predict_entry(state, models, [burn] if burn else [], target)
    return burn, x, geo
