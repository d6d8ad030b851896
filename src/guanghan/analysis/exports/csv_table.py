"""CSV of a trajectory table: one row per table row, every column but ``epoch`` (the same instant
as ``utc``), each header naming its unit as a suffix (``et_s``, ``x_m``, ``vx_m_s``, ``mass_kg``,
``lat_deg``, ``altitude_km``, ``sunlit_fraction``) from the units in the table's schema metadata.

Numbers are written as Python's shortest round-trip text of the float64 value (``csv`` module),
so the file reads back to the same bits. ``et_s`` is TDB seconds past J2000, ``utc`` UTC
ISO-8601; positions and velocities are relative to ``body`` on ``frame`` (J2000) axes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa

from guanghan.analysis.exports.run_folder import atomic_target, check_trajectory

#: Unit text of the schema metadata → the suffix a header carries.
UNIT_SUFFIX = {"s (TDB past J2000)": "_s", "m": "_m", "m/s": "_m_s", "kg": "_kg", "deg": "_deg",
               "km": "_km", "fraction of the solar disc": "_fraction"}
SKIPPED = ("epoch",)


def header_names(table: pa.Table) -> dict[str, str]:
    """Column → CSV header: the column's name with its unit suffix appended when it lacks one."""
    meta = table.schema.metadata or {}
    units = json.loads(meta.get(b"units", b"{}"))
    names = {}
    for col in table.column_names:
        if col in SKIPPED:
            continue
        unit = units.get(col)
        if unit is None:
            names[col] = col
            continue
        suffix = UNIT_SUFFIX.get(unit) or "_" + "".join(c if c.isalnum() else "_" for c in unit)
        names[col] = col if col.endswith(suffix) else col + suffix
    return names


def write_csv(table: pa.Table, out) -> Path:
    """Write ``table`` as CSV with unit-suffixed headers to ``out`` atomically; the path."""
    check_trajectory(table)
    names = header_names(table)
    columns = [table.column(c).to_pylist() for c in names]
    out = Path(out)
    with atomic_target(out) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(list(names.values()))
            writer.writerows(zip(*columns, strict=True))
    return out
