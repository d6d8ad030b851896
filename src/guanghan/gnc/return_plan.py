"""The plan of a Moon-to-Earth return, as configuration records, and the problem it poses once the
engines, masses and landing site are known.

:class:`ReturnPlan` holds what a mission plans (TEI-1/TEI-2 epochs and engines by name, midcourse
epochs, separation, orbiter divert, the entry-interface aim, execution errors, force-model
truncation); a scenario's ``trans_earth`` leg composes it. :class:`ReturnProblem` adds what the
vehicle and the site resolve (engine sets, orbiter and returner masses, site coordinates); the
targeting and the flown return (:mod:`guanghan.gnc.trans_earth_return`) read both.

Assumptions and limitations
    Engines are named ``"<module>.<engine>"`` of the flying vehicle; the names are resolved by the
    caller. The TEI-2 periapsis altitude of the design (``tei2_periapsis_altitude_km``) is a first
    guess of the departure hyperbola, freed when a parking-orbit inclination is requested.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.dynamics.patched_flight import CISLUNAR_TOLERANCES, PatchedModels, build_models
from guanghan.dynamics.propulsion import Engine
from guanghan.environment import time_scales
from guanghan.environment.config_fields import UtcText, utc_text_to_et
from guanghan.gnc.entry_target import EntryTarget
from guanghan.gnc.execution_errors import ExecutionErrors


class BurnPlan(ConfigModel):
    """A finite burn at a fixed UTC epoch on a named engine; the duration is solved, this seeds it."""

    utc: UtcText
    engine: str
    duration_guess_s: float = Field(gt=0, le=86_400.0, description="a burn shorter than a day")
    published_duration_s: float | None = Field(default=None, gt=0, le=86_400.0)  # reported: the stack mass it implies


class Midcourse(ConfigModel):
    """Midcourse-correction epochs (each re-targets the entry interface) and their engine."""

    utc: list[UtcText] = []
    engine: str


class Separation(ConfigModel):
    """Returner separation at a geodetic altitude on the way in; the returner flies on to the EI."""

    altitude_km: float = Field(gt=0, le=100_000.0, description="a separation below 100,000 km altitude")
    returner_vehicle: str


class OrbiterDivert(ConfigModel):
    """The orbiter's burn after separation, raising its perigee clear of the atmosphere."""

    engine: str
    min_perigee_altitude_km: float = Field(gt=0, le=100_000.0)
    delay_s: float = Field(default=60.0, ge=0, le=86_400.0)
    margin_km: float = Field(default=50.0, ge=0, le=10_000.0)


class EntryAim(ConfigModel):
    """Entry-interface aim: altitude, flight-path angle, epoch (soft) and downrange band (soft)."""

    utc: UtcText
    altitude_km: float = Field(default=120.0, ge=80.0, le=200.0, description=(
        "an entry interface between 80 and 200 km (conventionally 120-122 km: the sensible atmosphere)"))
    fpa_deg: float = Field(gt=-45, description="an entry steeper than -45 deg is not a guided entry")
    fpa_reference: Literal["relative", "inertial"] = "relative"
    downrange_min_km: float = Field(ge=0, le=20_000.0, description="at most half the Earth's circumference")
    downrange_max_km: float = Field(gt=0, le=20_000.0, description="at most half the Earth's circumference")
    epoch_weight_s: float = Field(default=60.0, gt=0, le=86_400.0)

    @model_validator(mode="after")
    def _check_band(self) -> "EntryAim":
        if self.fpa_deg >= 0:
            fail("an entry descends: the flight-path angle must be below 0 deg (skip entries use "
                 "about -5 to -7 deg)", "fpa_deg", self.fpa_deg)
        if self.downrange_max_km <= self.downrange_min_km:
            fail(f"must exceed downrange_min_km ({self.downrange_min_km})", "downrange_max_km",
                 self.downrange_max_km)
        return self


class ReturnForceModels(ConfigModel):
    """Gravity-field truncation of the return force model, the Moon/Earth switch radius and the
    integrator's relative tolerance."""

    lunar_degree: int = Field(default=20, ge=2, le=1200)
    earth_degree: int = Field(default=8, ge=2, le=70)
    soi_radius_km: float = Field(default=66_000.0, ge=20_000, le=150_000)
    rtol: float = Field(default=CISLUNAR_TOLERANCES.rtol, ge=1e-14, le=1e-8)


class ReturnPlan(ConfigModel):
    """TEI-1, TEI-2, midcourse corrections, separation, orbiter divert and the EI aim."""

    tei_1: BurnPlan
    tei_2: BurnPlan
    midcourse: Midcourse
    separation: Separation
    orbiter_divert: OrbiterDivert
    entry_target: EntryAim
    execution_errors: ExecutionErrors = ExecutionErrors()
    force_models: ReturnForceModels = ReturnForceModels()
    tei2_periapsis_altitude_km: float = Field(default=230.0, ge=20.0, le=5000.0)   # design guess

    @model_validator(mode="after")
    def _check_plan(self) -> "ReturnPlan":
        self._check_epochs()
        if self.separation.altitude_km <= self.entry_target.altitude_km:
            fail(f"must be above the entry interface ({self.entry_target.altitude_km} km)",
                 "separation.altitude_km", self.separation.altitude_km)
        if self.orbiter_divert.min_perigee_altitude_km <= self.entry_target.altitude_km:
            fail(f"must be above the entry interface ({self.entry_target.altitude_km} km)",
                 "orbiter_divert.min_perigee_altitude_km", self.orbiter_divert.min_perigee_altitude_km)
        return self

    def _epochs(self) -> list[tuple[str, str]]:
        named = [("tei_1.utc", self.tei_1.utc), ("tei_2.utc", self.tei_2.utc)]
        named += [(f"midcourse.utc[{i}]", u) for i, u in enumerate(self.midcourse.utc)]
        return named + [("entry_target.utc", self.entry_target.utc)]

    def _check_epochs(self) -> None:
        named = self._epochs()
        ets = [utc_text_to_et(u) for _, u in named]
        for (field, utc), et, prev, (prev_field, prev_utc) in zip(named[1:], ets[1:], ets, named):
            if et <= prev:
                fail(f"must come after {prev_field} ({prev_utc}): the order is TEI-1, TEI-2, "
                     "midcourse corrections, entry", field, utc)
        if ets[1] <= ets[0] + self.tei_1.duration_guess_s:
            fail(f"TEI-2 starts before the end of TEI-1 ({self.tei_1.duration_guess_s} s burn)",
                 "tei_2.utc", self.tei_2.utc)

    def engine_names(self) -> dict[str, str]:
        """Field → engine name, for the reference checks."""
        return {"tei_1.engine": self.tei_1.engine, "tei_2.engine": self.tei_2.engine,
                "midcourse.engine": self.midcourse.engine,
                "orbiter_divert.engine": self.orbiter_divert.engine}


@dataclass(frozen=True)
class ReturnProblem:
    """A return plan with its engines, masses (kg) and landing site (geodetic deg) resolved."""

    plan: ReturnPlan
    tei1_engine: Engine
    tei2_engine: Engine
    mcc_engine: Engine
    divert_engine: Engine
    orbiter_mass_kg: float
    returner_mass_kg: float
    site_lat_deg: float
    site_lon_deg: float

    @classmethod
    def resolve(cls, plan: ReturnPlan, engines: dict[str, Engine], orbiter_mass_kg: float,
                returner_mass_kg: float, site_lat_deg: float, site_lon_deg: float) -> "ReturnProblem":
        """The problem of ``plan`` with engines looked up by name in ``engines``."""
        return cls(plan, engines[plan.tei_1.engine], engines[plan.tei_2.engine],
                   engines[plan.midcourse.engine], engines[plan.orbiter_divert.engine],
                   orbiter_mass_kg, returner_mass_kg, site_lat_deg, site_lon_deg)

    @property
    def tei1_et(self) -> float:
        return time_scales.utc_to_et(self.plan.tei_1.utc)

    @property
    def tei2_et(self) -> float:
        return time_scales.utc_to_et(self.plan.tei_2.utc)

    @property
    def mcc_ets(self) -> list[float]:
        return [time_scales.utc_to_et(u) for u in self.plan.midcourse.utc]

    @property
    def stack_mass_kg(self) -> float:
        return self.orbiter_mass_kg + self.returner_mass_kg

    @property
    def mid_downrange_km(self) -> float:
        aim = self.plan.entry_target
        return 0.5 * (aim.downrange_min_km + aim.downrange_max_km)

    def entry_target(self, et: float | None = None) -> EntryTarget:
        """The EI target (epoch ``et``, default the planned one)."""
        aim = self.plan.entry_target
        return EntryTarget(aim.altitude_km * 1e3, aim.fpa_deg,
                           time_scales.utc_to_et(aim.utc) if et is None else et,
                           self.site_lat_deg, self.site_lon_deg, aim.downrange_min_km,
                           aim.downrange_max_km, aim.fpa_reference, aim.epoch_weight_s)

    def models(self) -> PatchedModels:
        fm = self.plan.force_models
        tol = replace(CISLUNAR_TOLERANCES, rtol=fm.rtol)
        return build_models(fm.lunar_degree, fm.earth_degree, fm.soi_radius_km, tol)
