"""Event detection: event epochs checked against geometry computed independently from SPICE."""

import math

import numpy as np
import pytest
import spiceypy

from guanghan.dynamics import events as ev
from guanghan.dynamics.forces import CentralGravity, ForceModel, shadow_fraction
from guanghan.dynamics.kepler import Elements, elements_to_state
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import spice_kernels

ET0 = 660_000_000.0
MU = 4.9028001184575496e12
R_MOON = 1_737_400.0


@pytest.fixture(scope="module")
def run():
    spice_kernels.furnish()
    el = Elements(R_MOON + 200e3, 0.02, math.radians(80.0), 1.0, 0.5, 0.0)
    r, v = elements_to_state(MU, el)
    dets = [ev.apsides(), ev.argument_of_latitude(90.0), ev.longitude_crossing(-51.9161, "MOON_ME"),
            ev.occultation("EARTH", "MOON", R_MOON, "earth_occultation"),
            ev.shadow("MOON", R_MOON, "penumbra"), ev.shadow("MOON", R_MOON, "umbra"),
            ev.epoch(ET0 + 12345.0, "tick"),
            ev.user(lambda t, y: np.linalg.norm(y[:, :3], axis=1) - (R_MOON + 200e3), "radius_200km")]
    res = propagate(SpacecraftState(ET0, r, v, 1000.0), ET0 + 2 * 86400.0,
                    ForceModel(CentralGravity("MOON", MU)), Tolerances(1e-12, 1e-5), dets)
    return el, res


def _names(res, name):
    return [e for e in res.events if e.name == name]


def test_periapsis_every_period(run):
    el, res = run
    t = np.array([e.et for e in _names(res, "periapsis")])
    assert len(t) >= 20
    assert np.max(np.abs(np.diff(t) - el.period(MU))) < 1e-3          # s, Kepler: exact period
    assert np.all(np.abs(np.linalg.norm([e.state[:3] for e in _names(res, "periapsis")], axis=1)
                         - el.a * (1 - el.e)) < 1e-2)                 # m
    assert len(_names(res, "apoapsis")) in (len(t), len(t) + 1)


def test_argument_of_latitude_once_per_orbit(run):
    el, res = run
    t = np.array([e.et for e in _names(res, "argument_of_latitude")])
    assert np.max(np.abs(np.diff(t) - el.period(MU))) < 1e-3
    for e in _names(res, "argument_of_latitude"):
        h = np.cross(e.state[:3], e.state[3:6])
        node = np.cross([0, 0, 1.0], h)
        # at u = 90° the position is perpendicular to the node line and above the equator
        assert abs(np.dot(node, e.state[:3])) / (np.linalg.norm(node) * np.linalg.norm(e.state[:3])) < 1e-7
        assert e.state[2] > 0


def test_site_longitude_matches_spice_frame(run):
    _, res = run
    hits = _names(res, "site_longitude_crossing")
    assert len(hits) >= 20          # i < 90°: the track sweeps all longitudes once per orbit
    for e in hits[:6]:
        r_me = np.array(spiceypy.pxform("J2000", "MOON_ME", e.et)) @ e.state[:3]
        assert abs(math.degrees(math.atan2(r_me[1], r_me[0])) + 51.9161) < 1e-6


def test_shadow_boundaries_against_conical_model(run):
    _, res = run
    entries = _names(res, "moon_penumbra_entry")
    umbra = _names(res, "moon_umbra_entry")
    assert entries and umbra and len(entries) == len(umbra)
    for e in entries[:3] + umbra[:3]:
        sun = np.array(spiceypy.spkpos("SUN", e.et, "J2000", "NONE", "MOON")[0]) * 1e3
        nu = shadow_fraction(e.state[:3], sun, np.zeros(3), R_MOON)
        expected = 1.0 if e.name.endswith("penumbra_entry") else 0.0
        assert abs(nu - expected) < 1e-4
    # penumbra passage lasts a few to tens of seconds in low lunar orbit
    dt = umbra[0].et - entries[0].et
    assert 2.0 < dt < 120.0


def test_earth_occultation_geometry(run):
    _, res = run
    starts = _names(res, "earth_occultation_start")
    ends = _names(res, "earth_occultation_end")
    for e in starts[:2] + ends[:2]:
        earth = np.array(spiceypy.spkpos("EARTH", e.et, "J2000", "NONE", "MOON")[0]) * 1e3
        d = earth - e.state[:3]
        o = -e.state[:3]
        closest = o - np.dot(o, d) / np.dot(d, d) * d
        assert abs(np.linalg.norm(closest) - R_MOON) < 1.0            # m: line of sight grazes the limb


def test_epoch_event(run):
    _, res = run
    ticks = _names(res, "tick")
    assert len(ticks) == 1 and abs(ticks[0].et - (ET0 + 12345.0)) < 1e-3


def test_user_function_event_matches_altitude_geometry(run):
    el, res = run
    hits = _names(res, "radius_200km")
    assert len(hits) >= 40                  # e = 0.02: r crosses a + ~0 twice per orbit
    assert all(abs(np.linalg.norm(e.state[:3]) - (R_MOON + 200e3)) < 1e-3 for e in hits)


def test_no_event_at_the_start_epoch(run):
    _, res = run
    assert all(e.et > ET0 + 1e-3 for e in res.events)
