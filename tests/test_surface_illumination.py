"""Sun and Earth above a lunar site against SPICE itself (azlcpo, et2lst), and sunrise/sunset roots."""

import math

import numpy as np
import pydantic
import pytest
import spiceypy

from guanghan.environment import spice_kernels
from guanghan.environment import surface_illumination as si
from guanghan.environment.constants import SPEED_OF_LIGHT

# LROC positions (missions.md §1c, §2c); heights relative to the 1737.4 km sphere
CE5 = si.SurfaceSite(name="Chang'e-5", lat_deg=43.0576, lon_deg=-51.9161, height_m=-2570.0)
CE6 = si.SurfaceSite(name="Chang'e-6", lat_deg=-41.6385, lon_deg=-153.9852, height_m=-5256.0)


@pytest.fixture(scope="module")
def ce5_ets():
    et0 = spice_kernels.utc_to_et("2020-12-01T15:11:00")
    return et0 + np.linspace(0.0, 29.0 * 86400.0, 13)


def _azlcpo(site, target, et, abcorr="NONE"):
    spice_kernels.furnish()
    with spice_kernels._LOCK:
        out, _ = spiceypy.azlcpo("ELLIPSOID", target, float(et), abcorr, False, True, site.position_m / 1e3,
                                 "MOON", "MOON_ME")
    return math.degrees(out[1]) % 360.0, math.degrees(out[2])


@pytest.mark.parametrize("target", ["SUN", "EARTH"])
def test_azimuth_elevation_match_spice_azlcpo(ce5_ets, target):
    for site in (CE5, CE6):
        d = si.topocentric(site, target, ce5_ets)
        for k, et in enumerate(ce5_ets):
            az, el = _azlcpo(site, target, et)
            assert d.elevation_deg[k] == pytest.approx(el, abs=1e-7)
            if abs(el) < 89.0:
                assert (d.azimuth_deg[k] - az + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-6)


def test_light_time_and_aberration_are_negligible_for_the_sun(ce5_ets):
    """The module's claim: apparent (LT+S) and geometric Sun differ by < 25″."""
    d = si.sun_direction(CE5, ce5_ets)
    worst = max(abs(d.elevation_deg[k] - _azlcpo(CE5, "SUN", et, "LT+S")[1]) for k, et in enumerate(ce5_ets))
    print(f"\nlargest |geometric − apparent| Sun elevation at CE-5: {worst * 3600:.1f} arcsec")
    assert worst < 25.0 / 3600.0


def test_local_solar_time_matches_spice_et2lst(ce5_ets):
    lst = si.local_solar_time_h(CE5, ce5_ets)
    for k, et in enumerate(ce5_ets):
        with spice_kernels._LOCK:
            h, m, s, *_ = spiceypy.et2lst(float(et), 301, math.radians(CE5.lon_deg), "PLANETOCENTRIC")
        ref = h + m / 60.0 + s / 3600.0
        assert (lst[k] - ref + 12.0) % 24.0 - 12.0 == pytest.approx(0.0, abs=0.01)   # IAU_MOON vs MOON_ME
    et_land = spice_kernels.utc_to_et("2020-12-01T15:11:00")
    print(f"\nCE-5 local solar time at touchdown: {si.local_solar_time_h(CE5, et_land)[0]:.2f} h")


def test_sunrise_sunset_roots_sit_on_the_limb_threshold():
    et0 = spice_kernels.utc_to_et("2020-11-15T00:00:00")
    upper = si.sun_events(CE5, et0, et0 + 40 * 86400.0, limb="upper")
    centre = si.sun_events(CE5, et0, et0 + 40 * 86400.0, limb="centre")
    assert [k for _, k in upper] == [k for _, k in centre]
    assert {k for _, k in upper} == {"sunrise", "sunset"}
    for (tu, kind), (tc, _) in zip(upper, centre):
        d = si.sun_direction(CE5, [tu, tc])
        semi = math.degrees(si.sun_angular_radius_rad(d.distance_m[0]))
        assert 0.26 < semi < 0.28
        assert d.elevation_deg[0] == pytest.approx(-semi, abs=1e-4)    # upper limb on the horizon
        assert d.elevation_deg[1] == pytest.approx(0.0, abs=1e-4)      # centre on the horizon
        _, el_spice = _azlcpo(CE5, "SUN", tc)
        assert el_spice == pytest.approx(0.0, abs=1e-4)
        # the upper limb shows first and goes last
        assert (tu < tc) if kind == "sunrise" else (tu > tc)
    rise = next(t for t, k in upper if k == "sunrise")
    print(f"\nCE-5 sunrise (upper limb) {spice_kernels.et_to_utc(rise, 0)}; landing 2020-12-01T15:11Z")
    assert rise < spice_kernels.utc_to_et("2020-12-01T15:11:00")       # landed in the lunar morning


def test_terrain_horizon_delays_sunrise():
    et0 = spice_kernels.utc_to_et("2020-11-20T00:00:00")
    hills = si.HorizonProfile(azimuth_deg=(0.0, 90.0, 180.0, 270.0), elevation_deg=(5.0, 5.0, 5.0, 5.0))
    flat = [t for t, k in si.sun_events(CE5, et0, et0 + 15 * 86400.0) if k == "sunrise"]
    hilly = [t for t, k in si.sun_events(CE5, et0, et0 + 15 * 86400.0, horizon=hills) if k == "sunrise"]
    assert len(flat) == len(hilly) == 1
    assert hilly[0] > flat[0] + 5 * 3600.0                  # 5° at ~0.4°/h takes more than 5 h
    d = si.sun_direction(CE5, hilly)
    assert d.elevation_deg[0] + math.degrees(si.sun_angular_radius_rad(d.distance_m[0])) == pytest.approx(5.0, abs=1e-4)
    assert not si.sunlit(CE5, [hilly[0] - 600.0], horizon=hills)[0]
    assert si.sunlit(CE5, [hilly[0] + 600.0], horizon=hills)[0]


def test_synodic_day_is_a_lunation():
    et = spice_kernels.utc_to_et("2024-06-02T12:00:00")
    day = si.synodic_day_s(CE6, et) / 86400.0
    print(f"\nsynodic day at CE-6 around the landing: {day:.3f} d (mean 29.531 d)")
    assert abs(day - 29.530589) < 0.6


def test_earth_visibility_and_light_time():
    ets = spice_kernels.utc_to_et("2024-01-01T00:00:00") + np.linspace(0.0, 30 * 86400.0, 61)
    assert np.all(si.earth_direction(CE5, ets).elevation_deg > 10.0)      # near side: always up
    assert np.all(si.earth_direction(CE6, ets).elevation_deg < -10.0)     # far side: never
    lt = si.earth_light_time_s(CE5, ets)
    direct = np.linalg.norm(spice_kernels.body_positions("EARTH", "MOON", "MOON_ME", ets) - CE5.position_m,
                            axis=1) / SPEED_OF_LIGHT
    np.testing.assert_allclose(lt, direct, rtol=1e-14)
    print(f"\nCE-5 → Earth one-way light time: {lt.min():.4f}–{lt.max():.4f} s")
    assert np.all((lt > 1.18) & (lt < 1.37))


def test_irradiance_and_incidence():
    ets = spice_kernels.utc_to_et("2024-01-03T00:00:00") + np.array([0.0, 182.6 * 86400.0])
    s = si.solar_irradiance_w_m2(CE5, ets)
    assert 1361.0 * 1.03 < s[0] < 1361.0 * 1.04          # perihelion in early January
    assert 1361.0 * 0.96 < s[1] < 1361.0 * 0.975
    sun = np.array([[0.0, -math.sin(0.5), math.cos(0.5)], [0.0, 0.0, -1.0]])
    mu = si.incidence_cosine(sun, si.slope_normal_enu(30.0, 180.0))    # facet tilted towards the south
    assert mu[0] == pytest.approx(math.cos(0.5 - math.radians(30.0)))
    assert mu[1] == 0.0


def test_bad_input_names_the_field():
    with pytest.raises(pydantic.ValidationError, match="lat_deg"):
        si.SurfaceSite(lat_deg=95.0, lon_deg=0.0)
    with pytest.raises(pydantic.ValidationError, match="strictly increasing") as err:
        si.HorizonProfile(azimuth_deg=(10.0, 5.0), elevation_deg=(1.0, 1.0))
    assert err.value.errors()[0]["ctx"]["field"] == "azimuth_deg"
    with pytest.raises(ValueError, match="MOON"):
        si.SurfaceSite.from_site(type("S", (), {"body": "EARTH", "lat_deg": 0.0, "lon_deg": 0.0})())
    twin = si.SurfaceSite.from_site(type("S", (), {"body": "MOON", "lat_deg": 43.0576, "lon_deg": -51.9161,
                                                   "altitude_m": -2570.0})())
    np.testing.assert_array_equal(twin.position_m, CE5.position_m)
    with pytest.raises(ValueError, match="slope_deg"):
        si.slope_normal_enu(120.0, 0.0)
    with pytest.raises(ValueError, match="limb"):
        si.sunlit(CE5, [0.0], limb="lower")
