"""Descent-leg benchmark: the Chang'e-5 ``lunar_descent`` leg alone, warm, on the packaged scenario.

The lunar-orbit coast is flown once to get the separation state; the descent leg (orbit-lowering
design and flight on GRGM1200A 50x50, DEM and synthetic terrain, closed-loop powered descent with
navigation, convex guidance and hazard detection, packing) is then flown once to warm up (GRGM1200A
parse, numba kernels, DEM maps) and timed ``--repeats`` times; the wall-time median, the process
CPU time and the load average are printed. Target: under 10 s warm on 2 cores (issue 9).

    python benchmarks/descent.py [--repeats 3] [--scenario chang-e-5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import guanghan as gh
from guanghan.mission.leg import LEGS, LegContext
from guanghan.mission.scenario_catalogue import resolve

TARGET_S = 10.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scenario", default="chang-e-5")
    args = ap.parse_args()
    sc = gh.load_scenario(resolve(args.scenario))
    masses = {n: m.mass_kg for n, m in sc.modules.items()}
    i = sc.phase_index("lunar_descent")
    state = None
    for k in range(i):
        state = LEGS[sc.phases[k].type].fly(sc.phases[k], LegContext(sc, k, state, dict(masses))).final_state
    leg = LEGS["lunar_descent"]
    phase = sc.phases[i]
    leg.fly(phase, LegContext(sc, i, state, dict(masses)))                 # warm-up
    walls, cpus = [], []
    for _ in range(args.repeats):
        w, c = time.perf_counter(), time.process_time()
        res = leg.fly(phase, LegContext(sc, i, state, dict(masses)))
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    wall = statistics.median(walls)
    print(f"{sc.mission.name} descent leg, warm: wall {wall:.2f} s (median of {args.repeats}: "
          f"{', '.join(f'{x:.2f}' for x in walls)}), CPU {statistics.median(cpus):.2f} s, "
          f"powered descent alone {res.meta['descent_wall_s']:.2f} s; load average "
          f"{os.getloadavg()[0]:.2f}; target < {TARGET_S:.0f} s: "
          f"{'PASS' if wall < TARGET_S else 'FAIL'}")


if __name__ == "__main__":
    main()
