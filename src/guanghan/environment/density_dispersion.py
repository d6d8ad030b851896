"""Seeded, altitude-correlated random perturbations of atmospheric density for dispersed entries.

:meth:`DensityPerturbation.draw` returns a smooth random profile δ(h) of the log-density,
ρ_truth(h) = ρ_model(h)·exp(δ(h)), with zero mean, standard deviation ``sigma`` at every altitude
and the Gaussian (squared-exponential) autocorrelation

    E[δ(h) δ(h + d)] = sigma² · exp(−d² / (2 L²)),   L = ``correlation_km``.

It is made by convolving white Gaussian noise on the altitude grid with the kernel
exp(−z²/L²) and normalising the result to unit variance: the convolution of two such kernels is
exp(−d²/(2L²)) (the product of two Gaussians integrates to a Gaussian of summed variances;
Rasmussen & Williams 2006, §4.2, eq. 4.9 for the covariance function), so the profile has exactly
the covariance above up to the grid discretisation.

Assumptions and limitations
    * One standard deviation at all altitudes. Measured density variability grows with altitude
      (a few per cent in the troposphere to tens of per cent in the thermosphere; Earth-GRAM
      documents it), so ``sigma`` is a single bulk figure and the profile has no horizontal or
      temporal structure: it is the same at every point of the ground track.
    * Gaussian in log-density, so density stays positive and its median is the model's.
    * Randomness only from the ``numpy.random.Generator`` the caller passes (explicit seeds).

References
    * Rasmussen, C. E., Williams, C. K. I. (2006), Gaussian Processes for Machine Learning, MIT
      Press, §4.2 (squared-exponential covariance, eq. 4.9).
    * Justus, C. G., Leslie, F. W. (2008), "The NASA MSFC Earth Global Reference Atmospheric
      Model—2007 Version", NASA/TM-2008-215581 (density perturbation magnitudes by altitude).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from guanghan.errors import ScenarioError


@dataclass(frozen=True)
class DensityPerturbation:
    """δ = ln(ρ_truth/ρ_model) on a uniform altitude grid from ``altitude0`` (m) by ``step`` (m)."""

    altitude0: float
    step: float
    delta_log_density: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, sigma: float, correlation_km: float,
             top_km: float = 200.0, step_km: float = 1.0) -> "DensityPerturbation":
        """One random profile from 0 to ``top_km``: 1-σ ``sigma`` of ln ρ, correlation length (km)."""
        if not isinstance(rng, np.random.Generator):
            raise ScenarioError("must be a numpy.random.Generator (explicit seed)", field="rng",
                                value=type(rng).__name__)
        if not 0.0 <= sigma <= 1.0:
            raise ScenarioError("must be within [0, 1] (1-sigma of ln density)",
                                field="density_perturbation_sigma", value=sigma)
        if not step_km <= correlation_km <= top_km:
            raise ScenarioError(f"must be within [{step_km}, {top_km}] km (grid step to top)",
                                field="density_correlation_km", value=correlation_km)
        n = int(round(top_km / step_km)) + 1
        half = int(np.ceil(4.0 * correlation_km / step_km))     # kernel support ±4 L
        z = step_km * np.arange(-half, half + 1)
        kernel = np.exp(-(z / correlation_km) ** 2)
        kernel /= np.sqrt(np.sum(kernel ** 2))                  # unit variance after convolution
        noise = rng.standard_normal(n + 2 * half)
        delta = sigma * np.convolve(noise, kernel, mode="valid")
        return cls(0.0, step_km * 1e3, delta)

    @classmethod
    def none(cls, top_km: float = 200.0, step_km: float = 1.0) -> "DensityPerturbation":
        """No perturbation (δ = 0)."""
        return cls(0.0, step_km * 1e3, np.zeros(int(round(top_km / step_km)) + 1))

    def on_grid(self, altitude0: float, step: float, n: int) -> np.ndarray:
        """δ at ``n`` altitudes altitude0 + k·step (m), linear between nodes, held beyond the ends."""
        grid = self.altitude0 + self.step * np.arange(self.delta_log_density.size)
        return np.interp(altitude0 + step * np.arange(n), grid, self.delta_log_density)

    def factor(self, altitude) -> np.ndarray:
        """Density multiplier exp(δ) at geodetic altitudes (m)."""
        grid = self.altitude0 + self.step * np.arange(self.delta_log_density.size)
        return np.exp(np.interp(np.asarray(altitude, float), grid, self.delta_log_density))
