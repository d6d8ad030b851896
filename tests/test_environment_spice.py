"""Time scales, ephemerides, frames and Chebyshev tables against SPICE called directly."""

import numpy as np
import pytest
import spiceypy

from guanghan.environment import ephemeris, frames, spice_kernels, time_scales
from guanghan.environment.chebyshev import ChebyshevTable
from guanghan.errors import EphemerisRangeError

ET_CE5 = 660_000_000.0   # 2020-11-30, inside the Chang'e-5 mission


@pytest.fixture(scope="module", autouse=True)
def kernels():
    spice_kernels.furnish()


def test_utc_round_trip_and_leap_seconds():
    et = time_scales.utc_to_et("2020-12-01T15:11:00Z")
    assert time_scales.et_to_utc(et) == "2020-12-01T15:11:00.000Z"
    # ET - UTC = 32.184 s + 37 leap seconds (since 2017) + periodic term below 2 ms
    assert abs(spice_kernels.delta_et_utc(et) - 69.184) < 2e-3
    # J2000 epoch: 2000-01-01T12:00:00 TDB = 11:58:55.816 UTC
    assert abs(time_scales.utc_to_et("2000-01-01T11:58:55.816Z")) < 1e-3


def test_bad_utc_is_a_clear_error():
    with pytest.raises(ValueError, match="UTC"):
        time_scales.utc_to_et("2020-13-45T99:00:00")


def test_moon_position_matches_spkpos():
    ets = ET_CE5 + np.linspace(0, 86400 * 10, 7)
    r = ephemeris.position("MOON", "EARTH", ets)
    for i, et in enumerate(ets):
        ref, _ = spiceypy.spkpos("MOON", et, "J2000", "NONE", "EARTH")
        assert np.max(np.abs(r[i] - np.array(ref) * 1e3)) < 1e-6   # 1 µm: same kernel, km → m
    # Earth–Moon distance in its known range, and the ~1.3 s light time (missions.md)
    assert 3.5e8 < np.linalg.norm(r[0]) < 4.1e8
    assert 1.17 < ephemeris.light_time("MOON", "EARTH", ET_CE5) < 1.37


def test_outside_ephemeris_span_names_span():
    with pytest.raises(EphemerisRangeError) as err:
        ephemeris.position("MOON", "EARTH", [1e11])
    assert "DE440" in str(err.value) and err.value.start_utc.startswith("1549")


def test_moon_pa_and_me_frames_against_pxform():
    ets = ET_CE5 + np.array([0.0, 3.3e5, 2.0e6])
    for frame in ("MOON_PA", "MOON_ME", "ITRF93"):
        rot = frames.rotation("J2000", frame, ets)
        for i, et in enumerate(ets):
            assert np.max(np.abs(rot[i] - np.array(spiceypy.pxform("J2000", frame, et)))) < 1e-15
    # MOON_PA and MOON_ME differ by a constant rotation of about 0.02 deg (~ 875 m at the surface)
    d = frames.rotation("MOON_PA", "MOON_ME", ets)
    angle = np.degrees(np.arccos((np.trace(d, axis1=1, axis2=2) - 1) / 2))
    assert np.all((angle > 0.01) & (angle < 0.04))
    assert np.ptp(angle) < 1e-9


def test_state_transform_adds_rotation_velocity():
    """A point fixed on the lunar surface has inertial speed ω R ≈ 4.6 m/s at the equator."""
    r_bf = np.array([[1_737_400.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    x = frames.transform_states(r_bf, "MOON_ME", "J2000", [ET_CE5])
    omega = 2 * np.pi / (27.321661 * 86400)
    assert abs(np.linalg.norm(x[0, 3:]) - omega * 1_737_400.0) < 0.05
    back = frames.transform_states(x, "J2000", "MOON_ME", [ET_CE5])
    assert np.max(np.abs(back - r_bf)) < 1e-8


def test_chebyshev_table_reproduces_spice():
    et0, et1 = ET_CE5, ET_CE5 + 7 * 86400

    def sample(ets):
        return np.hstack([frames.rotation("J2000", "MOON_PA", ets).reshape(-1, 9),
                          spice_kernels.body_positions("EARTH", "MOON", "J2000", ets),
                          spice_kernels.body_positions("SUN", "MOON", "J2000", ets)])

    tab = ChebyshevTable.fit(sample, et0, et1)
    rng = np.random.default_rng(1)
    ets = rng.uniform(et0, et1, 40)
    fit, ref = tab(ets), sample(ets)
    assert np.max(np.abs(fit[:, :9] - ref[:, :9])) < 2e-12       # rad: 3.5 µm at the lunar surface
    assert np.max(np.abs(fit[:, 9:12] - ref[:, 9:12])) < 1e-3     # 1 mm on Earth's position
    assert np.max(np.abs(fit[:, 12:] - ref[:, 12:])) < 1e-2       # 1 cm at 1 au


def test_chebyshev_exact_for_polynomials():
    tab = ChebyshevTable.fit(lambda t: np.stack([t ** 2, np.cos(t / 1e5)], axis=1), 0.0, 3e5)
    t = np.linspace(0, 3e5, 11)
    assert np.allclose(tab(t)[:, 0], t ** 2, rtol=1e-12, atol=1e-3)
    assert np.allclose(tab(t)[:, 1], np.cos(t / 1e5), atol=1e-12)


@pytest.mark.parametrize("frame, span_s", [("MOON_ME", 3 * 86400.0), ("MOON_PA", 3600.0),
                                           ("ITRF93", 600.0), ("J2000", 1e5)])
def test_dense_rotations_are_interpolated_to_round_off(frame, span_s):
    """Dense requests are Hermite-interpolated between sxform nodes: every matrix within 1e-11 of
    pxform at the same epoch (2e-5 m at the lunar surface), unsorted epochs included."""
    ets = ET_CE5 + np.random.default_rng(7).uniform(0.0, span_s, 3000)
    rot = frames.rotation("J2000", frame, ets)
    ref = np.array([spiceypy.pxform("J2000", frame, et) for et in ets])
    assert np.max(np.abs(rot - ref)) < 1e-11
    assert np.max(np.abs(np.einsum("nij,nkj->nik", rot, rot) - np.eye(3))) < 1e-11


@pytest.mark.parametrize("target, observer, frame, span_s", [
    ("SUN", "MOON", "J2000", 10 * 86400.0), ("EARTH", "MOON", "J2000", 86400.0),
    ("MOON", "EARTH", "J2000", 3 * 86400.0), ("SUN", "MOON", "MOON_ME", 2 * 86400.0),
    ("EARTH", "MOON", "MOON_ME", 3600.0)])
def test_dense_positions_are_interpolated_within_1e_12_of_the_distance(target, observer, frame, span_s):
    """Dense requests are Hermite-interpolated between spkezr nodes: every position within 1e-12
    of the distance of spkpos at the same epoch, unsorted epochs included."""
    ets = ET_CE5 + np.random.default_rng(8).uniform(0.0, span_s, 3000)
    got = spice_kernels.body_positions(target, observer, frame, ets)
    ref = np.asarray(spiceypy.spkpos(target, ets, frame, "NONE", observer)[0]) * 1e3
    assert np.max(np.linalg.norm(got - ref, axis=1) / np.linalg.norm(ref, axis=1)) < 1e-12


def test_sparse_position_requests_are_not_interpolated():
    ets = ET_CE5 + np.linspace(0.0, 30 * 86400.0, 70)         # too few epochs per node to pay
    got = spice_kernels.body_positions("EARTH", "MOON", "J2000", ets)
    ref = np.asarray(spiceypy.spkpos("EARTH", ets, "J2000", "NONE", "MOON")[0]) * 1e3
    assert np.array_equal(got, ref)


@pytest.mark.parametrize("start, span_s", [("2020-12-01T15:00:00", 3600.0), ("2024-06-01T00:00:00", 20 * 86400.0),
                                           ("2031-06-01T00:00:00", 2 * 86400.0)])
def test_many_utc_strings_at_once_are_et2utc_s(start, span_s):
    """A dense request is converted at once; every string is SPICE's, but at a rounding tie of
    the millisecond (an epoch whose tenth of a millisecond is exactly 5), where it may be 1 ms on."""
    ets = time_scales.utc_to_et(start) + np.random.default_rng(2).uniform(0.0, span_s, 20_000)
    got = time_scales.et_to_utc(ets)
    ref = [spice_kernels.et_to_utc(e) for e in ets]
    differ = [i for i, (a, b) in enumerate(zip(got, ref, strict=True)) if a != b]
    assert len(differ) <= 10
    for i in differ:
        lag = time_scales.utc_to_et(got[i]) - time_scales.utc_to_et(ref[i])
        assert abs(abs(lag) - 1e-3) < 1e-6                       # one millisecond apart
        tenths = (ets[i] - spice_kernels.delta_et_utc(ets[i])) * 1e4 % 10.0
        assert abs(tenths - 5.0) < 1e-3                          # at a tie


def test_utc_strings_across_a_leap_second_come_from_spice():
    ets = time_scales.utc_to_et("2016-12-31T23:59:00") + np.linspace(0.0, 120.0, 241)
    got = time_scales.et_to_utc(ets)
    assert got == [spice_kernels.et_to_utc(e) for e in ets]
    assert "2016-12-31T23:59:60.500Z" in got
