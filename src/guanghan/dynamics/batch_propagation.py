"""Batch propagation: many independent spacecraft states under one force model in one compiled call.

:func:`propagate_batch` tabulates the environment once over the union of the trajectories' spans
(``ForceModel.compile``), then a ``numba.prange`` loop runs the compiled DOP853 of
:mod:`guanghan.dynamics.dop853` (or, with ``integrator="rkn1210"``, the Runge–Kutta–Nyström
12(10) of :mod:`guanghan.dynamics.rkn`, which needs fewer field evaluations for coasts at tight
tolerances) on each trajectory with its own step-size control. Each trajectory
gets its own copy of the force data's workspaces (``buf``, ``r_bf``, ``a_bf`` and the gravity
field's ``v_work``, ``w_work``, ``scratch``: :func:`forces.rhs` writes them) and its own time origin
``et_ref`` = its start epoch, exactly as :func:`propagator.propagate` sets them up; the read-only
tables (gravity coefficients, Chebyshev series) are shared. So every trajectory takes the same
steps and gives the same bits as its single propagation with the same tolerances, whatever the
number of threads (the tests check both).

Optionally the states at common epochs (``sample_ets``) are taken from the DOP853 dense output of
the steps that contain them (Hairer §II.6; three more right-hand-side evaluations per such step),
with the same arithmetic as :meth:`Trajectory.states`.

Threads: ``numba.prange`` uses ``NUMBA_NUM_THREADS`` threads (default: the core count); ``threads``
asks for fewer for one call (``numba.set_num_threads``). Trajectories are handed to the threads one
at a time (``numba.parallel_chunksize(1)``), so a slow trajectory or a core busy with other work
does not leave the other threads idle.

Assumptions and limitations
    * States are position (m), velocity (m/s) and mass (kg) relative to the model's central body in
      J2000 axes, as for :func:`propagate`; epochs are ET (TDB s past J2000); forward in time only.
    * No event detection and no finite burns (their start and end are discontinuities that
      :func:`propagate` integrates up to separately): models with burns are refused.
    * With the RKN, final states only: ``sample_ets`` (DOP853 dense output) are refused.
    * A failed trajectory (step-size underflow, more than ``max_steps`` steps) does not stop the
      others: its status says why and its final state is the last accepted step
      (``BatchResult.reached_et``); :meth:`BatchResult.raise_on_failure` turns failures into
      :class:`~guanghan.errors.PropagationError`.
    * The run budget (:mod:`guanghan.run_limits`) is charged after the compiled call, which is not
      interrupted.
    * Calls from several Python threads at once need a thread-safe numba threading layer (``omp``
      or ``tbb``; ``workqueue`` is not).
    * Implementation note: numba's parfor lowering passes one level of tuple arguments to the
      threads; a namedtuple nested in one (``ForceData.sh``) fails to compile ("scalar type SHData
      given for non scalar argument"), so the kernel receives the field data separately and
      rebuilds each trajectory's ForceData inside the loop.

References
    Hairer, E., Nørsett, S. P., Wanner, G., *Solving Ordinary Differential Equations I* (2nd ed.,
    1993), §II.5–II.6 (DOP853 and its dense output); numba documentation, "Automatic
    parallelization with @jit" (``prange``, ``parallel_chunksize``, ``set_num_threads``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from guanghan import run_limits
from guanghan.dynamics import dop853, rkn
from guanghan.dynamics.forces import ForceData, ForceModel
from guanghan.dynamics.propagator import Tolerances
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment.ephemeris import check_span
from guanghan.environment.gravity_kernels import SHData
from guanghan.errors import InputError, PropagationError

DONE, STEP_TOO_SMALL, TOO_MANY_STEPS = dop853.DONE, dop853.STEP_TOO_SMALL, 3
STATUS_TEXT = {DONE: "reached the end epoch", STEP_TOO_SMALL: "step size underflow",
               TOO_MANY_STEPS: "more than max_steps steps"}
DEFAULT_TOLERANCES = Tolerances()               # propagate()'s defaults: rtol 1e-11, atol 1e-4 m
EPOCH_SLACK = 1e-6      # s: samples this close outside a trajectory's span are kept, as Trajectory.states does


# --------------------------------------------------------------------------- kernels


@njit(cache=True)
def _own_force_data(fd, sh, et_ref):
    """A ForceData with time origin ``et_ref`` (ET s) and its own workspaces, sharing the read-only
    tables of ``fd`` and of the field ``sh`` (``fd.sh`` is a placeholder here)."""
    own_sh = SHData(sh.mu, sh.radius, sh.nmax, sh.mmax, sh.c00, sh.c, sh.s, sh.sect, sh.a_nm, sh.b_nm,
                    sh.gxy1, sh.gxy2, sh.gz, np.zeros_like(sh.v_work), np.zeros_like(sh.w_work),
                    np.zeros_like(sh.scratch))
    return ForceData(et_ref, fd.mu, fd.use_sh, own_sh, fd.cheb_t0, fd.cheb_seg, fd.cheb_coeffs,
                     fd.tb_mu, fd.tb_comp, fd.srp_coeff, fd.sun_comp, fd.central_radius, fd.occ_comp,
                     fd.occ_radius, fd.burns, np.zeros_like(fd.buf), np.zeros_like(fd.r_bf),
                     np.zeros_like(fd.a_bf), fd.origin.copy())


@njit(cache=True)
def _sample_chunk(fd, t_out, y_out, k_out, n, last_chunk, sample_ets, q, out, n_eval):
    """Dense-output states (into ``out``) at ``sample_ets[q:]`` (ET s) that fall in the chunk's n
    steps; returns the next unsampled index. An epoch on the chunk's end belongs to the next chunk
    unless this is the last (which also takes EPOCH_SLACK beyond), as in one undivided trajectory,
    so the bits match :meth:`Trajectory.states`."""
    end = t_out[n]
    poly = np.empty((1, dop853.N_DENSE, y_out.shape[1]))
    k_done = -1
    while q < sample_ets.shape[0]:
        tq = sample_ets[q] - fd.et_ref
        if tq > end + EPOCH_SLACK if last_chunk else tq >= end:
            break
        k = np.searchsorted(t_out[:n + 1], tq, side="right") - 1
        k = min(max(k, 0), n - 1)
        if k != k_done:
            dop853.dense_polynomials(fd, t_out[k:k + 2], y_out[k:k + 2], k_out[k:k + 1], poly, n_eval)
            k_done = k
        dop853.dense_eval(np.array([tq]), t_out[k:k + 2], y_out[k:k + 2], poly, out[q:q + 1])
        q += 1
    return q


@njit(cache=True)
def _one(fd, sh, et_ref, y0, tau_end, rtol, atol, max_step, chunk, max_steps, sample_ets, y_final,
         samples, use_rkn):
    """Integrate one trajectory from (et_ref, y0) to tau_end (s after et_ref) in chunks of ``chunk``
    steps, as :func:`propagate` does (RKN12(10) if ``use_rkn``, else DOP853). Returns (status,
    steps, evaluations, tau reached)."""
    own = _own_force_data(fd, sh, et_ref)
    nv = y0.shape[0]
    keep = sample_ets.shape[0] > 0
    t_out = np.empty(chunk + 1)
    y_out = np.empty((chunk + 1, nv))
    k_out = np.empty((chunk if keep else 1, dop853.N_STAGES + 1, nv))
    k_unused = np.empty((1, nv))
    n_eval = np.zeros(1, np.int64)
    q = 0
    while q < sample_ets.shape[0] and sample_ets[q] - et_ref < -EPOCH_SLACK:
        q += 1                                     # before this trajectory's start: left NaN
    tau, y, h, total = 0.0, y0.copy(), 0.0, 0
    while True:
        if use_rkn:
            status, n, h = rkn.integrate(own, tau, y, tau_end, rtol, atol, h, max_step, False,
                                         t_out, y_out, k_unused, n_eval)
        else:
            status, n, h = dop853.integrate(own, tau, y, tau_end, rtol, atol, h, max_step, keep,
                                            t_out, y_out, k_out, n_eval)
        total += n
        last = status != dop853.BUFFER_FULL or total > max_steps
        if keep and n > 0:
            q = _sample_chunk(own, t_out, y_out, k_out, n, last, sample_ets, q, samples, n_eval)
        tau = t_out[n]
        y = y_out[n].copy()
        if status == STEP_TOO_SMALL:
            break
        if total > max_steps:
            status = TOO_MANY_STEPS
            break
        if status == DONE:
            break
    y_final[:] = y
    return status, total, n_eval[0], tau


@njit(cache=True, parallel=True)
def _batch_kernel(fd, sh, et_refs, y0s, tau_ends, rtol, atol, max_step, chunk, max_steps, sample_ets,
                  use_rkn, y_final, samples, status, steps, n_eval, tau_reached):
    """``prange`` over trajectories; every output array has the trajectories along its first axis."""
    for i in prange(et_refs.shape[0]):
        s, n, e, t = _one(fd, sh, et_refs[i], y0s[i], tau_ends[i], rtol, atol, max_step, chunk,
                          max_steps, sample_ets, y_final[i], samples[i], use_rkn)
        status[i] = s
        steps[i] = n
        n_eval[i] = e
        tau_reached[i] = t


# --------------------------------------------------------------------------- Python API


@dataclass(frozen=True)
class BatchResult:
    """Outcome of :func:`propagate_batch`, trajectories along the first axis of every array.

    ``final_states`` (N, 7): [r (m), v (m/s), m (kg)] at ``reached_et`` (ET s), which is
    ``end_et`` where ``status`` is 0 (see ``STATUS_TEXT``); ``steps`` and ``n_eval`` count the
    integrator's steps and right-hand-side evaluations (dense output included); ``samples``
    (N, M, 7) are the states at ``sample_ets`` (M,), NaN outside [start_et, reached_et] (with
    ``EPOCH_SLACK``, 1 µs, of slack at either end, as :meth:`Trajectory.states`)."""

    start_et: np.ndarray
    end_et: np.ndarray
    reached_et: np.ndarray
    final_states: np.ndarray
    steps: np.ndarray
    n_eval: np.ndarray
    status: np.ndarray
    sample_ets: np.ndarray
    samples: np.ndarray
    frame: str
    body: str
    tolerances: Tolerances
    threads: int

    @property
    def ok(self) -> np.ndarray:
        """(N,) bool: the trajectory reached its end epoch."""
        return self.status == DONE

    def final_state(self, i: int) -> SpacecraftState:
        """Trajectory ``i``'s last state as a :class:`SpacecraftState`."""
        return SpacecraftState.from_vector(float(self.reached_et[i]), self.final_states[i], self.frame,
                                           self.body)

    def raise_on_failure(self) -> None:
        """Raise :class:`PropagationError` naming the failed trajectories, if any."""
        bad = np.flatnonzero(~self.ok)
        if bad.size:
            i = int(bad[0])
            raise PropagationError(
                f"{bad.size} of {self.status.size} trajectories failed (indices {bad[:10].tolist()}"
                f"{' …' if bad.size > 10 else ''}); trajectory {i}: {STATUS_TEXT[int(self.status[i])]} "
                f"at ET {self.reached_et[i]:.3f} s (|r| = {np.linalg.norm(self.final_states[i, :3]):.1f} m)")


def propagate_batch(states, end_et, model: ForceModel, tolerances: Tolerances = DEFAULT_TOLERANCES, *,
                    epoch=None, mass_kg=None, sample_ets=None, threads: int | None = None,
                    chunk_steps: int = 4096, max_steps: int = 5_000_000,
                    integrator: str = "dop853") -> BatchResult:
    """Propagate N independent states to ``end_et`` (ET s; scalar or (N,)) under ``model``.

    ``states`` is a sequence of :class:`SpacecraftState` (J2000, relative to ``model.body``; each
    with its own epoch), or an array (N, 7) of [r (m), v (m/s), m (kg)] or (N, 6) with ``mass_kg``
    (scalar or (N,)), in J2000 relative to ``model.body``, at ``epoch`` (ET s; scalar or (N,)).
    ``sample_ets`` (M,) are increasing epochs (ET s) at which every trajectory's state is wanted.
    ``threads`` (≤ ``NUMBA_NUM_THREADS``) limits the threads of this call. ``chunk_steps`` and
    ``max_steps`` are those of :func:`propagate`; failures are reported per trajectory in the result.
    ``integrator``: ``"dop853"`` or ``"rkn1210"`` (final states only), as :func:`propagate`'s.

    Example (100 states at one epoch, states every 10 minutes for a day)::

        res = propagate_batch(rv, et0 + 86400.0, model, epoch=et0, mass_kg=1000.0,
                              sample_ets=et0 + np.arange(0.0, 86401.0, 600.0))
        res.raise_on_failure(); res.final_states; res.samples      # (100, 7), (100, 145, 7)
    """
    et0s, y0s = _initial_states(states, epoch, mass_kg, model)
    n = et0s.size
    ends = _per_trajectory(end_et, n, "end_et")
    late = np.flatnonzero(~(ends > et0s))
    if late.size:
        i = int(late[0])
        raise InputError(f"must be after trajectory {i}'s start epoch {et0s[i]!r} (ET s): batch "
                         "propagation runs forward only", quantity=f"end_et[{i}]", value=float(ends[i]))
    _check_model_and_tolerances(model, tolerances)
    samples_at = _sample_epochs(sample_ets)
    if integrator not in ("dop853", "rkn1210"):
        raise InputError("must be 'dop853' or 'rkn1210'", quantity="integrator", value=integrator)
    if integrator == "rkn1210" and samples_at.size:
        raise InputError("the RKN batch gives final states only; sample with integrator='dop853'",
                         quantity="sample_ets", value=f"{samples_at.size} epochs")
    threads = _thread_count(threads)
    if not (isinstance(chunk_steps, (int, np.integer)) and chunk_steps >= 1):
        raise InputError("must be an integer ≥ 1", quantity="chunk_steps", value=chunk_steps)
    first, last = float(et0s.min()), float(ends.max())
    check_span(np.array([first, last]))
    fd = model.compile(first, last, et_ref=first)
    out = (np.empty((n, 7)), np.full((n, samples_at.size, 7), np.nan), np.empty(n, np.int64),
           np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n))
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        with numba.parallel_chunksize(1):
            _batch_kernel(fd._replace(sh=0), fd.sh, et0s, y0s, ends - et0s, float(tolerances.rtol),
                          tolerances.atol_vector(), float(tolerances.max_step_s), int(chunk_steps),
                          int(max_steps), samples_at, integrator == "rkn1210", *out)
    finally:
        numba.set_num_threads(previous)
    y_final, samples, status, steps, n_eval, tau_reached = out
    run_limits.charge(int(steps.sum()), int(n_eval.sum()))
    return BatchResult(et0s, ends, et0s + tau_reached, y_final, steps, n_eval, status, samples_at,
                       samples, "J2000", model.body, tolerances, threads)


def _initial_states(states, epoch, mass_kg, model: ForceModel) -> tuple[np.ndarray, np.ndarray]:
    """(start epochs (N,) ET s, states (N, 7)) from SpacecraftStates or an array + epoch."""
    if isinstance(states, Sequence) and states and all(isinstance(s, SpacecraftState) for s in states):
        if epoch is not None or mass_kg is not None:
            raise InputError("SpacecraftStates carry their own epochs and masses: leave epoch and "
                             "mass_kg unset", quantity="epoch" if epoch is not None else "mass_kg",
                             value=epoch if epoch is not None else mass_kg)
        for i, s in enumerate(states):
            if s.frame != "J2000" or s.body != model.body:
                raise InputError(f"is relative to {s.body} in {s.frame}; the force model needs "
                                 f"{model.body}-centred J2000 (use to_frame('J2000'), recentered())",
                                 quantity=f"states[{i}]", value=f"{s.body}/{s.frame}")
        et0s = np.array([s.et for s in states], dtype=float)
        y0s = np.array([s.vector for s in states], dtype=float)
    else:
        try:
            y0s = np.array(states, dtype=float, ndmin=2)
            shown = f"shape {y0s.shape}"
        except (TypeError, ValueError):
            y0s, shown = np.zeros((0, 0)), "not a numeric array (mixed or ragged)"
        if y0s.ndim != 2 or y0s.shape[0] == 0 or y0s.shape[1] not in (6, 7):
            raise InputError("must be SpacecraftStates or an array (N, 6) or (N, 7) of [r (m), v (m/s), "
                             "m (kg)] in J2000", quantity="states", value=shown)
        if epoch is None:
            raise InputError("an array of states needs its epoch (ET s, scalar or (N,))",
                             quantity="epoch", value=None)
        et0s = _per_trajectory(epoch, y0s.shape[0], "epoch")
        if y0s.shape[1] == 6:
            if mass_kg is None:
                raise InputError("(N, 6) states need mass_kg (scalar or (N,))", quantity="mass_kg",
                                 value=None)
            y0s = np.column_stack([y0s, _per_trajectory(mass_kg, y0s.shape[0], "mass_kg")])
        elif mass_kg is not None:
            raise InputError("(N, 7) states carry their masses: leave mass_kg unset",
                             quantity="mass_kg", value=mass_kg)
    bad = np.flatnonzero(~np.isfinite(y0s).all(axis=1) | ~(y0s[:, 6] > 0.0))
    if bad.size:
        i = int(bad[0])
        raise InputError("needs finite position and velocity and a mass > 0 kg",
                         quantity=f"states[{i}]", value=y0s[i].tolist())
    return et0s, np.ascontiguousarray(y0s)


def _per_trajectory(value, n: int, name: str) -> np.ndarray:
    """A scalar or (n,) array of finite floats as an (n,) array."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise InputError(f"must be a scalar or have one value per trajectory ({n})", quantity=name,
                         value=f"shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise InputError("must be finite", quantity=name, value=arr[~np.isfinite(arr)][0])
    return np.ascontiguousarray(arr)


def _check_model_and_tolerances(model: ForceModel, tol: Tolerances) -> None:
    if model.burns:
        raise InputError("batch propagation has no finite burns (their ends are discontinuities): "
                         "use propagate() for powered arcs", quantity="model.burns",
                         value=len(model.burns))
    if not (0 < tol.rtol < 1e-2 and tol.atol_m > 0 and tol.max_step_s > 0):
        raise InputError("need 0 < rtol < 1e-2, atol_m > 0 and max_step_s > 0", quantity="tolerances",
                         value=tol)


def _sample_epochs(sample_ets) -> np.ndarray:
    if sample_ets is None:
        return np.zeros(0)
    ets = np.array(sample_ets, dtype=float, ndmin=1)
    if ets.ndim != 1 or not np.isfinite(ets).all() or np.any(np.diff(ets) < 0):
        raise InputError("must be a 1-D increasing array of finite epochs (ET s)", quantity="sample_ets",
                         value=f"shape {ets.shape}")
    return np.ascontiguousarray(ets)


def _thread_count(threads) -> int:
    limit = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        return numba.get_num_threads()
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or not 1 <= threads <= limit:
        raise InputError(f"must be an integer from 1 to NUMBA_NUM_THREADS = {limit}", quantity="threads",
                         value=threads)
    return int(threads)
