"""RKN12(10) rows for ``propagation.py``: Guanghan's Runge–Kutta–Nyström integrator at the same error goal.

For each degree: the loosest of ``RKN_CANDIDATES`` whose 7-day final-position error against the
tight DOP853 reference is under the goal (0.5 m), then wall times of ``propagate(...,
integrator="rkn1210")`` (as users call it; its Hermite dense output is made on demand and costs no
evaluations) and of the raw compiled ``rkn.integrate``, medians of ``repeats`` runs after a
warm-up. Printed beside them: evaluations and wall time relative to Guanghan's DOP853
``propagate``, the RKN's compiled floor (evaluations × one ``rhs`` call, the same call time as the
DOP853 floor), and the issue 12 target "7-day 100 km polar orbit, GRGM1200A 50×50 + Earth + Sun,
error < 0.5 m: ≤ 0.4 s", judged for both integrators on ``propagate``'s wall time.

References
    Dormand, El-Mikkawy & Prince (1987), IMA J. Numer. Anal. 7, 423–430 (RKN12(10)).
"""

from __future__ import annotations

import math

import numpy as np

from guanghan.dynamics import rkn
from guanghan.dynamics.propagator import Tolerances, propagate

RKN_CANDIDATES = [Tolerances(1e-8, 1e-3), Tolerances(1e-9, 1e-3), Tolerances(1e-10, 1e-4),
                  Tolerances(1e-11, 1e-5)]
TARGET_S = 0.4                   # s, issue 12: 7 days at degree 50 with error < 0.5 m
TARGET_DEGREE, TARGET_DAYS = 50, 7.0


def rkn_final(case, tol: Tolerances):
    """``propagate`` with the RKN, as users call it: (final state, n_eval, steps)."""
    traj = propagate(case.state, case.state.et + case.span, case.model, tol, integrator="rkn1210").trajectory
    return traj.final_state, traj.n_eval, traj.n_steps


def rkn_raw(case, tol: Tolerances):
    """The compiled RKN loop alone, no dense-output data kept: (final state, n_eval, steps)."""
    cap = 200_000
    t_out, y_out = np.empty(cap + 1), np.empty((cap + 1, 7))
    k_unused = np.empty((1, 7))
    n_eval = np.zeros(1, np.int64)
    status, n, _ = rkn.integrate(case.fd, 0.0, case.state.vector, case.span, tol.rtol, tol.atol_vector(),
                                 0.0, math.inf, False, t_out, y_out, k_unused, n_eval)
    if status != rkn.DONE:
        raise RuntimeError(f"raw rkn.integrate stopped with status {status}")
    return y_out[n].copy(), int(n_eval[0]), n


def rkn_rows(case, ref, repeats: int, pick_tolerance, timed):
    """Rows (name, tolerance text, Timing, final state, n_eval, steps) for propagation.print_rows,
    using that module's tolerance picker and timer; the propagate row first."""
    tol, _ = pick_tolerance(RKN_CANDIDATES, lambda t: rkn_final(case, t)[0], ref)
    txt = f"rtol {tol.rtol:g}, atol {tol.atol_m:g} m"
    t_prop, (y, ev, st) = timed(lambda: rkn_final(case, tol), repeats)
    t_raw, (y_raw, ev_raw, st_raw) = timed(lambda: rkn_raw(case, tol), repeats)
    return [("Guanghan propagate, RKN12(10)", txt, t_prop, y, ev, st),
            ("Guanghan rkn.integrate (no dense)", txt, t_raw, y_raw, ev_raw, st_raw)]


def rkn_lines(degree: int, days: float, dop_row, rkn_row, t_rhs, ref, t_np=None, t_hy=None) -> list[str]:
    """Summary lines: RKN against DOP853 (evaluations, wall), the RKN floor, the ≤ 0.4 s target and,
    for the faster of the two ``propagate`` rows, the issue 12 ratios "still ≥ 100× faster than
    scipy + NumPy right-hand side and ≥ 15× faster than heyoka in the same run" (degree 50)."""
    _, _, t_dop, y_dop, ev_dop, _ = dop_row
    _, _, t_rkn, y_rkn, ev_rkn, _ = rkn_row
    floor = ev_rkn * t_rhs.wall
    lines = [(f"deg {degree}: RKN / DOP853 propagate: evaluations {ev_rkn / ev_dop:5.2f}, wall "
              f"{t_rkn.wall / t_dop.wall:5.2f} ({t_rkn.cpu / t_dop.cpu:5.2f} CPU)  [info]"),
             (f"deg {degree}: RKN propagate / its floor ({ev_rkn} evals × rhs = {floor:.4f} s) = "
              f"{t_rkn.wall / floor:5.2f} wall  [info]")]
    if degree == TARGET_DEGREE and days == TARGET_DAYS:
        for name, t, y in (("DOP853", t_dop, y_dop), ("RKN12(10)", t_rkn, y_rkn)):
            err = float(np.linalg.norm(y[:3] - ref[:3]))
            ok = t.wall <= TARGET_S and err < 0.5
            lines.append(f"deg {degree}: {name:9s} propagate 7 days {t.wall:.3f} s wall, err {err:.2e} m; "
                         f"target ≤ {TARGET_S} s with err < 0.5 m  [{'PASS' if ok else 'FAIL'}]")
        name, best = min((("DOP853", t_dop), ("RKN12(10)", t_rkn)), key=lambda x: x[1].wall)
        for other, t, need in (("scipy+NumPy", t_np, 100.0), ("heyoka", t_hy, 15.0)):
            if t is not None:
                r = t.wall / best.wall
                lines.append(f"deg {degree}: {other} / {name} propagate = {r:7.2f} wall "
                             f"({t.cpu / best.cpu:7.2f} CPU)  target ≥ {need:g} (issue 12)  "
                             f"[{'PASS' if r >= need else 'FAIL'}]")
    return lines
