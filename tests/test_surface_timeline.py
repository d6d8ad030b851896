"""Surface timeline: hand-solved optima, a greedy counterexample, every constraint in the returned
timeline, the infeasibility diagnoses with their numbers, and determinism."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanghan.errors import GuanghanError, InputError
from guanghan.gnc.surface_timeline import Task, Timeline, TimelineInfeasible, schedule

H = 3600.0
TOL = 1e-6  # s


def _check(tl: Timeline, tasks, *, start_s, deadline_s, link_windows, operating_windows=None,
           round_trip_light_time_s, ground_reaction_s, **_):
    """Every constraint of the problem, checked on the returned timeline in seconds."""
    lead = round_trip_light_time_s + ground_reaction_s
    ops = operating_windows if operating_windows is not None else [(start_s, deadline_s)]
    by_name = {t.name: t for t in tasks}
    assert sorted(s.name for s in tl.tasks) == sorted(by_name)
    for s in tl.tasks:
        t = by_name[s.name]
        assert s.start_s >= start_s - TOL and s.end_s <= deadline_s + TOL
        assert s.end_s >= s.start_s + t.duration_s - TOL
        assert any(a - TOL <= s.start_s and s.end_s <= b + TOL for a, b in ops)        # no straddling
        for p in t.after:                                                                # precedence
            assert s.start_s >= tl.task(p).end_s + by_name[p].min_gap_after_s - TOL
            if t.needs_confirmation:
                assert s.start_s - tl.task(p).end_s >= lead - TOL
        if t.needs_confirmation or t.needs_link:
            a, b = link_windows[s.window_index]
            own = lead if t.needs_confirmation else 0.0
            assert a - TOL <= s.start_s - own and s.end_s <= b + TOL
            assert s.start_s - start_s >= own - TOL
        else:
            assert s.window_index is None
    for i, x in enumerate(tl.tasks):                                                    # resources
        for y in tl.tasks[i + 1:]:
            if x.resource is not None and x.resource == y.resource:
                assert x.end_s <= y.start_s + TOL or y.end_s <= x.start_s + TOL
    assert tl.makespan_s == pytest.approx(max(s.end_s for s in tl.tasks) - start_s)
    assert tl.objective_bound_s <= tl.makespan_s + TOL


def greedy(tasks, *, start_s, deadline_s, link_windows, operating_windows=None, round_trip_light_time_s,
           ground_reaction_s, **_):
    """Serial list scheduling: repeatedly place the ready task that can start earliest (ties: list
    order) at that start. Returns {name: (start, end)} or None if a task finds no slot."""
    lead = round_trip_light_time_s + ground_reaction_s
    ops = operating_windows if operating_windows is not None else [(start_s, deadline_s)]
    done, busy, gap = {}, defaultdict(list), {t.name: t.min_gap_after_s for t in tasks}

    def earliest(t):
        own = lead if t.needs_confirmation else 0.0
        ready = max([start_s + own] + [done[p][1] + max(gap[p], own) for p in t.after])
        cands = [ready, *(a for a, _ in ops), *(a + own for a, _ in link_windows),
                 *(e for _, e in busy[t.resource])]
        for c in sorted(x for x in cands if x >= ready):
            e = c + t.duration_s
            if e > deadline_s or not any(a <= c and e <= b for a, b in ops):
                continue
            linked = t.needs_link or t.needs_confirmation
            if linked and not any(a + own <= c and e <= b for a, b in link_windows):
                continue
            if t.resource is not None and any(c < b and a < e for a, b in busy[t.resource]):
                continue
            return c
        return None

    while len(done) < len(tasks):
        ready = [t for t in tasks if t.name not in done and all(p in done for p in t.after)]
        starts = [(earliest(t), i, t) for i, t in enumerate(ready)]
        if any(s is None for s, _, _ in starts):
            return None
        s, _, t = min(starts, key=lambda x: x[:2])
        done[t.name] = (s, s + t.duration_s)
        if t.resource is not None:
            busy[t.resource].append(done[t.name])
    return done


def test_hand_solved_chain_with_confirmation_and_two_windows():
    """A (1000 s) → B (500 s, confirmed, τ = 3 + 597 s) → C (200 s); links [0, 1500] and [3000, 5000].
    B cannot use the first window (1000 + 600 + 500 > 1500); in the second it starts at
    3000 + 600 = 3600 and ends at 4100, so C ends at 4300: the makespan."""
    tasks = [Task("A", 1000.0), Task("B", 500.0, after=("A",), needs_confirmation=True),
             Task("C", 200.0, after="B")]
    kw = {"start_s": 0.0, "deadline_s": 10_000.0, "link_windows": [(0.0, 1500.0), (3000.0, 5000.0)],
          "round_trip_light_time_s": 3.0, "ground_reaction_s": 597.0}
    tl = schedule(tasks, **kw)
    _check(tl, tasks, **kw)
    assert tl.status == "optimal" and tl.solver.startswith("OR-Tools CP-SAT 9.")
    assert tl.makespan_s == 4300.0 and tl.objective_bound_s == 4300.0
    assert (tl.task("A").start_s, tl.task("B").start_s, tl.task("B").window_index) == (0.0, 3600.0, 1)
    assert tl.task("C").end_s == tl.end_s == 4300.0
    assert tl.span_s(["B", "C"]) == 700.0


def test_resolution_rounds_conservatively():
    """At 60 s ticks: 1000 s → 1020 s, 500 s → 540 s, 200 s → 240 s, τ = 600 s; B starts 3600 s,
    C ends 3600 + 540 + 240 = 4380 s, and every constraint holds in true seconds."""
    tasks = [Task("A", 1000.0), Task("B", 500.0, after=("A",), needs_confirmation=True),
             Task("C", 200.0, after="B")]
    kw = {"start_s": 0.0, "deadline_s": 10_000.0, "link_windows": [(0.0, 1500.0), (3000.0, 5000.0)],
          "round_trip_light_time_s": 3.0, "ground_reaction_s": 597.0, "resolution_s": 60.0}
    tl = schedule(tasks, **kw)
    _check(tl, tasks, **kw)
    assert tl.makespan_s == 4380.0


def _greedy_counterexample():
    tasks = [Task("checkout", 1800.0, kind="checkout"),
             Task("drill", 3 * H, after=("checkout",), resource="arm", kind="drill"),
             Task("scoop", 1 * H, after=("checkout",), resource="arm", needs_confirmation=True, kind="scoop")]
    kw = {"start_s": 0.0, "deadline_s": 24 * H, "link_windows": [(0.0, 2 * H), (20 * H, 24 * H)],
          "round_trip_light_time_s": 2.6, "ground_reaction_s": 597.4}
    return tasks, kw


def test_solver_beats_earliest_start_greedy():
    """After checkout (0–1800 s) the drill can start at 1800 s, the confirmed scoop only at 2400 s;
    greedy gives the arm to the drill (to 12 600 s), the scoop misses the first link window (ends
    7200 s) and waits for the second: 72 600–76 200 s. Optimum: scoop 2400–6000 s, drill
    6000–16 800 s."""
    tasks, kw = _greedy_counterexample()
    g = greedy(tasks, **kw)
    assert g["scoop"] == (72_600.0, 76_200.0) and max(e for _, e in g.values()) == 76_200.0
    tl = schedule(tasks, **kw)
    _check(tl, tasks, **kw)
    assert tl.makespan_s == pytest.approx(16_800.0) and tl.status == "optimal"
    assert tl.task("scoop").start_s == pytest.approx(2400.0) and tl.task("scoop").window_index == 0


def test_confirmation_lead_and_window():
    tasks, kw = _greedy_counterexample()
    tl = schedule(tasks, **kw)
    scoop = tl.task("scoop")
    assert scoop.start_s - tl.task("checkout").end_s >= 600.0 - TOL
    a, b = kw["link_windows"][scoop.window_index]
    assert a <= scoop.start_s - 600.0 + TOL and scoop.end_s <= b + TOL
    assert scoop.needs_confirmation and tl.task("drill").window_index is None


def test_operating_window_gap_not_straddled_and_resources_disjoint():
    """Operating windows [0, 3 h] and [4 h, 10 h]; two 2 h arm tasks and a 1 h free one: one arm task
    fits before the gap, the other after it (at 4 h), never across 3–4 h."""
    tasks = [Task("a", 2 * H, resource="arm"), Task("b", 2 * H, resource="arm"), Task("c", 1 * H)]
    kw = {"start_s": 0.0, "deadline_s": 10 * H, "link_windows": [],
          "operating_windows": [(0.0, 3 * H), (4 * H, 10 * H)], "round_trip_light_time_s": 2.6,
          "ground_reaction_s": 0.0}
    tl = schedule(tasks, **kw)
    _check(tl, tasks, **kw)
    assert sorted((tl.task("a").start_s, tl.task("b").start_s)) == [0.0, 4 * H]
    assert tl.makespan_s == 6 * H and tl.task("c").start_s == 0.0


def test_precedence_gap_and_needs_link():
    tasks = [Task("drill", 1000.0, min_gap_after_s=500.0, resource="drill"),
             Task("image", 100.0, after=("drill",), needs_link=True)]
    kw = {"start_s": 100.0, "deadline_s": 5000.0, "link_windows": [(1000.0, 1550.0), (2000.0, 3000.0)],
          "round_trip_light_time_s": 2.6, "ground_reaction_s": 600.0}
    tl = schedule(tasks, **kw)
    _check(tl, tasks, **kw)
    assert tl.task("image").start_s == 2000.0 and tl.task("image").window_index == 1   # 1600 + 100 > 1550
    assert tl.makespan_s == 2000.0


def _realistic():
    """Chang'e-5-like surface day: 20 tasks incl. 12 scoop cycles, 5 relay windows over 48 h, a
    thermal pause at 20–22 h, τ = 2.6 s + 10 min."""
    t = [Task("checkout", 1.5 * H, kind="checkout"),
         Task("drill_deploy", 0.5 * H, after=("checkout",), needs_confirmation=True, resource="drill",
              kind="drill"),
         Task("drill", 3.0 * H, after=("drill_deploy",), needs_confirmation=True, resource="drill",
              kind="drill"),
         Task("core_pack", 1.0 * H, after=("drill",), resource="arm", kind="pack")]
    prev = "checkout"
    for k in range(1, 13):
        t.append(Task(f"scoop_{k}", 1500.0, after=(prev,), needs_confirmation=k % 4 == 1, resource="arm",
                      kind="scoop", min_gap_after_s=120.0))
        prev = f"scoop_{k}"
    t += [Task("seal", 1.0 * H, after=("core_pack", "scoop_12"), needs_confirmation=True, resource="arm",
               kind="pack"),
          Task("flag", 0.5 * H, after=("seal",), kind="flag"),
          Task("panorama", 0.5 * H, after=("checkout",), needs_link=True, resource="camera", kind="imaging"),
          Task("ascent_prep", 2.0 * H, after=("seal", "flag"), needs_confirmation=True, kind="ascent_prep")]
    kw = {"start_s": 0.0, "deadline_s": 48 * H,
          "link_windows": [(0.0, 6 * H), (9 * H, 15 * H), (18 * H, 24 * H), (28 * H, 34 * H), (38 * H, 46 * H)],
          "operating_windows": [(0.0, 20 * H), (22 * H, 48 * H)], "round_trip_light_time_s": 2.6,
          "ground_reaction_s": 600.0}
    return t, kw


def test_realistic_instance_is_solved_to_optimality():
    """(Its solve time is measured by benchmarks/surface.py, never here.)"""
    tasks, kw = _realistic()
    assert len(tasks) == 20
    tl = schedule(tasks, **kw)
    _check(tl, tasks, **kw)
    assert tl.status == "optimal"
    assert tl.objective_bound_s == tl.makespan_s
    g = greedy(tasks, **kw)
    assert tl.makespan_s <= max(e for _, e in g.values()) + TOL
    assert tl.span_s("scoop") >= 12 * 1500.0 + 11 * 120.0


def test_deterministic():
    tasks, kw = _realistic()
    assert schedule(tasks, **kw).tasks == schedule(tasks, **kw).tasks


# -- infeasibility diagnoses -------------------------------------------------------------------------

def _raises(cause, tasks, **kw) -> TimelineInfeasible:
    base = {"start_s": 0.0, "deadline_s": 48 * H, "link_windows": [(0.0, 48 * H)],
            "round_trip_light_time_s": 2.6, "ground_reaction_s": 600.0}
    with pytest.raises(TimelineInfeasible) as info:
        schedule(tasks, **(base | kw))
    assert info.value.cause == cause and isinstance(info.value, GuanghanError)
    return info.value


def test_diagnosis_critical_path():
    e = _raises("critical_path", [Task("a", 10 * H), Task("b", 11.3 * H, after=("a",))], deadline_s=18 * H)
    assert "21.30 h" in str(e) and "18.00 h" in str(e) and "a → b" in str(e)
    assert (e.needed_s, e.available_s) == (pytest.approx(21.3 * H), 18 * H)


def test_diagnosis_no_link_window():
    e = _raises("link_window", [Task("drill", 3.2 * H, needs_confirmation=True)],
                link_windows=[(0.0, 2.1 * H), (10 * H, 11 * H)])
    for text in ("'drill'", "3.20 h", "2.6 s light time", "600 s reaction", "the longest is 2.10 h"):
        assert text in str(e)
    assert e.task == "drill" and e.available_s == pytest.approx(2.1 * H)


def test_diagnosis_no_operating_window_and_no_overlap():
    e = _raises("operating_window", [Task("drill", 5 * H)], operating_windows=[(0.0, 4 * H), (6 * H, 9 * H)])
    assert "'drill'" in str(e) and "the longest is 4.00 h" in str(e)
    e = _raises("window_overlap", [Task("image", 1 * H, needs_link=True)], link_windows=[(0.0, 4 * H)],
                operating_windows=[(5 * H, 10 * H)])
    assert "'image'" in str(e) and "longest usable stretch is 0 s" in str(e)


def test_diagnosis_resource_load():
    arm = [Task(f"scoop_{k}", 2.5 * H, resource="arm") for k in range(5)]
    e = _raises("resource_load", arm, operating_windows=[(0.0, 5 * H), (20 * H, 25 * H)])
    assert "the operating windows hold 10.00 h" in str(e) and "'arm' need 12.50 h" in str(e)
    e = _raises("resource_load", arm, deadline_s=10 * H, link_windows=[])
    assert "only 10.00 h lie between start and deadline" in str(e) and e.resource == "arm"


def test_diagnosis_chain_misses_its_window():
    """A ends at 1 h, so the confirmed B could start at 70 min, but its only window allows 30 min."""
    e = _raises("chain", [Task("A", 1 * H), Task("B", 1 * H, after=("A",), needs_confirmation=True)],
                link_windows=[(0.0, 1.5 * H)])
    assert "'B'" in str(e) and "t = 70.0 min" in str(e) and "t = 30.0 min" in str(e)


def test_diagnosis_solver_proof():
    """Two 1 h arm tasks each needing the link, one 1.5 h window: each fits, the pair does not."""
    e = _raises("solver_infeasible", [Task("a", H, needs_link=True, resource="arm"),
                                      Task("b", H, needs_link=True, resource="arm")],
                link_windows=[(0.0, 1.5 * H)], deadline_s=10 * H)
    assert "proved" in str(e) and "10.00 h" in str(e) and "total work 2.00 h" in str(e)


def test_diagnosis_time_limit(monkeypatch):
    from ortools.sat.python import cp_model
    monkeypatch.setattr(cp_model.CpSolver, "solve", lambda self, model, *a: cp_model.UNKNOWN)
    e = _raises("time_limit", [Task("a", H)], time_limit_s=0.5)
    assert "time limit of 0.5 s" in str(e)


@pytest.mark.parametrize("tasks, kw, quantity", [
    ([Task("a", 1.0, after=("nope",))], {}, "a.after"),
    ([Task("a", 1.0, after=("b",)), Task("b", 1.0, after=("a",))], {}, "a.after"),
    ([Task("a", -1.0)], {}, "a.duration_s"),
    ([Task("a", 1.0)], {"link_windows": [(5.0, 4.0)]}, "link_windows[0]"),
    ([Task("a", 1.0)], {"operating_windows": [(0.0, 9.0), (5.0, 4.0)]}, "operating_windows[1]"),
    ([Task("a", 1.0)], {"deadline_s": 0.0}, "deadline_s"),
    ([Task("a", 1.0), Task("a", 2.0)], {}, "name"),
])
def test_input_errors(tasks, kw, quantity):
    base = {"start_s": 0.0, "deadline_s": 100.0, "link_windows": [], "round_trip_light_time_s": 2.6,
            "ground_reaction_s": 0.0}
    with pytest.raises(InputError) as info:
        schedule(tasks, **(base | kw))
    assert info.value.quantity == quantity


def test_cycle_named():
    with pytest.raises(InputError, match="cycle"):
        schedule([Task("a", 1.0, after="c"), Task("b", 1.0, after="a"), Task("c", 1.0, after="b")], start_s=0.0,
                 deadline_s=100.0, link_windows=[], round_trip_light_time_s=0.0, ground_reaction_s=0.0)


# -- invariant over random small instances --------------------------------------------------------

@st.composite
def instances(draw):
    n = draw(st.integers(1, 5))
    tasks = []
    for i in range(n):
        after = tuple(f"t{k}" for k in range(i) if draw(st.booleans()))
        tasks.append(Task(f"t{i}", 100.0 * draw(st.integers(1, 20)), after=after,
                          needs_confirmation=draw(st.booleans()), needs_link=draw(st.booleans()),
                          resource=draw(st.sampled_from([None, "arm", "drill"])),
                          min_gap_after_s=draw(st.sampled_from([0.0, 300.0]))))

    def windows(lo, hi):
        edges = sorted(draw(st.lists(st.integers(0, 200), min_size=lo, max_size=hi, unique=True)))
        return [(100.0 * a, 100.0 * b) for a, b in zip(edges[::2], edges[1::2])]

    ops = windows(2, 4) if draw(st.booleans()) else None
    return tasks, {"start_s": 0.0, "deadline_s": 20_000.0, "link_windows": windows(2, 6),
                   "operating_windows": ops, "round_trip_light_time_s": 2.6,
                   "ground_reaction_s": draw(st.sampled_from([0.4, 297.4]))}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_random_instances_hold_every_constraint(instance):
    """Whenever list scheduling finds a timeline, the solver must find one at least as short, and
    every constraint holds in what it returns."""
    tasks, kw = instance
    g = greedy(tasks, **kw)
    try:
        tl = schedule(tasks, **kw)
    except TimelineInfeasible:
        assert g is None
        return
    _check(tl, tasks, **kw)
    if g is not None:
        assert tl.makespan_s <= max(e for _, e in g.values()) + TOL
