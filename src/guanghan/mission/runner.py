"""The sequencer: run a scenario's phases in order, each leg starting from the previous leg's final
state and the modules' current masses.

``run(scenario)`` returns a :class:`RunResult`: the event log (``{"utc", "phase", "event",
"details"}``), the summary (``"<phase>.<quantity>_<unit>"`` → value), the trajectory (Arrow table),
the legs' own time series, and the outcome: ``completed``, or ``failed`` with the leg and the reason
(a guidance failure, a crash). Writing files is the ``analysis`` layer's job
(:mod:`guanghan.analysis.outputs`).

Module masses start at the scenario's wet masses; a leg reports the masses of the modules it
changed, and a phase may reset a module's propellant with ``start_propellant_kg`` (for a leg whose
predecessors are not simulated). When the scenario gives a published launch mass, the modules' sum
is compared with it and a ``mass_budget_mismatch`` warning event logged if they differ.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from guanghan import run_limits
from guanghan.errors import GuanghanError, RunLimitExceeded, ScenarioError
from guanghan.mission.event_log import EventLog
from guanghan.mission.leg import LEGS, LegContext, PhaseResult
from guanghan.mission.mission_design import MissionDesign, PhaseDesign, design_inputs, differences
from guanghan.mission.trajectory_table import SCHEMA, with_segments
from guanghan.version import __version__

ProgressCallback = Callable[[str, int, int], None]


@dataclass
class RunResult:
    """Everything a run produced, and its outcome."""

    scenario_name: str
    events: list[dict]
    summary: dict
    trajectory: pa.Table
    phases: list[PhaseResult] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    series: dict[str, pa.Table] = field(default_factory=dict)
    status: str = "completed"               # "completed" or "failed"
    failed_leg: str | None = None
    reason: str | None = None
    #: what the legs designed (or the stored design they flew), for ``design.json``
    design: MissionDesign | None = None
    #: the scenario that was flown (its published figures give the validation rows)
    scenario: object = field(default=None, repr=False)

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    def __repr__(self) -> str:
        return (f"<RunResult {self.scenario_name}: {self.verdict()}; {len(self.events)} events, "
                f"{self.trajectory.num_rows} trajectory rows, {len(self.summary)} figures>")

    def figures(self) -> dict:
        """Figure name → plotly ``Figure``: every figure of the run's report (``"altitude"``,
        ``"earth-moon"``, ``"milestones"``, the legs' own); see
        :mod:`guanghan.analysis.presentation`."""
        return _presentation().figures(self)

    def _repr_html_(self) -> str:
        """What a notebook shows for a run: verdict, key numbers, milestones, key figures."""
        return _presentation().repr_html(self)

    def validation(self) -> list[dict]:
        """Published vs simulated rows of the flown scenario (empty when it is not known); see
        :func:`guanghan.analysis.validation.validation_rows`."""
        return _presentation().validation(self)

    def verdict(self, validation: list[dict] | None = None) -> str:
        """One line: the outcome and, given validation rows, how many pass."""
        text = ("mission completed" if self.completed
                else f"mission failed in leg {self.failed_leg}: {self.reason}")
        if validation:
            checked = [r for r in validation if r["status"] != "not run"]
            passed = sum(r["status"] == "pass" for r in checked)
            text += f"; validation {passed} of {len(checked)} passed"
        return text


def _presentation():
    """The analysis layer's presentation of a run, imported when a figure is asked for: the
    mission layer does not depend on it otherwise (plotting is the layer above's job)."""
    from guanghan.analysis import presentation

    return presentation


def provenance(scenario, seed: int | None = None) -> dict:
    """What produced a run: scenario file name, SHA-256 of its text, the fields set over it
    (``guanghan run --set``: dotted path → value), Guanghan version, seed."""
    text = scenario.source_text if scenario.source_text is not None else scenario.to_toml()
    return {"scenario_name": scenario.mission.name,
            "scenario_file": scenario.source_path.name if scenario.source_path else None,
            "scenario_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "overrides": dict(scenario.overrides),
            "guanghan_version": __version__, "seed": seed}


def _initial_masses(scenario, log: EventLog) -> dict[str, float]:
    masses = {name: module.mass_kg for name, module in scenario.modules.items()}
    published = scenario.mission.launch_mass_kg
    if published is not None and abs(sum(masses.values()) - published) > 0.5:
        log.add(scenario.epoch_et, "mission", "mass_budget_mismatch",
                {"modules_total_kg": sum(masses.values()), "launch_mass_kg": published,
                 "difference_kg": sum(masses.values()) - published})
    return masses


def _seed(scenario) -> int | None:
    """The seed of the first execution-error table of the scenario's phases, if any."""
    for phase in scenario.phases:
        errors = getattr(phase, "execution_errors", None)
        if errors is not None:
            return errors.seed
    return None


def _stored(design: MissionDesign | None, scenario, i: int, log: EventLog, et: float) -> PhaseDesign | None:
    """The stored design of phase ``i``, if any; logs ``design_reused`` with the inputs that differ
    from those it was made from."""
    phase = scenario.phases[i]
    stored = design.phases.get(phase.name) if design is not None else None
    if stored is not None:
        changed = differences(stored.inputs, design_inputs(scenario, i))
        log.add(et, phase.name, "design_reused", {"source": design.source, "inputs_differ": changed})
    return stored


def run(scenario, progress: ProgressCallback | None = None,
        design: MissionDesign | None = None, summary_only: bool = False) -> RunResult:
    """Run every phase of ``scenario`` in order; files are written by :mod:`guanghan.analysis.outputs`.

    With ``design`` (:func:`guanghan.mission.mission_design.read_design`) each phase it holds flies
    that stored design instead of designing its own; InputError if it is another mission's.
    ``summary_only`` (a campaign sample) lets the legs skip their trajectory tables and series
    (:attr:`LegContext.summary_only`): the same figures, events and outcome.
    """
    if design is not None:
        design.check_fits(scenario)
    wall = time.perf_counter()
    designed = MissionDesign(scenario.mission.name)
    log = EventLog()
    summary: dict = {}
    results: list[PhaseResult] = []
    masses = _initial_masses(scenario, log)
    vehicles: dict = {}
    cargo: dict[str, float] = {}
    state, status, failed_leg, reason = None, "completed", None, None
    costs: dict[str, dict] = {}             # per leg: wall time (s), integration steps, evaluations
    n = len(scenario.phases)
    for i, phase in enumerate(scenario.phases):
        if progress:
            progress(phase.name, i, n)
        for module, kg in (phase.start_propellant_kg or {}).items():
            masses[module] = scenario.modules[module].dry_mass_kg + kg
        stored = _stored(design, scenario, i, log, state.et if state is not None else scenario.epoch_et)
        leg_wall = time.perf_counter()
        try:
            with run_limits.budget(f"leg {phase.name}", phase.limits.max_wall_s,
                                   phase.limits.max_steps) as spent:
                result = LEGS[phase.type].fly(phase, LegContext(scenario, i, state, dict(masses),
                                                                dict(vehicles), dict(cargo),
                                                                stored.data if stored else None,
                                                                summary_only))
        except ScenarioError:
            raise                               # bad input found at run time: exit 2, nothing written
        except GuanghanError as exc:            # a run limit, or the leg's own error: a failure
            limit = isinstance(exc, RunLimitExceeded)
            et = state.et if state is not None else scenario.epoch_et
            result = PhaseResult(phase.name, state, EventLog(), {}, SCHEMA.empty_table(),
                                 aborted=str(exc) if limit else f"{type(exc).__name__}: {exc}")
            result.events.add(et, phase.name, "run_limit_exceeded" if limit else "leg_error",
                              {"reason": str(exc)})
        result.leg_type = result.leg_type or phase.type
        costs[phase.name] = {"wall_s": time.perf_counter() - leg_wall, "steps": spent.steps,
                             "evaluations": spent.evaluations}
        results.append(result)
        if result.design is not None:
            designed.phases[phase.name] = stored or PhaseDesign(phase.type, design_inputs(scenario, i),
                                                                result.design)
        log.extend(result.events)
        summary.update(result.summary)
        masses.update(result.module_masses)
        vehicles.update(result.vehicle_states)
        cargo.update(result.cargo_kg)
        state = result.final_state
        if result.aborted is not None:
            skipped = [p.name for p in scenario.phases[i + 1:]]
            et = state.et if state is not None else scenario.epoch_et
            log.add(et, phase.name, "mission_aborted",
                    {"reason": result.aborted, "phases_not_flown": skipped})
            summary["mission.aborted_in_phase"] = phase.name
            status, failed_leg, reason = "failed", phase.name, result.aborted
            break
    if progress:
        progress("done", n, n)
    summary["mission.status"] = status
    table = with_segments(pa.concat_tables([r.trajectory for r in results])) if results \
        else SCHEMA.empty_table()
    meta = {
        "scenario": str(scenario.source_path) if scenario.source_path else scenario.mission.name,
        "provenance": provenance(scenario, _seed(scenario)),
        "guanghan_version": __version__,
        "run_wall_s": time.perf_counter() - wall,
        "leg_costs": costs,
        "models": {r.name: r.meta.get("force_model", "") for r in results},
        "legs": {r.name: r.leg_type for r in results},
        "max_g": {r.name: r.meta["max_g"] for r in results if "max_g" in r.meta},
        "sites": [{"name": k, "body": s.body, "lat_deg": s.lat_deg, "lon_deg": s.lon_deg}
                  for k, s in scenario.sites.items()],
        "module_masses_kg": masses,
        "phase_sites": {p.name: p.site for p in scenario.phases if isinstance(getattr(p, "site", None), str)},
        "timeline": dict(scenario.timeline),
    }
    series = {f"{r.name}.{k}": v for r in results for k, v in r.series.items()}
    meta["design_from"] = design.source if design is not None else None
    return RunResult(scenario.mission.name, log.to_list(), summary, table, results, meta, series,
                     status, failed_leg, reason, designed, scenario)
