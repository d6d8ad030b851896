"""Planetocentric and planetodetic coordinates against SPICE reclat/georec/recgeo."""

import numpy as np
import spiceypy
from hypothesis import given, settings, strategies as st

from guanghan.environment import geodetic

A = geodetic.EARTH_EQUATORIAL_RADIUS
F = geodetic.EARTH_FLATTENING


@given(st.floats(-89.999, 89.999), st.floats(-179.99, 180.0), st.floats(-10e3, 500e3))
@settings(max_examples=200, deadline=None)
def test_planetodetic_round_trip_and_spice(lat_deg, lon_deg, h):
    r = geodetic.cartesian_from_planetodetic(np.radians(lat_deg), np.radians(lon_deg), h)
    ref = np.array(spiceypy.georec(np.radians(lon_deg), np.radians(lat_deg), h / 1e3, A / 1e3, F)) * 1e3
    assert np.max(np.abs(r - ref)) < 1e-6                             # 1 µm
    lat, lon, hh = geodetic.planetodetic_from_cartesian(r)
    assert abs(lat - np.radians(lat_deg)) < 1e-11                     # ~0.06 mm on Earth
    assert abs(hh - h) < 1e-6
    assert abs(np.degrees(lon) - lon_deg) < 1e-9 or abs(abs(np.degrees(lon) - lon_deg) - 360) < 1e-9


@given(st.floats(-90, 90), st.floats(-179.99, 180.0), st.floats(1.7e6, 5e6))
@settings(max_examples=100, deadline=None)
def test_planetocentric_matches_reclat(lat_deg, lon_deg, radius):
    r = geodetic.cartesian_from_planetocentric(np.radians(lat_deg), np.radians(lon_deg), radius)
    rad, lon, lat = spiceypy.reclat(r)
    la, lo, ra = geodetic.planetocentric_from_cartesian(r)
    assert abs(ra - rad) < 1e-6 and abs(la - lat) < 1e-12 and abs(np.sin(lo - lon)) < 1e-12


def test_wrap_longitude():
    assert geodetic.wrap_longitude_deg(308.0839) == -51.9161 or abs(geodetic.wrap_longitude_deg(308.0839) + 51.9161) < 1e-9
    assert geodetic.wrap_longitude_deg(-180.0) == 180.0
    assert geodetic.wrap_longitude_deg(540.0) == 180.0
