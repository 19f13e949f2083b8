"""Primary rules: examples A and G of docs/disclosure-control.md, and parameter validation."""

from __future__ import annotations

import numpy as np
import pytest

from reporting.disclosure import Cell, DisclosureInputError, Relation, Rules, protect
from reporting.disclosure.model import build_system
from reporting.disclosure.rules import (
    dominance_unsafe,
    dominance_upper_bound,
    find_primaries,
    p_percent_protection,
    p_percent_unsafe,
)

from .examples import example_a_magnitude


def _primary_ids(rules: Rules) -> set[str]:
    cells, relations = example_a_magnitude()
    system = build_system(cells, relations)
    return {system.ids[c] for c in find_primaries(system, rules).requirements}


def test_minimum_frequency_rule_flags_only_a_female_example_a() -> None:
    assert _primary_ids(Rules(min_contributors=3, p=None)) == {"A|female"}


def test_dominance_2_75_flags_a_female_and_d_male_example_a() -> None:
    assert _primary_ids(Rules(min_contributors=1, p=None, nk=(2, 75))) == {"A|female", "D|male"}


def test_p_percent_70_flags_a_female_and_d_male_but_not_d_total_example_a() -> None:
    # D total aggregates both D cells by contributor: 518 - 280 - 18 = 220 >= 196, safe.
    assert _primary_ids(Rules(min_contributors=1, p=70)) == {"A|female", "D|male"}


def test_p_percent_arithmetic_of_d_male_example_a() -> None:
    assert p_percent_unsafe(366, 280, 11, 70)
    assert p_percent_protection(366, 280, 11, 70) == pytest.approx(196 - 75)
    assert not p_percent_unsafe(518, 280, 18, 70)


def test_a_council_reaching_a_total_through_two_cells_counts_once() -> None:
    # "X" is 90 + 60 = 150 of the total 160: with p = 10 the total is unsafe only if X counts once.
    cells = [
        Cell("a", contributions=[("X", 90), ("Y", 5), ("Z", 5)]),
        Cell("b", contributions=[("X", 60)]),
        Cell("t", value=160),
    ]
    system = build_system(cells, [Relation("t", ("a", "b"))])
    primaries = find_primaries(system, Rules(min_contributors=1, p=10))
    assert system.index["t"] in primaries.requirements


def test_rule_arithmetic_of_handbook_example_g() -> None:
    top = np.array([50_000.0, 49_000.0])
    assert not dominance_unsafe(top, 100_000, 1, 90)
    assert p_percent_unsafe(100_000, 50_000, 49_000, 10)
    assert p_percent_protection(100_000, 50_000, 49_000, 10) == pytest.approx(4_000)
    assert not p_percent_unsafe(110_000, 52_000, 50_000, 10)
    assert dominance_unsafe(np.array([52_000.0, 50_000.0]), 110_000, 2, 90.9)
    assert dominance_unsafe(np.array([300.0, 20, 10]), 330, 1, 85)
    assert dominance_upper_bound(np.array([300.0, 20, 10]), 1, 85) == pytest.approx(
        352.94, abs=0.01
    )


def test_dominance_protection_reaches_352_94_after_suppression_example_g() -> None:
    rows, cols = ("r1", "r2", "r3"), ("c1", "c2", "c3")
    safe = [40, 35, 30, 25, 20]
    cells, relations = [], []
    for r in rows:
        for c in cols:
            values = [300, 20, 10] if (r, c) == ("r1", "c1") else safe
            cells.append(Cell(f"{r}|{c}", contributions=values))
    inner = {cell.id: sum(cell.contributions) for cell in cells}
    for r in rows:
        cells.append(Cell(f"{r}|T", value=sum(inner[f"{r}|{c}"] for c in cols)))
        relations.append(Relation(f"{r}|T", tuple(f"{r}|{c}" for c in cols)))
    for c in (*cols, "T"):
        cells.append(Cell(f"T|{c}", value=sum(inner[f"{r}|{c}"] for r in rows) if c != "T" else 0))
    cells[-1] = Cell("T|T", value=sum(inner.values()))
    for c in (*cols, "T"):
        relations.append(Relation(f"T|{c}", tuple(f"{r}|{c}" for r in rows)))
    result = protect(cells, relations, rules=Rules(min_contributors=1, p=None, nk=(1, 85)))
    outcome = result.cell("r1|c1")
    assert outcome.status == "primary"
    assert outcome.interval is not None and outcome.interval[1] is not None
    assert outcome.interval[1] >= 100 / 85 * 300 - 1e-6
    assert result.audit.passed


@pytest.mark.parametrize(
    "kwargs",
    [
        {"p": 0},
        {"p": -5},
        {"p": 100},
        {"p": 120},
        {"min_contributors": 0},
        {"nk": (2, 0)},
        {"nk": (2, 101)},
        {"nk": (0, 80)},
        {"min_contributors": 2.5},
    ],
)
def test_invalid_rule_parameters_are_refused(kwargs: dict) -> None:
    with pytest.raises(DisclosureInputError):
        Rules(**kwargs)


def test_negative_contribution_is_refused() -> None:
    with pytest.raises(DisclosureInputError, match="negative"):
        build_system([Cell("a", contributions=[5, -1])], [])


def test_zero_cell_is_empty_not_primary() -> None:
    cells = [Cell("a", contributions=[]), Cell("b", contributions=[5, 6, 7]), Cell("t", value=18)]
    result = protect(cells, [Relation("t", ("a", "b"))])
    assert result.cell("a").status == "empty"
    assert result.cell("a").published_value == 0
    assert result.audit.passed
