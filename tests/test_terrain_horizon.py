"""The DEM horizon of a surface site against closed-form geometry: a featureless Moon shows the
curvature dip, a ridge of known height and distance shows at its elevation."""

import math

import numpy as np
import pytest

from guanghan.environment import lunar_dem
from guanghan.environment import terrain_horizon as th
from guanghan.environment.geodetic import MOON_MEAN_RADIUS


def test_featureless_moon_shows_the_dip(monkeypatch):
    monkeypatch.setattr(lunar_dem, "height_m", lambda lat, lon: np.zeros(np.shape(lat)) if np.ndim(lat) else 0.0)
    p = th.horizon_profile(10.0, 20.0, observer_height_m=2.0, min_distance_m=3_000.0)
    # level ground falls away: the nearest sample (3 km) is the highest, at the dip seen from 2 m
    expected = th.dip_deg(3_000.0, 2.0)
    assert np.allclose(p.elevation_deg, expected, atol=1e-9)
    # dip from the sphere's geometry: atan2(R cosθ − (R+h), R sinθ) ≈ −(θ/2 + h/(Rθ))
    theta = 3_000.0 / MOON_MEAN_RADIUS
    assert expected == pytest.approx(-math.degrees(theta / 2 + 2.0 / (MOON_MEAN_RADIUS * theta)), rel=1e-3)


def test_a_ridge_to_the_east_raises_the_eastern_horizon(monkeypatch):
    lat0, lon0 = 0.0, 0.0
    ridge_km, ridge_h = 50.0, 3_000.0
    ridge_lon = math.degrees(ridge_km * 1e3 / MOON_MEAN_RADIUS)

    def heights(lat, lon):
        lon = np.asarray(lon, float)
        return np.where(np.abs(lon - ridge_lon) < 0.02, ridge_h, 0.0) if lon.ndim else 0.0

    monkeypatch.setattr(lunar_dem, "height_m", heights)
    p = th.horizon_profile(lat0, lon0, observer_height_m=0.0, n_azimuths=36, step_m=500.0)
    el = dict(zip(p.azimuth_deg, p.elevation_deg))
    theta = ridge_km * 1e3 / MOON_MEAN_RADIUS
    r = MOON_MEAN_RADIUS + ridge_h
    exact = math.degrees(math.atan2(r * math.cos(theta) - MOON_MEAN_RADIUS, r * math.sin(theta)))
    assert el[90.0] == pytest.approx(exact, abs=0.05)            # the ridge, within a 500 m step
    assert el[270.0] < 0.0                                        # nothing to the west


def test_real_sites_have_low_horizons():
    """The Chang'e-5 mare site and the Chang'e-6 site in the Apollo basin: skylines within a few
    degrees (the DEM's kilometre-scale relief), never above 10°."""
    for lat, lon in ((43.0576, -51.9161), (-41.6385, -153.9852)):
        el = np.array(th.horizon_profile(lat, lon).elevation_deg)
        assert -1.0 < el.min() and el.max() < 10.0


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="n_azimuths"):
        th.horizon_profile(0.0, 0.0, n_azimuths=2)
    with pytest.raises(ValueError, match="min_distance_m"):
        th.horizon_profile(0.0, 0.0, min_distance_m=200_000.0)
