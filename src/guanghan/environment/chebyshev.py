"""Piecewise Chebyshev tables: what the dynamics use instead of calling SPICE in the loop.

A table covers [t0, t0 + n_seg * seg_len] with equal segments; on each, every component is a
Chebyshev series of fixed degree fitted by interpolation at the Chebyshev–Gauss nodes (a discrete
cosine transform of the samples). Third-body positions and the lunar orientation matrix are smooth
on a one-day scale (monthly periods), so degree 13 on one-day segments reproduces SPICE to well below
a millimetre and 1e-12 rad (checked in ``tests/test_chebyshev.py``).

Assumptions and limitations
    Components are fitted independently: a fitted rotation matrix is orthonormal only to the fit
    accuracy (~1e-15). Evaluation outside the span clamps to the first/last segment (extrapolation):
    callers must build tables that cover their span (``fit`` pads by one segment).

References
    Press, W. H. et al., *Numerical Recipes* (3rd ed.), §5.8 "Chebyshev Approximation" (eqs. 5.8.7,
    5.8.11 Clenshaw recurrence); Newhall, X X (1989), "Numerical representation of planetary
    ephemerides", Celest. Mech. 45:305 (the JPL ephemeris practice of segmented Chebyshev fits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

DEFAULT_SEGMENT_S = 86400.0
DEFAULT_DEGREE = 13


@dataclass(frozen=True)
class ChebyshevTable:
    """Segmented Chebyshev fit of ``ncomp`` functions of time (ET s)."""

    t0: float
    seg_len: float
    coeffs: np.ndarray  # (n_seg, ncomp, degree + 1)

    @property
    def t1(self) -> float:
        return self.t0 + self.seg_len * self.coeffs.shape[0]

    @property
    def ncomp(self) -> int:
        return self.coeffs.shape[1]

    @classmethod
    def fit(cls, func: Callable[[np.ndarray], np.ndarray], et0: float, et1: float,
            seg_len: float = DEFAULT_SEGMENT_S, degree: int = DEFAULT_DEGREE,
            pad: bool = True) -> "ChebyshevTable":
        """Fit ``func(ets) -> (n, ncomp)`` over [et0, et1] (s), padded by one segment each side."""
        if not et1 > et0:
            et0, et1 = min(et0, et1), max(et0, et1) + 1.0
        start = et0 - seg_len if pad else et0
        n_seg = int(np.ceil((et1 + (seg_len if pad else 0.0) - start) / seg_len))
        n_nodes = degree + 1
        k = np.arange(n_nodes)
        x = np.cos(np.pi * (k + 0.5) / n_nodes)                      # Chebyshev–Gauss nodes
        mids = start + seg_len * (np.arange(n_seg) + 0.5)
        ets = (mids[:, None] + 0.5 * seg_len * x[None, :]).ravel()
        values = np.asarray(func(ets), dtype=float).reshape(n_seg, n_nodes, -1)
        # c_j = (2/N) sum_k f(x_k) T_j(x_k), with c_0 halved (Numerical Recipes eq. 5.8.7)
        tj = np.cos(np.outer(np.arange(n_nodes), np.pi * (k + 0.5) / n_nodes))  # (j, k)
        coeffs = 2.0 / n_nodes * np.einsum("jk,skc->scj", tj, values)
        coeffs[:, :, 0] *= 0.5
        return cls(float(start), float(seg_len), np.ascontiguousarray(coeffs))

    def __call__(self, ets) -> np.ndarray:
        """Evaluate at epochs ``ets`` (s); returns (n, ncomp)."""
        ets = np.atleast_1d(np.asarray(ets, dtype=float))
        out = np.empty((ets.size, self.ncomp))
        for i, t in enumerate(ets):
            cheb_eval(t, self.t0, self.seg_len, self.coeffs, out[i], 0)
        return out

    @staticmethod
    def stack(tables: list["ChebyshevTable"]) -> "ChebyshevTable":
        """One table holding the components of several tables fitted on the same segments."""
        first = tables[0]
        for t in tables[1:]:
            if t.t0 != first.t0 or t.seg_len != first.seg_len or t.coeffs.shape[0] != first.coeffs.shape[0] \
                    or t.coeffs.shape[2] != first.coeffs.shape[2]:
                raise ValueError("Chebyshev tables to stack must share span, segments and degree")
        return ChebyshevTable(first.t0, first.seg_len,
                              np.ascontiguousarray(np.concatenate([t.coeffs for t in tables], axis=1)))


@njit(cache=True)
def cheb_eval(t, t0, seg_len, coeffs, out, first):
    """Write all components at time ``t`` (s) into ``out[first:first + ncomp]``; no allocation."""
    n_seg, ncomp, ncoef = coeffs.shape
    k = int(np.floor((t - t0) / seg_len))
    if k < 0:
        k = 0
    elif k >= n_seg:
        k = n_seg - 1
    x = 2.0 * (t - t0 - k * seg_len) / seg_len - 1.0
    for c in range(ncomp):
        out[first + c] = coeffs[k, c, 0]
    if ncoef == 1:
        return
    t_prev = 1.0
    t_cur = x
    for j in range(1, ncoef):
        for c in range(ncomp):
            out[first + c] += coeffs[k, c, j] * t_cur
        t_next = 2.0 * x * t_cur - t_prev
        t_prev = t_cur
        t_cur = t_next
