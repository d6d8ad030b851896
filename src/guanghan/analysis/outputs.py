"""Run outputs, written atomically: ``summary.json``, ``events.json``, ``trajectory.parquet``, one
Parquet file per leg time series in ``series/``, ``report.html``, ``design.json`` (what the legs
designed, for ``guanghan run --design-from``), and the marker ``.guanghan-run``.

``summary.json`` holds the provenance (scenario file name, SHA-256 of its text, the fields set
over it with ``--set``, Guanghan version, seed), the outcome (status, failed leg, reason, verdict
line), the figures (``"<phase>.<quantity>_<unit>"`` → value) and ``run``: what the report is drawn
from besides the files (leg types, sites, published timeline, costs), so ``guanghan report``
rebuilds the same page. Everything is written into a fresh temporary directory
beside the target and renamed into place at the end, so a run that fails leaves no partial output
directory and an earlier run's outputs are replaced whole or not at all.

Safety: an existing output path is replaced only when it is an earlier Guanghan run (it holds the
marker); a non-empty folder that is not a run, or a file, is refused (:class:`OutputError`) —
:func:`check_output_path` says so before any computation. With ``overwrite=True`` (``--overwrite``)
a non-empty folder that is not a run takes the run too, but only Guanghan's own entries
(:data:`OWN`) are replaced in it, each by a rename; every other file in it is kept. A file at the
path is refused even then.
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
from guanghan.errors import GuanghanError

FILES = ("events.json", "summary.json", "trajectory.parquet", "report.html", "design.json")
MARKER = ".guanghan-run"
OWN = (*FILES, "series", MARKER)           # the entries a run writes, the only ones it ever replaces


class OutputError(GuanghanError):
    """The output location cannot take a run (it holds other files, is a file, or is not writable)."""


def _json_ready(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


def _is_foreign(out: Path) -> bool:
    """True when ``out`` is a non-empty folder that is not a Guanghan run."""
    return out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file()


def check_output_path(out_dir, overwrite: bool = False) -> Path:
    """The resolved output path, if a run may be written there; else OutputError saying why.

    ``overwrite`` lets a non-empty folder that is not a run take the run (only :data:`OWN` replaced).
    """
    out = Path(out_dir).resolve()
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out_dir} is a file, not a folder: choose another --out")
    if not overwrite and _is_foreign(out):
        raise OutputError(f"{out_dir} is a folder that is not a Guanghan run and is not empty: "
                          "choose an empty or new folder, or pass --overwrite to write the run's "
                          "own files into it and keep the others")
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to {out_dir}: choose another --out")
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to {parent}: choose another --out")
    return out


def non_finite_figures(summary: dict) -> list[str]:
    """Keys of the figures that are NaN or ±inf (a computation that went wrong, written as
    ``null`` like a figure that does not apply, so listed apart in ``summary.json``)."""
    return sorted(k for k, v in summary.items() if isinstance(v, float) and not math.isfinite(v))


def summary_document(result, rows: list[dict]) -> dict:
    """The contents of ``summary.json``. JSON has no NaN: a figure that does not apply is
    ``null``; one that came out NaN or infinite is ``null`` too and named in
    ``outcome.non_finite_figures``."""
    return {"provenance": result.meta.get("provenance", {}),
            "outcome": {"status": result.status, "failed_leg": result.failed_leg,
                        "reason": result.reason, "verdict": result.verdict(rows),
                        "non_finite_figures": non_finite_figures(result.summary)},
            "figures": result.summary,
            "run": {k: v for k, v in result.meta.items() if k != "provenance"}}


def read_summary(run_dir) -> dict:
    """``summary.json`` of a run folder; OutputError when missing or unreadable."""
    path = Path(run_dir) / "summary.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"{path} not found: run `guanghan run` first") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputError(f"{path} cannot be read as a Guanghan summary: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("figures"), dict):
        raise OutputError(f"{path} is not a Guanghan summary (no `figures` table)")
    return doc


def _merge_into(tmp: Path, out: Path) -> None:
    """Move the run's entries from ``tmp`` into the foreign folder ``out``, replacing only those."""
    for name in OWN:
        new, dest = tmp / name, out / name
        if not new.exists():
            continue
        if dest.is_dir() and not dest.is_symlink():
            old = out / f".{name}.old"
            shutil.rmtree(old, ignore_errors=True)
            dest.rename(old)
            new.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(new, dest)                  # atomic for a file (or a symlink) at dest
    shutil.rmtree(tmp, ignore_errors=True)


def write_run(result, scenario, out_dir, overwrite: bool = False) -> Path:
    """Write a :class:`~guanghan.mission.runner.RunResult` into ``out_dir`` atomically; the path.

    ``overwrite``: see :func:`check_output_path`; into a foreign folder each entry of :data:`OWN`
    is replaced by a rename and nothing else in it is touched.
    """
    out = check_output_path(out_dir, overwrite)
    merge = _is_foreign(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(f".{out.name}.*.partial"):       # left by killed runs
        shutil.rmtree(stale, ignore_errors=True)
    rows = validation_rows(scenario, result.summary)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)                 # mkdtemp makes it 0700; give it the usual mode
    try:
        (tmp / "events.json").write_text(json.dumps(_json_ready(result.events), indent=1) + "\n")
        (tmp / "summary.json").write_text(
            json.dumps(_json_ready(summary_document(result, rows)), indent=1) + "\n")
        pq.write_table(result.trajectory, tmp / "trajectory.parquet")
        if result.design is not None:
            (tmp / "design.json").write_text(result.design.to_json())
        if result.series:
            (tmp / "series").mkdir()
            for name, table in result.series.items():
                pq.write_table(table, tmp / "series" / f"{name}.parquet")
        (tmp / "report.html").write_text(
            render_report(result.scenario_name, result.events, result.summary, result.trajectory,
                          rows, result.meta, series=result.series), encoding="utf-8")
        (tmp / MARKER).write_text(json.dumps(result.meta.get("provenance", {})) + "\n")
        if merge:
            _merge_into(tmp, out)
            return out
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
