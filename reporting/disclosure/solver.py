"""Persistent HiGHS linear programmes with warm starts (the audit and checks solve thousands).

``scipy.optimize.linprog`` builds a new HiGHS model for every call (about 3 ms of overhead even
for a tiny LP). The audit solves the same constraint matrix with many objectives and bounds, so
here the model is passed to HiGHS once and only the changed costs and bounds are sent before
each re-solve; HiGHS then restarts the simplex from the previous optimal basis (~0.2 ms).

The HiGHS binding is the ``highspy`` package (HiGHS's public Python API, a pinned dependency).
Should it be missing, :class:`LinearProgram` falls back to ``linprog`` with the same results, only
slower, and :func:`solve_mip` to ``scipy.optimize.milp``. Any status other than optimal or
unbounded is re-solved from scratch by ``linprog`` before it is reported, so a warm-start failure
can never change an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from .model import BoolArray, FloatArray

try:  # pragma: no cover - depends on the installation
    import highspy as _highs
except ImportError:  # pragma: no cover
    _highs = None

Status = Literal["optimal", "unbounded", "infeasible"]
# HiGHS ``simplex_strategy`` values.
DUAL_SIMPLEX = 1
PRIMAL_SIMPLEX = 4


class LinearProgram:
    """``min c.x  s.t.  A x = b,  lower <= x <= upper`` with c and the bounds changeable."""

    def __init__(self, a_eq: Any, b_eq: FloatArray, lower: FloatArray, upper: FloatArray) -> None:
        self.a_eq = sparse.csc_array(a_eq)
        self.b_eq = np.asarray(b_eq, dtype=np.float64)
        self.n = self.a_eq.shape[1]
        self.cost = np.zeros(self.n)
        self.lower = np.asarray(lower, dtype=np.float64).copy()
        self.upper = np.asarray(upper, dtype=np.float64).copy()
        self._strategy = -1
        self._model = self._build() if _highs is not None else None

    def _build(self) -> Any:
        assert _highs is not None
        m = self.a_eq.shape[0]
        lp = _highs.HighsLp()
        lp.num_col_ = self.n
        lp.num_row_ = m
        lp.a_matrix_.num_col_ = self.n
        lp.a_matrix_.num_row_ = m
        lp.a_matrix_.format_ = _highs.MatrixFormat.kColwise
        lp.a_matrix_.start_ = self.a_eq.indptr.astype(np.int32)
        lp.a_matrix_.index_ = self.a_eq.indices.astype(np.int32)
        lp.a_matrix_.value_ = self.a_eq.data.astype(np.float64)
        lp.col_cost_ = self.cost
        lp.col_lower_ = _inf(self.lower)
        lp.col_upper_ = _inf(self.upper)
        lp.row_lower_ = self.b_eq
        lp.row_upper_ = self.b_eq
        model = _highs.Highs()
        model.setOptionValue("output_flag", False)
        # Re-solves start from the previous basis; presolve would only discard it.
        model.setOptionValue("presolve", "off")
        if model.passModel(lp) == _highs.HighsStatus.kError:
            return None
        return model

    def solve(
        self,
        cost: FloatArray,
        lower: FloatArray | None = None,
        upper: FloatArray | None = None,
        *,
        may_be_infeasible: bool = False,
    ) -> tuple[Status, FloatArray | None]:
        """Minimise ``cost . x``; ("unbounded", None) when the objective has no lower limit.

        The problem must be feasible (every caller of the audit has a known feasible point)
        unless ``may_be_infeasible``: then ("infeasible", None) reports a proven infeasibility.
        """
        lower = self.lower if lower is None else np.asarray(lower, dtype=np.float64)
        upper = self.upper if upper is None else np.asarray(upper, dtype=np.float64)
        if self._model is not None:
            found = self._warm(cost, lower, upper, may_be_infeasible)
            if found is not None:
                return found
        return self._cold(cost, lower, upper, may_be_infeasible)

    def _warm(
        self, cost: FloatArray, lower: FloatArray, upper: FloatArray, may_be_infeasible: bool
    ) -> tuple[Status, FloatArray | None] | None:
        assert _highs is not None
        model = self._model
        changed = np.flatnonzero(cost != self.cost)
        if len(changed):
            model.changeColsCost(len(changed), changed.astype(np.int32), cost[changed])
            self.cost = cost.copy()
        changed = np.flatnonzero((lower != self.lower) | (upper != self.upper))
        # After a change of objective only, the old basis stays primal feasible: the primal
        # simplex continues from it in a few pivots, where the dual simplex would start over.
        # After bound changes the basis stays dual feasible instead: use the dual simplex.
        strategy = DUAL_SIMPLEX if len(changed) else PRIMAL_SIMPLEX
        if strategy != self._strategy:
            model.setOptionValue("simplex_strategy", strategy)
            self._strategy = strategy
        if len(changed):
            model.changeColsBounds(
                len(changed),
                changed.astype(np.int32),
                _inf(lower[changed]),
                _inf(upper[changed]),
            )
            self.lower, self.upper = lower.copy(), upper.copy()
        if model.run() == _highs.HighsStatus.kError:
            return None
        status = model.getModelStatus()
        if status == _highs.HighsModelStatus.kOptimal:
            # fromiter: the same values as np.array of the list, without its type discovery.
            values = model.getSolution().col_value
            return "optimal", np.fromiter(values, np.float64, len(values))
        if status == _highs.HighsModelStatus.kUnbounded:
            return "unbounded", None
        if status == _highs.HighsModelStatus.kInfeasible and may_be_infeasible:
            return "infeasible", None
        # Anything else (e.g. "unbounded or infeasible", limits): decide with a fresh solve, and
        # drop the basis so that the next warm start does not inherit the trouble.
        model.clearSolver()
        return None

    def _cold(
        self, cost: FloatArray, lower: FloatArray, upper: FloatArray, may_be_infeasible: bool
    ) -> tuple[Status, FloatArray | None]:
        result = linprog(
            cost,
            A_eq=self.a_eq if self.a_eq.shape[0] else None,
            b_eq=self.b_eq if self.a_eq.shape[0] else None,
            bounds=np.column_stack([lower, upper]),
            method="highs",
        )
        if result.status == 3:
            return "unbounded", None
        if result.status == 2 and may_be_infeasible:
            return "infeasible", None
        if result.status != 0:
            raise RuntimeError(f"LP failed: {result.message}")
        return "optimal", np.asarray(result.x)


@dataclass(frozen=True)
class MipResult:
    """Outcome of :func:`solve_mip`: the best solution found (the incumbent), if any."""

    x: FloatArray | None
    infeasible: bool = False


def solve_mip(
    cost: FloatArray,
    matrix: Any,
    row_lower: FloatArray,
    row_upper: FloatArray,
    col_lower: FloatArray,
    col_upper: FloatArray,
    integer: BoolArray,
    *,
    time_limit: float,
    gap: float,
    cutoff: float | None = None,
) -> MipResult:
    """``min cost.x  s.t.  row_lower <= matrix x <= row_upper``, bounds, integrality.

    Returns the incumbent when the time limit stops the search (any feasible point is accepted by
    the callers); ``x`` is None when there is none, with ``infeasible`` set when HiGHS proved it.
    """
    if _highs is None:
        return _scipy_mip(
            cost,
            matrix,
            row_lower,
            row_upper,
            col_lower,
            col_upper,
            integer,
            time_limit=time_limit,
            gap=gap,
        )
    a = sparse.csc_array(matrix)
    m, n = a.shape
    lp = _highs.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = m
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = m
    lp.a_matrix_.format_ = _highs.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = _inf(np.asarray(col_lower, dtype=np.float64))
    lp.col_upper_ = _inf(np.asarray(col_upper, dtype=np.float64))
    lp.row_lower_ = _inf(np.asarray(row_lower, dtype=np.float64))
    lp.row_upper_ = _inf(np.asarray(row_upper, dtype=np.float64))
    if np.any(integer):
        lp.integrality_ = [
            _highs.HighsVarType.kInteger if flag else _highs.HighsVarType.kContinuous
            for flag in integer
        ]
    model = _highs.Highs()
    model.setOptionValue("output_flag", False)
    model.setOptionValue("time_limit", float(max(time_limit, 1e-3)))
    model.setOptionValue("mip_rel_gap", float(gap))
    if cutoff is not None:
        # Only solutions cheaper than this are of use: HiGHS prunes everything else.
        model.setOptionValue("objective_bound", float(cutoff))
    if model.passModel(lp) == _highs.HighsStatus.kError:
        return _scipy_mip(
            cost,
            matrix,
            row_lower,
            row_upper,
            col_lower,
            col_upper,
            integer,
            time_limit=time_limit,
            gap=gap,
        )
    model.run()
    status = model.getModelStatus()
    if status == _highs.HighsModelStatus.kInfeasible:
        return MipResult(None, infeasible=True)
    if model.getInfo().primal_solution_status != _highs.SolutionStatus.kSolutionStatusFeasible:
        return MipResult(None)
    return MipResult(np.array(model.getSolution().col_value))


def _scipy_mip(
    cost: FloatArray,
    matrix: Any,
    row_lower: FloatArray,
    row_upper: FloatArray,
    col_lower: FloatArray,
    col_upper: FloatArray,
    integer: BoolArray,
    *,
    time_limit: float,
    gap: float,
) -> MipResult:
    result = milp(
        cost,
        constraints=[LinearConstraint(matrix, row_lower, row_upper)],
        integrality=np.asarray(integer, dtype=np.int64),
        bounds=Bounds(col_lower, col_upper),
        options={"time_limit": max(time_limit, 1e-3), "mip_rel_gap": gap},
    )
    if result.x is None:
        return MipResult(None, infeasible=result.status == 2)
    return MipResult(np.asarray(result.x))


def _inf(values: FloatArray) -> FloatArray:
    """HiGHS's infinity in place of numpy's (they are the same double, but be explicit)."""
    assert _highs is not None
    return np.clip(values, -_highs.kHighsInf, _highs.kHighsInf)


def null_basis(matrix: FloatArray, tol: float = 1e-9) -> FloatArray:
    """A basis (columns, not orthonormal) of ``{y : matrix @ y = 0}`` by Gauss-Jordan elimination.

    Written with element-wise numpy operations on purpose: LAPACK's SVD of a few hundred
    columns hands the work to a multi-threaded BLAS, which is many times slower than this on a
    busy machine. The relation matrices hold 0 and +-1, so partial pivoting is stable here.
    """
    a = np.array(matrix, dtype=np.float64)
    m, n = a.shape
    pivots: list[int] = []
    row = 0
    for col in range(n):
        if row == m:
            break
        k = row + int(np.argmax(np.abs(a[row:, col])))
        if abs(a[k, col]) <= tol:
            continue
        if k != row:
            a[[row, k]] = a[[k, row]]
        a[row] /= a[row, col]
        factors = a[:, col].copy()
        factors[row] = 0.0
        hit = np.flatnonzero(np.abs(factors) > tol)
        if len(hit):
            # Only the pivot row's non-zero columns change (x - f * 0 is x): the same result
            # as updating whole rows, at a fraction of the work on these sparse matrices.
            nonzero = np.flatnonzero(a[row])
            a[np.ix_(hit, nonzero)] -= np.multiply.outer(factors[hit], a[row, nonzero])
        a[:, col][np.abs(a[:, col]) <= tol] = 0.0
        a[row, col] = 1.0
        pivots.append(col)
        row += 1
    free = np.setdiff1d(np.arange(n), pivots)
    basis = np.zeros((n, len(free)))
    basis[free, np.arange(len(free))] = 1.0
    if pivots:
        basis[pivots] = -a[: len(pivots)][:, free]
    return basis
