"""Surface-operations timeline: when each lander task runs between touchdown and lift-off.

Tasks (checkout, drilling, scoop cycles, packaging, flag, ascent preparation) have durations (s),
predecessors, an optional unary resource ("arm", "drill") and may need the ground: a task with
``needs_confirmation`` starts only once the ground has seen its predecessors' results and sent a
command back,

    S_j ≥ E_p + τ        for each predecessor p,   τ = round_trip_light_time_s + ground_reaction_s,

and that loop and the task lie in ONE link window w: w.start ≤ S_j − τ and S_j + d_j ≤ w.end
(``needs_link`` asks for the window without the lead). Every task lies inside one operating window
(sunlight, thermal limits) and may not straddle a gap. The schedule minimizes the makespan, the end
of the last task, with the sum of start times as tie-break (do things as early as possible).

Why a solver and not a greedy order: list scheduling, placing each task at its earliest feasible
start (Graham 1969), is built on the rule that starting early never hurts. Windows break it. After
checkout, a 3 h drill can start at once, a confirmed 1 h scoop only after τ; earliest-start greedy
gives the arm to the drill, the scoop's link window closes meanwhile and the scoop slips to the
next pass many hours later. The optimum leaves the arm idle for τ and scoops first
(``tests/test_surface_timeline.py::test_solver_beats_earliest_start_greedy``).

Formulation (CP-SAT, times in integer ticks of ``resolution_s``): one start variable and one
fixed-size interval per task; for each task one optional placement per (operating window, link
window) pair with ``exactly_one`` over the presence literals, each literal enforcing the window's
bounds on the start (the alternative-of-optional-intervals idea of Laborie et al. 2018, with the
alternatives sharing the task's start); ``no_overlap`` per resource; precedence as linear
inequalities. Start domains are first narrowed by a window-aware forward and backward pass, which
also yields the plain-words infeasibility diagnoses (critical path, no window fits a task, resource
load, a chain that cannot meet the deadline) before the solver is called.

Assumptions and limitations
    * Deterministic durations: margins for contingencies belong in ``duration_s``.
    * Constant light time and ground reaction over the stay: pass the largest round-trip light time
      (2.4–2.7 s Earth–Moon). A confirmation loop cannot span a gap between link windows.
    * A confirmed task without predecessors confirms the landed state: S_j ≥ start_s + τ.
    * ``min_gap_after_s`` of task p holds between p's end and the start of every task listing p in
      ``after``; with a confirmation the larger of gap and τ applies (they run concurrently).
    * Unary resources only; no power, energy or data-volume budget; operating and link windows are
      inputs (see :mod:`guanghan.gnc.link_windows`), not computed here.
    * Conservative rounding to ticks counted from ``start_s``: durations, leads, gaps and window
      starts round up; window ends and ``deadline_s`` round down. ``end_s`` is the end of the reserved slot
      (≥ start + duration). The optimum of the ticked problem may exceed the continuous optimum by a
      few ticks.
    * Deterministic: one search worker and a fixed seed. A solve cut by the (wall-clock) time limit,
      status "feasible", depends on machine speed and may differ between runs.
    * Diagnoses are relaxations (each ignores some constraints), so they only fire when the
      instance is provably infeasible; otherwise the solver's own proof is reported.
    * One module over the ~400-line guide: the diagnoses, the model and the solve all work on the
      ticked problem (``_Ticks``); splitting them would make that private record an interface.

References
    Perron, L. and Didier, F., *CP-SAT*, Google OR-Tools, v9.15 (the version this was built with),
    https://developers.google.com/optimization/cp/cp_solver.
    Laborie, P., Rogerie, J., Shaw, P. and Vilím, P., "IBM ILOG CP optimizer for scheduling",
    *Constraints* 23(2):210–250 (2018): optional interval variables, alternatives, no-overlap.
    Graham, R. L., "Bounds on multiprocessing timing anomalies", *SIAM J. Appl. Math.* 17(2):416–429
    (1969): list scheduling and its anomalies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ortools

from guanghan.errors import GuanghanError, InputError

SOLVER = f"OR-Tools CP-SAT {ortools.__version__}"
_EPS = 1e-9


@dataclass(frozen=True)
class Task:
    """A surface task: ``duration_s`` (s), names it comes ``after``, ground needs, a unary
    ``resource`` (None: overlaps anything), a free ``kind`` label (drill, scoop, pack, flag,
    ascent_prep, checkout) and ``min_gap_after_s`` (s) before any task that follows it."""

    name: str
    duration_s: float
    after: tuple[str, ...] = ()
    needs_confirmation: bool = False
    needs_link: bool = False
    resource: str | None = None
    kind: str = ""
    min_gap_after_s: float = 0.0

    def __post_init__(self):
        after = (self.after,) if isinstance(self.after, str) else tuple(self.after)
        object.__setattr__(self, "after", after)


@dataclass(frozen=True)
class ScheduledTask:
    """A placed task: start and slot end (s, scheduler clock), the link window it uses (index into
    ``link_windows``, None when it needs no link)."""

    name: str
    kind: str
    start_s: float
    end_s: float
    window_index: int | None
    needs_confirmation: bool
    resource: str | None


@dataclass(frozen=True)
class Timeline:
    """Tasks sorted by start; ``makespan_s`` (s) from ``start_s`` to the last end;
    ``objective_bound_s`` (s) the solver's proven lower bound on it."""

    tasks: tuple[ScheduledTask, ...]
    makespan_s: float
    status: str
    solver: str
    wall_s: float
    objective_bound_s: float

    @property
    def end_s(self) -> float:
        """End of the last task (s, scheduler clock)."""
        return max((t.end_s for t in self.tasks), default=math.nan)

    def task(self, name: str) -> ScheduledTask:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"no task {name!r}; the timeline has {[t.name for t in self.tasks]}")

    def span_s(self, names_or_kinds: str | Iterable[str]) -> float:
        """Time (s) from the first start to the last end of the tasks matching by name or kind."""
        keys = {names_or_kinds} if isinstance(names_or_kinds, str) else set(names_or_kinds)
        chosen = [t for t in self.tasks if t.name in keys or t.kind in keys]
        if not chosen:
            raise KeyError(f"no task has a name or kind in {sorted(keys)}")
        return max(t.end_s for t in chosen) - min(t.start_s for t in chosen)


class TimelineInfeasible(GuanghanError):
    """No timeline exists (or none was found in time). ``cause`` is one of critical_path,
    link_window, operating_window, window_overlap, resource_load, chain, solver_infeasible,
    time_limit; ``task`` / ``resource`` name the culprit where there is one; ``needed_s`` and
    ``available_s`` (s) are the numbers compared."""

    def __init__(self, reason: str, *, cause: str, task: str | None = None,
                 resource: str | None = None, needed_s: float | None = None,
                 available_s: float | None = None):
        self.reason, self.cause, self.task, self.resource = reason, cause, task, resource
        self.needed_s, self.available_s = needed_s, available_s
        super().__init__(reason)


def _dur(s: float) -> str:
    if abs(s) < 1000.0:
        return f"{s:.4g} s"
    if abs(s) < 7200.0:
        return f"{s / 60.0:.1f} min"
    return f"{s / 3600.0:.2f} h"


@dataclass
class _Ticks:
    """The problem in integer ticks from ``t0``; ``options[j]``: (lowest start, highest start,
    link window index) per window pair that can hold task j."""

    t0: float
    r: float
    horizon: int
    tasks: Sequence[Task]
    dur: list[int]
    sep: list[dict[int, int]]       # sep[j][p]: ticks from p's end to j's start
    order: list[int]
    lead_s: float                   # light time + ground reaction (s)
    reaction_s: float
    lead: int
    link: list[tuple[int, int, int]]
    oper: list[tuple[int, int]]
    options: list[list[tuple[int, int, int | None]]]

    def at(self, k: int) -> str:
        return f"t = {_dur(self.t0 + k * self.r)}"

    def span(self, k: float) -> str:
        return _dur(k * self.r)

    def solo_lead(self, j: int) -> int:
        return self.lead if self.tasks[j].needs_confirmation else 0

    @property
    def resources(self) -> list[str]:
        return sorted({t.resource for t in self.tasks if t.resource is not None})


def _check_number(quantity: str, value: float, *, minimum: float | None = 0.0, strict: bool = False):
    low = minimum is not None and (value <= minimum if strict else value < minimum)
    if not math.isfinite(value) or low:
        limit = "finite" if minimum is None else f"finite and {'>' if strict else '>='} {minimum}"
        raise InputError(f"must be {limit}", quantity=quantity, value=value, limit=limit)


def _check_windows(quantity: str, windows) -> list[tuple[float, float]]:
    out = []
    for i, (a, b) in enumerate(windows):
        _check_number(f"{quantity}[{i}].start", float(a), minimum=None)
        _check_number(f"{quantity}[{i}].end", float(b), minimum=None)
        if b < a:
            raise InputError(f"window ends before it starts ({b} < {a} s)", quantity=f"{quantity}[{i}]",
                             value=(a, b), limit="end >= start")
        out.append((float(a), float(b)))
    return out


def _topological_order(tasks: Sequence[Task]) -> list[int]:
    """Indices in precedence order (Kahn); InputError naming a cycle if there is one."""
    index = {t.name: i for i, t in enumerate(tasks)}
    preds = [[index[p] for p in t.after] for t in tasks]
    order, placed, pending = [], set(), list(range(len(tasks)))
    while pending:
        ready = [j for j in pending if placed.issuperset(preds[j])]
        if not ready:                # every pending task waits on a pending one: walk back to a cycle
            path = [pending[0]]
            while (j := next(q for q in preds[path[-1]] if q not in placed)) not in path:
                path.append(j)
            cycle = [tasks[k].name for k in path[path.index(j):] + [j]]
            raise InputError(f"precedence cycle: {' after '.join(cycle)}", quantity=f"{cycle[0]}.after",
                             value=tasks[path[path.index(j)]].after)
        order += ready
        placed.update(ready)
        pending = [j for j in pending if j not in placed]
    return order


def _check_tasks(tasks: Sequence[Task]) -> list[int]:
    names = [t.name for t in tasks]
    for t in tasks:
        if names.count(t.name) > 1:
            raise InputError("task names must be unique", quantity="name", value=t.name)
        _check_number(f"{t.name}.duration_s", t.duration_s)
        _check_number(f"{t.name}.min_gap_after_s", t.min_gap_after_s)
        for p in t.after:
            if p not in names:
                raise InputError(f"unknown predecessor {p!r}; the tasks are {names}",
                                 quantity=f"{t.name}.after", value=p)
    return _topological_order(tasks)


def _discretize(tasks, order, start_s, deadline_s, links, opers, lead_s, reaction_s, r) -> _Ticks:
    up = lambda x: math.ceil(x / r - _EPS)
    down = lambda x: math.floor(x / r + _EPS)
    horizon = down(deadline_s - start_s)
    index = {t.name: i for i, t in enumerate(tasks)}
    dur = [up(t.duration_s) for t in tasks]
    lead = up(lead_s)
    sep = [{index[p]: max(up(tasks[index[p]].min_gap_after_s), lead if t.needs_confirmation else 0)
            for p in t.after} for t in tasks]
    clip = lambda a, b: (max(0, up(a - start_s)), min(horizon, down(b - start_s)))
    link = [(*clip(a, b), i) for i, (a, b) in enumerate(links)]
    link = [w for w in link if w[1] >= w[0]]
    oper = [clip(a, b) for a, b in (opers if opers is not None else [(start_s, deadline_s)])]
    oper = [w for w in oper if w[1] >= w[0]]
    p = _Ticks(start_s, r, horizon, tasks, dur, sep, order, lead_s, reaction_s, lead, link, oper, [])
    for j, t in enumerate(tasks):               # one placement per (operating, link) window pair
        own = lead if t.needs_confirmation else 0
        wins = link if (t.needs_confirmation or t.needs_link) else [(0, horizon, None)]
        opts = [(max(o[0], w[0] + own), min(o[1], w[1]) - dur[j], w[2]) for o in oper for w in wins]
        p.options.append(sorted((x for x in opts if x[1] >= x[0]), key=lambda x: x[:2]))
    return p


def _critical_path(p: _Ticks) -> None:
    """Longest chain of durations, leads and gaps (windows ignored) against the horizon."""
    finish, via = {}, {}
    for j in p.order:
        ready = [(finish[q] + s, q) for q, s in p.sep[j].items()] + [(p.solo_lead(j), None)]
        es, via[j] = max(ready, key=lambda x: x[0])
        finish[j] = es + p.dur[j]
    last = max(finish, key=finish.get)
    if finish[last] <= p.horizon:
        return
    path, j = [], last
    while j is not None:
        path.append(p.tasks[j].name)
        j = via[j]
    raise TimelineInfeasible(
        f"the tasks need at least {p.span(finish[last])} of work along the critical path "
        f"{' → '.join(reversed(path))} (durations, confirmation leads of {_dur(p.lead_s)} and gaps) "
        f"but only {p.span(p.horizon)} lie between start ({p.at(0)}) and deadline ({p.at(p.horizon)}); "
        f"shorten the tasks or move the deadline", cause="critical_path",
        needed_s=finish[last] * p.r, available_s=p.horizon * p.r)


def _window_fit(p: _Ticks) -> None:
    """Each task must fit some operating window, and a linked task some link window and both at once."""
    for j, t in enumerate(p.tasks):
        if p.options[j]:
            continue
        own, d = p.solo_lead(j), p.dur[j]
        what = f"task {t.name!r} ({_dur(t.duration_s)}"
        if t.needs_confirmation:
            what += (f", needs confirmation with {_dur(p.lead_s - p.reaction_s)} light time + "
                     f"{_dur(p.reaction_s)} reaction)")
        else:
            what += ", needs a link)" if t.needs_link else ")"
        longest_o = max((b - a for a, b in p.oper), default=0)
        longest_l = max((b - a for a, b, _ in p.link), default=0)
        if (t.needs_link or t.needs_confirmation) and longest_l < d + own:
            raise TimelineInfeasible(f"{what} fits no link window: the longest is {p.span(longest_l)} "
                                     f"between start and deadline and the task needs {p.span(d + own)}",
                                     cause="link_window", task=t.name, needed_s=(d + own) * p.r,
                                     available_s=longest_l * p.r)
        if longest_o < d:
            raise TimelineInfeasible(f"{what} fits no operating window: the longest is {p.span(longest_o)}",
                                     cause="operating_window", task=t.name, needed_s=d * p.r,
                                     available_s=longest_o * p.r)
        common = max([min(o[1], w[1]) - max(o[0], w[0] + own) for o in p.oper for w in p.link] + [0])
        raise TimelineInfeasible(f"{what} fits no stretch inside both a link window and an operating "
                                 f"window: the longest usable stretch is {p.span(common)}",
                                 cause="window_overlap", task=t.name, needed_s=d * p.r,
                                 available_s=common * p.r)


def _resource_load(p: _Ticks, given_oper: bool) -> None:
    usable = sum(b - a for a, b in p.oper)
    for res in p.resources:
        need = sum(d for d, t in zip(p.dur, p.tasks) if t.resource == res)
        if need > usable:
            held = (f"the operating windows hold {p.span(usable)} between start and deadline" if given_oper
                    else f"only {p.span(usable)} lie between start and deadline")
            raise TimelineInfeasible(f"{held}, the tasks on resource {res!r} need {p.span(need)}",
                                     cause="resource_load", resource=res, needed_s=need * p.r,
                                     available_s=usable * p.r)


def _chain_bounds(p: _Ticks) -> tuple[list[int], list[int]]:
    """Earliest and latest start of each task from precedence and windows (resources ignored)."""
    n = len(p.tasks)
    es, ls = [0] * n, [0] * n
    for j in p.order:
        ready = max([es[q] + p.dur[q] + s for q, s in p.sep[j].items()] + [0])
        fits = [max(lo, ready) for lo, hi, _ in p.options[j] if hi >= ready]
        if not fits:
            t = p.tasks[j]
            last = max(hi for _, hi, _ in p.options[j])
            raise TimelineInfeasible(
                f"task {t.name!r} ({_dur(t.duration_s)}) can start no earlier than {p.at(ready)} "
                f"(predecessors, leads and their windows), but the last window that holds it allows a "
                f"start no later than {p.at(last)}", cause="chain", task=t.name,
                needed_s=ready * p.r, available_s=last * p.r)
        es[j] = min(fits)
    succ = [[] for _ in range(n)]
    for j in range(n):
        for q, s in p.sep[j].items():
            succ[q].append((j, s))
    for j in reversed(p.order):                  # es is a feasible schedule, so ls[j] >= es[j]
        due = min([ls[k] - s for k, s in succ[j]] + [p.horizon]) - p.dur[j]
        ls[j] = max(min(hi, due) for lo, hi, _ in p.options[j] if lo <= due)
    return es, ls


def _build_model(p: _Ticks, es: list[int], ls: list[int]):
    from ortools.sat.python import cp_model   # ~0.15 s (pandas with it): only when solving

    m = cp_model.CpModel()
    n = len(p.tasks)
    start = [m.new_int_var(es[j], ls[j], f"start_{j}") for j in range(n)]
    choices = []
    for j in range(n):
        opts = [o for o in p.options[j] if o[1] >= es[j] and o[0] <= ls[j]]
        lits = [m.new_bool_var(f"place_{j}_{k}") for k in range(len(opts))]
        for lit, (lo, hi, _) in zip(lits, opts):
            m.add(start[j] >= lo).only_enforce_if(lit)
            m.add(start[j] <= hi).only_enforce_if(lit)
        m.add_exactly_one(lits)
        choices.append(list(zip(lits, opts)))
    for j in range(n):
        for q, s in p.sep[j].items():
            m.add(start[j] >= start[q] + p.dur[q] + s)
    for res in p.resources:
        m.add_no_overlap([m.new_fixed_size_interval_var(start[j], p.dur[j], f"task_{j}")
                          for j, t in enumerate(p.tasks) if t.resource == res])
    makespan = m.new_int_var(max(es[j] + p.dur[j] for j in range(n)), p.horizon, "makespan")
    for j in range(n):
        m.add(makespan >= start[j] + p.dur[j])
    weight = n * (p.horizon + 1) + 1              # lexicographic: makespan, then the sum of starts
    m.minimize(weight * makespan + sum(start))
    return m, start, choices, makespan, weight


def _solve(p: _Ticks, es, ls, time_limit_s: float) -> Timeline:
    from ortools.sat.python import cp_model

    m, start, choices, makespan, weight = _build_model(p, es, ls)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 20201217     # Chang'e-5 return; any fixed value will do
    solver.parameters.max_time_in_seconds = time_limit_s
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        _raise_unsolved(p, status, time_limit_s)
    placed = []
    for j, t in enumerate(p.tasks):
        s = solver.value(start[j])
        window = next(o[2] for lit, o in choices[j] if solver.boolean_value(lit))
        placed.append((s, j, ScheduledTask(t.name, t.kind, p.t0 + s * p.r, p.t0 + (s + p.dur[j]) * p.r,
                                           window, t.needs_confirmation, t.resource)))
    bound = max(math.floor(solver.best_objective_bound / weight + _EPS), max(e + d for e, d in zip(es, p.dur)))
    return Timeline(tuple(x[2] for x in sorted(placed, key=lambda x: x[:2])),
                    solver.value(makespan) * p.r, "optimal" if status == cp_model.OPTIMAL else "feasible",
                    SOLVER, solver.wall_time, bound * p.r)


def _raise_unsolved(p: _Ticks, status, time_limit_s: float):
    from ortools.sat.python import cp_model

    work = sum(p.dur)
    loads = {r: sum(d for d, t in zip(p.dur, p.tasks) if t.resource == r) for r in p.resources}
    busiest = max(loads, key=loads.get, default=None)
    busy = "" if busiest is None else f", the busiest resource {busiest!r} needs {p.span(loads[busiest])}"
    facts = (f"horizon {p.at(0)} to {p.at(p.horizon)} ({p.span(p.horizon)}), total work {p.span(work)} "
             f"over {len(p.tasks)} tasks{busy}")
    if status == cp_model.INFEASIBLE:
        raise TimelineInfeasible(f"the solver proved that no schedule fits the windows within the {facts}; "
                                 f"widen the windows or move the deadline", cause="solver_infeasible",
                                 needed_s=work * p.r, available_s=p.horizon * p.r)
    if status == cp_model.UNKNOWN:
        raise TimelineInfeasible(f"the solver found no schedule within its time limit of "
                                 f"{_dur(time_limit_s)} ({facts}); raise time_limit_s or resolution_s",
                                 cause="time_limit", needed_s=work * p.r, available_s=p.horizon * p.r)
    raise RuntimeError(f"CP-SAT returned status {status} on the timeline model")


def schedule(tasks: Sequence[Task], *, start_s: float, deadline_s: float,
             link_windows: Sequence[tuple[float, float]],
             operating_windows: Sequence[tuple[float, float]] | None = None,
             round_trip_light_time_s: float, ground_reaction_s: float, resolution_s: float = 1.0,
             time_limit_s: float = 10.0) -> Timeline:
    """The shortest timeline of ``tasks`` from ``start_s`` to ``deadline_s`` (s, scheduler clock).

    Windows are (start, end) pairs (s); ``operating_windows`` None means the whole horizon. Raises
    :class:`~guanghan.errors.InputError` on malformed input and :class:`TimelineInfeasible`, with the
    reason in numbers, when no timeline exists or none is found within ``time_limit_s`` (s).
    """
    for q, v in (("start_s", start_s), ("deadline_s", deadline_s)):
        _check_number(q, float(v), minimum=None)
    if deadline_s <= start_s:
        raise InputError("the deadline must come after the start", quantity="deadline_s",
                         value=deadline_s, limit=f"> start_s = {start_s}")
    _check_number("round_trip_light_time_s", round_trip_light_time_s)
    _check_number("ground_reaction_s", ground_reaction_s)
    _check_number("resolution_s", resolution_s, strict=True)
    _check_number("time_limit_s", time_limit_s, strict=True)
    links = _check_windows("link_windows", link_windows)
    opers = None if operating_windows is None else _check_windows("operating_windows", operating_windows)
    tasks = tuple(tasks)
    order = _check_tasks(tasks)
    if not tasks:
        return Timeline((), 0.0, "optimal", SOLVER, 0.0, 0.0)
    ticks = (deadline_s - start_s) / resolution_s
    if len(tasks) * (ticks + 1) ** 2 > 2.0 ** 60:
        raise InputError(f"{ticks:.3g} ticks over the horizon overflow the solver's integers; "
                         f"raise resolution_s", quantity="resolution_s", value=resolution_s)
    p = _discretize(tasks, order, float(start_s), float(deadline_s), links, opers,
                    round_trip_light_time_s + ground_reaction_s, ground_reaction_s, resolution_s)
    _critical_path(p)
    _window_fit(p)
    _resource_load(p, opers is not None)
    es, ls = _chain_bounds(p)
    return _solve(p, es, ls, time_limit_s)
