"""Robotic-arm scooping of surface regolith and the filling of the sample container.

Each cycle the scoop takes ``volume_cm3`` × f of regolith, where the fill fraction f is a normal
variate truncated to [0, 1] (mean ``fill_fraction_mean``, standard deviation ``fill_fraction_sd``),
at the bulk density of the layer it digs: the Hayne et al. (2017) profile of
:class:`~guanghan.environment.regolith_thermal.RegolithProperties` averaged over
0 ≤ z ≤ ``dig_depth_m``, times ``compaction_factor``. :func:`fill_container` scoops until the
container, which already holds the drill core, reaches the target mass, its capacity, or the
arm's ``max_cycles``.

Assumptions and limitations
    * Cycles are independent: no depletion of the dug area, no trenching deeper with each pass.
    * The scooped material is regolith of the surface layer; rock fragments are not modelled.
    * A scoop that would overfill the container is poured only up to the capacity (the rest is
      dumped back): ASSUMPTION, the arm can meter its last pour by tilting the scoop.
    * With ``volume_cm3`` the container is also bounded by volume, at the scooped material's bulk
      density (ASSUMPTION: the core is packed at the same density).

References
    Hayne, P. O. et al. (2017), JGR Planets 122, 2371–2400, eq. A2 (ρ(z)) and Table A1.
    Johnson, N. L., Kotz, S. and Balakrishnan, N. (1994), *Continuous Univariate Distributions*
    vol. 1 (2nd ed.), §10.1 (the truncated normal distribution).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field

from guanghan.config_model import ConfigModel
from guanghan.environment.regolith_mechanics import column_mass_kg_m2
from guanghan.environment.regolith_thermal import RegolithProperties
from guanghan.errors import InputError
from guanghan.truncated_normal import truncated_normal_ppf

LIMITS = ("target", "capacity", "max_cycles")


class Scoop(ConfigModel):
    """The arm's scoop and its operating rules."""

    volume_cm3: float = Field(gt=0.0, le=1e5, description="volume of a full scoop (cm³)")
    fill_fraction_mean: float = Field(gt=0.0, le=1.0, description="mean fill fraction per cycle (-)")
    fill_fraction_sd: float = Field(ge=0.0, le=1.0, description="standard deviation of the fill fraction (-)")
    dig_depth_m: float = Field(gt=0.0, le=1.0, description="depth the scoop digs to (m)")
    compaction_factor: float = Field(default=1.0, gt=0.0, le=2.0,
                                     description="scooped bulk density / in-situ layer density (-)")
    cycle_duration_s: float = Field(gt=0.0, le=1e6, description="time of one dig-and-pour cycle (s)")
    max_cycles: int = Field(ge=1, le=10_000, description="most cycles the operation allows (-)")

    def bulk_density_kg_m3(self, regolith: RegolithProperties | None = None) -> float:
        """Density of the scooped material (kg/m³): (1/d) ∫0^d ρ dz × compaction, d = dig depth."""
        layer = float(column_mass_kg_m2(self.dig_depth_m, regolith)) / self.dig_depth_m
        return layer * self.compaction_factor


class SampleContainer(ConfigModel):
    """The sealed sample container: a mass limit and, optionally, an inner volume."""

    capacity_g: float = Field(gt=0.0, le=1e6, description="mass the container may hold (g)")
    volume_cm3: float | None = Field(default=None, gt=0.0, le=1e6,
                                     description="inner volume (cm³); None: mass limit only")

    def mass_limit_kg(self, bulk_density_kg_m3: float) -> float:
        """Most mass it holds (kg): the capacity, or less if its volume fills first at the given density."""
        limit = self.capacity_g / 1000.0
        if self.volume_cm3 is not None:
            limit = min(limit, self.volume_cm3 * 1e-6 * bulk_density_kg_m3)
        return limit


@dataclass(frozen=True)
class Filling:
    """Outcome of filling the container: masses (kg) poured per cycle, totals (kg), time (s).

    ``limited_by``: "target" (reached with whole scoops), "capacity" (the container filled up, its
    last scoop poured in part; the target, never above the limit, is reached too) or "max_cycles"
    (the target was not reached)."""

    cycles: int
    masses_kg: np.ndarray
    core_kg: float
    scooped_kg: float
    total_kg: float
    target_kg: float
    limit_kg: float
    limited_by: str
    duration_s: float


def scoop_cycles(scoop: Scoop, n: int, rng: np.random.Generator,
                 regolith: RegolithProperties | None = None) -> np.ndarray:
    """Masses (kg) of ``n`` scoops: volume × f × bulk density, f truncated-normal in [0, 1]."""
    if not 0 <= n <= 10_000_000:
        raise InputError("must lie in [0, 1e7]", quantity="n", value=n)
    mean, sd = scoop.fill_fraction_mean, scoop.fill_fraction_sd
    if sd == 0.0:
        fill = np.full(n, mean)
    else:
        fill = truncated_normal_ppf(rng.uniform(size=n), -mean / sd, (1.0 - mean) / sd, loc=mean, scale=sd)
    return np.clip(fill, 0.0, 1.0) * scoop.volume_cm3 * 1e-6 * scoop.bulk_density_kg_m3(regolith)


def fill_container(container: SampleContainer, core_kg: float, scoop: Scoop, target_kg: float,
                   rng: np.random.Generator, regolith: RegolithProperties | None = None) -> Filling:
    """Scoop until the contents (core included) reach ``target_kg``, the container is full, or the
    scoop has made ``max_cycles`` cycles. Raises :class:`InputError` if the container cannot hold the
    target or the core alone."""
    if not target_kg > 0.0:
        raise InputError("the target sample mass must be > 0 kg", quantity="target_kg", value=target_kg)
    if not core_kg >= 0.0:
        raise InputError("the core mass must be ≥ 0 kg", quantity="core_kg", value=core_kg)
    if container.capacity_g < target_kg * 1000.0:
        raise InputError(f"the container holds {container.capacity_g:g} g, less than the "
                         f"{target_kg * 1000.0:g} g target sample: raise capacity_g or lower the target",
                         quantity="capacity_g", value=container.capacity_g, limit=target_kg * 1000.0)
    rho = scoop.bulk_density_kg_m3(regolith)
    limit = container.mass_limit_kg(rho)
    if limit < target_kg:
        raise InputError(f"{container.volume_cm3:g} cm³ holds {limit * 1000.0:.0f} g at {rho:.0f} kg/m³, less "
                         f"than the {target_kg * 1000.0:g} g target sample: raise volume_cm3 or lower the target",
                         quantity="volume_cm3", value=container.volume_cm3, limit=target_kg * 1000.0)
    if core_kg > limit:
        raise InputError(f"the core alone ({core_kg * 1000.0:.0f} g) exceeds the container's "
                         f"{limit * 1000.0:.0f} g", quantity="core_kg", value=core_kg, limit=limit)
    poured, reason = _pour(scoop_cycles(scoop, scoop.max_cycles, rng, regolith), core_kg, target_kg, limit)
    scooped = float(poured.sum())
    return Filling(poured.size, poured, float(core_kg), scooped, min(core_kg + scooped, limit), target_kg,
                   limit, reason, poured.size * scoop.cycle_duration_s)


def _pour(masses: np.ndarray, core_kg: float, target_kg: float, limit_kg: float) -> tuple[np.ndarray, str]:
    """Masses actually poured (kg) and what stopped the filling."""
    if core_kg >= target_kg:
        return np.zeros(0), "target"
    before = core_kg + np.concatenate(([0.0], np.cumsum(masses)[:-1]))     # contents before each pour
    poured = np.clip(np.minimum(masses, limit_kg - before), 0.0, None)
    after = before + poured
    done = np.flatnonzero((after >= target_kg) | (after >= limit_kg))
    if done.size == 0:
        return poured, "max_cycles"
    k = int(done[0])
    return poured[:k + 1], "capacity" if poured[k] < masses[k] else "target"
