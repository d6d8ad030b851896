"""Configuration of the Earth-entry leg: the capsule, its parachutes, the entry interface (or the
previous leg's final state), guidance tunables, atmosphere drivers and limits."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.environment.config_fields import Longitude, UtcText
from guanghan.gnc.entry_guidance import GuidanceSettings
from guanghan.gnc.entry_vehicle import Capsule
from guanghan.gnc.parachute import ParachuteSystem
from guanghan.mission.leg import PhaseConfig


class EntryInterface(ConfigModel):
    """Entry-interface state from geodetic position, speed, flight-path angle and azimuth."""

    utc: UtcText
    altitude_km: float
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: Longitude
    speed_m_s: float = Field(gt=0)
    fpa_deg: float = Field(gt=-90, lt=90)
    azimuth_deg: float = Field(ge=0, lt=360)
    inertial: bool = True               # speed/FPA/azimuth inertial (True) or Earth-relative

    @model_validator(mode="after")
    def _check_altitude(self) -> "EntryInterface":
        if self.altitude_km <= 0:
            fail("the entry interface is at or below the Earth's surface: give an altitude > 0 km "
                 "(typically 120 km)", "altitude_km", self.altitude_km)
        return self


class AtmosphereDrivers(ConfigModel):
    """NRLMSIS drivers; omitted values come from the space-weather table of the entry day."""

    f107_sfu: float | None = Field(default=None, gt=0)
    f107a_sfu: float | None = Field(default=None, gt=0)
    ap: float | None = Field(default=None, ge=0)


class EarthEntryConfig(PhaseConfig):
    """Guided (skip) entry of a capsule from the entry interface to touchdown at an Earth ``site``.

    ``guidance.terminal_altitude_km`` and ``guidance.max_load_g`` are not given: they are the
    drogue altitude and ``max_g``."""

    type: Literal["earth_entry"]
    site: str
    entry_interface: EntryInterface | None = None   # None: the previous phase's final state
    capsule: Capsule
    parachutes: ParachuteSystem
    guidance: GuidanceSettings = GuidanceSettings()
    atmosphere: AtmosphereDrivers = AtmosphereDrivers()
    max_g: float = Field(default=10.0, gt=0)
    step_s: float = Field(default=0.5, gt=0, le=5)
    start_utc: None = None                      # the entry starts at its interface epoch

    summary_groups: ClassVar[tuple[str, ...]] = ("entry", "earth_landing")
    site_body: ClassVar[str] = "EARTH"

    @model_validator(mode="after")
    def _check(self) -> "EarthEntryConfig":
        if self.entry_interface is not None and \
                self.parachutes.drogue_altitude_km >= self.entry_interface.altitude_km:
            fail(f"drogue deployment is above the entry interface ({self.entry_interface.altitude_km} km)",
                 "parachutes.drogue_altitude_km", self.parachutes.drogue_altitude_km)
        for derived, source in (("terminal_altitude_km", "parachutes.drogue_altitude_km"),
                                ("max_load_g", "max_g")):
            if derived in self.guidance.model_fields_set:
                fail(f"is set from {source}; remove it", f"guidance.{derived}",
                     getattr(self.guidance, derived))
        return self

    def check_standalone(self, where: str) -> None:
        if self.entry_interface is None:
            fail("the first phase needs [phases.entry_interface]", f"{where}.entry_interface", None)
