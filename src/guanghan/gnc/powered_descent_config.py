"""Configuration records and the result of the powered descent (:mod:`guanghan.gnc.powered_descent`):
the lander, the target, the descent profile's tunables, what the hazard-avoidance callback is given,
and what the flight returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import Field

from guanghan.config_model import ConfigModel
from guanghan.dynamics.powered_descent_dynamics import SiteFrame
from guanghan.dynamics.propulsion import Engine
from guanghan.errors import GuanghanError


class DescentInputError(GuanghanError, ValueError):
    """An input makes the descent impossible; names the parameter, its value and the limit."""

    def __init__(self, field: str, value, limit: str):
        self.field, self.value, self.limit = field, value, limit
        super().__init__(f"{field} = {value}: {limit}")

class LanderConfig(ConfigModel):
    """The lander: descent engine, mass, attitude agility and terminal-descent design."""

    engine: Engine = Field(description="main descent engine (max thrust per engine, Isp, count)")
    min_throttle: float = Field(gt=0, lt=1, description=(
        "lowest throttle of the variable-thrust engine (fraction of max); > 0 as the engine "
        "cannot relight in flight and lossless convexification needs a positive lower bound"))
    dry_mass_kg: float = Field(gt=0, description="mass with the descent propellant used up (kg)")
    max_slew_rate_deg_s: float = Field(default=10.0, gt=0, le=90, description=(
        "largest turn rate of the thrust direction (deg/s), attitude-control authority"))
    hover_altitude_m: float = Field(default=100.0, gt=10, le=2000, description=(
        "hover height over the terrain at the aim point (m); Chang'e-3/5 hovered at ~100 m"))
    hover_duration_s: float = Field(default=8.0, ge=0, le=300, description=(
        "hover time before the hazard-avoidance decision (s)"))
    vertical_descent_speed_m_s: float = Field(default=2.0, gt=0, le=10, description=(
        "speed of the slow vertical descent from the hover height (m/s); Chang'e: ~1.5–2"))
    final_descent_height_m: float = Field(default=10.0, ge=0, le=100, description=(
        "below this height over the terrain the descent slows to final_descent_speed_m_s (m)"))
    final_descent_speed_m_s: float = Field(default=1.0, gt=0, le=10, description=(
        "descent speed at engine cut-off (m/s); sets the free-fall touchdown speed"))
    cutoff_height_m: float = Field(default=2.0, gt=0, le=30, description=(
        "altimeter reading at which the engine is cut (m); then free fall"))
    touchdown_vertical_limit_m_s: float = Field(default=4.0, gt=0, le=20, description=(
        "largest vertical touchdown speed the landing legs absorb (m/s)"))
    touchdown_horizontal_limit_m_s: float = Field(default=1.0, gt=0, le=10, description=(
        "largest horizontal touchdown speed before tip-over risk (m/s)"))
    footprint_radius_m: float = Field(default=2.0, ge=0, le=20, description=(
        "radius of the landing-gear footprint (m): contact is with the highest terrain under it"))

    @property
    def max_thrust_n(self) -> float:
        return self.engine.total_thrust_n

    @property
    def min_thrust_n(self) -> float:
        return self.min_throttle * self.engine.total_thrust_n

class DescentTarget(ConfigModel):
    """The aim point: planetocentric MOON_ME latitude/longitude (deg) and the radius (m) of the
    reference sphere through it (None: the SPICE mean lunar radius)."""

    latitude_deg: float = Field(ge=-90, le=90)
    longitude_deg: float = Field(ge=-360, le=360)
    radius_m: float | None = Field(default=None, gt=1.5e6, lt=1.95e6)

class DescentProfile(ConfigModel):
    """Guidance tunables (design choices, not flight data)."""

    braking_end_altitude_m: float = Field(default=3000.0, gt=200, le=10_000, description=(
        "height of the approach gate that ends main braking (m); Chang'e: ~2.5–3 km"))
    braking_end_range_m: float = Field(default=3000.0, ge=0, le=20_000, description=(
        "horizontal distance of the gate up-range of the site (m)"))
    braking_end_speed_m_s: float = Field(default=50.0, gt=0, le=300, description=(
        "speed at the gate, along the line to the hover point (m/s)"))
    braking_ceiling_margin_m: float = Field(default=200.0, ge=0, le=50_000, description=(
        "braking may not climb more than this above the start height (m): the fuel-optimal arc "
        "otherwise climbs a few km while the thrust still exceeds the weight deficit"))
    approach_max_tilt_deg: float = Field(default=30.0, gt=0, le=90, description=(
        "largest thrust tilt from vertical in the approach (deg): the site must stay in view"))
    approach_glide_slope_deg: float = Field(default=20.0, ge=0, lt=80, description=(
        "glide-slope cone half-angle above the horizon, apex at the site (deg)"))
    guidance_throttle_margin: float = Field(default=0.96, gt=0.5, le=1.0, description=(
        "fraction of the max thrust the planner may use; the rest is tracking authority"))
    n_nodes: int = Field(default=40, ge=10, le=200, description="convex guidance nodes")
    braking_replan_s: float = Field(default=20.0, gt=0, le=120, description="re-plan period (s)")
    approach_replan_s: float = Field(default=4.0, gt=0, le=60, description="re-plan period (s)")
    time_step_s: float = Field(default=0.1, ge=0.01, le=0.5, description=(
        "simulation/control step (s) after main braking"))
    braking_time_step_s: float = Field(default=0.2, ge=0.01, le=1.0, description=(
        "simulation/control step (s) in main braking (smooth thrust, ~700 s)"))
    terminal_max_tilt_deg: float = Field(default=20.0, gt=0, le=60, description=(
        "largest thrust tilt in hover, divert and vertical descent (deg)"))
    divert_max_accel_m_s2: float = Field(default=0.4, gt=0, le=5, description=(
        "peak lateral acceleration of the divert (m/s²)"))
    max_divert_m: float = Field(default=300.0, gt=0, le=2000, description=(
        "largest divert the hazard-avoidance callback may ask for (m)"))
    max_duration_s: float = Field(default=2400.0, gt=0, le=7200, description="time limit (s)")

@dataclass(frozen=True)
class StateEstimate:
    """What the hazard-avoidance callback sees: navigation estimate in the site frame."""

    t_s: float
    position_m: np.ndarray
    velocity_m_s: np.ndarray
    position_sigma_m: np.ndarray
    height_over_terrain_m: float
    #: the current aim (east, north, m, terrain coordinates): the site, or the point the
    #: approach's coarse hazard avoidance re-targeted to
    aim_east_north_m: tuple[float, float] = (0.0, 0.0)

@dataclass
class DescentResult:
    """Outcome of one descent: ``series`` (arrays), ``events`` and ``figures`` (scalars)."""

    success: bool
    failure_reason: str | None
    series: dict
    events: list
    figures: dict
    site_frame: SiteFrame = field(repr=False)
