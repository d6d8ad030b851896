"""Fuel-optimal powered-descent guidance by lossless convexification, with re-planning support.

The relaxed, convexified problem of Açıkmeşe & Ploen (2007) is built once in cvxpy with
``cp.Parameter``s (disciplined parametrized programming), so each in-flight re-plan only updates
parameter values and re-solves with CLARABEL (called directly on cvxpy's compiled data:
:mod:`guanghan.gnc.clarabel_program`). Decision variables on N nodes (N−1 zero-order-hold
intervals) in normalised time τ = t / t_f: position r, velocity v, thrust acceleration u = T/m,
slack σ = Γ/m and z = ln(m/m0). Lengths are scaled by a per-solve L and times by t_f, so the
numbers stay O(1) from 500 km braking arcs to 100 m diverts.

Problem (A&P 2007, Problem 4, in the variables of their change of variables σ = Γ/m, u = T/m,
z = ln m):
    max z_N   s.t.   ṙ = v,  v̇ = u + g,  ż = −α σ,  ‖u‖ ≤ σ,
    μ1 [1 − (z − z0) + (z − z0)²/2] ≤ σ ≤ μ2 [1 − (z − z0)],  μ_i = ρ_i e^{−z0},
    z0(t) = ln(m0 − α ρ2 t) ≤ z ≤ ln(m0 − α ρ1 t),  n̂ᵀu ≥ cos θ_max σ (tilt), glide slope,
    r(0), v(0), z(0) given; r(t_f), v(t_f) given; z(t_f) ≥ ln m_dry.
The lower thrust bound is the second-order-cone (Taylor) approximation of ρ1 e^{−z}; the upper the
first-order one — conservative. Lossless: at the optimum ‖u‖ = σ, so ‖T‖ ∈ [ρ1, ρ2]; the min
throttle must be > 0 for the convexification (the lower bound is what makes it non-convex).
Fallback (target unreachable): the minimum-landing-error problem of Blackmore, Açıkmeşe & Scharf
(2010) — the final horizontal position is freed and its distance to the target minimised (a small
fuel weight breaks ties, instead of their second fuel solve).

Gravity. Over a 500 km braking arc the direction of lunar gravity turns by ~15°, so the "constant
gravity" of A&P is replaced by a known, per-interval apparent acceleration (gravity + Coriolis +
centrifugal, from the caller) evaluated along a reference trajectory — the previous solution,
iterated once or twice at the first plan, the previous plan in flight. The tilt constraint uses
the local vertical along the same reference, and the glide-slope / altitude constraint the
altitude linearised about it (a tangent plane under-estimates the convex altitude function, so
it is conservative). For flat, constant-gravity use pass ``centre=None``.

Flight time: golden-section search on the final mass (Kiefer 1953) over a bracket found by a coarse
grid; fuel versus t_f is unimodal on its feasible interval (Blackmore et al. 2010, §IV; A&P 2007
§IV use the same one-dimensional search).

Also here: E-guidance (Cherry 1964) — the linear-in-time acceleration that reaches a position and
velocity in a given time-to-go, the explicit-guidance family of Apollo's P63/P64 (Klumpp 1974).

Assumptions and limitations
    * Zero-order hold on u per interval, apparent acceleration fixed per interval: the plan is
      exactly consistent with its own discrete model, not with the nonlinear truth; the loop
      re-plans and tracks.
    * The glide-slope cone is measured in site axes about the target's vertical.

References
    Açıkmeşe, B. & Ploen, S. R. (2007), "Convex programming approach to powered descent guidance
    for Mars landing", JGCD 30(5), 1353–1366: Problem 1 (original), Problem 2 (relaxed, slack Γ),
    the change of variables σ = Γ/m, u = T/m, z = ln m, and Problem 4 with the Taylor bounds on σ.
    Blackmore, L., Açıkmeşe, B. & Scharf, D. P. (2010), "Minimum-landing-error powered-descent
    guidance for Mars landing using convex optimization", JGCD 33(4), 1161–1171.
    Kiefer, J. (1953), "Sequential minimax search for a maximum", Proc. AMS 4(3), 502–506.
    Cherry, G. W. (1964), "A general, explicit, optimizing guidance law for rocket-propelled
    spaceflight", AIAA Paper 64-638. Klumpp, A. R. (1974), "Apollo lunar descent guidance",
    Automatica 10(2), 133–146.
    Agrawal, A. et al. (2019), "Differentiable convex optimization layers" (DPP), NeurIPS.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Callable

import numpy as np

from guanghan.environment.constants import STANDARD_GRAVITY
from guanghan.gnc.clarabel_program import ClarabelProgram

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True)
class DescentPlan:
    """A solved trajectory: node times ``t_s`` (s from the plan start), positions/velocities
    (m, m/s), masses (kg); per interval: thrust acceleration ``u_m_s2``, apparent acceleration
    ``g_m_s2`` used, thrust ``thrust_n`` vectors. ``kind`` is "fuel_optimal" or
    "min_landing_error" (then ``miss_m`` is the horizontal distance from the target)."""

    t_s: np.ndarray
    r_m: np.ndarray
    v_m_s: np.ndarray
    mass_kg: np.ndarray
    u_m_s2: np.ndarray
    sigma_m_s2: np.ndarray
    g_m_s2: np.ndarray
    kind: str
    miss_m: float
    solve_time_s: float

    @property
    def tf_s(self) -> float:
        return float(self.t_s[-1])

    @property
    def propellant_kg(self) -> float:
        return float(self.mass_kg[0] - self.mass_kg[-1])

    @property
    def thrust_n(self) -> np.ndarray:
        return self.u_m_s2 * self.mass_kg[:-1, None]

    def _interval(self, t: float) -> tuple[int, float]:
        n = len(self.t_s)
        h = self.t_s[-1] / (n - 1)                                  # uniform nodes
        k = min(max(int(t / h), 0), n - 2)
        return k, min(max(t - k * h, 0.0), h)

    def thrust_accel_at(self, t: float) -> np.ndarray:
        """Planned thrust acceleration (m/s²) at ``t`` (zero-order hold)."""
        return self.u_m_s2[self._interval(t)[0]]

    def state_at(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Planned position and velocity at ``t`` (exact within the plan's ZOH model)."""
        k, dt = self._interval(t)
        a = self.u_m_s2[k] + self.g_m_s2[k]
        return self.r_m[k] + self.v_m_s[k] * dt + 0.5 * a * dt * dt, self.v_m_s[k] + a * dt

    def reference_from(self, t: float):
        """The rest of the plan from ``t`` as a normalised-time reference (τ, r, v)."""
        tau = np.linspace(0.0, 1.0, 16)
        ts = t + tau * max(self.tf_s - t, 1e-6)
        rv = [self.state_at(ti) for ti in ts]
        return tau, np.array([x[0] for x in rv]), np.array([x[1] for x in rv])


class ConvexDescentGuidance:
    """Lossless-convexification descent guidance on ``n_nodes`` nodes, built once (DPP).

    Thrust bounds ``thrust_min_n`` > 0 and ``thrust_max_n`` (N) are those the guidance may plan
    with (leave a margin below the engine's for the tracking loop); ``isp_s`` (s); the plan never
    goes below ``dry_mass_kg``."""

    def __init__(self, n_nodes: int, isp_s: float, thrust_min_n: float, thrust_max_n: float,
                 dry_mass_kg: float):
        if not 5 <= n_nodes <= 400:
            raise ValueError(f"n_nodes = {n_nodes}: must lie in [5, 400]")
        if not thrust_min_n > 0:
            raise ValueError(f"thrust_min_n = {thrust_min_n} N: must be > 0 (a zero lower bound "
                             "voids the lossless convexification and the engine cannot relight)")
        if not thrust_max_n > thrust_min_n:
            raise ValueError(f"thrust_max_n = {thrust_max_n} N: must exceed thrust_min_n = "
                             f"{thrust_min_n} N")
        for name, value in (("isp_s", isp_s), ("dry_mass_kg", dry_mass_kg)):
            if not value > 0:
                raise ValueError(f"{name} = {value}: must be > 0")
        self.n = n_nodes
        self.alpha = 1.0 / (isp_s * STANDARD_GRAVITY)
        self.rho1, self.rho2, self.dry_mass_kg = thrust_min_n, thrust_max_n, dry_mass_kg
        self.solve_count = 0
        self.solve_time_s = 0.0
        self._programs: dict[bool, ClarabelProgram] = {}   # compiled on first use

    # ------------------------------------------------------------------ problem construction
    p = property(lambda self: self._model["p"], doc="The cvxpy Parameters by name.")
    var = property(lambda self: self._model["var"], doc="The cvxpy Variables (r, v, z, u, s).")
    fuel_problem = property(lambda self: self._model["fuel"])
    error_problem = property(lambda self: self._model["error"])

    @cached_property
    def _model(self) -> dict:
        """The cvxpy model, built on first use (a compiled program from the cache needs none)."""
        import cvxpy as cp
        n, h = self.n, 1.0 / (self.n - 1)
        P = cp.Parameter
        p = dict(
            r0=P(3), v0=P(3), rf=P(3), vf=P(3), g=P((n - 1, 3)), up=P((n - 1, 3)),
            cos_tilt=P(), nrm=P((n, 3)), alt_b=P(n), tan_gs=P(nonneg=True), rf_gs=P((n, 2)),
            z0=P(n - 1), inv_mu1=P(n - 1, nonneg=True), inv_mu2=P(n - 1, nonneg=True),
            zlo=P(n), zhi=P(n), zdry=P(), a=P(nonneg=True), cap_c=P((n, 3)), cap_r=P(nonneg=True))
        r, v, z = cp.Variable((n, 3)), cp.Variable((n, 3)), cp.Variable(n)
        u, s = cp.Variable((n - 1, 3)), cp.Variable(n - 1)
        var = dict(r=r, v=v, z=z, u=u, s=s)
        acc = u + p["g"]
        delta = z[:-1] - p["z0"]
        common = [
            r[0] == p["r0"], v[0] == p["v0"], z[0] == 0.0,
            v[1:] == v[:-1] + h * acc,                                   # ZOH, exact for const. acc
            r[1:] == r[:-1] + h * v[:-1] + (0.5 * h * h) * acc,
            z[1:] == z[:-1] - h * p["a"] * s,                            # ż = −α σ
            cp.norm(u, 2, axis=1) <= s,                                  # relaxed ‖T‖ ≤ Γ
            # A&P Problem 4: μ1[1 − δ + δ²/2] ≤ σ ≤ μ2[1 − δ], divided by μ_i > 0 (DPP form)
            1.0 - delta + 0.5 * cp.square(delta) <= cp.multiply(p["inv_mu1"], s),
            cp.multiply(p["inv_mu2"], s) <= 1.0 - delta,
            z >= p["zlo"], z <= p["zhi"], z[-1] >= p["zdry"],
            cp.sum(cp.multiply(p["up"], u), axis=1) >= p["cos_tilt"] * s,   # tilt from vertical
            # glide slope: tan γ ‖horizontal offset‖ ≤ linearised altitude
            cp.norm(p["tan_gs"] * r[:, :2] - p["rf_gs"], 2, axis=1)
            <= cp.sum(cp.multiply(p["nrm"], r), axis=1) + p["alt_b"],
            cp.norm(r - p["cap_c"], 2, axis=1) <= p["cap_r"],         # altitude ceiling
            v[-1] == p["vf"],
        ]
        fuel = cp.Problem(cp.Maximize(z[-1]), common + [r[-1] == p["rf"]])
        error = cp.Problem(cp.Minimize(cp.norm(r[-1, :2] - p["rf"][:2]) - 1e-3 * z[-1]),
                           common + [r[-1, 2] == p["rf"][2]])
        for prob in (fuel, error):
            if not prob.is_dcp(dpp=True):
                raise RuntimeError("descent guidance problem is not DPP")
        return dict(p=p, var=var, fuel=fuel, error=error)

    def _program(self, min_error: bool) -> ClarabelProgram:
        """The fuel (or minimum-error) problem compiled for direct Clarabel calls (the same
        solution as ``Problem.solve(solver=cp.CLARABEL)`` without cvxpy's per-solve overhead,
        ~20 % of a solve here), kept in the cache folder: :mod:`guanghan.gnc.clarabel_program`.
        The problem depends on ``n_nodes`` only (every number is a parameter)."""
        if min_error not in self._programs:
            kind = "error" if min_error else "fuel"
            self._programs[min_error] = ClarabelProgram.cached(
                f"descent-{kind}-n{self.n}", [__file__],
                lambda: (self._model[kind], self.p, self.var))
        return self._programs[min_error]

    # ------------------------------------------------------------------ one fixed-time solve
    def solve_fixed_time(self, r0, v0, m0: float, r_target, v_target, tf_s: float,
                         apparent_accel: Callable, centre=None, reference=None,
                         max_tilt_deg: float = 90.0, glide_slope_deg: float = 0.0,
                         max_altitude_m: float | None = None,
                         min_error: bool = False) -> DescentPlan | None:
        """Solve for flight time ``tf_s`` (s). ``apparent_accel(r, v)`` (m/s², (n, 3) arrays) is
        evaluated along ``reference`` = (τ, r, v) (normalised time, m, m/s; default: a cubic
        Hermite guess). ``centre``: the Moon's centre in the same frame (None: flat ground, the
        altitude is the third coordinate). ``max_altitude_m``: ceiling above the sphere through
        the origin (a convex ball constraint about the centre; None: none). Returns None if
        infeasible."""
        if not 0.0 < max_tilt_deg <= 90.0:
            raise ValueError(f"max_tilt_deg = {max_tilt_deg}: must lie in (0, 90] (convexity)")
        if not 0.0 <= glide_slope_deg < 90.0:
            raise ValueError(f"glide_slope_deg = {glide_slope_deg}: must lie in [0, 90)")
        if not m0 > self.dry_mass_kg:
            raise ValueError(f"m0 = {m0} kg: must exceed dry_mass_kg = {self.dry_mass_kg} kg")
        n = self.n
        r0, v0 = np.asarray(r0, float), np.asarray(v0, float)
        rt, vt = np.asarray(r_target, float), np.asarray(v_target, float)
        tau = np.linspace(0.0, 1.0, n)
        if reference is None:
            reference = initial_reference(r0, v0, rt, vt, tf_s, centre)
        rr = np.column_stack([np.interp(tau, reference[0], reference[1][:, i]) for i in range(3)])
        vr = np.column_stack([np.interp(tau, reference[0], reference[2][:, i]) for i in range(3)])
        g_nodes = np.asarray(apparent_accel(rr, vr), float)
        g_int = 0.5 * (g_nodes[:-1] + g_nodes[1:])
        if centre is None:
            up = np.tile([0.0, 0.0, 1.0], (n, 1))
            alt_b = np.zeros(n)
        else:
            d = rr - np.asarray(centre, float)
            dist = np.linalg.norm(d, axis=1)
            up = d / dist[:, None]
            alt_b = (dist - abs(float(centre[2]))) - np.sum(up * rr, axis=1)
        T = float(tf_s)
        L = max(np.linalg.norm(r0 - rt), np.linalg.norm(v0 - vt) * T, 10.0)
        t_nodes = tau * T
        m_lo = np.maximum(m0 - self.alpha * self.rho2 * t_nodes, self.dry_mass_kg)
        m_hi = np.maximum(m0 - self.alpha * self.rho1 * t_nodes, self.dry_mass_kg)
        z0 = np.log(m_lo / m0)
        mu1 = self.rho1 / m0 * np.exp(-z0[:-1]) * T * T / L
        mu2 = self.rho2 / m0 * np.exp(-z0[:-1]) * T * T / L
        tan_gs = math.tan(math.radians(glide_slope_deg))
        far = 1e4                                   # nondimensional radius of a "flat" ceiling
        if centre is None:                          # flat: z ≤ h_max as the top of a huge ball
            cap_c = np.array([0.0, 0.0, -far])
            cap_r = far + (far if max_altitude_m is None else max_altitude_m / L)
        else:
            cap_c = np.asarray(centre, float) / L
            cap_r = (abs(float(centre[2])) + (far * L if max_altitude_m is None
                                               else max_altitude_m)) / L
        values = dict(r0=r0 / L, v0=v0 * T / L, rf=rt / L, vf=vt * T / L, g=g_int * T * T / L,
                      up=up[:-1], cos_tilt=math.cos(math.radians(max_tilt_deg)), nrm=up,
                      alt_b=alt_b / L, tan_gs=tan_gs, rf_gs=np.tile(tan_gs * rt[:2] / L, (n, 1)),
                      z0=z0[:-1], inv_mu1=1.0 / mu1, inv_mu2=1.0 / mu2, zlo=z0,
                      zhi=np.log(m_hi / m0), zdry=math.log(self.dry_mass_kg / m0),
                      a=self.alpha * L / T, cap_c=np.tile(cap_c, (n, 1)), cap_r=cap_r)
        t0 = time.perf_counter()
        try:
            sol = self._program(min_error).solve(values)
        finally:
            self.solve_count += 1
            self.solve_time_s += time.perf_counter() - t0
        if sol is None:
            return None
        r = sol["r"] * L
        miss = float(np.linalg.norm(r[-1, :2] - rt[:2]))
        return DescentPlan(t_nodes, r, sol["v"] * L / T, m0 * np.exp(sol["z"]),
                           sol["u"] * L / (T * T), sol["s"] * L / (T * T), g_int,
                           "min_landing_error" if min_error else "fuel_optimal", miss,
                           time.perf_counter() - t0)

    # ------------------------------------------------------------------ flight-time search
    def solve(self, r0, v0, m0: float, r_target, v_target, tf_bounds_s: tuple[float, float],
              apparent_accel: Callable, centre=None, reference=None, max_tilt_deg: float = 90.0,
              glide_slope_deg: float = 0.0, max_altitude_m: float | None = None,
              n_grid: int = 5, n_golden: int = 6,
              gravity_iterations: int = 1) -> DescentPlan:
        """Fuel-optimal plan with t_f from a grid + golden-section search on ``tf_bounds_s``;
        the reference is refreshed from the best solution ``gravity_iterations`` times. Falls back
        to the minimum-landing-error plan (Blackmore et al. 2010) when no t_f is feasible;
        raises ``ValueError`` if even that fails."""
        lo, hi = map(float, tf_bounds_s)
        if not 0.0 < lo < hi:
            raise ValueError(f"tf_bounds_s = {tf_bounds_s}: need 0 < lower < upper")
        kw = dict(apparent_accel=apparent_accel, centre=centre, max_tilt_deg=max_tilt_deg,
                  glide_slope_deg=glide_slope_deg, max_altitude_m=max_altitude_m)
        args = (r0, v0, m0, r_target, v_target)
        for it in range(gravity_iterations + 1):
            fuel = partial(self._fuel, args, kw, reference)
            grid = np.linspace(lo, hi, n_grid)
            results = [fuel(t) for t in grid]
            costs = [c for c, _ in results]
            i = int(np.argmin(costs))
            if not math.isfinite(costs[i]):
                best = self._min_error(args, grid, kw, reference)
                if it == gravity_iterations:
                    return best
                reference = (best.t_s / best.tf_s, best.r_m, best.v_m_s)
                continue
            a, b = grid[max(i - 1, 0)], grid[min(i + 1, n_grid - 1)]
            best_cost, best = results[i]
            x1, x2 = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
            (f1, p1), (f2, p2) = fuel(x1), fuel(x2)
            for _ in range(n_golden):                           # Kiefer (1953) golden section
                if f1 <= f2:
                    b, x2, f2, p2 = x2, x1, f1, p1
                    x1 = b - _GOLDEN * (b - a)
                    f1, p1 = fuel(x1)
                else:
                    a, x1, f1, p1 = x1, x2, f2, p2
                    x2 = a + _GOLDEN * (b - a)
                    f2, p2 = fuel(x2)
            for f, pl in ((f1, p1), (f2, p2)):
                if f < best_cost:
                    best_cost, best = f, pl
            if it < gravity_iterations:                         # refresh the gravity reference
                reference = (best.t_s / best.tf_s, best.r_m, best.v_m_s)
                span = hi - lo
                lo, hi = max(0.5 * best.tf_s, best.tf_s - 0.25 * span), best.tf_s + 0.25 * span
                n_grid = 3
        return best

    def _fuel(self, args, kw, reference, tf):
        """(propellant kg or inf, plan or None) of the fixed-time solve at ``tf``."""
        plan = self.solve_fixed_time(*args, tf, reference=reference, **kw)
        return (math.inf if plan is None else plan.propellant_kg), plan

    def _min_error(self, args, grid, kw, reference) -> DescentPlan:
        best = None
        for tf in grid:
            plan = self.solve_fixed_time(*args, tf, reference=reference, min_error=True, **kw)
            if plan is not None and (best is None or plan.miss_m < best.miss_m):
                best = plan
        if best is None:
            raise ValueError(f"no feasible descent for flight times {grid[0]:.1f}–{grid[-1]:.1f} s "
                             "even with the landing point free (thrust, tilt or propellant "
                             "limits)")
        return best


def initial_reference(r0, v0, rf, vf, tf_s: float, centre=None, n: int = 24):
    """First-guess trajectory (τ, r, v) from (r0, v0) to (rf, vf) in ``tf_s`` s for the gravity
    evaluation: a cubic Hermite curve on flat ground; about a ``centre``, a great-circle arc with
    the radius linear in τ and the angle quadratic in τ, starting at the initial angular rate
    (clipped so that the angle never runs backwards)."""
    if centre is None:
        return hermite_reference(r0, v0, rf, vf, tf_s, n)
    c = np.asarray(centre, float)
    a, b = np.asarray(r0, float) - c, np.asarray(rf, float) - c
    ra, rb = np.linalg.norm(a), np.linalg.norm(b)
    ea = a / ra
    perp = b / rb - ea * (ea @ (b / rb))
    theta = math.atan2(np.linalg.norm(perp), ea @ (b / rb))
    if theta < 1e-9:
        return hermite_reference(r0, v0, rf, vf, tf_s, n)
    eb = perp / np.linalg.norm(perp)
    rate0 = (np.asarray(v0, float) @ eb) / ra                  # initial angular rate (rad/s)
    k = min(max(rate0 * tf_s / theta, 0.0), 2.0)             # θ(τ) = θ_f (k τ + (1 − k) τ²)
    tau = np.linspace(0.0, 1.0, n)
    ang = theta * (k * tau + (1.0 - k) * tau * tau)
    dang = theta * (k + 2.0 * (1.0 - k) * tau) / tf_s
    rad = ra + (rb - ra) * tau
    drad = (rb - ra) / tf_s
    dirs = np.cos(ang)[:, None] * ea + np.sin(ang)[:, None] * eb
    tang = -np.sin(ang)[:, None] * ea + np.cos(ang)[:, None] * eb
    return tau, c + rad[:, None] * dirs, drad * dirs + (rad * dang)[:, None] * tang


def hermite_reference(r0, v0, rf, vf, tf_s: float, n: int = 16):
    """Cubic Hermite guess (τ, r, v) joining (r0, v0) to (rf, vf) in ``tf_s`` s."""
    tau = np.linspace(0.0, 1.0, n)[:, None]
    h00, h10 = 2 * tau ** 3 - 3 * tau ** 2 + 1, tau ** 3 - 2 * tau ** 2 + tau
    h01, h11 = -2 * tau ** 3 + 3 * tau ** 2, tau ** 3 - tau ** 2
    r = h00 * r0 + h10 * tf_s * v0 + h01 * rf + h11 * tf_s * vf
    d00, d10, d01, d11 = 6 * tau ** 2 - 6 * tau, 3 * tau ** 2 - 4 * tau + 1, \
        -6 * tau ** 2 + 6 * tau, 3 * tau ** 2 - 2 * tau
    v = (d00 * r0 + d01 * rf) / tf_s + d10 * v0 + d11 * vf
    return tau[:, 0], r, v


def e_guidance_acceleration(r, v, r_target, v_target, t_go_s: float, g) -> np.ndarray:
    """Thrust acceleration (m/s²) of E-guidance (Cherry 1964): the total acceleration linear in
    time that reaches ``r_target``, ``v_target`` in ``t_go_s`` s is, at its start,
    a = 6 (r_T − r) / t_go² − 2 (2 v + v_T) / t_go; the thrust supplies a − g."""
    if not t_go_s > 0:
        raise ValueError(f"t_go_s = {t_go_s}: must be > 0")
    r, v = np.asarray(r, float), np.asarray(v, float)
    a = 6.0 * (np.asarray(r_target, float) - r) / t_go_s ** 2 \
        - 2.0 * (2.0 * v + np.asarray(v_target, float)) / t_go_s
    return a - np.asarray(g, float)
