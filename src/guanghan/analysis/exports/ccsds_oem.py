"""CCSDS Orbit Ephemeris Message (OEM 2.0, CCSDS 502.0-B-3) of a trajectory table, in KVN or XML,
written and checked by the maintained ``oem`` library (B. Sease, PyPI ``oem``).

One OEM segment per continuous piece of the table (:mod:`.pieces`: one table segment, i.e. one
phase and central body, split further only at a jump in the state or a hole in the sampling), in
time order. Metadata per segment:

* ``OBJECT_NAME`` the mission's name, ``OBJECT_ID`` given by the caller (CCSDS recommends the
  international designator; a simulated run has none, so the default is the SPK NAIF ID of
  :data:`.spice_spk.DEFAULT_NAIF_ID` as text, naming the same object in both files);
* ``CENTER_NAME`` the row's body (``MOON``, ``EARTH``), ``REF_FRAME = EME2000``: the table's
  J2000 axes (SPICE's J2000, which DE440 realises on the ICRF to ~0.02");
* ``TIME_SYSTEM = TDB``: the epochs are the table's ET (TDB s past J2000) on the TDB calendar to
  the microsecond, so no leap second can fall inside a segment;
* ``START_TIME``/``STOP_TIME`` the first and last epochs; ``INTERPOLATION = HERMITE`` with
  ``INTERPOLATION_DEGREE`` = min(:data:`HERMITE_DEGREE`, 2n − 1) for n states (Hermite through
  positions and velocities of (degree + 1)/2 neighbours); a one-state segment has none.

Units km and km/s (CCSDS 502.0-B-3 §5.2.4). A later segment starting at the epoch the one before
ends (a leg's hand-over) is allowed by the standard (no overlap).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
from astropy.time import Time
from oem import OrbitEphemerisMessage
from oem.components import EphemerisSegment, HeaderSection, MetaDataSection

from guanghan.analysis.exports.pieces import Piece, cut
from guanghan.analysis.exports.run_folder import ExportError, atomic_target
from guanghan.environment import time_scales

HERMITE_DEGREE = 7               # 4 states a window, as the SPK: < 1 mm at 120 s steps in lunar orbit
REF_FRAME = "EME2000"            # CCSDS (SANA) name of the J2000 axes
TIME_SYSTEM = "TDB"
ORIGINATOR = "GUANGHAN"
FILE_FORMATS = ("kvn", "xml")


def _metadata(piece: Piece, object_name: str, object_id: str) -> dict[str, str]:
    start, stop = time_scales.et_to_tdb_iso([piece.et[0], piece.et[-1]])
    meta = {"OBJECT_NAME": object_name, "OBJECT_ID": object_id, "CENTER_NAME": piece.body,
            "REF_FRAME": REF_FRAME, "TIME_SYSTEM": TIME_SYSTEM, "START_TIME": start,
            "STOP_TIME": stop}
    if len(piece) >= 2:
        meta["INTERPOLATION"] = "HERMITE"
        meta["INTERPOLATION_DEGREE"] = str(min(HERMITE_DEGREE, 2 * len(piece) - 1))
    return meta


def _segment(piece: Piece, object_name: str, object_id: str) -> EphemerisSegment:
    if piece.frame != "J2000":
        raise ExportError(f"segment {piece.segment} ({piece.phase}) is on {piece.frame} axes; "
                          "the OEM export takes J2000 (EME2000) states only")
    metadata = MetaDataSection(_metadata(piece, object_name, object_id))
    epochs = Time(time_scales.et_to_tdb_iso(piece.et), format="isot", scale="tdb", precision=6)
    km = piece.states / 1e3
    return EphemerisSegment(metadata, (epochs, *(tuple(km[:, j]) for j in range(6))))


def oem_message(table: pa.Table, object_name: str, object_id: str,
                creation_utc: str | None = None) -> tuple[OrbitEphemerisMessage, list[str]]:
    """The OEM of a trajectory table (``trajectory_table.SCHEMA``) and the notes of its cut
    (rows dropped, segments split; see :mod:`.pieces`)."""
    pieces = cut(table)
    created = creation_utc or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    header = HeaderSection({"CCSDS_OEM_VERS": "2.0", "CREATION_DATE": created,
                            "ORIGINATOR": ORIGINATOR})
    try:
        segments = [_segment(p, object_name, object_id) for p in pieces.pieces]
        message = OrbitEphemerisMessage(header, segments)
    except ValueError as exc:       # the library's checks (ordering, overlap, metadata)
        raise ExportError(f"the trajectory cannot be written as an OEM: {exc}") from None
    return message, pieces.notes


def write_oem(table: pa.Table, out, *, object_name: str, object_id: str,
              file_format: str = "kvn", creation_utc: str | None = None,
              notes: list[str] | None = None) -> Path:
    """Write the OEM of ``table`` to ``out`` atomically in ``file_format`` ``kvn`` (text
    keyword = value) or ``xml`` (CCSDS 505.0-B-3 NDM/XML); the path. ``notes``, when given,
    receives what the cut did (rows dropped, segments split)."""
    if file_format not in FILE_FORMATS:
        raise ExportError(f"OEM file format {file_format!r} unknown: choose one of "
                          f"{', '.join(FILE_FORMATS)}")
    message, said = oem_message(table, object_name, object_id, creation_utc)
    if notes is not None:
        notes.extend(said)
    out = Path(out)
    with atomic_target(out) as tmp:
        message.save_as(tmp, file_format=file_format)
    return out
