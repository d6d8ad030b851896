"""Batch-propagation benchmark (issue 12, item 4): many one-day lunar orbits in one compiled call.

Scenario: ``--n`` (1,000) initial states dispersed about a 100 km polar lunar orbit (numpy Generator
seeded 20240101: semi-major axis 1737.4 km + 100 km ± U(10 km), e ~ U(0, 0.005), inclination
90° + N(0, 2°), node, argument of periapsis and true anomaly uniform; J2000 axes, 1000 kg), all from
2024-01-01T00:00:00 UTC for one day, GRGM1200A degree/order 10 in MOON_PA, Earth and Sun third
bodies (DE440 GMs), no SRP — the model of ``benchmarks/propagation.py``.

It prints:
  1. the machine, the thread count (``NUMBA_NUM_THREADS`` is set to ``--threads`` before numba is
     imported) and the load average; the first batch call's time (numba compilation of the batch
     kernel and everything it calls, into a fresh cache unless ``--reuse-caches``);
  2. the tolerance used — ``propagate``'s default, rtol 1e-11, atol 1e-4 m — and the final-position
     error it gives on ``--sample`` trajectories against a tight reference (rtol 1e-13, atol 1e-9 m;
     the reference's own change against rtol 3e-14 is printed); the check that every one of the N
     batch results is bit-identical to its single ``propagate`` (a Python loop, one thread, as users
     call it, timed once);
  3. heyoka's batch mode (``heyoka.taylor_adaptive_batch``, SIMD width ``recommended_simd_size()``,
     on ``--threads`` Python threads, see ``heyoka_model.HeyokaBatchModel``) on the same model built
     from ``benchmarks/heyoka_model.py``: its tolerance is the loosest of 1e-10…1e-13 whose error on
     the sample is no larger than Guanghan's (so it is at least as accurate); JIT time printed
     apart, heyoka's JIT disk cache off unless ``--reuse-caches`` (``--no-heyoka`` skips it);
  4. throughput after a warm-up: ``propagate_batch`` and heyoka on all N in ``--repeats``
     interleaved rounds (both see the same load on a shared machine), median wall and CPU time,
     trajectories/s (and N × threads / CPU time, the rate if the cores were the run's alone); the
     loop of ``propagate`` and the batch / loop ratio;
  5. the profile: the cost of one evaluation inside the batch kernel (one thread, 100 trajectories,
     CPU time / evaluations, integrator included) and inside the loop of ``propagate``; one
     standalone right-hand side call (over 1,000 states on the orbits) split into the Chebyshev
     table (Sun, Earth, rotation), the degree-10 field and the rest; evaluations per trajectory
     and per orbit; the floor threads / (evaluations × cost per evaluation) in trajectories/s, and
     what the target would need;
  6. for information only (never for PASS/FAIL), the batch throughput and error at looser
     tolerances;
  7. PASS/FAIL against "≥ 3,000 trajectories/s on 2 cores, each trajectory identical to its single
     propagation", judged on the faster of the DOP853 batch (propagate's default tolerance) and the
     RKN12(10) batch (``integrator="rkn1210"`` at the loosest tolerance as accurate as the DOP853
     batch on the sample, its identity checked against ``propagate(..., integrator="rkn1210")``);
     the exit code is 1 on FAIL.

Run: ``python benchmarks/batch.py`` (defaults ``--n 1000 --threads 2 --repeats 5 --sample 50``);
needs heyoka for its rows (items 3–4).

References
    Hairer, Nørsett & Wanner (1993), §II.5 (DOP853); Biscani & Izzo (2021), MNRAS 504, 2614 (heyoka).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile


def _args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="trajectories")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--sample", type=int, default=50, help="trajectories checked against the reference")
    p.add_argument("--no-heyoka", action="store_true")
    p.add_argument("--reuse-caches", action="store_true",
                   help="keep numba's and heyoka's on-disk caches (compile times are then cache loads)")
    return p.parse_args(argv)


ARGS = _args() if __name__ == "__main__" else None
if ARGS is not None:
    os.environ["NUMBA_NUM_THREADS"] = str(ARGS.threads)
    if not ARGS.reuse_caches:
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="guanghan_bench_numba_")

import math
import platform
import time
from pathlib import Path

import numba
import numpy as np

from guanghan.dynamics.batch_propagation import propagate_batch
from guanghan.dynamics.forces import CentralGravity, ForceModel, ThirdBody, rhs
from guanghan.dynamics.kepler import Elements, elements_to_state
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import spice_kernels
from guanghan.environment.chebyshev import cheb_eval
from guanghan.environment.gravity_field import load_lunar_field
from guanghan.environment.gravity_kernels import sh_acceleration

sys.path.insert(0, str(Path(__file__).resolve().parent))

START_UTC = "2024-01-01T00:00:00"
SPAN = 86400.0                                   # s
R_MOON = 1_737_400.0                             # m
TOL = Tolerances()                               # propagate()'s default: rtol 1e-11, atol 1e-4 m
REFERENCE, REFERENCE_CHECK = Tolerances(1e-13, 1e-9), Tolerances(3e-14, 1e-10)
LOOSER = [Tolerances(1e-10, 1e-3), Tolerances(1e-9, 1e-2), Tolerances(1e-8, 1e-1)]
HEYOKA_TOLS = [1e-10, 1e-11, 1e-12, 1e-13]
RKN_TOLS = [Tolerances(1e-8, 1e-3), Tolerances(1e-9, 1e-3), Tolerances(1e-10, 1e-4), Tolerances(1e-11, 1e-4)]
TARGET = 3000.0                                  # trajectories/s on 2 cores


def dispersed_states(field, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 7) states [r (m), v (m/s), m (kg)] about a 100 km polar orbit, J2000."""
    out = np.empty((n, 7))
    for i in range(n):
        el = Elements(R_MOON + 100e3 + rng.uniform(-10e3, 10e3), rng.uniform(0.0, 0.005),
                      math.radians(90.0 + rng.normal(0.0, 2.0)), rng.uniform(0, 2 * math.pi),
                      rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi))
        r, v = elements_to_state(field.mu, el)
        out[i] = (*r, *v, 1000.0)
    return out


def _clock(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def median_clock(fn, repeats: int):
    """(median wall s, median CPU s, last result) of ``repeats`` calls."""
    runs = [_clock(fn) for _ in range(repeats)]
    return float(np.median([r[0] for r in runs])), float(np.median([r[1] for r in runs])), runs[-1][2]


def position_errors(y: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return np.linalg.norm(y[:, :3] - ref[:, :3], axis=1)


@numba.njit
def _rhs_loop(fd, taus, states, calls, out):
    acc = 0.0
    for i in range(calls):
        j = i % states.shape[0]
        rhs(taus[j], states[j], fd, out)
        acc += out[3]
    return acc


@numba.njit
def _cheb_loop(fd, taus, calls):
    acc = 0.0
    for i in range(calls):
        cheb_eval(fd.et_ref + taus[i % taus.shape[0]], fd.cheb_t0, fd.cheb_seg, fd.cheb_coeffs, fd.buf, 0)
        acc += fd.buf[0]
    return acc


@numba.njit
def _field_loop(sh, states, calls, out):
    acc = 0.0
    for i in range(calls):
        sh_acceleration(states[i % states.shape[0]], sh, out)
        acc += out[0]
    return acc


def rhs_profile(fd, taus, states, calls: int = 200_000, batches: int = 5) -> dict[str, float]:
    """Seconds per call (median of ``batches``) of the whole rhs and of its two main parts."""
    out = np.empty(7)
    loops = {"rhs": lambda c: _rhs_loop(fd, taus, states, c, out),
             "chebyshev": lambda c: _cheb_loop(fd, taus, c),
             "field": lambda c: _field_loop(fd.sh, states, c, out)}
    for run in loops.values():
        run(10)                                                          # compile
    return {k: float(np.median([_clock(lambda r=run: r(calls))[0] for _ in range(batches)])) / calls
            for k, run in loops.items()}


def machine(threads: int) -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} logical cores; Python {platform.python_version()}, numba "
            f"{numba.__version__} (NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}, batch threads "
            f"{threads}); load average {os.getloadavg()[0]:.2f}")


def heyoka_build(field, fd, y0s, sample, ref, gh_error, threads, fresh_jit):
    """(HeyokaBatchModel, tol, max error on the sample), or None if heyoka is missing: the loosest
    tolerance of HEYOKA_TOLS at least as accurate as Guanghan on the sample."""
    try:
        import heyoka
        from heyoka_model import HeyokaBatchModel
    except ImportError as exc:
        print(f"heyoka: not available ({exc}); skipped")
        return None
    if fresh_jit:
        heyoka.llvm_state.set_diskcache_enabled(False)      # time the JIT, not a cache load
    print(f"heyoka {heyoka.__version__}, JIT disk cache "
          f"{'on' if heyoka.llvm_state.get_diskcache_enabled() else 'off'}")
    for htol in HEYOKA_TOLS:
        t0 = time.perf_counter()
        hm = HeyokaBatchModel(field, fd, htol, threads=threads)
        jit = time.perf_counter() - t0
        err = float(position_errors(hm.propagate_many(y0s[sample], SPAN), ref).max())
        print(f"heyoka tol {htol:g}: batch size {hm.batch_size}, Taylor order {hm.copies[0].order}, "
              f"JIT + copies {jit:.1f} s, max error on the sample {err:.2e} m")
        if err <= gh_error:
            break
    return hm, htol, err


def timed_rounds(contenders: dict, repeats: int) -> dict:
    """{name: (median wall s, median CPU s)}: ``repeats`` rounds, each running every contender once
    in turn, so that all see the same load on a shared machine."""
    runs = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            wall, cpu, _ = _clock(fn)
            runs[name].append((wall, cpu))
    return {name: tuple(np.median(np.array(r), axis=0)) for name, r in runs.items()}


def main(args) -> int:
    threads = args.threads
    print(machine(threads))
    print(f"numba cache: {os.environ.get('NUMBA_CACHE_DIR', 'default')}")
    rng = np.random.default_rng(20240101)
    et0 = spice_kernels.utc_to_et(START_UTC)
    field = load_lunar_field("GRGM1200A", 10)
    model = ForceModel(CentralGravity("MOON", field.mu, field),
                       [ThirdBody("EARTH", spice_kernels.gm("EARTH")), ThirdBody("SUN", spice_kernels.gm("SUN"))])
    y0s = dispersed_states(field, args.n, rng)
    end = et0 + SPAN
    fd = model.compile(et0, end, et_ref=et0)
    sample = np.sort(rng.choice(args.n, size=min(args.sample, args.n), replace=False))
    orbits = SPAN / (2 * math.pi * math.sqrt((R_MOON + 100e3) ** 3 / field.mu))

    def batch(tol=TOL, ys=y0s, **kw):
        return propagate_batch(ys, end, model, tol, epoch=et0, threads=threads, **kw)

    wall, _, _ = _clock(lambda: batch(ys=y0s[:4]))
    print(f"first batch call (compilation; 4 trajectories): {wall:.1f} s")
    wall, _, _ = _clock(lambda: propagate(SpacecraftState(et0, y0s[0, :3], y0s[0, 3:6], 1000.0), end, model, TOL))
    print(f"first propagate call (compilation of what the batch kernel did not share): {wall:.1f} s")

    print(f"\n=== accuracy and identity: GRGM1200A 10x10 + Earth + Sun, {args.n} orbits, 1 day from "
          f"{START_UTC} UTC ===")
    ref = batch(REFERENCE, y0s[sample]).final_states
    check = batch(REFERENCE_CHECK, y0s[sample]).final_states
    print(f"reference ({len(sample)} trajectories): rtol {REFERENCE.rtol:g}, atol {REFERENCE.atol_m:g} m; "
          f"its change against rtol {REFERENCE_CHECK.rtol:g}: {position_errors(check, ref).max() * 1e3:.3f} mm")
    res = batch()
    if not res.ok.all():
        print(f"batch: {np.count_nonzero(~res.ok)} trajectories failed, statuses {np.unique(res.status)}")
    gh_err = position_errors(res.final_states[sample], ref)
    ev = res.n_eval.mean()
    print(f"Guanghan at rtol {TOL.rtol:g}, atol {TOL.atol_m:g} m (propagate's default): final-position error "
          f"max {gh_err.max():.2e} m, median {np.median(gh_err):.2e} m; {res.steps.mean():.0f} steps, {ev:.0f} "
          f"evaluations per trajectory ({ev / orbits:.0f} per orbit)")
    states = [SpacecraftState(et0, y[:3], y[3:6], y[6]) for y in y0s]
    loop_wall, loop_cpu, finals = _clock(lambda: np.array([propagate(s, end, model, TOL).trajectory.final_state
                                                           for s in states]))
    identical = np.array([np.array_equal(a, b) for a, b in zip(finals, res.final_states)])
    print(f"bit-identical to the single propagation: {identical.sum()} of {args.n} "
          f"(max difference {np.abs(finals - res.final_states).max():.1e})")

    print("\n=== Guanghan's RKN12(10) batch: the loosest tolerance at least as accurate as DOP853 ===")
    for rtol in RKN_TOLS:
        rk = batch(rtol, integrator="rkn1210")
        rk_err = position_errors(rk.final_states[sample], ref)
        print(f"RKN rtol {rtol.rtol:g}, atol {rtol.atol_m:g} m: max error {rk_err.max():.2e} m, "
              f"{rk.n_eval.mean():.0f} evaluations per trajectory")
        if rk_err.max() <= gh_err.max():
            break
    rk_tol = rtol
    rk_wall, _, rk_finals = _clock(lambda: np.array([
        propagate(s, end, model, rk_tol, integrator="rkn1210").trajectory.final_state for s in states]))
    rk_same = bool(rk.ok.all() and all(np.array_equal(a, b) for a, b in zip(rk_finals, rk.final_states)))
    print(f"RKN batch bit-identical to propagate(..., integrator='rkn1210'): {rk_same} "
          f"(loop of propagate {args.n / rk_wall:,.0f} trajectories/s)")

    print("\n=== heyoka batch mode: tolerance and JIT ===")
    hy = None if args.no_heyoka else heyoka_build(field, fd, y0s, sample, ref, gh_err.max(), threads,
                                                  not args.reuse_caches)

    print(f"\n=== throughput: {args.n} one-day orbits, {threads} threads, median of {args.repeats} "
          f"interleaved rounds; load average {os.getloadavg()[0]:.2f} ===")
    contenders = {"Guanghan propagate_batch": batch,
                  "Guanghan batch, RKN12(10)": lambda: batch(rk_tol, integrator="rkn1210")}
    if hy is not None:
        contenders["heyoka batch mode"] = lambda: hy[0].propagate_many(y0s, SPAN)
    for fn in contenders.values():
        fn()                                                             # warm-up at full size
    times = timed_rounds(contenders, args.repeats)
    for name, (wall, cpu) in times.items():
        print(f"{name:26s} {wall:7.3f} s wall ({cpu:7.3f} s CPU) -> {args.n / wall:7,.0f} trajectories/s "
              f"({threads * args.n / cpu:7,.0f}/s if the {threads} cores were its alone)")
    wall, cpu = times["Guanghan propagate_batch"]
    rate, loop_rate = args.n / wall, args.n / loop_wall
    print(f"{'Python loop of propagate':26s} {loop_wall:7.3f} s wall ({loop_cpu:7.3f} s CPU) -> "
          f"{loop_rate:7,.0f} trajectories/s (1 thread; timed once, above); batch / loop = {rate / loop_rate:.2f}")

    print("\n=== profile: where the time goes ===")
    ets = np.sort(rng.uniform(et0, end, 1000))
    probe = batch(ys=y0s[sample[:1]], sample_ets=ets).samples[0]
    prof = rhs_profile(fd, ets - et0, np.ascontiguousarray(probe))
    k = min(args.n, 100)
    _, one_cpu, one = median_clock(lambda: propagate_batch(y0s[:k], end, model, TOL, epoch=et0,
                                                                  threads=1), args.repeats)
    per_eval = one_cpu / one.n_eval.sum()
    floor = threads / (ev * per_eval)
    print(f"inside the batch kernel (1 thread, {k} trajectories): {per_eval * 1e6:.3f} µs CPU per evaluation, "
          f"integrator included; the loop of propagate: {loop_cpu / (args.n * ev) * 1e6:.3f} µs (CPU)")
    print(f"one standalone rhs call: {prof['rhs'] * 1e6:.3f} µs = Chebyshev table (15 components × 14 "
          f"coefficients) {prof['chebyshev'] * 1e6:.3f} µs + degree-10 field {prof['field'] * 1e6:.3f} µs + "
          f"rotation, third bodies and the calls' argument passing "
          f"{max(prof['rhs'] - prof['chebyshev'] - prof['field'], 0) * 1e6:.3f} µs")
    print(f"floor: {ev:.0f} evaluations ({ev / orbits:.0f} per orbit) × {per_eval * 1e6:.3f} µs = "
          f"{ev * per_eval * 1e3:.2f} ms per trajectory per core -> {floor:,.0f} trajectories/s on {threads} "
          f"threads; the batch ran at {rate / floor:.2f} of it")
    print(f"the target needs {threads / TARGET * 1e3:.3f} ms per trajectory per core: "
          f"{threads / TARGET / per_eval:.0f} evaluations ({threads / TARGET / per_eval / orbits:.0f} per "
          f"orbit) at this cost, or {threads / TARGET / ev * 1e9:.0f} ns per evaluation at these evaluations")

    print("\n=== information only: looser tolerances (not used for PASS/FAIL) ===")
    for tol in LOOSER:
        w, c, r = median_clock(lambda t=tol: batch(t), args.repeats)
        err = position_errors(r.final_states[sample], ref).max()
        print(f"rtol {tol.rtol:g}, atol {tol.atol_m:g} m: {args.n / w:,.0f} trajectories/s "
              f"({threads * args.n / c:,.0f}/s by CPU time), {r.n_eval.mean():.0f} evaluations, "
              f"max error {err:.2e} m")

    rk_rate = args.n / times["Guanghan batch, RKN12(10)"][0]
    if rk_rate > rate:                               # the faster integrator is judged
        best, same, label = rk_rate, rk_same, f"RKN12(10) at rtol {rk_tol.rtol:g} (error ≤ {rk_err.max():.1e} m)"
    else:
        best, same, label = rate, bool(identical.all() and res.ok.all()), f"DOP853 at rtol {TOL.rtol:g}"
    ok_rate, ok_same = best >= TARGET, same
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    print(f"summary: batch {rate:,.0f} trajectories/s on {threads} threads at rtol {TOL.rtol:g} "
          f"(error ≤ {gh_err.max():.1e} m); loop {loop_rate:,.0f}/s (×{rate / loop_rate:.2f}); RKN12(10) "
          f"batch {rk_rate:,.0f}/s at rtol {rk_tol.rtol:g} (error ≤ {rk_err.max():.1e} m)"
          + (f"; heyoka batch {args.n / times['heyoka batch mode'][0]:,.0f}/s at tol {hy[1]:g} "
             f"(error ≤ {hy[2]:.1e} m)" if hy else ""))
    verdict = "PASS" if ok_rate and ok_same else "FAIL"
    print(f"target ≥ {TARGET:,.0f} trajectories/s on 2 cores with each trajectory identical to its single "
          f"propagation, judged on the faster Guanghan batch ({label}, {best:,.0f}/s): {verdict} "
          f"(rate {'met' if ok_rate else 'not met'}, identity "
          f"{'met' if ok_same else 'not met'})")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main(ARGS))
