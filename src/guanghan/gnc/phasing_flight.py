"""Flying a designed phasing: execution errors on every burn, and the ground's re-plan of the
final transfer from the orbit actually flown.

The phasing burns (burn 1, and burn 2 when there are four) are flown with their thrust-magnitude
and pointing errors (:func:`guanghan.gnc.execution_errors.dispersed`, timer cut-off). The ground
then re-solves the final transfer — the Lambert departure and the hand-over match, Newton on the
full force model (:func:`guanghan.gnc.rendezvous_phasing.solve_final_pair`) — from the orbit the
chaser is on, as a ground-planned far-range rendezvous does between its manoeuvres (Fehse 2003
§3.1: each impulse is re-computed from the latest orbit determination), and the re-planned pair
is flown with its own errors. What reaches the hand-over point is then the final pair's errors
only; the close-range approach starts from it.

Assumptions and limitations
    * The re-plan uses the flown state itself (orbit determination perfect); the tracking arc and
      its error are not modelled.
    * One re-plan, after the phasing burns; no correction between the final pair's two burns.

References
    Fehse, W., *Automated Rendezvous and Docking of Spacecraft* (2003), §3.1 (far-range phasing,
    ground-planned manoeuvres re-computed from updated orbit determination).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from guanghan.dynamics.forces import FiniteBurn, ForceModel
from guanghan.dynamics.propagator import Tolerances, propagate
from guanghan.dynamics.propulsion import Engine, delta_v_from_masses
from guanghan.dynamics.state import SpacecraftState
from guanghan.environment.constants import STANDARD_GRAVITY as G0
from guanghan.gnc import relative_navigation as rn
from guanghan.gnc.execution_errors import ExecutionErrors, dispersed, error_draws
from guanghan.gnc.rendezvous_phasing import (
    TOLERANCES,
    PhasingBurn,
    PhasingResult,
    solve_final_pair,
)


@dataclass(frozen=True)
class SolvedFinalPair:
    """The ground's re-plan of the final pair, kept to fly again (``--design-from``) with what it
    was solved from: the chaser before the phasing, the phasing burns as flown and the hand-over
    state aimed at (J2000, m and m/s). Flown again only when all three match (:meth:`solved_from`)."""

    chaser: SpacecraftState
    phasing: list[FiniteBurn]
    aim_rv: np.ndarray
    burns: list[FiniteBurn]
    newton: int

    def solved_from(self, chaser: SpacecraftState, phasing: list[FiniteBurn], aim_rv: np.ndarray) -> bool:
        """Whether this pair was solved for this flight: ``chaser`` :meth:`~SpacecraftState.close_to`
        the stored one, the same phasing burns (every number within 1e-9 relative: the same
        execution-error draws) and the aim within 1 m and 1 mm/s."""
        def numbers(b: FiniteBurn) -> list[float]:
            return [b.start_et, b.duration_s, b.thrust_n, b.isp_s, *b.vector_j2000, b.pitch_rad,
                    b.pitch_rate_rad_s]

        same_burns = len(phasing) == len(self.phasing) and all(
            a.direction == b.direction and np.allclose(numbers(a), numbers(b), rtol=1e-9, atol=1e-12)
            for a, b in zip(phasing, self.phasing, strict=True))
        aim = np.asarray(aim_rv, float) - np.asarray(self.aim_rv, float)
        return (chaser.close_to(self.chaser) and same_burns and float(np.linalg.norm(aim[:3])) <= 1.0
                and float(np.linalg.norm(aim[3:6])) <= 1e-3)


def fly_phasing(chaser: SpacecraftState, model: ForceModel, engine: Engine, design: PhasingResult,
                errors: ExecutionErrors, tolerances: Tolerances = TOLERANCES,
                replan: bool = True, stored: SolvedFinalPair | None = None) -> PhasingResult:
    """Fly ``design`` from ``chaser`` (the state it was designed from) with ``errors`` (one seeded
    generator, draws in the order of the designed burns); with ``replan`` the final pair is
    re-solved from the flown orbit before it is flown, or taken from ``stored`` when that was
    solved for this same flight (:meth:`SolvedFinalPair.solved_from`). Returns the flight as a
    :class:`PhasingResult`: the burns as flown (ideal Δv from the masses), the trajectory, the
    hand-over relative state reached, the re-plan (``final_pair_solution``); ``figures`` add the
    re-plan's Δv change and Newton count, and ``replan_stored`` (the stored pair flew)."""
    names = [b.name for b in design.burns]
    draws = error_draws(errors, names)
    n_phase = design.phasing_burn_count
    if n_phase is None:
        n_phase = len(design.finite_burns) - len(design.final_pair)
    flown: list[FiniteBurn] = []

    def fly_next(burns, burn_names):
        for b, n in zip(burns, burn_names, strict=False):       # mass at ignition: after the earlier burns
            used = sum(f.thrust_n * f.duration_s / (f.isp_s * G0) for f in flown)
            flown.append(dispersed(b, errors, draws[n], chaser.mass - used))

    fly_next(design.finite_burns[:n_phase], names)
    final = design.finite_burns[n_phase:]
    figures = dict(design.figures, replanned=False)
    solution = None
    if replan and design.aim_rv is not None and len(final) == 2:
        if stored is not None and stored.solved_from(chaser, flown, design.aim_rv):
            solution, figures["replan_stored"] = stored, True
        else:
            coast = propagate(chaser, final[0].start_et, replace(model, burns=flown), tolerances)
            mass = float(coast.trajectory.final_state[6])
            pair, newton = solve_final_pair(chaser, model, engine, flown, mass, design.final_pair,
                                            design.aim_rv, design.arrival_et, tolerances)
            solution = SolvedFinalPair(chaser, list(flown), np.asarray(design.aim_rv, float), pair, newton)
            figures["replan_stored"] = False
        final, figures["replan_newton"] = solution.burns, solution.newton
        figures["replanned"] = True
    fly_next(final, names[n_phase:])
    res = propagate(chaser, design.arrival_et, replace(model, burns=flown), tolerances)
    traj = res.trajectory
    records = []
    for b, name in zip(flown, names, strict=False):
        m0, m1 = traj.states([b.start_et, min(b.end_et, traj.end_et)])[:, 6]
        records.append(PhasingBurn(name, b.start_et, b.duration_s, delta_v_from_masses(m0, m1, b.isp_s),
                                   np.array(b.vector_j2000), m0 - m1))
    tgt = design.target_trajectory.states([design.arrival_et])[0, :6]
    arrival = rn.relative_state(tgt, traj.final_state[:6])
    total = sum(r.delta_v_m_s for r in records)
    figures["designed_delta_v_m_s"] = design.total_delta_v_m_s
    return PhasingResult(records, flown, design.arrival_et, arrival, design.aim_relative, total,
                         chaser.mass - float(traj.final_state[6]), traj, design.target_trajectory, figures,
                         design.final_pair, design.aim_rv, n_phase, solution)
