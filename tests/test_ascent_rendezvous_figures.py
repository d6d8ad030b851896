"""Tests of the lunar-ascent and lunar-rendezvous figures (guanghan.analysis.legs.lunar_ascent,
guanghan.analysis.legs.lunar_rendezvous).

The inputs are synthetic tables with the legs' schemas, built so that the expected content is known
by construction: a 400 s ascent in four guidance phases, a launch-window scan with two plane
crossings, and a V-bar approach from 5 km with holds of 600 s at 1000 m and 200 m before contact,
whose navigation error stays inside a shrinking ±3σ envelope.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from guanghan.analysis import figures as F
from guanghan.analysis.legs import FigureInputs, leg_figures
from guanghan.analysis.legs import lunar_ascent as A
from guanghan.analysis.legs import lunar_rendezvous as R

ASC, RDV = "ascent", "rendezvous"
T0 = np.datetime64("2020-12-03T15:10:00", "ms")
HOLDS_M = (1000.0, 200.0)
SUMMARY = {"ascent.burn_time_s": 372.5, "ascent.insertion_periapsis_km": 15.0,
           "ascent.insertion_apoapsis_km": 180.0, "ascent.onboard_failure_rate": 0.0,
           "ascent.ground_loop_failure_rate": 0.04, "ascent.onboard_apoapsis_error_rms_km": 0.8,
           "ascent.ground_loop_apoapsis_error_rms_km": 3.1,
           "rendezvous.docking_utc": "2020-12-05T21:42:00", "rendezvous.capture_speed_m_s": 0.05,
           "rendezvous.capture_offset_m": 0.02, "rendezvous.delta_v_m_s": 12.3}


def _utc(t_s) -> list[str]:
    stamps = T0 + np.round(np.asarray(t_s) * 1e3).astype("timedelta64[ms]")
    return list(np.datetime_as_string(stamps, unit="ms"))


def _ascent(n=2001) -> pa.Table:
    t = np.linspace(0.0, 400.0, n)
    phase = np.where(t < 10, "vertical_rise", np.where(t < 30, "pitch_over",
                     np.where(t < 380, "guidance", "terminal")))
    alt = 15_000.0 * (t / 400.0) ** 1.5
    return pa.table({
        "t_s": t, "altitude_m": alt, "downrange_km": 0.5 * t, "latitude_deg": np.full(n, 43.1),
        "longitude_deg": -51.9 + 1e-3 * t, "speed_inertial_m_s": 4.5 * t,
        "speed_relative_m_s": 4.5 * t - 2.0, "pitch_deg": 90.0 - 0.2 * t,
        "yaw_deg": 0.01 * t, "throttle": np.where(t < 380, 1.0, 0.5), "mass_kg": 800.0 - 0.8 * t,
        "terrain_clearance_m": alt - 50.0, "nav_error_m": 5.0 + 0.01 * t,
        "nav_velocity_error_m_s": 0.02 + 1e-4 * t, "utc": _utc(t), "phase": phase})


def _windows(n=200) -> pa.Table:
    t = np.arange(n) * 600.0
    oop = 3.0 * np.sin(2 * np.pi * t / (n * 600.0 / 2))
    crossing = np.zeros(n, bool)
    crossing[[0, n // 2]] = True
    return pa.table({"utc": _utc(t), "et_s": 6.6e8 + t, "crossing": crossing,
                     "out_of_plane_deg": np.abs(oop), "phase_angle_deg": np.mod(t / 100, 360),
                     "plane_change_dv_m_s": 1600.0 * np.radians(np.abs(oop))})


def _proximity(dt=2.0) -> pa.Table:
    # along-track (V-bar) approach: 5000 → 1000 m, hold, → 200 m, hold, → 0 (contact)
    knots_t = [0.0, 2000.0, 2600.0, 3400.0, 4000.0, 4800.0]
    knots_x = [-5000.0, -HOLDS_M[0], -HOLDS_M[0], -HOLDS_M[1], -HOLDS_M[1], 0.0]
    t = np.arange(0.0, knots_t[-1] + dt / 2, dt)
    along = np.interp(t, knots_t, knots_x)
    radial, cross = 0.02 * along, 0.002 * along  # a slightly inclined straight approach
    pos = {"radial": radial, "along": along, "cross": cross}
    rng = np.sqrt(radial**2 + along**2 + cross**2)
    cols = {"t_s": t, "range_m": rng, "range_rate_m_s": np.gradient(rng, t)}
    for k, (axis, true) in enumerate(pos.items()):
        sigma3 = 3.0 * (1.0 + 0.002 * np.abs(along)) * (1 + 0.1 * k)
        err = 0.5 * sigma3 * np.sin(t / (50.0 + 10 * k))
        cols |= {f"{axis}_m": true, f"{axis}_est_m": true + err, f"{axis}_sigma3_m": sigma3,
                 f"{axis}_error_m": err}
    return pa.table(cols)


def _burns() -> pa.Table:
    return pa.table({"name": ["NC1", "NH", "NSR"], "utc": _utc([0, 3600, 7200]),
                     "duration_s": [10.0, 5.0, 3.0], "delta_v_m_s": [6.0, 3.0, 1.5]})


def _impact() -> pa.Table:
    return pa.table({"lat_deg": [-30.0], "lon_deg": [0.0], "utc": ["2020-12-07T22:59:00"]})


def _series(**drop) -> dict:
    full = {f"{ASC}.ascent": _ascent(), f"{ASC}.launch_windows": _windows(),
            f"{RDV}.proximity": _proximity(), f"{RDV}.phasing_burns": _burns(),
            f"{RDV}.impact": _impact()}
    return {k: v for k, v in full.items() if k.split(".")[1] not in drop}


def _inputs(series, max_points=F.MAX_POINTS, summary=SUMMARY) -> FigureInputs:
    return FigureInputs(events=[], trajectory=None, cols=None, series=series, summary=summary,
                        meta={"legs": {ASC: "lunar_ascent", RDV: "lunar_rendezvous"}},
                        colours={}, max_points=max_points)


def _by_id(figs) -> dict:
    return {fid: (head, cap, fig) for fid, head, cap, fig in figs}


EXPECTED = {"fig-ascent-profile-ascent", "fig-ascent-navigation-ascent",
            "fig-launch-windows-ascent", "fig-rendezvous-lvlh-rendezvous",
            "fig-rendezvous-range-rendezvous", "fig-rendezvous-navigation-rendezvous",
            "fig-ascender-impact-rendezvous"}


def test_all_figures_appear_in_flight_order():
    figs = leg_figures(_inputs(_series()))
    ids = [f[0] for f in figs]
    assert set(ids) == EXPECTED and len(ids) == len(EXPECTED)
    assert ids.index("fig-ascent-profile-ascent") < ids.index("fig-rendezvous-lvlh-rendezvous")
    for _, head, cap, fig in figs:
        assert head and cap and len(fig.data) > 0


def test_captions_carry_the_summary():
    got = _by_id(leg_figures(_inputs(_series())))
    cap = got["fig-ascent-profile-ascent"][1]
    for text in ("372.5 s", "15.0 × 180.0 km", "4.0%", "0.80 km", "3.10 km"):
        assert text in cap
    cap = got["fig-rendezvous-lvlh-rendezvous"][1]
    assert "3 phasing burns, 10.5 m/s" in cap and "2020-12-05T21:42:00" in cap
    assert "-30.00°, 0.00°" in got["fig-ascender-impact-rendezvous"][1]
    # without any summary the captions still build
    bare = _by_id(leg_figures(_inputs(_series(), summary={})))
    assert "Burn time" not in bare["fig-ascent-profile-ascent"][1]


@pytest.mark.parametrize("drop, missing", [
    (("ascent",), {"fig-ascent-profile-ascent", "fig-ascent-navigation-ascent"}),
    (("launch_windows",), {"fig-launch-windows-ascent"}),
    (("proximity",), {"fig-rendezvous-lvlh-rendezvous", "fig-rendezvous-range-rendezvous",
                      "fig-rendezvous-navigation-rendezvous"}),
    (("impact",), {"fig-ascender-impact-rendezvous"}),
    (("phasing_burns",), set()),
])
def test_missing_tables_skip_their_figures(drop, missing):
    ids = {f[0] for f in leg_figures(_inputs(_series(**dict.fromkeys(drop))))}
    assert ids == EXPECTED - missing


def test_nothing_at_all_gives_no_figures():
    assert leg_figures(_inputs({})) == []
    empty = {f"{ASC}.ascent": _ascent().slice(0, 0), f"{RDV}.proximity": _proximity().slice(0, 0)}
    assert leg_figures(_inputs(empty)) == []


def test_missing_columns_skip_only_their_figure():
    series = _series()
    series[f"{ASC}.ascent"] = _ascent().drop(["nav_error_m", "nav_velocity_error_m_s", "yaw_deg"])
    prox = _proximity()
    series[f"{RDV}.proximity"] = prox.drop([c for c in prox.column_names if "sigma3" in c])
    ids = {f[0] for f in leg_figures(_inputs(series))}
    assert ids == EXPECTED - {"fig-ascent-navigation-ascent", "fig-rendezvous-navigation-rendezvous"}
    series[f"{ASC}.ascent"] = _ascent().drop(["altitude_m"])
    series[f"{RDV}.proximity"] = prox.drop(["along_m"])
    ids = {f[0] for f in leg_figures(_inputs(series))}
    assert "fig-ascent-profile-ascent" not in ids and "fig-rendezvous-lvlh-rendezvous" not in ids
    assert "fig-rendezvous-range-rendezvous" in ids


@pytest.mark.parametrize("max_points", [60, 400, 5000])
def test_decimation_bound(max_points):
    for fid, _, _, fig in leg_figures(_inputs(_series(), max_points=max_points)):
        for trace in fig.data:
            assert len(trace.x) <= max_points, fid
        assert F.plotted_points(fig) <= max_points, fid


def test_profile_coloured_by_phase_and_complete():
    fig = A.ascent_profile_figure(_ascent(), 5000)
    legend = {t.name for t in fig.data if t.showlegend}
    assert legend == {"vertical_rise", "pitch_over", "guidance", "terminal"}
    alt = [t for t in fig.data if t.hovertext is not None]
    assert max(max(t.y) for t in alt) == pytest.approx(15.0)  # km at t = 400 s, end sample kept
    assert fig.layout.xaxis4.title.text.startswith("time")


def test_lvlh_target_at_origin_and_holds_found():
    prox = _proximity()
    fig = R.lvlh_figure(prox, 2000)
    targets = [t for t in fig.data if t.name == "target"]
    assert len(targets) == 2  # in-plane and cross-track panels
    for t in targets:
        assert list(t.x) == [0.0] and list(t.y) == [0.0]
    holds = [t for t in fig.data if t.name == "holding point"]
    assert len(holds) == 2
    assert sorted(-np.asarray(holds[0].x)) == pytest.approx(sorted(HOLDS_M), abs=1.0)
    spans = R.holding_points(prox)
    t = prox.column("t_s").to_numpy()
    assert [round(t[b] - t[a]) for a, b in spans] == pytest.approx([600, 600], abs=10)
    # x is V-bar (along-track), y is R-bar (radial)
    true = next(t for t in fig.data if t.name == "true")
    assert min(true.x) == pytest.approx(-5000.0) and "along" in fig.layout.xaxis.title.text


def test_range_log_scale_skips_contact():
    fig = R.range_figure(_proximity(), 1000)
    assert fig.layout.yaxis.type == "log"
    rng = np.asarray(fig.data[0].y, float)
    assert np.isnan(rng[-1]) and np.all(rng[~np.isnan(rng)] > 0)


def test_sigma_bounds_symmetric_and_enclose_error():
    fig = R.navigation_error_figure(_proximity(), 3000)
    bounds = [t for t in fig.data if t.name == "±3σ"]
    errors = [t for t in fig.data if t.name.startswith("error")]
    assert len(bounds) == 6 and len(errors) == 3
    for k in range(3):
        plus, minus = np.asarray(bounds[2 * k].y), np.asarray(bounds[2 * k + 1].y)
        assert np.array_equal(plus, -minus) and np.all(plus > 0)
        assert np.all(np.abs(errors[k].y) <= plus)


def test_impact_figure_ranges():
    fig = R.impact_figure(-30.0, 0.0, "2020-12-07T22:59:00")
    assert list(fig.layout.xaxis.range) == [-180, 180]
    assert list(fig.layout.yaxis.range) == [-90, 90]
    assert (fig.data[0].x[0], fig.data[0].y[0]) == (0.0, -30.0)
