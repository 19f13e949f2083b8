"""The fast paths (warm-started HiGHS models, per-block solving) never change an answer.

* The persistent LP gives the same optima and unboundedness as a fresh ``linprog`` call, through
  any sequence of objective and bound changes.
* The audit reports the same intervals and findings with the warm-started models and with the
  plain ``linprog`` fallback.
* On random linked tables (two tables sharing their margins, solved block by block), every
  primary cell is protected according to one LP over the whole system written here.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog

from reporting.disclosure import Cell, Relation, Rules, audit, protect, solver
from reporting.disclosure.solver import LinearProgram

from .examples import F_HIDDEN, example_a_magnitude, example_f


def _fresh(a_eq, b_eq, cost, lower, upper) -> tuple[str, np.ndarray | None]:
    result = linprog(
        cost, A_eq=a_eq, b_eq=b_eq, bounds=np.column_stack([lower, upper]), method="highs"
    )
    if result.status == 3:
        return "unbounded", None
    assert result.status == 0, result.message
    return "optimal", result.x


def test_warm_lp_matches_fresh_linprog_through_changes() -> None:
    rng = np.random.default_rng(7)
    # Random table-like system: columns are cells, rows are total = sum(parts) relations.
    n, m = 30, 12
    a_eq = np.zeros((m, n))
    for r in range(m):
        members = rng.choice(n, size=4, replace=False)
        a_eq[r, members[0]] = 1.0
        a_eq[r, members[1:]] = -1.0
    x0 = rng.uniform(0, 50, n)
    b_eq = a_eq @ x0
    lower, upper = np.zeros(n), np.full(n, np.inf)
    model = LinearProgram(sparse.csr_array(a_eq), b_eq, lower, upper)
    for _ in range(60):
        cost = np.zeros(n)
        cost[rng.choice(n, size=rng.integers(1, 4), replace=False)] = rng.choice([-1.0, 1.0])
        low = np.where(rng.random(n) < 0.2, np.minimum(x0, rng.uniform(0, 20, n)), 0.0)
        high = np.where(rng.random(n) < 0.3, x0 + rng.uniform(0, 20, n), np.inf)
        status, x = model.solve(cost, low, high)
        expected, reference = _fresh(a_eq, b_eq, cost, low, high)
        assert status == expected
        if status == "optimal":
            assert x is not None and reference is not None
            assert cost @ x == pytest.approx(cost @ reference, rel=1e-7, abs=1e-7)
            assert np.allclose(a_eq @ x, b_eq, atol=1e-6)
            assert np.all(x >= low - 1e-7) and np.all(x <= high + 1e-7)


def _audits_agree(cells, relations, hidden, monkeypatch) -> None:
    warm = audit(cells, relations, hidden)
    monkeypatch.setattr(solver, "_highs", None)
    cold = audit(cells, relations, hidden)
    assert warm.intervals.keys() == cold.intervals.keys()
    for key, (low, high) in warm.intervals.items():
        assert low == pytest.approx(cold.intervals[key][0], rel=1e-6, abs=1e-6)
        if high is None:
            assert cold.intervals[key][1] is None
        else:
            assert high == pytest.approx(cold.intervals[key][1], rel=1e-6, abs=1e-6)
    assert warm == cold


def test_audit_is_the_same_without_the_warm_started_models_example_f(monkeypatch) -> None:
    _audits_agree(*example_f([("E06000001", 3)]), F_HIDDEN, monkeypatch)


def test_audit_is_the_same_without_the_warm_started_models_example_a(monkeypatch) -> None:
    cells, relations = example_a_magnitude()
    hidden = ["A|female", "A|male", "C|male", "C|female", "D|male", "D|female"]
    _audits_agree(cells, relations, hidden, monkeypatch)


def _linked_tables(
    rows: int, cols: int, inner: dict[tuple[int, int, int], list[int]]
) -> tuple[list[Cell], list[Relation]]:
    """Two rows x cols tables (layers 0 and 1) and their sum (layer T), each with margins."""
    layers = ("0", "1")
    value: dict[tuple[str, str, str], float] = {}
    cells = []
    for layer, r, c in itertools.product(layers, range(rows), range(cols)):
        contributions = inner[int(layer), r, c]
        value[layer, str(r), str(c)] = sum(contributions)
        cells.append(Cell(f"{layer}|{r}|{c}", contributions=contributions))
    for r, c in itertools.product(range(rows), range(cols)):
        value["T", str(r), str(c)] = sum(value[la, str(r), str(c)] for la in layers)
    axes_r = [*map(str, range(rows)), "T"]
    axes_c = [*map(str, range(cols)), "T"]
    relations = []
    for layer in (*layers, "T"):
        for r in map(str, range(rows)):
            value[layer, r, "T"] = sum(value[layer, r, str(c)] for c in range(cols))
        for c in axes_c:
            value[layer, "T", c] = sum(value[layer, str(r), c] for r in range(rows))
        for r in axes_r:
            parts = tuple(f"{layer}|{r}|{c}" for c in range(cols))
            relations.append(Relation(f"{layer}|{r}|T", parts))
        for c in axes_c:
            parts = tuple(f"{layer}|{r}|{c}" for r in range(rows))
            relations.append(Relation(f"{layer}|T|{c}", parts))
    for r, c in itertools.product(axes_r, axes_c):
        parts = tuple(f"{la}|{r}|{c}" for la in layers)
        relations.append(Relation(f"T|{r}|{c}", parts))
        cells.append(Cell(f"T|{r}|{c}", value=value["T", r, c]))
    for layer, r, c in itertools.product(layers, axes_r, axes_c):
        if "T" in (r, c):
            cells.append(Cell(f"{layer}|{r}|{c}", value=value[layer, r, c]))
    return cells, relations


def _whole_system_bound(cells, relations, hidden: set[str], target: str, sign: float) -> float:
    """min (sign 1) or max (sign -1) of a hidden cell over the whole system at once (dense)."""
    ids = sorted(hidden)
    position = {c: i for i, c in enumerate(ids)}
    values = {c.id: c.value if c.value is not None else sum(c.contributions) for c in cells}
    rows, rhs = [], []
    for relation in relations:
        row = np.zeros(len(ids))
        constant = 0.0
        for cell, coef in [(relation.total, 1.0), *[(p, -1.0) for p in relation.parts]]:
            if cell in position:
                row[position[cell]] += coef
            else:
                constant -= coef * values[cell]
        rows.append(row)
        rhs.append(constant)
    objective = np.zeros(len(ids))
    objective[position[target]] = sign
    result = linprog(objective, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=(0, None))
    if result.status == 3:
        return -sign * np.inf
    assert result.status == 0
    return sign * result.fun


def _contributions() -> st.SearchStrategy[list[int]]:
    small = st.integers(min_value=1, max_value=30)
    dominant = st.integers(min_value=100, max_value=600)
    return st.one_of(
        st.lists(small, min_size=0, max_size=5),
        st.builds(lambda d, rest: [d, *rest], dominant, st.lists(small, min_size=0, max_size=3)),
    )


@st.composite
def linked_tables(draw: st.DrawFn) -> tuple[list[Cell], list[Relation]]:
    rows = draw(st.integers(min_value=2, max_value=3))
    cols = draw(st.integers(min_value=2, max_value=3))
    keys = itertools.product(range(2), range(rows), range(cols))
    return _linked_tables(rows, cols, {key: draw(_contributions()) for key in keys})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables())
def test_linked_tables_are_protected_jointly(table) -> None:
    cells, relations = table
    result = protect(cells, relations, rules=Rules(min_contributors=3, p=10.0))
    assert result.audit.passed, result.audit
    hidden = {c.id for c in result.cells if c.status in ("primary", "secondary")}
    by_id = {c.id: c for c in cells}
    for outcome in result.cells:
        if outcome.status != "primary":
            continue
        contributions = sorted(by_id[outcome.id].contributions or [], reverse=True)
        value = sum(contributions)
        low = _whole_system_bound(cells, relations, hidden, outcome.id, 1.0)
        high = _whole_system_bound(cells, relations, hidden, outcome.id, -1.0)
        assert high - low > 1e-6, outcome.id
        if len(contributions) >= 1:
            x1 = contributions[0]
            x2 = contributions[1] if len(contributions) > 1 else 0
            distance = 0.1 * x1 - (value - x1 - x2)
            if distance > 0:
                assert high >= value + distance - 1e-6, outcome.id
                assert low <= value - distance + 1e-6, outcome.id
