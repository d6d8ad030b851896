"""Ascent-and-rendezvous benchmark: the ``lunar_ascent`` and ``lunar_rendezvous`` legs, warm, on a
packaged scenario.

The phases before the ascent (coast, descent, surface) are flown once to get the lift-off state,
the orbiter handed on by the descent and the module masses with the samples. The two legs are then
flown once to warm up (gravity file, numba kernels) and timed ``--repeats`` times together: the
ascent (UPFG closed loop on GRGM1200A 8x8, launch windows, the ground-in-the-loop comparison over
the scenario's dispersed runs) and the rendezvous (orbiter propagated to the insertion, phasing
designed on the scenario's field, close-range approach with the filter, the docked stack to the
undocking, the deorbit design and impact). Prints the median wall time, CPU time and load
average. Target: under 15 s warm on 2 cores (issue 11).

    python benchmarks/ascent_rendezvous.py [--repeats 3] [--scenario chang-e-5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import guanghan as gh
from guanghan.mission.leg import LEGS, LegContext
from guanghan.mission.scenario_catalogue import resolve

TARGET_S = 15.0


def _fly(sc, k, state, masses, vehicles, cargo):
    phase = sc.phases[k]
    for module, kg in (phase.start_propellant_kg or {}).items():
        masses[module] = sc.modules[module].dry_mass_kg + kg
    res = LEGS[phase.type].fly(phase, LegContext(sc, k, state, dict(masses), dict(vehicles), dict(cargo)))
    masses.update(res.module_masses)
    vehicles.update(res.vehicle_states)
    cargo.update(res.cargo_kg)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scenario", default="chang-e-5")
    args = ap.parse_args()
    sc = gh.load_scenario(resolve(args.scenario))
    i = next(k for k, p in enumerate(sc.phases) if p.type == "lunar_ascent")
    masses = {n: m.mass_kg for n, m in sc.modules.items()}
    vehicles, cargo, state = {}, {}, None
    for k in range(i):
        state = _fly(sc, k, state, masses, vehicles, cargo).final_state
    walls, cpus = [], []
    for rep in range(args.repeats + 1):                                  # the first is the warm-up
        m, v, c = dict(masses), dict(vehicles), dict(cargo)
        w, p = time.perf_counter(), time.process_time()
        ascent = _fly(sc, i, state, m, v, c)
        _fly(sc, i + 1, ascent.final_state, m, v, c)
        if rep:
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - p)
    wall = statistics.median(walls)
    print(f"{sc.mission.name} ascent + rendezvous, warm: wall {wall:.2f} s (median of {args.repeats}: "
          f"{', '.join(f'{x:.2f}' for x in walls)}), CPU {statistics.median(cpus):.2f} s; load average "
          f"{os.getloadavg()[0]:.2f}; target < {TARGET_S:.0f} s: {'PASS' if wall < TARGET_S else 'FAIL'}")


if __name__ == "__main__":
    main()
