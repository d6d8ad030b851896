"""The force model a scenario asks for: lunar gravity field and degree, third bodies, SRP."""

from __future__ import annotations

from guanghan.dynamics.forces import CentralGravity, ForceModel, SolarRadiationPressure, ThirdBody
from guanghan.environment import spice_kernels
from guanghan.environment.gravity_field import load_lunar_field


def lunar_force_model(scenario, vehicle: str) -> ForceModel:
    """Moon-centred force model from ``scenario.environment`` and the vehicle's SRP properties."""
    env = scenario.environment
    field = load_lunar_field(env.lunar_gravity_model, env.lunar_gravity_degree, env.lunar_gravity_order)
    third = [ThirdBody(b, spice_kernels.gm(b)) for b in env.third_bodies]
    veh = scenario.vehicles[vehicle]
    srp = None
    if env.solar_radiation_pressure and veh.srp_area_m2 > 0:
        srp = SolarRadiationPressure(veh.srp_area_m2, veh.srp_reflectivity, ("MOON", "EARTH"))
    return ForceModel(CentralGravity("MOON", field.mu, field), third, srp)
