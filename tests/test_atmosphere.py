"""NRLMSIS through pymsis (offline), and the tabulated profile against direct NRLMSIS."""

from __future__ import annotations

import datetime as dt
import socket

import numpy as np
import pytest

from guanghan.environment import atmosphere as atm

UTC = "2020-12-16T17:33:00Z"


@pytest.fixture
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_msis_runs_offline_and_matches_standard_atmosphere_magnitudes(offline):
    rho, temp, sound = atm.msis(UTC, [42.4, 42.4], [111.4, 111.4], [0.0, 100.0])
    # US Standard Atmosphere 1976: 1.225 kg/m³ at 0 km, 5.604e-7 kg/m³ at 100 km.
    assert 1.0 < rho[0] < 1.5                    # winter mid-latitude surface air is denser
    assert 1e-7 < rho[1] < 2e-6                  # published order of magnitude at 100 km
    assert 320.0 < sound[0] < 360.0              # m/s, for 255-320 K near the ground
    assert np.all(temp > 150.0)


def test_exponential_profile_is_exact_between_nodes():
    prof = atm.AtmosphereProfile.exponential(1.225, 7200.0)
    h = np.array([0.0, 333.3, 55_555.0, 199_999.0, 250_000.0])   # last one extrapolated
    rho, _ = prof.state(h)
    assert np.allclose(rho, 1.225 * np.exp(-h / 7200.0), rtol=1e-12)
    rho2, _ = prof.state(h, density_scale=1.15)
    assert np.allclose(rho2, 1.15 * rho, rtol=1e-14)


def test_profile_error_along_an_entry_track():
    """Measure the 1-D profile against NRLMSIS evaluated at each point and time of a track.

    Track: great circle from the Chang'e-5-like interface (4.45° N, 75.7° E) towards Siziwang
    Banner (42.4° N, 111.4° E) over 15 min, altitude 120 → 60 → 100 → 10 km.
    """
    lat = np.linspace(4.45, 42.4, 31)
    lon = np.linspace(75.7, 111.4, 31)
    alt_km = np.interp(np.linspace(0, 1, 31), [0, 0.15, 0.45, 1.0], [120, 60, 100, 10])
    t0 = dt.datetime(2020, 12, 16, 17, 33)
    prof = atm.build_profile(UTC, lat[::5], lon[::5])
    direct = np.array([atm.msis(t0 + dt.timedelta(seconds=30 * k), la, lo, h)[0][0]
                       for k, (la, lo, h) in enumerate(zip(lat, lon, alt_km))])
    tab, _ = prof.state(alt_km * 1e3)
    err = np.abs(tab / direct - 1.0)
    assert np.max(err) < 0.15      # 15 % (measured 12 %, at 15 km near the winter-night end)


def test_bad_profile_request_is_refused():
    with pytest.raises(ValueError):
        atm.build_profile(UTC, [95.0], [0.0])
