"""The truncated normal's inverse CDF against scipy.stats.truncnorm (same draws for one generator)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import truncnorm

from guanghan.truncated_normal import truncated_normal_ppf


@pytest.mark.parametrize("a, b", [(-7.0, 3.0), (-3.0, 3.0), (-2.0, 0.5), (1.0, 4.0), (-4.0, -1.0), (2.5, 8.0)])
def test_matches_scipy_truncnorm_ppf(a, b):
    u = np.random.default_rng(7).uniform(size=20_000)
    got = truncated_normal_ppf(u, a, b, loc=0.3, scale=0.05)
    ref = truncnorm.ppf(u, a, b, loc=0.3, scale=0.05)
    assert np.max(np.abs(got - ref)) <= 1e-12                     # ~1e-13 σ, σ = 0.05


def test_the_draws_are_scipys_for_the_same_generator():
    got = truncated_normal_ppf(np.random.default_rng(11).uniform(size=1000), -2.0, 1.5, loc=5.0, scale=2.0)
    ref = truncnorm.rvs(-2.0, 1.5, loc=5.0, scale=2.0, size=1000, random_state=np.random.default_rng(11))
    assert np.allclose(got, ref, rtol=0, atol=1e-11)


@settings(max_examples=200, deadline=None)
@given(a=st.floats(-8.0, 7.9), width=st.floats(1e-3, 10.0), u=st.floats(0.0, 1.0))
def test_stays_inside_the_interval_and_is_monotonic(a, width, u):
    b = a + width
    x = float(truncated_normal_ppf(u, a, b))
    assert a <= x <= b
    assert float(truncated_normal_ppf(min(1.0, u + 1e-3), a, b)) >= x
