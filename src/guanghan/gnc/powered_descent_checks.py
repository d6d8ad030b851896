"""What makes a powered descent impossible before it flies, and the propellant it will need.

Checked on the flight's initial state (:class:`guanghan.gnc.powered_descent_loop.DescentLoop`):
an engine that cannot hold the lander's weight, no propellant, a hover or braking gate above the
start, a gate speed no thrust can stop from, a cut-off height whose free fall breaks the legs,
propellant short of the estimated need, a minimum throttle too high to hover at the end. Each
raises :class:`DescentInputError` naming the parameter, its value and the limit with the numbers.

The propellant estimates are rocket-equation budgets (Tsiolkovsky): the braking and approach
plans' own masses where there are plans, and hover thrust (m g) over the terminal phases' duration
(:func:`terminal_duration_s`) after them.
"""

from __future__ import annotations

import math

from guanghan.environment.constants import STANDARD_GRAVITY
from guanghan.gnc.powered_descent_config import DescentInputError, DescentProfile, LanderConfig


def terminal_duration_s(lander: LanderConfig, profile: DescentProfile) -> float:
    """Hover, the largest divert and the vertical descent (s): the hover time, 2 s of settling,
    the divert of ``max_divert_m`` at ``divert_max_accel_m_s2`` (the E-guidance divert time,
    √(6 d / a), of :meth:`~guanghan.gnc.powered_descent_loop.DescentLoop.decide_site`), the slow
    descent from the hover height and the final metres at the final speed."""
    return (lander.hover_duration_s + 2.0
            + math.sqrt(6.0 * profile.max_divert_m / profile.divert_max_accel_m_s2)
            + lander.hover_altitude_m / lander.vertical_descent_speed_m_s
            + lander.final_descent_height_m / lander.final_descent_speed_m_s)


def terminal_budget_text(lander: LanderConfig, profile: DescentProfile) -> str:
    """The terminal phases' duration with the inputs that set it, for messages."""
    t_divert = math.sqrt(6.0 * profile.max_divert_m / profile.divert_max_accel_m_s2)
    return (f"{terminal_duration_s(lander, profile):.0f} s from the hover at hover thrust: "
            f"hover_duration_s = {lander.hover_duration_s}, a divert of max_divert_m = "
            f"{profile.max_divert_m} at divert_max_accel_m_s2 = {profile.divert_max_accel_m_s2} "
            f"({t_divert:.0f} s), hover_altitude_m = {lander.hover_altitude_m} at "
            f"vertical_descent_speed_m_s = {lander.vertical_descent_speed_m_s}, "
            f"final_descent_height_m = {lander.final_descent_height_m} at "
            f"final_descent_speed_m_s = {lander.final_descent_speed_m_s}")


def terminal_final_mass_kg(lander: LanderConfig, profile: DescentProfile, m_hover: float,
                           g: float) -> float:
    """Mass (kg) at touchdown from ``m_hover`` at the hover: thrust m g for
    :func:`terminal_duration_s`, m = m_hover exp(−g t / (Isp g0))."""
    t = terminal_duration_s(lander, profile)
    return m_hover * math.exp(-g * t / (lander.engine.isp_s * STANDARD_GRAVITY))


def check_vehicle(lander: LanderConfig, m0: float, g: float) -> None:
    """The engine holds the weight, there is propellant, and the free fall from the cut-off lands
    under the vertical limit."""
    if lander.max_thrust_n <= m0 * g:
        raise DescentInputError("engine.thrust_n × count", lander.max_thrust_n,
                                f"must exceed the lunar weight m g = {m0:.1f} kg × {g:.4f} m/s² = "
                                f"{m0 * g:.1f} N: the engine cannot hover this lander")
    if m0 <= lander.dry_mass_kg:
        raise DescentInputError("start_state.mass", m0, f"must exceed dry_mass_kg = "
                                f"{lander.dry_mass_kg} kg (no descent propellant)")
    slow = lander.final_descent_height_m > lander.cutoff_height_m
    v_end = lander.final_descent_speed_m_s if slow else lander.vertical_descent_speed_m_s
    v_td = math.sqrt(v_end ** 2 + 2.0 * g * lander.cutoff_height_m)       # v² = v0² + 2 g h
    if v_td > lander.touchdown_vertical_limit_m_s:
        speed = "final_descent_speed_m_s" if slow else "vertical_descent_speed_m_s"
        raise DescentInputError("cutoff_height_m", lander.cutoff_height_m,
                                f"free fall from it at {speed} = {v_end} m/s "
                                f"lands at {v_td:.2f} m/s, over touchdown_vertical_limit_m_s = "
                                f"{lander.touchdown_vertical_limit_m_s} m/s")


def check_start_height(lander: LanderConfig, profile: DescentProfile, h0: float) -> None:
    """The hover height and the braking gate lie below the start height ``h0`` (m over the site)."""
    if lander.hover_altitude_m >= h0:
        raise DescentInputError("hover_altitude_m", lander.hover_altitude_m,
                                f"must be below the start height over the site, {h0:.1f} m")
    if profile.braking_end_altitude_m >= h0:
        raise DescentInputError("braking_end_altitude_m", profile.braking_end_altitude_m,
                                f"must be below the start height over the site, {h0:.1f} m")


def check_gate_speed(lander: LanderConfig, profile: DescentProfile) -> None:
    """The lander can stop from the braking gate's speed within the gate's distance to the hover:
    v² / (2 d) (constant deceleration over the straight line) must not exceed the thrust
    acceleration of the DRY lander, T / m_dry — an upper bound, so only impossible gates are
    refused."""
    d = math.hypot(profile.braking_end_altitude_m, profile.braking_end_range_m)
    need = profile.braking_end_speed_m_s ** 2 / (2.0 * d)
    best = lander.max_thrust_n / lander.dry_mass_kg
    if need > best:
        raise DescentInputError("braking_end_speed_m_s", profile.braking_end_speed_m_s, (
            f"stopping from it within the gate's {d:.0f} m to the hover (braking_end_altitude_m "
            f"= {profile.braking_end_altitude_m}, braking_end_range_m = "
            f"{profile.braking_end_range_m}) takes {need:.2f} m/s² (v²/2d), over the "
            f"{best:.2f} m/s² the engine gives even the dry lander"))


def check_propellant(lander: LanderConfig, profile: DescentProfile, m0: float, need: float,
                     what: str) -> None:
    """``need`` (kg, estimated) within the propellant above the dry mass; ``what`` names the
    budget's parts in the message."""
    if need > m0 - lander.dry_mass_kg:
        raise DescentInputError("start_state.mass", m0,
                                f"carries {m0 - lander.dry_mass_kg:.1f} kg of propellant above "
                                f"dry_mass_kg = {lander.dry_mass_kg} kg; the descent needs "
                                f"~{need:.1f} kg ({what}; {terminal_budget_text(lander, profile)})")


def check_min_throttle(lander: LanderConfig, m_final: float, g: float) -> None:
    """The lowest thrust stays under the weight at the estimated final mass (else no hover and
    no slow descent at the end). An estimate below the dry mass (the budget runs out, which
    :func:`check_propellant` reports) is taken at the dry mass, the lightest the lander gets."""
    m_final = max(m_final, lander.dry_mass_kg)
    if lander.min_thrust_n > m_final * g:
        raise DescentInputError("min_throttle", lander.min_throttle,
                                f"min thrust {lander.min_thrust_n:.1f} N exceeds the weight "
                                f"{m_final * g:.1f} N at the estimated final mass "
                                f"{m_final:.1f} kg: the lander cannot hover or descend slowly")
