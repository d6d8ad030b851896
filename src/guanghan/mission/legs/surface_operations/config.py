"""Configuration of the surface-operations leg: the stay's bounds, the sampling hardware, the
operations timeline, the links (direct to Earth and through a relay), the lander's thermal limits
and the hardware left behind, composed from the records of the physics
(:mod:`guanghan.dynamics.regolith_drilling`, :mod:`guanghan.dynamics.regolith_scooping`,
:mod:`guanghan.dynamics.panel_thermal`, :mod:`guanghan.dynamics.relay_orbit`,
:mod:`guanghan.gnc.link_windows`, :mod:`guanghan.gnc.link_budget`)."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from guanghan.config_model import NAME_PATTERN, ConfigModel, fail
from guanghan.dynamics.panel_thermal import FlatPanel
from guanghan.dynamics.regolith_drilling import Drill
from guanghan.dynamics.regolith_scooping import SampleContainer, Scoop
from guanghan.dynamics.relay_orbit import RelayOrbit
from guanghan.environment import time_scales
from guanghan.environment.config_fields import UtcText
from guanghan.environment.constants import MEAN_SYNODIC_MONTH_S
from guanghan.gnc.link_budget import LinkBudget
from guanghan.gnc.link_windows import GroundStation
from guanghan.mission.leg import PhaseConfig, need

#: the steps of the surface timeline that may be marked as needing ground confirmation
STEPS = ("drill", "core_packaging", "scoop", "sealing", "flag", "ascent_preparation")
Step = Literal["drill", "core_packaging", "scoop", "sealing", "flag", "ascent_preparation"]


class Sampling(ConfigModel):
    """The drill, the robotic-arm scoop, the sample container and the mass the plan aims at."""

    drill: Drill
    scoop: Scoop
    container: SampleContainer
    target_sample_mass_g: float = Field(gt=0, le=1e6, description=(
        "sample mass the plan aims at (g): drill core plus scoop cycles until it is reached"))
    seed: int = Field(ge=0, description="seed of the drill's obstacles and the scoop fill")

    @model_validator(mode="after")
    def _check(self) -> Sampling:
        if self.container.capacity_g < self.target_sample_mass_g:
            fail(f"the container holds {self.container.capacity_g:g} g, less than the "
                 f"{self.target_sample_mass_g:g} g target sample (target_sample_mass_g)", "container.capacity_g",
                 self.container.capacity_g)
        return self


class Operations(ConfigModel):
    """Durations of the timeline's fixed steps, which steps wait for a ground command, and the
    limits of the operating window (see :mod:`guanghan.gnc.surface_timeline`)."""

    checkout_h: float = Field(ge=0, le=48, description="post-landing checkout before sampling (h)")
    drill_setup_h: float = Field(ge=0, le=24, description="drill deployment before drilling (h)")
    core_packaging_h: float = Field(ge=0, le=24, description=(
        "winding the core into its bag and sealing it into the container (h)"))
    sealing_h: float = Field(ge=0, le=24, description="closing and sealing the primary container (h)")
    flag_deployment_h: float = Field(ge=0, le=24, description="flag (or other item) deployment (h)")
    ascent_preparation_h: float = Field(ge=0, le=48, description=(
        "transfer of the container to the ascender and ascent checkout (h)"))
    confirm: list[Step] = Field(default_factory=list, description=(
        f"steps that start only on a ground command, after the previous step's telemetry "
        f"reached the ground: any of {list(STEPS)}"))
    ground_reaction_s: float = Field(default=600.0, ge=0, le=86_400, description=(
        "time the ground takes to judge telemetry and send a command (s), on top of the light time"))
    liftoff_margin_h: float = Field(default=1.0, ge=0, le=48, description=(
        "least time between the end of the ascent preparation and the lift-off (h)"))
    min_sun_elevation_deg: float = Field(default=0.0, ge=-10, le=60, description=(
        "least Sun elevation at the site while working (deg): solar power"))
    solver_time_limit_s: float = Field(default=10.0, gt=0, le=600, description=(
        "time limit of the CP-SAT timeline solver (s)"))


class Comms(ConfigModel):
    """Ground network, direct-to-Earth link and an optional relay satellite with its links."""

    ground_stations: list[GroundStation] = Field(min_length=1, description=(
        "the ground network: each station sees the Moon (or the relay) above its own mask"))
    site_mask_deg: float = Field(default=5.0, ge=-5, le=60, description=(
        "least elevation of the Earth or the relay above the site's horizon (deg)"))
    direct_link: LinkBudget | None = Field(default=None, description="lander → Earth link budget")
    relay: RelayOrbit | None = Field(default=None, description=(
        "relay satellite's orbit (elements at an epoch before the touchdown)"))
    relay_link: LinkBudget | None = Field(default=None, description="lander → relay link budget")
    relay_trunk_link: LinkBudget | None = Field(default=None, description=(
        "relay → Earth link budget (the relayed rate is the lesser of the two)"))
    relay_gravity_degree: int = Field(default=12, ge=2, le=100, description=(
        "degree/order of the lunar field propagating the relay"))
    sample_step_s: float = Field(default=60.0, ge=5, le=900, description=(
        "sampling of the link geometry (s); windows shorter than this may be missed"))

    @model_validator(mode="after")
    def _check(self) -> Comms:
        if self.relay is not None and self.relay_link is None:
            fail("a relay needs its lander → relay link budget", "relay_link", None)
        if self.relay is None and (self.relay_link is not None or self.relay_trunk_link is not None):
            fail("a relay link budget without a relay orbit", "relay", None)
        if self.relay is None and self.direct_link is None:
            fail("give a direct_link, or a relay with its relay_link: the lander has no link",
                 "direct_link", None)
        return self


class SurfaceOperationsConfig(PhaseConfig):
    """The stay on the surface from the touchdown (previous leg, or ``touchdown_utc`` at ``site``)
    to ``liftoff_utc``: sampling on a solved timeline, links, temperatures, deployed hardware."""

    type: Literal["surface_operations"]
    site: str = Field(description="the landing site (used as is when the leg runs alone)")
    touchdown_utc: UtcText | None = Field(default=None, description=(
        "start of the stay when the leg runs alone (else the previous leg's touchdown)"))
    liftoff_utc: UtcText = Field(description="the lift-off epoch: the stay's end")
    ascent_vehicle: str = Field(description="the vehicle that lifts off (a part of `vehicle`)")
    sample_module: str = Field(description="the module that carries the samples off the surface")
    sampling: Sampling
    operations: Operations
    comms: Comms
    lander_thermal: FlatPanel = Field(description=(
        "the lander's thermal model (its radiator or an exposed deck) and its operating limits: "
        "work stops outside [min_temp_k, max_temp_k]"))
    deployed: list[FlatPanel] = Field(default_factory=list, description=(
        "hardware left on the surface (the flag: an item named 'flag'), deployed at the flag step"))
    deployed_span_days: float = Field(default=30.0, ge=MEAN_SYNODIC_MONTH_S / 86_400, le=400, description=(
        "span over which the deployed items' temperatures are judged (days): a lunation at least"))
    conditions_step_s: float = Field(default=600.0, ge=60, le=3600, description=(
        "sampling of Sun, temperatures and the trajectory table over the stay (s)"))

    summary_groups: ClassVar[tuple[str, ...]] = ("surface", "comms", "flag")

    @model_validator(mode="after")
    def _check(self) -> SurfaceOperationsConfig:
        names = [d.name for d in self.deployed]
        for i, n in enumerate(names):
            if not re.match(NAME_PATTERN, n):
                fail(f"must match {NAME_PATTERN} (it prefixes summary keys)", f"deployed[{i}].name", n)
            if names.index(n) != i:
                fail("two deployed items share this name", f"deployed[{i}].name", n)
        if self.touchdown_utc is not None:
            t0, t1 = (time_scales.utc_to_et(u) for u in (self.touchdown_utc, self.liftoff_utc))
            if t1 <= t0:
                fail(f"must come after touchdown_utc = {self.touchdown_utc}", "liftoff_utc",
                     self.liftoff_utc)
        return self

    def check_standalone(self, where: str) -> None:
        if self.touchdown_utc is None:
            fail("a surface_operations phase run alone needs touchdown_utc (the start of the stay)",
                 f"{where}.touchdown_utc", None)

    def check_references(self, scenario, where: str) -> None:
        super().check_references(scenario, where)
        need(self.ascent_vehicle, scenario.vehicles, "vehicle", f"{where}.ascent_vehicle")
        lander = scenario.vehicles[self.vehicle].modules
        ascent = scenario.vehicles[self.ascent_vehicle].modules
        if not set(ascent) <= set(lander):
            fail(f"its modules {ascent} are not all part of vehicle {self.vehicle!r} ({lander})",
                 f"{where}.ascent_vehicle", self.ascent_vehicle)
        if self.sample_module not in ascent:
            fail(f"must be a module of the ascent vehicle {self.ascent_vehicle!r} ({ascent})",
                 f"{where}.sample_module", self.sample_module)

    def data_needs(self, scenario, index: int):
        """The ground stations' Earth orientation over the stay (from the lift-off back to the
        touchdown, or the lift-off alone when the touchdown comes from the previous leg)."""
        t1 = time_scales.utc_to_et(self.liftoff_utc)
        t0 = time_scales.utc_to_et(self.touchdown_utc) if self.touchdown_utc else t1
        return [("earth_orientation", t0, t1, "liftoff_utc", self.liftoff_utc,
                 "the ground stations' positions need Earth orientation over the stay")]
