"""Guanghan's lunar-orbit force model re-written in plain NumPy (no numba), for the benchmark.

The model is the one ``guanghan.dynamics.forces.rhs`` evaluates for a central spherical-harmonic
field plus point-mass third bodies (no SRP, no burns): the spacecraft state is [r (m), v (m/s), m
(kg)] relative to the Moon in J2000 axes, the field is evaluated in the body-fixed frame reached
through the J2000→MOON_PA rotation, and third bodies carry the indirect term. It reads the SAME
Chebyshev table as the compiled kernel (``ForceData.cheb_*``), so the two differ only in arithmetic.

This is what a careful NumPy user would write: the V/W recursion is vectorised over the order m
for each degree n (a Python loop of nmax + 2 iterations per call), the acceleration sums are whole
array operations, and the Chebyshev series use ``numpy.polynomial.chebyshev.chebval``. The
normalised recursion and acceleration factors are derived here from the normalisation factor
N_nm of Montenbruck & Gill eq. 3.24 (ratios written in closed form), independently of
``guanghan.environment.gravity_kernels``; :func:`check_against_guanghan` compares the two.

Assumptions and limitations
    * Fully normalised coefficients (geodesy 4π); no pole-underflow guard (fine below degree ~1000).
    * SRP and finite burns of the compiled model are not reproduced (the benchmark has none).
    * The mass derivative is zero (no thrust).

References
    Montenbruck, O. and Gill, E., *Satellite Orbits* (2000): eq. 3.24 (normalisation), eqs.
    3.29–3.31 (V/W recursions), eq. 3.33 (acceleration), eq. 3.37 (third body, indirect term).
    Press et al., *Numerical Recipes* (3rd ed.) §5.8 (Chebyshev series).
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import chebyshev as npcheb


def _factors(nmax: int):
    """Normalised recursion/acceleration factors for degrees ≤ nmax (V, W needed to nmax + 1)."""
    top = nmax + 1
    sect = np.zeros(top + 1)                  # V̄mm = sect[m] (x0 V̄(m-1)(m-1) - y0 W̄(m-1)(m-1))
    for m in range(1, top + 1):
        # (2m-1) N_mm / N_(m-1)(m-1), squared: k (2m+1)/(2m), k = 2 when m-1 = 0 (M&G 3.24, 3.30)
        sect[m] = np.sqrt((2.0 if m == 1 else 1.0) * (2 * m + 1) / (2 * m))
    n = np.arange(top + 1, dtype=float)[:, None]
    m = np.arange(top + 1, dtype=float)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        # V̄nm = fa z0 V̄(n-1)m - fb rr V̄(n-2)m  (M&G eq. 3.29 times N_nm / N_(n-k)m)
        fa = (2 * n - 1) / (n - m) * np.sqrt((2 * n + 1) / (2 * n - 1) * (n - m) / (n + m))
        fb = (n + m - 1) / (n - m) * np.sqrt((2 * n + 1) / (2 * n - 3) * (n - m) * (n - m - 1)
                                             / ((n + m) * (n + m - 1)))
    fa = np.where(n > m, fa, 0.0)
    fb = np.where(n > m + 1, fb, 0.0)
    nn = np.arange(nmax + 1, dtype=float)[:, None]
    mm = np.arange(nmax + 1, dtype=float)[None, :]
    valid = mm <= nn
    # M&G eq. 3.33 with C_nm V_(n+1)k = C̄nm V̄(n+1)k N_nm / N_(n+1)k:
    g1 = np.where(mm == 0, np.sqrt((2 * nn + 1) * (nn + 1) * (nn + 2) / (2 * (2 * nn + 3))),
                  0.5 * np.sqrt((2 * nn + 1) * (nn + mm + 1) * (nn + mm + 2) / (2 * nn + 3)))
    k = np.where(mm == 1, 2.0, 1.0)
    with np.errstate(invalid="ignore"):
        g2 = np.where(mm == 0, 0.0, 0.5 * np.sqrt(k * (2 * nn + 1) * (nn - mm + 1) * (nn - mm + 2)
                                                  / (2 * nn + 3)))
        gz = np.sqrt((2 * nn + 1) * (nn - mm + 1) * (nn + mm + 1) / (2 * nn + 3))
    return sect, fa, fb, np.where(valid, g1, 0.0), np.where(valid, g2, 0.0), np.where(valid, gz, 0.0)


class NumpySphericalHarmonics:
    """Acceleration of a fully normalised field, NumPy only; ``c``, ``s`` of shape (nmax+1,)*2."""

    def __init__(self, mu: float, radius: float, c: np.ndarray, s: np.ndarray):
        self.mu, self.radius = float(mu), float(radius)
        self.nmax = c.shape[0] - 1
        self.c = np.array(c, dtype=float)
        self.s = np.array(s, dtype=float)
        self.sect, self.fa, self.fb, self.g1, self.g2, self.gz = _factors(self.nmax)

    def _vw(self, x, y, z):
        top = self.nmax + 1
        v = np.zeros((top + 2, top + 2))
        w = np.zeros((top + 2, top + 2))
        r2 = x * x + y * y + z * z
        rho = self.radius / r2
        x0, y0, z0, rr = x * rho, y * rho, z * rho, self.radius * rho
        v[0, 0] = self.radius / np.sqrt(r2)                   # M&G eq. 3.31
        for n in range(1, top + 1):                           # vectorised over m ≤ n - 1
            sl = slice(0, n)
            v[n, sl] = self.fa[n, sl] * z0 * v[n - 1, sl] - self.fb[n, sl] * rr * v[n - 2, sl]
            w[n, sl] = self.fa[n, sl] * z0 * w[n - 1, sl] - self.fb[n, sl] * rr * w[n - 2, sl]
            f = self.sect[n]
            v[n, n] = f * (x0 * v[n - 1, n - 1] - y0 * w[n - 1, n - 1])   # M&G eq. 3.30
            w[n, n] = f * (x0 * w[n - 1, n - 1] + y0 * v[n - 1, n - 1])
        return v, w

    def acceleration(self, r_bf: np.ndarray) -> np.ndarray:
        """Acceleration (m/s², body-fixed) at ``r_bf`` (m, body-fixed), central term included."""
        v, w = self._vw(*r_bf)
        nm = self.nmax + 1
        c, s = self.c, self.s
        vu, wu = v[1:nm + 1, 1:nm + 1], w[1:nm + 1, 1:nm + 1]     # V̄(n+1)(m+1)
        vd = np.zeros((nm, nm))
        wd = np.zeros((nm, nm))
        vd[:, 1:], wd[:, 1:] = v[1:nm + 1, 0:nm - 1], w[1:nm + 1, 0:nm - 1]   # V̄(n+1)(m-1)
        vz, wz = v[1:nm + 1, 0:nm], w[1:nm + 1, 0:nm]                         # V̄(n+1)m
        ax = np.sum(self.g1 * (-c * vu - s * wu) + self.g2 * (c * vd + s * wd))   # M&G eq. 3.33
        ay = np.sum(self.g1 * (-c * wu + s * vu) + self.g2 * (-c * wd + s * vd))
        az = np.sum(self.gz * (-c * vz - s * wz))
        return self.mu / self.radius ** 2 * np.array([ax, ay, az])


class NumpyForceModel:
    """The benchmark's force model (field + third bodies) as a ``solve_ivp`` right-hand side."""

    def __init__(self, field, fd):
        """``field``: a GravityField; ``fd``: the ForceData that ``ForceModel.compile`` made for it."""
        self.sh = NumpySphericalHarmonics(field.mu, field.radius, field.c, field.s)
        self.et_ref = fd.et_ref
        self.t0, self.seg = fd.cheb_t0, fd.cheb_seg
        self.coeffs_t = np.ascontiguousarray(np.transpose(fd.cheb_coeffs, (0, 2, 1)))  # (seg, deg, comp)
        self.tb_mu = np.array(fd.tb_mu)
        self.tb_comp = np.array(fd.tb_comp)

    def table(self, tau: float) -> np.ndarray:
        """All Chebyshev components at ``tau`` (s since et_ref)."""
        t = self.et_ref + tau
        k = int(np.clip(np.floor((t - self.t0) / self.seg), 0, self.coeffs_t.shape[0] - 1))
        x = 2.0 * (t - self.t0 - k * self.seg) / self.seg - 1.0
        return npcheb.chebval(x, self.coeffs_t[k])

    def rhs(self, tau: float, y: np.ndarray) -> np.ndarray:
        """dy/dtau (7,) for y = [r (m), v (m/s), m (kg)], Moon-centred J2000."""
        env = self.table(tau)
        dcm_pa_j2000 = env[:9].reshape(3, 3)
        r = y[:3]
        acc = dcm_pa_j2000.T @ self.sh.acceleration(dcm_pa_j2000 @ r)
        for mu, c in zip(self.tb_mu, self.tb_comp):              # M&G eq. 3.37
            s = env[c:c + 3]
            d = s - r
            acc += mu * (d / np.linalg.norm(d) ** 3 - s / np.linalg.norm(s) ** 3)
        return np.concatenate([y[3:6], acc, [0.0]])


def check_against_guanghan(model: NumpyForceModel, fd, states: np.ndarray, taus: np.ndarray,
                           sh_data) -> tuple[float, float]:
    """Largest relative differences (SH acceleration, full rhs) against Guanghan's numba kernels."""
    from guanghan.dynamics.forces import rhs
    from guanghan.environment.gravity_kernels import sh_acceleration

    worst_sh = worst_rhs = 0.0
    a_gh, dy = np.empty(3), np.empty(7)
    for tau, y in zip(taus, states):
        sh_acceleration(np.ascontiguousarray(y[:3]), sh_data, a_gh)
        a_np = model.sh.acceleration(y[:3])
        worst_sh = max(worst_sh, np.linalg.norm(a_np - a_gh) / np.linalg.norm(a_gh))
        rhs(tau, y, fd, dy)
        d_np = model.rhs(tau, y)
        worst_rhs = max(worst_rhs, np.linalg.norm(d_np[3:6] - dy[3:6]) / np.linalg.norm(dy[3:6]))
    return worst_sh, worst_rhs
