"""Campaign benchmark: samples per second with 1 and 2 local Dask workers, and the scaling.

Two campaigns of the packaged scenarios' own ``[dispersions]``:

* the entry leg alone (``chang-e-5-entry``: guided skip entry with NRLMSIS along the ground
  track, parachutes; target ≥ 20 samples/s on 2 cores);
* the whole Chang'e-5 mission (``chang-e-5``), a few samples.

Each is run once with ``--workers 1`` and once with 2; the rate counts samples finished after the
first one of each worker (so worker start-up, imports and the first sample's cache loads are
excluded, and printed apart as the start-up time). Scaling efficiency = rate(2) / (2 × rate(1));
target ≥ 85 %. Numba and data caches are those of the user (warm after the first run).

    python benchmarks/campaign.py [--entry-samples 200] [--mission-samples 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from guanghan.analysis.campaign import run_campaign
from guanghan.mission.scenario_catalogue import resolve

ENTRY_TARGET_PER_S = 20.0
EFFICIENCY_TARGET = 0.85


def _campaign(name: str, samples: int, workers: int, folder: Path) -> dict:
    """Wall time, start-up and steady rate (samples/s) of one campaign."""
    out = folder / f"{name}-w{workers}"
    shutil.rmtree(out, ignore_errors=True)
    stamps: list[float] = []
    t0 = time.perf_counter()
    run_campaign(resolve(name), samples, out, workers=workers, chunk_size=1,
                 progress=lambda done, total: stamps.append(time.perf_counter()))
    wall = time.perf_counter() - t0
    finished = stamps[1:]                      # the first call is the 0/total before any sample
    table = pq.read_table(out / "samples.parquet", columns=["outcome", "wall_s"])
    warm = finished[workers - 1:]               # after each worker's first sample
    rate = (len(warm) - 1) / (warm[-1] - warm[0]) if len(warm) > 1 else float("nan")
    outcomes = table.column("outcome").to_pylist()
    return {"wall_s": wall, "startup_s": finished[0] - t0 if finished else float("nan"),
            "rate": rate, "completed": outcomes.count("completed"), "samples": samples,
            "sample_s": sorted(table.column("wall_s").to_pylist())[len(outcomes) // 2]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entry-samples", type=int, default=200)   # 60 left the scaling within 1 % of its start-up noise
    ap.add_argument("--mission-samples", type=int, default=4)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="guanghan_campaign_bench_"))
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    for name, n, target in (("chang-e-5-entry", args.entry_samples, ENTRY_TARGET_PER_S),
                            ("chang-e-5", args.mission_samples, None)):
        if n < 2:
            continue
        res = {w: _campaign(name, n, w, folder) for w in (1, 2)}
        for w, r in res.items():
            print(f"{name}: {n} samples, {w} worker(s): {r['wall_s']:.1f} s wall, start-up "
                  f"{r['startup_s']:.1f} s, {r['rate']:.3f} samples/s after start-up (median sample "
                  f"{r['sample_s']:.2f} s), {r['completed']}/{n} completed")
        eff = res[2]["rate"] / (2 * res[1]["rate"])
        line = f"{name}: scaling 1 -> 2 workers {100 * eff:.0f} % (target ≥ {100 * EFFICIENCY_TARGET:.0f} %: " \
               f"{'PASS' if eff >= EFFICIENCY_TARGET else 'FAIL'})"
        if target:
            line += f"; {res[2]['rate']:.1f} samples/s on 2 workers (target ≥ {target:.0f}: " \
                    f"{'PASS' if res[2]['rate'] >= target else 'FAIL'})"
        print(line, flush=True)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
