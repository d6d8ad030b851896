"""Synthetic hover-area terrain: determinism, crater SFD, Golombek–Rapp rocks, roughness, tilt."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.ndimage import uniform_filter

from guanghan.environment import synthetic_terrain as syn
from guanghan.environment.lunar_dem import TerrainError

SIZE = 200.0


@pytest.fixture(scope="module")
def terrains():
    """Three 200 m × 200 m realisations per class at 0.25 m."""
    return {cls: [syn.generate(seed, site_class=cls, size_m=SIZE) for seed in (11, 12, 13)]
            for cls in ("mare", "highland")}


def _inside(items, half):
    return items[(np.abs(items["x_m"]) <= half) & (np.abs(items["y_m"]) <= half)]


def test_same_seed_identical_different_seed_differs():
    a = syn.generate(7, site_class="highland", size_m=60.0)
    b = syn.generate(7, site_class="highland", size_m=60.0)
    c = syn.generate(8, site_class="highland", size_m=60.0)
    assert np.array_equal(a.height_m, b.height_m)            # bit-identical
    assert np.array_equal(a.rocks, b.rocks) and np.array_equal(a.craters, b.craters)
    assert not np.array_equal(a.height_m, c.height_m)
    g = syn.generate(np.random.default_rng(7), site_class="highland", size_m=60.0)
    assert np.array_equal(g.height_m, a.height_m) and g.seed is None and a.seed == 7
    assert a.height_m.shape == (240, 240) and a.resolution_m == 0.25
    np.testing.assert_allclose(a.x_m[[0, -1]], [-29.875, 29.875])


@pytest.mark.parametrize("cls", ["mare", "highland"])
def test_crater_sfd_matches_equilibrium_model(terrains, cls):
    """Counts per diameter bin of craters centred in the box follow N(≥D) = K D⁻² within Poisson."""
    half = SIZE / 2
    ts = terrains[cls]
    d = np.concatenate([_inside(t.craters, half)["diameter_m"] for t in ts])
    area = len(ts) * SIZE**2
    k = syn.SITE_CLASSES[cls].crater_k
    lo, hi = ts[0].crater_diameter_range_m
    edges = np.array([lo, 2 * lo, 4 * lo, 8 * lo, 16 * lo, 32 * lo, hi])
    observed = np.histogram(d, edges)[0]
    expected = k * area * (edges[:-1] ** -2.0 - edges[1:] ** -2.0)
    print(f"\n{cls} crater counts per bin {np.round(edges, 1).tolist()}: observed {observed.tolist()}, "
          f"expected {np.round(expected, 1).tolist()}")
    assert np.all(np.abs(observed - expected) <= 4.0 * np.sqrt(expected) + 1.0)
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    assert chi2 < 20.5                                          # p ≈ 0.002 for 6 degrees of freedom
    # Fresh and degraded craters: depth/diameter spans 0.02 … 0.196 (Pike 1977 fresh value).
    ratio = ts[0].craters["depth_m"] / ts[0].craters["diameter_m"]
    assert ratio.max() <= syn.FRESH_DEPTH_RATIO + 1e-12 and ratio.min() >= 0.1 * syn.FRESH_DEPTH_RATIO - 1e-12
    assert ratio.max() > 0.15 and ratio.min() < 0.03


@pytest.mark.parametrize("cls", ["mare", "highland"])
def test_rock_cumulative_area_matches_golombek_rapp(terrains, cls):
    """Realised cumulative fractional area of rocks ≥ D vs k e^(−qD) (truncated at D_max), within
    4σ of the compound-Poisson sampling error σ² = ∫ (πx²/4)² n(x) dx / A."""
    half = SIZE / 2
    ts = terrains[cls]
    rocks = np.concatenate([_inside(t.rocks, half) for t in ts])
    area = len(ts) * SIZE**2
    k = syn.SITE_CLASSES[cls].rock_abundance
    q = syn.golombek_rapp_q(k)
    d_lo, d_hi = ts[0].rock_diameter_range_m
    for diameter in (d_lo, 0.3, 0.5, 0.8):
        realised = np.sum(np.pi / 4 * rocks["diameter_m"][rocks["diameter_m"] >= diameter] ** 2) / area
        model = k * (np.exp(-q * diameter) - np.exp(-q * d_hi))
        var = quad(lambda x: (np.pi * x * x / 4) ** 2 * syn.rock_number_density(k, x), diameter, d_hi)[0] / area
        print(f"{cls} F(≥{diameter} m): realised {realised:.5f}, Golombek-Rapp {model:.5f} ± {np.sqrt(var):.5f}")
        assert abs(realised - model) <= 4.0 * np.sqrt(var) + 1e-12
    np.testing.assert_array_equal(rocks["height_m"], 0.5 * rocks["diameter_m"])


def test_rocks_are_in_the_height_grid(terrains):
    t = terrains["highland"][0]
    rock = _inside(t.rocks, SIZE / 2 - 5)
    rock = rock[np.argmax(rock["diameter_m"])]
    j = int(np.argmin(np.abs(t.x_m - rock["x_m"])))
    i = int(np.argmin(np.abs(t.y_m - rock["y_m"])))
    bump = t.height_m[i, j] - t.ground_m[i, j]
    r = np.hypot(t.x_m[j] - rock["x_m"], t.y_m[i] - rock["y_m"]) / (0.5 * rock["diameter_m"])
    expected = rock["height_m"] * np.sqrt(1 - r * r)          # half-ellipsoid at that pixel centre
    assert expected - 1e-9 <= bump <= t.rocks["height_m"].max() + 1e-9   # max-combined with neighbours
    assert bump > 0.8 * rock["height_m"]


def test_highland_rougher_than_mare(terrains):
    """Metre-scale roughness (RMS of heights about their 4.25 m running mean) and the number of
    rocks taller than 0.25 m are larger on every highland realisation than on any mare one."""
    def rms_highpass(t):
        hp = t.height_m - uniform_filter(t.height_m, 17)
        return float(np.sqrt(np.mean(hp[20:-20, 20:-20] ** 2)))

    mare = [rms_highpass(t) for t in terrains["mare"]]
    high = [rms_highpass(t) for t in terrains["highland"]]
    big_m = [int(np.sum(_inside(t.rocks, SIZE / 2)["height_m"] > 0.25)) for t in terrains["mare"]]
    big_h = [int(np.sum(_inside(t.rocks, SIZE / 2)["height_m"] > 0.25)) for t in terrains["highland"]]
    print(f"\nRMS about 4 m running mean (m): mare {np.round(mare, 4).tolist()} highland "
          f"{np.round(high, 4).tolist()}; rocks > 0.25 m per 200 m box: mare {big_m} highland {big_h}")
    assert min(high) > 1.1 * max(mare)
    assert min(big_h) > 5 * max(big_m)


def test_regional_slope_is_a_plane_tilt():
    flat = syn.generate(3, size_m=40.0)
    tilted = syn.generate(3, size_m=40.0, regional_slope_deg=5.0, regional_aspect_deg=90.0)
    diff = tilted.height_m - flat.height_m                     # downhill toward the east
    np.testing.assert_allclose(diff, -np.tan(np.deg2rad(5.0)) * tilted.x_m[None, :] + 0 * tilted.y_m[:, None],
                               atol=1e-9)


def test_model_functions():
    k = 0.05
    q = syn.golombek_rapp_q(k)
    assert q == pytest.approx(1.79 + 0.152 / k)
    # n(D) integrates back to F_k: ∫_D^∞ (π x²/4) n(x) dx = k e^(−qD).
    integral = quad(lambda x: np.pi * x * x / 4 * syn.rock_number_density(k, x), 0.4, 40.0)[0]
    assert integral == pytest.approx(float(syn.rock_cumulative_area(k, 0.4)), rel=1e-8)
    assert syn.crater_cumulative_density(0.079, 10.0) == pytest.approx(0.079e-2)


@pytest.mark.parametrize("kwargs, field", [
    ({"site_class": "plains"}, "site_class"),
    ({"resolution_m": 0.6}, "resolution_m"),
    ({"regional_slope_deg": 50.0}, "regional_slope_deg"),
    ({"rock_abundance": 0.9}, "rock_abundance"),
    ({"crater_diameter_range_m": (5.0, 2.0)}, "crater_diameter_range_m"),
])
def test_bad_input(kwargs, field):
    with pytest.raises(TerrainError) as err:
        syn.generate(1, size_m=20.0, **kwargs)
    assert err.value.field == field
    with pytest.raises(TerrainError) as err:
        syn.generate(-1)
    assert err.value.field == "seed"


def test_a_memoised_terrain_is_the_generated_one_and_leaves_the_generator_where_generate_does(
        tmp_path, monkeypatch):
    monkeypatch.setenv("GUANGHAN_CACHE_DIR", str(tmp_path))
    kw = dict(site_class="highland", size_m=30.0, resolution_m=0.25, regional_slope_deg=3.0)
    plain_rng = np.random.default_rng(7)
    plain = syn.generate(plain_rng, **kw)
    for attempt in range(2):                        # built and stored, then loaded
        rng = np.random.default_rng(7)
        got = syn.generate_memoised(rng, **kw)
        for name in ("x_m", "y_m", "height_m", "ground_m", "rocks", "craters"):
            assert np.array_equal(getattr(got, name), getattr(plain, name)), (attempt, name)
        assert (got.resolution_m, got.site_class, got.crater_diameter_range_m, got.rock_diameter_range_m) == \
            (plain.resolution_m, plain.site_class, plain.crater_diameter_range_m, plain.rock_diameter_range_m)
        assert rng.bit_generator.state == plain_rng.bit_generator.state
    assert len(list(tmp_path.glob("hover-terrain-*.json"))) == 1
    other = syn.generate_memoised(np.random.default_rng(8), **kw)   # another seed: another terrain
    assert not np.array_equal(other.height_m, plain.height_m)
    assert len(list(tmp_path.glob("hover-terrain-*.json"))) == 2
