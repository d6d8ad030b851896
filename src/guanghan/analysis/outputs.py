"""Run outputs written atomically: ``events.json``, ``summary.json``, ``trajectory.parquet``, ``report.html``.

Everything is written into a fresh temporary directory beside the target and renamed into place at
the end, so a run that fails leaves no partial output directory and an earlier run's outputs are
replaced whole or not at all.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

from guanghan.analysis.report import render_report
from guanghan.analysis.validation import validation_rows

FILES = ("events.json", "summary.json", "trajectory.parquet", "report.html")


def _json_ready(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


def write_run(result, scenario, out_dir) -> Path:
    """Write a :class:`~guanghan.mission.runner.RunResult` into ``out_dir`` atomically; the path."""
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = validation_rows(scenario, result.summary)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)                 # mkdtemp makes it 0700; give it the usual mode
    try:
        (tmp / "events.json").write_text(json.dumps(_json_ready(result.events), indent=1) + "\n")
        (tmp / "summary.json").write_text(json.dumps(_json_ready(result.summary), indent=1) + "\n")
        pq.write_table(result.trajectory, tmp / "trajectory.parquet")
        (tmp / "report.html").write_text(
            render_report(result.scenario_name, result.events, result.summary, result.trajectory,
                          rows, result.meta, series=result.series), encoding="utf-8")
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
