"""Attack 2: hidden cells that survive a per-relation check but are pinned by rows and columns.

A 4 x 4 table of magnitudes with row, column and grand totals. Cell r1|c3 has two
contributors (primary by the minimum-frequency rule and by the p% rule). The pattern
``TRAP`` hides two disjoint 2 x 2 rectangles (rows r1, r2 x columns c1, c2 and rows r3, r4 x
columns c3, c4) plus r1|c3: every row and column holds two or three hidden cells, so no
relation can be solved by subtraction alone. Yet adding rows r1 and r2 and subtracting columns
c1 and c2 (which hold no other hidden cells) leaves exactly r1|c3: only an audit that combines
the relations, as the LP does, sees it.
"""

from __future__ import annotations

import pytest

from reporting.disclosure import Cell, Relation, Rules, audit, protect

# The attacker's LP written without the engine (shared with the property tests).
from .test_properties import _interval_lp

ROWS = ("r1", "r2", "r3", "r4")
COLS = ("c1", "c2", "c3", "c4")
INNER = {
    ("r1", "c1"): [14, 12, 11],
    ("r1", "c2"): [13, 10, 9],
    ("r1", "c3"): [30, 20],
    ("r1", "c4"): [16, 12, 10],
    ("r2", "c1"): [15, 13, 10],
    ("r2", "c2"): [12, 11, 9, 8],
    ("r2", "c3"): [17, 14, 12],
    ("r2", "c4"): [11, 10, 10],
    ("r3", "c1"): [19, 15, 14],
    ("r3", "c2"): [13, 12, 12],
    ("r3", "c3"): [14, 13, 11],
    ("r3", "c4"): [18, 16, 12],
    ("r4", "c1"): [12, 11, 10],
    ("r4", "c2"): [16, 14, 13],
    ("r4", "c3"): [15, 12, 12],
    ("r4", "c4"): [13, 12, 11],
}
PRIMARY = "r1|c3"
PRIMARY_VALUE = 50
# p% rule with p = 10, x1 = 30, x2 = 20: 0.10 * 30 - (50 - 30 - 20) = 3 either side.
P_DISTANCE = 3
RULES = Rules(min_contributors=3, p=10, group_min_size=10)
TRAP = (
    "r1|c1",
    "r1|c2",
    "r2|c1",
    "r2|c2",
    "r3|c3",
    "r3|c4",
    "r4|c3",
    "r4|c4",
    PRIMARY,
)
RECTANGLE = ("r1|c3", "r1|c4", "r2|c3", "r2|c4")


def _value(row: str, col: str) -> int:
    return sum(INNER[row, col])


def _table() -> tuple[list[Cell], list[Relation]]:
    cells = [Cell(f"{r}|{c}", contributions=v) for (r, c), v in INNER.items()]
    relations = []
    for r in ROWS:
        cells.append(Cell(f"{r}|total", value=sum(sum(INNER[r, c]) for c in COLS)))
        relations.append(Relation(f"{r}|total", tuple(f"{r}|{c}" for c in COLS)))
    for c in COLS:
        cells.append(Cell(f"total|{c}", value=sum(sum(INNER[r, c]) for r in ROWS)))
        relations.append(Relation(f"total|{c}", tuple(f"{r}|{c}" for r in ROWS)))
    cells.append(Cell("total|total", value=sum(sum(v) for v in INNER.values())))
    relations.append(Relation("total|total", tuple(f"{r}|total" for r in ROWS)))
    relations.append(Relation("total|total", tuple(f"total|{c}" for c in COLS)))
    return cells, relations


def _hidden_per_relation(relations: list[Relation], hidden: set[str]) -> list[int]:
    """How many hidden cells each relation holds (the naive check counts these)."""
    return [sum(cell in hidden for cell in (r.total, *r.parts)) for r in relations]


def test_pattern_passes_the_one_hidden_cell_per_relation_check() -> None:
    _, relations = _table()
    counts = _hidden_per_relation(relations, set(TRAP))
    # Every relation touching the pattern holds two or more hidden cells: nothing to subtract.
    assert 1 not in counts
    assert sorted(c for c in counts if c) == [2, 2, 2, 2, 2, 2, 3, 3]


def test_audit_pins_the_primary_cell_when_rows_and_columns_are_combined() -> None:
    cells, relations = _table()
    report = audit(cells, relations, hidden=TRAP, rules=RULES)
    assert report.intervals[PRIMARY] == pytest.approx((PRIMARY_VALUE, PRIMARY_VALUE))
    assert report.exact_disclosures == (PRIMARY,)
    assert report.under_protected == (PRIMARY,)
    assert not report.passed
    # The rectangles themselves still move: only the cell bridging them is pinned.
    assert report.intervals["r1|c1"] == pytest.approx((0, 69))
    assert report.intervals["r4|c4"] == pytest.approx((0, 75))
    # By hand: the totals of rows r1, r2 less their published cells hold the first rectangle
    # plus r1|c3; the totals of columns c1, c2 less their published cells hold the rectangle.
    rows = sum(_value(r, c) for r in ("r1", "r2") for c in COLS)
    rows -= _value("r1", "c4") + _value("r2", "c3") + _value("r2", "c4")
    columns = sum(_value(r, c) for r in ROWS for c in ("c1", "c2"))
    columns -= sum(_value(r, c) for r in ("r3", "r4") for c in ("c1", "c2"))
    assert rows - columns == PRIMARY_VALUE


def test_a_rectangle_around_the_primary_cell_protects_it() -> None:
    cells, relations = _table()
    report = audit(cells, relations, hidden=RECTANGLE, rules=RULES)
    # r1|c3 moves with the rectangle: down by r2|c4 (31), up by r1|c4 (38).
    assert report.intervals == {
        "r1|c3": pytest.approx((19, 88)),
        "r1|c4": pytest.approx((0, 69)),
        "r2|c3": pytest.approx((5, 74)),
        "r2|c4": pytest.approx((0, 69)),
    }
    assert report.passed


def test_protect_chooses_a_pattern_whose_intervals_all_move_and_protect_the_primary() -> None:
    cells, relations = _table()
    result = protect(cells, relations, rules=RULES)
    assert result.cell(PRIMARY).status == "primary"
    assert [c.id for c in result.cells if c.status == "primary"] == [PRIMARY]
    hidden = {c.id for c in result.cells if c.status in ("primary", "secondary")}
    assert len(hidden) >= 4
    assert result.audit.passed
    for cell in result.cells:
        if cell.id not in hidden:
            assert cell.interval is None
            continue
        low, high = cell.interval
        assert high is not None and high - low > 0, cell.id
        # The engine's interval is the one an attacker computes by hand.
        attacker = tuple(_interval_lp(cells, relations, hidden, cell.id, s) for s in (1, -1))
        assert (low, high) == pytest.approx(attacker), cell.id
    low, high = result.cell(PRIMARY).interval
    assert low <= PRIMARY_VALUE - P_DISTANCE
    assert high >= PRIMARY_VALUE + P_DISTANCE
    # No relation holds exactly one hidden cell either.
    assert 1 not in _hidden_per_relation(relations, hidden)
