"""Property-based tests on random linked tables with margins (2-D and 3-D).

After protect(): every hidden cell has a non-degenerate interval, every primary cell meets its
protection level (recomputed here from the contributions, not taken from the library), no
relation has exactly one hidden cell, the reported intervals agree with an LP written here,
and the audit passes.
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from reporting.disclosure import Cell, Relation, Rules, protect

TOTAL = "T"
P = 10.0


def _contributions() -> st.SearchStrategy[list[int]]:
    small = st.integers(min_value=1, max_value=30)
    dominant = st.integers(min_value=100, max_value=600)
    return st.one_of(
        st.lists(small, min_size=0, max_size=6),
        st.builds(lambda d, rest: [d, *rest], dominant, st.lists(small, min_size=0, max_size=4)),
    )


def _table(
    sizes: tuple[int, ...], inner: dict[tuple, list[int]]
) -> tuple[list[Cell], list[Relation]]:
    """A table with a total along every dimension; margins are given by value only."""
    axes = [[*map(str, range(n)), TOTAL] for n in sizes]
    value: dict[tuple, int] = {}
    for key in itertools.product(*axes):
        value[key] = sum(
            sum(inner[k])
            for k in itertools.product(
                *[range(n) if a == TOTAL else [int(a)] for a, n in zip(key, sizes, strict=True)]
            )
        )
    cells = []
    for key in itertools.product(*axes):
        name = "|".join(key)
        if TOTAL in key:
            cells.append(Cell(name, value=value[key]))
        else:
            cells.append(Cell(name, contributions=inner[tuple(int(a) for a in key)]))
    relations = []
    for key in itertools.product(*axes):
        for d, a in enumerate(key):
            if a == TOTAL:
                parts = tuple("|".join((*key[:d], str(i), *key[d + 1 :])) for i in range(sizes[d]))
                relations.append(Relation("|".join(key), parts))
    return cells, relations


@st.composite
def tables(draw: st.DrawFn, dims: int) -> tuple[list[Cell], list[Relation]]:
    sizes = tuple(
        draw(st.integers(min_value=2, max_value=3 if dims == 3 else 4)) for _ in range(dims)
    )
    if dims == 3:
        sizes = (*sizes[:2], 2)
    inner = {key: draw(_contributions()) for key in itertools.product(*map(range, sizes))}
    return _table(sizes, inner)


def _required(cell: Cell) -> tuple[float, float] | None:
    """Protection interval of a cell under n = 3 and p = 10, recomputed from its contributions."""
    values = sorted((v for v in cell.contributions or [] if v > 0), reverse=True)
    if cell.contributions is None or not values:
        return None
    total = sum(values)
    x1, x2 = values[0], values[1] if len(values) > 1 else 0
    distance = P / 100 * x1 - (total - x1 - x2)
    if distance > 0:
        return total - distance, total + distance
    if len(values) < 3:
        return total, total
    return None


def _value(cell: Cell) -> float:
    if cell.value is not None:
        return float(cell.value)
    if cell.contributions is not None:
        return float(sum(cell.contributions))
    return float(len(cell.contributors))


def _interval_lp(
    cells: list[Cell],
    relations: list[Relation],
    hidden: set[str],
    target: str,
    sign: float,
    *,
    bounded: bool = False,
) -> float:
    """min (sign 1) or max (sign -1) of a hidden cell; ``bounded``: within each cell's upper."""
    ids = sorted(hidden)
    position = {c: i for i, c in enumerate(ids)}
    values = {c.id: _value(c) for c in cells}
    uppers = {c.id: c.upper if bounded else None for c in cells}
    rows, rhs = [], []
    for relation in relations:
        row = np.zeros(len(ids))
        constant = 0.0
        for cell, coef in [(relation.total, 1.0), *[(p, -1.0) for p in relation.parts]]:
            if cell in position:
                row[position[cell]] += coef
            else:
                constant -= coef * values[cell]
        if row.any():
            rows.append(row)
            rhs.append(constant)
    objective = np.zeros(len(ids))
    objective[position[target]] = sign
    bounds = [(0, uppers[c]) for c in ids]
    result = linprog(objective, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=bounds)
    if result.status == 3:
        return -sign * np.inf
    assert result.status == 0
    return sign * result.fun


def _check_protected(cells: list[Cell], relations: list[Relation]) -> None:
    result = protect(cells, relations, rules=Rules(min_contributors=3, p=P))
    assert result.audit.passed, result.audit
    by_id = {c.id: c for c in cells}
    hidden = {c.id for c in result.cells if c.status in ("primary", "secondary")}
    for outcome in result.cells:
        required = _required(by_id[outcome.id])
        if required is not None:
            assert outcome.status == "primary", outcome.id
        if outcome.id not in hidden:
            continue
        low, high = outcome.interval
        assert high is None or high - low > 1e-6, outcome
        assert low == _approx(_interval_lp(cells, relations, hidden, outcome.id, 1.0))
        if high is not None:
            assert high == _approx(_interval_lp(cells, relations, hidden, outcome.id, -1.0))
        if required is not None:
            assert low <= required[0] + 1e-6 and (high is None or high >= required[1] - 1e-6)
    for relation in relations:
        members = [relation.total, *relation.parts]
        assert sum(m in hidden for m in members) != 1, relation


def _approx(value: float) -> object:
    import pytest

    return pytest.approx(value, rel=1e-6, abs=1e-6)


PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(tables(dims=2))
def test_protected_two_dimensional_tables_pass_every_check(table) -> None:
    _check_protected(*table)


@PROPERTY_SETTINGS
@given(tables(dims=3))
def test_protected_three_dimensional_tables_with_margins_pass_every_check(table) -> None:
    _check_protected(*table)
