"""The shared differential-correction helpers: square solves by the hybrid method, the residual stop,
no point evaluated twice (each evaluation stands for a flight)."""

from __future__ import annotations

import numpy as np
import pytest

from guanghan.gnc.differential_correction import solve_square


def _logged(fun):
    """``fun`` recording every x it is called at."""
    seen = []

    def f(x):
        seen.append(np.array(x, float))
        return fun(x)
    return f, seen


def _system(x):
    """Two smooth equations with the root (1, 2) (Dennis & Schnabel 1996, a variant of their
    example 5.4.1)."""
    return np.array([x[0] ** 2 + x[1] ** 2 - 5.0, np.exp(x[0] - 1.0) + x[1] ** 3 - 9.0])


def _distinct(points):
    return len({p.tobytes() for p in points}) == len(points)


def test_square_solve_reaches_the_root_and_flies_no_point_twice():
    fun, seen = _logged(_system)
    x = solve_square(fun, [1.5, 1.5], 1e-7, 100, accept=1e-10)
    assert np.allclose(x, [1.0, 2.0], atol=1e-8)
    assert _distinct(seen)          # scipy's shape checks of f and J at x0 cost nothing


def test_the_residual_stop_ends_at_the_first_point_within_it():
    fun, seen = _logged(_system)
    full = solve_square(fun, [1.5, 1.5], 1e-7, 100, accept=1e-10)
    n_full = len(seen)
    fun, seen = _logged(_system)
    x = solve_square(fun, [1.5, 1.5], 1e-7, 100, accept=1e-3, stop=1e-3)
    res = [np.max(np.abs(_system(p))) for p in seen]
    first = next(i for i, r in enumerate(res) if r <= 1e-3)
    assert np.array_equal(x, seen[first]) and len(seen) == first + 1
    assert len(seen) < n_full
    assert np.max(np.abs(_system(x))) <= 1e-3 and np.allclose(x, full, atol=1e-3)


def test_a_start_already_within_the_stop_is_returned_after_one_evaluation():
    fun, seen = _logged(_system)
    x = solve_square(fun, [1.0, 2.0], 1e-7, 100, accept=1e-6, stop=1e-6)
    assert np.array_equal(x, [1.0, 2.0]) and len(seen) == 1


@pytest.mark.parametrize("stop", [None, 1e-9])
def test_a_failed_region_as_a_large_residual_does_not_stop_the_solve(stop):
    def guarded(x):                                    # as the flights do: a crash is a big miss
        return np.full(2, 1e6) if x[0] > 3.0 else _system(x)

    x = solve_square(guarded, [1.5, 1.5], 1e-7, 200, accept=1e-9, stop=stop)
    assert np.allclose(x, [1.0, 2.0], atol=1e-7)
