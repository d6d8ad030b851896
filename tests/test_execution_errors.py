"""Burn cut-offs and engine cant against the rocket equation: a timer keeps the duration, an
accelerometer cut-off delivers the planned ideal Δv whatever the thrust error and is off by exactly
its own scale factor and bias; a canted engine set keeps its mass flow and gives F cos(cant)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanghan.dynamics.forces import FiniteBurn
from guanghan.dynamics.propulsion import Engine
from guanghan.environment.constants import STANDARD_GRAVITY as G0
from guanghan.gnc.execution_errors import ExecutionErrors, accelerometer_cutoff_s, dispersed

PLANNED = FiniteBurn(1000.0, 1080.0, 600.0, 290.0, "inertial", (0.0, 1.0, 0.0))
M0 = 2694.0                                             # kg, the Chang'e-5 stack before TEI-2


def ideal_dv(burn: FiniteBurn, m0: float) -> float:
    """Tsiolkovsky Δv (m/s) of ``burn`` from ``m0``: Isp g0 ln(m0 / (m0 − F t /(Isp g0)))."""
    c = burn.isp_s * G0
    return c * math.log(m0 / (m0 - burn.thrust_n * burn.duration_s / c))


@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3))
def test_accelerometer_cutoff_reaches_the_planned_dv_whatever_the_thrust(zt, z1, z2):
    errs = ExecutionErrors(thrust_sigma_pct=1.0, pointing_sigma_deg=0.1, seed=1, cutoff="accelerometer")
    flown = dispersed(PLANNED, errs, np.array([zt, z1, z2, 0.0, 0.0]), M0)
    assert flown.thrust_n == pytest.approx(PLANNED.thrust_n * (1 + zt / 100))
    assert flown.duration_s == pytest.approx(PLANNED.duration_s / (1 + zt / 100), rel=1e-12)
    assert ideal_dv(flown, M0) == pytest.approx(ideal_dv(PLANNED, M0), rel=1e-12)
    timer = dispersed(PLANNED, errs.model_copy(update={"cutoff": "timer"}), np.array([zt, z1, z2, 0, 0]))
    assert timer.duration_s == PLANNED.duration_s and timer.vector_j2000 == flown.vector_j2000


@pytest.mark.parametrize("scale_ppm, bias_ug", [(100.0, 0.0), (0.0, 10.0), (-300.0, -50.0)])
def test_the_accelerometer_error_is_what_remains(scale_ppm, bias_ug):
    """The sensed Δv (1 + k) Δv_true + b t equals the planned Δv at the cut-off."""
    k, b = scale_ppm * 1e-6, bias_ug * 1e-6 * G0
    t = accelerometer_cutoff_s(PLANNED, M0, 1.002, k, b)
    flown = FiniteBurn(PLANNED.start_et, t, PLANNED.thrust_n * 1.002, PLANNED.isp_s)
    planned_dv = ideal_dv(PLANNED, M0)
    assert (1 + k) * ideal_dv(flown, M0) + b * t == pytest.approx(planned_dv, rel=1e-11)
    if b == 0.0:
        assert ideal_dv(flown, M0) == pytest.approx(planned_dv / (1 + k), rel=1e-11)


def test_an_accelerometer_cutoff_needs_the_mass():
    errs = ExecutionErrors(cutoff="accelerometer")
    with pytest.raises(ValueError, match="mass"):
        dispersed(PLANNED, errs, np.zeros(5))


def test_canted_engines_keep_their_mass_flow_and_lose_axial_thrust():
    eng = Engine(thrust_n=150.0, isp_s=290.0, count=4, cant_deg=20.0)
    axial = eng.axial()
    assert axial.total_thrust_n == pytest.approx(600.0 * math.cos(math.radians(20.0)), rel=1e-15)
    assert axial.mass_flow_kg_s == pytest.approx(eng.mass_flow_kg_s, rel=1e-15)
    assert axial.cant_deg == 0.0 and Engine(thrust_n=150.0, isp_s=290.0).axial().thrust_n == 150.0
    with pytest.raises(ValueError):
        Engine(thrust_n=150.0, isp_s=290.0, cant_deg=75.0)


def test_the_scenario_hands_legs_the_axial_engines():
    from helpers import scenario_path

    import guanghan as gh

    sc = gh.load_scenario(scenario_path("chang-e-5"))
    data = sc.model_copy(deep=True)
    eng = data.modules["orbiter"].engines["thruster_150n"]
    data.modules["orbiter"].engines["thruster_150n"] = eng.model_copy(update={"cant_deg": 10.0})
    got = data.vehicle_engines("orbiter_returner_stack")["orbiter.thruster_150n"]
    assert got.total_thrust_n == pytest.approx(eng.total_thrust_n * math.cos(math.radians(10.0)))
    assert sc.vehicle_engines("orbiter_returner_stack")["orbiter.thruster_150n"] == eng
