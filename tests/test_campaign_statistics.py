"""Tests of the campaign statistics and the campaign report (guanghan.analysis.campaign_statistics,
campaign_report).

Independent truths: Newcombe (1998), Stat. Med. 17:857-872, Table I (methods 3, Wilson score, and
5, Clopper-Pearson) for the intervals; the Wilson interval as the roots of its score-test quadratic
with z from the standard library's NormalDist (no scipy); closed forms of the Clopper-Pearson ends
at 0/n and n/n; great-circle distances by the haversine formula; and seeded draws from a known
2-D Gaussian for the ellipse. Campaign tables are synthetic, built here in the runner's schema.
"""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from helpers import external_links
from scipy import stats

from guanghan.analysis import campaign_statistics as S
from guanghan.analysis.campaign_report import render_campaign_report, write_campaign_report
from guanghan.errors import InputError

R_MOON_M, R_EARTH_M = 1_737_400.0, 6_371_000.0
CE5_SITE_DEG = (43.06, -51.92)          # Chang'e-5 landing site, Mons Rümker area
SIZIWANG_DEG = (42.0, 111.4)            # Chang'e-5 return capsule landing area, Inner Mongolia
LEGS = ["descent", "surface", "ascent", "rendezvous", "trans_earth", "entry"]
LEG_TYPES = {"descent": "lunar_descent", "surface": "surface_operations", "ascent": "lunar_ascent",
             "rendezvous": "lunar_rendezvous", "trans_earth": "trans_earth", "entry": "earth_entry"}


# --------------------------------------------------------------------------- tables

def _metadata(n, legs=LEGS) -> dict:
    return {b"campaign": json.dumps({
        "scenario": "chang-e-5", "scenario_sha256": "ab" * 32, "campaign_seed": 20201124,
        "samples": n, "legs": legs, "leg_types": {k: LEG_TYPES.get(k, "x") for k in legs},
        "dispersions": [{"path": "modules.lander.engines.descent.thrust_n",
                         "distribution": "normal", "mean": 7500.0, "sigma": 150.0},
                        {"path": "modules.lander.engine_mode", "distribution": "choice",
                         "values": ["nominal", "degraded"]}],
        "guanghan_version": "0.2.0"}).encode()}


def _local_to_lat_lon(east_m, north_m, site_deg, radius_m):
    """Small-offset local plane to lat/lon (deg), written independently of the module."""
    lat0 = math.radians(site_deg[0])
    return (site_deg[0] + np.degrees(north_m / radius_m),
            site_deg[1] + np.degrees(east_m / (radius_m * math.cos(lat0))))


def _campaign(n=400, seed=7, all_failed=False) -> pa.Table:
    """A synthetic campaign: descent fails at low thrust, some rendezvous timeouts, one error
    with no leg, a few invalid samples; figures null after the failing leg."""
    rng = np.random.default_rng(seed)
    thrust = rng.normal(7500.0, 150.0, n)
    mode = rng.choice(["nominal", "degraded"], n)
    isp = rng.normal(315.0, 3.0, n)
    outcome, leg, reason = ["completed"] * n, [None] * n, [None] * n
    for i in range(n):
        if i % 97 == 5:
            outcome[i], reason[i] = "invalid", f"thrust_n = {thrust[i]:.1f}: refused"
        elif thrust[i] < 7250.0 or all_failed:
            outcome[i], leg[i] = "failed", "descent"
            reason[i] = f"propellant exhausted {7500 - thrust[i]:.1f} m above the surface"
        elif i % 53 == 3:
            outcome[i], leg[i], reason[i] = "timeout", "rendezvous", "leg rendezvous: 600.0 s"
        elif i == 11:
            outcome[i], reason[i] = "error", "worker lost"
    landed = np.array([outcome[i] not in ("invalid", "error") and leg[i] != "descent"
                       for i in range(n)])
    home = np.array([outcome[i] == "completed" for i in range(n)])
    east, north = rng.multivariate_normal([0, 0], [[250.0**2, 0], [0, 120.0**2]], n).T
    m_lat, m_lon = _local_to_lat_lon(east, north, CE5_SITE_DEG, R_MOON_M)
    e_lat, e_lon = _local_to_lat_lon(*rng.normal(0, 8e3, (2, n)), SIZIWANG_DEG, R_EARTH_M)
    margin = 0.12 * (thrust - 7300.0) + rng.normal(0, 2, n)

    def where(mask, values):
        return pa.array([float(v) if m else None for v, m in zip(values, mask)], pa.float64())

    columns = {
        "index": pa.array(np.arange(n), pa.int64()), "seed": pa.array(np.arange(n) + 10**9),
        "outcome": pa.array(outcome), "failed_leg": pa.array(leg, pa.string()),
        "reason": pa.array(reason, pa.string()), "wall_s": pa.array(rng.uniform(20, 40, n)),
        "input:modules.lander.engines.descent.thrust_n": pa.array(thrust),
        "input:modules.lander.engine_mode": pa.array(mode),
        "input:modules.ascender.engine.isp_s": pa.array(isp),
        "lunar_landing.lat_deg": where(landed, m_lat),
        "lunar_landing.lon_deg": where(landed, m_lon),
        "lunar_landing.touchdown_speed_m_s": where(landed, rng.normal(1.5, 0.2, n)),
        "lunar_landing.hazard_free": pa.array([bool(v) if m else None for v, m in
                                               zip(rng.random(n) > 0.05, landed)], pa.bool_()),
        "lunar_landing.utc": pa.array(["2020-12-01T15:11:00Z" if m else None for m in landed]),
        "descent.propellant_margin_kg": where(landed | (np.array(leg) == "descent"), margin),
        "earth_landing.lat_deg": where(home, e_lat), "earth_landing.lon_deg": where(home, e_lon),
        "earth_landing.miss_km": where(home, np.abs(rng.normal(0, 8, n))),
        "entry.peak_g": where(home, rng.normal(5.0, 0.3, n)),
    }
    return pa.table(columns).replace_schema_metadata(_metadata(n))


# --------------------------------------------------------------------------- intervals

NEWCOMBE_TABLE_I = [  # (x, n, method 3 Wilson score, method 5 Clopper-Pearson), 95 %
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0000, 0.1611), (0.0000, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
]


@pytest.mark.parametrize(("x", "n", "wilson", "exact"), NEWCOMBE_TABLE_I)
def test_intervals_match_newcombe_table_i(x, n, wilson, exact):
    assert S.wilson_interval(x, n) == pytest.approx(wilson, abs=5e-5)  # printed to 4 decimals
    assert S.clopper_pearson_interval(x, n) == pytest.approx(exact, abs=5e-5)
    assert S.proportion_interval(x, n, method="clopper-pearson") == S.clopper_pearson_interval(x, n)


@pytest.mark.parametrize(("x", "n", "confidence"),
                         [(1, 3, 0.95), (7, 10, 0.9), (912, 1000, 0.95), (499, 500, 0.99),
                          (50, 100, 0.8)])
def test_wilson_is_the_inverted_score_test(x, n, confidence):
    """The ends are the roots in p of (p̂ - p)² = z² p (1 - p) / n (Wilson 1927), z from the
    standard library: (n + z²) p² - (2x + z²) p + x²/n = 0."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    roots = np.sort(np.roots([n + z * z, -(2 * x + z * z), x * x / n]).real)
    assert S.wilson_interval(x, n, confidence) == pytest.approx(tuple(roots), abs=1e-12)


@pytest.mark.parametrize("n", [1, 5, 40, 1000])
def test_clopper_pearson_edges_against_beta_and_closed_form(n):
    """0/n: upper end = B(0.975; 1, n) = 1 - 0.025^(1/n); n/n: lower end = B(0.025; n, 1) =
    0.025^(1/n)."""
    low0, high0 = S.clopper_pearson_interval(0, n)
    lown, highn = S.clopper_pearson_interval(n, n)
    assert low0 == 0.0 and highn == 1.0
    assert high0 == pytest.approx(stats.beta.ppf(0.975, 1, n), rel=1e-12)
    assert high0 == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-10)
    assert lown == pytest.approx(stats.beta.ppf(0.025, n, 1), rel=1e-12)
    assert lown == pytest.approx(0.025 ** (1 / n), rel=1e-10)
    assert S.wilson_interval(0, n)[0] == 0.0 and S.wilson_interval(n, n)[1] == 1.0


def test_interval_refusals_and_empty_sample():
    assert all(math.isnan(v) for v in S.wilson_interval(0, 0))
    assert all(math.isnan(v) for v in S.clopper_pearson_interval(0, 0))
    for args, field in (((5, 3), "successes"), ((-1, 3), "successes"), ((1, -2), "n"),
                        ((1.5, 3), "successes"), ((1, 3, 1.0), "confidence")):
        with pytest.raises(InputError) as err:
            S.wilson_interval(*args)
        assert err.value.quantity == field
    with pytest.raises(InputError) as err:
        S.proportion_interval(1, 3, method="wald")
    assert err.value.quantity == "method"


# --------------------------------------------------------------------------- ellipse

def _haversine_m(lat1, lon1, lat2, lon2, radius_m):
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * radius_m * np.arcsin(np.sqrt(h))


def test_tangent_plane_keeps_distance_and_azimuth_and_inverts():
    rng = np.random.default_rng(3)
    lat = SIZIWANG_DEG[0] + rng.uniform(-2, 2, 500)
    lon = SIZIWANG_DEG[1] + rng.uniform(-2, 2, 500)
    east, north = S.local_east_north_m(lat, lon, *SIZIWANG_DEG, R_EARTH_M)
    distance = _haversine_m(*SIZIWANG_DEG, lat, lon, R_EARTH_M)
    assert np.max(np.abs(np.hypot(east, north) - distance)) < 1e-6  # 1 µm over ≤ 300 km
    back_lat, back_lon = S.local_lat_lon_deg(east, north, *SIZIWANG_DEG, R_EARTH_M)
    assert np.max(np.abs(back_lat - lat)) < 1e-11 and np.max(np.abs(back_lon - lon)) < 1e-11
    e, n = S.local_east_north_m(SIZIWANG_DEG[0] + 0.1, SIZIWANG_DEG[1], *SIZIWANG_DEG, R_EARTH_M)
    assert abs(e) < 1e-6 and n == pytest.approx(R_EARTH_M * np.radians(0.1), rel=1e-12)  # due north


@pytest.mark.parametrize(("site", "radius_m", "major_m", "minor_m", "azimuth_deg"),
                         [(CE5_SITE_DEG, R_MOON_M, 800.0, 300.0, 30.0),
                          ((-41.6, -153.98), R_MOON_M, 2000.0, 1500.0, 120.0),   # Chang'e-6 site
                          (SIZIWANG_DEG, R_EARTH_M, 12e3, 4e3, 75.0),
                          ((10.0, 179.99), R_EARTH_M, 5e3, 2e3, 150.0)])       # across ±180°
def test_ellipse_recovers_a_known_gaussian(site, radius_m, major_m, minor_m, azimuth_deg):
    """20,000 draws of a Gaussian with 1-σ axes major_m, minor_m, the major axis at azimuth_deg
    from north: 99 % semi-axes = σ √(-2 ln 0.01) within 2 %, orientation within 1°, and the share
    of points inside within 3 binomial standard deviations (0.2 %) of 99 %."""
    rng = np.random.default_rng(20201201)
    az = np.radians(azimuth_deg)
    u, v = np.array([np.sin(az), np.cos(az)]), np.array([np.cos(az), -np.sin(az)])
    cov = major_m**2 * np.outer(u, u) + minor_m**2 * np.outer(v, v)
    east, north = rng.multivariate_normal([0.0, 0.0], cov, 20_000).T
    lat, lon = S.local_lat_lon_deg(east, north, *site, radius_m)
    ell = S.dispersion_ellipse(lat, lon, 0.99, radius_m=radius_m)
    k = math.sqrt(-2 * math.log(0.01))
    assert ell.n == 20_000
    assert ell.semi_major_m == pytest.approx(k * major_m, rel=0.02)
    assert ell.semi_minor_m == pytest.approx(k * minor_m, rel=0.02)
    assert abs((ell.orientation_deg - azimuth_deg + 90) % 180 - 90) < 1.0
    assert _haversine_m(ell.centre_lat_deg, ell.centre_lon_deg, *site, radius_m) < 0.03 * minor_m
    assert abs(np.mean(ell.contains(lat, lon)) - 0.99) < 0.002
    # the drawn outline lies on the ellipse: Mahalanobis² = χ²₂(0.99) = -2 ln 0.01
    assert np.allclose(ell.mahalanobis2(ell.outline_lat_deg, ell.outline_lon_deg), k * k, rtol=1e-6)


def test_ellipse_needs_three_points_and_refuses_bad_input():
    assert S.dispersion_ellipse([1.0, 1.1], [2.0, 2.1], radius_m=R_MOON_M) is None
    assert S.dispersion_ellipse([1.0, np.nan, 1.1, 2], [2.0, 2.0, np.nan, 2],
                                radius_m=R_MOON_M) is None
    assert S.dispersion_ellipse([], [], radius_m=R_MOON_M) is None
    with pytest.raises(InputError) as err:
        S.dispersion_ellipse([1, 2, 3], [1, 2, 3], 1.0, radius_m=R_MOON_M)
    assert err.value.quantity == "probability"
    with pytest.raises(InputError) as err:
        S.dispersion_ellipse([1, 2, 3], [1, 2, 3], radius_m=0.0)
    assert err.value.quantity == "radius_m"


# --------------------------------------------------------------------------- tables

def _hand_table(outcomes, legs, reasons=None, figures=None, meta_legs=("A", "B", "C")):
    n = len(outcomes)
    cols = {"index": pa.array(range(n), pa.int64()), "outcome": pa.array(outcomes),
            "failed_leg": pa.array(legs, pa.string()),
            "reason": pa.array(reasons or [None] * n, pa.string())}
    cols.update(figures or {})
    meta = {b"campaign": json.dumps({"legs": list(meta_legs), "leg_types": {"A": "a"}}).encode()}
    return pa.table(cols).replace_schema_metadata(meta)


def test_leg_success_by_hand():
    """10 samples over legs A, B, C: 5 complete, 1 fails in A, 2 in B (one by timeout), an error
    names no leg and one sample is invalid. Flown 9; A reached by 8 (the unlocated error left
    out), B by 7, C by 5; overall 5/9."""
    table = _hand_table(
        ["completed"] * 5 + ["failed", "failed", "timeout", "error", "invalid"],
        [None] * 5 + ["A", "B", "B", None, "A"])
    rows = S.leg_success(table)
    got = [(r["leg"], r["reached"], r["succeeded"], r["failed"]) for r in rows]
    assert got == [("A", 8, 7, 1), ("B", 7, 5, 2), ("C", 5, 5, 0), ("overall", 9, 5, 4)]
    assert rows[0]["leg_type"] == "a" and rows[-1]["unlocated"] == 1 and rows[-1]["invalid"] == 1
    assert rows[1]["probability"] == pytest.approx(5 / 7)
    assert rows[1]["interval"] == S.wilson_interval(5, 7)
    assert S.leg_success(table, method="clopper-pearson")[1]["interval"] == \
        S.clopper_pearson_interval(5, 7)
    # with every failure located, the legs' conditional probabilities multiply to the overall one
    located = S.leg_success(_campaign(n=300).filter(pc.field("outcome") != "error"))
    product = np.prod([r["probability"] for r in located[:-1]])
    assert located[-1]["unlocated"] == 0 and product == pytest.approx(located[-1]["probability"])


def test_leg_success_refusals():
    with pytest.raises(InputError) as err:
        S.leg_success(_hand_table(["completed", "crashed"], [None, "A"]))
    assert err.value.quantity == "outcome" and err.value.value == "crashed"
    with pytest.raises(InputError) as err:
        S.leg_success(_hand_table(["completed"], [None], meta_legs=()))
    assert err.value.quantity == "legs"


def test_figure_statistics_skip_bookkeeping_inputs_and_text_and_ignore_nulls():
    values = [3.0, None, 1.0, float("nan"), 2.0, float("inf"), 10.0]
    n = len(values)
    table = _hand_table(["completed"] * n, [None] * n, figures={
        "wall_s": pa.array(np.ones(n)), "input:x.y_m": pa.array(np.ones(n)),
        "descent.propellant_margin_kg": pa.array(values, pa.float64()),
        "lunar_landing.hazard_free": pa.array([True, False, None, True, True, True, False]),
        "surface.count": pa.array([1, 2, 3, 4, 5, 6, None], pa.int64()),
        "lunar_landing.utc": pa.array(["2020-12-01T15:11:00Z"] * n),
        "entry.miss_km": pa.array([None] * n, pa.null())})
    by = {r["figure"]: r for r in S.figure_statistics(table)}
    assert list(by) == ["descent.propellant_margin_kg", "lunar_landing.hazard_free",
                        "surface.count", "entry.miss_km"]
    finite = np.array([3.0, 1.0, 2.0, 10.0])
    m = by["descent.propellant_margin_kg"]
    assert (m["count"], m["non_finite"]) == (4, 1)
    assert m["mean"] == pytest.approx(4.0) and m["std"] == pytest.approx(np.std(finite, ddof=1))
    assert (m["min"], m["max"], m["p50"]) == (1.0, 10.0, 2.5)
    assert m["p95"] == pytest.approx(3.0 + 0.85 * 7.0)  # linear between order statistics 3 and 10
    assert by["lunar_landing.hazard_free"]["mean"] == pytest.approx(4 / 6)
    assert by["entry.miss_km"]["count"] == 0 and math.isnan(by["entry.miss_km"]["p50"])
    margins = S.propellant_margins(_hand_table(["completed"] * 5, [None] * 5, figures={
        "ascent.propellant_margin_kg": pa.array([-1.0, 2.0, None, 5.0, -0.5])}))
    assert margins[0]["negative"] == 2 and margins[0]["fraction_negative"] == pytest.approx(0.5)
    assert margins[0]["min"] == -1.0 and margins[0]["median"] == pytest.approx(0.75)


def test_failure_table_groups_reasons_that_differ_only_in_numbers():
    table = _hand_table(
        ["failed", "failed", "failed", "timeout", "completed", "invalid"],
        ["B", "B", "B", "A", None, None],
        ["landed 12.3 km from X", "landed 40.1 km from X", "TEI-2 burn used -3.5e-1 kg",
         "leg A: 600 s", None, "thrust_n = 10: too low"])
    rows = S.failure_table(table)
    assert [(r["outcome"], r["failed_leg"], r["reason"], r["count"]) for r in rows] == [
        ("failed", "B", "landed # km from X", 2), ("failed", "B", "TEI-2 burn used # kg", 1),
        ("invalid", None, "thrust_n = #: too low", 1), ("timeout", "A", "leg A: # s", 1)]
    assert rows[0]["example"] == "landed 12.3 km from X" and rows[0]["first_index"] == 0
    assert rows[0]["fraction"] == pytest.approx(2 / 6)
    assert len(S.failure_table(table, group_numbers=False)) == 5


def test_rank_correlations_find_the_driving_input():
    table = _campaign(n=300)
    ranked = S.rank_correlations(table, "descent.propellant_margin_kg")
    assert ranked[0]["input"] == "input:modules.lander.engines.descent.thrust_n"
    assert ranked[0]["rho"] > 0.9 and abs(ranked[1]["rho"]) < 0.2
    assert ranked[-1]["input"] == "input:modules.lander.engine_mode"
    assert math.isnan(ranked[-1]["rho"])


# --------------------------------------------------------------------------- report

def _check_page(page: str, plots: int):
    """A whole page, plotly.js and the picture store inlined once plus one script per plot, nothing
    fetched."""
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count('<figure class="plot">') == plots
    assert page.count("<script") == 2 + plots and external_links(page) == []   # plotly.js, pictures
    assert "Overall success" in page


def test_report_of_a_normal_campaign(tmp_path):
    table = _campaign()
    overall = S.leg_success(table)[-1]
    page = render_campaign_report(table)
    _check_page(page, 4)  # Moon and Earth maps, histograms, inputs
    for sid in ("success", "failures", "moon-landing", "earth-landing", "figures", "inputs",
                "percentiles", "dispersions"):
        assert f'id="{sid}"' in page
    assert f"{100 * overall['probability']:.1f} %" in page
    assert "propellant exhausted # m above the surface" in page
    assert 'id="fig-moon-landing"' in page and "99 % ellipse" in page
    assert "modules.lander.engines.descent.thrust_n" in page
    # written atomically: the file, and no temporary left beside it
    path = write_campaign_report(table, tmp_path / "campaign.html")
    assert path.read_text(encoding="utf-8") == page and [p.name for p in tmp_path.iterdir()] == [
        "campaign.html"]


def test_report_when_every_sample_failed():
    table = _campaign(n=60, all_failed=True)
    assert S.leg_success(table)[-1]["succeeded"] == 0
    page = render_campaign_report(table)
    _check_page(page, 2)  # histograms and inputs of the descent margin, no landing map
    assert "No sample produced a landing point." in page and "Every sample completed" not in page
    assert "0.0 %" in page


def test_report_of_one_sample_and_of_all_null_figures():
    one = _campaign(n=1)
    assert one.column("outcome").to_pylist() == ["completed"]
    page = render_campaign_report(one)
    _check_page(page, 4)
    assert "at least 3 are needed" in page
    nulls = {f.name: pa.nulls(4) for f in _campaign(n=4).schema if "." in f.name
             and not f.name.startswith("input:")}
    table = _hand_table(["failed"] * 4, ["A"] * 4, ["boom"] * 4, figures=nulls)
    page = render_campaign_report(table, method="clopper-pearson")
    _check_page(page, 0)
    assert "Clopper–Pearson" in page and "No sample produced a numeric figure." in page
    bare = pa.table({"outcome": ["completed", "failed"], "failed_leg": [None, "X"]})
    page = render_campaign_report(bare)  # no metadata, no legs, no figures
    _check_page(page, 0)
    assert "lists no legs" in page and "50.0 %" in page
