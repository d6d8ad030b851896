"""Rebuild ``report.html`` from a finished run folder: ``guanghan report RUN_DIR``.

Everything comes from the folder: ``summary.json`` (figures, provenance and the ``run`` block:
leg types, sites, published timeline), ``events.json``, ``trajectory.parquet`` and
``series/*.parquet``. The validation rows need the scenario: it is found as ``guanghan validate
--run-dir`` checks it, by the SHA-256 the run recorded — the file given (``scenario``), else the
file the run was read from (``run.scenario``), else the packaged scenario of that file name — and
the run's ``--set`` overrides are applied to it again. A scenario that is not found or whose text
differs leaves the validation rows out, with a note; a run written before the ``run`` block
existed takes its leg types, sites and timeline from the scenario when it is found.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from guanghan.analysis.exports.run_folder import read_run
from guanghan.analysis.outputs import OutputError, read_summary
from guanghan.analysis.report import render_report, write_atomic
from guanghan.analysis.validation import validation_rows
from guanghan.errors import ScenarioError

__all__ = ["rebuild_report", "run_scenario"]


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_text(encoding="utf-8").encode("utf-8")).hexdigest()
    except (OSError, UnicodeDecodeError):
        return None


def run_scenario(provenance: dict, run_meta: dict, scenario=None, notes: list[str] | None = None):
    """The scenario the run was made from, overrides applied, or None (with a note saying why).
    ``scenario``: a file to use; ScenarioError when its text is not the one the run recorded."""
    from guanghan.mission.scenario_catalogue import resolve
    from guanghan.mission.scenario_overrides import load_with_overrides

    notes = notes if notes is not None else []
    want = provenance.get("scenario_sha256")
    if scenario is not None:
        candidates = [Path(scenario)]
    else:
        candidates = []
        if run_meta.get("scenario"):
            candidates.append(Path(str(run_meta["scenario"])))
        if provenance.get("scenario_file"):
            try:
                candidates.append(resolve(Path(str(provenance["scenario_file"])).stem))
            except ScenarioError:
                pass
    for path in candidates:
        if path.is_file() and _sha(path) == want:
            return load_with_overrides(path, provenance.get("overrides") or {})
    if scenario is not None:
        raise ScenarioError(f"{scenario} is not the scenario this run was made from (its SHA-256 "
                            f"differs from the run's {want})")
    notes.append(f"the run's scenario {provenance.get('scenario_file') or '(unknown)'} was not "
                 "found as it was run (same SHA-256): validation rows left out; pass --scenario")
    return None


def _series(folder: Path) -> dict[str, pa.Table]:
    out = {}
    for path in sorted((folder / "series").glob("*.parquet")):
        try:
            out[path.name.removesuffix(".parquet")] = pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise OutputError(f"{path} cannot be read as Parquet: {exc}") from None
    return out


def rebuild_report(run_dir, scenario=None, out=None, notes: list[str] | None = None) -> Path:
    """Write ``report.html`` of the run folder ``run_dir`` again (or to ``out``); the path.
    OutputError / ExportError naming the folder when it is not a finished run."""
    folder = Path(run_dir)
    notes = notes if notes is not None else []
    doc = read_summary(folder)
    run = read_run(folder)
    provenance = doc.get("provenance") or {}
    meta = dict(doc.get("run") or {})
    if not meta:
        notes.append("summary.json has no `run` block (a run of an earlier Guanghan): leg types, "
                     "sites and timeline are taken from the scenario")
    sc = run_scenario(provenance, meta, scenario, notes)
    if sc is not None:
        meta.setdefault("scenario", str(sc.source_path))
        meta.setdefault("legs", {p.name: p.type for p in sc.phases})
        meta.setdefault("sites", [{"name": k, "body": s.body, "lat_deg": s.lat_deg,
                                   "lon_deg": s.lon_deg} for k, s in sc.sites.items()])
        meta.setdefault("phase_sites", {p.name: p.site for p in sc.phases
                                        if isinstance(getattr(p, "site", None), str)})
        meta.setdefault("timeline", dict(sc.timeline))
    meta["provenance"] = provenance
    figures = doc["figures"]
    rows = validation_rows(sc, figures) if sc is not None else []
    title = str(provenance.get("scenario_name") or folder.name)
    text = render_report(title, run.events, figures, run.trajectory, rows, meta,
                         series=_series(folder))
    path = Path(out) if out is not None else folder / "report.html"
    try:
        return write_atomic(path, text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
