"""Configuration of the trans-Earth leg: the return plan (:class:`~guanghan.gnc.return_plan.ReturnPlan`)
flown by a vehicle to the entry interface above an Earth site, from a designed parking orbit, given
elements, or the previous leg's final state."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from guanghan.config_model import fail
from guanghan.environment.config_fields import utc_text_to_et
from guanghan.gnc.parking_orbit_design import ParkingOrbit
from guanghan.gnc.return_plan import ReturnPlan
from guanghan.mission.leg import PhaseConfig, need
from guanghan.mission.scenario_orbits import InitialOrbit


class TransEarthConfig(PhaseConfig, ReturnPlan):
    """TEI-1, TEI-2, coast with midcourse corrections, separation and orbiter divert, to the EI."""

    type: Literal["trans_earth"]
    site: str
    parking_orbit: ParkingOrbit | None = None
    initial_orbit: InitialOrbit | None = None
    output_step_s: float = Field(default=300.0, ge=1.0, le=86_400.0, description="1 s to 1 day")

    summary_groups: ClassVar[tuple[str, ...]] = ("tei", "return")
    site_body: ClassVar[str] = "EARTH"

    @model_validator(mode="after")
    def _check_start(self) -> "TransEarthConfig":
        if self.parking_orbit is not None and self.initial_orbit is not None:
            fail("give either parking_orbit (designed) or initial_orbit, not both", "initial_orbit",
                 self.initial_orbit.model_dump())
        if (self.start_utc is None) != (self.initial_orbit is None):
            fail("start_utc goes with initial_orbit (the epoch of those elements)",
                 "start_utc" if self.start_utc is not None else "initial_orbit", self.start_utc)
        if self.start_utc is not None:
            if utc_text_to_et(self.start_utc) >= utc_text_to_et(self.tei_1.utc):
                fail(f"must come before TEI-1 ({self.tei_1.utc})", "start_utc", self.start_utc)
        return self

    def data_needs(self, scenario, index: int) -> list:
        tei1, entry = (utc_text_to_et(u) for u in (self.tei_1.utc, self.entry_target.utc))
        return [("earth_orientation", tei1, entry + 86_400.0, "entry_target.utc", self.entry_target.utc,
                 "the Earth-centred part of the return needs the Earth's orientation")]

    def check_standalone(self, where: str) -> None:
        if self.parking_orbit is None and self.initial_orbit is None:
            fail("the first phase needs [phases.parking_orbit] or [phases.initial_orbit]",
                 f"{where}.parking_orbit", None)

    def check_references(self, scenario, where: str) -> None:
        super().check_references(scenario, where)
        engines = scenario.vehicle_engines(self.vehicle)
        for field, name in self.engine_names().items():
            if name not in engines:
                fail(f"vehicle {self.vehicle!r} has no engine {name!r}; its modules' engines are {sorted(engines)}",
                     f"{where}.{field}", name)
        returner = self.separation.returner_vehicle
        need(returner, scenario.vehicles, "vehicle", f"{where}.separation.returner_vehicle")
        extra = set(scenario.vehicles[returner].modules) - set(scenario.vehicles[self.vehicle].modules)
        if extra:
            fail(f"the returner must be part of the stack {self.vehicle!r}; {sorted(extra)} is not",
                 f"{where}.separation.returner_vehicle", returner)
