"""Compiled DOP853 (Dormand–Prince 8(5,3)) with 7th-order dense output, for orbit propagation.

The whole integration loop runs in numba, calling the compiled force model :func:`forces.rhs`
directly, so there is no Python overhead per step: the cost is the right-hand-side evaluations
(12 per step; 3 more per step for the dense output, computed only when the trajectory is
sampled between steps). The algorithm — stages, 5th/3rd-order
error estimate, step-size control and dense output — is the one of Hairer's DOP853 as implemented by
``scipy.integrate.solve_ivp(method="DOP853")``, whose published coefficient tables we import, so for
the same tolerances both take the same steps (the benchmark checks this).

Why not CyRK (the project's first choice of engine)? CyRK 0.20's numba entry point
``nbsolve2_ivp`` has no event support ("Events not currently supported by nbsolve_ivp" in its
source), takes its right-hand side through a C function pointer with a flat ``double*`` argument
block (our force model carries nested arrays: gravity coefficients, Chebyshev tables, workspaces), and
returns an experimental result object that must be freed by hand. It also cannot be called from
inside ``numba.prange`` for Monte Carlo batches. This loop is ~200 lines and gives the dense
output our event detection needs; CyRK remains a comparator in ``benchmarks/propagation.py``.

Assumptions and limitations
    Buffers are pre-allocated by the caller; when full, the kernel returns status ``BUFFER_FULL``
    with the state at the last accepted step and the caller continues in a new chunk (the propagator
    does this), so steps are never lost.

References
    Hairer, E., Nørsett, S. P., Wanner, G., *Solving Ordinary Differential Equations I* (2nd ed.),
    §II.5 (DOP853, Table 5.4 coefficients, dense output §II.6) and §II.4 (starting step size);
    Dormand, J. R. and Prince, P. J. (1980), J. Comput. Appl. Math. 6(1):19–26.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.integrate._ivp import dop853_coefficients as _coef

from guanghan.dynamics.forces import rhs

N_STAGES = _coef.N_STAGES                     # 12
N_STAGES_EXTENDED = _coef.N_STAGES_EXTENDED   # 16
N_DENSE = _coef.INTERPOLATOR_POWER            # 7
A = np.ascontiguousarray(_coef.A, dtype=np.float64)
B = np.ascontiguousarray(_coef.B, dtype=np.float64)
C = np.ascontiguousarray(_coef.C, dtype=np.float64)
E3 = np.ascontiguousarray(_coef.E3, dtype=np.float64)
E5 = np.ascontiguousarray(_coef.E5, dtype=np.float64)
D = np.ascontiguousarray(_coef.D, dtype=np.float64)

SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 10.0
ERROR_EXPONENT = -1.0 / 8.0

DONE, BUFFER_FULL, STEP_TOO_SMALL = 0, 1, 2


@njit(cache=True)
def _rms_scaled(v, scale):
    acc = 0.0
    for i in range(v.shape[0]):
        q = v[i] / scale[i]
        acc += q * q
    return math.sqrt(acc / v.shape[0])


@njit(cache=True, inline="always")
def _stage(fd, s, t, h, y, K, ytmp):
    """Stage s: K[s] = f(t + c_s h, y + h Σ_j a_sj K[j]) (Hairer Table 5.4 / the dense extension)."""
    for i in range(y.shape[0]):
        acc = 0.0
        for j in range(s):
            acc += A[s, j] * K[j, i]
        ytmp[i] = y[i] + h * acc
    rhs(t + C[s] * h, ytmp, fd, K[s])


@njit(cache=True)
def initial_step(fd, tau0, y0, f0, direction, rtol, atol, span, error_order=7):
    """Starting step (s), Hairer et al. §II.4 algorithm, as in scipy's ``select_initial_step``;
    ``error_order`` is the order of the embedded error estimator (7 for DOP853, as scipy)."""
    n = y0.shape[0]
    scale = np.empty(n)
    for i in range(n):
        scale[i] = atol[i] + abs(y0[i]) * rtol
    d0 = _rms_scaled(y0, scale)
    d1 = _rms_scaled(f0, scale)
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    h0 = min(h0, span)
    y1 = y0 + h0 * direction * f0
    f1 = np.empty(n)
    rhs(tau0 + h0 * direction, y1, fd, f1)
    d2 = _rms_scaled(f1 - f0, scale) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / (error_order + 1.0))
    return min(100.0 * h0, h1, span)


@njit(cache=True)
def integrate(fd, tau0, y0, tau_end, rtol, atol, h_start, max_step, keep_stages,
              t_out, y_out, k_out, n_eval):
    """Integrate from (tau0, y0) towards tau_end, storing accepted steps.

    ``t_out`` (cap+1,), ``y_out`` (cap+1, n) receive the step boundaries (index 0 = start);
    ``k_out`` (cap, N_STAGES + 1, n) the stages of each step if ``keep_stages``, from which
    :func:`dense_polynomials` makes the dense output when (and only if) it is needed, as scipy
    does on request. ``n_eval`` (1,) int64 accumulates the right-hand-side evaluations.
    Returns (status, steps stored, next step size).
    """
    n = y0.shape[0]
    cap = t_out.shape[0] - 1
    direction = 1.0 if tau_end >= tau0 else -1.0
    K = np.zeros((N_STAGES_EXTENDED, n))
    y = y0.copy()
    y_new = np.empty(n)
    ytmp = np.empty(n)
    scale = np.empty(n)
    err3 = np.empty(n)
    err5 = np.empty(n)
    f = np.empty(n)
    rhs(tau0, y, fd, f)
    n_eval[0] += 1
    t = tau0
    span = abs(tau_end - tau0)
    h_abs = h_start if h_start > 0.0 else initial_step(fd, tau0, y, f, direction, rtol, atol, span)
    h_abs = min(h_abs, max_step)
    t_out[0] = t
    y_out[0, :] = y
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
            h = h_abs * direction
            t_new = t + h
            if direction * (t_new - tau_end) > 0.0:
                t_new = tau_end
            h = t_new - t
            h_abs = abs(h)
            # --- stages (Hairer Table 5.4) ---
            K[0, :] = f
            for s in range(1, N_STAGES):
                _stage(fd, s, t, h, y, K, ytmp)
            for i in range(n):
                acc = 0.0
                for j in range(N_STAGES):
                    acc += B[j] * K[j, i]
                y_new[i] = y[i] + h * acc
            rhs(t_new, y_new, fd, K[N_STAGES])
            n_eval[0] += N_STAGES
            # --- error estimate (5th and 3rd order embedded), scipy's DOP853 norm ---
            for i in range(n):
                scale[i] = atol[i] + max(abs(y[i]), abs(y_new[i])) * rtol
                e5 = 0.0
                e3 = 0.0
                for j in range(N_STAGES + 1):
                    e5 += E5[j] * K[j, i]
                    e3 += E3[j] * K[j, i]
                err5[i] = e5 / scale[i]
                err3[i] = e3 / scale[i]
            n5 = 0.0
            n3 = 0.0
            for i in range(n):
                n5 += err5[i] * err5[i]
                n3 += err3[i] * err3[i]
            if n5 == 0.0 and n3 == 0.0:
                err = 0.0
            else:
                err = h_abs * n5 / math.sqrt((n5 + 0.01 * n3) * n)
            if err < 1.0:
                if err == 0.0:
                    factor = MAX_FACTOR
                else:
                    factor = min(MAX_FACTOR, SAFETY * err ** ERROR_EXPONENT)
                if rejected:
                    factor = min(1.0, factor)
                h_next = h_abs * factor
                break
            h_abs *= max(MIN_FACTOR, SAFETY * err ** ERROR_EXPONENT)
            rejected = True
            if h_abs < min_step:
                return STEP_TOO_SMALL, steps, h_abs
        if keep_stages:
            k_out[steps, :, :] = K[:N_STAGES + 1]
        steps += 1
        t = t_new
        y[:] = y_new
        f[:] = K[N_STAGES]
        t_out[steps] = t
        y_out[steps, :] = y
        h_abs = h_next
    return DONE, steps, h_abs


@njit(cache=True)
def dense_polynomials(fd, t_steps, y_steps, k_steps, f_out, n_eval):
    """Dense-output polynomials ``f_out`` (m, N_DENSE, n) of m stored steps from their stages
    ``k_steps`` (m, N_STAGES + 1, n): three more stages per step (Hairer §II.6)."""
    n = y_steps.shape[1]
    K = np.zeros((N_STAGES_EXTENDED, n))
    ytmp = np.empty(n)
    for k in range(k_steps.shape[0]):
        K[:N_STAGES + 1] = k_steps[k]
        h = t_steps[k + 1] - t_steps[k]
        _dense_coefficients(fd, t_steps[k], h, y_steps[k], y_steps[k + 1], K, ytmp, f_out[k])
    n_eval[0] += k_steps.shape[0] * (N_STAGES_EXTENDED - N_STAGES - 1)


@njit(cache=True)
def _dense_coefficients(fd, t, h, y_old, y_new, K, ytmp, F):
    """Dense-output polynomial coefficients of one step (Hairer §II.6; scipy's Dop853DenseOutput)."""
    n = y_old.shape[0]
    for s in range(N_STAGES + 1, N_STAGES_EXTENDED):
        _stage(fd, s, t, h, y_old, K, ytmp)
    for i in range(n):
        dy = y_new[i] - y_old[i]
        F[0, i] = dy
        F[1, i] = h * K[0, i] - dy
        F[2, i] = 2.0 * dy - h * (K[N_STAGES, i] + K[0, i])
        for r in range(N_DENSE - 3):
            acc = 0.0
            for j in range(N_STAGES_EXTENDED):
                acc += D[r, j] * K[j, i]
            F[3 + r, i] = h * acc


@njit(cache=True)
def dense_eval(taus, t_steps, y_steps, f_steps, out):
    """Evaluate the dense output at sorted or unsorted ``taus`` (s); ``out`` (len(taus), n)."""
    nsteps = f_steps.shape[0]
    n = y_steps.shape[1]
    for q in range(taus.shape[0]):
        tq = taus[q]
        k = np.searchsorted(t_steps, tq, side="right") - 1
        if k < 0:
            k = 0
        elif k >= nsteps:
            k = nsteps - 1
        h = t_steps[k + 1] - t_steps[k]
        x = (tq - t_steps[k]) / h
        for i in range(n):
            acc = 0.0
            for r in range(N_DENSE - 1, -1, -1):   # Horner-like scheme of scipy's Dop853DenseOutput
                acc += f_steps[k, r, i]
                if (N_DENSE - 1 - r) % 2 == 0:
                    acc *= x
                else:
                    acc *= 1.0 - x
            out[q, i] = y_steps[k, i] + acc
