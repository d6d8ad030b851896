"""Entry dynamics kernels and aerothermal figures against independent truth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from guanghan.dynamics import aerothermal
from guanghan.dynamics.entry_kernels import (aero_history, earth_rotation_itrf93, egm96_j2, gravity,
                                             height, integrate, jacobi_energy, planet_array)
from guanghan.environment.constants import STANDARD_GRAVITY as G0
from guanghan.environment.geodetic import cartesian_from_planetodetic, planetodetic_from_cartesian
from guanghan.environment import spice_kernels
from guanghan.environment.atmosphere import AtmosphereProfile

ET_CE5 = 661412049.0           # ~2020-12-16T17:33Z
VACUUM = AtmosphereProfile.exponential(1e-300, 7200.0)        # no aerodynamic force at all
NO_AERO = (np.array([300.0, 1.0, 0.3]), np.array([0.0, 40.0]), np.array([1.3, 1.3]))


def _atm(profile):
    return (profile.altitude0, profile.step, profile.log_density, profile.sound_speed)


def test_egm96_j2_matches_published_value():
    mu, j2, r = egm96_j2()
    assert abs(j2 - 1.0826266835e-3) < 1e-12   # EGM96 J2 = -sqrt(5) C20, Lemoine et al. 1998
    assert mu == 3.986004415e14 and r == 6378136.3


def test_earth_rotation_from_spice():
    w = earth_rotation_itrf93(ET_CE5)
    assert abs(np.linalg.norm(w) - 7.292115e-5) < 2e-12   # EPSG / missions.md §9 (LOD ~1 ms)
    assert np.arccos(w[2] / np.linalg.norm(w)) < 5e-6     # pole along ITRF93 z within ~1 arcsec


def test_gravity_is_gradient_of_j2_potential():
    planet = planet_array(rotation=False)
    mu, j2, re = planet[:3]

    def potential(r):
        rn = np.linalg.norm(r)
        s2 = (r[2] / rn) ** 2
        return mu / rn * (1 - j2 * (re / rn) ** 2 * 0.5 * (3 * s2 - 1))

    r = np.array([3.1e6, -4.2e6, 3.9e6])
    acc = np.empty(3)
    gravity(r, planet, acc)
    h = 1.0
    fd = np.array([(potential(r + h * e) - potential(r - h * e)) / (2 * h) for e in np.eye(3)])
    assert np.max(np.abs(acc - fd)) < 1e-7        # m/s², central difference error ~1e-9


def test_vacuum_jacobi_energy_conserved():
    planet = planet_array(ET_CE5)
    x0 = np.array([6.5e6, 0.0, 1.0e6, 0.0, 7600.0, 1000.0])
    hist = integrate(x0, np.zeros(2000), 1.0, planet, *NO_AERO, *_atm(VACUUM), 1.0)
    e = np.array([jacobi_energy(x, planet) for x in hist])
    assert np.max(np.abs(e - e[0])) < 1e-3        # J/kg over 2,000 s (of ~3e7): RK4 at 1 s


def test_rotating_frame_matches_inertial_propagation():
    """Coriolis + centrifugal: the Earth-fixed solution, rotated back, equals the inertial one."""
    omega = 7.292115e-5
    rot = planet_array(rotation=False)
    rot[3:6] = [0.0, 0.0, omega]
    inertial = planet_array(rotation=False)
    r0 = np.array([6.5e6, 0.0, 1.0e6])
    v_in = np.array([0.0, 7600.0, 1000.0])
    x_rot = np.r_[r0, v_in - np.cross([0, 0, omega], r0)]
    n, dt = 1000, 1.0
    a = integrate(x_rot, np.zeros(n), dt, rot, *NO_AERO, *_atm(VACUUM), 1.0)[-1]
    b = integrate(np.r_[r0, v_in], np.zeros(n), dt, inertial, *NO_AERO, *_atm(VACUUM), 1.0)[-1]
    t = n * dt
    c, s = np.cos(omega * t), np.sin(omega * t)
    r_back = np.array([c * a[0] - s * a[1], s * a[0] + c * a[1], a[2]])
    assert np.max(np.abs(r_back - b[:3])) < 0.01  # 1 cm after 1,000 s


def test_ballistic_peak_deceleration_allen_eggers():
    """L/D = 0, exponential atmosphere, no gravity, rotation or J2 (the assumptions of Allen &
    Eggers 1958, NACA TR 1381, eqs. 16-17): n_max = V_E² sin|γ_E| / (2 e H g0), reached at
    altitude H ln(ρ0 H Cd S / (m sin|γ_E|))."""
    rho0, scale = 1.225, 7200.0
    profile = AtmosphereProfile.exponential(rho0, scale, top=250e3)
    planet = planet_array(rotation=False, j2=False)
    planet[6:8] = planet[2]                                   # spherical Earth
    planet[0] = 0.0                                           # no gravity: straight-line flight
    vehicle = (np.array([1000.0, 1.0, 0.0]), np.array([0.0, 40.0]), np.array([1.0, 1.0]))
    v_e, gamma = 7500.0, np.radians(-45.0)
    r0 = planet[2] + 200e3
    x0 = np.array([r0, 0.0, 0.0, v_e * np.sin(gamma), v_e * np.cos(gamma), 0.0])
    hist = integrate(x0, np.zeros(3000), 0.02, planet, *vehicle, *_atm(profile), 1.0)
    _, _, acc = aero_history(hist, np.zeros(len(hist)), planet, *vehicle, profile)
    k = np.argmax(acc)
    n_max = v_e ** 2 * abs(np.sin(gamma)) / (2 * np.e * scale * G0)
    assert abs(acc[k] / G0 - n_max) / n_max < 0.03            # 3 %: Earth curvature changes γ by ~1°
    h_star = scale * np.log(rho0 * scale * 1.0 / (1000.0 * abs(np.sin(gamma))))
    assert abs(height(hist[k], planet[6], planet[7]) - h_star) < 500.0   # 500 m


@settings(max_examples=50, deadline=None)
@given(st.floats(-89.9, 89.9), st.floats(-179.9, 180.0), st.floats(-1e3, 3e5))
def test_geodetic_round_trip(lat_deg, lon_deg, h):
    a, _, b = spice_kernels.radii("EARTH")
    r = cartesian_from_planetodetic(np.radians(lat_deg), np.radians(lon_deg), h)
    lat, lon, h2 = planetodetic_from_cartesian(r)
    assert abs(h2 - h) < 1e-4                                        # 0.1 mm
    assert abs(np.degrees(lat) - lat_deg) < 1e-9
    assert abs(height(r, a, b) - h) < 2.0 if h < 2.5e5 else True     # kernel height: < 2 m


def test_sutton_graves_hand_value():
    # k sqrt(ρ/Rn) V³ = 1.7415e-4 * sqrt(1e-4 / 1) * 1e4³ = 1.7415e6 W/m² (by hand)
    q = aerothermal.stagnation_heat_flux(1e-4, 1e4, 1.0)
    assert abs(q - 1.7415e6) < 1.0                                   # 1 W/m²
    assert abs(aerothermal.heat_load([0, 10, 20], [5.0, 5.0, 5.0]) - 100.0) < 1e-12
    with pytest.raises(ValueError):
        aerothermal.stagnation_heat_flux(1e-4, 1e4, 0.0)


def test_drag_coefficient_is_numpy_interp_held_at_the_ends():
    from guanghan.dynamics.entry_kernels import drag_coefficient
    mach = np.array([0.0, 1.0, 2.0, 5.0, 40.0])
    cd = np.array([0.9, 1.1, 1.3, 1.3, 1.25])
    for m in np.r_[-1.0, mach, np.linspace(-0.5, 45.0, 401), 1e3]:
        assert drag_coefficient(m, mach, cd) == pytest.approx(np.interp(m, mach, cd), abs=1e-15)


def test_track_kernels_equal_the_profile_kernels_on_the_blended_column():
    """One RK4 step through a two-station track = the profile step through the column blended at
    the step's start (what the track kernels hold over the step), to rounding."""
    from guanghan.dynamics.entry_kernels import rk4_step
    from guanghan.dynamics.entry_track_kernels import aero_track, rk4_step_track
    from guanghan.environment.atmosphere import track_column
    planet = planet_array(ET_CE5)
    h = np.arange(0.0, 201e3, 1e3)
    table = np.vstack([np.log(1.2) - h / 7000.0, np.log(1.5) - h / 6500.0])
    sound = np.vstack([340.0 - h / 1e4, 330.0 - h / 2e4])
    start, normal = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    theta = np.array([0.0, 0.5])
    vehicle, mach_nodes, cd_nodes = (np.array([300.0, 1.2, 0.3]), np.array([0.0, 2.0, 40.0]),
                                     np.array([0.9, 1.3, 1.3]))
    r = planet[6] + 60e3
    x = np.array([r * np.cos(0.2), r * np.sin(0.2), 1e5, -6500.0, 5500.0, -300.0])
    col, col_sound = np.empty(h.size), np.empty(h.size)
    track_column(x, theta, start, normal, table, sound, col, col_sound)
    want, got = np.empty(6), np.empty(6)
    rk4_step(x, 0.7, 2.0, planet, vehicle, mach_nodes, cd_nodes, 0.0, 1e3, col, col_sound, 1.1,
             np.empty((6, 6)), want)
    rk4_step_track(x, 0.7, 2.0, planet, vehicle, mach_nodes, cd_nodes, 0.0, 1e3, theta, start,
                   normal, table, sound, 1.1, np.empty((6, 6)), got)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-9)
    a_profile, a_track = np.empty(3), np.empty(3)
    from guanghan.dynamics.entry_kernels import aero_acceleration
    p = aero_acceleration(x, 0.7, vehicle, mach_nodes, cd_nodes, planet, 0.0, 1e3, col, col_sound,
                          1.1, a_profile)
    q = aero_track(x, 0.7, vehicle, mach_nodes, cd_nodes, planet, 0.0, 1e3, theta, start, normal,
                   table, sound, 1.1, a_track)
    np.testing.assert_allclose(q, p, rtol=1e-14)
    np.testing.assert_allclose(a_track, a_profile, rtol=1e-14)
