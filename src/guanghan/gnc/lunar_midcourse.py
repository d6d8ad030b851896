"""Midcourse corrections of an Earth–Moon transfer: re-targeting the B-plane and periselene epoch.

A correction is a fixed-attitude finite burn (:func:`~guanghan.gnc.return_targeting.mcc_burn`,
duration by Tsiolkovsky) whose J2000 Δv vector is solved (three unknowns, three targets: the
B-plane aim and the periselene epoch of :func:`~guanghan.gnc.lunar_transfer_design.arrival_residuals`)
by :func:`~guanghan.gnc.lunar_transfer_design.correct` on the patched full force model, flown from the state at the correction epoch to
the periselene; none is flown when the predicted misses are inside the deadband.

References
    Vallado (2013), §10.4 (differential correction); GMAT Mathematical Specification, "Targeting
    the B-plane".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from guanghan.dynamics.conics import b_plane_incoming
from guanghan.dynamics.forces import FiniteBurn
from guanghan.dynamics.patched_flight import PatchedModels
from guanghan.dynamics.propulsion import Engine, burn_duration
from guanghan.dynamics.state import SpacecraftState
from guanghan.errors import GuidanceFailure, InputError
from guanghan.gnc import lunar_transfer_design as ltd
from guanghan.gnc.return_targeting import mcc_burn


@dataclass(frozen=True)
class SolvedMcc:
    """A solved midcourse correction kept to fly again (``--design-from``): the flown state it was
    solved from and its J2000 Δv (m/s; zero inside the deadband). Flown again only from a state
    :meth:`SpacecraftState.close_to` it."""

    start: SpacecraftState
    delta_v: np.ndarray


def solve_mcc(state: SpacecraftState, engine: Engine, target: ltd.ArrivalTarget, models: PatchedModels,
              deadband_km: float, deadband_s: float) -> tuple[FiniteBurn | None, np.ndarray, np.ndarray]:
    """Midcourse correction from ``state``: the J2000 Δv (m/s, a fixed-attitude finite burn of
    ``engine``, :func:`~guanghan.gnc.return_targeting.mcc_burn`) re-targeting the B-plane aim and
    the periselene epoch (square system, :func:`~guanghan.gnc.lunar_transfer_design.correct` on forward differences of 1 cm/s). No burn
    when the predicted misses are inside the deadband. Returns (burn, Δv, misses km, km, s after)."""
    mu_moon = models.moon.central.mu
    horizon = target.et + 2 * 86400.0
    one = burn_duration(state.mass, 1.0, engine.total_thrust_n, engine.isp_s)
    if one > 600.0:
        raise InputError(f"the midcourse engine's thrust_n {engine.total_thrust_n:.6g} N on the "
                         f"{state.mass:,.0f} kg stack takes {one:,.0f} s for 1 m/s: a correction must be "
                         "a short burn (< 600 s per m/s)",
                         quantity="midcourse.engine", value=f"{engine.total_thrust_n:g} N")

    def burns(dv):
        burn = mcc_burn(state, engine, dv)
        return [burn] if burn else []

    def fun(dv):
        try:
            peri, _ = ltd.fly_to_periselene(state, models, horizon, burns(dv))
        except GuidanceFailure:
            return np.full(3, 1e6)
        return ltd.arrival_residuals(peri, mu_moon, target)

    scale = np.array([1.0, 1.0, ltd.TIME_UNIT_S])
    r0 = fun(np.zeros(3))
    if np.hypot(r0[0], r0[1]) <= deadband_km and abs(r0[2]) * ltd.TIME_UNIT_S <= deadband_s:
        return None, np.zeros(3), r0 * scale
    dv = ltd.correct(fun, 3, [1e-2] * 3, 60)
    res = fun(dv)
    if np.hypot(res[0], res[1]) > deadband_km or abs(res[2]) * ltd.TIME_UNIT_S > deadband_s:
        raise GuidanceFailure("earth_moon_transfer", f"the midcourse correction at {state.utc} did not "
                              f"re-target the arrival: miss {np.hypot(res[0], res[1]):.2f} km in the "
                              f"B-plane, {res[2] * ltd.TIME_UNIT_S:.1f} s in the periselene epoch")
    b = burns(dv)
    return (b[0] if b else None), dv, res * scale


def predicted_b_plane_km(state: SpacecraftState, target: ltd.ArrivalTarget, models: PatchedModels,
                         burn: FiniteBurn | None = None) -> np.ndarray:
    """(B·T, B·R) (km, T in the lunar equator at the target epoch) of the arrival predicted from
    ``state`` with ``burn`` (None: coasting), flown on the patched full model to the periselene."""
    peri, _ = ltd.fly_to_periselene(state, models, target.et + 2 * 86400.0, [burn] if burn else [])
    return b_plane_incoming(peri, models.moon.central.mu, target.pole) / 1e3
