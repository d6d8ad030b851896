"""SPICE SPK of a trajectory table: type 13 segments (Hermite interpolation, unequal time steps;
NAIF "SPK Required Reading") written by CSPICE ``spkw13`` (through
:func:`guanghan.environment.spice_kernels.write_spk_hermite`).

* Object: the NAIF ID ``naif_id``, by default :data:`DEFAULT_NAIF_ID` = −990005. Spacecraft
  take negative IDs; NAIF's own run from −1 to −999 and its rule for spacecraft without one,
  −100000 − NORAD number, lies between −100000 and −199999, so −990005 collides with no flown
  vehicle's kernel. Read it with ``spkezr("-990005", et, "J2000", "NONE", "MOON")`` (or
  ``boddef("CHANG'E-5 SIM", -990005)`` first to use a name).
* One segment per continuous piece of the table (:mod:`.pieces`: one phase and central body,
  split only at a state jump or a sampling hole), in time order, so where two segments share a
  hand-over epoch SPICE returns the later one (the next leg's first state).
* Centre: the row's body by its NAIF code (MOON 301, EARTH 399); frame ``J2000``.
* Degree: :data:`HERMITE_DEGREE` = 7 (windows of 4 states and their velocities), lowered to
  2n − 1 for a piece of n < 4 states. Midway between samples of a Kepler orbit 200 km above
  the Moon, ``spkezr`` is within 0.03 mm of the analytic state at 60 s steps (the table's step in
  lunar orbit), 0.05 mm at 120 s and 0.7 mm at 300 s (tests/test_exports.py checks 120 s).
* A piece of a single state cannot be a type 13 segment (SPICE needs two); it is left out and a
  note says so (padding it would invent a state).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from guanghan.analysis.exports.pieces import cut
from guanghan.analysis.exports.run_folder import ExportError, atomic_target
from guanghan.environment import spice_kernels, time_scales

DEFAULT_NAIF_ID = -990005
HERMITE_DEGREE = 7
FRAME = "J2000"


def spk_segments(table: pa.Table) -> tuple[list[spice_kernels.HermiteSegment], list[str]]:
    """The type 13 segments of a trajectory table and notes (rows dropped, pieces split or left
    out)."""
    pieces = cut(table)
    notes = list(pieces.notes)
    segments = []
    for p in pieces.pieces:
        if p.frame != FRAME:
            raise ExportError(f"segment {p.segment} ({p.phase}) is on {p.frame} axes; the SPK "
                              "export takes J2000 states only")
        if len(p) < 2:
            notes.append(f"segment {p.segment} ({p.phase}, {p.body}): a piece of one state at "
                         f"{time_scales.et_to_utc(p.et[0])} left out of the SPK (type 13 needs "
                         "at least two)")
            continue
        try:
            center = spice_kernels.naif_id(p.body)
        except spice_kernels.SpiceDataError as exc:
            raise ExportError(f"segment {p.segment} ({p.phase}): {exc}") from None
        segments.append(spice_kernels.HermiteSegment(
            center, FRAME, f"{p.phase} {p.body}"[:40], min(HERMITE_DEGREE, 2 * len(p) - 1),
            p.et, p.states))
    if not segments:
        raise ExportError("no piece of the trajectory has two states: nothing to write to an SPK")
    return segments, notes


def write_spk(table: pa.Table, out, *, naif_id: int = DEFAULT_NAIF_ID,
              object_name: str = "", comments: list[str] | None = None,
              notes: list[str] | None = None) -> Path:
    """Write the SPK of ``table`` for the object ``naif_id`` (negative: a spacecraft) to ``out``
    atomically, with ``comments`` and the cut's notes in its comment area; the path. ``notes``,
    when given, receives the cut's notes (rows dropped, pieces split or left out)."""
    if not isinstance(naif_id, int) or naif_id >= 0 or naif_id < -2**31:
        raise ExportError(f"NAIF ID {naif_id!r} is not a spacecraft ID: give a negative integer "
                          f"(default {DEFAULT_NAIF_ID})")
    segments, said = spk_segments(table)
    if notes is not None:
        notes.extend(said)
    text = [f"Trajectory of {object_name or 'a Guanghan run'} as NAIF ID {naif_id}, written by "
            "Guanghan: SPK type 13 (Hermite), frame J2000, centres "
            + ", ".join(sorted({str(s.center) for s in segments})) + ".",
            *(comments or []), *said]
    lines = [chunk for line in text for chunk in _wrap(line)]
    out = Path(out)
    with atomic_target(out, create=False) as tmp:
        try:
            spice_kernels.write_spk_hermite(tmp, naif_id, segments, lines)
        except spice_kernels.SpiceDataError as exc:
            raise ExportError(f"cannot write {out}: {exc}") from None
    return out


def _wrap(line: str, width: int = 78) -> list[str]:
    """``line`` in chunks of at most ``width`` printable ASCII characters (SPICE comment lines)."""
    text = line.encode("ascii", "replace").decode("ascii")
    return [text[i:i + width] for i in range(0, max(len(text), 1), width)]
