"""Tests of the HTML mission report (guanghan.analysis.report, figures, basemaps).

The input is synthetic but physical: Keplerian orbits (Curtis, Orbital Mechanics for Engineering
Students, §4.6, perifocal to inertial via the 3-1-3 rotation of eq. 4.49) with latitude and
longitude from a sphere spinning uniformly about J2000 z, a cylindrical shadow, and events
derived from those arrays. The checks are structural (self-contained HTML, one plotly.js, every
figure, decimation bound, atomic write) and geometric (antimeridian breaks, shadow segments,
map orientation against known lunar maria).
"""

from __future__ import annotations

import base64
import io
import os
import re
from html.parser import HTMLParser

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghan.analysis import figures as F
from guanghan.analysis import report as R
from guanghan.analysis.basemaps import basemap

GM_MOON = 4.9028e12  # m^3/s^2 (DE440 value rounded)
GM_EARTH = 3.986004418e14  # m^3/s^2 (WGS 84)
R_MOON_M, R_EARTH_M = 1737.4e3, 6371.0e3
MOON_SPIN_RAD_S = 2 * np.pi / (27.321661 * 86400.0)  # sidereal month
EARTH_SPIN_RAD_S = 7.2921150e-5
ET0_S = 660_000_000.0  # 2020-11-30T09:19:59 TDB, near Chang'e-5's lunar orbit insertion
SUN_DIR = np.array([1.0, 0.0, 0.0])  # fixed Sun direction in J2000 for the synthetic shadow
SITE = {"name": "CE-5", "body": "MOON", "lat_deg": 43.06, "lon_deg": -51.92}


def _kepler_orbit(gm, rp_m, ra_m, inc_deg, raan_deg, t_s):
    """Position and velocity (m, m/s) on a Keplerian ellipse at times t_s from periapsis."""
    a = 0.5 * (rp_m + ra_m)
    e = (ra_m - rp_m) / (ra_m + rp_m)
    mean = np.sqrt(gm / a**3) * t_s
    ecc = mean.copy()
    for _ in range(30):  # Newton on Kepler's equation, Curtis eq. 3.14
        ecc -= (ecc - e * np.sin(ecc) - mean) / (1 - e * np.cos(ecc))
    nu = 2 * np.arctan2(np.sqrt(1 + e) * np.sin(ecc / 2), np.sqrt(1 - e) * np.cos(ecc / 2))
    p = a * (1 - e**2)
    r = p / (1 + e * np.cos(nu))
    r_pf = np.stack([r * np.cos(nu), r * np.sin(nu), 0 * r], axis=1)
    v_pf = np.sqrt(gm / p) * np.stack([-np.sin(nu), e + np.cos(nu), 0 * r], axis=1)
    i, o = np.radians(inc_deg), np.radians(raan_deg)
    rot = np.array([[np.cos(o), -np.sin(o) * np.cos(i), np.sin(o) * np.sin(i)],
                    [np.sin(o), np.cos(o) * np.cos(i), -np.cos(o) * np.sin(i)],
                    [0.0, np.sin(i), np.cos(i)]])  # argument of periapsis 0 (Curtis eq. 4.49)
    return r_pf @ rot.T, v_pf @ rot.T


def _phase_rows(phase, body, et_s, r, v, radius_m, spin_rad_s, mass_kg):
    lon = np.degrees(np.arctan2(r[:, 1], r[:, 0]) - spin_rad_s * (et_s - ET0_S))
    lon = (lon + 180.0) % 360.0 - 180.0
    lat = np.degrees(np.arcsin(r[:, 2] / np.linalg.norm(r, axis=1)))
    along = r @ SUN_DIR
    perp = np.linalg.norm(r - along[:, None] * SUN_DIR, axis=1)
    # cylindrical shadow with a 30 km penumbral ramp at the edge
    sunlit = np.where(along > 0, 1.0, np.clip((perp - radius_m) / 30e3 + 0.5, 0.0, 1.0))
    n = len(et_s)
    return {"et_s": et_s, "utc": [_utc(t) for t in et_s], "phase": [phase] * n,
            "frame": ["J2000"] * n, "body": [body] * n, "x_m": r[:, 0], "y_m": r[:, 1],
            "z_m": r[:, 2], "vx_m_s": v[:, 0], "vy_m_s": v[:, 1], "vz_m_s": v[:, 2],
            "mass_kg": np.full(n, mass_kg), "lat_deg": lat, "lon_deg": lon,
            "altitude_km": (np.linalg.norm(r, axis=1) - radius_m) / 1e3, "sunlit": sunlit}


def _utc(et_s: float) -> str:
    offset_ms = int(round((et_s - 69.184) * 1e3))  # UTC = TDB - 69.184 s from 2017 on
    stamp = np.datetime64("2000-01-01T12:00:00.000") + np.timedelta64(offset_ms, "ms")
    return str(stamp)


def _events(rows) -> list[dict]:
    """Events derived independently from the synthetic arrays."""
    out = []
    phases = list(dict.fromkeys(rows["phase"]))
    phase = np.array(rows["phase"])
    for p in phases:
        idx = np.flatnonzero(phase == p)
        out.append({"utc": rows["utc"][idx[0]], "phase": p, "event": "phase_start", "details": {}})
        alt = rows["altitude_km"][idx]
        for k in range(1, len(idx) - 1):
            j = idx[k]
            if alt[k] < alt[k - 1] and alt[k] <= alt[k + 1]:
                out.append({"utc": rows["utc"][j], "phase": p, "event": "periapsis",
                            "details": {"altitude_km": float(alt[k])}})
            if alt[k] > alt[k - 1] and alt[k] >= alt[k + 1]:
                out.append({"utc": rows["utc"][j], "phase": p, "event": "apoapsis",
                            "details": {"altitude_km": float(alt[k])}})
            lit0, lit1 = rows["sunlit"][j - 1], rows["sunlit"][j]
            if lit0 == 1.0 and lit1 < 1.0:
                out.append({"utc": rows["utc"][j], "phase": p, "event": "shadow_entry",
                            "details": {"kind": "penumbra"}})
            if lit0 < 1.0 and lit1 == 1.0:
                out.append({"utc": rows["utc"][j], "phase": p, "event": "shadow_exit",
                            "details": {"kind": "penumbra"}})
            lon0, lon1 = rows["lon_deg"][j - 1], rows["lon_deg"][j]
            if rows["body"][j] == "MOON" and (lon0 - SITE["lon_deg"]) * (lon1 - SITE["lon_deg"]) < 0 \
                    and abs(lon1 - lon0) < 180:
                out.append({"utc": rows["utc"][j], "phase": p, "event": "site_longitude_crossing",
                            "details": {"site": "CE-5", "lat_deg": float(rows["lat_deg"][j]),
                                        "ground_distance_km":
                                            30.3 * abs(rows["lat_deg"][j] - SITE["lat_deg"])}})
        out.append({"utc": rows["utc"][idx[-1]], "phase": p, "event": "phase_end", "details": {}})
    out.append({"utc": rows["utc"][-5], "phase": phases[-1], "event": "guidance_failure",
                "details": {"reason": "no solution <script>alert(1)</script>"}})
    return out


def synthetic_run(step_s: float = 60.0, days: float = 2.0, earth: bool = True):
    """A run's (events, summary, trajectory, validation, meta) built from Keplerian arcs."""
    parts = []
    et = ET0_S
    if earth:
        t = np.arange(0.0, 3 * 3600.0, step_s)
        r, v = _kepler_orbit(GM_EARTH, R_EARTH_M + 200e3, R_EARTH_M + 400e3, 36.0, 20.0, t)
        parts.append(_phase_rows("earth_parking_orbit", "EARTH", et + t, r, v, R_EARTH_M,
                                 EARTH_SPIN_RAD_S, 8200.0))
        et += t[-1] + step_s
    for name, (rp, ra), mass in (("lunar_orbit_coast", (200e3, 400e3), 3800.0),
                                 ("orbit_lowering", (200e3, 210e3), 3600.0)):
        t = np.arange(0.0, days / 2 * 86400.0, step_s)
        r, v = _kepler_orbit(GM_MOON, R_MOON_M + rp, R_MOON_M + ra, 43.5, 30.0, t)
        parts.append(_phase_rows(name, "MOON", et + t, r, v, R_MOON_M, MOON_SPIN_RAD_S, mass))
        et += t[-1] + step_s
    rows = {k: (np.concatenate([p[k] for p in parts]) if isinstance(parts[0][k], np.ndarray)
                else sum((p[k] for p in parts), [])) for k in parts[0]}
    table = pa.table(rows)
    summary = {"lunar_orbit_coast.mean_altitude_km": float(np.mean(rows["altitude_km"])),
               "lunar_orbit_coast.delta_v_m_s": 0.0, "orbit_lowering.duration_s": days / 2 * 86400,
               "orbit_lowering.guidance": "nominal"}
    validation = [
        {"key": "ce5.lunar_orbit.periapsis", "quantity": "Lunar orbit periapsis", "published": 200.0,
         "simulated": 200.4, "unit": "km", "tolerance": 5.0, "difference": 0.4, "status": "pass",
         "source": "CNSA press release 2020-11-28"},
        {"key": "ce5.lunar_orbit.apoapsis", "quantity": "Lunar orbit apoapsis", "published": 200.0,
         "simulated": 400.0, "unit": "km", "tolerance": 5.0, "difference": 200.0, "status": "fail",
         "source": "CNSA"},
        {"key": "ce5.landing.lat", "quantity": "Landing latitude", "published": 43.06,
         "simulated": None, "unit": "deg", "tolerance": 0.1, "difference": None,
         "status": "not run", "source": "Li et al. 2021"}]
    meta = {"scenario": "chang-e-5.toml", "guanghan_version": "0.1.0", "wall_time_s": 12.5,
            "models": {"gravity": "GRGM1200A 50x50", "third_bodies": ["EARTH", "SUN"]},
            "run_utc": "2026-11-21T18:00:00", "sites": [SITE]}
    return _events(rows), summary, table, validation, meta


class _Scanner(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.urls, self.ids, self.scripts, self.badges = [], [], set(), [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.urls += [attrs[k] for k in ("src", "href") if attrs.get(k)]
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if "badge" in (attrs.get("class") or ""):
            self.badges.append(attrs["class"].split()[-1])
        if tag == "script":
            self.scripts.append("")
            self._in_script = True

    def handle_endtag(self, tag):
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


@pytest.fixture(scope="module")
def run():
    return synthetic_run()


@pytest.fixture(scope="module")
def page(run):
    return R.render_report("Chang'e-5 (synthetic)", *run)


def _scan(text: str) -> _Scanner:
    scanner = _Scanner()
    scanner.feed(text)
    scanner.close()
    return scanner


def test_page_is_self_contained_with_one_plotly_bundle(page):
    scan = _scan(page)
    bundles = [s for s in scan.scripts if "plotly.js v" in s[:400]]
    assert len(bundles) == 1
    assert page.count("* plotly.js v") == 1
    assert not [u for u in scan.urls if re.match(r"\s*(https?:)?//", u, re.I)]
    assert "link" not in scan.tags and "iframe" not in scan.tags and "img" not in scan.tags
    assert "mathjax" not in page[page.index("</head>"):].lower()
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)


def test_every_figure_div_present(run, page):
    scan = _scan(page)
    expected = {"fig-timeline", "fig-altitude", "fig-groundtrack-moon", "fig-groundtrack-earth",
                "fig-orbit3d-moon", "fig-orbit3d-earth", "fig-earth-moon"}
    assert expected <= scan.ids
    figure_ids = {fid for fid, *_ in R.build_figures(run[0], run[2], run[4])}
    assert figure_ids == expected
    for fid in expected:  # each div is drawn by its own newPlot call
        assert len(re.findall(rf'Plotly\.newPlot\(\s*"{fid}"', page)) == 1


def test_validation_statuses_rendered(run, page):
    assert _scan(page).badges == [v["status"].replace(" ", "") for v in run[3]]


def test_event_details_are_escaped_not_executed(run, page):
    scan = _scan(page)
    plot_scripts = [s for s in scan.scripts if "Plotly.newPlot" in s and "plotly.js v" not in s[:400]]
    stores = [s for s in scan.scripts if s.startswith("var GH_IMAGES=")]
    assert len(scan.scripts) == 1 + len(stores) + len(plot_scripts) and len(stores) == 1
    assert "<script>alert(1)" not in page


def test_empty_and_minimal_runs_render():
    table = pa.table({"et_s": [ET0_S, ET0_S + 60.0], "phase": ["landing", "landing"],
                      "x_m": [R_MOON_M, R_MOON_M], "y_m": [0.0, 1.0], "z_m": [0.0, 0.0]})
    for traj in (table, pa.table({}), None):
        text = R.render_report("empty", [], {}, traj, [], {})
        scan = _scan(text)
        assert "fig-timeline" in scan.ids and "fig-groundtrack-moon" not in scan.ids
        assert "No events were recorded" in text and "No validation rows" in text
    assert "fig-orbit3d-moon" in _scan(R.render_report("minimal", [], {}, table, [], {})).ids


def test_single_phase_run_renders():
    events, summary, table, validation, meta = synthetic_run(step_s=120.0, days=1.0, earth=False)
    one = table.filter(pc.equal(table.column("phase"), "lunar_orbit_coast"))
    scan = _scan(R.render_report("one phase", events[:3], summary, one, validation, meta))
    assert {"fig-altitude", "fig-groundtrack-moon"} <= scan.ids
    assert "fig-groundtrack-earth" not in scan.ids


def test_decimation_bound_holds_on_dense_run():
    events, _, table, _, meta = synthetic_run(step_s=10.0)  # 18,360 samples
    assert table.num_rows > 3 * F.MAX_POINTS
    for fid, _h, caption, fig in R.build_figures(events, table, meta):
        assert F.plotted_points(fig) <= F.MAX_POINTS, fid
        if fid != "fig-timeline":
            assert "5,000 per figure" in caption


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=3000), st.integers(10, 800))
def test_decimate_indices_keeps_phase_ends_within_budget(labels, max_points):
    phase = np.repeat(np.array(labels), 7)
    idx = F.decimate_indices(phase, max_points)
    assert len(idx) <= max_points and np.all(np.diff(idx) > 0)
    change = np.flatnonzero(phase[1:] != phase[:-1])
    ends = np.unique(np.concatenate([[0, len(phase) - 1], change, change + 1]))
    if len(ends) < max_points:
        assert set(ends) <= set(idx)
    if len(phase) <= max_points:
        assert len(idx) == len(phase)


def test_ground_track_breaks_at_antimeridian_and_dots_shadow(run):
    cols = F.track_columns(run[2])
    fig = F.ground_track_figure(cols, "MOON", [SITE], F.phase_colours(cols.phase))
    moon = cols.body == "MOON"
    dark_points = 0
    for trace in fig.data:
        if trace.name in ("sites", "in shadow (dotted)") or trace.x is None:
            continue
        x = np.asarray(trace.x, float)
        ok = np.isfinite(x[1:]) & np.isfinite(x[:-1])
        assert np.all(np.abs(np.diff(x)[ok]) <= 180.0)  # no line drawn across the map
        if trace.line.dash == "dot":
            dark_points += np.isfinite(x).sum()
    # 60 s sampling (2880 Moon samples) is below the budget: every shadowed sample is dotted
    assert dark_points == np.count_nonzero(cols.sunlit[moon] < F.SHADOW_THRESHOLD)
    site = [t for t in fig.data if t.name == "sites"][0]
    assert (site.x[0], site.y[0]) == (SITE["lon_deg"], SITE["lat_deg"])


def test_altitude_figure_matches_orbit(run):
    cols = F.track_columns(run[2])
    fig = F.altitude_figure(cols, F.phase_colours(cols.phase))
    coast = [t for t in fig.data if t.name == "lunar_orbit_coast"][0]
    # 200 x 400 km ellipse: the plotted extremes are the apsides within sampling (60 s ≈ 0.1 km)
    assert abs(np.min(coast.y) - 200.0) < 0.5 and abs(np.max(coast.y) - 400.0) < 0.5
    assert fig.layout.yaxis.type == "linear"  # 200..400 km everywhere: no log axis needed
    assert len(fig.layout.shapes) > 0  # shadow bands


def test_summary_keys_split_into_phase_quantity_unit():
    assert R.split_summary_key("lunar_orbit_coast.mean_altitude_km") == (
        "lunar_orbit_coast", "mean altitude", "km")
    assert R.split_summary_key("descent.delta_v_m_s") == ("descent", "delta v", "m/s")
    assert R.split_summary_key("run.status") == ("run", "status", "")


def test_write_report_is_atomic(run, tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    assert R.write_report(target, "ok", *run) == target
    assert _scan(target.read_text(encoding="utf-8")).ids >= {"fig-timeline"}
    before = target.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("render failed")

    with monkeypatch.context() as patch:
        patch.setattr(R.F, "timeline_figure", broken)
        with pytest.raises(RuntimeError):
            R.write_report(target, "bad", *run)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["report.html"]
    monkeypatch.setattr(R.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(OSError):
        R.write_report(tmp_path / "new.html", "x", *run)
    assert sorted(os.listdir(tmp_path)) == ["report.html"]


def test_moon_basemap_orientation_maria_dark():
    from PIL import Image

    picture = basemap("MOON")
    assert picture is not None and basemap("MOON") is picture  # cached
    jpeg = base64.b64decode(picture.data_uri.split(",")[1])
    grey = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"), float)
    h, w = grey.shape

    def mean_at(lat_deg, lon_deg, half_deg=4.0):
        r = slice(int((90 - lat_deg - half_deg) / 180 * h), int((90 - lat_deg + half_deg) / 180 * h))
        c = slice(int((lon_deg - half_deg + 180) / 360 * w), int((lon_deg + half_deg + 180) / 360 * w))
        return grey[r, c].mean()

    # Mare Imbrium (33 N, 16 W) and Mare Crisium (17 N, 59 E) are dark; the southern
    # highlands near Maginus (50 S, 6 W) and the far side near (10 N, 160 E) are bright.
    for mare in ((33.0, -16.0), (17.0, 59.0)):
        for highland in ((-50.0, -6.0), (10.0, 160.0)):
            assert mean_at(*mare) < mean_at(*highland) - 20.0  # grey levels of 255


def test_earth_basemap_orientation():
    from PIL import Image

    picture = basemap("EARTH")
    rgb = np.asarray(Image.open(io.BytesIO(base64.b64decode(picture.data_uri.split(",")[1]))), float)
    h, w, _ = rgb.shape

    def blueness(lat_deg, lon_deg):
        px = rgb[int((90 - lat_deg) / 180 * h), int((lon_deg + 180) / 360 * w)]
        return px[2] - px[0]

    assert blueness(0.0, -140.0) > 20  # central Pacific is ocean
    assert blueness(23.0, 10.0) < 0  # Sahara is land, red above blue
    assert basemap("PLUTO") is None


# --------------------------------------------------------------------------- issue 16, item 2

from browser import check_page, find_browser  # noqa: E402

from guanghan.analysis import mission_timeline as MT  # noqa: E402
from guanghan.analysis.earth_moon_figure import earth_moon_figure  # noqa: E402
from guanghan.analysis.validation import validation_rows  # noqa: E402


@pytest.fixture(scope="module")
def ce5_page(ce5_run, tmp_path_factory):
    """The full Chang'e-5 report, rendered once for this module, and its path."""
    scenario, result = ce5_run
    rows = validation_rows(scenario, result.summary)
    text = R.render_report(result.scenario_name, result.events, result.summary, result.trajectory,
                           rows, result.meta, series=result.series)
    path = tmp_path_factory.mktemp("ce5-report") / "report.html"
    path.write_text(text, encoding="utf-8")
    return text, path


def test_every_published_milestone_name_is_known():
    """Each [timeline] name of every packaged scenario has a simulated counterpart or a reason."""
    from helpers import SCENARIOS, scenario_data

    for path in sorted(SCENARIOS.glob("*.toml")):
        for key in scenario_data(path.stem).get("timeline", {}):
            rows = MT.milestones({key: "2020-12-01T00:00:00Z"}, [], {})
            assert rows[0].note != "no simulated counterpart", (path.name, key)


def test_ce5_milestones_published_against_simulated(ce5_run):
    scenario, result = ce5_run
    rows = {m.name: m for m in MT.milestones(scenario.timeline, result.events, result.meta["legs"])}
    assert set(rows) == {k.removesuffix("_utc") for k in scenario.timeline}
    assert not rows["launch"].simulated and rows["launch"].note.startswith("not simulated")  # the rocket
    # legs start at the published epochs: the outbound corrections and LOI burns, separation, powered
    # descent, lift-off, TEI-1/2, MCCs
    for name in ("midcourse_correction_1", "loi_1", "loi_2", "lander_separation", "powered_descent_start",
                 "ascent_ignition", "tei_1", "tei_2", "trans_earth_correction_1", "trans_earth_correction_2"):
        assert abs(rows[name].difference_s) < 1.0, name
    touchdown = rows["touchdown"]                                     # published 15:11 UTC, ±5 min
    assert touchdown.phase == "lunar_descent" and abs(touchdown.difference_s) < 300.0
    landing = rows["earth_landing"]
    assert landing.event == "touchdown" and landing.phase == "entry"
    assert landing.simulated_utc == result.summary["earth_landing.utc"]
    assert MT.format_difference(91.0) == "+1 min 31 s" and MT.format_difference(-0.02) == "−0.02 s"


def test_ce5_report_sections_tables_and_one_copy_of_each_picture(ce5_page, ce5_run):
    text, _ = ce5_page
    scan = _scan(text)
    assert {"fig-milestones", "fig-earth-moon", "fig-altitude", "fig-landing-dem-lunar-descent",
            "fig-entry-track-entry", "fig-earth-landing-entry", "milestones", "validation",
            "summary"} <= scan.ids
    # pictures: each data URI once, though three maps draw on them (Moon, Earth, Earth zoomed)
    uris = re.findall(r"data:image/(?:jpeg|png);base64,[A-Za-z0-9+/=]{200,}", text)
    assert len(uris) == len(set(uris)) == 2
    assert len(re.findall(r'"source":"gh-image:', text)) >= 3
    # validation rows: full key, published, simulated, difference, tolerance, note and source
    scenario, result = ce5_run
    table = text[text.index('<section id="validation">'):text.index('<section id=', text.index('<section id="validation">') + 10)]
    for target in scenario.validation:
        assert html_escape(target.key) in table and html_escape(target.source) in table
        if target.note:
            assert html_escape(target.note) in table
    assert "<th>Note</th>" in table and "<th>Difference</th>" in table
    summary = text[text.index('<section id="summary">'):]
    assert 'class="scroll"' not in summary[:summary.index("</section>")]          # shown whole
    assert summary.count('<tr><td title="') == len(result.summary)


def html_escape(value: str) -> str:
    import html

    return html.escape(str(value))


def test_altitude_has_one_axis_per_body(run):
    cols = F.track_columns(run[2])
    fig = F.altitude_figure(cols, F.phase_colours(cols.phase))
    earth = [t for t in fig.data if t.name == "earth_parking_orbit"]
    moon = [t for t in fig.data if t.name in ("lunar_orbit_coast", "orbit_lowering")]
    assert {t.yaxis for t in earth} == {"y"} and {t.yaxis for t in moon} == {"y2"}
    # Earth 200 x 400 km, Moon 200 x 400 and 200 x 210 km: no jump from one body's to the other's
    for trace in earth + moon:
        y = np.asarray(trace.y, float)
        assert np.nanmin(y) > 199.0 and np.nanmax(y) < 401.0
    assert "Moon" in fig.layout.annotations[1].text and "Earth" in fig.layout.annotations[0].text


def test_earth_moon_figure_frames_and_frames_consistent(ce5_run):
    """Both scenes draw the same track: the Earth–Moon distance of each Moon marker and the
    vehicle's distance from the Earth are the same in the inertial and the rotating frame, and in
    the rotating frame the Moon lies on the +x axis."""
    _, result = ce5_run
    cols = F.track_columns(result.trajectory)
    fig = earth_moon_figure(cols, result.trajectory, F.phase_colours(cols.phase), frames=40)
    assert len(fig.frames) == 40 and len(fig.layout.sliders[0].steps) == 40
    assert F.plotted_points(fig) <= F.MAX_POINTS
    for frame in fig.frames:
        craft_in, moon_in, craft_rot, moon_rot = (np.array([d.x[0], d.y[0], d.z[0]], float)
                                                  for d in frame.data)
        assert abs(np.linalg.norm(craft_in) - np.linalg.norm(craft_rot)) < 1e-3 * np.linalg.norm(craft_in) + 1.0
        assert abs(np.linalg.norm(moon_in) - np.linalg.norm(moon_rot)) < 1.0           # km
        assert 356_000 < moon_rot[0] < 407_000 and abs(moon_rot[1]) < 1.0 and abs(moon_rot[2]) < 1.0


def test_earth_landing_area_puts_the_touchdown_at_the_miss_distance(ce5_run):
    _, result = ce5_run
    figures = result.figures()
    fig = figures["earth-landing-entry"]
    star = [t for t in fig.data if str(t.name).startswith("touchdown")][0]
    miss = np.hypot(star.x[0], star.y[0])
    assert abs(miss - result.summary["earth_landing.miss_km"]) < 0.02 * result.summary["earth_landing.miss_km"] + 0.05
    track = figures["entry-track-entry"]                  # zoomed on the entry, not the whole Earth
    assert track.layout.xaxis.range[1] - track.layout.xaxis.range[0] < 90.0


def test_report_renders_in_a_headless_browser(ce5_page, tmp_path):
    """Every figure of the Chang'e-5 report is drawn (plotly's SVG layers; a WebGL canvas for the
    3-D scenes; its map pictures restored from the page's store) and no script error is logged."""
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium on PATH (chromium, chromium-browser or google-chrome): the "
                    "browser test needs one; .ci/run installs Debian's chromium when it can")
    text, path = ce5_page
    result = check_page(path, browser, tmp_path)
    assert result["errors"] == []
    expected = re.findall(r'Plotly\.newPlot\("([^"]+)"', text)
    drawn = {f["id"]: f for f in result["figures"]}
    assert set(drawn) == set(expected) and len(expected) >= 25
    for f in drawn.values():
        assert f["plot"] and f["svg"] >= 1 and f["traces"] >= 1, f
        if f["gl3d"]:
            assert f["canvas"] >= 1 and not f["nowebgl"], f
    assert drawn["fig-groundtrack-earth"]["images"] == 1 and drawn["fig-entry-track-entry"]["images"] == 1
    assert drawn["fig-earth-moon"]["frames"] > 0


def test_transfer_milestones_match_the_transfer_legs_events():
    """LOI, midcourse corrections and the launch vehicle's separation are the transfer leg's own
    events; the launch itself is not flown."""
    events = [{"phase": "tr", "event": "injection", "utc": "2024-03-20T00:55:00.000Z"},
              {"phase": "tr", "event": "mcc1", "utc": "2024-03-21T00:00:30.000Z"},
              {"phase": "tr", "event": "loi1_start", "utc": "2024-03-24T16:40:00.000Z"}]
    timeline = {"launch_utc": "2024-03-20T00:31:00Z", "separation_utc": "2024-03-20T00:55:00Z",
                "midcourse_correction_1_utc": "2024-03-21T00:00:00Z",
                "near_moon_braking_utc": "2024-03-24T16:46:00Z"}
    rows = {m.name: m for m in MT.milestones(timeline, events, {"tr": "earth_moon_transfer"})}
    assert rows["separation"].difference_s == 0.0 and rows["midcourse_correction_1"].difference_s == 30.0
    assert rows["near_moon_braking"].difference_s == -360.0 and rows["near_moon_braking"].event == "loi1_start"
    assert not rows["launch"].simulated and "launch vehicle" in rows["launch"].note


def test_delta_v_budget_lists_each_manoeuvre_once_in_flight_order():
    """Single manoeuvres only (no totals, designed or impulsive-equivalent values), numbered burns in
    order, each under the vehicle that flew it; the title's total is their sum."""
    from guanghan.analysis.mission_delta_v import budget_rows, delta_v_budget_figure

    summary = {"trans_earth.tei2_delta_v_m_s": 300.0, "trans_earth.tei1_delta_v_m_s": 550.0,
               "tei.delta_v_m_s": 850.0, "transfer.mcc_delta_v_m_s": 3.0, "transfer.mcc2_delta_v_m_s": 1.0,
               "transfer.mcc1_delta_v_m_s": 2.0, "earth_moon_transfer.loi1_delta_v_m_s": 380.0,
               "earth_moon_transfer.loi1_impulsive_delta_v_m_s": 378.0, "loi.delta_v_m_s": 380.0,
               "descent.delta_v_m_s": 2000.0, "descent.total_delta_v_m_s": 2040.0,
               "descent.lowering_delta_v_m_s": 40.0, "rendezvous.phasing_designed_delta_v_m_s": 80.0,
               "trans_earth.mcc1_delta_v_m_s": float("nan")}
    rows = budget_rows(summary)
    assert [r[0] for r in rows] == ["outbound MCC-1", "outbound MCC-2", "LOI-1", "orbit lowering",
                                    "powered descent", "TEI-1", "TEI-2"]
    assert [r[1] for r in rows] == ["launch stack"] * 3 + ["lander"] * 2 + ["orbiter"] * 2
    assert delta_v_budget_figure(summary).layout.title.text.endswith(f"{2 + 1 + 380 + 40 + 2000 + 550 + 300:,} m/s")
    assert delta_v_budget_figure({"tei.delta_v_m_s": 850.0}) is None


def test_ce5_report_has_the_delta_v_budget_from_launch(ce5_page):
    text, _ = ce5_page
    assert 'id="delta-v"' in text and "outbound MCC-1" in text and "return MCC-1" in text
