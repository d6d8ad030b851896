"""Long fuzz profile (issue 8, item 5): thousands of schema-driven mutations of every packaged scenario.

    python benchmarks/fuzz.py --cases 3000 --seed 1 --jobs 2

Draws ``--cases`` mutations in all, shared equally by the variants of :func:`fuzz_variants.variants`
(each short scenario, each full mission trimmed to its coast and to its entry, and each full
mission whole), checks each in-process and runs those that validate with ``python -m guanghan run``
in a subprocess (``--jobs`` at a time, ``--time-limit`` seconds each); see ``tests/fuzz_run.py`` for
the classes. ``--full-runs`` also flies the validating mutations of the whole missions (minutes
each). Writes every case to ``--out`` (CSV: variant, path, mutation, class, exit code, stage,
wall time, detail, last lines of output), prints the count by class and the defects, and exits 1
if there is any defect. The CI profile (``tests/test_fuzz.py``) is the same harness, smaller.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import fuzz_run
import fuzz_variants


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=3000, help="total number of cases (default 3000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2, help="parallel subprocess runs")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per run before it is "
                    "killed and counted as a hang")
    ap.add_argument("--only", help="only the variants whose name contains this")
    ap.add_argument("--full-runs", action="store_true", help="also run the validating mutations "
                    "of the whole missions (slow)")
    ap.add_argument("--out", type=Path, default=Path("fuzz-defects.csv"), help="CSV of every case")
    ap.add_argument("--workdir", type=Path, help="keep the cases' files here (default: temporary)")
    args = ap.parse_args(argv)

    cases = fuzz_variants.build_cases(args.cases, args.seed, args.only)
    print(f"{len(cases)} cases, seed {args.seed}, {args.jobs} jobs, {args.time_limit:g} s limit",
          flush=True)
    t0, done = time.time(), [0]

    def progress(case, outcome):
        done[0] += 1
        if not outcome.ok:
            print(f"[{done[0]}/{len(cases)}] DEFECT {outcome.report(case)}", flush=True)
        elif outcome.stage == "subprocess" or done[0] % 200 == 0:
            print(f"[{done[0]}/{len(cases)}] {outcome.kind:9s} {case.id} ({outcome.wall_s:.1f} s)",
                  flush=True)

    with tempfile.TemporaryDirectory(prefix="guanghan-fuzz-") as tmp:
        work = args.workdir or Path(tmp)
        results = fuzz_run.evaluate(cases, work, args.time_limit, args.jobs, args.full_runs, progress)

    fuzz_run.write_csv(cases, results, args.out)
    counts = collections.Counter(results[c.id].kind for c in cases)
    defects = [c for c in cases if not results[c.id].ok]
    print(f"\n{len(cases)} cases in {time.time() - t0:.0f} s; by class:")
    for kind, n in counts.most_common():
        print(f"  {kind:15s} {n}")
    by_class = collections.Counter((results[c.id].kind, c.variant.split("@")[0]) for c in defects)
    for (kind, variant), n in sorted(by_class.items()):
        print(f"  defect {kind:15s} {variant:22s} {n}")
    print(f"{len(defects)} defects; every case in {args.out}")
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main())
