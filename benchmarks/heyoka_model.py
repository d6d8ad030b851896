"""Guanghan's lunar-orbit force model in heyoka (Taylor integrator, LLVM JIT), for comparison.

Same physics as ``guanghan.dynamics.forces.rhs`` with a central spherical-harmonic field and
point-mass third bodies: state [x, y, z, vx, vy, vz] (m, m/s) of the spacecraft relative to the Moon
in J2000 axes. Everything time-dependent comes from the SAME Chebyshev table (``ForceData.cheb_*``:
1-day segments, degree 13): the J2000→MOON_PA rotation (components 0–8, row-major) and the J2000
positions of the third bodies relative to the Moon. On each segment the Chebyshev series in the
normalised time x ∈ [-1, 1] is converted to monomials in x (``numpy.polynomial.chebyshev.cheb2poly``)
and its coefficients are given to the integrator as runtime parameters ``par[...]``; the integrator
is compiled once and run segment by segment, its time reset to 0 and the parameters replaced at each
boundary (segments of the table start at et0 + k × 1 day, so a propagation from the table's et0 + 1
day boundary crosses them exactly).

The field is written symbolically: the normalised Cunningham V/W recursion (Montenbruck & Gill
eqs. 3.29–3.31) and acceleration (eq. 3.33) in body-fixed Cartesian coordinates, using the
factors of ``numpy_model._factors`` (closed-form ratios of the eq. 3.24 normalisation), then
rotated back to J2000 with the transposed rotation polynomials.

Assumptions and limitations
    * The monomial form of a degree-13 Chebyshev series can lose digits to cancellation; measured
      with :func:`max_monomial_error` over the benchmark's table it differs from the Chebyshev
      evaluation by ≤ 2e-16 (rotation), ≤ 1e-7 m (Earth) and ≤ 2e-5 m (Sun).
    * Mass is constant (no thrust) and is not part of the heyoka state. No SRP.
    * ``compact_mode`` (heyoka's option for large expressions, faster JIT, slower steps) is the
      caller's choice; the benchmark uses it above degree 20. Full (non-compact) mode at degree 50
      was not tried: its JIT time grows with the expression size.

References
    Biscani, F. and Izzo, D. (2021), "Revisiting high-order Taylor methods for astrodynamics and
    celestial mechanics", MNRAS 504(2), 2614–2628 (heyoka).
    Montenbruck, O. and Gill, E., *Satellite Orbits* (2000), eqs. 3.24, 3.29–3.33, 3.37.
"""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor

import heyoka as hy
import numpy as np
from numpy.polynomial import chebyshev as npcheb
from numpy_model import _factors


def _poly(base: int, degree: int, x):
    """Horner form of Σ_k par[base + k] x^k."""
    p = hy.par[base + degree]
    for k in range(degree - 1, -1, -1):
        p = p * x + hy.par[base + k]
    return p


def _sh_acceleration(xb, yb, zb, mu, radius, c, s):
    """Symbolic body-fixed acceleration (m/s²) of a fully normalised field, central term included."""
    nmax = c.shape[0] - 1
    top = nmax + 1
    sect, fa, fb, g1, g2, gz = _factors(nmax)
    r2 = xb * xb + yb * yb + zb * zb
    rho = radius / r2
    x0, y0, z0, rr = xb * rho, yb * rho, zb * rho, radius * rho
    v = [[None] * (top + 1) for _ in range(top + 1)]
    w = [[None] * (top + 1) for _ in range(top + 1)]
    v[0][0] = radius / hy.sqrt(r2)                            # M&G eq. 3.31
    w[0][0] = hy.expression(0.0)
    for n in range(1, top + 1):
        for m in range(n):                                 # M&G eq. 3.29 (normalised)
            a = float(fa[n, m]) * z0
            if n - 2 >= m:
                v[n][m] = a * v[n - 1][m] - float(fb[n, m]) * rr * v[n - 2][m]
                w[n][m] = a * w[n - 1][m] - float(fb[n, m]) * rr * w[n - 2][m]
            else:
                v[n][m] = a * v[n - 1][m]
                w[n][m] = a * w[n - 1][m]
        f = float(sect[n])                                    # M&G eq. 3.30
        v[n][n] = f * (x0 * v[n - 1][n - 1] - y0 * w[n - 1][n - 1])
        w[n][n] = f * (x0 * w[n - 1][n - 1] + y0 * v[n - 1][n - 1])
    tx, ty, tz = [], [], []
    for n in range(nmax + 1):                              # M&G eq. 3.33
        for m in range(n + 1):
            cnm, snm = float(c[n, m]), float(s[n, m])
            if cnm == 0.0 and snm == 0.0:
                continue
            k = n + 1
            tz.append(float(gz[n, m]) * (-cnm * v[k][m] - snm * w[k][m]))
            if m == 0:
                tx.append(-cnm * float(g1[n, 0]) * v[k][1])
                ty.append(-cnm * float(g1[n, 0]) * w[k][1])
                continue
            vu, wu, vd, wd = v[k][m + 1], w[k][m + 1], v[k][m - 1], w[k][m - 1]
            tx.append(float(g1[n, m]) * (-cnm * vu - snm * wu) + float(g2[n, m]) * (cnm * vd + snm * wd))
            ty.append(float(g1[n, m]) * (-cnm * wu + snm * vu) + float(g2[n, m]) * (-cnm * wd + snm * vd))
    scale = mu / radius ** 2
    return [scale * hy.sum(t) for t in (tx, ty, tz)]


def lunar_system(field, fd):
    """(ODE system, table components used (array), Chebyshev coefficients per component): the
    equations of motion of ``field`` + ``fd``'s third bodies, time-dependent terms as ``par[...]``."""
    ncoef = fd.cheb_coeffs.shape[2]
    ncomp = 9 + 3 * len(fd.tb_mu)
    comps = np.array(list(range(9)) + [int(c) + j for c in fd.tb_comp for j in range(3)])
    deg = ncoef - 1
    x, y, z, vx, vy, vz = hy.make_vars("x", "y", "z", "vx", "vy", "vz")
    tn = 2.0 * hy.time / float(fd.cheb_seg) - 1.0            # normalised time in the segment
    env = [_poly(i * ncoef, deg, tn) for i in range(ncomp)]
    rot = [env[0:3], env[3:6], env[6:9]]                      # dcm_pa_j2000, rows
    xb, yb, zb = (rot[i][0] * x + rot[i][1] * y + rot[i][2] * z for i in range(3))
    ab = _sh_acceleration(xb, yb, zb, field.mu, field.radius, field.c, field.s)
    acc = [rot[0][j] * ab[0] + rot[1][j] * ab[1] + rot[2][j] * ab[2] for j in range(3)]
    for i, mu in enumerate(fd.tb_mu):                          # M&G eq. 3.37, indirect term
        sx, sy, sz = env[9 + 3 * i: 12 + 3 * i]
        dx, dy, dz = sx - x, sy - y, sz - z
        d3 = (dx * dx + dy * dy + dz * dz) ** -1.5
        s3 = (sx * sx + sy * sy + sz * sz) ** -1.5
        acc = [acc[0] + float(mu) * (dx * d3 - sx * s3), acc[1] + float(mu) * (dy * d3 - sy * s3),
               acc[2] + float(mu) * (dz * d3 - sz * s3)]
    sys = [(x, vx), (y, vy), (z, vz), (vx, acc[0]), (vy, acc[1]), (vz, acc[2])]
    return sys, comps, ncoef


class HeyokaModel:
    """One compiled heyoka integrator for a field + third bodies, driven over a Chebyshev table."""

    def __init__(self, field, fd, tol: float, compact_mode: bool = True):
        """``field``: GravityField; ``fd``: its ForceData (same table as Guanghan); ``tol``: heyoka tol."""
        self.fd = fd
        sys, self.comps, self.ncoef = lunar_system(field, fd)
        self.ta = hy.taylor_adaptive(sys, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0], tol=tol,
                                     compact_mode=compact_mode,
                                     pars=np.zeros(self.comps.size * self.ncoef))

    def segment_pars(self, k: int) -> np.ndarray:
        """Monomial coefficients (in normalised time) of table segment ``k``, flattened."""
        coeffs = self.fd.cheb_coeffs[k, self.comps]               # (ncomp, ncoef)
        return np.concatenate([npcheb.cheb2poly(c) for c in coeffs])

    def propagate(self, y0: np.ndarray, tau_end: float) -> np.ndarray:
        """State [r, v] at ``tau_end`` (s after fd.et_ref) from ``y0`` = [r, v] at tau = 0."""
        fd, ta = self.fd, self.ta
        ta.state[:] = y0[:6]
        tau = 0.0
        while tau < tau_end:
            t_abs = fd.et_ref + tau
            k = int(np.floor((t_abs - fd.cheb_t0) / fd.cheb_seg + 1e-12))
            seg_start = fd.cheb_t0 + k * fd.cheb_seg
            seg_end = min(seg_start + fd.cheb_seg, fd.et_ref + tau_end)
            ta.pars[:] = self.segment_pars(k)
            ta.time = t_abs - seg_start
            res = ta.propagate_until(seg_end - seg_start)
            if res[0] != hy.taylor_outcome.time_limit:
                raise RuntimeError(f"heyoka stopped with {res[0]} in segment {k}")
            tau = seg_end - fd.et_ref
        return ta.state.copy()


class HeyokaBatchModel(HeyokaModel):
    """heyoka's batch mode (``taylor_adaptive_batch``): ``batch_size`` trajectories (default: heyoka's
    recommended SIMD width, 8 doubles with AVX-512) advance together, one per SIMD lane, from a common
    start epoch ``fd.et_ref``. :meth:`propagate_many` runs any number of them batch after batch on
    ``threads`` Python threads, each with its own copy of the integrator (heyoka releases the GIL
    while it integrates, so the threads run in parallel) taking the next batch when free; the
    copies are made here, with the JIT."""

    def __init__(self, field, fd, tol: float, threads: int = 1, batch_size: int | None = None,
                 compact_mode: bool = False):
        self.fd = fd
        sys, self.comps, self.ncoef = lunar_system(field, fd)
        self.batch_size = int(batch_size or hy.recommended_simd_size())
        ta = hy.taylor_adaptive_batch(sys, np.zeros((6, self.batch_size)), tol=tol,
                                      compact_mode=compact_mode,
                                      pars=np.zeros((self.comps.size * self.ncoef, self.batch_size)))
        self.copies = [ta] + [copy.deepcopy(ta) for _ in range(threads - 1)]
        self._pars: dict[int, np.ndarray] = {}

    def _segment_pars(self, k: int) -> np.ndarray:
        if k not in self._pars:
            self._pars[k] = self.segment_pars(k)[:, None]
        return self._pars[k]

    def propagate_lanes(self, ta, y0s: np.ndarray, tau_end: float) -> np.ndarray:
        """States (k, 6) at ``tau_end`` (s after fd.et_ref) of ``y0s`` (k ≤ batch_size, ≥ 6 columns)
        at tau = 0; idle lanes repeat the last state."""
        fd, k_used = self.fd, y0s.shape[0]
        lanes = np.repeat(y0s[-1:, :6].T, self.batch_size, axis=1)
        lanes[:, :k_used] = y0s[:, :6].T
        ta.state[:] = lanes
        tau = 0.0
        while tau < tau_end:
            t_abs = fd.et_ref + tau
            k = int(np.floor((t_abs - fd.cheb_t0) / fd.cheb_seg + 1e-12))
            seg_start = fd.cheb_t0 + k * fd.cheb_seg
            seg_end = min(seg_start + fd.cheb_seg, fd.et_ref + tau_end)
            ta.pars[:] = self._segment_pars(k)
            ta.set_time(t_abs - seg_start)
            ta.propagate_until(seg_end - seg_start)
            outcomes = {res[0] for res in ta.propagate_res}
            if outcomes != {hy.taylor_outcome.time_limit}:
                raise RuntimeError(f"heyoka batch stopped with {outcomes} in segment {k}")
            tau = seg_end - fd.et_ref
        return ta.state[:, :k_used].T.copy()

    def propagate_many(self, y0s: np.ndarray, tau_end: float) -> np.ndarray:
        """States (n, 6) at ``tau_end`` of ``y0s`` (n, ≥ 6), in batches over the threads."""
        bs, threads = self.batch_size, len(self.copies)
        chunks = [y0s[i:i + bs] for i in range(0, y0s.shape[0], bs)]
        jobs, lock = iter(range(len(chunks))), threading.Lock()

        def work(w):                               # each thread takes the next batch when free
            out = []
            while True:
                with lock:
                    j = next(jobs, None)
                if j is None:
                    return out
                out.append((j, self.propagate_lanes(self.copies[w], chunks[j], tau_end)))

        with ThreadPoolExecutor(threads) as pool:
            done = dict(pair for part in pool.map(work, range(threads)) for pair in part)
        return np.vstack([done[j] for j in range(len(chunks))])


def max_monomial_error(fd, comps: np.ndarray, n_samples: int = 50) -> np.ndarray:
    """Largest |monomial − Chebyshev| per component over all segments (units of the component)."""
    x = np.linspace(-1.0, 1.0, n_samples)
    worst = np.zeros(len(comps))
    for k in range(fd.cheb_coeffs.shape[0]):
        for i, c in enumerate(comps):
            coef = fd.cheb_coeffs[k, c]
            diff = np.polynomial.polynomial.polyval(x, npcheb.cheb2poly(coef)) - npcheb.chebval(x, coef)
            worst[i] = max(worst[i], np.max(np.abs(diff)))
    return worst
