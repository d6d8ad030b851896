"""Scoop and sample container: layer density against the integrated Hayne profile, the truncated-
normal fill against its analytic mean, the stopping rules, the capacity error, invariants and a
Chang'e-5-like filling."""

import math

import numpy as np
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from guanghan.dynamics import regolith_scooping as rs
from guanghan.environment.regolith_thermal import RegolithProperties
from guanghan.errors import InputError

# Chang'e-5-like scoop. At least twelve scoops filled the container (CAST via clubic.com, 2020-12);
# 1731 g returned (missions.md §1d) less the 259.72 g drill core (Zhang et al. 2023) is ~1471 g, about
# 120 g a scoop. ASSUMPTIONS: a 120 cm³ scoop filled 0.8 ± 0.15 digging 3 cm (layer density
# 1.25 g/cm³ from Hayne's profile), one cycle an hour (~17 h of arm work after the drill, missions.md
# §1d), at most 15 cycles; container 2000 g (the "about 2 kg" design figure).
CE5_SCOOP = {"volume_cm3": 120.0, "fill_fraction_mean": 0.8, "fill_fraction_sd": 0.15, "dig_depth_m": 0.03,
             "cycle_duration_s": 3600.0, "max_cycles": 15}


def _scoop(**kw) -> rs.Scoop:
    return rs.Scoop(**{**CE5_SCOOP, **kw})


def test_scoop_density_is_the_layer_mean_of_hayne():
    """ρ̄ = (1/d) ∫0^d ρ dz × compaction, with ρ(z) = 1800 − 700 e^(−z/0.06) kg/m³ (Hayne Table A1)."""
    for d, k in ((0.01, 1.0), (0.03, 1.0), (0.2, 0.9)):
        integral, _ = quad(lambda z: 1800.0 - 700.0 * math.exp(-z / 0.06), 0.0, d, epsabs=1e-12)
        assert _scoop(dig_depth_m=d, compaction_factor=k).bulk_density_kg_m3() == pytest.approx(
            integral / d * k, rel=1e-12)
    dense = RegolithProperties(density_surface_kg_m3=1500.0, density_deep_kg_m3=1500.0)
    assert _scoop().bulk_density_kg_m3(dense) == pytest.approx(1500.0, rel=1e-12)


def test_fixed_fill_gives_volume_times_density():
    scoop = _scoop(fill_fraction_sd=0.0)
    masses = rs.scoop_cycles(scoop, 5, np.random.default_rng(0))
    assert np.all(masses == pytest.approx(120e-6 * 0.8 * scoop.bulk_density_kg_m3(), rel=1e-15))


def test_fill_fraction_is_truncated_normal():
    """Sample mean against the truncated-normal mean μ + σ (φ(a) − φ(b))/(Φ(b) − Φ(a)), a = −μ/σ,
    b = (1 − μ)/σ (Johnson, Kotz & Balakrishnan 1994, §10.1), within 4 standard errors."""
    scoop = _scoop(fill_fraction_mean=0.9, fill_fraction_sd=0.3)
    full = 120e-6 * scoop.bulk_density_kg_m3()
    fill = rs.scoop_cycles(scoop, 200_000, np.random.default_rng(3)) / full
    assert fill.min() >= 0.0 and fill.max() <= 1.0
    a, b = -0.9 / 0.3, 0.1 / 0.3
    pdf_a, pdf_b = (math.exp(-x * x / 2) / math.sqrt(2 * math.pi) for x in (a, b))
    cdf_a, cdf_b = (0.5 * (1 + math.erf(x / math.sqrt(2))) for x in (a, b))
    mean = 0.9 + 0.3 * (pdf_a - pdf_b) / (cdf_b - cdf_a)
    assert abs(fill.mean() - mean) < 4 * fill.std() / math.sqrt(fill.size)


def test_stops_at_the_target():
    """Fixed 96 g scoops (120 cm³ × 0.8 × 1000 kg/m³): 0.74 kg to go takes ⌈0.74/0.096⌉ = 8 cycles."""
    flat = RegolithProperties(density_surface_kg_m3=1000.0, density_deep_kg_m3=1000.0)
    scoop = _scoop(fill_fraction_sd=0.0)
    got = rs.fill_container(rs.SampleContainer(capacity_g=2000.0), 0.26, scoop, 1.0, np.random.default_rng(0), flat)
    assert got.limited_by == "target" and got.cycles == 8
    assert got.total_kg == pytest.approx(0.26 + 8 * 0.096, rel=1e-12)
    assert got.duration_s == 8 * 3600.0 and got.scooped_kg == pytest.approx(got.masses_kg.sum())


def test_stops_at_capacity_and_at_max_cycles():
    flat = RegolithProperties(density_surface_kg_m3=1000.0, density_deep_kg_m3=1000.0)
    scoop = _scoop(fill_fraction_sd=0.0)
    full = rs.fill_container(rs.SampleContainer(capacity_g=1010.0), 0.26, scoop, 1.0, np.random.default_rng(0), flat)
    assert full.limited_by == "capacity" and full.total_kg == pytest.approx(1.010, rel=1e-12)
    assert full.masses_kg[-1] == pytest.approx(1.010 - 0.26 - 7 * 0.096, rel=1e-9)   # last pour metered
    short = rs.fill_container(rs.SampleContainer(capacity_g=2000.0), 0.26, _scoop(fill_fraction_sd=0.0,
                              max_cycles=3), 1.0, np.random.default_rng(0), flat)
    assert short.limited_by == "max_cycles" and short.cycles == 3
    assert short.total_kg == pytest.approx(0.26 + 3 * 0.096, rel=1e-12)
    done = rs.fill_container(rs.SampleContainer(capacity_g=2000.0), 1.2, scoop, 1.0, np.random.default_rng(0))
    assert done.cycles == 0 and done.limited_by == "target" and done.total_kg == 1.2


def test_container_smaller_than_target_is_an_input_error():
    with pytest.raises(InputError) as err:
        rs.fill_container(rs.SampleContainer(capacity_g=1500.0), 0.26, _scoop(), 2.0, np.random.default_rng(0))
    assert err.value.quantity == "capacity_g" and err.value.value == 1500.0 and err.value.limit == 2000.0
    assert "1500" in str(err.value) and "2000" in str(err.value)
    with pytest.raises(InputError) as err:                               # 1000 cm³ × 1.25 g/cm³ < 2 kg
        rs.fill_container(rs.SampleContainer(capacity_g=3000.0, volume_cm3=1000.0), 0.26, _scoop(), 2.0,
                          np.random.default_rng(0))
    assert err.value.quantity == "volume_cm3"
    with pytest.raises(InputError) as err:
        rs.fill_container(rs.SampleContainer(capacity_g=2000.0), 2.5, _scoop(), 1.0, np.random.default_rng(0))
    assert err.value.quantity == "core_kg"
    with pytest.raises(InputError):
        rs.fill_container(rs.SampleContainer(capacity_g=2000.0), 0.2, _scoop(), 0.0, np.random.default_rng(0))


def test_config_records_are_strict_and_bounded():
    with pytest.raises(pydantic.ValidationError):
        _scoop(fill_fraction_mean=1.2)
    with pytest.raises(pydantic.ValidationError):
        _scoop(max_cycles=2.5)
    with pytest.raises(pydantic.ValidationError):
        rs.SampleContainer(capacity_g="2000")
    with pytest.raises(pydantic.ValidationError):
        rs.SampleContainer(capacity_g=2000.0, lid=True)


def test_seeded_reproducibility():
    container = rs.SampleContainer(capacity_g=2000.0)
    a = rs.fill_container(container, 0.26, _scoop(), 1.9, np.random.default_rng(42))
    np.random.seed(1)
    b = rs.fill_container(container, 0.26, _scoop(), 1.9, np.random.default_rng(42))
    assert np.array_equal(a.masses_kg, b.masses_kg) and a.limited_by == b.limited_by
    c = rs.fill_container(container, 0.26, _scoop(), 1.9, np.random.default_rng(43))
    assert not np.array_equal(a.masses_kg, c.masses_kg)


@settings(max_examples=200, deadline=None)
@given(capacity=st.floats(100.0, 5000.0), target_frac=st.floats(0.05, 1.0), core_frac=st.floats(0.0, 1.2),
       volume=st.floats(1.0, 500.0), mean=st.floats(0.01, 1.0), sd=st.floats(0.0, 0.5),
       cycles=st.integers(1, 60), seed=st.integers(0, 2 ** 32 - 1))
def test_invariants(capacity, target_frac, core_frac, volume, mean, sd, cycles, seed):
    target = capacity / 1000.0 * target_frac
    core = target * core_frac
    if core > capacity / 1000.0:
        return
    scoop = _scoop(volume_cm3=volume, fill_fraction_mean=mean, fill_fraction_sd=sd, max_cycles=cycles)
    got = rs.fill_container(rs.SampleContainer(capacity_g=capacity), core, scoop, target, np.random.default_rng(seed))
    assert got.limited_by in rs.LIMITS
    assert got.total_kg <= capacity / 1000.0 * (1 + 1e-12)               # never overfilled
    assert np.all(got.masses_kg >= 0.0) and got.cycles == got.masses_kg.size <= cycles
    assert np.all(got.masses_kg <= volume * 1e-6 * scoop.bulk_density_kg_m3() * (1 + 1e-12))
    assert got.total_kg == pytest.approx(core + got.masses_kg.sum(), rel=1e-12, abs=1e-15)
    assert (got.total_kg >= target * (1 - 1e-12)) == (got.limited_by != "max_cycles")


def test_change5_like_filling():
    """CE-5-like container after the model's drill core (~0.50 kg for a full 2 m hole) and after the
    flight's 259.72 g core: cycles to a 2 kg target."""
    container = rs.SampleContainer(capacity_g=2000.0)
    scoop = _scoop()
    for core in (0.502, 0.25972):
        runs = [rs.fill_container(container, core, scoop, 2.0, np.random.default_rng(s)) for s in range(50)]
        cycles = [r.cycles for r in runs]
        print(f"\ncore {core * 1e3:.0f} g: {np.mean(cycles):.1f} cycles on average (range {min(cycles)}–"
              f"{max(cycles)}), {np.mean([r.scooped_kg for r in runs]) * 1e3:.0f} g scooped, limits "
              f"{sorted({r.limited_by for r in runs})}")
        assert all(10 <= c <= 15 for c in cycles)
