"""Persistent HiGHS linear programmes with warm starts (the audit and checks solve thousands).

``scipy.optimize.linprog`` builds a new HiGHS model for every call (about 3 ms of overhead even
for a tiny LP). The audit solves the same constraint matrix with many objectives and bounds, so
here the model is passed to HiGHS once and only the changed costs and bounds are sent before
each re-solve; HiGHS then restarts the simplex from the previous optimal basis (~0.2 ms).

The HiGHS binding used is the one bundled with SciPy (``scipy.optimize._highspy._core``; the
separate ``highspy`` package is not a dependency). That module is private to SciPy, so when it is
missing or lacks what is needed, :class:`LinearProgram` falls back to ``linprog`` with the same
results, only slower. Any status other than optimal or unbounded is re-solved from scratch by
``linprog`` before it is reported, so a warm-start failure can never change an answer.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from .model import FloatArray

try:  # pragma: no cover - depends on the SciPy build
    from scipy.optimize._highspy import _core as _highs

    _REQUIRED = ("_Highs", "HighsLp", "MatrixFormat", "HighsModelStatus", "kHighsInf")
    if not all(hasattr(_highs, name) for name in _REQUIRED):
        _highs = None
except ImportError:  # pragma: no cover
    _highs = None

Status = Literal["optimal", "unbounded"]
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
        model = _highs._Highs()
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
    ) -> tuple[Status, FloatArray | None]:
        """Minimise ``cost . x``; ("unbounded", None) when the objective has no lower limit.

        The problem must be feasible (every caller has a known feasible point).
        """
        lower = self.lower if lower is None else np.asarray(lower, dtype=np.float64)
        upper = self.upper if upper is None else np.asarray(upper, dtype=np.float64)
        if self._model is not None:
            found = self._warm(cost, lower, upper)
            if found is not None:
                return found
        return self._cold(cost, lower, upper)

    def _warm(
        self, cost: FloatArray, lower: FloatArray, upper: FloatArray
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
            return "optimal", np.array(model.getSolution().col_value)
        if status == _highs.HighsModelStatus.kUnbounded:
            return "unbounded", None
        # Anything else (e.g. "unbounded or infeasible", limits): decide with a fresh solve, and
        # drop the basis so that the next warm start does not inherit the trouble.
        model.clearSolver()
        return None

    def _cold(
        self, cost: FloatArray, lower: FloatArray, upper: FloatArray
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
        if result.status != 0:
            raise RuntimeError(f"LP failed: {result.message}")
        return "optimal", np.asarray(result.x)


def _inf(values: FloatArray) -> FloatArray:
    """HiGHS's infinity in place of numpy's (they are the same double, but be explicit)."""
    assert _highs is not None
    return np.clip(values, -_highs.kHighsInf, _highs.kHighsInf)
