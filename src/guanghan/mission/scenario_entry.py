"""Scenario models of the Earth-entry phase: capsule aerodynamics, parachutes, entry interface,
guidance tunables and atmosphere drivers (see :mod:`guanghan.mission.phases.entry_phase`)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from guanghan.mission.scenario_fields import (CONFIG, NAME_PATTERN, UtcText, check_et_in_span,
                                              check_lon, fail, utc_text_to_et)


class CapsuleAero(BaseModel):
    """Return-capsule aerodynamics: reference area, trim L/D, nose radius, Cd against Mach."""

    model_config = CONFIG
    reference_area_m2: float = Field(gt=0)
    lift_to_drag: float = Field(gt=0)
    nose_radius_m: float = Field(gt=0)
    cd_mach: list[Annotated[list[float], Field(min_length=2, max_length=2)]] = Field(min_length=1)
    max_bank_rate_deg_s: float = Field(default=20.0, gt=0)

    @model_validator(mode="after")
    def _check_table(self) -> "CapsuleAero":
        mach = [row[0] for row in self.cd_mach]
        if any(b <= a for a, b in zip(mach, mach[1:])) or any(row[1] <= 0 for row in self.cd_mach):
            fail("needs [Mach, Cd] pairs with Mach increasing and Cd > 0", "cd_mach", self.cd_mach)
        return self


class Parachutes(BaseModel):
    """Drogue and main canopies (deployment altitudes geodetic, drag areas CdA) and the wind."""

    model_config = CONFIG
    drogue_altitude_km: float = Field(gt=0)
    drogue_cd_area_m2: float = Field(gt=0)
    main_altitude_km: float = Field(gt=0)
    main_cd_area_m2: float = Field(gt=0)
    wind_east_m_s: float = 0.0
    wind_north_m_s: float = 0.0

    @model_validator(mode="after")
    def _check_order(self) -> "Parachutes":
        if self.main_altitude_km >= self.drogue_altitude_km:
            fail(f"the main opens below the drogue ({self.drogue_altitude_km} km)",
                  "main_altitude_km", self.main_altitude_km)
        return self


class EntryInterface(BaseModel):
    """Entry-interface state from geodetic position, speed, flight-path angle and azimuth."""

    model_config = CONFIG
    utc: UtcText
    altitude_km: float
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: Annotated[float, AfterValidator(check_lon)]
    speed_m_s: float = Field(gt=0)
    fpa_deg: float = Field(gt=-90, lt=90)
    azimuth_deg: float = Field(ge=0, lt=360)
    inertial: bool = True               # speed/FPA/azimuth inertial (True) or Earth-relative

    @model_validator(mode="after")
    def _check_altitude(self) -> "EntryInterface":
        if self.altitude_km <= 0:
            fail("the entry interface is at or below the Earth's surface: give an altitude > 0 km "
                  "(typically 120 km)", "altitude_km", self.altitude_km)
        check_et_in_span(utc_text_to_et(self.utc), "utc", self.utc)
        return self


class EntryGuidanceConfig(BaseModel):
    """Tunables of the predictor–corrector skip-entry guidance (see gnc.entry_guidance)."""

    model_config = CONFIG
    period_s: float = Field(default=2.0, gt=0)
    sigma_final_deg: float = Field(default=70.0, gt=0, lt=180)
    sensible_atmosphere_km: float = Field(default=100.0, gt=0)
    corridor_km: float = Field(default=1.0, ge=0)
    corridor_km_per_km_s: float = Field(default=3.0, ge=0)
    max_reversals: int = Field(default=8, ge=0)
    load_margin_g: float = Field(default=0.5, ge=0)     # the g-limiter aims this far below max_g


class AtmosphereDrivers(BaseModel):
    """NRLMSIS drivers; omitted values come from the space-weather table of the entry day."""

    model_config = CONFIG
    f107_sfu: float | None = Field(default=None, gt=0)
    f107a_sfu: float | None = Field(default=None, gt=0)
    ap: float | None = Field(default=None, ge=0)


class EarthEntryPhase(BaseModel):
    """Guided (skip) entry of a capsule from the entry interface to touchdown at an Earth ``site``."""

    model_config = CONFIG
    type: Literal["earth_entry"]
    name: str = Field(pattern=NAME_PATTERN)
    vehicle: str
    site: str
    entry_interface: EntryInterface | None = None   # None: the previous phase's final state
    capsule: CapsuleAero
    parachutes: Parachutes
    guidance: EntryGuidanceConfig = EntryGuidanceConfig()
    atmosphere: AtmosphereDrivers = AtmosphereDrivers()
    max_g: float = Field(default=10.0, gt=0)
    step_s: float = Field(default=0.5, gt=0, le=5)
    start_utc: None = None                      # the entry starts at its interface epoch

    #: summary-key groups this phase writes besides its name (as the mission issue asks)
    summary_groups: ClassVar[tuple[str, ...]] = ("entry", "earth_landing")
    site_body: ClassVar[str] = "EARTH"

    @model_validator(mode="after")
    def _check_chutes(self) -> "EarthEntryPhase":
        if self.entry_interface is not None and \
                self.parachutes.drogue_altitude_km >= self.entry_interface.altitude_km:
            fail(f"drogue deployment is above the entry interface ({self.entry_interface.altitude_km} km)",
                  "parachutes.drogue_altitude_km", self.parachutes.drogue_altitude_km)
        return self
