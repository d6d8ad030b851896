"""Configuration of the Earth–Moon transfer leg: the transfer plan
(:class:`~guanghan.gnc.lunar_transfer_plan.TransferPlan`) flown by a vehicle from the launch
vehicle's injection to the end of the last lunar-orbit-insertion burn."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from guanghan.config_model import fail
from guanghan.environment.config_fields import utc_text_to_et
from guanghan.gnc.lunar_transfer_plan import TransferPlan
from guanghan.mission.leg import PhaseConfig, need


class EarthMoonTransferConfig(PhaseConfig, TransferPlan):
    """Injection (designed), coast with midcourse corrections, LOI burns into the lunar orbit."""

    type: Literal["earth_moon_transfer"]
    output_step_s: float = Field(default=300.0, ge=1.0, le=86_400.0, description="1 s to 1 day")

    summary_groups: ClassVar[tuple[str, ...]] = ("transfer", "loi", "lunar_orbit")

    @model_validator(mode="after")
    def _no_start(self) -> "EarthMoonTransferConfig":
        if self.start_utc is not None:
            fail("the transfer starts at its designed injection, injection.launch_utc + "
                 "injection.flight_time_s; remove start_utc", "start_utc", self.start_utc)
        return self

    def ends_after_et(self) -> float:
        """The last LOI burn's ignition (ET s): the transfer ends at that burn's end."""
        return self.loi[-1].et

    def data_needs(self, scenario, index: int) -> list:
        """The Earth's orientation (EGM96 in ITRF93) from the launch to the last LOI burn: both ends
        checked, each naming its own field (the span in between is contiguous)."""
        hint = "the Earth-centred part of the transfer needs the Earth's orientation"
        launch = utc_text_to_et(self.injection.launch_utc)
        last = len(self.loi) - 1
        return [("earth_orientation", launch, launch, "injection.launch_utc", self.injection.launch_utc, hint),
                ("earth_orientation", self.loi[last].et, self.loi[last].et, f"loi[{last}].utc",
                 self.loi[last].utc, hint)]

    def check_references(self, scenario, where: str) -> None:
        super().check_references(scenario, where)
        engines = scenario.vehicle_engines(self.vehicle)
        for field, name in self.engine_names().items():
            if name not in engines:
                fail(f"vehicle {self.vehicle!r} has no engine {name!r}; its modules' engines are "
                     f"{sorted(engines)}", f"{where}.{field}", name)
        site = self.injection.launch_site
        if site is not None:
            need(site, scenario.sites, "site", f"{where}.injection.launch_site")
            if scenario.sites[site].body != "EARTH":
                fail(f"site {site!r} is on {scenario.sites[site].body} (sites.{site}.body); a launch site "
                     "must be on the Earth",
                     f"{where}.injection.launch_site", site)
