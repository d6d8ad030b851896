"""Compiled Runge–Kutta–Nyström 12(10) integrator for coasts, with Hermite dense output.

A coasting spacecraft obeys r'' = a(t, r): the acceleration (gravity field, third bodies, SRP) does
not depend on the velocity. A Nyström method integrates this second-order form directly: its stages
need only positions, and per field evaluation it reaches a higher order than a Runge–Kutta method for
the equivalent first-order system. The RKN12(10) pair of Dormand, El-Mikkawy & Prince (1987) takes
17 evaluations per step for a 12th-order solution, against DOP853's 12 for an 8th-order one, so at
tight tolerances it takes much longer steps; the force evaluation (the gravity field) is nearly all
the cost. The loop runs in numba, calling :func:`forces.rhs` directly, with the buffers, chunking and
statuses of :func:`guanghan.dynamics.dop853.integrate`, so :func:`propagator.propagate` drives either.

Step-size control (Hairer et al. §II.4, with local extrapolation as in the paper): the local error
of the 10th-order solution is estimated by the difference of the two solutions, δr = h² Σ (b_i − b̂_i)
f_i and δv = h Σ (b'_i − b̂'_i) f_i (b, b': 12th-order weights; b̂, b̂': 10th); each of the six position and velocity components is divided by
atol_i + rtol·max(|y_i|, |y_new_i|), and the step is accepted when the RMS of the six is ≤ 1. The
next step is h·min(10, max(0.2, 0.9·err^(−1/11))) (the estimate is O(h^11)); after a rejection it may
not grow. The starting step is Hairer's §II.4 algorithm (:func:`dop853.initial_step`, exponent 1/11).

Dense output: no continuous extension of RKN12(10) is published that we know of (one would need
extra stages: the pair's stages satisfy Σ_j a_ij c_j^k = c_i^(k+2)/((k+1)(k+2)) only for k ≤ 4),
so :func:`hermite_polynomials` interpolates the step ends instead: on each step, the Hermite
polynomial through r, v and a at the step's two ends and at one more node each side (two on one
side at a trajectory's ends), degree 11, with the velocity taken as its derivative. It costs no
evaluations. Remainder (Stoer & Bulirsch §2.1.5, for triple nodes): r(t) − P(t) =
r⁽¹²⁾(ξ) Π_j (t − t_j)³ / 12!, so for equal steps h |δr| ≤ 3.7e-10 h¹² max|r⁽¹²⁾| on interior
steps and ≤ 2.1e-9 h¹² max|r⁽¹²⁾| on the end steps, plus the node values' own (integration)
errors carried through the interpolant. Measured (``tests/test_rkn.py``): against the analytic
Kepler solution, 100 km orbit, e = 0.05, 2e-4 m and 1.3e-6 m/s at rtol 1e-12 (~535 s steps),
7e-6 m at rtol 1e-13 (~410 s steps), the node accuracy (~1e-7 m) once steps are ≤ 200 s; on
GRGM1200A 50×50 + Earth + Sun at rtol 1e-12 (~115 s steps), 3e-4 m and 1e-5 m/s from DOP853 at
rtol 1e-13, whose end state it matches to 5e-7 m.

Assumptions and limitations
    * Coasts only: the acceleration must not depend on the velocity and the mass must be constant.
      A model with finite burns (velocity-dependent thrust direction, mass flow) returns status
      ``NOT_A_COAST`` without stepping; :func:`propagator.propagate` refuses it with a message.
      Stage states carry the step's initial velocity in their velocity slots, unused by such forces.
    * The dense output of a step depends on its neighbours' end data (it is not local to the
      step); at loose tolerances (steps ≳ 0.1 of an orbit) it, not the steps, limits the accuracy
      between steps (the bound above). Its polynomials are in powers of x = (t − t_k)/h_k, not in
      DOP853's basis: :class:`Trajectory` evaluates either (``interpolant``).
    * Buffers are pre-allocated by the caller; ``BUFFER_FULL`` returns the last accepted step, as
      in :mod:`dop853`.

References
    Dormand, J. R., El-Mikkawy, M. E. A. and Prince, P. J. (1987), "High-order embedded
    Runge-Kutta-Nystrom formulae", IMA J. Numer. Anal. 7(4):423–430 (the pair; coefficients in
    :mod:`rkn1210_coefficients`); Brankin, R. W., Gladwell, I., Dormand, J. R., Prince, P. J. and
    Seward, W. L. (1989), ACM Trans. Math. Softw. 15(1):31–40 (the RKN code using the pair);
    Hairer, Nørsett & Wanner, *Solving Ordinary Differential Equations I* (2nd ed.), §II.4 (error
    norm, step control), §II.14 (Nyström methods); Stoer, J. and Bulirsch, R., *Introduction to
    Numerical Analysis* (3rd ed.), §2.1.5 (Hermite interpolation and its remainder).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from guanghan.dynamics.dop853 import BUFFER_FULL, DONE, STEP_TOO_SMALL, initial_step
from guanghan.dynamics.forces import rhs
from guanghan.dynamics.rkn1210_coefficients import (
    B_POS_12,
    B_VEL_12,
    E_POS,
    E_VEL,
    N_STAGES,
    A,
    C,
)

NOT_A_COAST = 3
__all__ = ["BUFFER_FULL", "DONE", "NOT_A_COAST", "STEP_TOO_SMALL", "hermite_eval", "hermite_polynomials",
           "integrate"]

SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 10.0
ERROR_ORDER = 10                                   # order of the embedded solution: error O(h^11)
ERROR_EXPONENT = -1.0 / (ERROR_ORDER + 1.0)
DENSE_DEGREE = 11                                  # four nodes × (r, v, a), less the known y(t_k)
# _FALLING[k, j] = j!/(j−k)!: the k-th derivative of x^j is _FALLING[k, j] x^(j−k)
_FALLING = np.array([[math.perm(j, k) for j in range(DENSE_DEGREE + 1)] for k in range(3)], float)


@njit(cache=True)
def _attempt(fd, t, h, y, K, ytmp, y_new, rtol, atol):
    """One RKN12(10) step of size h from (t, y), K[0] = f(t, y) given; fills y_new and returns the
    error norm (≤ 1: accept). Dormand, El-Mikkawy & Prince (1987), eqs. of :mod:`rkn1210_coefficients`."""
    h2 = h * h
    ytmp[3:] = y[3:]                               # velocity slot: unused by coast forces; mass: constant
    for s in range(1, N_STAGES):                   # Y_s = r + c_s h v + h² Σ_j a_sj f_j
        for d in range(3):
            acc = 0.0
            for j in range(s):
                acc += A[s, j] * K[j, 3 + d]
            ytmp[d] = y[d] + C[s] * h * y[3 + d] + h2 * acc
        rhs(t + C[s] * h, ytmp, fd, K[s])
    y_new[6:] = y[6:]
    err = 0.0
    for d in range(3):
        bp = bv = ep = ev = 0.0
        for j in range(N_STAGES):
            a = K[j, 3 + d]
            bp += B_POS_12[j] * a
            bv += B_VEL_12[j] * a
            ep += E_POS[j] * a
            ev += E_VEL[j] * a
        y_new[d] = y[d] + h * y[3 + d] + h2 * bp   # 12th order (local extrapolation)
        y_new[3 + d] = y[3 + d] + h * bv
        qp = h2 * ep / (atol[d] + rtol * max(abs(y[d]), abs(y_new[d])))
        qv = h * ev / (atol[3 + d] + rtol * max(abs(y[3 + d]), abs(y_new[3 + d])))
        err += qp * qp + qv * qv
    return math.sqrt(err / 6.0)


@njit(cache=True)
def integrate(fd, tau0, y0, tau_end, rtol, atol, h_start, max_step, keep_derivatives,
              t_out, y_out, k_out, n_eval):
    """Integrate the coast from (tau0, y0) towards tau_end (s), storing accepted steps.

    As :func:`dop853.integrate`: ``t_out`` (cap+1,), ``y_out`` (cap+1, 7) receive the step
    boundaries (index 0 = start); ``k_out`` (cap+1, 7) the derivative [v, a, 0] at each boundary if
    ``keep_derivatives`` (the dense output's data); ``n_eval`` (1,) int64 accumulates the
    acceleration evaluations (17 per accepted step, 16 per rejected one, 1 at the start, 1 for the
    starting-step estimate). Returns (status, steps stored, next step size (s)).
    """
    n = y0.shape[0]
    cap = t_out.shape[0] - 1
    t = tau0
    t_out[0] = t
    y_out[0, :] = y0
    if fd.burns.shape[0] > 0:
        return NOT_A_COAST, 0, h_start
    direction = 1.0 if tau_end >= tau0 else -1.0
    K = np.zeros((N_STAGES, n))
    y = y0.copy()
    y_new = np.empty(n)
    ytmp = np.empty(n)
    rhs(t, y, fd, K[0])
    n_eval[0] += 1
    span = abs(tau_end - tau0)
    if h_start > 0.0:
        h_abs = h_start
    else:
        h_abs = initial_step(fd, tau0, y, K[0], direction, rtol, atol, span, ERROR_ORDER)
        n_eval[0] += 1
    if keep_derivatives:
        k_out[0, :] = K[0]
    steps = 0
    while direction * (tau_end - t) > 0.0:
        if steps >= cap:
            return BUFFER_FULL, steps, h_abs
        min_step = 10.0 * abs(np.nextafter(t, direction * np.inf) - t)
        h_abs = min(h_abs, max_step)
        if h_abs < min_step:
            return STEP_TOO_SMALL, steps, h_abs
        rejected = False
        while True:
            t_new = t + h_abs * direction
            if direction * (t_new - tau_end) > 0.0:
                t_new = tau_end
            h = t_new - t
            h_abs = abs(h)
            err = _attempt(fd, t, h, y, K, ytmp, y_new, rtol, atol)
            n_eval[0] += N_STAGES - 1
            if err < 1.0:
                factor = MAX_FACTOR if err == 0.0 else min(MAX_FACTOR, SAFETY * err ** ERROR_EXPONENT)
                h_next = h_abs * (min(1.0, factor) if rejected else factor)
                break
            h_abs *= max(MIN_FACTOR, SAFETY * err ** ERROR_EXPONENT)
            rejected = True
            if h_abs < min_step:
                return STEP_TOO_SMALL, steps, h_abs
        steps += 1
        t = t_new
        y[:] = y_new
        rhs(t, y, fd, K[0])                        # f at the new point: the next step's first stage
        n_eval[0] += 1
        t_out[steps] = t
        y_out[steps, :] = y
        if keep_derivatives:
            k_out[steps, :] = K[0]
        h_abs = h_next
    return DONE, steps, h_abs


@njit(cache=True)
def _stencil(k, m):
    """Nodes lo…hi (inclusive) whose data interpolate step k of m: its two ends and up to two more,
    one each side where they exist, else two on the side that has them."""
    lo, hi = k, k + 1
    for _ in range(2):
        if lo > 0 and (hi == m or k - lo <= hi - k - 1):
            lo -= 1
        elif hi < m:
            hi += 1
    return lo, hi


@njit(cache=True)
def hermite_polynomials(t_steps, y_steps, f_steps, p_out):
    """Dense output of m steps from the boundaries ``t_steps`` (m+1,) (s), states ``y_steps``
    (m+1, n) and derivatives ``f_steps`` (m+1, n) = [v, a, 0]: ``p_out`` (m, DENSE_DEGREE, n) gets
    the coefficients of x¹…x¹¹ of y(t) − y_k on step k, x = (t − t_k)/h_k. Position: the Hermite
    interpolant of r, v, a at the stencil's nodes (Stoer & Bulirsch §2.1.5; degree 3·nodes − 1);
    velocity: its derivative; mass: constant."""
    m = t_steps.shape[0] - 1
    for k in range(m):
        lo, hi = _stencil(k, m)
        size = 3 * (hi - lo + 1) - 1              # unknowns p_1…p_size (p_0 = 0: y(t_k) = y_k)
        h = t_steps[k + 1] - t_steps[k]
        M = np.zeros((size, size))
        R = np.zeros((size, 3))
        row = 0
        for i in range(lo, hi + 1):
            x = (t_steps[i] - t_steps[k]) / h
            for der in range(3):                   # d^der/dx^der of Σ p_j x^j at x = x_i
                if i == k and der == 0:
                    continue
                for col in range(size):
                    j = col + 1
                    if j >= der:
                        M[row, col] = _FALLING[der, j] * x ** (j - der)
                for d in range(3):
                    if der == 0:
                        R[row, d] = y_steps[i, d] - y_steps[k, d]
                    elif der == 1:
                        R[row, d] = h * f_steps[i, d]
                    else:
                        R[row, d] = h * h * f_steps[i, 3 + d]
                row += 1
        P = np.linalg.solve(M, R)
        p_out[k, :, :] = 0.0
        for col in range(size):
            for d in range(3):
                p_out[k, col, d] = P[col, d]
                if col > 0:                        # velocity − v_k: x^col term of (1/h) dP/dx
                    p_out[k, col - 1, 3 + d] = (col + 1) * P[col, d] / h


@njit(cache=True)
def hermite_eval(taus, t_steps, y_steps, p_steps, out):
    """Evaluate :func:`hermite_polynomials`' output at ``taus`` (s), sorted or not; ``out`` (len(taus), n)."""
    nsteps = p_steps.shape[0]
    for q in range(taus.shape[0]):
        k = np.searchsorted(t_steps, taus[q], side="right") - 1
        k = min(max(k, 0), nsteps - 1)
        x = (taus[q] - t_steps[k]) / (t_steps[k + 1] - t_steps[k])
        for i in range(y_steps.shape[1]):
            acc = 0.0
            for j in range(p_steps.shape[1] - 1, -1, -1):   # Horner
                acc = (acc + p_steps[k, j, i]) * x
            out[q, i] = y_steps[k, i] + acc
