"""A parametrized (DPP) cvxpy problem solved by calling Clarabel directly on its canonical data.

cvxpy stays the modelling layer: the problem is written, checked (DCP/DPP) and canonicalised by
cvxpy once, and its parameter-to-data map is taken from cvxpy's own compiled program (the
``ParamConeProg`` that ``Problem.get_problem_data`` builds, Agrawal et al. 2019). What
:meth:`ClarabelProgram.solve` skips is cvxpy's per-solve work around the solver — validating each
parameter value, re-applying the map through generic code, building the solver data, inverting
the reduction chain: ~1.3 ms a solve of the 40-node descent problem, ~20 % of it (the reason for
calling Clarabel directly). The solver sees the same data as through ``Problem.solve(solver=
cp.CLARABEL, warm_start=True)`` — the first solve builds a ``clarabel.DefaultSolver``, later ones
``update`` its q, A, b in place — so, solve for solve, the primal solution is the same to the
last bit (tests/test_clarabel_program.py checks it against ``Problem.solve``; a fresh solver and
an updated one agree to the solver's tolerance).

Limits: problems with a linear objective only (no quadratic term), no variable bounds set through
``cp.Variable(bounds=...)``, parameters without dimension-reducing attributes (symmetric, diag,
sparsity); each is checked at construction.

References
    Agrawal, A., Amos, B., Barratt, S., Boyd, S., Diamond, S. & Kolter, J. Z. (2019),
    "Differentiable convex optimization layers", NeurIPS (DPP: the affine parameter-to-data map).
    Goulart, P. J. & Chen, Y. (2024), "Clarabel: an interior-point solver for conic programs with
    quadratic objectives", arXiv:2405.12762 (A x + s = b, s ∈ K; the data-update interface).
"""

from __future__ import annotations

import math

import clarabel
import cvxpy as cp
import numpy as np
import scipy.sparse as sp
from cvxpy.reductions.solvers.conic_solvers.clarabel_conif import dims_to_solver_cones

#: Clarabel's statuses with a usable primal solution (as cvxpy maps them: optimal and
#: optimal_inaccurate)
_SOLVED = {"Solved": "optimal", "AlmostSolved": "optimal_inaccurate"}


class ClarabelProgram:
    """``problem`` (DPP) compiled once; :meth:`solve` takes parameter values by the names of
    ``params`` and returns the values of ``variables`` (same names), or None when Clarabel finds
    no solution (infeasible, numerical failure, iteration limit)."""

    def __init__(self, problem: cp.Problem, params: dict[str, cp.Parameter],
                 variables: dict[str, cp.Variable]):
        if not problem.is_dcp(dpp=True):
            raise ValueError("problem is not DPP: its parameter-to-data map is not affine")
        data, _, _ = problem.get_problem_data(cp.CLARABEL)
        prog = data[cp.settings.PARAM_PROB]
        if getattr(prog, "P", None) is not None and prog.P.count_nonzero() > 0:
            raise ValueError("quadratic objective: not supported by ClarabelProgram")
        if getattr(prog, "lb_tensor", None) is not None or getattr(prog, "ub_tensor", None) is not None:
            raise ValueError("variable bounds: not supported by ClarabelProgram")
        missing = [k for k, p in params.items() if p.id not in prog.param_id_to_col]
        if missing or len(params) != len(prog.param_id_to_col) - 1:
            raise ValueError(f"params must name every parameter of the problem (missing "
                             f"{missing or 'some'})")
        self.status: str | None = None
        self.iterations = 0
        self._cols = [(k, prog.param_id_to_col[p.id], prog.param_id_to_size[p.id])
                      for k, p in params.items()]
        self._one = prog.param_id_to_col[cp.lin_ops.lin_op.CONSTANT_ID]
        self._n_param = prog.total_param_size + 1
        prog.reduced_A.cache()
        indices, indptr, (m, ncol) = prog.reduced_A.problem_data_index
        n = prog.x.size
        if ncol != n + 1:
            raise ValueError(f"unexpected data layout: {ncol} columns for {n} variables")
        # values = map @ param_vec fill a CSC matrix [A_cvx | b] of fixed pattern (indices,
        # indptr); cvxpy's cone form is A_cvx x + b ∈ K, Clarabel's A x + s = b, s ∈ K: A = −A_cvx
        self._map = sp.csr_array(prog.reduced_A.reduced_mat)
        self._nnz_a = int(indptr[n])
        self._a_idx, self._a_ptr = np.asarray(indices[:self._nnz_a]), np.asarray(indptr[:n + 1])
        self._b_rows = np.asarray(indices[self._nnz_a:])
        self._q = sp.csr_array(prog.q)                      # (n + 1) × params: [q; offset]
        self._m, self._n = int(m), n
        self._cones = dims_to_solver_cones(data["dims"])
        self._vars = {k: (prog.var_id_to_col[v.id], v.shape) for k, v in variables.items()}
        self._settings = clarabel.DefaultSettings()
        self._settings.verbose = False
        self._solver = None

    def solve(self, values: dict[str, np.ndarray | float]) -> dict[str, np.ndarray] | None:
        """Solve with the parameters set to ``values`` (every name of ``params``)."""
        pv = np.zeros(self._n_param)
        pv[self._one] = 1.0
        for name, col, size in self._cols:
            pv[col:col + size] = np.ravel(values[name], order="F")   # cvxpy: column-major
        if not np.all(np.isfinite(pv)):
            bad = [k for k, c, s in self._cols if not np.all(np.isfinite(pv[c:c + s]))]
            raise ValueError(f"parameters {bad}: values must be finite")
        vals = self._map @ pv
        a = sp.csc_array((-vals[:self._nnz_a], self._a_idx, self._a_ptr), shape=(self._m, self._n))
        b = np.zeros(self._m)
        b[self._b_rows] = vals[self._nnz_a:]
        q = (self._q @ pv)[:-1]
        if self._solver is None:
            self._solver = clarabel.DefaultSolver(sp.csc_array((self._n, self._n)), q, a, b,
                                                  self._cones, self._settings)
        else:                                               # same pattern: data replaced in place
            self._solver.update(q=q, A=a, b=b)
        sol = self._solver.solve()
        self.status = _SOLVED.get(str(sol.status), str(sol.status))
        self.iterations = int(sol.iterations)
        if str(sol.status) not in _SOLVED:
            return None
        x = np.asarray(sol.x)
        return {k: x[c:c + math.prod(shape)].reshape(shape, order="F")
                for k, (c, shape) in self._vars.items()}
