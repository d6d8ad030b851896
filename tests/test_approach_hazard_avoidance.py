"""Coarse hazard avoidance in the approach (camera map at ~2 km): the safe-area score, a large
crater under the aim point, and seeded highland areas judged on the TRUE terrain at the hover
lidar's scale."""

from __future__ import annotations

import numpy as np
import pytest

from guanghan.analysis.legs.lunar_descent import approach_map_figure
from guanghan.environment import spice_kernels
from guanghan.environment import synthetic_terrain as syn
from guanghan.gnc.approach_hazard_avoidance import ApproachHazardDetection, safe_area_fraction
from guanghan.gnc.hazard_detection import check_site, detect_hazards
from guanghan.gnc.powered_descent_config import StateEstimate
from guanghan.mission.legs.lunar_descent.config import HazardDetection

CFG = HazardDetection(site_class="highland", seed=0, area_m=400.0, coarse_divert_radius_m=100.0)
ET = spice_kernels.utc_to_et("2024-06-01T22:20:00")          # Chang'e-6's approach
SITE = (-41.6385, -153.9852, -5000.0)
AT_2KM = StateEstimate(0.0, np.zeros(3), np.zeros(3), np.zeros(3), 2000.0, (0.0, 0.0))


def test_safe_area_fraction_of_simple_masks():
    hazard = np.zeros((101, 101), dtype=bool)
    hazard[:, :50] = True                                    # west half hazardous
    f = safe_area_fraction(hazard, 1.0, 10.0)
    assert f[50, 50] == pytest.approx(0.5, abs=0.04)         # on the edge: half the disc
    assert f[50, 80] == pytest.approx(1.0)                   # clear of it
    assert f[50, 20] == pytest.approx(0.0, abs=1e-9)
    corner = safe_area_fraction(np.zeros((101, 101), dtype=bool), 1.0, 10.0)[0, 0]
    assert corner == pytest.approx(0.25, abs=0.04)           # outside the map counts as hazard


def _crater_terrain(diameter_m: float) -> syn.SyntheticTerrain:
    """A flat 400 m area with one fresh simple crater at the aim point (Pike 1977 shape, as
    :mod:`guanghan.environment.synthetic_terrain`: depth 0.196 D, rim 0.036 D, parabolic bowl,
    ejecta ∝ r⁻³ to 3 R)."""
    res, n = 0.25, 1600
    axis = (np.arange(n) - 0.5 * (n - 1)) * res
    xx, yy = np.meshgrid(axis, axis)
    r, radius = np.hypot(xx, yy), 0.5 * diameter_m
    d, h = 0.196 * diameter_m, 0.036 * diameter_m
    z = np.where(r < radius, -d + (d + h) * (r / radius) ** 2,
                 np.where(r < 3 * radius, h * (np.maximum(r, radius) / radius) ** -3, 0.0))
    return syn.SyntheticTerrain(axis, axis.copy(), z, z, np.zeros(0, syn.ROCK_DTYPE),
                                np.zeros(0, syn.CRATER_DTYPE), res, None, "highland",
                                (diameter_m, diameter_m), (0.2, 4.0))


def test_a_crater_under_the_aim_point_is_left():
    """A 60 m crater centred on the aim: the camera map moves the hover out of it, to level
    ground with the most room for the hover's divert."""
    terrain = _crater_terrain(60.0)
    coarse = ApproachHazardDetection(terrain, CFG, *SITE, ET, np.random.default_rng(1))
    x, y = coarse(AT_2KM)
    f = coarse.figures
    print(f"\n60 m crater at the aim: re-targeted {f['retarget_m']:.1f} m, safe-area fraction "
          f"{f['aim_score']:.2f} at the aim → {f['score']:.2f} (GSD {coarse.gsd_m:.2f} m)")
    assert 1.5 < coarse.gsd_m < 1.6                          # 2 km × 0.77 mrad
    assert f["aim_score"] < 0.6 and f["score"] > 0.9       # (the bowl's floor is level)
    assert 30.0 < f["retarget_m"] <= CFG.coarse_divert_radius_m
    assert check_site(terrain, x, y, 4.0, 0.25, 8.0).safe
    assert not check_site(terrain, 20.0, 0.0, 4.0, 0.25, 8.0).safe     # the crater wall
    table = coarse.map_table()                               # the report's map
    assert table.num_rows > 1000 and table.column("hazard").to_numpy().any()
    fig = approach_map_figure(table, (x, y), None)
    assert [t.name for t in fig.data][2:] == ["aim point (LROC site)", "approach re-target"]
    fig.to_json()


def _true_safe_fraction(terrain, x, y, sun):
    """Fraction of the hover's divert disc around (x, y) that is safe on the TRUE terrain at
    the hover lidar's scale (no noise)."""
    w = syn.crop(terrain, x, y, CFG.divert_radius_m + CFG.footprint_diameter_m)
    r = detect_hazards(w, divert_radius_m=CFG.divert_radius_m, sun_elevation_deg=sun[0],
                       sun_azimuth_deg=sun[1], aim_x_m=x, aim_y_m=y, lidar_resolution_m=0.25,
                       range_noise_m=0.0, site_margin_m=CFG.site_margin_m, seed=0)
    xx, yy = np.meshgrid(r.x_m, r.y_m)
    return float(r.safe[np.hypot(xx - x, yy - y) <= CFG.divert_radius_m].mean())


def test_highland_areas_have_more_safe_ground_around_the_coarse_choice():
    """10 seeded highland areas (400 m, 3° regional slope): the hover area the camera map picks
    holds more safe ground on the true terrain than the one around the aim point, on average."""
    rows = []
    for seed in range(10):
        terrain = syn.generate(seed, site_class="highland", size_m=400.0, resolution_m=0.25,
                               regional_slope_deg=3.0, regional_aspect_deg=90.0)
        coarse = ApproachHazardDetection(terrain, CFG, *SITE, ET, np.random.default_rng(seed))
        x, y = coarse(AT_2KM)
        assert coarse.figures["retarget_m"] <= CFG.coarse_divert_radius_m + coarse.gsd_m
        assert coarse.figures["score"] >= coarse.figures["aim_score"]
        rows.append((_true_safe_fraction(terrain, 0.0, 0.0, coarse.sun),
                     _true_safe_fraction(terrain, x, y, coarse.sun), coarse.figures["retarget_m"]))
    at_aim, at_choice, moved = np.array(rows).T
    print(f"\nTrue safe fraction of the hover's 50 m disc over 10 highland areas: around the aim "
          f"{at_aim.mean():.4f}, around the coarse choice {at_choice.mean():.4f} "
          f"({100 * (at_choice.mean() / at_aim.mean() - 1):+.0f} %); better in "
          f"{int(np.sum(at_choice > at_aim))}/10; re-targeting median {np.median(moved):.0f} m")
    assert at_choice.mean() > 1.1 * at_aim.mean()
