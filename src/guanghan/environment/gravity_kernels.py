"""Numba kernels for spherical-harmonic gravity: potential, acceleration and its gradient.

Position ``r_bf`` (m) is given in the body-fixed frame of the coefficients; results are in the
same frame: potential (m²/s²), acceleration (m/s²), acceleration gradient ∂a/∂r (1/s²). The
potential convention is ``U = +mu/r [1 + Σ (R/r)^n P̄nm(sin φ)(C̄nm cos mλ + S̄nm sin mλ)]`` and
``a = +∇U`` (so the central term is ``-mu r/|r|³``).

The algorithm is the fully normalised Cunningham (1970) V/W recursion in Cartesian form as
written by Montenbruck & Gill (2000), §3.2.4–3.2.5, with the normalisation factors folded into
precomputed recursion coefficients, so it has no singularity at the poles and no division by
cos φ. The normalised recursion coefficients are the same as those of the Holmes & Featherstone
(2002) modified forward column method (their eqs. 11–13); V̄nm here is (R/r)^(n+1) P̄nm times
cos/sin of mλ, carried in Cartesian monomials.

Assumptions and limitations
    * Coefficients are fully normalised (geodesy 4π); ``C̄00`` scales the central term.
    * Columns are computed without H&F's 10^-280 scaling: at degree ≤ ~1000 the sectoral seeds
      (ρ/r)^m underflow only where their contribution is genuinely below 1e-300, which is harmless.
      Above degree ~1500 near the poles a scaled variant would be needed.
    * The gradient is a 4th-order central difference of the analytic acceleration with step
      ``2e-5 |r|`` (about 35 m at the lunar surface) then symmetrised; its relative error is
      about 1e-9 of ‖∂a/∂r‖ at degree 165 (tests check it against the closed-form point-mass
      gradient, the Laplace trace condition and an 8-point difference).
    * Kernels allocate nothing: they use the workspace carried in :class:`SHData`. One SHData
      must not be shared between threads; call :func:`with_new_workspace` (or
      ``GravityField.kernel_data()`` again) to get an independent copy for each thread.

References
    * Cunningham, L. E. (1970), "On the computation of the spherical harmonic terms needed during
      the numerical integration of the orbital motion of an artificial satellite", Celestial
      Mechanics 2, 207–216.
    * Montenbruck, O., Gill, E. (2000), Satellite Orbits, Springer: eqs. 3.29–3.31 (V/W
      recursions), eq. 3.33 (acceleration), eq. 3.24 (normalisation factor).
    * Holmes, S. A., Featherstone, W. E. (2002), "A unified approach to the Clenshaw summation and
      the recursive computation of very high degree and order normalised associated Legendre
      functions", J. Geodesy 76, 279–299: eqs. 11–13 (normalised recursion coefficients).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

#: Numba-ready field data. Arrays are float64 in [m, n] (order-major) layout so inner loops over
#: degree run on contiguous memory. ``v_work``/``w_work``/``scratch`` are the mutable workspace.
SHData = namedtuple(
    "SHData",
    [
        "mu",        # gravitational parameter (m³/s²)
        "radius",    # reference radius (m)
        "nmax",      # degree (int)
        "mmax",      # order (int)
        "c00",       # C̄00 (scales the central term)
        "c_mn",      # C̄nm as [m, n], shape (mmax+1, nmax+1)
        "s_mn",      # S̄nm as [m, n]
        "sect",      # sectoral factor for V̄mm from V̄(m-1)(m-1), shape (mmax+2,)
        "a_mn",      # column recursion factor on z V̄(n-1)m, shape (mmax+2, nmax+2)
        "b_mn",      # column recursion factor on V̄(n-2)m, shape (mmax+2, nmax+2)
        "gxy1",      # acceleration factor on V̄(n+1)(m+1), shape (mmax+1, nmax+1)
        "gxy2",      # acceleration factor on V̄(n+1)(m-1)
        "gz",        # acceleration factor on V̄(n+1)m
        "v_work",    # workspace V̄ [m, n], shape (mmax+2, nmax+2)
        "w_work",    # workspace W̄ [m, n]
        "scratch",   # workspace for the gradient, shape (3, 3)
    ],
)


def recursion_factors(nmax: int, mmax: int):
    """Precomputed normalised recursion and acceleration factors (see module references)."""
    sect = np.zeros(mmax + 2)
    a_mn = np.zeros((mmax + 2, nmax + 2))
    b_mn = np.zeros((mmax + 2, nmax + 2))
    for m in range(1, mmax + 2):
        # V̄mm = sect[m] (x V̄ - y W̄) R/r²: (2m-1) N_mm/N_(m-1)(m-1); Holmes & Featherstone eq. 13.
        sect[m] = np.sqrt(3.0) if m == 1 else np.sqrt((2.0 * m + 1.0) / (2.0 * m))
    for m in range(0, mmax + 2):
        n = np.arange(m + 1, nmax + 2, dtype=float)
        # Holmes & Featherstone (2002) eq. 12: a_nm = sqrt((2n-1)(2n+1)/((n-m)(n+m))).
        a_mn[m, m + 1:] = np.sqrt((2 * n - 1) * (2 * n + 1) / ((n - m) * (n + m)))
        # eq. 12: b_nm = sqrt((2n+1)(n+m-1)(n-m-1)/((n-m)(n+m)(2n-3))); zero at n = m+1.
        b_mn[m, m + 1:] = np.sqrt((2 * n + 1) * (n + m - 1) * (n - m - 1)
                                  / ((n - m) * (n + m) * (2 * n - 3)))
    gxy1 = np.zeros((mmax + 1, nmax + 1))
    gxy2 = np.zeros((mmax + 1, nmax + 1))
    gz = np.zeros((mmax + 1, nmax + 1))
    n = np.arange(nmax + 1, dtype=float)
    # Montenbruck & Gill eq. 3.33 with C_nm V_(n+1)k = C̄nm V̄(n+1)k N_nm/N_(n+1)k (eq. 3.24).
    gxy1[0] = np.sqrt((2 * n + 1) * (n + 1) * (n + 2) / (2 * (2 * n + 3)))
    gz[0] = np.sqrt((2 * n + 1) * (n + 1) ** 2 / (2 * n + 3))
    for m in range(1, mmax + 1):
        nn = n[m:]
        gxy1[m, m:] = 0.5 * np.sqrt((2 * nn + 1) * (nn + m + 1) * (nn + m + 2) / (2 * nn + 3))
        k = 2.0 if m == 1 else 1.0  # (2 - δ_(m-1)0) in N_(n+1)(m-1)
        gxy2[m, m:] = 0.5 * np.sqrt(k * (nn - m + 1) * (nn - m + 2) * (2 * nn + 1) / (2 * nn + 3))
        gz[m, m:] = np.sqrt((2 * nn + 1) * (nn + m + 1) * (nn - m + 1) / (2 * nn + 3))
    return sect, a_mn, b_mn, gxy1, gxy2, gz


def make_sh_data(mu, radius, c, s, degree, order) -> SHData:
    """Build :class:`SHData` from fully normalised ``c[n, m]``, ``s[n, m]`` (plain Python)."""
    sect, a_mn, b_mn, gxy1, gxy2, gz = recursion_factors(degree, order)
    c_mn = np.ascontiguousarray(np.asarray(c, dtype=np.float64)[:degree + 1, :order + 1].T)
    s_mn = np.ascontiguousarray(np.asarray(s, dtype=np.float64)[:degree + 1, :order + 1].T)
    return SHData(float(mu), float(radius), int(degree), int(order), float(c[0, 0]), c_mn, s_mn,
                  sect, a_mn, b_mn, gxy1, gxy2, gz, np.zeros((order + 2, degree + 2)),
                  np.zeros((order + 2, degree + 2)), np.zeros((3, 3)))


def with_new_workspace(data: SHData) -> SHData:
    """A copy of ``data`` sharing the read-only coefficients but with its own workspace."""
    return data._replace(v_work=np.zeros_like(data.v_work), w_work=np.zeros_like(data.w_work),
                         scratch=np.zeros_like(data.scratch))


@njit(cache=True)
def _fill_vw(x, y, z, data, nrow):
    """Fill V̄nm, W̄nm for n ≤ nrow, m ≤ min(n, nrow, mmax+1) into the workspace."""
    v, w = data.v_work, data.w_work
    radius = data.radius
    r2 = x * x + y * y + z * z
    rho = radius / r2
    x0, y0, z0, rr = x * rho, y * rho, z * rho, radius * rho
    v[0, 0] = radius / np.sqrt(r2)  # Montenbruck & Gill eq. 3.31: V00 = R/r
    w[0, 0] = 0.0
    mtop = min(data.mmax + 1, nrow)
    for m in range(mtop + 1):
        if m > 0:  # sectoral step, Montenbruck & Gill eq. 3.30 (normalised)
            f = data.sect[m]
            vp, wp = v[m - 1, m - 1], w[m - 1, m - 1]
            v[m, m] = f * (x0 * vp - y0 * wp)
            w[m, m] = f * (x0 * wp + y0 * vp)
        if m + 1 <= nrow:  # first step down the column, b = 0
            a = data.a_mn[m, m + 1]
            v[m, m + 1] = a * z0 * v[m, m]
            w[m, m + 1] = a * z0 * w[m, m]
        for n in range(m + 2, nrow + 1):  # Montenbruck & Gill eq. 3.29 (normalised)
            a = data.a_mn[m, n] * z0
            b = data.b_mn[m, n] * rr
            v[m, n] = a * v[m, n - 1] - b * v[m, n - 2]
            w[m, n] = a * w[m, n - 1] - b * w[m, n - 2]


@njit(cache=True)
def sh_potential(r_bf, data):
    """Gravitational potential U (m²/s²) at ``r_bf`` (m, body-fixed); U = +mu/r for a point mass."""
    _fill_vw(r_bf[0], r_bf[1], r_bf[2], data, data.nmax)
    v, w = data.v_work, data.w_work
    total = 0.0
    for m in range(data.mmax, -1, -1):
        for n in range(data.nmax, max(m, 1) - 1, -1):  # Montenbruck & Gill eq. 3.27
            total += data.c_mn[m, n] * v[m, n] + data.s_mn[m, n] * w[m, n]
    return data.mu / data.radius * (total + data.c00 * v[0, 0])


@njit(cache=True)
def sh_acceleration(r_bf, data, out):
    """Total acceleration (m/s²) at ``r_bf`` (m, body-fixed) into ``out`` (3,), central term included."""
    x, y, z = r_bf[0], r_bf[1], r_bf[2]
    _fill_vw(x, y, z, data, data.nmax + 1)
    v, w, cc, ss = data.v_work, data.w_work, data.c_mn, data.s_mn
    ax = ay = az = 0.0
    for n in range(data.nmax, 0, -1):  # zonal terms, Montenbruck & Gill eq. 3.33 (m = 0)
        c = cc[0, n]
        ax -= c * data.gxy1[0, n] * v[1, n + 1]
        ay -= c * data.gxy1[0, n] * w[1, n + 1]
        az -= c * data.gz[0, n] * v[0, n + 1]
    for m in range(data.mmax, 0, -1):  # tesseral and sectoral terms, eq. 3.33 (m > 0)
        for n in range(data.nmax, m - 1, -1):
            c, s = cc[m, n], ss[m, n]
            g1, g2 = data.gxy1[m, n], data.gxy2[m, n]
            vu, wu = v[m + 1, n + 1], w[m + 1, n + 1]
            vd, wd = v[m - 1, n + 1], w[m - 1, n + 1]
            ax += g1 * (-c * vu - s * wu) + g2 * (c * vd + s * wd)
            ay += g1 * (-c * wu + s * vu) + g2 * (-c * wd + s * vd)
            az += data.gz[m, n] * (-c * v[m, n + 1] - s * w[m, n + 1])
    scale = data.mu / (data.radius * data.radius)
    r2 = x * x + y * y + z * z
    central = data.c00 * data.mu / (r2 * np.sqrt(r2))
    out[0] = scale * ax - central * x
    out[1] = scale * ay - central * y
    out[2] = scale * az - central * z


@njit(cache=True)
def sh_acceleration_gradient(r_bf, data, out3x3):
    """∂a/∂r (1/s²) at ``r_bf`` (m, body-fixed) into ``out3x3``: 4th-order central difference.

    Stencil (-f(+2h) + 8f(+h) - 8f(-h) + f(-2h))/(12h), h = 2e-5 |r|; result symmetrised.
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
