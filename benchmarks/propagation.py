"""Propagation benchmark: Guanghan's compiled DOP853 (and RKN12(10)) against scipy, heyoka and the floor.

Scenario: a 100 km circular polar lunar orbit (a = 1737.4 km + 100 km, e = 0, i = 90°, Ω = ω = ν = 0
in J2000 axes), starting 2024-01-01T00:00:00 UTC, GRGM1200A to degree/order 10 and 50 in MOON_PA,
Earth and Sun third bodies (DE440 GMs), no SRP, constant mass, 7 days.

For each degree it prints:
  1. a tight-tolerance Guanghan reference (rtol 1e-13, atol 1e-9 m; its own change against rtol
     3e-14 is printed) and every contender's final-position error against it; each contender's
     tolerance is the loosest of a short list whose error is under 0.5 m (half the 1 m target);
  2. wall times: Guanghan ``propagate`` (as users call it; its dense output is computed on demand, like scipy's, so a
     run that only needs the final state does not pay for it; this includes its
     ``ForceModel.compile``, i.e. the SPICE sampling and Chebyshev fit of the span), the raw compiled
     ``dop853.integrate`` without dense output, scipy ``solve_ivp(method="DOP853")`` with the plain
     NumPy right-hand side (``numpy_model.py``), the same with Guanghan's numba ``rhs`` wrapped in a
     Python function, and heyoka (``heyoka_model.py``; integration only, its JIT construction
     printed apart). Medians of ``--repeats`` runs after a warm-up run (numba compilation); a
     contender whose single run takes over 5 s is timed once after its warm-up, and scipy+NumPy
     once without warm-up (the "runs" column says how many). Process CPU times are printed
     beside the wall times: the machine is shared, and CPU time is less sensitive to other users'
     load; PASS/FAIL is judged on wall time as specified;
  3. ratios to Guanghan ``propagate``;
  4. the compiled floor: RHS evaluations × the time of one ``rhs`` call, measured in a numba loop
     over 1000 (epoch, state) pairs sampled on the reference orbit, in batches of 1e5 calls
     interleaved with the Guanghan runs (so that both see the same load; median of ≥ 5 batches),
     and Guanghan time / floor.
  5. Guanghan's Runge–Kutta–Nyström 12(10) (``integrator="rkn1210"``) at the same error goal, its
     evaluations and wall time relative to DOP853 (``rkn_rows.py`` says how).
Targets (PASS/FAIL printed): ≥ 100× faster than scipy+NumPy, ≥ 5× faster than heyoka at degree 50,
within 1.3× of the compiled floor; and (issue 12) 7 days at degree 50 with error < 0.5 m in ≤ 0.4 s,
judged for each integrator's ``propagate``.

Numba's cache is pointed to a fresh temporary folder (``NUMBA_CACHE_DIR``) unless
``--reuse-numba-cache`` is given: numba's on-disk cache of ``forces.rhs`` does not notice edits to
the kernels it inlines from other modules (``gravity_kernels.sh_acceleration``), and a stale cache was
seen to give a right-hand side 5e-4 off (relative). The NumPy model check below would show it.

CyRK (``nbsolve2_ivp``, DOP853) is not timed: it takes the right-hand side as a numba ``cfunc``
reading one flat ``double*`` argument block, while Guanghan's model is a namedtuple of nested arrays
(gravity coefficients and recursion factors, the Chebyshev table, workspaces). Wiring it means
flattening all of them and writing a second copy of the kernel that indexes the flat block — not a
20-minute job, and it would no longer time Guanghan's kernel. (``dop853.py`` gives further reasons.)

Run: ``python benchmarks/propagation.py`` (``--degrees 10 50 --days 7 --repeats 5``; ``--quick`` for
a 1-day smoke run at degree 10). Needs heyoka for its column (skipped with a note otherwise).

References
    Hairer, Nørsett & Wanner (1993), §II.5 (DOP853); Biscani & Izzo (2021), MNRAS 504, 2614 (heyoka).
"""

from __future__ import annotations

import os
import sys
import tempfile

if "--reuse-numba-cache" not in sys.argv:
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="guanghan_bench_numba_")
os.environ["NUMBA_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from numpy_model import NumpyForceModel, check_against_guanghan  # noqa: E402
from rkn_rows import rkn_lines, rkn_rows

from guanghan.dynamics import dop853  # noqa: E402
from guanghan.dynamics.forces import CentralGravity, ForceModel, ThirdBody, rhs  # noqa: E402
from guanghan.dynamics.kepler import Elements, elements_to_state  # noqa: E402
from guanghan.dynamics.propagator import Tolerances, propagate  # noqa: E402
from guanghan.dynamics.state import SpacecraftState  # noqa: E402
from guanghan.environment import spice_kernels  # noqa: E402
from guanghan.environment.gravity_field import load_lunar_field  # noqa: E402

START_UTC = "2024-01-01T00:00:00"
ALTITUDE = 100e3                 # m
R_MOON = 1_737_400.0             # m, IAU mean radius (altitude reference)
REFERENCE = Tolerances(1e-13, 1e-9)
REFERENCE_CHECK = Tolerances(3e-14, 1e-10)
DOP_CANDIDATES = [Tolerances(1e-11, 1e-4), Tolerances(1e-11, 1e-5), Tolerances(3e-12, 1e-5),
                  Tolerances(1e-12, 1e-6)]
HEYOKA_CANDIDATES = [1e-10, 1e-11, 1e-12, 1e-13]
ERROR_GOAL = 0.5                 # m, tolerance selection (half the 1 m requirement)
ERROR_LIMIT = 1.0                # m, requirement
SLOW_RUN = 5.0                   # s, contenders slower than this are timed once after warm-up


@dataclass
class Case:
    degree: int
    span: float
    field: object
    model: ForceModel
    state: SpacecraftState
    fd: object


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import heyoka
        hy = heyoka.__version__
    except ImportError:
        hy = "not installed"
    return (f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}\n"
            f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
            f"numba {numba.__version__} (NUMBA_NUM_THREADS={os.environ['NUMBA_NUM_THREADS']}), "
            f"heyoka {hy}")


def make_case(degree: int, days: float) -> Case:
    et0 = spice_kernels.utc_to_et(START_UTC)
    field = load_lunar_field("GRGM1200A", degree)
    model = ForceModel(CentralGravity("MOON", field.mu, field),
                       [ThirdBody("EARTH", spice_kernels.gm("EARTH")),
                        ThirdBody("SUN", spice_kernels.gm("SUN"))])
    r, v = elements_to_state(field.mu, Elements(R_MOON + ALTITUDE, 0.0, math.pi / 2, 0.0, 0.0, 0.0))
    span = days * 86400.0
    return Case(degree, span, field, model, SpacecraftState(et0, r, v, 1000.0),
                model.compile(et0, et0 + span, et_ref=et0))


@dataclass
class Timing:
    wall: float      # s, median wall-clock time
    cpu: float       # s, median process CPU time
    runs: int        # timed runs (after a warm-up)


def _clock(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def timed(fn, repeats: int, warm_up: bool = True):
    """(Timing, last result): an optional warm-up run, then ``repeats`` runs (1 if a run > SLOW_RUN)."""
    if warm_up:
        first, _, out = _clock(fn)
        repeats = 1 if first > SLOW_RUN else repeats
    walls, cpus = [], []
    for _ in range(repeats):
        w, c, out = _clock(fn)
        walls.append(w)
        cpus.append(c)
    return Timing(float(np.median(walls)), float(np.median(cpus)), repeats), out


def guanghan_final(case: Case, tol: Tolerances):
    traj = propagate(case.state, case.state.et + case.span, case.model, tol).trajectory
    return traj.final_state, traj.n_eval, traj.n_steps


def raw_integrate(case: Case, tol: Tolerances):
    """The compiled loop alone, no dense output; returns (final state, n_eval, steps)."""
    cap = 200_000
    t_out, y_out = np.empty(cap + 1), np.empty((cap + 1, 7))
    f_out = np.empty((1, dop853.N_DENSE, 7))
    n_eval = np.zeros(1, np.int64)
    status, n, _ = dop853.integrate(case.fd, 0.0, case.state.vector, case.span, tol.rtol,
                                    tol.atol_vector(), 0.0, math.inf, False, t_out, y_out, f_out, n_eval)
    if status != dop853.DONE:
        raise RuntimeError(f"raw dop853.integrate stopped with status {status}")
    return y_out[n].copy(), int(n_eval[0]), n


def scipy_run(case: Case, tol: Tolerances, fun):
    sol = solve_ivp(fun, (0.0, case.span), case.state.vector, method="DOP853", rtol=tol.rtol,
                    atol=tol.atol_vector())
    return sol.y[:, -1].copy(), sol.nfev, sol.t.size - 1


@numba.njit
def _rhs_loop(fd, taus, states, calls, out):
    acc = 0.0
    k = states.shape[0]
    for i in range(calls):
        j = i % k
        rhs(taus[j], states[j], fd, out)
        acc += out[3]
    return acc


def rhs_sample(case: Case, rng: np.random.Generator, k: int = 1000):
    """``k`` (tau, state) pairs on the reference orbit at random epochs: what the integrator sees."""
    traj = propagate(case.state, case.state.et + case.span, case.model, REFERENCE).trajectory
    taus = np.sort(rng.uniform(0.0, case.span, k))
    states = np.ascontiguousarray(traj.states(case.state.et + taus))
    _rhs_loop(case.fd, taus, states, 10, np.empty(7))                 # compile
    return taus, states


def rhs_call(case: Case, sample, calls: int = 100_000) -> tuple[float, float]:
    """(wall, CPU) time (s) of one compiled ``rhs`` call, from one batch of ``calls`` calls."""
    w, c, _ = _clock(lambda: _rhs_loop(case.fd, sample[0], sample[1], calls, np.empty(7)))
    return w / calls, c / calls


def guanghan_timings(case: Case, tol: Tolerances, repeats: int, sample):
    """Timings of propagate and raw integrate, and rhs batches interleaved with them (the floor
    and the runs then share the machine's load), with the last results."""
    runs = {"prop": [], "raw": [], "rhs": []}
    prop = guanghan_final(case, tol)
    raw = raw_integrate(case, tol)
    for _ in range(max(repeats, 5)):                          # ≥ 5 rhs batches
        w, c, prop = _clock(lambda: guanghan_final(case, tol))
        runs["prop"].append((w, c))
        w, c, raw = _clock(lambda: raw_integrate(case, tol))
        runs["raw"].append((w, c))
        runs["rhs"].append(rhs_call(case, sample))
    med = {k: np.median(np.array(v), axis=0) for k, v in runs.items()}
    n = max(repeats, 5)
    return (Timing(*med["prop"], n), prop, Timing(*med["raw"], n), raw, Timing(*med["rhs"], n))


def pick_tolerance(candidates, run, ref):
    """Loosest candidate whose final-position error (m) is under ERROR_GOAL; (tol, error)."""
    err = math.inf
    for tol in candidates:
        err = float(np.linalg.norm(run(tol)[:3] - ref[:3]))
        if err < ERROR_GOAL:
            return tol, err
    return tol, err


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def check_numpy_model(case: Case, nmodel: NumpyForceModel, rng: np.random.Generator) -> None:
    k = 12
    u = rng.normal(size=(k, 3))
    u /= np.linalg.norm(u, axis=1)[:, None]
    u[0] = (0.0, 0.0, 1.0)                                    # over the pole
    states = np.zeros((k, 7))
    states[:, :3] = u * rng.uniform(R_MOON + 10e3, R_MOON + 500e3, (k, 1))
    states[:, 3:6] = rng.normal(size=(k, 3)) * 1e3
    states[:, 6] = 1000.0
    sh_diff, rhs_diff = check_against_guanghan(nmodel, case.fd, states, rng.uniform(0, case.span, k),
                                               case.field.kernel_data())
    print(f"NumPy model vs Guanghan kernels, max relative difference over {k} states: SH "
          f"{sh_diff:.1e}, full rhs {rhs_diff:.1e}  [{verdict(max(sh_diff, rhs_diff) < 1e-12)} < 1e-12]")


def reference(case: Case):
    guanghan_final(case, REFERENCE)                           # numba warm-up (compilation)
    ref, _, steps = guanghan_final(case, REFERENCE)
    chk = guanghan_final(case, REFERENCE_CHECK)[0]
    print(f"reference: Guanghan rtol={REFERENCE.rtol:g} atol={REFERENCE.atol_m:g} m, {steps} steps; "
          f"change against rtol={REFERENCE_CHECK.rtol:g}: {np.linalg.norm(chk[:3] - ref[:3]) * 1e3:.3f} mm")
    return ref


def heyoka_row(case: Case, repeats: int, ref):
    """Table row for heyoka (None if not installed): tolerance search, then integration timing."""
    try:
        from heyoka_model import HeyokaModel
    except ImportError as exc:
        print(f"heyoka not available ({exc}): its row is skipped")
        return None
    built = {}

    def run(htol):
        t0 = time.perf_counter()
        built[htol] = HeyokaModel(case.field, case.fd, htol, compact_mode=case.degree > 20)
        built[htol].jit_s = time.perf_counter() - t0
        return built[htol].propagate(case.state.vector, case.span)

    htol, _ = pick_tolerance(HEYOKA_CANDIDATES, run, ref)     # its last run is the warm-up
    hm = built[htol]
    timing, y = timed(lambda: hm.propagate(case.state.vector, case.span), repeats, warm_up=False)
    mode = "compact" if case.degree > 20 else "full"
    return (f"heyoka ({mode}; JIT {hm.jit_s:.1f} s excl.)", f"tol {htol:g}", timing,
            np.append(y, case.state.mass), -1, -1)


def print_rows(rows, ref, t_gh: Timing, degree: int) -> list[str]:
    print(f"{'contender':38s} {'tolerance':25s} {'wall s':>8s} {'cpu s':>8s} {'runs':>4s} "
          f"{'err m':>8s} {'n_eval':>7s} {'steps':>6s} {'×GH wall':>8s}")
    fails = []
    for name, ttxt, tm, y, ev, st in rows:
        err = float(np.linalg.norm(y[:3] - ref[:3]))
        print(f"{name:38s} {ttxt:25s} {tm.wall:8.4f} {tm.cpu:8.4f} {tm.runs:4d} {err:8.2e} "
              f"{ev:7d} {st:6d} {tm.wall / t_gh.wall:8.2f}  [{verdict(err < ERROR_LIMIT)} err < 1 m]")
        if err >= ERROR_LIMIT:
            fails.append(f"deg {degree}: {name} error {err:.2f} m ≥ 1 m  [FAIL]")
    return fails


def target_lines(degree, t_gh, t_raw, t_sn, t_np, t_hy, floor, floor_raw) -> list[str]:
    def ratio(a: Timing, b: Timing):
        return a.wall / b.wall, a.cpu / b.cpu

    items = [("scipy+NumPy / Guanghan", ratio(t_np, t_gh), "≥ 100", lambda r: r >= 100),
             ("scipy+numba / Guanghan", ratio(t_sn, t_gh), "none", None)]
    if t_hy is not None:
        items.append(("heyoka / Guanghan", ratio(t_hy, t_gh), "≥ 5 at degree 50",
                      (lambda r: r >= 5) if degree == 50 else None))
    items += [("Guanghan propagate / floor", (t_gh.wall / floor[0], t_gh.cpu / floor[1]), "≤ 1.3",
               lambda r: r <= 1.3),
              ("raw integrate / its floor", (t_raw.wall / floor_raw[0], t_raw.cpu / floor_raw[1]),
               "≤ 1.3", lambda r: r <= 1.3)]
    lines = []
    for name, (rw, rc), target, test in items:
        tag = "info" if test is None else verdict(test(rw))
        lines.append(f"deg {degree}: {name:27s} = {rw:7.2f} wall ({rc:7.2f} CPU)  target {target}  [{tag}]")
    return lines


def bench_degree(degree: int, days: float, repeats: int, rng: np.random.Generator) -> list[str]:
    case = make_case(degree, days)
    print(f"\n=== GRGM1200A {degree}×{degree}, Earth + Sun, {days:g} days ({case.span:.0f} s) from "
          f"{START_UTC} UTC; load average {os.getloadavg()[0]:.2f} ===")
    nmodel = NumpyForceModel(case.field, case.fd)
    check_numpy_model(case, nmodel, rng)
    ref = reference(case)
    tol, _ = pick_tolerance(DOP_CANDIDATES, lambda t: guanghan_final(case, t)[0], ref)
    tol_txt = f"rtol {tol.rtol:g}, atol {tol.atol_m:g} m"
    sample = rhs_sample(case, rng)
    t_gh, (y_gh, ev_gh, st_gh), t_raw, (y_raw, ev_raw, st_raw), t_rhs = \
        guanghan_timings(case, tol, repeats, sample)

    def numba_fun(t, y):
        out = np.empty(7)
        rhs(t, y, case.fd, out)
        return out

    t_sn, (y_sn, ev_sn, st_sn) = timed(lambda: scipy_run(case, tol, numba_fun), repeats)
    t_np, (y_np, ev_np, st_np) = timed(lambda: scipy_run(case, tol, nmodel.rhs), 1, warm_up=False)
    rows = [("Guanghan propagate", tol_txt, t_gh, y_gh, ev_gh, st_gh),
            ("Guanghan dop853.integrate (no dense)", tol_txt, t_raw, y_raw, ev_raw, st_raw),
            ("scipy DOP853 + numba rhs", tol_txt, t_sn, y_sn, ev_sn, st_sn),
            ("scipy DOP853 + NumPy rhs (no warm-up)", tol_txt, t_np, y_np, ev_np, st_np)]
    hy_row = heyoka_row(case, repeats, ref)
    if hy_row is not None:
        rows.append(hy_row)
    rk_rows = rkn_rows(case, ref, repeats, pick_tolerance, timed)
    rows += rk_rows
    fails = print_rows(rows, ref, t_gh, degree)
    floor = (ev_gh * t_rhs.wall, ev_gh * t_rhs.cpu)
    floor_raw = (ev_raw * t_rhs.wall, ev_raw * t_rhs.cpu)
    print(f"one compiled rhs call: {t_rhs.wall * 1e6:.2f} µs wall, {t_rhs.cpu * 1e6:.2f} µs CPU "
          f"(median of {t_rhs.runs} batches of 1e5 calls over 1000 states on the orbit, interleaved "
          f"with the Guanghan runs)")
    print(f"compiled floor: propagate {ev_gh} evals × rhs = {floor[0]:.4f} s; raw integrate {ev_raw} "
          f"evals × rhs = {floor_raw[0]:.4f} s (wall)")
    lines = target_lines(degree, t_gh, t_raw, t_sn, t_np, hy_row[2] if hy_row else None, floor, floor_raw)
    lines += rkn_lines(degree, days, rows[0], rk_rows[0], t_rhs, ref, t_np, hy_row[2] if hy_row else None)
    for line in lines:
        print("  " + line.split(": ", 1)[1])
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return fails + lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--degrees", type=int, nargs="+", default=[10, 50])
    p.add_argument("--days", type=float, default=7.0)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="1-day smoke run at degree 10")
    p.add_argument("--reuse-numba-cache", action="store_true",
                   help="keep numba's usual on-disk cache (faster start, may be stale)")
    args = p.parse_args(argv)
    if args.quick:
        args.degrees, args.days, args.repeats = [10], 1.0, 2
    print(machine())
    print(f"numba cache: {os.environ.get('NUMBA_CACHE_DIR', 'default (__pycache__)')}")
    rng = np.random.default_rng(20240101)
    summary = []
    for degree in args.degrees:
        summary += bench_degree(degree, args.days, args.repeats, rng)
    print("\nsummary:")
    for line in summary:
        print("  " + line)
    return 1 if any("FAIL" in s for s in summary) else 0


if __name__ == "__main__":
    sys.exit(main())
