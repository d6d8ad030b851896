"""Configuration of the Earth–Moon transfer leg: the transfer plan
(:class:`~guanghan.gnc.lunar_transfer_plan.TransferPlan`) flown by a vehicle from the launch
vehicle's injection to the end of the last lunar-orbit-insertion burn."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from guanghan.config_model import fail
from guanghan.environment.config_fields import utc_text_to_et
from guanghan.gnc.lunar_transfer_plan import TransferPlan
from guanghan.mission.leg import PhaseConfig, need


class EarthMoonTransferConfig(PhaseConfig, TransferPlan):
    """Injection (designed), coast with midcourse corrections, LOI burns into the lunar orbit."""

    type: Literal["earth_moon_transfer"]
    output_step_s: float = Field(default=300.0, ge=1.0, le=86_400.0, description="1 s to 1 day")

    summary_groups: ClassVar[tuple[str, ...]] = ("transfer", "loi", "lunar_orbit")

    def data_needs(self, scenario, index: int) -> list:
        launch = utc_text_to_et(self.injection.launch_utc)
        return [("earth_orientation", launch, self.loi[-1].et, "injection.launch_utc",
                 self.injection.launch_utc,
                 "the Earth-centred part of the transfer needs the Earth's orientation")]

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
                fail(f"site {site!r} is on {scenario.sites[site].body}; a launch site must be on the Earth",
                     f"{where}.injection.launch_site", site)
