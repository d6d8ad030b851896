"""Configuration of the Earth-entry leg: the capsule, its parachutes, the entry interface (or the
previous leg's final state), the guidance (closed loop with its tunables, or an open-loop mode for
studies), atmosphere drivers and limits."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal, Union

from pydantic import Discriminator, Field, Tag, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.environment.config_fields import Longitude, UtcText, utc_text_to_et
from guanghan.environment.constants import STANDARD_GRAVITY
from guanghan.gnc.entry_guidance import GuidanceSettings
from guanghan.gnc.entry_open_loop import OPEN_LOOP_MODES, Ballistic, BankProfile, ConstantBank
from guanghan.gnc.entry_vehicle import Capsule
from guanghan.gnc.parachute import ParachuteSystem
from guanghan.mission.leg import PhaseConfig

MIN_ENTRY_SPEED_M_S = 6_000.0     # m/s: below, not an entry from orbit
MAX_MAIN_OPENING_SPEED_M_S = 200.0   # m/s: main canopies are opened well below this (Knacke ch. 6)
MAX_TOUCHDOWN_SPEED_M_S = 30.0       # m/s: a capsule landing faster is destroyed
MAX_ENTRY_SPEED_M_S = 16_000.0    # m/s: above, a fast hyperbolic entry this model is not checked for


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
    def _check_state(self) -> "EntryInterface":
        if not 80.0 <= self.altitude_km <= 200.0:
            fail("an entry interface lies between 80 and 200 km, where the sensible atmosphere begins "
                 "(conventionally 120-122 km)", "altitude_km", self.altitude_km)
        if self.speed_m_s < MIN_ENTRY_SPEED_M_S:
            fail(f"below {MIN_ENTRY_SPEED_M_S:.0f} m/s this is not an entry from orbit (circular speed "
                 "at 120 km is ~7,800 m/s; lunar return ~11,000 m/s)", "speed_m_s", self.speed_m_s)
        if self.speed_m_s > MAX_ENTRY_SPEED_M_S:
            fail(f"above {MAX_ENTRY_SPEED_M_S:.0f} m/s the entry is strongly hyperbolic (escape speed at "
                 "120 km is ~11,100 m/s; the fastest returns flown, Stardust, entered at 12,900 m/s)",
                 "speed_m_s", self.speed_m_s)
        if self.fpa_deg >= 0.0:
            fail("a climbing or level state is not an entry: the flight-path angle must be below 0 deg "
                 "(skip entries use about -5 to -7 deg)", "fpa_deg", self.fpa_deg)
        if self.fpa_deg < -45.0:
            fail("an entry steeper than -45 deg is a ballistic impact, not a guided entry",
                 "fpa_deg", self.fpa_deg)
        return self


class AtmosphereDrivers(ConfigModel):
    """NRLMSIS drivers (omitted values come from the space-weather table of the entry day), the
    truth atmosphere the capsule flies through and the guidance's forecast of it."""

    f107_sfu: float | None = Field(default=None, ge=50, le=500, description=(
        "a solar radio flux of 50-500 sfu (observed: ~63 at solar minimum to ~370 at the 1989 peak)"))
    f107a_sfu: float | None = Field(default=None, ge=50, le=500, description=(
        "a solar radio flux of 50-500 sfu (observed: ~63 at solar minimum to ~370 at the 1989 peak)"))
    ap: float | None = Field(default=None, ge=0, le=400, description="the Ap index runs from 0 to 400")
    truth_track_points: int = Field(default=12, ge=0, le=64, description=(
        "NRLMSIS stations along the great circle to the site for the TRUTH atmosphere, "
        "interpolated at every step: 0 (the guidance's forecast) or 2-64; 12 follows NRLMSIS "
        "along a Chang'e-5 track to 0.2 % (guanghan.gnc.entry_atmosphere)"))
    forecast_points: int = Field(default=8, ge=0, le=64, description=(
        "NRLMSIS stations of the guidance's on-board forecast along the same great circle: 0 (one "
        "averaged profile) or 2-64"))
    density_scale: float = Field(default=1.0, gt=0.2, le=5.0, description=(
        "constant factor on the truth density (a campaign disperses it); 0.2-5"))

    @model_validator(mode="after")
    def _check_stations(self) -> "AtmosphereDrivers":
        for name in ("truth_track_points", "forecast_points"):
            if getattr(self, name) == 1:
                fail("must be 0 or 2-64: one station makes no track (0 gives one profile)", name, 1)
        return self


GUIDANCE_MODES = ("closed_loop", *OPEN_LOOP_MODES)
_OPEN_LOOP_MODELS = {"constant_bank": ConstantBank, "bank_profile": BankProfile, "ballistic": Ballistic}


def _mode(value) -> str:
    """The guidance table's ``mode`` (``closed_loop`` when not given): the union's tag."""
    return value.get("mode", "closed_loop") if isinstance(value, dict) else \
        getattr(value, "mode", "closed_loop")


#: ``[phases.guidance]``: the closed-loop guidance's tunables, or an open-loop mode
#: (:mod:`guanghan.gnc.entry_open_loop`), chosen by ``mode``
EntryGuidanceMode = Annotated[Union[Annotated[GuidanceSettings, Tag("closed_loop")],  # noqa: UP007
                                    Annotated[ConstantBank, Tag("constant_bank")],
                                    Annotated[BankProfile, Tag("bank_profile")],
                                    Annotated[Ballistic, Tag("ballistic")]],
                              Discriminator(_mode)]


class EarthEntryConfig(PhaseConfig):
    """Entry of a capsule from the entry interface to touchdown: guided (skip) to an Earth
    ``site`` (``guidance.mode = "closed_loop"``, the default), or open loop for studies
    (``constant_bank``, ``bank_profile``, ``ballistic``), where the site is optional and only
    gives the miss.

    ``guidance.terminal_altitude_km`` and ``guidance.max_load_g`` are not given: they are the
    drogue altitude and ``max_g``."""

    type: Literal["earth_entry"]
    site: str | None = None
    entry_interface: EntryInterface | None = None   # None: the previous phase's final state
    capsule: Capsule
    parachutes: ParachuteSystem
    guidance: EntryGuidanceMode = GuidanceSettings()
    atmosphere: AtmosphereDrivers = AtmosphereDrivers()
    max_g: float = Field(default=10.0, ge=1.0, le=100.0, description="a load limit of 1 to 100 g")
    step_s: float = Field(default=0.5, ge=0.01, le=5, description="an integration step of 0.01 to 5 s")
    start_utc: None = None                      # the entry starts at its interface epoch

    summary_groups: ClassVar[tuple[str, ...]] = ("entry", "earth_landing")
    site_body: ClassVar[str] = "EARTH"

    @model_validator(mode="before")
    @classmethod
    def _known_mode(cls, data):
        guidance = data.get("guidance") if isinstance(data, dict) else None
        if not isinstance(guidance, dict):
            return data
        if "mode" in guidance and guidance["mode"] not in GUIDANCE_MODES:
            fail(f"must be one of {', '.join(GUIDANCE_MODES)}", "guidance.mode", guidance["mode"])
        if "mode" not in guidance:              # the closed loop's table: open-loop keys in it?
            stray = set(guidance) - set(GuidanceSettings.model_fields)
            owned = {mode: stray & set(model.model_fields) for mode, model in _OPEN_LOOP_MODELS.items()}
            mode = max(owned, key=lambda m: len(owned[m]))
            if owned[mode]:
                fail(f"missing: without a mode the table is the closed loop's, which has no "
                     f"{', '.join(sorted(owned[mode]))}; give mode = {mode!r}", "guidance.mode", None)
        return data

    @property
    def closed_loop(self) -> bool:
        """True when the guidance flies to the site (``mode = "closed_loop"``)."""
        return isinstance(self.guidance, GuidanceSettings)

    @model_validator(mode="after")
    def _check(self) -> "EarthEntryConfig":
        if self.entry_interface is not None and \
                self.parachutes.drogue_altitude_km >= self.entry_interface.altitude_km:
            fail(f"drogue deployment is above the entry interface ({self.entry_interface.altitude_km} km)",
                 "parachutes.drogue_altitude_km", self.parachutes.drogue_altitude_km)
        if not self.closed_loop:
            return self._check_open_loop()
        if self.site is None:
            fail("the closed-loop guidance flies to a landing site: give `site = ...`, or choose an "
                 "open-loop guidance.mode (constant_bank, bank_profile, ballistic)", "site", None)
        if self.step_s > 5.0 * self.guidance.period_s:
            fail(f"step_s ({self.step_s} s) must be at most 5 guidance periods (guidance.period_s = "
                 f"{self.guidance.period_s} s)", "guidance.period_s", self.guidance.period_s)
        for derived, source in (("terminal_altitude_km", "parachutes.drogue_altitude_km"),
                                ("max_load_g", "max_g")):
            if derived in self.guidance.model_fields_set:
                fail(f"is set from {source}; remove it", f"guidance.{derived}",
                     getattr(self.guidance, derived))
        return self

    def _check_open_loop(self) -> "EarthEntryConfig":
        g = self.guidance
        if isinstance(g, Ballistic) and abs(g.roll_rate_deg_s) > self.capsule.max_bank_rate_deg_s:
            fail(f"exceeds the capsule's max_bank_rate_deg_s ({self.capsule.max_bank_rate_deg_s} "
                 "deg/s): the roll thrusters cannot spin it faster", "guidance.roll_rate_deg_s",
                 g.roll_rate_deg_s)
        return self

    def check_references(self, scenario, where: str) -> None:
        super().check_references(scenario, where)
        mass = scenario.vehicle_mass_kg(self.vehicle)
        cd = max(row[1] for row in self.capsule.cd_mach)
        beta = mass / (cd * self.capsule.reference_area_m2)
        if not 10.0 <= beta <= 5000.0:
            masses = " + ".join(f"modules.{m}.dry_mass_kg + propellant_kg"
                                for m in scenario.vehicles[self.vehicle].modules)
            fail(f"the {self.vehicle!r} vehicle ({mass:g} kg: {masses}) on "
                 f"{self.capsule.reference_area_m2:g} m² has a "
                 f"ballistic coefficient of {beta:.3g} kg/m²; entry capsules fly 10-5,000 kg/m² (Apollo "
                 "~400, Chang'e-5 ~200)", f"{where}.capsule.reference_area_m2",
                 self.capsule.reference_area_m2)
        self._check_canopies(mass, where)

    def _check_canopies(self, mass: float, where: str) -> None:
        """Steady descent speeds under each canopy (Knacke eq. 5-1, v = sqrt(2 m g / (ρ CdA)), in an
        exponential atmosphere ρ = 1.225 exp(-h / 8.5 km)): the drogue must slow the capsule enough
        for the main to open, the main enough to land."""
        ch = self.parachutes

        def steady(cda_m2: float, altitude_km: float) -> float:
            rho = 1.225 * math.exp(-altitude_km / 8.5)
            return math.sqrt(2.0 * mass * STANDARD_GRAVITY / (rho * cda_m2))

        v_main = steady(ch.drogue_cd_area_m2, ch.main_altitude_km)
        if v_main > MAX_MAIN_OPENING_SPEED_M_S:
            fail(f"under the drogue the {mass:g} kg capsule still falls at {v_main:.0f} m/s at the main's "
                 f"altitude ({ch.main_altitude_km} km): above {MAX_MAIN_OPENING_SPEED_M_S:.0f} m/s no main "
                 "canopy survives opening", f"{where}.parachutes.drogue_cd_area_m2", ch.drogue_cd_area_m2)
        v_land = steady(ch.main_cd_area_m2, 0.0)
        if v_land > MAX_TOUCHDOWN_SPEED_M_S:
            fail(f"under the main the {mass:g} kg capsule lands at {v_land:.0f} m/s: above "
                 f"{MAX_TOUCHDOWN_SPEED_M_S:.0f} m/s no capsule survives", f"{where}.parachutes.main_cd_area_m2",
                 ch.main_cd_area_m2)

    def data_needs(self, scenario, index: int) -> list:
        if self.entry_interface is not None:
            utc, field = self.entry_interface.utc, "entry_interface.utc"
        else:                                   # chained: the previous leg's aim gives the epoch
            aim = getattr(scenario.phases[index - 1], "entry_target", None) if index else None
            if aim is None:
                return []
            utc, field = aim.utc, "entry_interface"
        et = utc_text_to_et(utc)
        needs = [("earth_orientation", et, et + 7200.0, field, utc,
                  "the entry flies over the rotating Earth")]
        atm = self.atmosphere
        if atm.f107_sfu is None or atm.f107a_sfu is None or atm.ap is None:
            needs.append(("space_weather", et, et, field, utc,
                          "give [phases.atmosphere] f107_sfu, f107a_sfu and ap for an entry outside it"))
        return needs

    def check_standalone(self, where: str) -> None:
        if self.entry_interface is None:
            fail("the first phase needs [phases.entry_interface]", f"{where}.entry_interface", None)
