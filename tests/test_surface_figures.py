"""Tests of the surface-operations figures (guanghan.analysis.legs.surface_operations).

The inputs are synthetic tables with the leg's schemas, built so that the expected figure content
is known by construction: a stay of 48 h sampled every 10 min with the Sun elevation a sinusoid, a
direct link visible in two known runs, six tasks with known spans, a circular relay orbit of known
radius, a fixed Earth direction, and a flag whose temperature swings between known extremes.
The geometry checks use independent truth: the Moon's radius is the IAU/LOLA 1737.4 km, and the
site vector is built here from lat/lon by spherical trigonometry, not by the module.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
import pytest

from guanghan.analysis import figures as F
from guanghan.analysis import report
from guanghan.analysis.legs import LEG_FIGURES, FigureInputs, leg_figures
from guanghan.analysis.legs import surface_operations as S
from guanghan.environment.geodetic import MOON_MEAN_RADIUS

PHASE = "surface"
TOUCHDOWN = np.datetime64("2020-12-01T15:11:00", "ns")
LAT_DEG, LON_DEG = 43.06, -51.92  # Chang'e-5 landing site (Mons Rümker region)
EARTH_U = np.array([0.6, 0.8, 0.0])  # unit vector to the Earth, MOON_ME
RELAY_RADIUS_KM = 8_000.0
N_COND = 48 * 6 + 1  # 48 h every 10 min
TASKS = [("checkout", "checkout", 0.0, 2.0, False, 0),
         ("drill", "drill", 2.0, 14.0, True, 0),
         ("pack drill core", "pack", 14.0, 16.0, False, -1),
         ("scoop", "scoop", 16.0, 30.0, True, 1),
         ("flag", "flag", 30.0, 31.0, False, 1),
         ("ascent prep", "ascent_prep", 31.0, 40.0, True, 1)]


def _utc(hours) -> list[str]:
    stamps = TOUCHDOWN + np.round(np.asarray(hours) * 3.6e12).astype("timedelta64[ns]")
    return [s + "Z" for s in np.datetime_as_string(stamps, unit="s")]


def _conditions(n=N_COND, relay=True) -> pa.Table:
    t_h = np.arange(n) * (10.0 / 60.0)
    direct = ((t_h >= 1.0) & (t_h < 10.0)) | ((t_h >= 20.0) & (t_h < 35.0))
    epoch = TOUCHDOWN + np.round(t_h * 3.6e12).astype("timedelta64[ns]")
    return pa.table({
        "epoch": pa.array(epoch, type=pa.timestamp("ns", tz="UTC")),
        "t_h": t_h,
        "sun_elevation_deg": 20.0 * np.sin(2 * np.pi * t_h / 708.7),
        "sun_azimuth_deg": np.full(n, 120.0),
        "earth_elevation_deg": np.full(n, 35.0),
        "regolith_temp_k": 250.0 + 0.5 * t_h,
        "lander_temp_k": np.full(n, 290.0),
        "direct_visible": direct,
        "relay_visible": (t_h % 12.0 < 8.0) if relay else np.zeros(n, bool),
    })


def _timeline() -> pa.Table:
    task, kind, s, e, conf, win = map(list, zip(*TASKS))
    return pa.table({"task": task, "kind": kind, "start_h": s, "end_h": e,
                     "start_utc": _utc(s), "end_utc": _utc(e), "needs_confirmation": conf,
                     "window_index": pa.array(win, pa.int64())})


def _links() -> pa.Table:
    kind, s, e = ["direct", "direct", "relay", "relay", "relay"], [1.0, 20.0, 0.0, 12.0, 24.0], \
        [10.0, 35.0, 8.0, 20.0, 32.0]
    dur = np.subtract(e, s)
    return pa.table({"kind": kind, "start_h": s, "end_h": e, "start_utc": _utc(s),
                     "end_utc": _utc(e), "data_volume_mbit": dur * 3600 * 2.0,
                     "mean_rate_kbit_s": np.full(5, 2000.0)})


def _relay(n=289) -> pa.Table:
    t_h = np.linspace(0.0, 48.0, n)
    ang = 2 * np.pi * t_h / 12.0
    r = RELAY_RADIUS_KM * np.stack([np.cos(ang), 0.5 * np.sin(ang), np.sqrt(0.75) * np.sin(ang)])
    return pa.table({"t_h": t_h, "x_km": r[0], "y_km": r[1], "z_km": r[2],
                     "earth_x": np.full(n, EARTH_U[0]), "earth_y": np.full(n, EARTH_U[1]),
                     "earth_z": np.full(n, EARTH_U[2])})


def _flag(days=30.0, n=2000) -> pa.Table:
    t_d = np.linspace(0.0, days, n)
    rows = {"item": [], "t_d": [], "temp_k": []}
    for item, mean in (("flag fabric", 240.0), ("flag pole", 230.0)):
        rows["item"] += [item] * n
        rows["t_d"] += list(t_d)
        rows["temp_k"] += list(mean + 150.0 * np.sin(2 * np.pi * t_d / 29.53))
    return pa.table(rows)


def _inputs(relay=True, drop=(), max_points=F.MAX_POINTS, summary=None) -> FigureInputs:
    series = {"conditions": _conditions(relay=relay), "timeline": _timeline(), "links": _links(),
              "flag": _flag()}
    if relay:
        series["relay_orbit"] = _relay()
    series = {f"{PHASE}.{k}": v for k, v in series.items() if k not in drop}
    default = {f"{PHASE}.site_lat_deg": LAT_DEG, f"{PHASE}.site_lon_deg": LON_DEG,
               "flag.temp_max_k": 390.0, "flag.temp_min_k": 80.0, "flag.thermal_cycles": 1,
               "flag.survives": True, "flag.limit_min_k": 70.0, "flag.limit_max_k": 420.0}
    return FigureInputs(events=[], trajectory=None, cols=None, series=series,
                        summary=default if summary is None else summary,
                        meta={"legs": {PHASE: "surface_operations"}, "sites": []},
                        colours={}, max_points=max_points)


def _by_heading(out) -> dict:
    return {heading: fig for _, heading, _, fig in out}


HEADINGS = ["Sun, Earth and temperatures over the stay", "Surface timeline", "Relay geometry",
            "Deployed hardware temperatures"]


# --------------------------------------------------------------------------- registry and set

def test_registered_and_reached_through_leg_figures():
    assert LEG_FIGURES["surface_operations"] is S.surface_figures
    out = leg_figures(_inputs())
    assert [h for _, h, _, _ in out] == HEADINGS


def test_four_figures_with_relay_three_without():
    out = S.surface_figures(_inputs(), PHASE)
    assert [h for _, h, _, _ in out] == HEADINGS
    ids = [fid for fid, *_ in out]
    assert len(set(ids)) == 4 and all(i.startswith("fig-") and i.endswith("-surface") for i in ids)
    assert all(isinstance(fig, go.Figure) and caption for _, _, caption, fig in out)
    no_relay = S.surface_figures(_inputs(relay=False), PHASE)
    assert [h for _, h, _, _ in no_relay] == [h for h in HEADINGS if h != "Relay geometry"]


@pytest.mark.parametrize("table, heading", [("conditions", HEADINGS[0]), ("timeline", HEADINGS[1]),
                                            ("relay_orbit", HEADINGS[2]), ("flag", HEADINGS[3])])
def test_missing_table_skips_only_its_figure(table, heading):
    out = _by_heading(S.surface_figures(_inputs(drop=(table,)), PHASE))
    assert list(out) == [h for h in HEADINGS if h != heading]


def test_links_missing_keeps_the_gantt():
    fig = _by_heading(S.surface_figures(_inputs(drop=("links",)), PHASE))["Surface timeline"]
    assert {t.name for t in fig.data if t.type == "bar"} == {k for _, k, *_ in TASKS}


def test_nothing_present_or_empty_or_incomplete_tables_give_no_figures():
    assert S.surface_figures(_inputs(drop=("conditions", "timeline", "links", "relay_orbit",
                                           "flag")), PHASE) == []
    inp = _inputs()
    empty = {k: v.slice(0, 0) for k, v in inp.series.items()}
    assert S.surface_figures(FigureInputs(**{**inp.__dict__, "series": empty}), PHASE) == []
    needed = {"conditions": "t_h", "timeline": "end_h", "links": "kind", "relay_orbit": "earth_z",
              "flag": "temp_k"}
    broken = {k: v.drop_columns([needed[k.split(".")[1]]]) for k, v in inp.series.items()}
    assert S.surface_figures(FigureInputs(**{**inp.__dict__, "series": broken}), PHASE) == []
    assert S.surface_figures(inp, "another_phase") == []


def test_optional_columns_missing_still_draw():
    inp = _inputs()
    thin = {**inp.series,
            f"{PHASE}.conditions": inp.series[f"{PHASE}.conditions"].drop_columns(
                ["epoch", "lander_temp_k", "relay_visible"]),
            f"{PHASE}.timeline": inp.series[f"{PHASE}.timeline"].drop_columns(
                ["start_utc", "end_utc", "needs_confirmation"]),
            f"{PHASE}.links": inp.series[f"{PHASE}.links"].drop_columns(
                ["start_utc", "data_volume_mbit"])}
    out = _by_heading(S.surface_figures(FigureInputs(**{**inp.__dict__, "series": thin}), PHASE))
    assert list(out) == HEADINGS
    cond = {t.name: t for t in out[HEADINGS[0]].data}
    assert set(cond) == {"Sun elevation", "Earth elevation", "regolith temperature",
                         "direct link"}
    assert cond["Sun elevation"].text is None  # no epochs: no UTC in the hover
    assert cond["direct link"].text[6] == "t+1.00 → t+9.83 h"
    assert out[HEADINGS[3]].data[0].text is None


# --------------------------------------------------------------------------- conditions

def test_conditions_traces_names_lengths_and_link_runs():
    fig = _by_heading(S.surface_figures(_inputs(), PHASE))[HEADINGS[0]]
    by_name = {t.name: t for t in fig.data}
    lines = ["Sun elevation", "Earth elevation", "regolith temperature", "lander temperature"]
    assert set(by_name) == set(lines) | {"direct link", "relay link"}
    for name in lines:  # 289 samples, under the budget: nothing dropped
        assert len(by_name[name].x) == N_COND
    np.testing.assert_allclose(by_name["regolith temperature"].y,
                               250.0 + 0.5 * np.arange(N_COND) / 6.0, rtol=1e-6)
    direct = by_name["direct link"]  # runs [1, 10) h and [20, 35) h: last samples 9.83, 34.83
    x, y = np.asarray(direct.x, float), np.asarray(direct.y, float)
    on = x[np.isfinite(y)]
    assert len(x) == N_COND and np.all(y[np.isfinite(y)] == 0.0)
    np.testing.assert_allclose([on.min(), on.max()], [1.0, 209 / 6], atol=1e-9)
    assert not np.any((on > 59 / 6 + 1e-9) & (on < 20.0 - 1e-9))  # the gap stays empty
    assert direct.text[6] == "2020-12-01 16:11 → 2020-12-02 01:01 UTC"  # t = 1 h
    assert direct.text[0] == ""
    assert by_name["Sun elevation"].text[6] == "2020-12-01 16:11"  # t = 1 h, hover UTC
    assert "time since touchdown (h)" in fig.layout.xaxis3.title.text


def test_conditions_without_relay_has_no_relay_row():
    fig = _by_heading(S.surface_figures(_inputs(relay=False), PHASE))[HEADINGS[0]]
    assert "relay link" not in {t.name for t in fig.data}
    assert list(fig.layout.yaxis3.ticktext) == ["direct"]


def test_task_spans_are_shaded_as_their_union():
    fig = _by_heading(S.surface_figures(_inputs(), PHASE))[HEADINGS[0]]
    rects = [(s.x0, s.x1) for s in fig.layout.shapes if s.type == "rect"]
    assert rects == [(0.0, 40.0)]  # the six tasks touch end to end


@pytest.mark.parametrize("max_points", [200, 1000])
def test_figures_respect_the_point_budget(max_points):
    inp = _inputs(max_points=max_points)
    long = {**inp.series, f"{PHASE}.conditions": _conditions(n=5000),
            f"{PHASE}.relay_orbit": _relay(n=5000)}
    for _, heading, _, fig in S.surface_figures(FigureInputs(**{**inp.__dict__, "series": long}),
                                                PHASE):
        assert F.plotted_points(fig) <= max_points, heading


# --------------------------------------------------------------------------- Gantt

def test_gantt_one_bar_per_task_hatched_confirmations_and_liftoff_line():
    fig = _by_heading(S.surface_figures(_inputs(), PHASE))["Surface timeline"]
    kinds = {k for _, k, *_ in TASKS}
    task_bars = [t for t in fig.data if t.type == "bar" and t.name in kinds]
    assert sum(len(t.y) for t in task_bars) == len(TASKS)
    spans = {}
    for t in task_bars:
        for y, base, width, shape in zip(t.y, t.base, t.x, t.marker.pattern.shape):
            spans[y] = (base, base + width, shape == "/")
    assert spans == {name: (s, e, conf) for name, _, s, e, conf, _ in TASKS}
    drill = next(t for t in task_bars if t.name == "drill")
    assert list(drill.customdata[0][:2]) == ["2020-12-01T17:11:00Z", "2020-12-02T05:11:00Z"]
    links = {t.name: t for t in fig.data if t.type == "bar" and t.name not in kinds}
    assert len(links["direct link windows"].y) == 2 and len(links["relay link windows"].y) == 3
    bands = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(bands) == 5 and all(s.layer == "below" for s in bands)
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 1 and lines[0].x0 == lines[0].x1 == 40.0  # last task end
    assert list(fig.layout.yaxis.categoryarray)[-1] == "direct link"  # link rows on top


# --------------------------------------------------------------------------- relay geometry

def test_relay_geometry_moon_site_orbit_and_earth_direction():
    fig = _by_heading(S.surface_figures(_inputs(), PHASE))["Relay geometry"]
    sphere = next(t for t in fig.data if t.type == "surface")
    r = np.sqrt(np.asarray(sphere.x, float) ** 2 + np.asarray(sphere.y, float) ** 2
                + np.asarray(sphere.z, float) ** 2)
    assert abs(MOON_MEAN_RADIUS / 1e3 - 1737.4) < 1e-9
    np.testing.assert_allclose(r, MOON_MEAN_RADIUS / 1e3, atol=1e-3)  # 1 m (float32 plotting)
    orbit = next(t for t in fig.data if t.name == "relay orbit")
    assert len(orbit.x) == 289
    np.testing.assert_allclose(np.hypot(np.hypot(orbit.x, orbit.y), orbit.z), RELAY_RADIUS_KM,
                               rtol=1e-9)
    site = next(t for t in fig.data if t.name == "landing site")
    lat, lon = np.radians(LAT_DEG), np.radians(LON_DEG)
    expected = 1737.4 * np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon),
                                  np.sin(lat)])
    np.testing.assert_allclose([site.x[0], site.y[0], site.z[0]], expected, atol=1e-6)  # 1 mm
    earth = next(t for t in fig.data if t.name == "toward the Earth")
    start = np.array([earth.x[0], earth.y[0], earth.z[0]])
    tip = np.array([earth.x[1], earth.y[1], earth.z[1]])
    assert np.linalg.norm(start) == 0.0 and np.linalg.norm(tip) > RELAY_RADIUS_KM
    np.testing.assert_allclose(tip / np.linalg.norm(tip), EARTH_U, atol=1e-12)
    assert fig.layout.scene.aspectmode == "data"
    assert "2020-12-01 15:11" in orbit.text[0]


def test_site_falls_back_to_meta_sites():
    inp = _inputs(summary={})
    meta = {**inp.meta, "sites": [{"name": "Earth site", "body": "EARTH", "lat_deg": 0.0,
                                   "lon_deg": 0.0},
                                  {"name": "CE-5", "body": "MOON", "lat_deg": 0.0,
                                   "lon_deg": 90.0}]}
    out = S.surface_figures(FigureInputs(**{**inp.__dict__, "meta": meta}), PHASE)
    site = next(t for t in _by_heading(out)["Relay geometry"].data if t.name == "landing site")
    np.testing.assert_allclose([site.x[0], site.y[0], site.z[0]], [0.0, 1737.4, 0.0], atol=1e-6)
    none = S.surface_figures(FigureInputs(**{**inp.__dict__, "meta": {}}), PHASE)
    assert "landing site" not in {t.name for t in _by_heading(none)["Relay geometry"].data}


# --------------------------------------------------------------------------- hardware

def test_hardware_temperatures_items_limits_and_caption():
    out = S.surface_figures(_inputs(max_points=1000), PHASE)
    _, _, caption, fig = out[-1]
    traces = {t.name: t for t in fig.data}
    assert set(traces) == {"flag fabric", "flag pole"}
    assert all(len(t.x) <= 500 for t in traces.values())  # 2000 samples each, decimated
    assert traces["flag pole"].x[0] == 0.0 and traces["flag pole"].x[-1] == 30.0  # ends kept
    limits = sorted(s.y0 for s in fig.layout.shapes if s.type == "line")
    assert limits == [70.0, 420.0]
    assert all(s.line.dash == "dash" for s in fig.layout.shapes)
    assert "max 390 K" in caption and "thermal cycles: 1" in caption and "survives" in caption
    # deployed at the end of the flag task (t+31 h): day 0 is 2020-12-02 22:11 UTC
    assert traces["flag fabric"].text[0] == "2020-12-02 22:11"


def test_hardware_without_limits_draws_no_lines():
    fig = _by_heading(S.surface_figures(_inputs(summary={}), PHASE))[HEADINGS[3]]
    assert not [s for s in fig.layout.shapes if s.type == "line"]


def test_failed_survival_and_phase_prefixed_summary_keys():
    summary = {f"{PHASE}.flag.survives": False, f"{PHASE}.flag.limit_max_k": 300.0}
    _, _, caption, fig = S.surface_figures(_inputs(summary=summary), PHASE)[-1]
    assert "does NOT survive" in caption
    assert [s.y0 for s in fig.layout.shapes if s.type == "line"] == [300.0]


def test_report_carries_the_surface_figures():
    inp = _inputs()
    utc = _utc([0.0, 1.0])
    traj = pa.table({"utc": utc, "phase": [PHASE] * 2, "body": ["MOON"] * 2,
                     "lat_deg": [LAT_DEG] * 2, "lon_deg": [LON_DEG] * 2,
                     "altitude_km": [0.0, 0.0], "x_m": [1.0e6] * 2, "y_m": [1.0e6] * 2,
                     "z_m": [1.0e6] * 2})
    figs = report.build_figures([], traj, inp.meta, 2000, inp.series, inp.summary)
    assert [h for _, h, _, _ in figs if h in HEADINGS] == HEADINGS
