"""Tests of the trans-Earth figures (guanghan.analysis.return_figures).

Truth is independent of the module: the Moon's geometric state comes straight from SPICE
(``spice_kernels.body_states``, DE440) and the synthetic tracks are Keplerian ellipses (Curtis,
Orbital Mechanics for Engineering Students, §3.4 eq. 3.14 for Kepler's equation, §4.6 eq. 4.49
for the perifocal-to-inertial rotation) whose radius r = a (1 − e cos E) (Curtis eq. 3.28 with
r = a(1−e²)/(1+e cos θ)) is known at every sample. A rigid rotation and a shift to the Earth's
centre must keep those radii, whatever the frame's axes are, so the plotted points are checked
against them; the axes themselves are checked by the geometric definition of the frame.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghan.analysis import figures as F
from guanghan.analysis import return_figures as RF
from guanghan.environment import spice_kernels, time_scales
from guanghan.errors import GuanghanError

GM_MOON = 4.9028e12  # m^3/s^2 (DE440 value rounded)
GM_EARTH = 3.986004418e14  # m^3/s^2 (WGS 84)
ET0_S = 661_010_000.0  # 2020-12-12T01:52 TDB, near Chang'e-5's TEI-1
PLOT_TOL_KM = 0.1  # float32 plotting at 4e5 km resolves ~0.03 km


def _kepler(gm, rp_m, ra_m, inc_deg, raan_deg, t_s):
    """Positions (m) and radii (m) on a Keplerian ellipse at times t_s (s) from periapsis."""
    a, e = 0.5 * (rp_m + ra_m), (ra_m - rp_m) / (ra_m + rp_m)
    mean = np.sqrt(gm / a**3) * t_s
    ecc = mean.copy()
    for _ in range(40):  # Newton on Kepler's equation M = E - e sin E (Curtis eq. 3.14)
        ecc -= (ecc - e * np.sin(ecc) - mean) / (1 - e * np.cos(ecc))
    r_pf = a * np.stack([np.cos(ecc) - e, np.sqrt(1 - e**2) * np.sin(ecc), 0 * ecc], axis=1)
    i, o = np.radians(inc_deg), np.radians(raan_deg)
    rot = np.array([[np.cos(o), -np.sin(o) * np.cos(i), np.sin(o) * np.sin(i)],
                    [np.sin(o), np.cos(o) * np.cos(i), -np.cos(o) * np.sin(i)],
                    [0.0, np.sin(i), np.cos(i)]])  # argument of periapsis 0 (Curtis eq. 4.49)
    return r_pf @ rot.T, a * (1 - e * np.cos(ecc))


def _rows(phase, body, ets, r):
    n = len(ets)
    return {"et_s": ets, "utc": time_scales.et_to_utc(ets), "phase": [phase] * n, "body": [body] * n,
            "x_m": r[:, 0], "y_m": r[:, 1], "z_m": r[:, 2]}


def _table(*parts):
    cols = {k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in parts[0]}
    return pa.table({k: (v.tolist() if v.dtype == object or v.dtype.kind == "U" else v)
                     for k, v in cols.items()})


def _utc(et):
    return time_scales.et_to_utc(et)


@pytest.fixture(scope="module")
def run():
    """A synthetic return: lunar parking orbit (excluded), a Moon-centred elliptic leg after
    TEI-1, an Earth-centred leg to 6500 km perigee, and an orbiter track after separation."""
    t_llo = np.arange(-3600.0, 0.0, 120.0)
    r_llo, _ = _kepler(GM_MOON, 1937.4e3, 1937.4e3, 43.0, 10.0, t_llo)
    t_moon = np.arange(0.0, 20 * 3600.0, 300.0)
    r_moon, rad_moon = _kepler(GM_MOON, 1937.4e3, 20_000e3, 43.0, 10.0, t_moon)
    t_earth = np.arange(-60 * 3600.0, -1800.0 + 1, 600.0)  # before Earth perigee
    r_earth, rad_earth = _kepler(GM_EARTH, 6500e3, 380_000e3, 40.0, 200.0, t_earth)
    et_moon, et_earth = ET0_S + t_moon, ET0_S + 25 * 3600.0 + (t_earth - t_earth[0])
    t_orb = np.arange(0.0, 3600.0, 300.0) + t_earth[-6]
    r_orb, rad_orb = _kepler(GM_EARTH, 6500e3, 380_000e3, 40.0, 200.0, t_orb)
    et_orb = et_earth[-6] + (t_orb - t_orb[0])
    traj = _table(_rows("llo", "MOON", ET0_S + t_llo, r_llo),
                  _rows("trans_earth", "MOON", et_moon, r_moon),
                  _rows("trans_earth", "EARTH", et_earth, r_earth))
    orbiter = _table(_rows("trans_earth_orbiter", "EARTH", et_orb, r_orb))
    events = [
        {"utc": _utc(et_moon[0]), "phase": "trans_earth", "event": "tei1_start",
         "details": {"thrust_n": 3000.0}},
        {"utc": _utc(et_moon[2]), "phase": "trans_earth", "event": "tei1_end", "details": {}},
        {"utc": _utc(et_earth[3]), "phase": "trans_earth", "event": "mcc1",
         "details": {"delta_v_m_s": 6.26}},
        {"utc": _utc(et_earth[-6]), "phase": "trans_earth", "event": "separation", "details": {}},
        {"utc": _utc(et_orb[2]), "phase": "trans_earth", "event": "orbiter_divert",
         "details": {"delta_v_m_s": 240.0}},
        {"utc": _utc(ET0_S - 3600.0), "phase": "llo", "event": "periapsis", "details": {}},
    ]
    return dict(traj=traj, orbiter=orbiter, events=events, et_moon=et_moon, rad_moon=rad_moon,
                et_earth=et_earth, rad_earth=rad_earth, et_orb=et_orb, rad_orb=rad_orb)


def _moon_state(ets):
    return spice_kernels.body_states("MOON", "EARTH", "J2000", np.atleast_1d(ets))


# --------------------------------------------------------------------------- frame

@settings(max_examples=25, deadline=None)
@given(et=st.floats(6.3e8, 9.4e8),  # 2019-12 to 2029-10
       k=st.floats(-2.0, 2.0), s=st.floats(1e3, 1e9))
def test_rotating_frame_axes(et, k, s):
    """Moon centre → (d, 0, 0); points on the Earth–Moon line stay on x; r × v goes to +z;
    the Moon's velocity has +y; the transform keeps lengths."""
    moon = _moon_state(et)[0]
    d = np.linalg.norm(moon[:3])
    centre = RF.earth_centred_positions(["MOON"], [et], np.zeros((1, 3)))
    on_line = k * moon[:3]
    h = np.cross(moon[:3], moon[3:])
    pts = np.vstack([centre, on_line, s * h / np.linalg.norm(h), moon[3:], np.cross(h, moon[:3])])
    rot = RF.earth_moon_rotating(np.full(len(pts), et), pts)
    np.testing.assert_allclose(rot[0], [d, 0.0, 0.0], atol=1e-3)  # 1 mm
    np.testing.assert_allclose(rot[1], [k * d, 0.0, 0.0], atol=1e-3)  # 1 mm
    np.testing.assert_allclose(rot[2], [0.0, 0.0, s], atol=1e-6 * s)  # 1 ppm of the length
    assert rot[3, 1] > 0.0 and abs(rot[3, 2]) < 1e-9 * np.linalg.norm(moon[3:])  # prograde, in plane
    assert rot[4, 1] > 0.0 and abs(rot[4, 0]) < 1e-9 * np.linalg.norm(rot[4])  # h × r along +y
    np.testing.assert_allclose(np.linalg.norm(rot, axis=1), np.linalg.norm(pts, axis=1), rtol=1e-12)


def test_unknown_body_is_refused():
    with pytest.raises(GuanghanError, match="SUN"):
        RF.earth_centred_positions(["SUN"], [ET0_S], np.zeros((1, 3)))


def test_phases_must_be_known(run):
    events = [e for e in run["events"] if e["event"] != "tei1_start"]
    with pytest.raises(GuanghanError):
        RF.return_overview_figure(run["traj"], run["orbiter"], events)
    fig = RF.return_overview_figure(run["traj"], None, events, phases=["trans_earth"])
    assert [t.name for t in fig.data if t.name == "returner"] == ["returner", "returner"]


# --------------------------------------------------------------------------- overview

def _trace(fig, name, axis):
    return next(t for t in fig.data if t.name == name and t.xaxis == axis)


def test_overview_keeps_kepler_radii(run):
    fig = RF.return_overview_figure(run["traj"], run["orbiter"], run["events"])
    plan, side = _trace(fig, "returner", "x"), _trace(fig, "returner", "x2")
    xyz_km = np.column_stack([plan.x, plan.y, side.y]).astype(float)
    n_moon = len(run["et_moon"])
    assert len(xyz_km) == n_moon + len(run["et_earth"])  # parking orbit rows left out
    d_km = np.linalg.norm(_moon_state(run["et_moon"])[:, :3], axis=1) / 1e3
    from_moon = np.linalg.norm(xyz_km[:n_moon] - np.column_stack([d_km, 0 * d_km, 0 * d_km]), axis=1)
    np.testing.assert_allclose(from_moon, run["rad_moon"] / 1e3, atol=PLOT_TOL_KM)
    np.testing.assert_allclose(np.linalg.norm(xyz_km[n_moon:], axis=1), run["rad_earth"] / 1e3,
                               atol=PLOT_TOL_KM)
    orb = np.column_stack([_trace(fig, "orbiter divert", "x").x, _trace(fig, "orbiter divert", "x").y,
                           _trace(fig, "orbiter divert", "x2").y]).astype(float)
    np.testing.assert_allclose(np.linalg.norm(orb, axis=1), run["rad_orb"] / 1e3, atol=PLOT_TOL_KM)


def test_overview_events_and_discs(run):
    fig = RF.return_overview_figure(run["traj"], run["orbiter"], run["events"])
    labels = [a.text for a in fig.layout.annotations if a.xref == "x"]
    assert labels == ["TEI-1", "MCC-1", "separation", "orbiter divert"]  # time order, no llo event
    marks = _trace(fig, "events", "x")
    sep_km = np.hypot(marks.x[2], marks.y[2])
    z_km = _trace(fig, "events", "x2").y[2]
    # separation falls on a sample: its distance is the Kepler radius (ms UTC rounding ≈ 5 m)
    assert abs(np.hypot(sep_km, z_km) - run["rad_earth"][-6] / 1e3) < PLOT_TOL_KM
    divert_km = np.linalg.norm([marks.x[3], marks.y[3], _trace(fig, "events", "x2").y[3]])
    assert abs(divert_km - run["rad_orb"][2] / 1e3) < PLOT_TOL_KM  # on the orbiter's own track
    earth = _trace(fig, "Earth (to scale)", "x")
    np.testing.assert_allclose(np.hypot(earth.x, earth.y), 6371.0, atol=0.01)  # IAU mean radius
    moon = _trace(fig, "Moon (to scale)", "x")
    d0_km = np.linalg.norm(_moon_state(run["et_moon"][0])[0, :3]) / 1e3
    np.testing.assert_allclose(np.hypot(np.asarray(moon.x) - d0_km, moon.y), 1737.4, atol=0.05)


def test_overview_small_discs_become_markers(run, monkeypatch):
    monkeypatch.setattr(RF, "MIN_DISC_FRACTION", 0.01)  # Moon 1737 km < 1 % of ~4e5 km, Earth not
    names = {t.name for t in RF.return_overview_figure(run["traj"], None, run["events"]).data}
    assert {"Moon (marker, not to scale)", "Earth (to scale)"} <= names
    assert "Moon (to scale)" not in names


def test_overview_respects_point_budget(run):
    fig = RF.return_overview_figure(run["traj"], run["orbiter"], run["events"], max_points=400)
    assert F.plotted_points(fig) <= 400


# --------------------------------------------------------------------------- range

def test_range_against_kepler_and_tei1(run):
    fig = RF.return_range_figure(run["traj"], run["events"])
    earth, moon = fig.data[0], fig.data[1]
    n_moon = len(run["et_moon"])
    np.testing.assert_allclose(np.asarray(moon.y[:n_moon], float), run["rad_moon"] / 1e3,
                               atol=PLOT_TOL_KM)
    np.testing.assert_allclose(np.asarray(earth.y[n_moon:], float), run["rad_earth"] / 1e3,
                               rtol=1e-6)  # float32 plotting
    ets = np.concatenate([run["et_moon"], run["et_earth"]])
    np.testing.assert_allclose(np.asarray(earth.x, float), (ets - ets[0]) / 3600.0,
                               atol=2e-6 * 30)  # 30 h span, float32: < 0.2 s
    assert fig.layout.yaxis.type == "log"
    assert [a.text for a in fig.layout.annotations] == ["TEI-1", "MCC-1", "separation",
                                                        "orbiter divert"]
    assert len(fig.layout.shapes) == 4


# --------------------------------------------------------------------------- Δv budget

def test_delta_v_budget_from_events_and_summary(run):
    events = run["events"] + [
        {"utc": _utc(ET0_S + 86400.0), "phase": "trans_earth", "event": "tei2_start", "details": {}},
        {"utc": _utc(ET0_S + 40 * 3600.0), "phase": "trans_earth", "event": "mcc2",
         "details": {"delta_v_m_s": 0.4}}]
    summary = {"trans_earth.tei1_delta_v_m_s": 575.6}  # TEI events carry no Δv; TEI-2 has none at all
    fig = RF.delta_v_budget_figure(summary, events)
    bars = fig.data[0]
    assert list(bars.y) == ["TEI-1", "MCC-1", "MCC-2", "orbiter divert"]
    np.testing.assert_allclose(bars.x, [575.6, 6.26, 0.4, 240.0], rtol=0, atol=1e-12)
    assert list(bars.text) == ["575.6 m/s", "6.3 m/s", "0.4 m/s", "240.0 m/s"]
    note = fig.layout.annotations[0].text
    assert "582.3 m/s" in note and "TEI-2" in note  # stack total 575.6 + 6.26 + 0.4; missing named
    assert list(fig.layout.yaxis.categoryarray) == ["orbiter divert", "MCC-2", "MCC-1", "TEI-1"]
