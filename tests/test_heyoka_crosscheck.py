"""Guanghan's propagation against an independent integrator and model code: heyoka (Taylor method).

One day of a 100 km polar lunar orbit under GRGM1200A 8×8 with Earth and Sun third bodies (no SRP)
is propagated by Guanghan (compiled DOP853, numba kernels) and by heyoka with the same physics
written independently (``benchmarks/heyoka_model.py``: symbolic normalised V/W recursion whose
factors are derived in ``benchmarks/numpy_model.py``, rotation and third-body positions as monomials
in time per 1-day segment from the same Chebyshev table). Shared by both: the GRGM1200A coefficients,
the DE440/SPICE-derived Chebyshev table, and the initial state; everything else is independent
(integrator, field recursion, frame handling, third-body formula).

Tolerance 0.1 m: each integrator alone is converged to ~1 mm here (Guanghan at rtol 1e-13 changes by
< 0.01 mm against rtol 3e-14; heyoka at tol 1e-15 against Guanghan agrees to ~1e-6 m when written),
and the monomial conversion of the table changes Earth's position by < 1e-7 m and the Sun's by
< 2e-5 m. The errors worth catching are far larger: leaving out the third bodies moves the
spacecraft by more than 100 m in this day (checked below), and a wrong sign, factor or transposed
rotation in the field or the indirect term does at least as much.
"""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

hy = pytest.importorskip("heyoka")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from heyoka_model import HeyokaModel, max_monomial_error  # noqa: E402

from guanghan.dynamics.forces import CentralGravity, ForceModel, ThirdBody  # noqa: E402
from guanghan.dynamics.kepler import Elements, elements_to_state  # noqa: E402
from guanghan.dynamics.propagator import Tolerances, propagate  # noqa: E402
from guanghan.dynamics.state import SpacecraftState  # noqa: E402
from guanghan.environment import spice_kernels  # noqa: E402
from guanghan.environment.gravity_field import load_lunar_field  # noqa: E402

DEGREE = 8
SPAN = 86400.0                    # s
R_ORBIT = 1_737_400.0 + 100e3     # m, 100 km above the mean radius


@pytest.fixture(scope="module")
def case():
    et0 = spice_kernels.utc_to_et("2024-01-01T00:00:00")
    field = load_lunar_field("GRGM1200A", DEGREE)
    model = ForceModel(CentralGravity("MOON", field.mu, field),
                       [ThirdBody("EARTH", spice_kernels.gm("EARTH")),
                        ThirdBody("SUN", spice_kernels.gm("SUN"))])
    r, v = elements_to_state(field.mu, Elements(R_ORBIT, 0.0, math.pi / 2, 0.3, 0.0, 0.0))
    state = SpacecraftState(et0, r, v, 1000.0)
    return field, model, state, model.compile(et0, et0 + SPAN, et_ref=et0)


def test_table_monomials_reproduce_chebyshev(case):
    """The heyoka model's time polynomials equal the Chebyshev table they come from."""
    _, _, _, fd = case
    err = max_monomial_error(fd, np.arange(fd.cheb_coeffs.shape[1]))
    assert np.max(err[:9]) < 1e-14           # rotation matrix entries (dimensionless)
    assert np.max(err[9:]) < 1e-3            # body positions, m (Sun at 1.5e11 m: ~1e-4 m rounding)


def test_one_day_degree_8_agrees_with_heyoka(case):
    field, model, state, fd = case
    gh = propagate(state, state.et + SPAN, model, Tolerances(1e-13, 1e-9)).trajectory.final_state
    y_hy = HeyokaModel(field, fd, tol=1e-15, compact_mode=True).propagate(state.vector, SPAN)
    assert np.linalg.norm(gh[:3] - y_hy[:3]) < 0.1        # m, see the module docstring
    assert np.linalg.norm(gh[3:6] - y_hy[3:6]) < 1e-4     # m/s (0.1 m × orbital rate 1e-3 /s)
    # the comparison is sensitive: the third bodies move the orbit by far more than 0.1 m in a day
    two_body = ForceModel(CentralGravity("MOON", field.mu, field))
    y_no_tb = propagate(state, state.et + SPAN, two_body, Tolerances(1e-13, 1e-9)).trajectory.final_state
    assert np.linalg.norm(y_no_tb[:3] - gh[:3]) > 100.0  # m
