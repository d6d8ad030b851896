"""What an export reads from a finished run folder, and how it writes a file safely.

A run folder (written by :func:`guanghan.analysis.outputs.write_run`) holds ``summary.json``
(provenance: the scenario's name, file and SHA-256), ``events.json`` and ``trajectory.parquet``;
exports need the trajectory and read the rest when present. Files are written through a
temporary name in the target folder and renamed into place (``os.replace``), so a reader never
sees half a file and a failed export leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from guanghan.errors import GuanghanError
from guanghan.mission.trajectory_table import SCHEMA

#: Columns an export needs from ``trajectory.parquet``.
REQUIRED_COLUMNS = ("et_s", "utc", "phase", "segment", "frame", "body",
                    "x_m", "y_m", "z_m", "vx_m_s", "vy_m_s", "vz_m_s")


class ExportError(GuanghanError):
    """An export cannot be made: names the path and why (not a run folder, unknown format,
    unwritable output, trajectory data that no valid ephemeris can hold)."""


@dataclass
class RunData:
    """The parts of a run folder an export uses."""

    path: Path
    trajectory: pa.Table
    events: list[dict] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The mission's name (``Chang'e-5``), else the folder's name."""
        return str(self.provenance.get("scenario_name") or self.path.name)

    @property
    def stem(self) -> str:
        """File stem for default export names: the scenario file's stem, else ``trajectory``."""
        scenario_file = self.provenance.get("scenario_file")
        return Path(str(scenario_file)).stem if scenario_file else "trajectory"


def check_trajectory(table: pa.Table, where: str = "trajectory table") -> pa.Table:
    """``table`` if it has the trajectory columns (``trajectory_table.SCHEMA``); else ExportError."""
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise ExportError(f"{where} lacks the column(s) {', '.join(missing)} of a Guanghan "
                          f"trajectory table ({', '.join(SCHEMA.names)})")
    if table.num_rows == 0:
        raise ExportError(f"{where} has no rows: nothing to export")
    return table


def read_run(run_dir) -> RunData:
    """The trajectory, events and provenance of the run folder ``run_dir``; ExportError naming the
    path when it is not a finished Guanghan run."""
    path = Path(run_dir)
    if not path.is_dir():
        raise ExportError(f"{run_dir} is not a folder: give the folder of a finished `guanghan run`")
    traj_path = path / "trajectory.parquet"
    if not traj_path.is_file():
        raise ExportError(f"{run_dir} is not a Guanghan run folder (no trajectory.parquet): give "
                          "the --out folder of a finished `guanghan run`")
    try:
        table = pq.read_table(traj_path)
    except (OSError, pa.ArrowException) as exc:
        raise ExportError(f"{traj_path} cannot be read as Parquet: {exc}") from None
    check_trajectory(table, str(traj_path))
    events, provenance = [], {}
    events_path, summary_path = path / "events.json", path / "summary.json"
    try:
        if events_path.is_file():
            events = json.loads(events_path.read_text(encoding="utf-8"))
        if summary_path.is_file():
            provenance = json.loads(summary_path.read_text(encoding="utf-8")).get("provenance", {})
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise ExportError(f"{path}: events.json or summary.json cannot be read: {exc}") from None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise ExportError(f"{events_path} is not a Guanghan event list")
    return RunData(path, table, events, provenance if isinstance(provenance, dict) else {})


def check_writable(out) -> Path:
    """The output file path if a file can be written there (its folder is created); else
    ExportError naming the path and why."""
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"{out} is a folder: give a file name for --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {out.parent}: {exc.strerror or exc}") from None
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write to {out.parent}: the folder is not writable")
    if out.exists() and not os.access(out, os.W_OK):
        raise ExportError(f"cannot overwrite {out}: the file is not writable")
    return out


@contextlib.contextmanager
def atomic_target(out, create: bool = True):
    """Yield a temporary path beside ``out``; on leaving without error it replaces ``out``
    (``os.replace``, with the usual file mode), else it is removed. ``create=False`` yields a
    name with no file there yet (for writers that refuse an existing file, like SPICE's)."""
    out = check_writable(out)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise ExportError(f"cannot write {out}: no file can be created in {out.parent} "
                          f"({exc.strerror or exc})") from None
    os.close(fd)
    tmp = Path(tmp)
    if not create:
        tmp.unlink()
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~umask)          # mkstemp makes it 0600; give it the usual mode
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
