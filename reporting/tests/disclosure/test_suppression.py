"""Secondary suppression: example B of docs/disclosure-control.md, costs, group disclosure."""

from __future__ import annotations

import pytest

from reporting.disclosure import Cell, Relation, audit, protect

from .examples import example_b_frequency


def _hidden(result) -> dict[str, tuple]:
    return {
        c.id: (c.status, c.interval) for c in result.cells if c.status in ("primary", "secondary")
    }


def test_secondary_suppression_hides_cheapest_cells_example_b() -> None:
    cells, relations = example_b_frequency()
    result = protect(cells, relations)
    assert _hidden(result) == {
        "A|female": ("primary", (0, 12)),
        "A|male": ("secondary", (8, 20)),
        "C|male": ("secondary", (10, 22)),
        "C|female": ("secondary", (0, 12)),
    }
    assert result.audit.passed


def test_primary_cell_alone_is_exactly_disclosed_example_b() -> None:
    cells, relations = example_b_frequency()
    report = audit(cells, relations, hidden=["A|female"])
    assert report.intervals["A|female"] == pytest.approx((2, 2))
    assert report.exact_disclosures == ("A|female",)
    assert not report.passed


def test_costs_override_values_when_choosing_secondary_cells() -> None:
    cells, relations = example_b_frequency()
    result = protect(cells, relations, costs={"C|male": 1000, "C|female": 1000})
    hidden = set(_hidden(result))
    assert hidden == {"A|female", "A|male", "D|male", "D|female"}
    assert result.audit.passed


def test_published_values_are_withheld_for_hidden_cells() -> None:
    cells, relations = example_b_frequency()
    result = protect(cells, relations)
    assert result.cell("A|female").published_value is None
    assert result.cell("B|male").published_value == 14
    assert result.cell("B|male").interval is None


def _answers_table(yes_r1: int, no_r1: int) -> tuple[list[Cell], list[Relation]]:
    """Councils answering yes/no by region, counted, with margins."""
    counts = {("R1", "yes"): yes_r1, ("R1", "no"): no_r1, ("R2", "yes"): 10, ("R2", "no"): 12}
    counts |= {("R3", "yes"): 8, ("R3", "no"): 9}
    cells = [Cell(f"{r}|{a}", value=n, contributors=n) for (r, a), n in counts.items()]
    relations = []
    for r in ("R1", "R2", "R3"):
        n = counts[r, "yes"] + counts[r, "no"]
        cells.append(Cell(f"{r}|all", value=n, contributors=n))
        relations.append(Relation(f"{r}|all", (f"{r}|yes", f"{r}|no")))
    for a in ("yes", "no", "all"):
        n = sum(c.value for c in cells if c.id.endswith(f"|{a}"))
        cells.append(Cell(f"E|{a}", value=n, contributors=n))
        relations.append(Relation(f"E|{a}", (f"R1|{a}", f"R2|{a}", f"R3|{a}")))
    relations.append(Relation("E|all", ("E|yes", "E|no")))
    return cells, relations


def test_group_where_every_council_gives_one_answer_is_protected() -> None:
    cells, relations = _answers_table(yes_r1=4, no_r1=0)
    result = protect(cells, relations)
    assert result.cell("R1|yes").status == "primary"
    # The structural zero must be hideable: otherwise "all four said yes" stays known.
    assert result.cell("R1|no").status == "secondary"
    assert result.audit.passed


def test_group_disclosure_is_flagged_when_the_zero_sibling_is_published() -> None:
    cells, relations = _answers_table(yes_r1=4, no_r1=0)
    report = audit(cells, relations, hidden=["R1|yes", "R2|yes", "R1|all", "R2|all"])
    assert report.group_disclosures == ("R1|all",)
    assert "R1|yes" in report.under_protected
    assert not report.passed


def test_large_group_in_one_category_is_not_flagged() -> None:
    cells, relations = _answers_table(yes_r1=12, no_r1=0)
    result = protect(cells, relations)
    assert result.cell("R1|no").status == "empty"
    assert result.cell("R1|yes").status == "published"
    assert result.audit.passed


def test_small_groups_all_in_one_answer_hide_the_zero_margin_too():
    """Two types under the group size, every council in 'na', 'yes' zero everywhere: the
    zero England margin of 'yes' would pin each type's 'yes' at zero if it stayed published,
    so it is hidden with them and the groups are protected (once refused)."""
    councils = {"lb": [f"L{i}" for i in range(4)], "u": [f"U{i}" for i in range(6)]}
    cells = [Cell("resp|all", value=10, upper=10)]
    relations = [Relation("resp|all", ("resp|lb", "resp|u"))]
    for kind, ids in councils.items():
        cells += [
            Cell(f"resp|{kind}", contributors=ids, upper=len(ids)),
            Cell(f"yes|{kind}", contributors=[]),
            Cell(f"na|{kind}", contributors=ids),
        ]
        relations.append(Relation(f"resp|{kind}", (f"yes|{kind}", f"na|{kind}"), group_check=True))
    cells += [Cell("yes|all", value=0), Cell("na|all", value=10)]
    relations += [
        Relation("yes|all", ("yes|lb", "yes|u")),
        Relation("na|all", ("na|lb", "na|u")),
        Relation("resp|all", ("yes|all", "na|all"), group_check=True),
    ]
    result = protect(cells, relations)
    assert result.passed, result.audit
    hidden = {c.id for c in result.cells if c.status in ("primary", "secondary")}
    assert {"yes|lb", "yes|u", "yes|all", "na|lb", "na|u"} <= hidden
    for cell in result.cells:
        if cell.id.startswith("yes|"):
            low, high = cell.interval
            assert low == 0 and high >= 1  # some council could have said yes
