"""A trajectory table cut into pieces an ephemeris format can hold: one central body and frame
each, epochs strictly increasing, no jump in the state and no hole in the sampling inside a piece.

The table's ``segment`` column already changes with the phase or the central body, and the legs
hand over at the same epoch (the last row of one segment and the first of the next share it).
Inside a segment this module

* rounds the epochs to whole microseconds (the resolution of the CCSDS epochs written) and moves
  each position by ``v·δt`` to the rounded epoch (|δt| ≤ 0.5 µs: ≤ 6 mm at 11 km/s before, and
  ≤ a·δt²/2, nothing, after);
* drops a row at the same epoch as the row before with the same state (within
  :data:`SAME_POSITION_M`, :data:`SAME_VELOCITY_M_S`), and starts a new piece at a row with the
  same epoch but another state (an impulsive change: no interpolant may straddle it);
* starts a new piece after a hole in the sampling longer than :data:`GAP_FACTOR` times the
  segment's median step (e.g. the rendezvous leg's hours between the hand-over and the capture),
  since any interpolation across it would be a guess;
* refuses (ExportError) an epoch earlier than the one before: such data cannot be written as an
  ephemeris and is a defect of the run, not something to sort away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.interpolate import CubicHermiteSpline

from guanghan.analysis.exports.run_folder import ExportError, check_trajectory

SAME_POSITION_M = 1e-3          # rows at one epoch closer than this (and SAME_VELOCITY_M_S) are one
SAME_VELOCITY_M_S = 1e-6
GAP_FACTOR = 10.0               # a step this many times the segment's median step starts a new piece
STATE_COLUMNS = ("x_m", "y_m", "z_m", "vx_m_s", "vy_m_s", "vz_m_s")


@dataclass(frozen=True)
class Piece:
    """Consecutive states of one table segment: ``et`` TDB s past J2000 on whole microseconds,
    strictly increasing; ``states`` (n, 6) m and m/s relative to ``body`` on ``frame`` axes."""

    phase: str
    body: str
    frame: str
    segment: int
    et: np.ndarray
    states: np.ndarray

    def __len__(self) -> int:
        return len(self.et)

    def positions_at(self, ets) -> np.ndarray:
        """Positions (m) at ``ets`` inside the piece, by the cubic Hermite interpolant of the
        neighbouring samples' positions and velocities (exact at the samples), shape (n, 3)."""
        ets = np.atleast_1d(np.asarray(ets, dtype=float))
        if len(self) == 1:
            return np.repeat(self.states[:1, :3], len(ets), axis=0)
        spline = CubicHermiteSpline(self.et - self.et[0], self.states[:, :3], self.states[:, 3:],
                                    extrapolate=False)
        return spline(ets - self.et[0])

    def covers(self, et: float, tolerance_s: float = 0.0) -> bool:
        """True when ``et`` lies within the piece's span, widened by ``tolerance_s`` each side."""
        return bool(self.et[0] - tolerance_s <= et <= self.et[-1] + tolerance_s)


@dataclass
class Cut:
    """The pieces of a table and what was done to get them (one sentence each)."""

    pieces: list[Piece]
    notes: list[str]


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index ranges of the runs of equal consecutive values."""
    if len(values) == 0:
        return []
    edges = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.r_[0, edges]
    stops = np.r_[edges, len(values)]
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def cut(table: pa.Table, gap_factor: float = GAP_FACTOR) -> Cut:
    """The pieces of a trajectory table (``trajectory_table.SCHEMA``), in table order."""
    check_trajectory(table)
    et = table.column("et_s").to_numpy().astype(float)
    states = np.column_stack([table.column(c).to_numpy().astype(float) for c in STATE_COLUMNS])
    if not (np.all(np.isfinite(et)) and np.all(np.isfinite(states))):
        bad = int(np.flatnonzero(~(np.isfinite(et) & np.all(np.isfinite(states), axis=1)))[0])
        raise ExportError(f"trajectory row {bad} has a non-finite epoch or state: cannot export it")
    segment = table.column("segment").to_numpy()
    phase = np.asarray(table.column("phase").to_pylist(), dtype=object)
    body = np.asarray(table.column("body").to_pylist(), dtype=object)
    frame = np.asarray(table.column("frame").to_pylist(), dtype=object)
    utc = table.column("utc").to_pylist()

    et_us = np.rint(et * 1e6)
    et_r = et_us / 1e6
    states = states.copy()
    states[:, :3] += states[:, 3:] * (et_r - et)[:, None]

    pieces, notes = [], []
    key = np.array([f"{s}|{b}|{f}" for s, b, f in zip(segment, body, frame, strict=True)], dtype=object)
    for start, stop in _runs(key):
        rows = np.arange(start, stop)
        steps = np.diff(et_us[rows])
        if np.any(steps < 0):
            i = int(rows[np.flatnonzero(steps < 0)[0]])
            raise ExportError(f"trajectory rows {i} and {i + 1} (segment {segment[i]}, "
                              f"{phase[i]}) go back in time, from {utc[i]} to {utc[i + 1]}: no "
                              "ephemeris can hold them")
        positive = steps[steps > 0]
        median = float(np.median(positive)) if positive.size else 0.0
        breaks, dropped, jumps, holes = [], 0, [], []
        keep = np.ones(len(rows), bool)
        for k in np.flatnonzero(steps == 0):
            a, b = rows[k], rows[k + 1]
            same = (np.linalg.norm(states[b, :3] - states[a, :3]) <= SAME_POSITION_M
                    and np.linalg.norm(states[b, 3:] - states[a, 3:]) <= SAME_VELOCITY_M_S)
            if same:
                keep[k + 1] = False
                dropped += 1
            else:
                breaks.append(k + 1)
                jumps.append(utc[b])
        for k in np.flatnonzero(steps > gap_factor * median):
            breaks.append(k + 1)
            holes.append(f"{utc[rows[k]]} to {utc[rows[k + 1]]}")
        bounds = [0, *sorted(set(breaks)), len(rows)]
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            sel = rows[lo:hi][keep[lo:hi]]
            if sel.size:
                pieces.append(Piece(str(phase[start]), str(body[start]), str(frame[start]),
                                    int(segment[start]), et_r[sel], states[sel]))
        where = f"segment {segment[start]} ({phase[start]}, {body[start]})"
        if dropped:
            notes.append(f"{where}: {dropped} row(s) repeating the epoch and state of the row "
                         "before dropped")
        if jumps:
            notes.append(f"{where}: a new piece at {', '.join(jumps)} (two states at one epoch)")
        if holes:
            notes.append(f"{where}: a new piece after the sampling hole(s) {'; '.join(holes)} "
                         f"(more than {gap_factor:g} x the median step of {median / 1e6:.6g} s)")
    return Cut(pieces, notes)
