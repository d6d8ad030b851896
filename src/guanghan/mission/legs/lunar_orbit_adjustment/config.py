"""Configuration of the lunar-orbit adjustment leg: the circularisation (engine, aim, steering,
window of passes), the plane trim (engine, earliest epoch), the epoch the site must be in the plane
(the powered descent's start) and the leg's end (the separation)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.environment.config_fields import UtcText, utc_text_to_et
from guanghan.gnc.execution_errors import ExecutionErrors
from guanghan.mission.leg import PhaseConfig


class Circularisation(ConfigModel):
    """The burn from the capture ellipse into the low orbit, on the periselene pass (between
    ``earliest_utc`` and ``latest_utc``) that puts the site in the plane at the descent."""

    engine: str
    mean_altitude_km: float = Field(gt=0.0, le=5_000.0, description="a low orbit: mean altitude up to 5,000 km")
    steering: Literal["retrograde", "pitch_programme"] = Field(default="pitch_programme", description=(
        "'retrograde' along -v, or 'pitch_programme': a linear pitch programme about -v solved with "
        "the duration for the least altitude spread"))
    earliest_utc: UtcText
    latest_utc: UtcText
    scan_stride: int = Field(default=4, ge=1, le=50, description=(
        "every n-th pass is scanned before the sign changes are refined pass by pass"))

    @model_validator(mode="after")
    def _order(self) -> "Circularisation":
        if utc_text_to_et(self.latest_utc) <= utc_text_to_et(self.earliest_utc):
            fail(f"must come after earliest_utc = {self.earliest_utc}", "latest_utc", self.latest_utc)
        return self


class PlaneTrim(ConfigModel):
    """The burn along the orbit normal that removes the site's remaining offset from the plane."""

    engine: str
    not_before_utc: UtcText


class LunarOrbitAdjustmentConfig(PhaseConfig):
    """Circularise on the chosen pass, trim the plane, coast to ``end_utc``."""

    type: Literal["lunar_orbit_adjustment"]
    site: str
    powered_descent_utc: UtcText      # the site must lie in the orbit plane at this epoch
    end_utc: UtcText                  # the leg ends here (e.g. the lander's separation)
    circularisation: Circularisation
    plane_trim: PlaneTrim
    execution_errors: ExecutionErrors = ExecutionErrors()
    output_step_s: float = Field(default=60.0, ge=1.0, le=86_400.0, description="1 s to 1 day")

    summary_groups: ClassVar[tuple[str, ...]] = ("orbit_adjustment",)

    @model_validator(mode="after")
    def _order(self) -> "LunarOrbitAdjustmentConfig":
        latest = utc_text_to_et(self.circularisation.latest_utc)
        trim = utc_text_to_et(self.plane_trim.not_before_utc)
        end = utc_text_to_et(self.end_utc)
        if trim <= latest:
            fail(f"must come after circularisation.latest_utc = {self.circularisation.latest_utc}",
                 "plane_trim.not_before_utc", self.plane_trim.not_before_utc)
        if end <= trim + 86400.0:
            fail(f"must come at least a day after plane_trim.not_before_utc = {self.plane_trim.not_before_utc}"
                 " (the trim waits for its point of the orbit)", "end_utc", self.end_utc)
        if utc_text_to_et(self.powered_descent_utc) <= end:
            fail(f"must come after end_utc = {self.end_utc}", "powered_descent_utc", self.powered_descent_utc)
        return self

    def check_after(self, previous_end: tuple[float, str, object], where: str) -> None:
        if utc_text_to_et(self.circularisation.earliest_utc) <= previous_end[0]:
            fail(f"must come after the previous phase's end ({previous_end[1]} = {previous_end[2]})",
                 f"{where}.circularisation.earliest_utc", self.circularisation.earliest_utc)

    def ends_after_et(self) -> float:
        return utc_text_to_et(self.end_utc)

    def check_references(self, scenario, where: str) -> None:
        super().check_references(scenario, where)
        engines = scenario.vehicle_engines(self.vehicle)
        for field in ("circularisation", "plane_trim"):
            name = getattr(self, field).engine
            if name not in engines:
                fail(f"vehicle {self.vehicle!r} has no engine {name!r}; its modules' engines are "
                     f"{sorted(engines)}", f"{where}.{field}.engine", name)

    def check_standalone(self, where: str) -> None:
        fail("a lunar_orbit_adjustment phase starts from the previous phase's capture orbit; put an "
             "earth_moon_transfer phase before it", f"{where}.type", self.type)
