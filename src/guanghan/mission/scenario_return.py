"""Scenario models of the trans-Earth phase: TEI burns, midcourse corrections, separation, orbiter
divert and the entry-interface target (see :mod:`guanghan.mission.phases.trans_earth_phase`).

The phase starts from a lunar parking orbit: designed from the published epochs
(``[phases.parking_orbit]``, altitude and optionally inclination), given as elements
(``[phases.initial_orbit]`` with ``start_utc``), or, without either, the previous phase's final
state (a Moon-centred stack before TEI-1). Engines are named ``"<module>.<engine>"`` of the phase's
vehicle, so thrust and Isp come from the scenario's hardware tables.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field, model_validator

from guanghan.mission.scenario_fields import CONFIG, NAME_PATTERN, UtcText, fail, utc_text_to_et
from guanghan.mission.scenario_orbits import InitialOrbit


class BurnPlan(BaseModel):
    """A finite burn at a fixed UTC epoch on a named engine; the duration is solved, this seeds it."""

    model_config = CONFIG
    utc: UtcText
    engine: str
    duration_guess_s: float = Field(gt=0)
    published_duration_s: float | None = Field(default=None, gt=0)  # reported: the stack mass it implies


class Midcourse(BaseModel):
    """Midcourse-correction epochs (each re-targets the entry interface) and their engine."""

    model_config = CONFIG
    utc: list[UtcText] = []
    engine: str


class ParkingOrbit(BaseModel):
    """A circular lunar orbit designed so that TEI at the published epochs reaches the target."""

    model_config = CONFIG
    altitude_km: float = Field(gt=0)
    inclination_deg: float | None = Field(default=None, ge=0, le=180)   # to the lunar equator
    lead_s: float = Field(default=600.0, gt=0)     # the phase starts this long before TEI-1


class Separation(BaseModel):
    """Returner separation at a geodetic altitude on the way in; the returner flies on to the EI."""

    model_config = CONFIG
    altitude_km: float = Field(gt=0)
    returner_vehicle: str


class OrbiterDivert(BaseModel):
    """The orbiter's burn after separation, raising its perigee clear of the atmosphere."""

    model_config = CONFIG
    engine: str
    min_perigee_altitude_km: float = Field(gt=0)
    delay_s: float = Field(default=60.0, ge=0)
    margin_km: float = Field(default=50.0, ge=0)


class EntryTargetConfig(BaseModel):
    """Entry-interface aim: altitude, flight-path angle, epoch (soft) and downrange band (soft)."""

    model_config = CONFIG
    utc: UtcText
    altitude_km: float = Field(default=120.0, gt=0)
    fpa_deg: float = Field(gt=-90)
    fpa_reference: Literal["relative", "inertial"] = "relative"
    downrange_min_km: float = Field(ge=0)
    downrange_max_km: float = Field(gt=0)
    epoch_weight_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _check_band(self) -> "EntryTargetConfig":
        if self.fpa_deg >= 0:
            fail("an entry descends: the flight-path angle must be below 0 deg (skip entries use "
                 "about -5 to -7 deg)", "fpa_deg", self.fpa_deg)
        if self.downrange_max_km <= self.downrange_min_km:
            fail(f"must exceed downrange_min_km ({self.downrange_min_km})", "downrange_max_km",
                 self.downrange_max_km)
        return self


class ExecutionErrorsConfig(BaseModel):
    """1-σ burn execution errors and the seed of the one generator that draws them."""

    model_config = CONFIG
    thrust_sigma_pct: float = Field(default=0.0, ge=0, le=20)
    pointing_sigma_deg: float = Field(default=0.0, ge=0, le=10)
    seed: int = Field(default=0, ge=0)


class ReturnForceModels(BaseModel):
    """Gravity-field truncation of the return force model and the Moon/Earth switch radius."""

    model_config = CONFIG
    lunar_degree: int = Field(default=20, ge=2, le=1200)
    earth_degree: int = Field(default=8, ge=2, le=70)
    soi_radius_km: float = Field(default=66_000.0, ge=20_000, le=150_000)


class TransEarthPhase(BaseModel):
    """TEI-1, TEI-2, coast with midcourse corrections, separation and orbiter divert, to the EI."""

    model_config = CONFIG
    type: Literal["trans_earth"]
    name: str = Field(pattern=NAME_PATTERN)
    vehicle: str
    site: str
    start_mass_kg: float | None = Field(default=None, gt=0)   # None: the previous phase's mass
    start_utc: UtcText | None = None                          # with initial_orbit only
    parking_orbit: ParkingOrbit | None = None
    initial_orbit: InitialOrbit | None = None
    tei_1: BurnPlan
    tei_2: BurnPlan
    midcourse: Midcourse
    separation: Separation
    orbiter_divert: OrbiterDivert
    entry_target: EntryTargetConfig
    execution_errors: ExecutionErrorsConfig = ExecutionErrorsConfig()
    force_models: ReturnForceModels = ReturnForceModels()
    output_step_s: float = Field(default=300.0, gt=0)

    #: summary-key groups this phase writes besides its name (as the mission issue asks)
    summary_groups: ClassVar[tuple[str, ...]] = ("tei", "return")
    site_body: ClassVar[str] = "EARTH"

    @model_validator(mode="after")
    def _check(self) -> "TransEarthPhase":
        if self.parking_orbit is not None and self.initial_orbit is not None:
            fail("give either parking_orbit (designed) or initial_orbit, not both", "initial_orbit",
                 self.initial_orbit.model_dump())
        if (self.start_utc is None) != (self.initial_orbit is None):
            fail("start_utc goes with initial_orbit (the epoch of those elements)",
                 "start_utc" if self.start_utc is not None else "initial_orbit", self.start_utc)
        self._check_epochs()
        if self.separation.altitude_km <= self.entry_target.altitude_km:
            fail(f"must be above the entry interface ({self.entry_target.altitude_km} km)",
                 "separation.altitude_km", self.separation.altitude_km)
        if self.orbiter_divert.min_perigee_altitude_km <= self.entry_target.altitude_km:
            fail(f"must be above the entry interface ({self.entry_target.altitude_km} km)",
                 "orbiter_divert.min_perigee_altitude_km", self.orbiter_divert.min_perigee_altitude_km)
        return self

    def _check_epochs(self) -> None:
        named = [("start_utc", self.start_utc)] if self.start_utc else []
        named += [("tei_1.utc", self.tei_1.utc), ("tei_2.utc", self.tei_2.utc)]
        named += [(f"midcourse.utc[{i}]", u) for i, u in enumerate(self.midcourse.utc)]
        named += [("entry_target.utc", self.entry_target.utc)]
        ets = [utc_text_to_et(u) for _, u in named]
        for (field, utc), et, prev, (prev_field, _) in zip(named[1:], ets[1:], ets, named):
            if et <= prev:
                fail(f"must come after {prev_field} ({named[ets.index(prev)][1]}): the order is "
                     "start, TEI-1, TEI-2, midcourse corrections, entry", field, utc)
        tei1_end = utc_text_to_et(self.tei_1.utc) + self.tei_1.duration_guess_s
        if utc_text_to_et(self.tei_2.utc) <= tei1_end:
            fail(f"TEI-2 starts before the end of TEI-1 ({self.tei_1.duration_guess_s} s burn)",
                 "tei_2.utc", self.tei_2.utc)

    def engine_names(self) -> dict[str, str]:
        """Scenario field → engine name, for the reference checks."""
        return {"tei_1.engine": self.tei_1.engine, "tei_2.engine": self.tei_2.engine,
                "midcourse.engine": self.midcourse.engine, "orbiter_divert.engine": self.orbiter_divert.engine}


RETURN_MODELS = (BurnPlan, Midcourse, ParkingOrbit, Separation, OrbiterDivert, EntryTargetConfig,
                 ExecutionErrorsConfig, ReturnForceModels)
