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

The compiled data can be kept in the cache folder (:meth:`ClarabelProgram.cached`, keyed by the
sources that write the problem and the cvxpy and Clarabel versions): a process that finds it
neither builds the problem nor imports cvxpy (~0.15 s of import and ~0.04 s of compiling per
problem, on the 2-core benchmark machine).

Limits: problems with a linear objective only (no quadratic term), no variable bounds set through
``cp.Variable(bounds=...)``, parameters without dimension-reducing attributes (symmetric, diag,
sparsity), cones: zero, non-negative and second-order only; each is checked at construction.

References
    Agrawal, A., Amos, B., Barratt, S., Boyd, S., Diamond, S. & Kolter, J. Z. (2019),
    "Differentiable convex optimization layers", NeurIPS (DPP: the affine parameter-to-data map).
    Goulart, P. J. & Chen, Y. (2024), "Clarabel: an interior-point solver for conic programs with
    quadratic objectives", arXiv:2405.12762 (A x + s = b, s ∈ K; the data-update interface).
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Callable

import clarabel
import numpy as np
import scipy.sparse as sp

from guanghan.environment.cache_files import cache_dir, prune, writable

#: Clarabel's statuses with a usable primal solution (as cvxpy maps them: optimal and
#: optimal_inaccurate)
_SOLVED = {"Solved": "optimal", "AlmostSolved": "optimal_inaccurate"}
#: cvxpy's parameter id of the constant column of the parameter vector
#: (``cvxpy.lin_ops.lin_op.CONSTANT_ID``; a literal so the cache path needs no cvxpy)
CONSTANT_ID = -1


class ClarabelProgram:
    """``problem`` (DPP) compiled once; :meth:`solve` takes parameter values by the names of
    ``params`` and returns the values of ``variables`` (same names), or None when Clarabel finds
    no solution (infeasible, numerical failure, iteration limit)."""

    def __init__(self, problem, params: dict, variables: dict):
        import cvxpy as cp                                  # only to compile (see ``cached``)
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
        dims = data["dims"]
        if dims.psd or dims.exp or dims.p3d or dims.pnd:
            raise ValueError("cones other than zero, non-negative and second-order: not supported")
        prog.reduced_A.cache()
        indices, indptr, (m, ncol) = prog.reduced_A.problem_data_index
        n = prog.x.size
        if ncol != n + 1:
            raise ValueError(f"unexpected data layout: {ncol} columns for {n} variables")
        amap, qmap = sp.csr_array(prog.reduced_A.reduced_mat), sp.csr_array(prog.q)
        n_param = prog.total_param_size + 1
        if amap.shape != (len(indices), n_param) or qmap.shape != (n + 1, n_param) or \
                cp.lin_ops.lin_op.CONSTANT_ID != CONSTANT_ID:
            raise ValueError("unexpected layout of cvxpy's compiled program")
        self._setup(dict(
            map_data=amap.data, map_indices=amap.indices, map_indptr=amap.indptr,
            q_data=qmap.data, q_indices=qmap.indices, q_indptr=qmap.indptr,
            sizes=np.array([m, n, n_param, indptr[n],
                            prog.param_id_to_col[CONSTANT_ID], dims.zero, dims.nonneg]),
            a_indices=indices, a_indptr=indptr, soc=np.array(dims.soc, dtype=np.int64),
            param_names=np.array(list(params)),
            param_cols=np.array([[prog.param_id_to_col[p.id], prog.param_id_to_size[p.id]]
                                 for p in params.values()]).reshape(-1, 2),
            var_names=np.array(list(variables)),
            var_cols=np.array([[prog.var_id_to_col[v.id], *(tuple(v.shape) + (0, 0))[:2],
                                len(v.shape)] for v in variables.values()]).reshape(-1, 4)))

    def _setup(self, arrays: dict[str, np.ndarray]) -> None:
        """Solver-ready state from the compiled arrays (:meth:`__init__` or the cache)."""
        self._arrays = arrays
        m, n, n_param, nnz_a, one, zero, nonneg = (int(x) for x in arrays["sizes"])
        self.status: str | None = None
        self.iterations = 0
        self._cols = [(str(k), int(c), int(z)) for k, (c, z) in
                      zip(arrays["param_names"], arrays["param_cols"], strict=True)]
        self._one, self._n_param = one, n_param
        # values = map @ param_vec fill a CSC matrix [A_cvx | b] of fixed pattern (indices,
        # indptr); cvxpy's cone form is A_cvx x + b ∈ K, Clarabel's A x + s = b, s ∈ K: A = −A_cvx
        self._map = sp.csr_array((arrays["map_data"], arrays["map_indices"], arrays["map_indptr"]),
                                 shape=(len(arrays["a_indices"]), n_param))
        self._nnz_a = nnz_a
        self._a_idx, self._a_ptr = arrays["a_indices"][:nnz_a], arrays["a_indptr"][:n + 1]
        self._b_rows = arrays["a_indices"][nnz_a:]
        self._q = sp.csr_array((arrays["q_data"], arrays["q_indices"], arrays["q_indptr"]),
                               shape=(n + 1, n_param))      # [q; offset]
        self._m, self._n = m, n
        self._cones = ([clarabel.ZeroConeT(zero)] if zero else []) + \
            ([clarabel.NonnegativeConeT(nonneg)] if nonneg else []) + \
            [clarabel.SecondOrderConeT(int(d)) for d in arrays["soc"]]
        self._vars = {str(k): (int(c), tuple(int(d) for d in (d0, d1)[:nd])) for k, (c, d0, d1, nd)
                      in zip(arrays["var_names"], arrays["var_cols"], strict=True)}
        self._settings = clarabel.DefaultSettings()
        self._settings.verbose = False
        self._solver = None

    @classmethod
    def cached(cls, name: str, sources: list[str], build: Callable[[], tuple]) -> ClarabelProgram:
        """The program ``build()`` → (problem, params, variables) compiles, kept in the cache
        folder as ``clarabel-programs/<name>-<key>.npz``; the key hashes the files ``sources``
        (those that write the problem, and this one) and the cvxpy and Clarabel versions. An
        unreadable or damaged file is rebuilt; an unwritable folder only costs the compile."""
        digest = hashlib.sha256(f"cvxpy {version('cvxpy')} clarabel {version('clarabel')}".encode())
        for src in sorted({*sources, __file__}):
            digest.update(Path(src).read_bytes())
        path = cache_dir() / "clarabel-programs" / f"{name}-{digest.hexdigest()[:16]}.npz"
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            prog = cls.__new__(cls)
            prog._setup(arrays)
            return prog
        except (OSError, EOFError, KeyError, IndexError, ValueError, TypeError,
                zipfile.BadZipFile):
            pass                                            # missing or damaged: compile
        prog = cls(*build())
        try:
            folder = writable(path.parent)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=path.name, suffix=".tmp")
        except OSError:
            return prog
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **prog._arrays)
            os.replace(tmp, folder / path.name)             # atomic: no half file under the name
            prune(folder, f"{name}-", ".npz", path.stem)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
        return prog

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
