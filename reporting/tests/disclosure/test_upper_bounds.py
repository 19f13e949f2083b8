"""Public upper bounds (attack 6): responding councils can be no more than those invited.

A hidden cell at its public bound can only fall. The audit and the chooser must both know the
bound: "2 of 2 invited responded" is pinned by it where a bound of [0, inf) sees a wide interval.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reporting.disclosure import Cell, DisclosureInputError, Relation, Rules, audit, protect

from .test_cli import _run, _write
from .test_properties import P, _interval_lp, _required, _table

RULES = Rules(min_contributors=3, p=10, group_min_size=0)
HYPERCUBE = ["K|R1", "K|R2", "L|R1", "L|R2"]


def _responded(*, bounds: bool) -> tuple[list[Cell], list[Relation]]:
    """Responding councils by type x region; type K: 2 of 2 and 4 of 4 invited responded."""
    groups = {("K", "R1"): (2, 2), ("K", "R2"): (4, 4), ("L", "R1"): (7, 10), ("L", "R2"): (8, 12)}
    cells = [
        Cell(
            f"{kind}|{region}",
            contributors=[f"{kind}{region}-{i}" for i in range(count)],
            upper=invited if bounds else None,
        )
        for (kind, region), (count, invited) in groups.items()
    ]
    margins = {"K|T": (6, 6), "L|T": (15, 22), "T|R1": (9, 12), "T|R2": (12, 16), "T|T": (21, 28)}
    cells += [
        Cell(cell, value=count, upper=invited if bounds else None)
        for cell, (count, invited) in margins.items()
    ]
    relations = [
        Relation("K|T", ("K|R1", "K|R2")),
        Relation("L|T", ("L|R1", "L|R2")),
        Relation("T|R1", ("K|R1", "L|R1")),
        Relation("T|R2", ("K|R2", "L|R2")),
        Relation("T|T", ("K|T", "L|T")),
        Relation("T|T", ("T|R1", "T|R2")),
    ]
    return cells, relations


def _bounded_lp(
    cells: list[Cell], relations: list[Relation], hidden: set[str], target: str, sign: float
) -> float:
    """min (sign 1) or max (sign -1) of a hidden cell: relations, 0 <= x <= upper."""
    return _interval_lp(cells, relations, hidden, target, sign, bounded=True)


def test_two_of_two_invited_passed_the_unbounded_audit_but_is_pinned_by_its_bound() -> None:
    unbounded = audit(*_responded(bounds=False), hidden=HYPERCUBE, rules=RULES)
    assert unbounded.passed
    assert unbounded.intervals["K|R1"] == pytest.approx((0, 6))
    bounded = audit(*_responded(bounds=True), hidden=HYPERCUBE, rules=RULES)
    # K R1 <= 2 and K R2 <= 4 with K total 6 published: both sit at their bounds.
    assert bounded.intervals["K|R1"] == pytest.approx((2, 2))
    assert bounded.exact_disclosures == ("K|R1",)
    assert not bounded.passed


def test_protect_with_upper_bounds_hides_enough_that_two_of_two_can_fall() -> None:
    cells, relations = _responded(bounds=True)
    result = protect(cells, relations, rules=RULES)
    assert result.passed, result.audit
    hidden = {c.id for c in result.cells if c.status in ("primary", "secondary")}
    assert result.cell("K|R1").status == "primary"
    low = _bounded_lp(cells, relations, hidden, "K|R1", 1.0)
    high = _bounded_lp(cells, relations, hidden, "K|R1", -1.0)
    assert high == pytest.approx(2)
    assert low < 2 - 1e-6
    assert result.cell("K|R1").interval == pytest.approx((low, high))


@pytest.mark.parametrize(
    ("upper", "fragment"),
    [(1, "above its upper bound"), (-1, "negative upper bound"), ("2", "must be a number")],
)
def test_upper_bound_must_be_a_number_at_least_the_value(upper: object, fragment: str) -> None:
    with pytest.raises(DisclosureInputError, match=fragment):
        protect([Cell("x", contributors=["a", "b"], upper=upper)], [])  # type: ignore[arg-type]


def test_cli_accepts_upper_bounds_and_reports_the_bounded_interval(tmp_path: Path) -> None:
    cells, relations = _responded(bounds=True)
    document = {
        "rules": {"group_min_size": 0},
        "cells": [
            {"id": c.id, "value": c.value if c.value is not None else len(c.contributors)}
            | ({"contributors": len(c.contributors)} if c.contributors else {})
            | {"upper": c.upper}
            for c in cells
        ],
        "relations": [{"total": r.total, "parts": list(r.parts)} for r in relations],
    }
    completed = _run("protect", _write(tmp_path, document))
    assert completed.returncode == 0, completed.stderr
    output = {c["id"]: c for c in json.loads(completed.stdout)["cells"]}
    assert output["K|R1"]["status"] == "primary"
    low, high = output["K|R1"]["interval"]
    assert high == 2 and low < 2


def test_cli_refuses_an_upper_bound_below_the_value(tmp_path: Path) -> None:
    document = {"cells": [{"id": "x", "value": 5, "upper": 4}]}
    completed = _run("protect", _write(tmp_path, document))
    assert completed.returncode == 2
    assert "above its upper bound" in completed.stderr


@st.composite
def bounded_tables(draw: st.DrawFn) -> tuple[list[Cell], list[Relation]]:
    """Random 2-D or 3-D tables whose inner cells get random public upper bounds.

    A bound never lies below the protection a primary cell needs above its value (no
    suppression could reach it then), but often sits right at the value.
    """
    dims = draw(st.sampled_from([2, 3]))
    sizes = tuple(draw(st.integers(min_value=2, max_value=3)) for _ in range(dims))
    small = st.lists(st.integers(min_value=1, max_value=30), min_size=0, max_size=6)
    dominant = st.builds(
        lambda d, rest: [d, *rest],
        st.integers(min_value=100, max_value=600),
        st.lists(st.integers(min_value=1, max_value=30), min_size=0, max_size=4),
    )
    inner = {key: draw(st.one_of(small, dominant)) for key in itertools.product(*map(range, sizes))}
    cells, relations = _table(sizes, inner)
    bounded = []
    for cell in cells:
        if cell.contributions is None:
            bounded.append(cell)
            continue
        extra = draw(st.one_of(st.none(), st.sampled_from([0, 0, 1, 2, 5, 40])))
        if extra is None:
            bounded.append(cell)
            continue
        required = _required(cell)
        floor = max(sum(cell.contributions), required[1] if required else 0)
        bounded.append(Cell(cell.id, contributions=cell.contributions, upper=floor + extra))
    return bounded, relations


def _bound_exactly_at_the_target() -> tuple[list[Cell], list[Relation]]:
    """Found by Hypothesis: the insider (sole in 1|1) can push 1|T up only through 1|0, whose
    public bound 111.1 is exactly 1|T's p% target; asking for a margin beyond it left the need
    unmet and the audit failed."""
    inner = {(0, 0): [], (0, 1): [100, 10, 10], (1, 0): [101], (1, 1): [100], (2, 0): []}
    cells, relations = _table((3, 2), {**inner, (2, 1): [1, 1]})
    return [
        Cell(c.id, contributions=c.contributions, upper=111.1) if c.id == "1|0" else c
        for c in cells
    ], relations


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bounded_tables())
@example(_bound_exactly_at_the_target())
def test_random_upper_bounds_every_hidden_interval_is_exact_and_protects(table) -> None:
    cells, relations = table
    result = protect(cells, relations, rules=Rules(min_contributors=3, p=P, group_min_size=0))
    assert result.audit.passed, result.audit
    by_id = {c.id: c for c in cells}
    hidden = {c.id for c in result.cells if c.status in ("primary", "secondary")}
    for outcome in result.cells:
        cell = by_id[outcome.id]
        required = _required(cell)
        if required is not None:
            assert outcome.status == "primary", outcome.id
        if outcome.id not in hidden:
            continue
        low, high = outcome.interval
        assert low == pytest.approx(_bounded_lp(cells, relations, hidden, cell.id, 1.0), abs=1e-6)
        expected_high = _bounded_lp(cells, relations, hidden, cell.id, -1.0)
        if high is None:
            assert expected_high == np.inf
            high = np.inf
        else:
            assert high == pytest.approx(expected_high, rel=1e-6, abs=1e-6)
        if cell.upper is not None:
            assert high <= cell.upper + 1e-6
        if required is not None:
            assert high - low > 1e-6, outcome
            assert low <= required[0] + 1e-6 and high >= required[1] - 1e-6, outcome
