"""Differential correction of a flown trajectory: forward-difference Jacobians with absolute steps,
and square systems solved by Powell's hybrid method with Broyden updates.

Every residual here is a propagation (milliseconds), so the number of flights decides the cost.

* :func:`forward_jacobian` differences with ABSOLUTE steps (units of x): scipy's ``diff_step`` is
  relative to |x|, and corrections start at 0.
* :func:`remember_last` returns a residual again for the same x without flying. The solvers ask
  for the Jacobian at the point just evaluated, and the differences start from that value.
* :func:`solve_square` (n residuals, n unknowns) uses scipy ``root(method="hybr")``, MINPACK
  hybrj (Moré, Garbow & Hillstrom 1980; Powell 1970). It takes a Jacobian at the start and
  Broyden rank-1 updates (Broyden 1965) between its re-evaluations, so it needs about half the
  flights of ``least_squares`` (trust-region reflective, a Jacobian every iteration). If its
  largest residual stays above ``accept``, ``least_squares`` polishes from the better of its end
  point and the start.
* It stops at the first point whose largest residual is at most ``stop``: a residual test
  (Dennis & Schnabel 1996, §7.2, the "ftol" stopping rule), which neither of scipy's solvers
  offers. Their own step tests (``xtol``) otherwise keep them flying at the residual's noise floor
  (the integrator's tolerance) for as many flights again as the convergence took.

References
    Moré, J. J., Garbow, B. S., Hillstrom, K. E. (1980), *User Guide for MINPACK-1*, ANL-80-74.
    Powell, M. J. D. (1970), "A hybrid method for nonlinear equations", in *Numerical Methods for
    Nonlinear Algebraic Equations*, Gordon and Breach.
    Broyden, C. G. (1965), "A class of methods for solving nonlinear simultaneous equations",
    *Math. Comp.* 19, 577-593.
    Dennis, J. E., Schnabel, R. B. (1996), *Numerical Methods for Unconstrained Optimization and
    Nonlinear Equations*, SIAM Classics 16, §7.2 (stopping criteria).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares, root


def forward_jacobian(fun, step, value_at=None):
    """Forward-difference Jacobian of ``fun`` with ABSOLUTE steps (units of x; scalar or per
    variable), in the ``jac(x, *args)`` form scipy's solvers call. ``value_at`` (default ``fun``)
    gives the value at x itself: a remembered residual, so the point just evaluated is not flown
    again, while the differenced points do not displace it."""
    at = fun if value_at is None else value_at

    def jac(x, *args):
        f0 = at(x)
        steps = np.broadcast_to(np.asarray(step, float), x.shape)
        cols = []
        for j in range(x.size):
            xj = x.copy()
            xj[j] += steps[j]
            cols.append((fun(xj) - f0) / steps[j])
        return np.array(cols).T
    return jac


def remember_last(fun):
    """``fun`` that returns its last value again for the same ``x`` (bit for bit), without flying."""
    last = {}

    def remembered(x):
        key = np.asarray(x, float).tobytes()
        if last.get("x") != key:
            last["x"], last["f"] = None, None               # not kept if ``fun`` raises
            f = np.asarray(fun(x), float)
            last["x"], last["f"] = key, f
        return last["f"].copy()
    return remembered


class _Reached(Exception):
    """Raised by :func:`_stopping` to end a solver at a point whose residual is small enough."""

    def __init__(self, x):
        super().__init__()
        self.x = x


def _stopping(fun, stop: float):
    """``fun`` that raises :class:`_Reached` once the largest |residual| is at most ``stop``
    (the point and its residual stay remembered)."""
    def stopping(x):
        f = fun(x)
        if np.all(np.isfinite(f)) and np.max(np.abs(f)) <= stop:
            raise _Reached(np.array(x, float))
        return f
    return stopping


def _solvers(fun, step, stop):
    """(residual, Jacobian) as the solvers call them: both remembered for the last x (scipy
    evaluates each once more at the start only to check its shape), the residual stopping."""
    remembered = remember_last(fun)
    jac = remember_last(forward_jacobian(fun, step, value_at=remembered))
    return (remembered if stop is None else _stopping(remembered, stop)), jac


def solve_square(fun, x0, step, max_nfev: int, accept: float, stop: float | None = None,
                 **polish) -> np.ndarray:
    """The x zeroing the square system ``fun`` from ``x0``: hybrid method (module docstring) on
    forward differences of absolute ``step``; ``least_squares`` (``polish`` its options) from the
    better end if the largest residual stays above ``accept``. Either ends at the first point
    with every |residual| ≤ ``stop`` (None: at their own step tests)."""
    residual, jac = _solvers(fun, step, stop)
    x0 = np.asarray(x0, float)
    try:
        sol = root(residual, x0, jac=jac, method="hybr", options={"xtol": 1e-10, "maxfev": max_nfev})
        if np.all(np.isfinite(sol.fun)) and np.max(np.abs(sol.fun)) <= accept:
            return sol.x
        better = np.all(np.isfinite(sol.x)) and np.linalg.norm(sol.fun) < np.linalg.norm(residual(x0))
        return least_squares(residual, sol.x if better else x0, jac=jac, max_nfev=max_nfev, **polish).x
    except _Reached as reached:
        return reached.x

