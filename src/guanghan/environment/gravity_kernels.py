"""Numba kernels for spherical-harmonic gravity: potential, acceleration and its gradient.

Position ``r_bf`` (m) is given in the body-fixed frame of the coefficients; results are in the
same frame: potential (m²/s²), acceleration (m/s²), acceleration gradient ∂a/∂r (1/s²). The
potential convention is ``U = +mu/r [1 + Σ (R/r)^n P̄nm(sin φ)(C̄nm cos mλ + S̄nm sin mλ)]`` and
``a = +∇U`` (so the central term is ``-mu r/|r|³``).

The algorithm is the fully normalised Cunningham (1970) V/W recursion in Cartesian form as
written by Montenbruck & Gill (2000), §3.2.4–3.2.5, with the normalisation factors folded into
precomputed recursion coefficients, so it has no singularity at the poles and no division by
cos φ. The normalised column coefficients are those of the Holmes & Featherstone (2002)
modified forward column method (their eqs. 11–13); V̄nm here is (R/r)^(n+1) P̄nm(sin φ) times
cos mλ (W̄nm: sin mλ), carried as Cartesian monomials. The recursion runs degree by degree with
the inner loop over order, which is independent across orders and so vectorises.

Assumptions and limitations
    * Coefficients are fully normalised (geodesy 4π); ``C̄00`` scales the central term.
    * No H&F 10^-280 scaling. Instead, once a sectoral value falls below 1e-250 (relative to
      R/r; this happens only near the poles or far from the body), the higher orders are
      skipped: their terms are below 1e-250 times the column growth factor (< 2^n). This is exact
      to double precision for degree ≲ 700; GRGM1200A beyond degree ~700 would need the
      scaled H&F variant near the poles. It also avoids slow denormal arithmetic.
    * Inside the Brillouin sphere (r < R, possible near the lunar surface) the series may
      diverge at high degree; that is a property of the model, not of the recursion.
    * The gradient is a 4th-order central difference of the analytic acceleration, step
      ``2e-5 |r|`` (35 m at the lunar surface), symmetrised; 12 accelerations per call. Measured
      against an 8-point difference and the Laplace trace condition at degree 165 (GRGM1200A,
      10–1000 km, poles included) its error is ~1e-11 of ‖∂a/∂r‖; tests require 1e-9.
    * Kernels allocate nothing: they use the workspace carried in :class:`SHData`. One SHData
      must not be shared between threads; call :func:`with_new_workspace` (or
      ``GravityField.kernel_data()`` again) to get an independent copy for each thread.
    * ``fastmath`` is limited to reassociation, contraction (FMA) and signed zeros; NaN/inf
      semantics are kept.

References
    * Cunningham, L. E. (1970), "On the computation of the spherical harmonic terms needed during
      the numerical integration of the orbital motion of an artificial satellite", Celestial
      Mechanics 2, 207–216.
    * Montenbruck, O., Gill, E. (2000), Satellite Orbits, Springer: §3.2.2 (normalisation
      N_nm = sqrt((2-δ_m0)(2n+1)(n-m)!/(n+m)!)), §3.2.4 eqs. 3.29–3.31 (V/W recursions),
      §3.2.5 eq. 3.33 (acceleration from V/W of degree n+1).
    * Holmes, S. A., Featherstone, W. E. (2002), "A unified approach to the Clenshaw summation and
      the recursive computation of very high degree and order normalised associated Legendre
      functions", J. Geodesy 76, 279–299: eqs. 11–13 (normalised recursion coefficients).
"""

from __future__ import annotations

import functools

from collections import namedtuple

import numpy as np
from numba import njit

#: Numba-ready field data. 2-D arrays are float64 in [n, m] layout: the recursion runs degree by
#: degree with the inner loop over order on contiguous memory (it vectorises). ``v_work``,
#: ``w_work`` and ``scratch`` are the mutable workspace.
SHData = namedtuple(
    "SHData",
    [
        "mu",        # gravitational parameter (m³/s²)
        "radius",    # reference radius (m)
        "nmax",      # degree (int)
        "mmax",      # order (int)
        "c00",       # C̄00 (scales the central term)
        "c",         # C̄nm, shape (nmax+1, mmax+1)
        "s",         # S̄nm, shape (nmax+1, mmax+1)
        "sect",      # sectoral factor, V̄mm from V̄(m-1)(m-1), shape (nmax+2,)
        "a_nm",      # column factor on z V̄(n-1)m, shape (nmax+2, nmax+2)
        "b_nm",      # column factor on V̄(n-2)m, shape (nmax+2, nmax+2)
        "gxy1",      # acceleration factor on V̄(n+1)(m+1), shape (nmax+1, mmax+1)
        "gxy2",      # acceleration factor on V̄(n+1)(m-1)
        "gz",        # acceleration factor on V̄(n+1)m
        "v_work",    # workspace V̄[n, m], shape (nmax+2, nmax+2)
        "w_work",    # workspace W̄[n, m]
        "scratch",   # workspace for the gradient, shape (3, 3)
    ],
)

#: A column whose sectoral value falls below this (relative to V̄00 = R/r) ends the recursion:
#: every later column is smaller still, so their terms are below 1e-250 of the central term
#: times the column growth (< 2^n, i.e. < 1e50 at degree 165). Avoids denormal arithmetic.
_TINY = 1e-250
_FASTMATH = {"contract", "reassoc", "nsz"}


@functools.lru_cache(maxsize=16)
def recursion_factors(nmax: int, mmax: int):
    """Precomputed normalised recursion and acceleration factors, [n, m] layout (read-only arrays,
    computed once per degree and order: every propagation shares them)."""
    sect = np.zeros(nmax + 2)
    a_nm = np.zeros((nmax + 2, nmax + 2))
    b_nm = np.zeros((nmax + 2, nmax + 2))
    for m in range(1, nmax + 2):
        # (2m-1) N_mm/N_(m-1)(m-1): sectoral step of Montenbruck & Gill §3.2.4, normalised;
        # equals Holmes & Featherstone's sqrt((2m+1)/(2m)) seed (sqrt(3) for m = 1).
        sect[m] = np.sqrt(3.0) if m == 1 else np.sqrt((2.0 * m + 1.0) / (2.0 * m))
    for m in range(0, nmax + 1):
        n = np.arange(m + 1, nmax + 2, dtype=float)
        # Holmes & Featherstone (2002) eq. 12: a_nm = sqrt((2n-1)(2n+1)/((n-m)(n+m))).
        a_nm[m + 1:, m] = np.sqrt((2 * n - 1) * (2 * n + 1) / ((n - m) * (n + m)))
        # eq. 13: b_nm = sqrt((2n+1)(n+m-1)(n-m-1)/((n-m)(n+m)(2n-3))); zero at n = m+1.
        b_nm[m + 1:, m] = np.sqrt((2 * n + 1) * (n + m - 1) * (n - m - 1)
                                  / ((n - m) * (n + m) * (2 * n - 3)))
    gxy1 = np.zeros((nmax + 1, mmax + 1))
    gxy2 = np.zeros((nmax + 1, mmax + 1))
    gz = np.zeros((nmax + 1, mmax + 1))
    n = np.arange(nmax + 1, dtype=float)
    # Montenbruck & Gill eq. 3.33 with C_nm V_(n+1)k = C̄nm V̄(n+1)k N_nm/N_(n+1)k (§3.2.2):
    gxy1[:, 0] = np.sqrt((2 * n + 1) * (n + 1) * (n + 2) / (2 * (2 * n + 3)))
    gz[:, 0] = np.sqrt((2 * n + 1) * (n + 1) ** 2 / (2 * n + 3))
    for m in range(1, mmax + 1):
        nn = n[m:]
        gxy1[m:, m] = 0.5 * np.sqrt((2 * nn + 1) * (nn + m + 1) * (nn + m + 2) / (2 * nn + 3))
        k = 2.0 if m == 1 else 1.0  # 2/(2 - δ_(m-1)0) from N_(n+1)(m-1)
        gxy2[m:, m] = 0.5 * np.sqrt(k * (nn - m + 1) * (nn - m + 2) * (2 * nn + 1) / (2 * nn + 3))
        gz[m:, m] = np.sqrt((2 * nn + 1) * (nn + m + 1) * (nn - m + 1) / (2 * nn + 3))
    out = (sect, a_nm, b_nm, gxy1, gxy2, gz)
    for a in out:
        a.flags.writeable = False
    return out


def make_sh_data(mu, radius, c, s, degree, order) -> SHData:
    """Build :class:`SHData` from fully normalised ``c[n, m]``, ``s[n, m]`` (plain Python)."""
    sect, a_nm, b_nm, gxy1, gxy2, gz = recursion_factors(degree, order)
    cc = np.ascontiguousarray(np.asarray(c, dtype=np.float64)[:degree + 1, :order + 1])
    ss = np.ascontiguousarray(np.asarray(s, dtype=np.float64)[:degree + 1, :order + 1])
    return SHData(float(mu), float(radius), int(degree), int(order), float(cc[0, 0]), cc, ss,
                  sect, a_nm, b_nm, gxy1, gxy2, gz, np.zeros((degree + 2, degree + 2)),
                  np.zeros((degree + 2, degree + 2)), np.zeros((3, 3)))


def with_new_workspace(data: SHData) -> SHData:
    """A copy of ``data`` sharing the read-only coefficients but with its own workspace."""
    return data._replace(v_work=np.zeros_like(data.v_work), w_work=np.zeros_like(data.w_work),
                         scratch=np.zeros_like(data.scratch))


@njit(cache=True, fastmath=_FASTMATH)
def _fill_vw(x, y, z, data, nrow, mtop):
    """V̄nm, W̄nm for n ≤ nrow, m ≤ min(n, mtop) into the workspace; returns the last column filled.

    Columns past a negligible sectoral value (near the poles) are left unfilled (see ``_TINY``).
    """
    v, w, a_nm, b_nm = data.v_work, data.w_work, data.a_nm, data.b_nm
    radius = data.radius
    r2 = x * x + y * y + z * z
    rho = radius / r2
    x0, y0, z0, rr = x * rho, y * rho, z * rho, radius * rho
    v[0, 0] = radius / np.sqrt(r2)  # V00 = R/r, Montenbruck & Gill §3.2.4
    w[0, 0] = 0.0
    tiny = _TINY * v[0, 0]
    mstop = mtop
    for n in range(1, nrow + 1):
        for m in range(0, min(n - 2, mstop) + 1):  # column step, H&F eq. 11
            a = a_nm[n, m] * z0
            b = b_nm[n, m] * rr
            v[n, m] = a * v[n - 1, m] - b * v[n - 2, m]
            w[n, m] = a * w[n - 1, m] - b * w[n - 2, m]
        if n - 1 <= mstop:  # first step below the sectoral, b = 0
            a = a_nm[n, n - 1] * z0
            v[n, n - 1] = a * v[n - 1, n - 1]
            w[n, n - 1] = a * w[n - 1, n - 1]
        if n <= mstop:  # sectoral step (V + iW)_mm ∝ (x + iy)(V + iW)_(m-1)(m-1)
            f = data.sect[n]
            vp, wp = v[n - 1, n - 1], w[n - 1, n - 1]
            v[n, n] = f * (x0 * vp - y0 * wp)
            w[n, n] = f * (x0 * wp + y0 * vp)
            if abs(v[n, n]) + abs(w[n, n]) < tiny:
                mstop = min(mstop, n + 1)  # keep one more column: terms m = n still need it
    return mstop


@njit(cache=True, fastmath=_FASTMATH)
def sh_potential(r_bf, data):
    """Gravitational potential U (m²/s²) at ``r_bf`` (m, body-fixed); U = +mu/r for a point mass."""
    mstop = _fill_vw(r_bf[0], r_bf[1], r_bf[2], data, data.nmax, data.mmax)
    v, w, c, s = data.v_work, data.w_work, data.c, data.s
    total = 0.0
    for n in range(data.nmax, 0, -1):  # U = GM/R Σ (C̄ V̄ + S̄ W̄) (M&G §3.2.4), small terms first
        for m in range(0, min(n, mstop) + 1):
            total += c[n, m] * v[n, m] + s[n, m] * w[n, m]
    return data.mu / data.radius * (total + data.c00 * v[0, 0])


@njit(cache=True, fastmath=_FASTMATH)
def sh_acceleration(r_bf, data, out):
    """Total acceleration (m/s²) at ``r_bf`` (m, body-fixed) into ``out`` (3,), incl. -mu r/r³."""
    x, y, z = r_bf[0], r_bf[1], r_bf[2]
    mstop = _fill_vw(x, y, z, data, data.nmax + 1, data.mmax + 1)
    v, w, c, s = data.v_work, data.w_work, data.c, data.s
    g1, g2, gz = data.gxy1, data.gxy2, data.gz
    ax = ay = az = 0.0
    for n in range(data.nmax, 0, -1):  # Montenbruck & Gill eq. 3.33, small terms first
        k = n + 1
        ax -= c[n, 0] * g1[n, 0] * v[k, 1]  # m = 0
        ay -= c[n, 0] * g1[n, 0] * w[k, 1]
        az -= c[n, 0] * gz[n, 0] * v[k, 0]
        for m in range(1, min(n, data.mmax, mstop - 1) + 1):  # m > 0
            cnm, snm = c[n, m], s[n, m]
            vu, wu, vd, wd = v[k, m + 1], w[k, m + 1], v[k, m - 1], w[k, m - 1]
            ax += g1[n, m] * (-cnm * vu - snm * wu) + g2[n, m] * (cnm * vd + snm * wd)
            ay += g1[n, m] * (-cnm * wu + snm * vu) + g2[n, m] * (-cnm * wd + snm * vd)
            az += gz[n, m] * (-cnm * v[k, m] - snm * w[k, m])
    scale = data.mu / (data.radius * data.radius)
    r2 = x * x + y * y + z * z
    central = data.c00 * data.mu / (r2 * np.sqrt(r2))
    out[0] = scale * ax - central * x
    out[1] = scale * ay - central * y
    out[2] = scale * az - central * z


@njit(cache=True)
def sh_acceleration_gradient(r_bf, data, out3x3):
    """∂a/∂r (1/s²) at ``r_bf`` (m, body-fixed) into ``out3x3``: 4th-order central difference.

    Stencil (-a(+2h) + 8a(+h) - 8a(-h) + a(-2h))/(12h) per axis, h = 2e-5 |r|, then symmetrised
    (the Hessian of U is symmetric). Costs 12 accelerations.
    """
    rp = data.scratch[0]
    acc = data.scratch[1]
    h = 2e-5 * np.sqrt(r_bf[0] ** 2 + r_bf[1] ** 2 + r_bf[2] ** 2)
    weights = (-1.0, 8.0, -8.0, 1.0)
    steps = (2.0, 1.0, -1.0, -2.0)
    for j in range(3):
        for i in range(3):
            out3x3[i, j] = 0.0
        for k in range(4):
            rp[0], rp[1], rp[2] = r_bf[0], r_bf[1], r_bf[2]
            rp[j] += steps[k] * h
            sh_acceleration(rp, data, acc)
            for i in range(3):
                out3x3[i, j] += weights[k] * acc[i]
        for i in range(3):
            out3x3[i, j] /= 12.0 * h
    for i in range(3):
        for j in range(i + 1, 3):
            sym = 0.5 * (out3x3[i, j] + out3x3[j, i])
            out3x3[i, j] = sym
            out3x3[j, i] = sym
