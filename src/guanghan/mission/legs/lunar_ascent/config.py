"""Configuration of the lunar-ascent leg: the engine, the insertion target (its plane from the
vehicle waiting in orbit, or given), the IMU, the sequence, and the ground-in-the-loop comparison,
composed from the records of the physics (:mod:`guanghan.gnc.ascent_guidance`,
:mod:`guanghan.gnc.ascent_flight`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from guanghan.config_model import ConfigModel, fail
from guanghan.environment.config_fields import UtcText
from guanghan.gnc.ascent_config import AscentImu, AscentProfile
from guanghan.gnc.ascent_guidance import AscentTarget
from guanghan.mission.leg import PhaseConfig, need


class GroundLoop(ConfigModel):
    """The same ascent steered from the ground, for comparison: every command acts after the
    round-trip light time plus ``reaction_s``; both loops fly the same seeded dispersions."""

    reaction_s: float = Field(default=10.0, ge=0, le=300, description=(
        "ground computation and command time on top of the round-trip light time (s)"))
    runs: int = Field(default=10, ge=0, le=500, description=(
        "dispersed runs of each loop (0: no comparison); the failure rates are over these"))
    thrust_sigma: float = Field(default=0.02 / 3, ge=0, le=0.1, description=(
        "1σ relative thrust dispersion (default: ±2 % at 3σ)"))
    isp_sigma: float = Field(default=0.01 / 3, ge=0, le=0.1, description=(
        "1σ relative Isp dispersion (default: ±1 % at 3σ)"))
    telemetry: Literal["tracking", "navigation"] = Field(default="tracking", description=(
        "what the ground steers on: its own tracking (the true state) or the downlinked navigation"))


class LunarAscentConfig(PhaseConfig):
    """Lift-off from the surface (the previous leg's final state, or ``site`` at ``liftoff_utc``)
    to engine cut-off on guidance at the insertion target."""

    type: Literal["lunar_ascent"]
    site: str = Field(description="the lift-off site (used when the leg runs alone)")
    liftoff_utc: UtcText | None = Field(default=None, description=(
        "lift-off epoch; default: the previous leg's end (the surface stay's lift-off)"))
    engine: str = Field(description="the ascent engine, '<module>.<engine>' of the vehicle")
    target: AscentTarget
    target_vehicle: str | None = Field(default=None, description=(
        "a vehicle in orbit whose plane at lift-off the insertion aims at (overrides the target's "
        "plane); it must have been left in flight by an earlier leg"))
    profile: AscentProfile = Field(default_factory=AscentProfile)
    imu: AscentImu = Field(default_factory=AscentImu)
    max_slew_rate_deg_s: float = Field(default=10.0, gt=0, le=90, description=(
        "largest turn rate of the thrust direction (deg/s)"))
    seed: int = Field(ge=0, description="seed of the IMU errors and of the dispersed runs")
    ground_loop: GroundLoop = Field(default_factory=GroundLoop)
    truth_gravity_degree: int = Field(default=8, ge=0, le=100, description=(
        "degree/order of the lunar field in the ascent's truth dynamics (0: point mass); capped at "
        "the scenario's degree"))
    window_search_h: float = Field(default=48.0, ge=0, le=720, description=(
        "launch windows are listed from the lift-off to this many hours after it (0: none)"))

    summary_groups: ClassVar[tuple[str, ...]] = ("ascent",)

    def check_standalone(self, where: str) -> None:
        if self.liftoff_utc is None:
            fail("a lunar_ascent phase run alone needs liftoff_utc", f"{where}.liftoff_utc", None)
        if self.target_vehicle is not None:
            fail("a lunar_ascent phase run alone has no vehicle in orbit to aim at: give the "
                 "target's plane instead", f"{where}.target_vehicle", self.target_vehicle)

    def check_references(self, scenario, where: str) -> None:
        super().check_references(scenario, where)
        engines = scenario.vehicle_engines(self.vehicle)
        if self.engine not in engines:
            fail(f"vehicle {self.vehicle!r} has no engine {self.engine!r}; its modules' engines are {sorted(engines)}",
                 f"{where}.engine", self.engine)
        if self.target_vehicle is not None:
            need(self.target_vehicle, scenario.vehicles, "vehicle", f"{where}.target_vehicle")
