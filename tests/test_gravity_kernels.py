"""Spherical-harmonic kernels against independent truth: point mass, closed-form J2, a direct
scipy Legendre evaluation, finite differences of the potential, and the Laplace equation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import lpmv

from guanghan.environment import gravity_field as gf
from guanghan.environment import gravity_kernels as gk

R_MOON = 1738.0e3
# 8-point central first-derivative stencil (offsets -4..4), 8th order (Fornberg 1988, Table 1).
W8 = np.array([1 / 280, -4 / 105, 1 / 5, -4 / 5, 0.0, 4 / 5, -1 / 5, 4 / 105, -1 / 280])


@pytest.fixture(scope="session")
def grgm165(tmp_path_factory):
    folder = tmp_path_factory.mktemp("guanghan_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GUANGHAN_CACHE_DIR", str(folder))
        yield gf.load_grgm1200a(165)


@pytest.fixture(scope="session")
def lp165():
    return gf.load_packaged_cof("LP165P")


def position(lat_deg, lon_deg, altitude, radius=R_MOON):
    lat, lon, r = np.radians(lat_deg), np.radians(lon_deg), radius + altitude
    return np.array([r * np.cos(lat) * np.cos(lon), r * np.cos(lat) * np.sin(lon), r * np.sin(lat)])


def field_from(c, s, mu=4.9028e12, radius=R_MOON, name="test"):
    degree = c.shape[0] - 1
    return gf.GravityField(name, "MOON", mu, radius, degree, degree, c, s, "MOON_PA", "test")


def accel(data, r):
    out = np.empty(3)
    gk.sh_acceleration(np.asarray(r, dtype=float), data, out)
    return out


def gradient(data, r):
    out = np.empty((3, 3))
    gk.sh_acceleration_gradient(np.asarray(r, dtype=float), data, out)
    return out


# ----------------------------------------------------------------------------- closed forms
def test_point_mass_limit():
    c = np.zeros((11, 11))
    c[0, 0] = 1.0
    field = field_from(c, np.zeros_like(c))
    data = field.kernel_data()
    for r in [position(89.99, 10, 1e4), position(0, -170, 5e5), np.array([0.0, 0.0, -2.0e6])]:
        expected = -field.mu * r / np.linalg.norm(r) ** 3
        np.testing.assert_allclose(accel(data, r), expected, rtol=2e-16 * 4, atol=0)  # few ulp
        assert gk.sh_potential(r, data) == pytest.approx(field.mu / np.linalg.norm(r), rel=1e-15)
        # closed-form point-mass gradient mu/r³ (3 r̂r̂ᵀ - I); 1e-9: difference-step error
        rn = np.linalg.norm(r)
        exact = field.mu / rn**3 * (3 * np.outer(r, r) / rn**2 - np.eye(3))
        np.testing.assert_allclose(gradient(data, r), exact, atol=1e-9 * np.abs(exact).max())


def test_j2_only_matches_closed_form():
    c = np.zeros((3, 3))
    c[0, 0], c[2, 0] = 1.0, -9.0884339347424299e-05  # GRGM1200A C̄20
    field = field_from(c, np.zeros_like(c))
    data = field.kernel_data()
    j2 = -math.sqrt(5.0) * c[2, 0]
    for r in [position(89.99, 30, 1e4), position(45, 100, 1e5), position(-20, -60, 1e6)]:
        x, y, z = r
        rn = np.linalg.norm(r)
        # Curtis, Orbital Mechanics for Engineering Students (3rd ed.), eq. 12.30: J2 perturbation
        k = 1.5 * j2 * field.mu * field.radius**2 / rn**4
        p = k * np.array([x / rn * (5 * z**2 / rn**2 - 1), y / rn * (5 * z**2 / rn**2 - 1),
                          z / rn * (5 * z**2 / rn**2 - 3)])
        pert = accel(data, r) + field.mu * r / rn**3
        # 1e-12 relative: rounding of the two-term sum and of mu r/r³ (|a| ~ 1.6 m/s²)
        np.testing.assert_allclose(pert, p, atol=1e-12 * np.linalg.norm(p) + 1e-15)


# ----------------------------------------------------------------------------- direct Legendre
def legendre_direct(field, r):
    """Potential and acceleration by explicit sums over scipy lpmv (Condon-Shortley removed)."""
    rn = np.linalg.norm(r)
    phi, lam = math.asin(r[2] / rn), math.atan2(r[1], r[0])
    t = math.sin(phi)
    u = dudr = dudphi = dudlam = 0.0
    for n in range(field.degree + 1):
        f = field.mu / rn * (field.radius / rn) ** n
        for m in range(n + 1):
            # N_nm = sqrt((2 - δ_m0)(2n+1)(n-m)!/(n+m)!) (Montenbruck & Gill eq. 3.24)
            norm = math.sqrt((2 - (m == 0)) * (2 * n + 1) * math.factorial(n - m)
                             / math.factorial(n + m))
            p = (-1) ** m * lpmv(m, n, t)
            dp = (-1) ** (m + 1) * lpmv(m + 1, n, t) - m * math.tan(phi) * p  # dP_nm/dφ
            cs = field.c[n, m] * math.cos(m * lam) + field.s[n, m] * math.sin(m * lam)
            dcs = m * (field.s[n, m] * math.cos(m * lam) - field.c[n, m] * math.sin(m * lam))
            u += f * norm * p * cs
            dudr -= (n + 1) / rn * f * norm * p * cs
            dudphi += f * norm * dp * cs
            dudlam += f * norm * p * dcs
    e_r = np.array([math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), t])
    e_phi = np.array([-t * math.cos(lam), -t * math.sin(lam), math.cos(phi)])
    e_lam = np.array([-math.sin(lam), math.cos(lam), 0.0])
    a = dudr * e_r + dudphi / rn * e_phi + dudlam / (rn * math.cos(phi)) * e_lam
    return u, a


@pytest.mark.parametrize("model", ["GRGM1200A", "LP165P"])
def test_against_direct_legendre(model, grgm165, lp165):
    field = (grgm165 if model == "GRGM1200A" else lp165).truncated(8)
    data = field.kernel_data()
    rng = np.random.default_rng(20241203)
    for _ in range(6):
        r = position(rng.uniform(-85, 85), rng.uniform(-180, 180), rng.uniform(1e4, 1e6))
        u, a = legendre_direct(field, r)
        pert = a + field.mu * r / np.linalg.norm(r) ** 3
        assert gk.sh_potential(r, data) == pytest.approx(u, rel=1e-14)
        # 1e-9 of the non-central part: lpmv/tan φ rounding, far below the 1e-5..1e-3 signal
        np.testing.assert_allclose(accel(data, r) + field.mu * r / np.linalg.norm(r) ** 3, pert,
                                   atol=1e-9 * np.linalg.norm(pert))


# ----------------------------------------------------------------------------- degree 165
def fd_perturbing_acceleration(data, mu, r, h=5.0):
    """8-point central difference of U - mu/r (m/s²), step h (m)."""
    g = np.zeros(3)
    for j in range(3):
        for k, w in enumerate(W8):
            rp = r.copy()
            rp[j] += (k - 4) * h
            g[j] += w * (gk.sh_potential(rp, data) - mu / np.linalg.norm(rp))
    return g / h


SITES = [(lat, lon, alt) for lat, lon in [(89.99, 23.0), (-89.99, -120.0), (0.0, 170.0),
                                         (45.0, -35.0)] for alt in (10e3, 100e3, 1000e3)]


@pytest.mark.parametrize("model", ["GRGM1200A", "LP165P"])
def test_acceleration_is_gradient_of_potential_degree165(model, grgm165, lp165):
    field = grgm165 if model == "GRGM1200A" else lp165
    data = field.kernel_data()
    exact_poles = [np.array([0.0, 0.0, R_MOON + 20e3]), np.array([0.0, 0.0, -R_MOON - 300e3])]
    for r in [position(lat, lon, alt) for lat, lon, alt in SITES] + exact_poles:
        pert = accel(data, r) + field.mu * r / np.linalg.norm(r) ** 3
        fd = fd_perturbing_acceleration(data, field.mu, r)
        # Rounding of U (~3e6 m²/s², a few ulp ≈ 1e-9 m²/s²) over h = 5 m gives ~1e-10 m/s²;
        # 1e-9 m/s² (0.1 µGal) is below 1e-5 of the non-central part at every site here.
        assert np.linalg.norm(pert - fd) < 1e-9, r
        assert np.linalg.norm(pert) > 1e-5


def test_gradient_degree165(grgm165):
    data = grgm165.kernel_data()
    for lat, lon, alt in SITES:
        r = position(lat, lon, alt)
        g = gradient(data, r)
        scale = np.linalg.norm(g)
        assert abs(np.trace(g)) < 1e-9 * scale  # Laplace: ∇·a = 0 outside the body
        fd = np.zeros((3, 3))
        h = 20.0  # m: 8th-order stencil, truncation (h n / r)^8 negligible
        for j in range(3):
            for k, w in enumerate(W8):
                rp = r.copy()
                rp[j] += (k - 4) * h
                fd[:, j] += w * accel(data, rp) / h
        # independent step and stencil; agreement 1e-9 of ‖∂a/∂r‖ (rounding / h of either)
        np.testing.assert_allclose(g, fd, atol=1e-9 * scale)


# ----------------------------------------------------------------------------- properties
def rotated_about_z(field, alpha):
    """Coefficients of the same body turned by alpha about z: U'(Rz(α) r) = U(r)."""
    m = np.arange(field.degree + 1)
    cos_m, sin_m = np.cos(m * alpha), np.sin(m * alpha)
    c = field.c * cos_m - field.s * sin_m
    s = field.c * sin_m + field.s * cos_m
    return field_from(c, s, field.mu, field.radius)


@pytest.fixture(scope="module")
def lp40(lp165):
    return lp165.truncated(40)


@settings(max_examples=40, deadline=None)
@given(lat=st.floats(-90, 90), lon=st.floats(-180, 180), alt=st.floats(5e3, 5e6),
       alpha=st.floats(-math.pi, math.pi))
def test_rotation_covariance(lp40, lat, lon, alt, alpha):
    """Turning the field and the point together turns the acceleration (checks the m-structure)."""
    rz = np.array([[math.cos(alpha), -math.sin(alpha), 0], [math.sin(alpha), math.cos(alpha), 0],
                   [0, 0, 1]])
    r = position(lat, lon, alt)
    a = accel(lp40.kernel_data(), r)
    a_rot = accel(rotated_about_z(lp40, alpha).kernel_data(), rz @ r)
    pert = a + lp40.mu * r / np.linalg.norm(r) ** 3
    # 1e-12 m/s² absolute: rounding of the rotated coefficients and of the central term
    np.testing.assert_allclose(a_rot, rz @ a, atol=1e-12 + 1e-9 * np.linalg.norm(pert))


@settings(max_examples=40, deadline=None)
@given(lat=st.floats(-90, 90), lon=st.floats(-180, 180), alt=st.floats(5e3, 5e6))
def test_gradient_properties_random(lp40, lat, lon, alt):
    data = lp40.kernel_data()
    r = position(lat, lon, alt)
    g = gradient(data, r)
    scale = np.linalg.norm(g)
    assert abs(np.trace(g)) < 1e-9 * scale  # Laplace equation
    np.testing.assert_array_equal(g, g.T)
    # first-order check along a random direction: a(r + δ) - a(r - δ) ≈ 2 G δ
    d = np.random.default_rng(7).normal(size=3)
    d *= 1.0 / np.linalg.norm(d)  # 1 m
    da = accel(data, r + d) - accel(data, r - d)
    np.testing.assert_allclose(da, 2 * g @ d, atol=1e-6 * 2 * scale)  # O((n/r)²) step error


# ----------------------------------------------------------------------------- plumbing
def test_workspace_copies_are_independent(lp40):
    data = lp40.kernel_data()
    other = gk.with_new_workspace(data)
    assert other.c is data.c and other.v_work is not data.v_work
    assert lp40.kernel_data().v_work is not data.v_work
    r1, r2 = position(10, 20, 1e5), position(-50, 80, 3e5)
    a1 = accel(data, r1)
    accel(other, r2)
    np.testing.assert_array_equal(accel(data, r1), a1)


def test_friendly_wrappers(lp40):
    rs = np.array([position(10, 20, 1e5), position(-50, 80, 3e5), position(89.99, 0, 1e4)])
    data = lp40.kernel_data()
    batch = gf.acceleration(lp40, rs)
    assert batch.shape == (3, 3)
    for r, a in zip(rs, batch):
        np.testing.assert_array_equal(a, accel(data, r))
    assert gf.potential(lp40, rs[0]) == gk.sh_potential(rs[0], data)
    assert gf.potential(lp40, rs).shape == (3,)
    with pytest.raises(gf.GravityFieldError) as err:
        gf.acceleration(lp40, np.zeros(3))
    assert err.value.field == "r_bf"
    with pytest.raises(gf.GravityFieldError):
        gf.acceleration(lp40, np.ones((2, 2)))


def test_order_truncated_field_matches_zeroed_coefficients(lp165):
    """order < degree: same result as a full-order field whose m > order terms are zero."""
    cut = lp165.truncated(30, 10)
    zeroed = field_from(cut.c.copy(), cut.s.copy(), cut.mu, cut.radius)
    for r in [position(89.99, 5, 1e4), position(12, -77, 2e5)]:
        np.testing.assert_allclose(accel(cut.kernel_data(), r), accel(zeroed.kernel_data(), r),
                                   rtol=1e-14)
