"""Numerical propagation: the friendly front of the compiled integrators, with events and burns.

``propagate`` validates its inputs, tabulates the environment (``ForceModel.compile``), splits the
span at burn start/end (discontinuities of the force), runs the compiled integrator in chunks, stops
at terminal events, and returns a :class:`PropagationResult` holding the dense :class:`Trajectory`
and the detected events.

Integrators (``integrator=``): ``"dop853"`` (default; :mod:`dop853`, any force model) and
``"rkn1210"`` (:mod:`rkn`, the Runge–Kutta–Nyström 12(10) pair for coasts: no finite burns).

Tolerances: ``rtol`` (relative) and ``atol_m`` on position; velocity gets ``atol_m`` × 1e-3 s⁻¹ (a
lunar-orbit rate, so both weigh alike) and mass 1e-6 kg.

References
    Hairer, Nørsett & Wanner (1993), §II.4–II.6; Montenbruck & Gill (2000), §4.1–4.4.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from guanghan import run_limits
from guanghan.dynamics import dop853, rkn
from guanghan.dynamics.events import Detector, Event, EventEnvironment, find_events
from guanghan.dynamics.forces import ForceModel
from guanghan.dynamics.state import SpacecraftState
from guanghan.dynamics.trajectory import Trajectory
from guanghan.environment.ephemeris import check_span
from guanghan.errors import InputError, PropagationError

INTEGRATORS = ("dop853", "rkn1210")


@dataclass(frozen=True)
class Tolerances:
    """Integration tolerances: relative, absolute on position (m), largest step (s)."""

    rtol: float = 1e-11
    atol_m: float = 1e-4
    max_step_s: float = math.inf

    def atol_vector(self) -> np.ndarray:
        return np.array([self.atol_m] * 3 + [self.atol_m * 1e-3] * 3 + [1e-6])


@dataclass
class PropagationResult:
    """A propagated trajectory, its events, and the final state (stopped early by a terminal event)."""

    trajectory: Trajectory
    events: list[Event] = field(default_factory=list)
    terminated_by: Event | None = None

    @property
    def final_state(self) -> SpacecraftState:
        t = self.trajectory
        return SpacecraftState.from_vector(t.end_et, t.final_state, t.frame, t.body)


def propagate(state: SpacecraftState, end_et: float, model: ForceModel,
              tolerances: Tolerances = Tolerances(), detectors: list[Detector] = (),
              chunk_steps: int | None = None, max_steps: int = 5_000_000,
              integrator: str = "dop853") -> PropagationResult:
    """Propagate ``state`` to ``end_et`` (ET s) under ``model``, detecting ``detectors``' events.

    The compiled loop runs in chunks of ``chunk_steps`` steps (default 256 with terminal events,
    which are checked after each chunk, else 4096); if the integrator fails inside a chunk, the
    terminal events of the steps it completed are checked before the failure is reported, so a
    trajectory that dives into a body stops at its altitude event instead of failing.
    ``integrator`` is ``"dop853"`` or ``"rkn1210"`` (coasts only: refused for a model with burns)."""
    _check_integrator(integrator, model)
    if state.frame != "J2000" or state.body != model.body:
        raise ValueError(f"initial state is relative to {state.body} in {state.frame}; the force model "
                         f"needs {model.body}-centred J2000 (use state.to_frame('J2000'))")
    if not end_et > state.et:
        raise ValueError(f"end epoch {end_et} must be after the start epoch {state.et} (ET s)")
    if state.mass <= 0:
        raise ValueError(f"spacecraft mass {state.mass} kg must be > 0")
    if not (0 < tolerances.rtol < 1e-2 and tolerances.atol_m > 0):
        raise ValueError(f"tolerances rtol={tolerances.rtol}, atol_m={tolerances.atol_m} are not usable")
    check_span(np.array([state.et, end_et]))
    fd = model.compile(state.et, end_et, et_ref=state.et)
    atol = tolerances.atol_vector()
    terminal = [d for d in detectors if d.terminal]
    if chunk_steps is None:
        chunk_steps = 256 if terminal else 4096
    env = EventEnvironment(model.body, state.et, end_et) if detectors else None

    breaks = sorted({b.start_et for b in model.burns} | {b.end_et for b in model.burns})
    bounds = [state.et] + [b for b in breaks if state.et < b < end_et] + [end_et]
    taus, ys, pieces = [np.zeros(1)], [state.vector[None, :]], []
    n_eval = np.zeros(1, np.int64)
    charged = 0                                    # evaluations already charged to the budget
    y = state.vector
    h = 0.0
    stop_event = None
    total = 0
    for seg_start, seg_end in itertools.pairwise(bounds):
        tau = seg_start - state.et
        tau_end = seg_end - state.et
        h = 0.0                                    # restart the step size after a discontinuity
        while tau < tau_end:
            t_out = np.empty(chunk_steps + 1)
            y_out = np.empty((chunk_steps + 1, 7))
            if integrator == "rkn1210":
                k_out = np.empty((chunk_steps + 1, 7))
                status, n, h = rkn.integrate(fd, tau, y, tau_end, tolerances.rtol, atol, h,
                                             tolerances.max_step_s, True, t_out, y_out, k_out, n_eval)
            else:
                k_out = np.empty((chunk_steps, dop853.N_STAGES + 1, 7))
                status, n, h = dop853.integrate(fd, tau, y, tau_end, tolerances.rtol, atol, h,
                                                tolerances.max_step_s, True, t_out, y_out, k_out, n_eval)
            total += n
            run_limits.charge(n, int(n_eval[0]) - charged)
            charged = int(n_eval[0])
            if n > 0:
                taus.append(t_out[1:n + 1])
                ys.append(y_out[1:n + 1])
                piece = _chunk(state.et, t_out, y_out, k_out, n, fd, model, integrator)
                pieces.append(piece)
                if terminal:                       # checks need the chunk's dense output: keep it
                    hits = find_events(piece, terminal, env)
                    n_eval[0] += piece.n_eval
                    if hits:
                        stop_event = hits[0]
                        break
            if status == dop853.STEP_TOO_SMALL:
                raise PropagationError(f"step size underflow at ET {state.et + t_out[n]:.3f} s "
                                       f"(|r| = {np.linalg.norm(y_out[n, :3]):.1f} m): the dynamics are "
                                       f"singular or the tolerances too tight")
            if status not in (dop853.DONE, dop853.BUFFER_FULL):
                raise PropagationError(f"integrator {integrator!r} stopped with status {status}")
            if total > max_steps:
                raise PropagationError(f"more than {max_steps} steps; raise max_steps or loosen tolerances")
            tau = t_out[n]
            y = y_out[n].copy()
        if stop_event is not None:
            break
    traj = _assemble(state.et, taus, ys, pieces, terminal, fd, model, int(n_eval[0]), integrator)
    if stop_event is not None:
        traj = traj.truncated(stop_event.et)
    events = find_events(traj, [d for d in detectors if not d.terminal], env) if detectors else []
    if stop_event is not None:
        events = sorted(events + [stop_event], key=lambda e: e.et)
    return PropagationResult(traj, events, stop_event)


def _check_integrator(integrator: str, model: ForceModel) -> None:
    if integrator not in INTEGRATORS:
        raise InputError(f"unknown integrator: use one of {INTEGRATORS}", quantity="integrator",
                         value=integrator)
    if integrator == "rkn1210" and model.burns:
        raise InputError(f"the Runge–Kutta–Nyström integrator is for coasts (r'' = a(t, r), constant mass), "
                         f"but the force model has {len(model.burns)} finite burn(s), whose thrust follows "
                         f"the velocity and consumes mass: use integrator='dop853' for powered arcs",
                         quantity="integrator", value=integrator)


def _chunk(et_ref, t_out, y_out, k_out, n, fd, model, integrator) -> Trajectory:
    """The n steps just integrated as a lazily dense trajectory (n_eval counts only what its dense
    output costs, once computed)."""
    if integrator == "rkn1210":
        return Trajectory(et_ref, t_out[:n + 1], y_out[:n + 1], None, "J2000", model.body,
                          stages=k_out[:n + 1], interpolant="hermite")
    return Trajectory(et_ref, t_out[:n + 1], y_out[:n + 1], None, "J2000", model.body,
                      stages=k_out[:n], force_data=fd)


def _assemble(et_ref, taus, ys, pieces, terminal, fd, model, n_eval, integrator) -> Trajectory:
    """The whole trajectory from its chunks: with terminal events, their dense output (already
    computed for the checks); else the data that make it on first use."""
    tau, y, meta = np.concatenate(taus), np.vstack(ys), {"force_model": model.describe()}
    hermite = integrator == "rkn1210"
    kind = "hermite" if hermite else "dop853"
    if terminal:
        dense = [p.dense for p in pieces]
        width = rkn.DENSE_DEGREE if hermite else dop853.N_DENSE
        poly = np.concatenate(dense) if dense else np.zeros((0, width, 7))
        return Trajectory(et_ref, tau, y, poly, "J2000", model.body, n_eval, meta, interpolant=kind)
    if hermite:                     # derivatives at the boundaries; each chunk repeats its first one
        ders = [pieces[0].stages[:1]] if pieces else [np.zeros((1, 7))]
        ders += [p.stages[1:] for p in pieces]
        return Trajectory(et_ref, tau, y, None, "J2000", model.body, n_eval, meta,
                          stages=np.concatenate(ders), interpolant=kind)
    stages = [p.stages for p in pieces]
    return Trajectory(et_ref, tau, y, None, "J2000", model.body, n_eval, meta,
                      stages=np.concatenate(stages) if stages else np.zeros((0, dop853.N_STAGES + 1, 7)),
                      force_data=fd)
