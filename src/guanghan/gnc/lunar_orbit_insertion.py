"""Lunar orbit insertion (LOI) as finite burns: the impulsive estimate and the solved burn.

Each LOI burn fires the stack's engine against the velocity (velocity-tracking, retrograde) from a
fixed ignition epoch; its duration is solved on the Moon-centred full model (GRGM1200A + Earth +
Sun) for one aim of the orbit it leaves:

* ``revolutions`` N — the N-th periselene after the burn falls at the middle of the next burn
  (the capture ellipse of a mission that brakes again at periselene a set time later);
* ``apoapsis`` — the highest altitude over the first revolution after the burn (km over the
  mean sphere);
* ``mean`` — the mean altitude over the first revolution (a near-circular final orbit).

The miss decreases as the burn lengthens (less energy left), so a bracket and Brent's method
(scipy ``brentq``) solve it, as the TEI-1 duration is solved on the way back
(:func:`guanghan.gnc.return_targeting.solve_tei1`). The impulsive estimate of the whole sequence
(:func:`impulsive_sequence`) gives each burn's first guess and the middle of the first burn, the
epoch at which the transfer aims its periselene.

Assumptions and limitations
    * Burns are flown along −v (the engine's thrust and Isp constant, no cant losses); the burn is
      only as efficient as its centring on the periselene (the gravity loss is reported). A
      ``revolutions`` burn puts the periselene at the middle of the next burn's impulsive
      estimate. With one unknown (the duration) a long burn from an eccentric capture orbit into a
      near-circular one keeps some eccentricity: Chang'e-5's LOI-2 (~15 min, ~400 m/s from
      ~200 × 5,500 km) leaves ~150 × 250 km for a 200 km mean altitude, and no timing of it about
      the periselene does better than ~95 km of spread (measured: ±2 min of ignition move it from
      ~150 × 250 to ~60 × 330 km); a steering programme (pitch) would be needed.
    * A burn may last at most as long as its module's propellant, and at most ``MAX_BURN_S``; a
      burn that cannot reach its aim in that time raises InputError naming the engine, the stack
      mass and the Δv needed (an engine too weak to capture).

References
    Curtis, *Orbital Mechanics for Engineering Students* (3rd ed.), §6.2 (impulsive manoeuvres,
    vis-viva) and eq. 11.30 (Tsiolkovsky); Robbins, H. M. (1966), "An analytical study of the
    impulsive approximation", AIAA J. 4(8) (finite-burn gravity losses); Brent (1973), ch. 4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import brentq, minimize_scalar, root_scalar

from guanghan.dynamics import events as ev
from guanghan.dynamics.forces import FiniteBurn
from guanghan.dynamics.patched_flight import PatchedModels
from guanghan.dynamics.propagator import propagate
from guanghan.dynamics.propulsion import Engine, burn_duration
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import spice_kernels
from guanghan.errors import InputError, PropagationError

MAX_BURN_S = 4 * 3600.0          # s: the longest LOI burn tried (a capture burn lasts ~10-30 min)
_TOO_HIGH = 1e9                  # miss of an orbit that is not (yet) captured


@dataclass(frozen=True)
class LoiAim:
    """What a burn aims at: ``kind`` "revolutions" (``value`` N, ``next_mid_et`` the next burn's
    middle, ET s), "apoapsis" or "mean" (``value`` altitude, m over the mean sphere)."""

    kind: str
    value: float
    next_mid_et: float | None = None


@dataclass(frozen=True)
class SolvedLoi:
    """A solved LOI burn kept to fly again (``--design-from``): the flown state at ignition it was
    solved from, the burn, and the steering objective with and without the pitch programme (m;
    None for a burn along −v). Flown again only from a state :meth:`SpacecraftState.close_to` it."""

    start: SpacecraftState
    burn: FiniteBurn
    steered_m: float | None = None
    plain_m: float | None = None


def moon_radius() -> float:
    return float(spice_kernels.radii("MOON").mean())


def _semi_major_axis(aim: LoiAim, rp: float, mid_et: float, mu: float) -> float:
    """Semi-major axis (m) of the orbit ``aim`` asks for, for a burn at periselene radius ``rp``."""
    if aim.kind == "revolutions":
        period = (aim.next_mid_et - mid_et) / aim.value
        return (mu * (period / (2.0 * math.pi)) ** 2) ** (1.0 / 3.0)
    if aim.kind == "apoapsis":
        return 0.5 * (rp + moon_radius() + aim.value)
    return moon_radius() + aim.value


def impulsive_sequence(mu: float, rp: float, v_inf: float, ignitions: list[float], aims: list[LoiAim],
                       engines: list[Engine], mass_kg: float) -> list[tuple[float, float]]:
    """(Δv m/s, duration s) of each burn made impulsively at periselene radius ``rp`` (m), arriving
    at ``v_inf`` (m/s): vis-viva before and after (Curtis §6.2), durations by Tsiolkovsky from the
    stack mass; a ``revolutions`` aim uses the next burn's estimated middle (fixed-point, 5 rounds)."""
    durations = [0.0] * len(aims)
    out = []
    for _ in range(5):
        v_before, mass, out = math.sqrt(v_inf ** 2 + 2.0 * mu / rp), mass_kg, []
        mids = [t + 0.5 * d for t, d in zip(ignitions, durations, strict=True)]
        for k, (aim, eng) in enumerate(zip(aims, engines, strict=True)):
            if aim.kind == "revolutions":
                aim = replace(aim, next_mid_et=mids[k + 1])
            a = _semi_major_axis(aim, rp, mids[k], mu)
            v_after = math.sqrt(max(0.0, mu * (2.0 / rp - 1.0 / a))) if a > 0 else v_before
            dv = max(0.0, v_before - v_after)
            d = burn_duration(mass, dv, eng.total_thrust_n, eng.isp_s)
            mass -= d * eng.mass_flow_kg_s
            out.append((dv, d))
            v_before = v_after
        durations = [d for _, d in out]
    return out


def _one_revolution(state: SpacecraftState, burn: FiniteBurn, models: PatchedModels):
    """Altitudes (m over the mean sphere) over the first revolution after ``burn``; "unbound" if the
    orbit it leaves escapes (or has a period above 30 days), "impact" if its periapsis is below the
    mean sphere."""
    mu = models.moon.central.mu
    try:
        end = propagate(state, burn.end_et, replace(models.moon, burns=[burn]), models.tolerances).final_state
    except PropagationError:
        return "impact"
    energy = 0.5 * end.v @ end.v - mu / np.linalg.norm(end.r)
    if energy >= 0.0:
        return "unbound"
    a = -mu / (2.0 * energy)
    period = 2.0 * math.pi * math.sqrt(a ** 3 / mu)
    if period > 30 * 86400.0:
        return "unbound"
    e = np.linalg.norm(((end.v @ end.v - mu / np.linalg.norm(end.r)) * end.r - (end.r @ end.v) * end.v) / mu)
    if a * (1.0 - e) <= moon_radius():
        return "impact"
    try:
        traj = propagate(end, end.et + period, models.moon, models.tolerances).trajectory
    except PropagationError:
        return "impact"
    ets = np.linspace(end.et, end.et + period, 721)
    return np.linalg.norm(traj.states(ets)[:, :3], axis=1) - moon_radius()


def loi_burn(state: SpacecraftState, engine: Engine, duration_s: float,
             pitch: tuple[float, float] | None = None) -> FiniteBurn:
    """The burn from ``state``'s epoch: along −v, or with ``pitch`` = (θ0 rad, θ̇ rad/s) the linear
    pitch programme θ = θ0 + θ̇ (t − t_mid) toward the local up (:class:`FiniteBurn`
    "retrograde_pitch")."""
    if pitch is None:
        return FiniteBurn(state.et, float(duration_s), engine.total_thrust_n, engine.isp_s, "retrograde")
    return FiniteBurn(state.et, float(duration_s), engine.total_thrust_n, engine.isp_s, "retrograde_pitch",
                      pitch_rad=float(pitch[0]), pitch_rate_rad_s=float(pitch[1]))


def burn_miss(state: SpacecraftState, engine: Engine, duration_s: float, aim: LoiAim,
              models: PatchedModels, pitch: tuple[float, float] | None = None) -> float:
    """Miss of the aim (s for revolutions, m for altitudes) after a retrograde burn of
    ``duration_s`` from ``state`` (Moon-centred J2000 at ignition); positive = too much energy."""
    burn = loi_burn(state, engine, duration_s, pitch)
    if aim.kind != "revolutions":
        alt = _one_revolution(state, burn, models)
        if isinstance(alt, str):
            return _TOO_HIGH if alt == "unbound" else -_TOO_HIGH
        return float(alt.max() if aim.kind == "apoapsis" else alt.mean()) - aim.value
    n = int(aim.value)
    try:
        res = propagate(state, aim.next_mid_et + 0.5 * (aim.next_mid_et - state.et) / n,
                        replace(models.moon, burns=[burn]), models.tolerances, [ev.apsides()])
    except PropagationError:
        return -_TOO_HIGH                      # dived into the Moon: far too much braking
    peri = [e.et for e in res.events if e.name == "periapsis" and e.et > burn.end_et]
    if len(peri) < n:
        return _TOO_HIGH
    return peri[n - 1] - aim.next_mid_et


def too_weak(engine: Engine, mass_kg: float, dv_m_s: float, what: str, quantity: str,
             value: str | None) -> InputError:
    """The InputError of an LOI engine that cannot give its burn (naming thrust_n, isp_s and the
    stack mass, whose modules' dry_mass_kg and propellant_kg set it)."""
    return InputError(f"the engine's thrust_n {engine.total_thrust_n:,.6g} N (isp_s {engine.isp_s:g} s) "
                      "on the "
                      f"{mass_kg:,.0f} kg stack (its modules' dry_mass_kg + propellant_kg), "
                      f"{engine.total_thrust_n / mass_kg:.4g} m/s², is too weak to capture: {what}; an "
                      f"impulsive burn would need {dv_m_s:,.0f} m/s",
                      quantity=quantity, value=value or f"{engine.total_thrust_n:g} N")


def solve_burn(state: SpacecraftState, engine: Engine, aim: LoiAim, models: PatchedModels,
               guess_s: float, propellant_kg: float, dv_needed_m_s: float,
               quantity: str = "engine", value: str | None = None, max_s: float = MAX_BURN_S,
               pitch: tuple[float, float] | None = None, near: bool = False) -> FiniteBurn:
    """The retrograde burn from ``state`` (at ignition) meeting ``aim``: bracket the duration from
    ``guess_s`` in 10 % steps, then Brent (``near``: the secant method from ``guess_s`` first).
    InputError (``quantity``, ``value``) if no burn within the module's
    ``propellant_kg``, ``max_s`` (the next burn's ignition) and :data:`MAX_BURN_S` reaches the aim."""
    longest = min(MAX_BURN_S, max_s, propellant_kg / engine.mass_flow_kg_s)
    limit = ("propellant" if longest == propellant_kg / engine.mass_flow_kg_s else
             "the 4 h limit" if longest == MAX_BURN_S else "the next burn's ignition")

    def miss(d):
        return burn_miss(state, engine, d, aim, models, pitch)

    if near:            # the guess is a neighbouring solve's: the secant method, Brent if it fails
        sol = root_scalar(miss, method="secant", x0=guess_s, x1=guess_s * 1.002, xtol=1e-3, maxiter=8)
        if sol.converged and 0.0 < sol.root <= longest and abs(miss(sol.root)) < 0.5 * _TOO_HIGH:
            return loi_burn(state, engine, sol.root, pitch)
    hi = min(max(guess_s, 1.0), longest)
    f_hi = miss(hi)
    lo, f_lo = hi, f_hi
    while f_hi > 0.0:
        if hi >= longest:
            left = ("leaves the Moon unbound" if f_hi >= _TOO_HIGH
                    else f"misses the aim by {f_hi / (1 if aim.kind == 'revolutions' else 1e3):,.1f} "
                         f"{'s' if aim.kind == 'revolutions' else 'km'}")
            raise too_weak(engine, state.mass, dv_needed_m_s,
                           f"the longest burn ({longest:,.0f} s, by {limit}) {left}", quantity, value)
        lo, f_lo = hi, f_hi
        hi = min(hi * 1.1, longest)
        f_hi = miss(hi)
    while f_lo <= 0.0:
        hi, f_hi = lo, f_lo
        lo /= 1.1
        f_lo = miss(lo)
    root = brentq(miss, lo, hi, xtol=1e-3)
    return loi_burn(state, engine, root, pitch)


def altitude_spread_m(state: SpacecraftState, burn: FiniteBurn, models: PatchedModels,
                      periapsis_m: float | None = None) -> float:
    """Highest minus lowest altitude (m) over the first revolution after ``burn``; with
    ``periapsis_m``, instead the distance (m) of the lowest altitude from it."""
    alt = _one_revolution(state, burn, models)
    if isinstance(alt, str):
        return math.inf
    return float(alt.max() - alt.min()) if periapsis_m is None else abs(float(alt.min()) - periapsis_m)


def solve_steered_burn(state: SpacecraftState, engine: Engine, aim: LoiAim, models: PatchedModels,
                       guess_s: float, propellant_kg: float, dv_needed_m_s: float,
                       quantity: str = "engine", value: str | None = None,
                       max_s: float = MAX_BURN_S,
                       periapsis_m: float | None = None) -> tuple[FiniteBurn, float, float]:
    """The pitch-programmed burn: for each linear pitch programme (θ0, θ̇) the duration meets
    ``aim`` (:func:`solve_burn`), and (θ0, θ̇) minimise the altitude spread of the orbit left (a
    near-circular orbit), or with ``periapsis_m`` the distance of its lowest altitude from that (a
    capture that keeps the approach's periselene), by a coordinate search: θ̇, θ0, θ̇ again, each
    by scipy ``minimize_scalar`` (bounded: Brent's golden-section search, Brent 1973 ch. 5).

    Why a pitch rate: a long retrograde burn centred on the periselene brakes before and after it,
    which lowers the periselene while it lowers the aposelene; thrusting up before and down after
    (θ̇ < 0) adds radial Δv of opposite signs either side of the apse, each lowering the
    eccentricity (Gauss's variational equation de/dt = (r sin ν / h)·… + …, Battin 1999 eq. 10.41:
    the radial term goes as sin ν · a_r); θ0 turns the apse line. Returns (burn, objective with
    steering m, objective along −v m)."""
    plain = solve_burn(state, engine, aim, models, guess_s, propellant_kg, dv_needed_m_s, quantity,
                       value, max_s)
    spread0 = altitude_spread_m(state, plain, models, periapsis_m)
    arc = plain.duration_s * np.linalg.norm(state.v) / np.linalg.norm(state.r)   # rad swept
    bound = 2.0 * max(arc, 0.05) / plain.duration_s          # |θ̇| up to 2 rad per arc swept

    solved: list[FiniteBurn] = [plain]

    def spread(pitch):
        burn = solve_burn(state, engine, aim, models, solved[-1].duration_s, propellant_kg,
                          dv_needed_m_s, quantity, value, max_s, pitch=pitch, near=True)
        solved.append(burn)                                    # the latest solve: a close guess
        return altitude_spread_m(state, burn, models, periapsis_m)

    # Coordinate search: θ̇ (eccentricity), then θ0 (apse line), then θ̇ again, each bounded to 1 %
    # of its range (the spread is flat to ~0.1 km there, measured on Chang'e-5's LOI-2).
    best = (0.0, 0.0)
    for axis, half in ((1, bound), (0, 0.5), (1, bound)):
        def along(x, axis=axis, start=best):
            p = list(start)
            p[axis] = x
            return spread(tuple(p))
        res = minimize_scalar(along, bounds=(-half, half), method="bounded", options={"xatol": 0.01 * half})
        p = list(best)
        p[axis] = float(res.x)
        best = tuple(p)
    burn = solve_burn(state, engine, aim, models, solved[-1].duration_s, propellant_kg, dv_needed_m_s,
                      quantity, value, max_s, pitch=best, near=True)
    steered = altitude_spread_m(state, burn, models, periapsis_m)
    if not steered < spread0:
        return plain, spread0, spread0
    return burn, steered, spread0

