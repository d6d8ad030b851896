"""Altitude-correlated density perturbations: statistics against the covariance they promise."""

from __future__ import annotations

import numpy as np
import pytest

from guanghan.environment.density_dispersion import DensityPerturbation
from guanghan.errors import ScenarioError


def test_ensemble_has_the_promised_sigma_and_gaussian_correlation():
    """sigma and corr(d) = exp(-d²/2L²) (Rasmussen & Williams 2006, eq. 4.9) over 2000 draws."""
    rng = np.random.default_rng(7)
    sigma, corr_km = 0.05, 6.0
    draws = np.array([DensityPerturbation.draw(rng, sigma, corr_km).delta_log_density
                      for _ in range(2000)])
    k = 100                                                   # 100 km, away from the ends
    std = draws[:, k].std()
    assert abs(std / sigma - 1.0) < 0.05     # sampling error of a std over 2000 draws: ~1.6 %
    for lag_km in (3.0, 6.0, 12.0, 18.0):
        c = np.corrcoef(draws[:, k], draws[:, k + int(lag_km)])[0, 1]
        assert abs(c - np.exp(-lag_km ** 2 / (2 * corr_km ** 2))) < 0.06   # ~3 sampling sigmas
    assert abs(draws[:, k].mean()) < 4 * sigma / np.sqrt(2000)   # zero mean, 4 sampling sigmas


def test_same_seed_same_profile_and_factor():
    a = DensityPerturbation.draw(np.random.default_rng(3), 0.1, 5.0)
    b = DensityPerturbation.draw(np.random.default_rng(3), 0.1, 5.0)
    assert np.array_equal(a.delta_log_density, b.delta_log_density)
    assert a.delta_log_density.shape == (201,)
    assert np.allclose(a.factor([0.0, 100e3]), np.exp(a.delta_log_density[[0, 100]]), rtol=1e-14)
    assert np.array_equal(a.on_grid(0.0, 1e3, 201), a.delta_log_density)
    assert np.all(DensityPerturbation.none().delta_log_density == 0.0)


@pytest.mark.parametrize("kwargs, field", [
    ({"sigma": -0.1, "correlation_km": 5.0}, "density_perturbation_sigma"),
    ({"sigma": 0.1, "correlation_km": 0.1}, "density_correlation_km"),
])
def test_bad_settings_raise_named_errors(kwargs, field):
    with pytest.raises(ScenarioError) as err:
        DensityPerturbation.draw(np.random.default_rng(1), **kwargs)
    assert err.value.field == field
    with pytest.raises(ScenarioError):
        DensityPerturbation.draw(np.random.RandomState(1), 0.1, 5.0)
