"""The audit: feasibility intervals and insider attacks (example F), published primaries."""

from __future__ import annotations

import pytest

from reporting.disclosure import InsiderDisclosure, audit

from .examples import F_HIDDEN, example_a_magnitude, example_f


def test_feasibility_intervals_of_example_f() -> None:
    cells, relations = example_f([1, 1, 1])
    report = audit(cells, relations, hidden=F_HIDDEN)
    assert report.intervals == {
        "1|1": pytest.approx((3, 6)),
        "1|2": pytest.approx((1, 4)),
        "2|1": pytest.approx((0, 3)),
        "2|2": pytest.approx((0, 3)),
    }
    assert report.passed


def test_single_contributor_of_x12_computes_x11_exactly_example_f() -> None:
    cells, relations = example_f([("E06000001", 3)])
    report = audit(cells, relations, hidden=F_HIDDEN)
    assert InsiderDisclosure(contributor="E06000001", cell="1|1") in report.insider_disclosures
    assert report.exact_disclosures == ()
    assert not report.passed


def test_shared_x12_gives_no_insider_disclosure_example_f() -> None:
    cells, relations = example_f([("E06000001", 2), ("E06000002", 1)])
    report = audit(cells, relations, hidden=F_HIDDEN)
    assert report.insider_disclosures == ()
    assert report.passed


def test_relation_with_one_hidden_cell_is_caught_by_subtraction() -> None:
    cells, relations = example_a_magnitude()
    report = audit(cells, relations, hidden=["A|female", "A|male", "B|female"])
    # Column male has only A male hidden: subtraction pins it, then row A pins A female.
    assert report.intervals["A|male"] == pytest.approx((178, 178))
    assert "A|female" in report.exact_disclosures


def test_published_primary_cell_fails_the_audit() -> None:
    cells, relations = example_a_magnitude()
    report = audit(cells, relations, hidden=[])
    assert report.exact_disclosures == ("A|female",)
    assert not report.passed
