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

References
    Moré, J. J., Garbow, B. S., Hillstrom, K. E. (1980), *User Guide for MINPACK-1*, ANL-80-74.
    Powell, M. J. D. (1970), "A hybrid method for nonlinear equations", in *Numerical Methods for
    Nonlinear Algebraic Equations*, Gordon and Breach.
    Broyden, C. G. (1965), "A class of methods for solving nonlinear simultaneous equations",
    *Math. Comp.* 19, 577-593.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares, root


def forward_jacobian(fun, step):
    """Forward-difference Jacobian of ``fun`` with ABSOLUTE steps (units of x; scalar or per
    variable), in the ``jac(x, *args)`` form scipy's solvers call."""
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


def solve_square(fun, x0, step, max_nfev: int, accept: float, **polish) -> np.ndarray:
    """The x zeroing the square system ``fun`` from ``x0``: hybrid method (module docstring) on
    forward differences of absolute ``step``; ``least_squares`` (``polish`` its options) from the
    better end if the largest residual stays above ``accept``."""
    fun = remember_last(fun)
    jac = forward_jacobian(fun, step)
    x0 = np.asarray(x0, float)
    sol = root(fun, x0, jac=jac, method="hybr", options={"xtol": 1e-10, "maxfev": max_nfev})
    if np.all(np.isfinite(sol.fun)) and np.max(np.abs(sol.fun)) <= accept:
        return sol.x
    better = np.all(np.isfinite(sol.x)) and np.linalg.norm(sol.fun) < np.linalg.norm(fun(x0))
    return least_squares(fun, sol.x if better else x0, jac=jac, max_nfev=max_nfev, **polish).x
