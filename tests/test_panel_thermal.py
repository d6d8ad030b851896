"""Flat-panel balance against analytic steady state and radiative cooling, its energy bookkeeping,
and the Chang'e-5 flag over one lunation."""

import math

import numpy as np
import pydantic
import pytest

from guanghan.environment import constants
from guanghan.dynamics import panel_thermal as pt
from guanghan.environment import spice_kernels
from guanghan.environment import surface_illumination as si

SIGMA = constants.STEFAN_BOLTZMANN
CE5 = si.SurfaceSite(name="Chang'e-5", lat_deg=43.0576, lon_deg=-51.9161, height_m=-2570.0)

# The brief's 2000 mm × 900 mm CE-5 flag (missions.md §1d marks the size unverified). Areal mass from
# the CE-6 flag, 11.8 g on 0.3 m × 0.2 m (§2d); aramid-like fabric c ≈ 1400 J/kg/K; a printed red
# fabric α ≈ 0.6, ε ≈ 0.85 (assumptions); limits ±150 °C (§1d).
FLAG = pt.FlatPanel(name="CE-5 flag", area_m2=2.0 * 0.9, thickness_m=3e-4, areal_mass_kg_m2=0.0118 / 0.06,
                    specific_heat_j_kgk=1400.0, absorptivity=0.6, emissivity=0.85, facing_azimuth_deg=0.0,
                    tilt_deg=90.0, min_temp_k=273.15 - 150.0, max_temp_k=273.15 + 150.0)


def _space_forcing(ets, sun_enu, irradiance):
    n = len(ets)
    return pt.PanelForcing(np.asarray(ets, float), np.tile(sun_enu, (n, 1)), np.full(n, irradiance))


def test_steady_state_at_normal_incidence_matches_analytic():
    """Panel facing the Sun at normal incidence, no ground: α S = 2 ε σ T⁴ (two radiating faces),
    ignoring the 3 K sky (adds < 1e-9 K)."""
    panel = pt.FlatPanel(area_m2=1.0, thickness_m=1e-3, density_kg_m3=2700.0, specific_heat_j_kgk=900.0,
                         absorptivity=0.7, emissivity=0.8, tilt_deg=0.0)
    ets = np.linspace(0.0, 20 * 3600.0, 2001)
    res = pt.integrate_panel(panel, _space_forcing(ets, [0.0, 0.0, 1.0], 1361.0), initial_temp_k=150.0)
    expected = (0.7 * 1361.0 / (2.0 * 0.8 * SIGMA)) ** 0.25
    print(f"\nsteady state at normal incidence: {res.temp_k[-1]:.3f} K (analytic {expected:.3f} K)")
    assert res.temp_k[-1] == pytest.approx(expected, rel=1e-6)
    # a back face with another emissivity: α S = (ε_f + ε_b) σ T⁴
    two = panel.model_copy(update={"back_emissivity": 0.2})
    res2 = pt.integrate_panel(two, _space_forcing(ets[:2], [0.0, 0.0, 1.0], 1361.0))
    assert res2.temp_k[0] == pytest.approx((0.7 * 1361.0 / (1.0 * SIGMA)) ** 0.25, rel=1e-9)


def test_radiative_cooling_matches_analytic():
    """No input: C dT/dt = −k T⁴ gives T = T0 (1 + 3 k T0³ t / C)^(−1/3)."""
    panel = pt.FlatPanel(area_m2=0.5, thickness_m=2e-3, density_kg_m3=1500.0, specific_heat_j_kgk=1000.0,
                         absorptivity=0.5, emissivity=0.9, tilt_deg=0.0)
    ets = np.linspace(0.0, 6 * 3600.0, 20001)
    res = pt.integrate_panel(panel, _space_forcing(ets, [0.0, 0.0, -1.0], 1361.0), initial_temp_k=400.0)
    k = 2.0 * 0.9 * SIGMA * 0.5
    exact = 400.0 * (1.0 + 3.0 * k * 400.0 ** 3 * ets / panel.heat_capacity_j_k) ** (-1.0 / 3.0)
    assert np.max(np.abs(res.temp_k - exact) / exact) < 2e-3   # backward Euler, first order, 1.08 s steps
    assert res.thermal_cycles == 0


def test_energy_balance_closes_exactly():
    """Backward Euler bookkeeping: C (T_end − T_0) = Σ Δt (absorbed − emitted + conducted) at the new T."""
    panel = FLAG.model_copy(update={"mount_conductance_w_k": 0.05, "mount_temp_k": 250.0})
    et0 = spice_kernels.utc_to_et("2020-12-10T00:00:00")
    res = pt.simulate_panel(panel, CE5, et0, et0 + 4 * 86400.0, step_s=300.0)     # through sunset
    dt = np.diff(res.ets)
    budget = np.sum(dt * (res.absorbed_w[1:] - res.emitted_w[1:] + res.conducted_w[1:]))
    stored = res.heat_capacity_j_k * (res.temp_k[-1] - res.temp_k[0])
    scale = np.sum(dt * res.emitted_w[1:])
    assert budget == pytest.approx(stored, abs=1e-9 * scale)


def test_mount_link_pulls_towards_the_mount():
    ets = np.linspace(0.0, 3600.0, 11)
    free = pt.FlatPanel(area_m2=0.01, thickness_m=1e-3, areal_mass_kg_m2=1.0, specific_heat_j_kgk=900.0,
                        absorptivity=0.5, emissivity=0.5, tilt_deg=0.0)
    tied = free.model_copy(update={"mount_conductance_w_k": 10.0, "mount_temp_k": 290.0})
    f = _space_forcing(ets, [0.0, 0.0, -1.0], 1361.0)                # night: nothing absorbed
    assert pt.integrate_panel(free, f).temp_k[-1] < 10.0
    t = pt.integrate_panel(tied, f).temp_k[-1]
    k = 0.01 * (0.5 + 0.5) * SIGMA
    assert 10.0 * (290.0 - t) == pytest.approx(k * (t ** 4 - pt.SPACE_TEMP_K ** 4), rel=1e-6)   # G ΔT = k T⁴
    assert 289.0 < t < 290.0


def test_ce5_flag_over_one_lunation():
    et0 = spice_kernels.utc_to_et("2020-12-01T15:11:00")                      # touchdown
    res = pt.simulate_panel(FLAG, CE5, et0, et0 + constants.MEAN_SYNODIC_MONTH_S, step_s=600.0)
    east = pt.simulate_panel(FLAG.model_copy(update={"facing_azimuth_deg": 90.0}), CE5, et0,
                             et0 + constants.MEAN_SYNODIC_MONTH_S, step_s=600.0)
    print(f"\nCE-5 flag (vertical, facing N/S) over one lunation: {res.min_temp_k:.1f}–{res.max_temp_k:.1f} K "
          f"({res.min_temp_k - 273.15:.0f} to {res.max_temp_k - 273.15:.0f} °C), {res.thermal_cycles} cycle(s), "
          f"limits ±150 °C held: {res.within_limits}; facing E/W: {east.min_temp_k:.1f}–{east.max_temp_k:.1f} K")
    assert res.thermal_cycles == 1 and east.thermal_cycles == 1
    assert 60.0 < res.min_temp_k < 110.0                   # night: half cold sky, half ~90 K regolith
    assert 300.0 < res.max_temp_k < 400.0
    assert res.within_limits == (res.min_temp_k >= FLAG.min_temp_k and res.max_temp_k <= FLAG.max_temp_k)
    # the flag is colder than the regolith it sees at night and, at α/ε < 1, cooler by day
    reg = pt.site_forcing(CE5, res.ets).regolith_temp_k
    assert res.min_temp_k < reg.min() and res.max_temp_k < reg.max()


def test_cycle_count_definition():
    t = 200.0 - 100.0 * np.cos(np.linspace(0.0, 6.0 * math.pi, 601))     # three periods from a minimum
    assert pt.count_thermal_cycles(t) == 3
    assert pt.count_thermal_cycles(t[100:]) == 2       # starts high: the first rise is not seen whole
    assert pt.count_thermal_cycles(t + 15.0 * np.sin(np.linspace(0.0, 300.0, 601))) == 3   # ripple ignored


def test_bad_input_names_the_parameter():
    with pytest.raises(pydantic.ValidationError, match="exactly one of areal_mass_kg_m2 and density_kg_m3"):
        pt.FlatPanel(area_m2=1.0, thickness_m=1e-3, areal_mass_kg_m2=1.0, density_kg_m3=1000.0,
                     specific_heat_j_kgk=900.0, absorptivity=0.5, emissivity=0.5)
    with pytest.raises(pydantic.ValidationError, match="absorptivity"):
        FLAG.model_validate({**FLAG.model_dump(), "absorptivity": 1.2})
    with pytest.raises(pydantic.ValidationError) as err:
        FLAG.model_validate({**FLAG.model_dump(), "min_temp_k": 500.0})
    assert err.value.errors()[0]["ctx"]["field"] == "min_temp_k"
    assert err.value.errors()[0]["ctx"]["value"] == 500.0
