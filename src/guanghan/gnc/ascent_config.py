"""The records of a lunar ascent (:mod:`guanghan.gnc.ascent_flight`): the vehicle, the IMU and
the lift-off point's knowledge, the sequence's tunables (configuration, SI units in the field
names), and the flown result."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

from pydantic import Field

from guanghan.config_model import ConfigModel
from guanghan.dynamics.propulsion import Engine
from guanghan.dynamics.state import SpacecraftState
from guanghan.gnc.descent_navigation import ImuConfig


class AscentImu(ConfigModel):
    """Accelerometer errors of the ascent IMU and the knowledge of the lift-off point."""

    accelerometer: ImuConfig = Field(default_factory=ImuConfig)
    misalignment_sigma_rad: float = Field(default=1e-4, ge=0, le=0.05, description=(
        "1σ per axis small-angle misalignment of the accelerometer triad (rad; 1e-4 ≈ 21″)"))
    site_position_sigma_m: float = Field(default=0.0, ge=0, le=10_000, description=(
        "1σ per axis error of the surveyed lift-off point the navigation starts from (m)"))


#: largest dry mass and propellant load of an ascent vehicle (kg): a Saturn V first stage is 2.3e6 kg
#: wet; lunar ascent stages are ~5e3 kg
ASCENT_MASS_LIMIT_KG = 1e6


class AscentVehicle(ConfigModel):
    """The ascender: engine, masses and attitude slew limit."""

    engine: Engine
    dry_mass_kg: float = Field(gt=0, le=ASCENT_MASS_LIMIT_KG, description=(
        "mass at propellant depletion (kg)"))
    propellant_kg: float = Field(gt=0, le=ASCENT_MASS_LIMIT_KG, description=(
        "ascent propellant loaded (kg)"))
    max_slew_rate_deg_s: float = Field(default=10.0, gt=0, le=90, description=(
        "largest turn rate of the thrust direction (deg/s)"))

    @property
    def wet_mass_kg(self) -> float:
        return self.dry_mass_kg + self.propellant_kg


class AscentProfile(ConfigModel):
    """Sequence and loop tunables of the ascent."""

    vertical_rise_s: float = Field(default=10.0, ge=0, le=120, description=(
        "duration of the vertical rise (s); Apollo LM: ~10 s (Bennett 1972)"))
    vertical_rise_height_m: float | None = Field(default=None, gt=0, le=5_000, description=(
        "end the vertical rise earlier at this height above the pad (m)"))
    time_step_s: float = Field(default=0.2, gt=0, le=2, description="integration step (s)")
    guidance_period_s: float = Field(default=1.0, gt=0, le=10, description="guidance cycle (s)")
    terminal_time_s: float = Field(default=4.0, gt=0, le=60, description=(
        "time-to-go below which the steering is frozen and v_go counts down (s)"))
    min_periapsis_altitude_km: float = Field(default=10.0, ge=0, le=1_000, description=(
        "insertion fails if the orbit's periapsis is lower (km above the sphere)"))
    max_duration_s: float = Field(default=1800.0, gt=0, le=7200, description="time limit (s)")


@dataclass(frozen=True)
class AscentResult:
    """One ascent. ``series``: arrays per step — t_s, et (s), altitude_m, downrange_km,
    latitude_deg, longitude_deg, speed_inertial_m_s, speed_relative_m_s, pitch_deg (thrust above
    the local horizontal), yaw_deg (thrust out of the target plane), throttle,
    mass_kg, terrain_clearance_m, nav_error_m, nav_velocity_error_m_s, phase, and the truth state
    in MOON_ME: r_me_m (n, 3) (m) and v_me_m_s (n, 3) (m/s, relative to the rotating Moon). The insertion state
    (cut-off, Moon-centred J2000, None if no cut-off) with its osculating periapsis/apoapsis
    altitudes (km above the 1737.4 km sphere) and inclination (deg, to the lunar equator,
    MOON_ME); burn time (s), Δv from the masses (m/s), propellant (kg); the least terrain
    clearance after the vertical rise (m); ``figures``: cut-off errors and the rest."""

    success: bool
    failure_reason: str | None
    series: dict
    events: list
    insertion_state: SpacecraftState | None
    periapsis_altitude_km: float
    apoapsis_altitude_km: float
    inclination_deg: float
    burn_time_s: float
    delta_v_m_s: float
    propellant_kg: float
    min_terrain_clearance_m: float
    figures: dict = dc_field(default_factory=dict)
