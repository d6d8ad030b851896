"""A propagated trajectory that knows its frame, central body and time scale, with dense output.

States are position (m), velocity (m/s) and mass (kg) of the spacecraft relative to ``body`` in
``frame`` axes; epochs are ET (TDB seconds past J2000). Between integrator steps the dense output
gives the state at any epoch: DOP853's 7th-order interpolant (``interpolant="dop853"``), or, for the
RKN12(10) coast integrator, the Hermite interpolant of the step ends (``"hermite"``,
:func:`guanghan.dynamics.rkn.hermite_polynomials`, whose docstring gives its accuracy).

Assumptions and limitations
    Trajectories run forward in time. Evaluation outside [start_et, end_et] raises ``ValueError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from guanghan.dynamics.dop853 import dense_eval

TIME_SCALE = "TDB"


@dataclass(frozen=True)
class Trajectory:
    """Dense trajectory: steps (tau s since ``et_ref``), states (n+1, 7), and either the dense
    polynomials or the data that make them on first use: for ``interpolant="dop853"`` polynomials
    (n, 7, 7) or the integrator's stages (n, 13, 7) plus the force data (three more right-hand-side
    evaluations per step); for ``"hermite"`` polynomials (n, 11, 7) or the derivatives at the step
    boundaries (n+1, 7) in ``stages`` (no evaluations)."""

    et_ref: float
    tau: np.ndarray
    y: np.ndarray
    polynomials: np.ndarray | None = None
    frame: str = "J2000"
    body: str = "MOON"
    n_eval: int = 0
    meta: dict = field(default_factory=dict)
    stages: np.ndarray | None = field(default=None, repr=False)
    force_data: object = field(default=None, repr=False)
    interpolant: str = "dop853"

    time_scale = TIME_SCALE

    @property
    def dense(self) -> np.ndarray:
        """Dense-output polynomials (n, 7, 7) or (n, 11, 7), made from the stored data on first use."""
        if self.polynomials is None:
            count = np.zeros(1, np.int64)
            if self.interpolant == "hermite":
                from guanghan.dynamics.rkn import DENSE_DEGREE, hermite_polynomials

                out = np.empty((self.n_steps, DENSE_DEGREE, self.y.shape[1]))
                if self.n_steps:
                    hermite_polynomials(self.tau, self.y, self.stages, out)
            else:
                from guanghan.dynamics.dop853 import N_DENSE, dense_polynomials

                out = np.empty((self.n_steps, N_DENSE, self.y.shape[1]))
                if self.n_steps:
                    dense_polynomials(self.force_data, self.tau, self.y, self.stages, out, count)
            object.__setattr__(self, "polynomials", out)
            object.__setattr__(self, "n_eval", self.n_eval + int(count[0]))
            object.__setattr__(self, "stages", None)
        return self.polynomials

    @property
    def start_et(self) -> float:
        return self.et_ref + float(self.tau[0])

    @property
    def end_et(self) -> float:
        return self.et_ref + float(self.tau[-1])

    @property
    def step_ets(self) -> np.ndarray:
        """ET (s) of the integrator's step boundaries."""
        return self.et_ref + self.tau

    @property
    def n_steps(self) -> int:
        return self.tau.size - 1

    @property
    def final_state(self) -> np.ndarray:
        """[r (m), v (m/s), m (kg)] at ``end_et``."""
        return self.y[-1].copy()

    def states(self, ets) -> np.ndarray:
        """States (n, 7) at epochs ``ets`` (ET s) from the dense output."""
        ets = np.atleast_1d(np.asarray(ets, dtype=float))
        tol = 1e-6
        if ets.min() < self.start_et - tol or ets.max() > self.end_et + tol:
            raise ValueError(f"epochs outside the trajectory span [{self.start_et}, {self.end_et}] (ET s)")
        out = np.empty((ets.size, self.y.shape[1]))
        if self.n_steps == 0:
            out[:] = self.y[0]
            return out
        if self.interpolant == "hermite":
            from guanghan.dynamics.rkn import hermite_eval

            hermite_eval(ets - self.et_ref, self.tau, self.y, self.dense, out)
        else:
            dense_eval(ets - self.et_ref, self.tau, self.y, self.dense, out)
        return out

    def sample(self, step_s: float) -> tuple[np.ndarray, np.ndarray]:
        """(ets, states) on a regular grid of ``step_s`` (s), including both ends."""
        n = max(2, int(np.ceil((self.end_et - self.start_et) / step_s)) + 1)
        ets = np.linspace(self.start_et, self.end_et, n)
        return ets, self.states(ets)

    def truncated(self, end_et: float) -> Trajectory:
        """This trajectory cut at ``end_et`` (ET s), the last step shortened exactly."""
        tau_end = end_et - self.et_ref
        k = int(np.searchsorted(self.tau, tau_end, side="left"))
        if k >= self.tau.size:
            return self
        if k == 0:
            k = 1
        y_end = self.states([end_et])[0]
        # Steps before k-1 stay whole; the step cut at tau_end gets its polynomial re-parametrised.
        tau = np.append(self.tau[:k], tau_end)
        y = np.vstack([self.y[:k], y_end])
        dense = self.dense[:k].copy()
        if self.interpolant == "hermite":             # powers of x = (t − t_k)/h: x_old = x_new · h_new/h_old
            ratio = (tau_end - self.tau[k - 1]) / (self.tau[k] - self.tau[k - 1])
            dense[-1] *= ratio ** np.arange(1, dense.shape[1] + 1)[:, None]
        else:
            dense = _rescale_last(dense, self.tau[k - 1], self.tau[k], tau_end, self.y[k - 1], y_end)
        return Trajectory(self.et_ref, tau, y, dense, self.frame, self.body, self.n_eval, dict(self.meta),
                          interpolant=self.interpolant)


def _rescale_last(dense, t0, t1, t_cut, y0, y_cut):
    """Re-parametrise the last step's polynomial from [t0, t1] onto [t0, t_cut].

    The DOP853 interpolant is a polynomial in x = (t - t0)/h; we resample it on the shorter step at
    8 Chebyshev points and refit the same basis, which reproduces it exactly (degree 7).
    """
    from guanghan.dynamics.dop853 import N_DENSE

    h_old, h_new = t1 - t0, t_cut - t0
    if h_new <= 0:
        return dense
    old = dense[-1]
    xs = 0.5 - 0.5 * np.cos(np.pi * (np.arange(N_DENSE + 1) + 0.5) / (N_DENSE + 1))
    vals = np.array([_poly(old, y0, x * h_new / h_old) for x in xs])     # (8, n)
    basis = np.array([_basis(x) for x in xs])                            # (8, 7) for F[0..6]
    coef, *_ = np.linalg.lstsq(basis, vals - y0, rcond=None)
    dense[-1] = coef
    return dense


def _basis(x):
    """Values at x of the 7 basis functions of scipy's DOP853 dense output."""
    out = np.empty(7)
    for r in range(7):
        e = np.zeros(7)
        e[r] = 1.0
        out[r] = _poly(e[:, None], np.zeros(1), x)[0]
    return out


def _poly(F, y0, x):
    acc = np.zeros_like(y0, dtype=float)
    for i, f in enumerate(F[::-1]):
        acc = acc + f
        acc = acc * (x if i % 2 == 0 else 1.0 - x)
    return y0 + acc
