"""Configuration of the lunar-orbit coast leg: duration, events to log, initial condition, integrator."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.mission.leg import PhaseConfig
from guanghan.mission.scenario_orbits import InitialOrbit, InitialState

EVENT_KINDS = ("site_longitude", "periapsis", "apoapsis", "earth_occultation", "shadow")


class Propagation(ConfigModel):
    """Integrator settings; the velocity tolerance is derived from ``atol_m`` by the engine."""

    rtol: float = Field(default=1e-11, gt=0, lt=1)
    atol_m: float = Field(default=1e-4, gt=0)
    max_step_s: float = Field(default=600.0, gt=0)


class LunarOrbitCoastConfig(PhaseConfig):
    """Unpowered flight about the Moon; logs passes over ``site`` and the listed events."""

    type: Literal["lunar_orbit_coast"]
    duration_h: float = Field(gt=0)
    output_step_s: float = Field(default=60.0, gt=0)
    propagation: Propagation = Propagation()
    initial_orbit: InitialOrbit | None = None
    initial_state: InitialState | None = None
    site: str | None = None
    events: list[Literal[EVENT_KINDS]] = list(EVENT_KINDS)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _check(self) -> "LunarOrbitCoastConfig":
        if self.initial_orbit is not None and self.initial_state is not None:
            fail("give either initial_orbit or initial_state, not both", "initial_state",
                 self.initial_state.model_dump())
        if len(set(self.events)) != len(self.events):
            fail("an event is listed twice", "events", self.events)
        if "site_longitude" in self.events and self.site is None:
            fail("the site_longitude event needs `site = ...`; give one or drop the event",
                 "site", None)
        return self

    def check_standalone(self, where: str) -> None:
        if self.initial_orbit is None and self.initial_state is None:
            fail("the first phase needs [phases.initial_orbit] or [phases.initial_state]",
                 f"{where}.initial_orbit", None)
