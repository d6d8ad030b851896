"""Landing-site ranking from the global DEM, the Sun and the Earth (SPICE, DE440)."""

from __future__ import annotations

import numpy as np
import pytest

from guanghan.environment import lunar_dem, spice_kernels
from guanghan.environment.lunar_dem import TerrainError
from guanghan.gnc import landing_site_ranking as lsr

CE5 = (43.0576, -51.9161)          # Chang'e-5, Mons Rümker region (near side)
CE6 = (-41.6385, -153.9852)        # Chang'e-6, Apollo basin (far side)
CE5_LANDING = "2020-12-01T15:11:00"
SIDEREAL_MONTH_S = 27.321661 * 86400.0


def test_far_side_more_rugged_than_near_side():
    """Flat fraction within 100 km at the DEM's own scale (3.8 km pixels): CE-5 > CE-6."""
    rows = []
    for limit in (1.0, 2.0, 5.0):
        f5 = lsr.flat_fraction(*CE5, 100.0, limit)
        f6 = lsr.flat_fraction(*CE6, 100.0, limit)
        rows.append((limit, f5, f6))
    print("\nflat fraction within 100 km (DEM-scale slope, 3.79 km pixels):")
    for limit, f5, f6 in rows:
        print(f"  slope < {limit:.0f} deg: Chang'e-5 {f5:.3f}  Chang'e-6 {f6:.3f}")
    assert all(0.0 <= f <= 1.0 for row in rows for f in row[1:])
    assert rows[1][1] > rows[1][2]                           # at 2°
    assert rows[0][1] > rows[0][2] and rows[2][1] >= rows[2][2]


def test_earth_visibility_near_and_far_side():
    """Over a sidereal month (every 6 h): Earth always below the CE-6 horizon, always above CE-5's."""
    et0 = spice_kernels.utc_to_et(CE5_LANDING)
    ets = et0 + np.arange(0.0, SIDEREAL_MONTH_S, 6 * 3600.0)
    el5, _ = lsr.body_elevation_azimuth_deg("EARTH", *CE5, ets)
    el6, _ = lsr.body_elevation_azimuth_deg("EARTH", *CE6, ets)
    print(f"\nEarth elevation over a month: CE-5 {el5.min():.1f}..{el5.max():.1f} deg, "
          f"CE-6 {el6.min():.1f}..{el6.max():.1f} deg")
    assert el6.max() < 0.0
    assert el5.min() > 0.0
    # Mean geometry (sub-Earth point at 0°, 0°): sin el = cos φ cos λ → 26.7°; libration moves the
    # sub-Earth point by up to ~8° in longitude and ~7° in latitude.
    mean_el = np.rad2deg(np.arcsin(np.cos(np.deg2rad(CE5[0])) * np.cos(np.deg2rad(CE5[1]))))
    assert abs(el5.mean() - mean_el) < 3.0
    assert np.all(np.abs(el5 - mean_el) < 10.0)


def test_sun_at_chang_e_5_landing():
    """Sun above the horizon, in the east (local morning) at the CE-5 landing.

    Independent estimate: full Moon at 2020-11-30T09:30Z puts the sub-solar point near 0° E; it
    moves west at 360°/29.53 d, so 1.24 d later it is near 15° W and the Sun stands at
    asin(cos 43.06° · cos(51.92° − 15°)) ≈ 36° (± the ~8° libration of the sub-solar longitude).
    """
    et = spice_kernels.utc_to_et(CE5_LANDING)
    el, az = lsr.body_elevation_azimuth_deg("SUN", *CE5, et)
    el, az = float(el[0, 0]), float(az[0, 0])
    days = (et - spice_kernels.utc_to_et("2020-11-30T09:30:00")) / 86400.0
    lon_ss = -360.0 / 29.530589 * days
    estimate = np.rad2deg(np.arcsin(np.cos(np.deg2rad(CE5[0])) * np.cos(np.deg2rad(CE5[1] - lon_ss))))
    print(f"\nSun at CE-5 landing {CE5_LANDING}Z: elevation {el:.1f} deg, azimuth {az:.1f} deg "
          f"(full-Moon estimate {estimate:.1f} deg)")
    assert el > 0.0
    assert 0.0 < az < 180.0                                   # eastern sky: morning
    assert abs(el - estimate) < 8.0


def test_rank_sites_box_and_scale():
    et = spice_kernels.utc_to_et(CE5_LANDING)
    table = lsr.rank_sites(42.0, 44.0, -53.0, -51.0, et, stay_s=2 * 86400.0, n_stay_samples=9)
    assert table.dtype == lsr.CANDIDATE_DTYPE
    assert len(table) == 16 * 16
    assert np.all(np.diff(table["score"]) >= 0.0)              # sorted, best first
    assert np.all((table["lat_deg"] > 42.0) & (table["lat_deg"] < 44.0))
    np.testing.assert_allclose(table["dem_pixel_ns_m"], lunar_dem.PIXEL_NS_M)
    assert np.all(table["sun_elevation_min_deg"] <= table["sun_elevation_deg"] + 1e-12)
    assert np.all(table["sun_elevation_deg"] <= table["sun_elevation_max_deg"] + 1e-12)
    assert table["earth_visible"].all() and table["sunlit_whole_stay"].all()
    best = table[0]
    assert best["slope_deg"] == pytest.approx(lunar_dem.slope_deg(best["lat_deg"], best["lon_deg"]))
    assert "DEM" in lsr.SCALE_NOTE and "not the slope under a lander footprint" in lsr.SCALE_NOTE
    # Far-side box: every candidate is penalised for no direct Earth link.
    far = lsr.rank_sites(-43.0, -40.0, -156.0, -152.0, et, stay_s=0.0, max_candidates=10)
    assert len(far) == 10 and not far["earth_visible"].any()
    assert np.all(far["score"] >= lsr.INFEASIBLE_PENALTY)


def test_box_across_the_date_line():
    et = spice_kernels.utc_to_et(CE5_LANDING)
    table = lsr.rank_sites(-1.0, 1.0, 179.0, -179.0, et, stay_s=0.0)
    assert (table["lon_deg"] > 178.9).any() and (table["lon_deg"] < -178.9).any()
    assert np.all(np.abs(table["lon_deg"]) > 178.9)


def test_bad_input():
    with pytest.raises(TerrainError) as err:
        lsr.flat_fraction(*CE5, -5.0, 2.0)
    assert err.value.field == "radius_km"
    with pytest.raises(TerrainError) as err:
        lsr.flat_fraction(*CE5, 100.0, 0.0)
    assert err.value.field == "slope_limit_deg"
    with pytest.raises(TerrainError) as err:
        lsr.rank_sites(0.0, 1.0, 0.0, 1.0, float("nan"))
    assert err.value.field == "et"
    with pytest.raises(TerrainError) as err:
        lsr.rank_sites(0.0, 0.05, 0.0, 0.05, 0.0)
    assert err.value.field == "lat/lon box"
