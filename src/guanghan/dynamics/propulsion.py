"""Propulsion: engine sets and the rocket equation.

An :class:`Engine` is ``count`` identical engines or thrusters fired together, with thrust per
engine (N) and specific impulse (s); the mass flow of the set is ṁ = F_total / (Isp g0).

Assumptions and limitations
    Constant thrust and Isp while firing; the thrust acts along the set's axis (no cant losses).

References
    Tsiolkovsky rocket equation, Δv = Isp g0 ln(m0/m1): Curtis, *Orbital Mechanics for Engineering
    Students* (3rd ed.), §11.3, eq. 11.30; Sutton & Biblarz, *Rocket Propulsion Elements* (9th ed.),
    eq. 4-6 (burn time from Δv).
"""

from __future__ import annotations

import math

from pydantic import Field

from guanghan.config_model import ConfigModel
from guanghan.environment.constants import STANDARD_GRAVITY as G0


class Engine(ConfigModel):
    """A set of ``count`` identical engines: thrust per engine (N), Isp (s)."""

    thrust_n: float = Field(gt=0, le=1e8, description="an engine's thrust: positive, below 1e8 N "
                            "(about three Saturn V first stages)")
    isp_s: float = Field(ge=1, le=1e4, description="a specific impulse between 1 s (cold gas is ~70 s) "
                         "and 1e4 s (ion engines)")
    count: int = Field(default=1, ge=1, le=100, description="engines fired together: 1 to 100")
    cant_deg: float = Field(default=0.0, ge=0.0, le=60.0, description=(
        "angle between each engine's thrust line and the vehicle's thrust axis (deg, 0 to 60): "
        "thrusters canted off the axis give F cos(cant) along it; 0 unless a source gives one"))

    @property
    def total_thrust_n(self) -> float:
        """Thrust of the whole set (N)."""
        return self.thrust_n * self.count

    @property
    def mass_flow_kg_s(self) -> float:
        """Propellant mass flow of the whole set (kg/s): F / (Isp g0)."""
        return self.total_thrust_n / (self.isp_s * G0)

    def axial(self) -> "Engine":
        """The set as seen along the vehicle's thrust axis: thrust and Isp times cos(cant), so the
        mass flow is unchanged and the axial Δv is Isp cos(cant) g0 ln(m0/m1) (the side components
        of symmetric canted engines cancel); the engine itself when uncanted."""
        if self.cant_deg == 0.0:
            return self
        k = math.cos(math.radians(self.cant_deg))
        return self.model_copy(update={"thrust_n": self.thrust_n * k, "isp_s": self.isp_s * k,
                                       "cant_deg": 0.0})


def burn_duration(mass_kg: float, dv_m_s: float, thrust_n: float, isp_s: float) -> float:
    """Burn time (s) giving ``dv_m_s`` (m/s) from ``mass_kg`` (kg) at ``thrust_n`` (N), ``isp_s``
    (s): t = m0 (1 − exp(−Δv/(Isp g0))) Isp g0 / F (Curtis eq. 11.30 solved for the burnt mass)."""
    return mass_kg * (1.0 - math.exp(-dv_m_s / (isp_s * G0))) * isp_s * G0 / thrust_n


def mass_for_burn(dv_m_s: float, duration_s: float, thrust_n: float, isp_s: float) -> float:
    """Initial mass (kg) for which a burn of ``duration_s`` (s) at ``thrust_n`` (N), ``isp_s`` (s)
    gives ``dv_m_s`` (m/s): m0 = F t / (Isp g0 (1 − exp(−Δv/(Isp g0)))), Tsiolkovsky inverted."""
    c = isp_s * G0
    return thrust_n * duration_s / (c * -math.expm1(-dv_m_s / c))


def delta_v_from_masses(m0_kg: float, m1_kg: float, isp_s: float) -> float:
    """Ideal Δv (m/s) of a burn taking the mass from ``m0_kg`` to ``m1_kg``: Isp g0 ln(m0/m1)."""
    return isp_s * G0 * math.log(m0_kg / m1_kg)


def propellant_for_delta_v(mass_kg: float, dv_m_s: float, isp_s: float) -> float:
    """Propellant (kg) burnt to give ``dv_m_s`` (m/s) from ``mass_kg`` (kg): m0 (1 − exp(−Δv/(Isp g0)))."""
    return -mass_kg * math.expm1(-dv_m_s / (isp_s * G0))
