"""ClarabelProgram (direct Clarabel calls on cvxpy's compiled DPP data) against cvxpy's own
``Problem.solve(solver=cp.CLARABEL)``: the same primal solution, and infeasibility reported the
same way, on a random second-order-cone program and on the descent guidance problem."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from guanghan.gnc.clarabel_program import ClarabelProgram
from guanghan.gnc.convex_descent_guidance import ConvexDescentGuidance

G_MOON = 1.62


def _socp():
    """min cᵀx s.t. ‖A x − y‖ ≤ t, F x ≤ h, x₀ = e, x ≥ lo: matrix, vector and scalar parameters."""
    x, t = cp.Variable(4), cp.Variable()
    p = dict(c=cp.Parameter(4), A=cp.Parameter((3, 4)), y=cp.Parameter(3), h=cp.Parameter(2),
             F=cp.Parameter((2, 4)), e=cp.Parameter(), lo=cp.Parameter(4), w=cp.Parameter(nonneg=True))
    prob = cp.Problem(cp.Minimize(p["c"] @ x + p["w"] * t),
                      [cp.norm(p["A"] @ x - p["y"]) <= t, p["F"] @ x <= p["h"], x[0] == p["e"],
                       x >= p["lo"]])
    return prob, p, dict(x=x, t=t)


def _values(rng):
    return dict(c=rng.normal(size=4), A=rng.normal(size=(3, 4)), y=rng.normal(size=3),
                h=rng.uniform(1.0, 2.0, 2), F=rng.normal(size=(2, 4)), e=rng.uniform(-0.5, 0.5),
                lo=-rng.uniform(1.0, 2.0, 4), w=rng.uniform(1.0, 3.0))


def test_random_socps_match_cvxpy_solve():
    prob, p, var = _socp()
    direct = ClarabelProgram(prob, p, var)
    rng = np.random.default_rng(7)
    solved = 0
    for _ in range(25):
        vals = _values(rng)
        for k, v in vals.items():
            p[k].value = v
        prob.solve(solver=cp.CLARABEL, warm_start=True)
        got = direct.solve(vals)
        assert (got is not None) == (prob.status in ("optimal", "optimal_inaccurate"))
        if got is not None:
            solved += 1
            np.testing.assert_allclose(got["x"], var["x"].value, rtol=0, atol=1e-12)
            assert got["t"] == pytest.approx(float(var["t"].value), abs=1e-12)
            assert direct.status == prob.status
    assert solved >= 20


def test_infeasible_gives_none():
    prob, p, var = _socp()
    vals = _values(np.random.default_rng(1))
    vals["lo"] = np.full(4, 10.0)            # x ≥ 10 against x₀ = e ∈ [−0.5, 0.5]
    for k, v in vals.items():
        p[k].value = v
    prob.solve(solver=cp.CLARABEL)
    assert prob.status == "infeasible"
    direct = ClarabelProgram(prob, p, var)
    assert direct.solve(vals) is None
    assert direct.status == "PrimalInfeasible"


def test_rejects_what_it_does_not_handle():
    x, a = cp.Variable(2), cp.Parameter(2)
    quad = cp.Problem(cp.Minimize(cp.sum_squares(x - a)))
    with pytest.raises(ValueError, match="quadratic"):
        ClarabelProgram(quad, dict(a=a), dict(x=x))
    prob, p, var = _socp()
    with pytest.raises(ValueError, match="every parameter"):
        ClarabelProgram(prob, {k: v for k, v in p.items() if k != "w"}, var)
    direct = ClarabelProgram(prob, p, var)
    vals = _values(np.random.default_rng(2))
    vals["h"] = np.array([1.0, np.nan])
    with pytest.raises(ValueError, match="'h'"):
        direct.solve(vals)


def test_descent_guidance_matches_cvxpy_solve(monkeypatch):
    """The 40-node descent problem (fuel and minimum-landing-error forms): for the parameters a
    ``solve_fixed_time`` call passes, the direct solution has cvxpy's optimal value and meets
    every constraint (the trajectories themselves may differ where the optimum is not unique:
    cvxpy drops the explicit zeros of the data, the direct call keeps its fixed pattern, so the
    factorisations round differently)."""
    g = ConvexDescentGuidance(40, 310.0, 1500.0, 7500.0, 1500.0)
    flat = lambda r, v: np.tile([0.0, 0.0, -G_MOON], (len(r), 1))      # noqa: E731
    limits = dict(max_tilt_deg=60.0, glide_slope_deg=10.0)
    cases = [(False, [-400.0, 200.0, 2000.0], [20.0, -5.0, -40.0], 80.0, limits),
             (False, [0.0, 0.0, 1500.0], [0.0, 0.0, -30.0], 60.0, limits),
             (True, [-400.0, 0.0, 1000.0], [150.0, 0.0, 0.0], 90.0, {})]  # target out of reach
    for min_error, r0, v0, tf, kw in cases:
        prog, used = g._program(min_error), {}
        solve = prog.solve
        monkeypatch.setattr(prog, "solve", lambda values, s=solve, u=used: u.update(values) or s(values))
        plan = g.solve_fixed_time(r0, v0, 3000.0, [0, 0, 50.0], [0, 0, 0], tf, flat,
                                  min_error=min_error, **kw)
        assert plan is not None and plan.kind == ("min_landing_error" if min_error else "fuel_optimal")
        for k, v in used.items():
            g.p[k].value = v
        prob = g.error_problem if min_error else g.fuel_problem
        prob.solve(solver=cp.CLARABEL)
        assert prob.status == "optimal"
        best = prob.value
        for name, var in g.var.items():                  # the direct solution, into cvxpy
            var.value = solve(used)[name]
        assert prob.objective.value == pytest.approx(best, rel=1e-7, abs=1e-9)
        assert max(float(np.max(c.violation())) for c in prob.constraints) < 1e-7


def test_cached_program_is_the_compiled_one(tmp_path, monkeypatch):
    """Kept in the cache folder and read back, the program gives the same solutions bit for bit,
    without building the cvxpy problem; a damaged file is rebuilt."""
    monkeypatch.setenv("GUANGHAN_CACHE_DIR", str(tmp_path))
    built = []

    def build():
        built.append(1)
        return _socp()

    first = ClarabelProgram.cached("socp", [__file__], build)
    second = ClarabelProgram.cached("socp", [__file__], build)
    assert len(built) == 1
    files = list((tmp_path / "clarabel-programs").glob("socp-*.npz"))
    assert len(files) == 1
    rng = np.random.default_rng(11)
    for _ in range(5):
        vals = _values(rng)
        a, b = first.solve(vals), second.solve(vals)
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a["x"], b["x"])
    files[0].write_bytes(files[0].read_bytes()[:200])           # truncated
    third = ClarabelProgram.cached("socp", [__file__], build)
    assert len(built) == 2
    vals = _values(np.random.default_rng(12))
    np.testing.assert_array_equal(third.solve(vals)["x"], ClarabelProgram(*_socp()).solve(vals)["x"])
