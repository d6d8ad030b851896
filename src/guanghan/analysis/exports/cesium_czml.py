"""CZML for Cesium of a trajectory table, its events and sites, built with ``czml3``.

Frame: Earth-centred, Earth-fixed (CZML ``referenceFrame`` ``FIXED``), computed here with SPICE:
Moon-centred states get the Moon's DE440 position from the Earth, and J2000 → ITRF93 (with the
packaged Earth-orientation kernels) turns them into Earth-fixed metres, which Cesium takes as
its WGS84 Cartesian axes (ITRF93 and WGS84 agree to centimetres). ``INERTIAL`` was not chosen:
Cesium documents that its ICRF → fixed rotation "may return undefined if the data necessary to
do the transformation is not yet loaded" (``Transforms.computeIcrfToFixedMatrix``; the viewer then
uses a TEME pseudo-fixed frame without precession and nutation, ~0.3° off in 2020, tens of km on
the ground) and that its Earth-orientation parameters are zero unless loaded; ``FIXED`` positions
are drawn as written. Seen in the fixed frame the lunar part of a path winds once a day with
the Earth's rotation; Cesium's own Moon (its analytic ephemeris) may sit a few km from DE440's.

Packets, after the document (clock over the whole run):

* ``vehicle-NN``: one per continuous piece of the table (:mod:`.pieces`), available over the
  piece, with a path and a point; ``position.cartesian`` samples ``[t, x, y, z, …]`` (m, t in s
  from the packet's ``epoch``: UTC, and offsets are ET differences, i.e. TDB seconds, within
  1.7 ms of SI seconds over a mission), Lagrange interpolation of degree ≤ 5.
* ``event-NNN``: one per event of ``events.json`` whose epoch a piece covers, a label with the
  event's name on the vehicle (position by reference to the piece's packet) from the event for
  :data:`EVENT_LABEL_S` or to the piece's end, with the event's details as its description.
  Events at epochs no piece covers (a later launch window, the ascender's impact after the table
  ends) are left out and counted.
* ``site-NAME``: the scenario's sites when the run's scenario is known (see
  :func:`guanghan.analysis.exports.scenario_sites`): a point and label on the Earth at its fixed
  position, or on the Moon sampled every :data:`MOON_SITE_STEP_S` over the run (it moves with the
  Moon).
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pyarrow as pa
from czml3 import Document, Packet
from czml3.enums import ClockRanges, InterpolationAlgorithms, ReferenceFrames
from czml3.properties import Clock, Color, Label, Path as CzmlPath, Point, Position, PolylineMaterial
from czml3.properties import SolidColorMaterial
from czml3.types import TimeInterval

from guanghan.analysis.exports.pieces import Piece, cut
from guanghan.analysis.exports.run_folder import ExportError, atomic_target
from guanghan.environment import frames, geodetic, spice_kernels, time_scales

EVENT_LABEL_S = 600.0            # an event's label stays on the vehicle this long (s)
EVENT_EPOCH_TOLERANCE_S = 1e-3   # events.json gives UTC to the millisecond
MOON_SITE_STEP_S = 900.0         # sampling of a lunar site's Earth-fixed position (s)
LAGRANGE_DEGREE = 5
_COLOUR = {"MOON": [255, 200, 60, 255], "EARTH": [80, 190, 255, 255]}
_OTHER = [230, 230, 230, 255]


def earth_fixed(body: str, ets: np.ndarray, r_j2000: np.ndarray) -> np.ndarray:
    """Earth-fixed (ITRF93) positions (m) of positions ``r_j2000`` (n, 3) relative to ``body`` on
    J2000 axes at ``ets``: the body's DE440 position from the Earth added, then J2000 → ITRF93."""
    r = np.asarray(r_j2000, dtype=float)
    if body != "EARTH":
        r = r + spice_kernels.body_positions(body, "EARTH", "J2000", ets)
    return frames.transform_positions(r, "J2000", "ITRF93", ets)


def _utc(et: float) -> str:
    return time_scales.et_to_utc(float(et), digits=6)


def _interval(et0: float, et1: float) -> TimeInterval:
    return TimeInterval(start=_utc(et0), end=_utc(et1))


def _samples(ets: np.ndarray, r: np.ndarray) -> tuple[str, list[float]]:
    """(epoch, [t, x, y, z, …]) with t in s from the epoch, positions to the millimetre."""
    t = ets - ets[0]
    rows = np.column_stack([t, np.round(r, 3)])
    return _utc(ets[0]), rows.ravel().tolist()


def _position(ets: np.ndarray, r: np.ndarray) -> Position:
    if len(ets) == 1:
        return Position(cartesian=np.round(r[0], 3).tolist(), referenceFrame=ReferenceFrames.FIXED)
    epoch, values = _samples(ets, r)
    return Position(epoch=epoch, cartesian=values, referenceFrame=ReferenceFrames.FIXED,
                    interpolationAlgorithm=InterpolationAlgorithms.LAGRANGE,
                    interpolationDegree=min(LAGRANGE_DEGREE, len(ets) - 1))


def _vehicle_packet(i: int, piece: Piece, name: str) -> Packet:
    r = earth_fixed(piece.body, piece.et, piece.states[:, :3])
    colour = _COLOUR.get(piece.body, _OTHER)
    return Packet(
        id=f"vehicle-{i:02d}", name=f"{name}: {piece.phase} ({piece.body.capitalize()}-centred)",
        description=(f"<p>{html.escape(name)}, phase {html.escape(piece.phase)}, table segment "
                     f"{piece.segment}, {len(piece)} states, from {_utc(piece.et[0])} to "
                     f"{_utc(piece.et[-1])}; centre {piece.body}, exported Earth-fixed.</p>"),
        availability=_interval(piece.et[0], piece.et[-1]),
        position=_position(piece.et, r),
        path=CzmlPath(width=2, material=PolylineMaterial(solidColor=SolidColorMaterial(
            color=Color(rgba=colour)))),
        point=Point(pixelSize=6, color=Color(rgba=colour)))


def _covering(pieces: list[Piece], et: float, phase: str) -> int | None:
    """Index of the piece that holds ``et``: the event's own phase first, the later piece at a
    hand-over; None when no piece covers it."""
    found = [i for i, p in enumerate(pieces) if p.covers(et, EVENT_EPOCH_TOLERANCE_S)]
    if not found:
        return None
    same = [i for i in found if pieces[i].phase == phase]
    return (same or found)[-1]


def _details_html(details) -> str:
    if not isinstance(details, dict) or not details:
        return ""
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in details.items())
    return f"<table>{rows}</table>"


def _event_packets(events: list[dict], pieces: list[Piece]) -> tuple[list[Packet], int]:
    packets, skipped = [], 0
    for k, ev in enumerate(events):
        try:
            et = float(time_scales.utc_to_et(str(ev["utc"])))
        except (KeyError, ValueError):
            skipped += 1
            continue
        i = _covering(pieces, et, str(ev.get("phase", "")))
        if i is None:
            skipped += 1
            continue
        start = max(et, float(pieces[i].et[0]))
        end = max(start, min(et + EVENT_LABEL_S, float(pieces[i].et[-1])))
        title = f"{ev.get('phase', '')}: {ev.get('event', '')}"
        packets.append(Packet(
            id=f"event-{k:03d}", name=title, availability=_interval(start, end),
            description=f"<p>{html.escape(title)} at {html.escape(str(ev['utc']))}</p>"
                        + _details_html(ev.get("details")),
            position=Position(reference=f"vehicle-{i:02d}#position"),
            label=Label(text=str(ev.get("event", "")), font="12pt sans-serif",
                        fillColor=Color(rgba=[255, 255, 255, 255]))))
    return packets, skipped


def _site_packets(sites: list[dict], et0: float, et1: float) -> list[Packet]:
    packets = []
    moon_ets = np.r_[np.arange(et0, et1, MOON_SITE_STEP_S), et1]
    for site in sites:
        body = site["body"]
        lat, lon = np.radians(site["lat_deg"]), np.radians(site["lon_deg"])
        alt = float(site.get("altitude_m", 0.0))
        if body == "EARTH":
            r = geodetic.cartesian_from_planetodetic(lat, lon, alt)
            position = Position(cartesian=np.round(r, 3).tolist(), referenceFrame=ReferenceFrames.FIXED)
        else:
            radius = float(spice_kernels.radii(body).mean()) + alt
            r_bf = geodetic.cartesian_from_planetocentric(lat, lon, radius)
            r_j2000 = frames.transform_positions(np.repeat(r_bf[None], len(moon_ets), axis=0),
                                                 frames.COORDINATE_FRAME[body], "J2000", moon_ets)
            position = _position(moon_ets, earth_fixed(body, moon_ets, r_j2000))
        name = str(site["name"])
        packets.append(Packet(
            id=f"site-{name}", name=name,
            description=(f"<p>{html.escape(name)}: {body}, latitude {site['lat_deg']}°, "
                         f"longitude {site['lon_deg']}° (east), height {alt} m</p>"),
            position=position,
            point=Point(pixelSize=8, color=Color(rgba=[255, 80, 80, 255])),
            label=Label(text=name, font="11pt sans-serif", fillColor=Color(rgba=[255, 180, 180, 255]))))
    return packets


def czml_document(table: pa.Table, *, name: str, events: list[dict] | None = None,
                  sites: list[dict] | None = None) -> tuple[Document, list[str]]:
    """The CZML document of a trajectory table with ``events`` (``events.json`` entries) and
    ``sites`` (dicts with name, body, lat_deg, lon_deg, altitude_m), and notes."""
    pieces = cut(table)
    notes = list(pieces.notes)
    for p in pieces.pieces:
        if p.frame != "J2000":
            raise ExportError(f"segment {p.segment} ({p.phase}) is on {p.frame} axes; the CZML "
                              "export takes J2000 states only")
    et0 = min(float(p.et[0]) for p in pieces.pieces)
    et1 = max(float(p.et[-1]) for p in pieces.pieces)
    preamble = Packet(id="document", name=name, version="1.0",
                      clock=Clock(interval=_interval(et0, et1), currentTime=_utc(et0),
                                  multiplier=60, range=ClockRanges.CLAMPED))
    vehicles = [_vehicle_packet(i, p, name) for i, p in enumerate(pieces.pieces)]
    event_packets, skipped = _event_packets(list(events or []), pieces.pieces)
    if skipped:
        notes.append(f"{skipped} event(s) at epochs outside the trajectory (or without one) left "
                     "out of the CZML")
    site_packets = _site_packets(list(sites or []), et0, et1)
    return Document(packets=[preamble, *vehicles, *event_packets, *site_packets]), notes


def write_czml(table: pa.Table, out, *, name: str, events: list[dict] | None = None,
               sites: list[dict] | None = None, notes: list[str] | None = None) -> Path:
    """Write the CZML of ``table`` (with ``events`` and ``sites``) to ``out`` atomically; the
    path. ``notes``, when given, receives what was split or left out."""
    document, said = czml_document(table, name=name, events=events, sites=sites)
    if notes is not None:
        notes.extend(said)
    out = Path(out)
    with atomic_target(out) as tmp:
        tmp.write_text(document.model_dump_json(exclude_none=True, indent=None), encoding="utf-8")
    return out
