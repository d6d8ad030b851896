"""Trajectory exports (issue 16, item 1): each file read back by its own library (``oem`` for the
OEM, CSPICE ``spkezr`` for the SPK, ``czml3``/JSON for the CZML, ``csv`` for the CSV) against the
table it came from, and the SPK and OEM between their samples against Kepler orbits sampled into
small trajectory tables here (no mission is flown except by the one test on ``ce5_run``)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import spiceypy
from astropy.time import Time
from czml3 import Document
from oem import OrbitEphemerisMessage
from typer.testing import CliRunner

from guanghan.analysis.exports import DEFAULT_NAIF_ID, ExportError, export_run
from guanghan.analysis.exports.ccsds_oem import write_oem
from guanghan.analysis.exports.cesium_czml import write_czml
from guanghan.analysis.exports.csv_table import write_csv
from guanghan.analysis.exports.pieces import cut
from guanghan.analysis.exports.spice_spk import write_spk
from guanghan.cli import app
from guanghan.dynamics.kepler import kepler_universal
from guanghan.environment import spice_kernels, time_scales
from guanghan.mission.trajectory_table import build_table, with_segments

ET0 = time_scales.utc_to_et("2020-12-01T00:00:00Z")
MU = {"MOON": 4.9028001218467e12, "EARTH": 3.986004354360959e14}      # DE440 GM, m³/s²
MOON_ORBIT = (np.array([1_937_400.0, 0.0, 0.0]), np.array([0.0, 1100.0, 1150.0]))   # ~200 km
EARTH_ORBIT = (np.array([60_000e3, 10_000e3, 0.0]), np.array([-500.0, -2400.0, 300.0]))


def kepler_states(body: str, orbit, ets: np.ndarray) -> np.ndarray:
    """Two-body states (n, 6) at ``ets`` from ``orbit`` = (r, v) at ET0: the analytic truth."""
    r0, v0 = orbit
    out = np.empty((len(ets), 6))
    for i, et in enumerate(ets):
        r, v = kepler_universal(r0, v0, float(et - ET0), MU[body])
        out[i] = np.r_[r, v]
    return out


def kepler_table(phase: str, body: str, orbit, ets: np.ndarray) -> pa.Table:
    states = np.column_stack([kepler_states(body, orbit, ets), np.full(len(ets), 3000.0)])
    return build_table(phase, body, ets, states)


@pytest.fixture(scope="module")
def two_legs() -> pa.Table:
    """A Moon-centred leg of 2 h at 120 s steps with a repeated row, handing over at its last
    epoch to an Earth-centred leg of 6 h at 600 s steps (the hand-over epoch in both)."""
    moon_ets = ET0 + np.arange(0.0, 7200.1, 120.0)
    moon_ets = np.sort(np.r_[moon_ets, moon_ets[10]])                  # one duplicate row
    earth_ets = moon_ets[-1] + np.arange(0.0, 21600.1, 600.0)
    moon = kepler_table("lunar_orbit_coast", "MOON", MOON_ORBIT, moon_ets)
    earth = kepler_table("trans_earth", "EARTH", EARTH_ORBIT, earth_ets)
    return with_segments(pa.concat_tables([moon, earth]))


def _states(table: pa.Table) -> np.ndarray:
    return np.column_stack([table.column(c).to_numpy() for c in
                            ("x_m", "y_m", "z_m", "vx_m_s", "vy_m_s", "vz_m_s")])


def test_tdb_calendar_matches_spice():
    for et in (0.0, ET0 + 0.123456, -1.5e8 + 0.25e-6, 1e9 + 0.75):
        spice = np.datetime64(spiceypy.timout(et, "YYYY-MM-DDTHR:MN:SC.###### ::TDB ::RND"), "us")
        ours = np.datetime64(time_scales.et_to_tdb_iso(et)[0], "us")
        assert abs(int((ours - spice) / np.timedelta64(1, "us"))) <= 1    # last-digit rounding


def test_cut_drops_repeats_and_splits_at_jumps_and_holes(two_legs):
    pieces = cut(two_legs)
    assert [(p.body, len(p)) for p in pieces.pieces] == [("MOON", 61), ("EARTH", 37)]
    assert any("1 row(s) repeating" in n for n in pieces.notes)
    et = two_legs.column("et_s").to_numpy()
    # a velocity jump at a repeated epoch and a hole start new pieces
    rows = two_legs.slice(0, 30).to_pylist()
    rows[12] = dict(rows[12], et_s=rows[11]["et_s"], vx_m_s=rows[11]["vx_m_s"] + 5.0)
    for r in rows[20:]:
        r["et_s"] += 7200.0
    split = cut(pa.Table.from_pylist(rows, schema=two_legs.schema))
    assert [len(p) for p in split.pieces] == [11, 8, 10]               # row 11 (a repeat) dropped
    assert all(np.all(np.diff(p.et) > 0) for p in split.pieces)
    rows[5]["et_s"] = et[3]
    with pytest.raises(ExportError, match="go back in time"):
        cut(pa.Table.from_pylist(rows, schema=two_legs.schema))


@pytest.mark.parametrize("file_format", ["kvn", "xml"])
def test_oem_round_trip(two_legs, tmp_path, file_format):
    out = write_oem(two_legs, tmp_path / f"t.{file_format}", object_name="TEST-1",
                    object_id="2020-087A", file_format=file_format)
    message = OrbitEphemerisMessage.open(out)
    assert message.version == "2.0"
    segments = list(message)
    assert [s.metadata["CENTER_NAME"] for s in segments] == ["MOON", "EARTH"]
    j2000 = Time("2000-01-01T12:00:00", scale="tdb")
    for seg, piece in zip(segments, cut(two_legs).pieces, strict=True):
        meta = seg.metadata
        assert (meta["REF_FRAME"], meta["TIME_SYSTEM"], meta["OBJECT_NAME"], meta["OBJECT_ID"]) == \
            ("EME2000", "TDB", "TEST-1", "2020-087A")
        assert (meta["INTERPOLATION"], meta["INTERPOLATION_DEGREE"]) == ("HERMITE", 7)
        states = list(seg.states)
        et = np.array([(s.epoch - j2000).sec for s in states])
        assert np.max(np.abs(et - piece.et)) < 2e-6
        pos = np.array([s.position for s in states]) * 1e3
        vel = np.array([s.velocity for s in states]) * 1e3
        assert np.max(np.linalg.norm(pos - piece.states[:, :3], axis=1)) < 1e-3      # < 1 mm
        assert np.max(np.linalg.norm(vel - piece.states[:, 3:], axis=1)) < 1e-6
        assert abs((meta["START_TIME"] - j2000).sec - piece.et[0]) < 2e-6
    # the library's own Hermite interpolation between samples, against the Kepler orbit
    mid = ET0 + 1860.0
    truth = kepler_states("MOON", MOON_ORBIT, np.array([mid]))[0]
    got = segments[0](Time(time_scales.et_to_tdb_iso(mid)[0], scale="tdb"))
    assert np.linalg.norm(got.position * 1e3 - truth[:3]) < 1.0


def test_spk_round_trip_and_between_samples(two_legs, tmp_path):
    notes: list[str] = []
    out = write_spk(two_legs, tmp_path / "t.bsp", object_name="TEST-1", notes=notes)
    spice_kernels.furnish()
    spiceypy.furnsh(str(out))
    try:
        target = str(DEFAULT_NAIF_ID)
        for piece, orbit in zip(cut(two_legs).pieces, (MOON_ORBIT, EARTH_ORBIT), strict=True):
            got, _ = spiceypy.spkezr(target, piece.et[:-1], "J2000", "NONE", piece.body)
            got = np.asarray(got) * 1e3
            assert np.max(np.linalg.norm(got[:, :3] - piece.states[:-1, :3], axis=1)) < 1.0
            assert np.max(np.linalg.norm(got[:, 3:] - piece.states[:-1, 3:], axis=1)) < 1e-3
            mids = 0.5 * (piece.et[1:] + piece.et[:-1])
            between, _ = spiceypy.spkezr(target, mids, "J2000", "NONE", piece.body)
            truth = kepler_states(piece.body, orbit, mids)
            err = np.linalg.norm(np.asarray(between)[:, :3] * 1e3 - truth[:, :3], axis=1)
            assert np.max(err) < 3.0, f"{piece.body}: {np.max(err):.3g} m between samples"
        # at the hand-over the later (Earth-centred) segment answers; Moon-relative via DE440
        handover = cut(two_legs).pieces[1].et[0]
        state, _ = spiceypy.spkezr(target, handover, "J2000", "NONE", "EARTH")
        assert np.linalg.norm(np.asarray(state[:3]) * 1e3 - _states(two_legs)[-37, :3]) < 1.0
        ids = spiceypy.spkobj(str(out))
        assert list(ids) == [DEFAULT_NAIF_ID]
    finally:
        spiceypy.unload(str(out))


def test_spk_leaves_out_a_single_state_piece(two_legs, tmp_path):
    lone = kepler_table("ascent", "MOON", MOON_ORBIT, np.array([ET0 - 600.0]))
    table = with_segments(pa.concat_tables([lone, two_legs]))
    notes: list[str] = []
    out = write_spk(table, tmp_path / "lone.bsp", notes=notes)
    assert any("left out of the SPK" in n for n in notes)
    cover = spiceypy.spkcov(str(out), DEFAULT_NAIF_ID)
    assert spiceypy.wnfetd(cover, 0)[0] == pytest.approx(ET0, abs=1e-6)
    with pytest.raises(ExportError, match="negative"):
        write_spk(table, tmp_path / "bad.bsp", naif_id=42)


def _itrf93(body: str, ets, r_j2000):
    """Earth-fixed positions computed with CSPICE directly (independent of frames.py)."""
    out = []
    for et, r in zip(ets, r_j2000, strict=True):
        centre = np.zeros(3) if body == "EARTH" else \
            np.asarray(spiceypy.spkpos(body, float(et), "J2000", "NONE", "EARTH")[0]) * 1e3
        out.append(np.asarray(spiceypy.pxform("J2000", "ITRF93", float(et))) @ (r + centre))
    return np.array(out)


def test_czml_round_trip(two_legs, tmp_path):
    pieces = cut(two_legs).pieces
    events = [{"utc": time_scales.et_to_utc(ET0 + 600.0), "phase": "lunar_orbit_coast",
               "event": "periapsis", "details": {"altitude_km": 200.0}},
              {"utc": time_scales.et_to_utc(pieces[1].et[0]), "phase": "trans_earth",
               "event": "soi_exit", "details": {}},
              {"utc": "2021-01-01T00:00:00Z", "phase": "x", "event": "outside", "details": {}}]
    sites = [{"name": "pad", "body": "EARTH", "lat_deg": 42.3, "lon_deg": 111.4, "altitude_m": 1300.0},
             {"name": "crater", "body": "MOON", "lat_deg": 43.06, "lon_deg": -51.92, "altitude_m": -2570.0}]
    notes: list[str] = []
    out = write_czml(two_legs, tmp_path / "t.czml", name="TEST-1", events=events, sites=sites,
                     notes=notes)
    Document.load(out)                                      # czml3 validates the whole document
    packets = {p["id"]: p for p in json.loads(out.read_text())}
    assert packets["document"]["version"] == "1.0"
    for i, piece in enumerate(pieces):
        pos = packets[f"vehicle-{i:02d}"]["position"]
        assert pos["referenceFrame"] == "FIXED"
        samples = np.array(pos["cartesian"]).reshape(-1, 4)
        epoch_et = time_scales.utc_to_et(pos["epoch"])
        assert np.max(np.abs(epoch_et + samples[:, 0] - piece.et)) < 1e-3
        truth = _itrf93(piece.body, piece.et, piece.states[:, :3])
        assert np.max(np.linalg.norm(samples[:, 1:] - truth, axis=1)) < 1.0
    assert packets["event-000"]["position"]["reference"] == "vehicle-00#position"
    assert packets["event-001"]["position"]["reference"] == "vehicle-01#position"   # the later piece
    assert "event-002" not in packets and any("1 event(s)" in n for n in notes)
    pad = spiceypy.georec(np.radians(111.4), np.radians(42.3), 1.3, 6378.1366,
                          (6378.1366 - 6356.7519) / 6378.1366)
    assert np.linalg.norm(np.array(packets["site-pad"]["position"]["cartesian"]) - np.array(pad) * 1e3) < 1.0
    crater = np.array(packets["site-crater"]["position"]["cartesian"]).reshape(-1, 4)
    epoch_et = time_scales.utc_to_et(packets["site-crater"]["position"]["epoch"])
    et = epoch_et + crater[0, 0]
    r_me = spiceypy.latrec(1737.4e3 - 2570.0, np.radians(-51.92), np.radians(43.06))
    r_j2000 = np.asarray(spiceypy.pxform("MOON_ME", "J2000", et)) @ np.asarray(r_me)
    assert np.linalg.norm(crater[0, 1:] - _itrf93("MOON", [et], [r_j2000])[0]) < 1.0


def test_csv_round_trip(two_legs, tmp_path):
    out = write_csv(two_legs, tmp_path / "t.csv")
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == two_legs.num_rows
    header = list(rows[0])
    for name in ("et_s", "utc", "x_m", "vx_m_s", "mass_kg", "lat_deg", "altitude_km", "sunlit_fraction"):
        assert name in header
    assert "epoch" not in header and "sunlit" not in header
    for col in ("et_s", "x_m", "vz_m_s", "sunlit"):
        back = np.array([float(r[col if col != "sunlit" else "sunlit_fraction"]) for r in rows])
        assert np.array_equal(back, two_legs.column(col).to_numpy())      # same bits


def _fake_run(folder, table: pa.Table) -> None:
    folder.mkdir()
    pq.write_table(table, folder / "trajectory.parquet")
    (folder / "summary.json").write_text(json.dumps({"provenance": {
        "scenario_name": "Test mission", "scenario_file": "test-mission.toml",
        "scenario_sha256": "0" * 64}, "outcome": {}, "figures": {}}))
    (folder / "events.json").write_text(json.dumps([{"utc": time_scales.et_to_utc(ET0 + 60.0),
                                                     "phase": "lunar_orbit_coast",
                                                     "event": "apoapsis", "details": {}}]))


def test_export_run_and_cli(two_legs, tmp_path):
    run = tmp_path / "run"
    _fake_run(run, two_legs)
    notes: list[str] = []
    for fmt, suffix in (("oem", ".oem"), ("oem-xml", ".oem.xml"), ("spk", ".bsp"),
                        ("czml", ".czml"), ("csv", ".csv")):
        path = export_run(run, fmt, notes=notes)
        assert path == run / "exports" / f"test-mission{suffix}" and path.stat().st_size > 0
    assert any("SHA-256 differs" in n for n in notes)              # not the packaged scenario
    assert not list((run / "exports").glob(".*"))                     # no temporary left
    runner = CliRunner()
    ok = runner.invoke(app, ["export", str(run), "--format", "oem", "--out", str(tmp_path / "a.oem"),
                             "--object-id", "2020-087A"])
    assert ok.exit_code == 0, ok.output
    assert "OBJECT_ID = 2020-087A" in (tmp_path / "a.oem").read_text()
    for args, words in (([str(tmp_path), "--format", "oem"], "not a Guanghan run folder"),
                        ([str(run), "--format", "kml"], "format 'kml' unknown"),
                        ([str(run), "--format", "csv", "--out", str(run)], "is a folder"),
                        ([str(run), "--format", "csv", "--out", "/proc/x/y.csv"], "cannot")):
        bad = runner.invoke(app, ["export", *args])
        assert bad.exit_code == 2, (args, bad.output)
        assert words in bad.output and len(bad.output.strip().splitlines()) == 1


def test_real_run_exports_cleanly(ce5_run, tmp_path):
    """The flown Chang'e-5 table in every format: OEM and SPK read back within 1 m of it."""
    _, result = ce5_run
    table = result.trajectory
    pieces = cut(table).pieces
    assert len({p.body for p in pieces}) == 2
    oem = OrbitEphemerisMessage.open(write_oem(table, tmp_path / "ce5.oem", object_name="Chang'e-5",
                                               object_id="-990005"))
    assert len(list(oem)) == len(pieces)
    first = next(iter(next(iter(oem)).states))
    assert np.linalg.norm(first.position * 1e3 - pieces[0].states[0, :3]) < 1.0
    out = write_spk(table, tmp_path / "ce5.bsp")
    spiceypy.furnsh(str(out))
    try:
        for piece in pieces:
            got, _ = spiceypy.spkezr(str(DEFAULT_NAIF_ID), piece.et[1:-1:7], "J2000", "NONE", piece.body)
            err = np.linalg.norm(np.asarray(got)[:, :3] * 1e3 - piece.states[1:-1:7, :3], axis=1)
            assert err.size == 0 or np.max(err) < 1.0, (piece.phase, np.max(err))
    finally:
        spiceypy.unload(str(out))
    Document.load(write_czml(table, tmp_path / "ce5.czml", name="Chang'e-5", events=result.events))
    assert write_csv(table, tmp_path / "ce5.csv").stat().st_size > 0
