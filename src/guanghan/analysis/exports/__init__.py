"""Exports of a finished run's trajectory to the formats other tools read.

    guanghan export out/ce5 --format oem          # CCSDS OEM 2.0, KVN   -> out/ce5/exports/chang-e-5.oem
    guanghan export out/ce5 --format oem-xml      # CCSDS OEM 2.0, XML   -> …/chang-e-5.oem.xml
    guanghan export out/ce5 --format spk          # SPICE SPK type 13    -> …/chang-e-5.bsp
    guanghan export out/ce5 --format czml         # Cesium CZML          -> …/chang-e-5.czml
    guanghan export out/ce5 --format csv --out t.csv

From Python, :func:`export_run` on a run folder, or the per-format writers on a trajectory table
(``trajectory_table.SCHEMA``): :func:`.ccsds_oem.write_oem`, :func:`.spice_spk.write_spk`,
:func:`.cesium_czml.write_czml`, :func:`.csv_table.write_csv`. Every file is written through a
temporary name and renamed into place. The object is named after the run's mission
(``OBJECT_NAME``); its ID is :data:`.spice_spk.DEFAULT_NAIF_ID` (−990005) unless given, used as the
SPK object and, as text, as the OEM ``OBJECT_ID``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from guanghan.analysis.exports.ccsds_oem import write_oem
from guanghan.analysis.exports.cesium_czml import write_czml
from guanghan.analysis.exports.csv_table import write_csv
from guanghan.analysis.exports.run_folder import ExportError, RunData, read_run
from guanghan.analysis.exports.spice_spk import DEFAULT_NAIF_ID, write_spk
from guanghan.errors import GuanghanError

#: Format → file suffix of its default name.
FORMATS = {"oem": ".oem", "oem-xml": ".oem.xml", "spk": ".bsp", "czml": ".czml", "csv": ".csv"}

__all__ = ["DEFAULT_NAIF_ID", "ExportError", "FORMATS", "export_run", "scenario_sites",
           "write_csv", "write_czml", "write_oem", "write_spk"]


def default_path(run: RunData, fmt: str) -> Path:
    """``RUN_DIR/exports/<scenario stem><suffix>``."""
    return run.path / "exports" / f"{run.stem}{FORMATS[fmt]}"


def scenario_sites(provenance: dict, notes: list[str] | None = None) -> list[dict]:
    """The sites of the run's scenario (name, body, lat_deg, lon_deg, altitude_m) when the
    packaged scenario of that file name has the SHA-256 the run recorded; else none (with a note:
    the run came from another file or an edited version, whose sites cannot be known)."""
    from guanghan.mission.scenario import load_scenario
    from guanghan.mission.scenario_catalogue import resolve

    file = provenance.get("scenario_file")
    if not file:
        return []
    try:
        path = resolve(Path(str(file)).stem)
        digest = hashlib.sha256(path.read_text(encoding="utf-8").encode("utf-8")).hexdigest()
    except (GuanghanError, OSError):
        digest, path = None, None
    if path is None or digest != provenance.get("scenario_sha256"):
        if notes is not None:
            notes.append(f"the run's scenario {file} is not a packaged scenario as it was run "
                         "(SHA-256 differs): no sites exported")
        return []
    try:
        scenario = load_scenario(path)
    except GuanghanError as exc:
        if notes is not None:
            notes.append(f"the scenario {file} cannot be read now ({exc}): no sites exported")
        return []
    return [{"name": name, "body": site.body, "lat_deg": site.lat_deg, "lon_deg": site.lon_deg,
             "altitude_m": site.altitude_m} for name, site in scenario.sites.items()]


def export_run(run_dir, fmt: str, out=None, *, naif_id: int = DEFAULT_NAIF_ID,
               object_id: str | None = None, notes: list[str] | None = None) -> Path:
    """Export the trajectory of the run folder ``run_dir`` in ``fmt`` (one of :data:`FORMATS`)
    to ``out`` (default ``RUN_DIR/exports/<scenario stem>.<ext>``); the path written.

    ``naif_id``: the SPK object ID (negative); ``object_id``: the OEM ``OBJECT_ID`` (default
    ``str(naif_id)``). ``notes``, when given, receives what the export split, dropped or left
    out. ExportError (naming the path and why) for a folder that is not a run, an unknown
    format or an output that cannot be written.
    """
    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r} unknown: choose one of {', '.join(FORMATS)}")
    run = read_run(run_dir)
    path = Path(out) if out is not None else default_path(run, fmt)
    table = run.trajectory
    said: list[str] = []
    if fmt in ("oem", "oem-xml"):
        write_oem(table, path, object_name=run.name, object_id=object_id or str(naif_id),
                  file_format="xml" if fmt == "oem-xml" else "kvn", notes=said)
    elif fmt == "spk":
        prov = run.provenance
        write_spk(table, path, naif_id=naif_id, object_name=run.name, notes=said,
                  comments=[f"Run folder {run.path.resolve()}; scenario {prov.get('scenario_file')} "
                            f"(SHA-256 {prov.get('scenario_sha256')}), Guanghan "
                            f"{prov.get('guanghan_version')}, seed {prov.get('seed')}."])
    elif fmt == "czml":
        sites = scenario_sites(run.provenance, said)
        write_czml(table, path, name=run.name, events=run.events, sites=sites, notes=said)
    else:
        write_csv(table, path)
    if notes is not None:
        notes.extend(said)
    return path
