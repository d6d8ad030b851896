"""Whole-mission benchmark (issue 12): wall time of every leg and of the whole Chang'e-5 and
Chang'e-6 missions, cold, warm and hot, with integration steps and right-hand-side (field)
evaluations per leg.

* **cold**: a new process with an empty cache folder (``GUANGHAN_CACHE_DIR`` pointed at a fresh
  temporary folder): the GRGM1200A parse and every numba compilation are paid;
* **warm**: a new process with that folder filled (what a user's second ``guanghan run`` sees);
* **hot**: the same mission again in that warm process (kernels, fields and tables in memory);
* **design**: a new warm process flying the mission from the design the warm run stored
  (``guanghan run --design-from``: plan once, fly many).

Each mission runs in child processes of this script (``--child``), so the parent's own imports
do not warm anything. Targets (issue 12, 2 cores): whole Chang'e-5 mission ≤ 15 s warm, ≤ 60 s
cold and ≤ 5 s flown from a stored design (times of the process: import and run). Prints the
load average: timings vary by ±20 % with other load on a 2-core machine (the process's CPU time,
also printed, varies less).

    python benchmarks/mission.py [--scenarios chang-e-5 chang-e-6] [--no-cold]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

TARGETS_S = {"chang-e-5": {"warm": 15.0, "cold": 60.0, "design": 5.0}}


def _child(scenario: str, repeats: int, design: str | None, write_design: str | None) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    import guanghan as gh
    from guanghan.mission.scenario_catalogue import resolve

    sc = gh.load_scenario(resolve(scenario))
    out = {"import_s": time.perf_counter() - t0, "import_cpu_s": time.process_time() - c0,
           "runs": []}
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        res = gh.run(sc, design_from=design)
        out["runs"].append({"wall_s": time.perf_counter() - w, "cpu_s": time.process_time() - c,
                            "status": res.status, "legs": res.meta.get("leg_costs", {})})
    if write_design:                                   # the warm run stores its design
        with open(write_design, "w", encoding="utf-8") as f:
            f.write(res.design.to_json())
    print("RESULT " + json.dumps(out), flush=True)


def _spawn(scenario: str, repeats: int, cache: str, design: str | None = None,
           write_design: str | None = None) -> tuple[float, dict]:
    env = dict(os.environ, GUANGHAN_CACHE_DIR=cache)
    env.pop("NUMBA_CACHE_DIR", None)
    w = time.perf_counter()
    extra = (["--design", design] if design else []) + (["--write-design", write_design] if write_design else [])
    proc = subprocess.run([sys.executable, __file__, "--child", scenario, "--repeats", str(repeats), *extra],
                          env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - w
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        sys.exit(f"{scenario}: child failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, json.loads(line[len("RESULT "):])


def _table(scenario: str, cols: dict[str, dict]) -> None:
    names = list(next(iter(cols.values()))["legs"])
    heads = list(cols)
    print(f"\n{scenario}: wall time per leg (s); steps and evaluations of the hot run")
    print(f"  {'leg':22s}" + "".join(f"{h:>9s}" for h in heads) + f"{'steps':>12s}{'evaluations':>14s}")
    for name in names:
        hot = cols["hot"]["legs"][name]
        print(f"  {name:22s}" + "".join(f"{cols[h]['legs'][name]['wall_s']:9.2f}" for h in heads)
              + f"{hot['steps']:12,d}{hot['evaluations']:14,d}")
    print(f"  {'whole mission':22s}" + "".join(f"{cols[h]['wall_s']:9.2f}" for h in heads))
    print(f"  {'process (import+run)':22s}" + "".join(f"{cols[h]['process_s']:9.2f}" for h in heads))
    print(f"  {'  its CPU time':22s}" + "".join(f"{cols[h]['process_cpu_s']:9.2f}" for h in heads))


def _cpu_model() -> str:
    """The processor's model name (Linux /proc/cpuinfo, else platform): timings depend on it."""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", nargs="+", default=["chang-e-5", "chang-e-6"])
    ap.add_argument("--no-cold", action="store_true", help="skip the cold run (uses a warm cache)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--design", help=argparse.SUPPRESS)
    ap.add_argument("--write-design", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.repeats, args.design, args.write_design)
        return
    verdicts = []
    for scenario in args.scenarios:
        with tempfile.TemporaryDirectory(prefix="guanghan-bench-cache-") as cache:   # fresh per mission
            cols = {}
            if not args.no_cold:
                wall, res = _spawn(scenario, 1, cache)
                cols["cold"] = dict(res["runs"][0], process_s=wall,
                                    process_cpu_s=res["import_cpu_s"] + res["runs"][0]["cpu_s"])
            elif not os.listdir(cache):
                _spawn(scenario, 1, cache)                   # fill the cache, untimed
            design = os.path.join(cache, "design.json")
            wall, res = _spawn(scenario, 2, cache, write_design=design)
            cols["warm"] = dict(res["runs"][0], process_s=res["import_s"] + res["runs"][0]["wall_s"],
                                process_cpu_s=res["import_cpu_s"] + res["runs"][0]["cpu_s"])
            cols["hot"] = dict(res["runs"][1], process_s=float("nan"), process_cpu_s=float("nan"))
            wall, res = _spawn(scenario, 1, cache, design)
            cols["design"] = dict(res["runs"][0], process_s=res["import_s"] + res["runs"][0]["wall_s"],
                                  process_cpu_s=res["import_cpu_s"] + res["runs"][0]["cpu_s"])
            _table(scenario, cols)
            for kind, limit in TARGETS_S.get(scenario, {}).items():
                if kind in cols:
                    got = cols[kind]["process_s"]
                    verdicts.append(f"{scenario} {kind} {got:.1f} s (process) against ≤ {limit:.0f} s: "
                                    f"{'PASS' if got <= limit else 'FAIL'}")
    print(f"\n{_cpu_model()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; "
          "targets (issue 12):")
    for v in verdicts:
        print("  " + v)


if __name__ == "__main__":
    main()
