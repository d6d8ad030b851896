"""Queqiao-2's orbit propagated with GRGM1200A + Earth + Sun, and the link windows it gives the
Chang'e-6 site; direct-to-Earth visibility at the Chang'e-5 and Chang'e-6 sites."""

import math

import numpy as np
import pydantic
import pytest
import spiceypy

from guanghan.dynamics import relay_orbit as ro
from guanghan.environment import spice_kernels
from guanghan.environment import surface_illumination as si
from guanghan.gnc import link_windows as lw

CE5 = si.SurfaceSite(name="Chang'e-5", lat_deg=43.0576, lon_deg=-51.9161, height_m=-2570.0)
CE6 = si.SurfaceSite(name="Chang'e-6", lat_deg=-41.6385, lon_deg=-153.9852, height_m=-5256.0)
CE6_LAND, CE6_LIFT = "2024-06-01T22:23:00", "2024-06-03T23:38:00"

# missions.md §3a: 200 × 16,000 km, 62.4°, 24 h, elliptical frozen orbit; periselene over the north
# (design orbit note), so ω = 90°. The node and the phase are not published: RAAN 270° in the lunar
# equator frame of the epoch puts the aposelene near the far-side meridian (an assumption).
QQ2 = ro.RelayOrbit(name="Queqiao-2", epoch_utc="2024-06-01T00:00:00", periapsis_altitude_m=200e3,
                    apoapsis_altitude_m=16_000e3, inclination_deg=62.4, raan_deg=270.0, argp_deg=90.0,
                    true_anomaly_deg=0.0, frame="MOON_ME")

# China's deep-space stations (approximate public coordinates) with a 10° mask
STATIONS = [lw.GroundStation(name="Kashgar", lat_deg=39.5, lon_deg=76.0, height_m=1300.0),
            lw.GroundStation(name="Jiamusi", lat_deg=46.5, lon_deg=130.8, height_m=200.0),
            lw.GroundStation(name="Neuquen", lat_deg=-38.2, lon_deg=-70.1, height_m=700.0)]


@pytest.fixture(scope="module")
def qq2():
    end = spice_kernels.utc_to_et(CE6_LIFT) + 3600.0
    return ro.propagate_relay(QQ2, end, degree=12)


def test_queqiao2_period_is_a_day(qq2):
    """Published: 24 h. The published 200 × 16,000 km give 24.32 h (Kepler; missions.md §3a [D]), so the
    propagated period is checked against both: Kepler within 0.5 %, the rounded 24 h within 1.5 %."""
    period = ro.anomalistic_period_s(qq2)
    kepler = QQ2.keplerian_period_s()
    print(f"\nQueqiao-2 anomalistic period (GRGM1200A 12×12 + Earth + Sun): {period / 3600:.3f} h; "
          f"Kepler {kepler / 3600:.3f} h; published 24 h")
    assert abs(period - kepler) / kepler < 5e-3
    assert abs(period - 86400.0) / 86400.0 < 0.015


def test_initial_state_has_the_elements():
    s = ro.initial_state(QQ2)
    me = spice_kernels.rotation_matrices("J2000", "MOON_ME", [s.et])[0]
    r, v = me @ s.r, me @ s.v
    h = np.cross(r, v)
    assert math.degrees(math.acos(h[2] / np.linalg.norm(h))) == pytest.approx(62.4, abs=1e-9)
    assert np.linalg.norm(r) == pytest.approx(1_737_400.0 + 200e3, rel=1e-12)     # at periapsis
    assert r[2] / np.linalg.norm(r) == pytest.approx(math.sin(math.radians(62.4)), abs=1e-12)  # ω = 90°


def test_relay_coverage_at_the_ce6_site(qq2):
    ets = np.arange(spice_kernels.utc_to_et(CE6_LAND), spice_kernels.utc_to_et(CE6_LIFT), 60.0)

    def pos(t):
        return qq2.trajectory.states(t)[:, :3]

    alone = lw.link_windows(CE6, qq2.trajectory, [], ets, site_mask_deg=10.0)
    assert lw.link_windows(CE6, pos, [], ets).coverage_fraction == alone.coverage_fraction
    net = lw.link_windows(CE6, pos, STATIONS, ets, site_mask_deg=10.0)
    dte = lw.direct_to_earth_windows(CE6, [], ets)
    hours = [f"{(e - s) / 3600:.1f} h" for s, e in net.windows]
    print(f"\nCE-6 stay: relay coverage {alone.coverage_fraction:.3f} (Earth in view of the relay), "
          f"{net.coverage_fraction:.3f} with the CDSN stations, windows {hours}; DTE {dte.coverage_fraction:.3f}")
    assert 0.0 < net.coverage_fraction <= alone.coverage_fraction < 1.0
    assert dte.coverage_fraction == 0.0 and dte.windows == []
    assert np.all(alone.range_m > 150e3) and np.all(alone.range_m < 20_000e3)
    # windows agree with the sampled margin
    inside = np.zeros(ets.size, bool)
    for s, e in net.windows:
        inside |= (ets >= s) & (ets <= e)
    assert np.array_equal(inside, net.margin_rad > 0.0)


def test_direct_to_earth_near_and_far_side():
    for site, span in ((CE5, ("2020-12-01T15:11:00", "2021-01-01T00:00:00")),
                       (CE6, ("2024-06-01T00:00:00", "2024-07-01T00:00:00"))):
        ets = np.arange(spice_kernels.utc_to_et(span[0]), spice_kernels.utc_to_et(span[1]), 1800.0)
        dte = lw.direct_to_earth_windows(site, [], ets, site_mask_deg=10.0)
        with_stations = lw.direct_to_earth_windows(site, STATIONS, ets, site_mask_deg=10.0)
        print(f"\n{site.name}: DTE fraction over a month {dte.coverage_fraction:.3f} (Earth above 10°), "
              f"{with_stations.coverage_fraction:.3f} with a CDSN station above 10°")
        expected = 1.0 if site is CE5 else 0.0
        assert dte.coverage_fraction == expected
        assert with_stations.coverage_fraction <= dte.coverage_fraction


def test_station_elevation_matches_spice_azlcpo():
    ets = spice_kernels.utc_to_et("2024-06-02T00:00:00") + np.linspace(0.0, 86400.0, 9)
    moon = spice_kernels.body_positions("MOON", "EARTH", "J2000", ets)
    for st in STATIONS:
        got = np.degrees(lw._stations_margin([st], moon, ets)) + st.min_elevation_deg
        for k, et in enumerate(ets):
            with spice_kernels._LOCK:
                out, _ = spiceypy.azlcpo("ELLIPSOID", "MOON", float(et), "NONE", False, True,
                                         st.position_itrf93_m / 1e3, "EARTH", "ITRF93")
            assert got[k] == pytest.approx(math.degrees(out[2]), abs=1e-6)


def test_windows_from_margin():
    t = np.linspace(0.0, 10.0, 1001)
    wins, frac = lw.windows_from_margin(t, np.sin(t))
    np.testing.assert_allclose(np.array(wins), [[0.0, math.pi], [2 * math.pi, 3 * math.pi]], atol=1e-5)
    assert frac == pytest.approx(2 * math.pi / 10.0, abs=1e-5)


def test_bad_input():
    with pytest.raises(pydantic.ValidationError) as err:
        QQ2.model_validate({**QQ2.model_dump(), "apoapsis_altitude_m": 100e3})
    assert err.value.errors()[0]["ctx"]["field"] == "apoapsis_altitude_m"
    with pytest.raises(pydantic.ValidationError, match="epoch_utc"):
        QQ2.model_validate({**QQ2.model_dump(), "epoch_utc": "yesterday"})
    with pytest.raises(pydantic.ValidationError, match="inclination_deg"):
        QQ2.model_validate({**QQ2.model_dump(), "inclination_deg": 200.0})
    with pytest.raises(ValueError, match="degree = 1"):
        ro.relay_force_model(degree=1)
    with pytest.raises(ValueError, match="mask_deg"):
        lw.direct_to_earth_windows(CE5, [], [0.0, 60.0], site_mask_deg=95.0)
