"""Configuration of the lunar-rendezvous leg: far-range phasing, the close-range approach and
capture, the sample transfer, the undocking and the ascender's disposal, composed from the records
of the physics (:mod:`guanghan.gnc.rendezvous_phasing`, :mod:`guanghan.gnc.proximity_operations`,
:mod:`guanghan.gnc.relative_navigation`, :mod:`guanghan.gnc.lunar_impact`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.environment.config_fields import UtcText
from guanghan.gnc.execution_errors import ExecutionErrors
from guanghan.gnc.lunar_impact import DeorbitPlan
from guanghan.gnc.proximity_operations import ProximityPlan, Thrusters
from guanghan.gnc.relative_navigation import RelativeNavConfig, RelativeSensor
from guanghan.gnc.rendezvous_phasing import PhasingPlan
from guanghan.mission.leg import PhaseConfig, need
from guanghan.mission.scenario_orbits import InitialOrbit


class Disposal(ConfigModel):
    """The passive vehicle's deorbit after the undocking: earliest burn epoch, Δv, aim point."""

    earliest_burn_utc: UtcText = Field(description="earliest deorbit burn (the burn falls within one revolution)")
    plan: DeorbitPlan = Field(default_factory=DeorbitPlan)
    target_lat_deg: float = Field(ge=-90, le=90, description="impact latitude aimed at (deg)")
    target_lon_deg: float | None = Field(default=None, gt=-180, le=180, description=(
        "impact longitude aimed at (deg, east); none: the latitude alone"))


class LunarRendezvousConfig(PhaseConfig):
    """The vehicle inserted by the ascent (``vehicle``, the chaser during phasing) meets
    ``target_vehicle`` (left in orbit by an earlier leg): ground-planned phasing burns to the
    hand-over point, the autonomous close-range approach by ``active`` with relative navigation,
    capture, the cargo moved to ``cargo_to_module``, undocking and the chaser's disposal."""

    type: Literal["lunar_rendezvous"]
    target_vehicle: str = Field(description="the vehicle waiting in orbit (e.g. the orbiter-returner)")
    phasing_engine: str = Field(description="the chaser's engine for the phasing burns, '<module>.<engine>'")
    phasing: PhasingPlan
    phasing_errors: ExecutionErrors = Field(default_factory=ExecutionErrors, description=(
        "1σ thrust and pointing errors of the phasing burns, and their seed; the ground re-plans "
        "the final transfer from the flown orbit (default: no errors, flown as designed)"))
    active: Literal["chaser", "target"] = Field(default="target", description=(
        "which vehicle flies the close-range approach (Chang'e: the orbiter captured the ascender)"))
    proximity: ProximityPlan = Field(default_factory=ProximityPlan)
    thrusters: Thrusters = Field(default_factory=Thrusters)
    sensor: RelativeSensor = Field(default_factory=RelativeSensor)
    navigation: RelativeNavConfig = Field(default_factory=lambda: RelativeNavConfig(dynamics="nonlinear_circular"))
    seed: int = Field(ge=0, description="seed of the sensors' noise and biases and the thrusters' errors")
    transfer_duration_min: float = Field(default=30.0, ge=0, le=1440, description=(
        "capture to the end of the sample transfer (min)"))
    cargo_to_module: str = Field(description="the module that receives the chaser's cargo (the returner)")
    undocking_utc: UtcText = Field(description="undocking of the chaser from the stack")
    disposal: Disposal | None = None
    output_step_s: float = Field(default=60.0, ge=1.0, le=3600, description=(
        "sampling of the orbital arcs (s), 1 s to 1 h"))

    start_utc: UtcText | None = Field(default=None, description=(
        "run alone: the epoch of chaser_orbit and target_orbit"))
    chaser_orbit: InitialOrbit | None = Field(default=None, description=(
        "run alone: the chaser's orbit at start_utc (default: the previous leg's insertion)"))
    target_orbit: InitialOrbit | None = Field(default=None, description=(
        "run alone: the target's orbit at start_utc (default: its state handed on by an earlier leg)"))

    summary_groups: ClassVar[tuple[str, ...]] = ("rendezvous", "disposal")

    @model_validator(mode="after")
    def _alone(self):
        if (self.chaser_orbit is not None or self.target_orbit is not None) and self.start_utc is None:
            fail("chaser_orbit and target_orbit need the epoch they hold at", "start_utc", None)
        return self

    def check_standalone(self, where: str) -> None:
        if self.chaser_orbit is None or self.target_orbit is None:
            fail("a lunar_rendezvous phase run alone needs start_utc, chaser_orbit and target_orbit; "
                 "otherwise put it after a lunar_ascent, with the target left in orbit by an earlier leg",
                 f"{where}.chaser_orbit" if self.chaser_orbit is None else f"{where}.target_orbit", None)

    def check_references(self, scenario, where: str) -> None:
        super().check_references(scenario, where)
        need(self.target_vehicle, scenario.vehicles, "vehicle", f"{where}.target_vehicle")
        engines = scenario.vehicle_engines(self.vehicle)
        if self.phasing_engine not in engines:
            fail(f"vehicle {self.vehicle!r} has no engine {self.phasing_engine!r}; its modules' engines are {sorted(engines)}",
                 f"{where}.phasing_engine", self.phasing_engine)
        if self.cargo_to_module not in scenario.vehicles[self.target_vehicle].modules:
            fail(f"must be a module of the target vehicle {self.target_vehicle!r} "
                 f"({scenario.vehicles[self.target_vehicle].modules})", f"{where}.cargo_to_module",
                 self.cargo_to_module)
