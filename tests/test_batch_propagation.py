"""Batch propagation against its truth, the single propagation: same bits per trajectory, whatever the
thread count or chunking; per-trajectory failures reported; bad input refused naming the field."""

import math

import numba
import numpy as np
import pytest

from guanghan.dynamics.batch_propagation import (
    DONE,
    TOO_MANY_STEPS,
    _own_force_data,
    propagate_batch,
)
from guanghan.dynamics.forces import CentralGravity, FiniteBurn, ForceModel, ThirdBody
from guanghan.dynamics.kepler import Elements, elements_to_state
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment import spice_kernels
from guanghan.environment.gravity_field import load_lunar_field
from guanghan.errors import InputError, PropagationError

ET0 = 757_339_269.0                 # ET s, 2024-01-01 00:00 UTC less 0.18 s: mid-day of the 1-day tables
R_MOON = 1_737_400.0
SPAN = 3 * 3600.0                   # s, about 1.5 orbits at 100 km
TOL = Tolerances(1e-11, 1e-4)


@pytest.fixture(scope="module")
def model():
    field = load_lunar_field("GRGM1200A", 10)
    return ForceModel(CentralGravity("MOON", field.mu, field),
                      [ThirdBody("EARTH", spice_kernels.gm("EARTH")), ThirdBody("SUN", spice_kernels.gm("SUN"))])


def dispersed_states(model, n, seed=7, stagger_s=900.0):
    """n polar-ish 80–120 km orbits, starting ``stagger_s`` apart (ET s)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        el = Elements(R_MOON + 100e3 + rng.uniform(-20e3, 20e3), rng.uniform(0.0, 0.01),
                      math.radians(90.0 + rng.normal(0.0, 3.0)), rng.uniform(0, 2 * math.pi),
                      rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi))
        r, v = elements_to_state(model.central.mu, el)
        out.append(SpacecraftState(ET0 + stagger_s * i, r, v, 1000.0 + 10.0 * i))
    return out


def test_each_trajectory_is_bit_identical_to_its_single_propagation(model):
    """Own start and end epochs per trajectory, samples at common epochs: every bit as propagate()."""
    states = dispersed_states(model, 5)
    ends = np.array([s.et + SPAN - 400.0 * i for i, s in enumerate(states)])
    sample_ets = np.concatenate([[ET0 - 10.0, ET0], np.linspace(ET0 + 1.0, ends.max(), 9), [ends.max() + 5.0]])
    res = propagate_batch(states, ends, model, TOL, sample_ets=sample_ets)
    assert np.all(res.status == DONE) and res.ok.all()
    for i, s in enumerate(states):
        traj = propagate(s, ends[i], model, TOL).trajectory
        assert np.array_equal(res.final_states[i], traj.final_state)          # bit for bit
        assert res.reached_et[i] == ends[i] and res.final_state(i).et == ends[i]
        assert res.steps[i] == traj.n_steps
        assert res.n_eval[i] >= 12 * traj.n_steps + 1
        inside = (sample_ets >= s.et) & (sample_ets <= ends[i])
        assert np.array_equal(res.samples[i, inside], traj.states(sample_ets[inside]))
        assert np.isnan(res.samples[i, ~inside]).all()
    assert res.samples[0, 1, 0] == states[0].r[0]                             # the start epoch itself


def test_the_rkn_batch_is_bit_identical_to_its_single_propagations(model):
    """integrator="rkn1210": each final state as propagate(..., integrator="rkn1210") gives it,
    with 1 or 2 threads and small chunks; fewer evaluations than the DOP853 batch."""
    states = dispersed_states(model, 4, seed=3)
    ends = np.array([s.et + SPAN for s in states])
    res = propagate_batch(states, ends, model, TOL, integrator="rkn1210")
    assert res.ok.all()
    for i, s in enumerate(states):
        traj = propagate(s, ends[i], model, TOL, integrator="rkn1210").trajectory
        assert np.array_equal(res.final_states[i], traj.final_state)
        assert res.steps[i] == traj.n_steps
    small = propagate_batch(states, ends, model, TOL, integrator="rkn1210", threads=1, chunk_steps=5)
    assert np.array_equal(small.final_states, res.final_states)
    dop = propagate_batch(states, ends, model, TOL)
    assert res.n_eval.sum() < dop.n_eval.sum()
    assert np.abs(dop.final_states[:, :3] - res.final_states[:, :3]).max() < 0.05      # m, 3 h


def test_thread_count_and_chunking_do_not_change_a_bit(model):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs NUMBA_NUM_THREADS ≥ 2")
    states = dispersed_states(model, 6, seed=11, stagger_s=0.0)
    sample_ets = np.linspace(ET0, ET0 + SPAN, 13)
    before = numba.get_num_threads()
    one = propagate_batch(states, ET0 + SPAN, model, TOL, sample_ets=sample_ets, threads=1)
    two = propagate_batch(states, ET0 + SPAN, model, TOL, sample_ets=sample_ets, threads=2)
    small = propagate_batch(states, ET0 + SPAN, model, TOL, sample_ets=sample_ets, threads=2, chunk_steps=7)
    assert (one.threads, two.threads) == (1, 2)
    assert numba.get_num_threads() == before                       # the caller's setting is restored
    for other in (two, small):
        assert np.array_equal(one.final_states, other.final_states)
        assert np.array_equal(one.samples, other.samples)
        assert np.array_equal(one.steps, other.steps)


def test_each_trajectory_gets_its_own_workspaces_and_time_origin(model):
    """What makes threads safe, checked directly (a race would show in the test above only when
    the threads happen to overlap): rhs's workspaces are private, the tables shared."""
    fd = model.compile(ET0, ET0 + 60.0)
    own = _own_force_data(fd._replace(sh=0), fd.sh, ET0 + 5.0)
    assert own.et_ref == ET0 + 5.0 and type(own) is type(fd)
    for a, b in [(own.buf, fd.buf), (own.r_bf, fd.r_bf), (own.a_bf, fd.a_bf), (own.sh.v_work, fd.sh.v_work),
                 (own.sh.w_work, fd.sh.w_work), (own.sh.scratch, fd.sh.scratch)]:
        assert a.shape == b.shape and not np.shares_memory(a, b)
    assert np.shares_memory(own.cheb_coeffs, fd.cheb_coeffs) and np.shares_memory(own.sh.c, fd.sh.c)


def test_array_input_matches_spacecraft_states(model):
    states = dispersed_states(model, 3, stagger_s=0.0)
    rv = np.array([np.concatenate([s.r, s.v]) for s in states])
    masses = np.array([s.mass for s in states])
    a = propagate_batch(states, ET0 + 1800.0, model, TOL)
    b = propagate_batch(rv, ET0 + 1800.0, model, TOL, epoch=ET0, mass_kg=masses)
    c = propagate_batch(np.column_stack([rv, masses]), ET0 + 1800.0, model, TOL, epoch=np.full(3, ET0))
    assert np.array_equal(a.final_states, b.final_states) and np.array_equal(a.final_states, c.final_states)


def test_a_failed_trajectory_is_reported_and_does_not_stop_the_others(model):
    states = dispersed_states(model, 3, stagger_s=0.0)
    ends = np.array([ET0 + 60.0, ET0 + SPAN, ET0 + 90.0])          # the long one needs > 10 steps
    res = propagate_batch(states, ends, model, TOL, chunk_steps=4, max_steps=10)
    assert res.status.tolist() == [DONE, TOO_MANY_STEPS, DONE]
    assert res.reached_et[1] < ends[1] and res.steps[1] == 12      # stopped after the chunk that passed 10
    stop = res.reached_et[1]                                        # deterministic: sample up to it exactly
    again = propagate_batch(states, ends, model, TOL, chunk_steps=4, max_steps=10,
                            sample_ets=[ET0 + 30.0, stop - 1.0, stop, stop + 1.0])
    assert np.array_equal(again.final_states, res.final_states)
    assert not np.isnan(again.samples[1, :3]).any() and np.isnan(again.samples[1, 3]).all()
    # `stop` is et0 + tau rounded to an ET ulp (1.2e-7 s, 0.2 mm at 1.6 km/s): the interpolant there
    assert np.abs(again.samples[1, 2, :3] - res.final_states[1, :3]).max() < 1e-3          # m
    for i in (0, 2):
        assert np.array_equal(res.final_states[i], propagate(states[i], ends[i], model, TOL).trajectory.final_state)
    with pytest.raises(PropagationError):
        propagate(states[1], ends[1], model, TOL, chunk_steps=4, max_steps=10)
    with pytest.raises(PropagationError, match="1 of 3"):
        res.raise_on_failure()


@pytest.mark.parametrize("change, quantity", [
    (lambda s, kw: {**kw, "states": [s[0], s[1].to_frame("MOON_PA")]}, "states[1]"),
    (lambda s, kw: {**kw, "states": [s[0], s[1].recentered("EARTH")]}, "states[1]"),
    (lambda s, kw: {**kw, "states": np.zeros((2, 5)), "epoch": ET0}, "states"),
    (lambda s, kw: {**kw, "states": np.zeros((0, 7)), "epoch": ET0}, "states"),
    (lambda s, kw: {**kw, "states": [s[0], s[1].vector], "epoch": ET0}, "states"),
    (lambda s, kw: {**kw, "states": np.ones((2, 7))}, "epoch"),
    (lambda s, kw: {**kw, "states": np.ones((2, 6)), "epoch": ET0}, "mass_kg"),
    (lambda s, kw: {**kw, "states": np.ones((2, 7)), "epoch": [ET0] * 3}, "epoch"),
    (lambda s, kw: {**kw, "epoch": ET0}, "epoch"),
    (lambda s, kw: {**kw, "states": [s[0], s[1].with_mass(0.0)]}, "states[1]"),
    (lambda s, kw: {**kw, "end_et": [ET0 + 60.0, ET0 - 60.0]}, "end_et[1]"),
    (lambda s, kw: {**kw, "end_et": [ET0 + 60.0] * 3}, "end_et"),
    (lambda s, kw: {**kw, "end_et": math.nan}, "end_et"),
    (lambda s, kw: {**kw, "tolerances": Tolerances(0.5, 1e-4)}, "tolerances"),
    (lambda s, kw: {**kw, "sample_ets": [ET0 + 20.0, ET0 + 10.0]}, "sample_ets"),
    (lambda s, kw: {**kw, "threads": 0}, "threads"),
    (lambda s, kw: {**kw, "threads": numba.config.NUMBA_NUM_THREADS + 1}, "threads"),
    (lambda s, kw: {**kw, "chunk_steps": 0}, "chunk_steps"),
    (lambda s, kw: {**kw, "integrator": "rk4"}, "integrator"),
    (lambda s, kw: {**kw, "integrator": "rkn1210", "sample_ets": [ET0 + 10.0]}, "sample_ets"),
])
def test_bad_input_is_refused_naming_the_field(model, change, quantity):
    states = dispersed_states(model, 2, stagger_s=0.0)
    kwargs = change(states, {"states": states, "end_et": ET0 + 60.0, "model": model})
    with pytest.raises(InputError) as info:
        propagate_batch(**kwargs)
    assert info.value.quantity == quantity


def test_models_with_finite_burns_are_refused(model):
    burned = ForceModel(model.central, model.third_bodies, burns=[FiniteBurn(ET0 + 10.0, 5.0, 400.0, 300.0)])
    with pytest.raises(InputError) as info:
        propagate_batch(dispersed_states(model, 2), ET0 + 3600.0, burned)
    assert info.value.quantity == "model.burns"
