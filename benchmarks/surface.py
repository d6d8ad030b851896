"""Surface-leg benchmark: the ``surface_operations`` leg alone, warm, on a packaged scenario.

The leg runs standalone from the scenario's touchdown epoch (``--touchdown``, default the
published one) at its site: DEM horizon, Sun/Earth geometry and regolith temperatures over the stay,
the lander's thermal model, direct-to-Earth windows, the relay's propagation on GRGM1200A with Earth
and Sun and its windows (Chang'e-6), drill and scoop models, the CP-SAT timeline and a lunation of
the flag. It is flown once to warm up (gravity file, numba kernels, DEM) and timed ``--repeats``
times; the median wall time, the process CPU time and the load average are printed. Target: under
10 s warm on 2 cores (issue 10).

    python benchmarks/surface.py [--repeats 3] [--scenario chang-e-6]
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
    ap.add_argument("--scenario", default="chang-e-6")
    ap.add_argument("--touchdown", default=None, help="UTC of the touchdown (default: the scenario's timeline)")
    args = ap.parse_args()
    sc = gh.load_scenario(resolve(args.scenario))
    i = next(k for k, p in enumerate(sc.phases) if p.type == "surface_operations")
    touchdown = args.touchdown or sc.timeline["touchdown_utc"]
    phase = sc.phases[i].model_copy(update={"touchdown_utc": touchdown})
    masses = {n: m.mass_kg for n, m in sc.modules.items()}
    leg = LEGS["surface_operations"]
    leg.fly(phase, LegContext(sc, i, None, dict(masses)))                  # warm-up
    walls, cpus = [], []
    for _ in range(args.repeats):
        w, c = time.perf_counter(), time.process_time()
        res = leg.fly(phase, LegContext(sc, i, None, dict(masses)))
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    wall = statistics.median(walls)
    relay = "with the relay" if phase.comms.relay is not None else "direct to Earth only"
    print(f"{sc.mission.name} surface leg ({relay}), warm: wall {wall:.2f} s (median of {args.repeats}: "
          f"{', '.join(f'{x:.2f}' for x in walls)}), CPU {statistics.median(cpus):.2f} s, timeline solve "
          f"{res.meta['timeline_wall_s']:.2f} s; load average {os.getloadavg()[0]:.2f}; "
          f"target < {TARGET_S:.0f} s: {'PASS' if wall < TARGET_S else 'FAIL'}")


if __name__ == "__main__":
    main()
