"""Configuration of the lunar-descent leg: separation, orbit lowering, the lander's descent design,
sensors, guidance tunables and hazard detection, composed from the records of the physics
(:mod:`guanghan.gnc.powered_descent_config`, :mod:`guanghan.gnc.descent_navigation`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, create_model, model_validator

from guanghan.config_model import ConfigModel, fail
from guanghan.environment import time_scales
from guanghan.environment.config_fields import UtcText
from guanghan.gnc.descent_navigation import SensorConfig
from guanghan.gnc.powered_descent_config import DescentProfile, LanderConfig
from guanghan.mission.leg import PhaseConfig, need

#: The lander's descent design: LanderConfig's fields (bounds and reasons declared there) without
#: the engine and the dry mass, which come from the scenario's modules.
LanderDesign = create_model(
    "LanderDesign", __base__=ConfigModel, __doc__=(
        "The lander's descent design (LanderConfig without engine and dry mass, which the leg takes "
        "from the scenario's engine table and modules)."),
    **{name: (f.annotation, f) for name, f in LanderConfig.model_fields.items()
       if name not in ("engine", "dry_mass_kg")})


class OrbitLowering(ConfigModel):
    """Two retrograde burns putting periapsis at the descent start (see
    :mod:`guanghan.gnc.orbit_lowering`)."""

    periapsis_altitude_km: float = Field(gt=3, le=100, description=(
        "height of the descent-start periapsis over the sphere through the landing site (km); "
        "Chang'e: ~15 km. Below 3 km the DEM's relief up-range is not cleared"))
    uprange_km: float = Field(gt=20, le=2000, description=(
        "arc of the descent start up-range of the site along the ground track (km): the braking "
        "arc's length (~660 km for a 3.7 t lander on 7,500 N from 15 km and 1.7 km/s)"))
    min_delay_h: float = Field(default=1.0, ge=0, le=48, description=(
        "earliest first lowering burn after the separation (h): checkout, separation distance"))
    min_terrain_clearance_km: float = Field(default=2.0, ge=0, le=20, description=(
        "least height over the DEM at the descent start (km); lower is refused"))
    max_iterations: int = Field(default=12, ge=1, le=50, description="Newton iterations")


class HazardDetection(ConfigModel):
    """The landing-area terrain, the approach camera's coarse hazard avoidance on it
    (:mod:`guanghan.gnc.approach_hazard_avoidance`, when ``coarse_divert_radius_m`` > 0) and
    the hover lidar's (:func:`guanghan.gnc.hazard_detection.detect_hazards`)."""

    site_class: Literal["mare", "highland"] = Field(description=(
        "terrain class of the seeded synthetic hover-area terrain (crater and rock statistics)"))
    seed: int = Field(ge=0, description="seed of the synthetic terrain and the lidar noise")
    area_m: float = Field(default=200.0, ge=40, le=600, description=(
        "side of the square synthetic terrain centred on the aim point (m)"))
    resolution_m: float = Field(default=0.25, gt=0, le=0.5, description="terrain grid (m/px)")
    divert_radius_m: float = Field(default=50.0, gt=0, le=250, description=(
        "largest distance from the aim point of the site chosen at the hover (m): the divert "
        "budget (propellant and time); within the profile's max_divert_m"))
    lidar_resolution_m: float = Field(default=0.25, gt=0, le=2, description="lidar pixel (m)")
    range_noise_m: float = Field(default=0.02, ge=0, le=0.5, description="lidar 1σ range noise (m)")
    footprint_diameter_m: float = Field(default=4.0, gt=0.5, le=20, description=(
        "diameter of the landing-gear footprint over which slope and roughness are judged (m)"))
    clearance_m: float = Field(default=0.25, gt=0, le=2, description=(
        "ground clearance of the lander body: taller rocks are hazards (m)"))
    slope_limit_deg: float = Field(default=8.0, gt=0, le=30, description=(
        "largest slope under the footprint the lander stands on (deg)"))
    slope_margin_deg: float = Field(default=2.0, ge=0, le=10, description=(
        "margin below the slope limit for the lidar's plane fit (deg)"))
    site_margin_m: float = Field(default=1.0, ge=0, le=20, description=(
        "least distance of the chosen site from every hazard (m)"))
    max_shadow_fraction: float = Field(default=0.5, ge=0, le=1, description=(
        "largest shadowed fraction of the footprint (the lidar sees, the cameras need light)"))
    coarse_divert_radius_m: float = Field(default=0.0, ge=0, le=250, description=(
        "largest re-targeting of the approach by the coarse hazard avoidance from the camera "
        "image (m), from the aim point; 0: no coarse avoidance "
        "(:mod:`guanghan.gnc.approach_hazard_avoidance`)"))
    coarse_decision_height_m: float = Field(default=2000.0, gt=0, le=10_000, description=(
        "height over the terrain at which the approach's camera map is taken (m); Chang'e-3: "
        "the approach from ~2 km"))
    coarse_ifov_mrad: float = Field(default=0.77, gt=0, le=10, description=(
        "descent camera's instantaneous field of view (mrad): ground sample distance = height × "
        "IFOV; 0.77 mrad is a 45° field over 1024 pixels"))
    coarse_height_noise_m: float = Field(default=0.05, ge=0, le=0.5, description=(
        "1σ height noise of the camera's hazard map (m), a stand-in for the image processing"))
    coarse_score_tolerance: float = Field(default=0.05, ge=0, le=0.5, description=(
        "the coarse choice is the nearest point whose safe-area fraction is within this of the "
        "best in reach"))

    @model_validator(mode="after")
    def _check(self) -> HazardDetection:
        reach = self.coarse_divert_radius_m + self.divert_radius_m + self.footprint_diameter_m
        if reach > 0.5 * self.area_m:
            fail(f"the coarse and hover divert radii plus a footprint ({self.coarse_divert_radius_m:g} + "
                 f"{self.divert_radius_m:g} + {self.footprint_diameter_m:g} m) must lie inside the "
                 f"half-side of the hover area (area_m / 2 = {0.5 * self.area_m:g} m)",
                 "divert_radius_m", self.divert_radius_m)
        if self.coarse_divert_radius_m > 0 and self.clearance_m <= 3.0 * self.coarse_height_noise_m:
            fail(f"must be below clearance_m / 3 = {self.clearance_m / 3:.3f} m, or the camera's "
                 "noise alone marks rocks everywhere", "coarse_height_noise_m", self.coarse_height_noise_m)
        if self.lidar_resolution_m < self.resolution_m:
            fail(f"the lidar cannot resolve finer than the terrain grid (resolution_m = {self.resolution_m} m)",
                 "lidar_resolution_m", self.lidar_resolution_m)
        if self.slope_margin_deg >= self.slope_limit_deg:
            fail(f"must be below slope_limit_deg = {self.slope_limit_deg}", "slope_margin_deg",
                 self.slope_margin_deg)
        return self


class LunarDescentConfig(PhaseConfig):
    """Lander separation, orbit lowering, closed-loop powered descent with hazard avoidance, to
    touchdown at ``site``; the rest of the stack (``remaining_vehicle``) stays in orbit."""

    type: Literal["lunar_descent"]
    site: str
    remaining_vehicle: str = Field(description="the vehicle left in orbit at the separation")
    engine: str = Field(description="the descent engine, '<module>.<engine>' of the vehicle")
    powered_descent_utc: UtcText = Field(description="epoch of the powered-descent start")
    orbit_lowering: OrbitLowering
    lander: LanderDesign          # type: ignore[valid-type]
    hazard: HazardDetection
    sensors: SensorConfig = Field(default_factory=SensorConfig)
    profile: DescentProfile = Field(default_factory=DescentProfile)
    seed: int = Field(ge=0, description="seed of the navigation sensors' errors")
    truth_gravity_degree: int = Field(default=8, ge=0, le=100, description=(
        "degree/order of the scenario's lunar field in the powered descent's truth dynamics "
        "(0: point mass); capped at the scenario's degree"))
    min_sun_elevation_deg: float = Field(default=2.0, ge=-5, le=60, description=(
        "least Sun elevation at the site at the descent start (deg): the optical hazard "
        "detection and the landing need daylight"))
    output_step_s: float = Field(default=60.0, ge=1.0, le=3600, description=(
        "sampling of the orbital trajectory tables (s), 1 s to 1 h; the descent is sampled at 1 s"))

    summary_groups: ClassVar[tuple[str, ...]] = ("descent", "lunar_landing")

    @model_validator(mode="after")
    def _check_divert(self) -> LunarDescentConfig:
        if self.hazard.divert_radius_m > self.profile.max_divert_m:
            fail(f"must not exceed profile.max_divert_m = {self.profile.max_divert_m} m",
                 "hazard.divert_radius_m", self.hazard.divert_radius_m)
        if self.lander.hover_altitude_m >= 1e3 * self.orbit_lowering.periapsis_altitude_km:
            fail(f"must be below the descent start, orbit_lowering.periapsis_altitude_km = "
                 f"{self.orbit_lowering.periapsis_altitude_km} km", "lander.hover_altitude_m",
                 self.lander.hover_altitude_m)
        h = self.hazard.coarse_decision_height_m
        if self.hazard.coarse_divert_radius_m > 0 and not \
                self.lander.hover_altitude_m < h < self.profile.braking_end_altitude_m:
            fail(f"must lie between lander.hover_altitude_m = {self.lander.hover_altitude_m} m and "
                 f"profile.braking_end_altitude_m = {self.profile.braking_end_altitude_m} m (the "
                 "approach)", "hazard.coarse_decision_height_m", h)
        if self.hazard.divert_radius_m + self.hazard.coarse_divert_radius_m > self.profile.max_divert_m:
            fail(f"with hazard.divert_radius_m = {self.hazard.divert_radius_m} m must not exceed "
                 f"profile.max_divert_m = {self.profile.max_divert_m} m",
                 "hazard.coarse_divert_radius_m", self.hazard.coarse_divert_radius_m)
        if self.profile.braking_end_altitude_m >= 1e3 * self.orbit_lowering.periapsis_altitude_km:
            fail(f"must be below the descent start, orbit_lowering.periapsis_altitude_km = "
                 f"{self.orbit_lowering.periapsis_altitude_km} km", "profile.braking_end_altitude_m",
                 self.profile.braking_end_altitude_m)
        return self

    def check_after(self, previous_end, where: str) -> None:
        end_et, field, value = previous_end
        if time_scales.utc_to_et(self.powered_descent_utc) <= end_et:
            fail(f"the previous phase ends at {time_scales.et_to_utc(end_et)} or later ({field} = "
                 f"{value}), after powered_descent_utc = {self.powered_descent_utc}: the descent must "
                 "start later",
                 field, value)

    def check_standalone(self, where: str) -> None:
        fail("a lunar_descent phase starts from the previous phase's state in lunar orbit; put a "
             "lunar_orbit_coast phase before it", f"{where}.type", self.type)

    def check_references(self, scenario, where: str) -> None:
        super().check_references(scenario, where)
        need(self.remaining_vehicle, scenario.vehicles, "vehicle", f"{where}.remaining_vehicle")
        lander = set(scenario.vehicles[self.vehicle].modules)
        rest = set(scenario.vehicles[self.remaining_vehicle].modules)
        if lander & rest:
            fail(f"shares modules {sorted(lander & rest)} with the descending vehicle "
                 f"{self.vehicle!r}", f"{where}.remaining_vehicle", self.remaining_vehicle)
        engines = scenario.vehicle_engines(self.vehicle)
        if self.engine not in engines:
            fail(f"vehicle {self.vehicle!r} has no engine {self.engine!r}; its modules' engines are {sorted(engines)}",
                 f"{where}.engine", self.engine)
