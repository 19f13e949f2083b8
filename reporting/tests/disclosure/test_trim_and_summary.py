"""Hide less, and never for nothing: the trim, and the summary of what is hidden and why.

* After a pattern is chosen, secondary cells that no protection needs any more are published
  again (the trim): on held-out synthetic rounds fewer cells are hidden than in the untrimmed
  pattern, and the release is still protected against outsiders and the all-figures insider.
* Secondary cells an attacker works out exactly protect nothing: they are published again
  (``Chooser.publish_fixed`` while planning, ``drop_pinned`` before the certifying audit).
* The summary counts hidden cells by table and by why (primary rule, group rule, secondary);
  its counts agree with the cells' statuses and name no rule parameter.
"""

from __future__ import annotations

import numpy as np
import pytest

import reporting.disclosure as protect_module
from reporting.disclosure import Rules, protect, suppress
from reporting.disclosure.audit import audit_system
from reporting.disclosure.bench import SHAPES, realistic_release
from reporting.disclosure.model import build_system
from reporting.disclosure.rules import find_primaries
from reporting.disclosure.suppress import Chooser

from .examples import example_b_frequency, insider_table
from .insider_check import insider_p_violations
from .test_suppression import _answers_table


def _hidden(result) -> list[str]:
    return [c.id for c in result.cells if c.status in ("primary", "secondary")]


def _secondary(result) -> int:
    return sum(c.status == "secondary" for c in result.cells)


@pytest.mark.parametrize(("seed", "allowance"), [(37, 100_000), (61, 100_000)])
def test_trim_hides_fewer_cells_than_the_untrimmed_pattern(monkeypatch, seed, allowance) -> None:
    # The default allowance of LPs is small (speed); a large one tries every secondary cell.
    monkeypatch.setattr(suppress, "TRIM_LP_FLOOR", allowance)
    shape = next(s for s in SHAPES if s.name.startswith("linked 3-D"))
    cells, relations = realistic_release(shape, seed=seed)
    untrimmed = protect(cells, relations, time_budget=0, trim=False)
    trimmed = protect(cells, relations, time_budget=0)
    assert untrimmed.passed and trimmed.passed, trimmed.audit
    assert trimmed.secondary_untrimmed == _secondary(untrimmed)
    assert _secondary(trimmed) < _secondary(untrimmed)
    assert {c.id for c in trimmed.cells if c.status == "primary"} == {
        c.id for c in untrimmed.cells if c.status == "primary"
    }
    assert insider_p_violations(cells, relations, _hidden(trimmed)) == []


def test_no_secondary_cell_is_exactly_recoverable() -> None:
    shape = next(s for s in SHAPES if s.name.startswith("linked 3-D"))
    cells, relations = realistic_release(shape, seed=61)
    result = protect(cells, relations, time_budget=0)
    for cell in result.cells:
        if cell.status == "secondary":
            low, high = cell.interval
            assert high is None or high - low > 1e-6 * max(1.0, cell.value), cell


def test_summary_counts_hidden_cells_by_table_and_reason() -> None:
    cells, relations = insider_table()
    result = protect(cells, relations)
    summary = result.summary(lambda cell_id: "margins" if "all" in cell_id else "inner")
    statuses = [c.status for c in result.cells]
    assert summary["cells"] == len(cells)
    assert summary["primary_rule"] == statuses.count("primary") == 1
    assert summary["secondary"] == statuses.count("secondary")
    assert summary["hidden"] == summary["primary_rule"] + summary["secondary"]
    assert summary["hidden_share"] == round(summary["hidden"] / len(cells), 4)
    assert set(summary["tables"]) == {"inner", "margins"}
    assert summary["tables"]["inner"]["cells"] == 6
    assert sum(t["hidden"] for t in summary["tables"].values()) == summary["hidden"]
    # Counts only: the rule parameters stay confidential.
    assert set(summary) == {
        "cells",
        "hidden",
        "hidden_share",
        "primary_rule",
        "group_rule",
        "secondary",
        "secondary_untrimmed",
        "tables",
    }


def test_summary_tells_the_group_rule_apart() -> None:
    cells, relations = _answers_table(yes_r1=4, no_r1=0)
    result = protect(cells, relations, rules=Rules(group_min_size=10))
    summary = result.summary()
    assert result.cell("R1|yes").reason == "group_rule"
    assert result.cell("R1|no").reason == "secondary"
    assert summary["group_rule"] == 1
    assert summary["tables"]["R1"]["group_rule"] == 1
    assert result.cell("R2|yes").reason is None or result.cell("R2|yes").status != "published"


def _chooser_with(cells, relations, hidden_ids):
    system = build_system(cells, relations)
    primaries = find_primaries(system, Rules())
    primary = np.zeros(system.size, dtype=bool)
    primary[list(primaries.requirements)] = True
    chooser = Chooser(system, primaries, primary, ~primaries.empty, budget=0.0)
    for cell_id in hidden_ids:
        chooser.hidden[system.index[cell_id]] = True
    return system, primaries, primary, chooser


def test_a_secondary_cell_an_attacker_works_out_exactly_is_published() -> None:
    """Issue 10, part 3: a hidden cell that follows from the published ones (B's total, with
    B male and B female published) protects nothing and costs the analysts a figure."""
    cells, relations = example_b_frequency()
    protecting = ("A|female", "A|male", "C|male", "C|female")
    system, primaries, primary, chooser = _chooser_with(cells, relations, (*protecting, "B|total"))
    pinned = audit_system(system, chooser.hidden, primaries).intervals["B|total"]
    assert pinned == (33.0, 33.0)  # exactly derivable: hidden for nothing
    chooser.publish_fixed(primary)
    published_again = {system.ids[c] for c in np.flatnonzero(~chooser.hidden)}
    assert "B|total" in published_again
    assert {system.ids[c] for c in np.flatnonzero(chooser.hidden)} == set(protecting)
    report = audit_system(system, chooser.hidden, primaries)
    assert report.passed, report


def test_the_final_guard_publishes_secondaries_the_audit_pins() -> None:
    """Whatever the chooser left, a secondary cell whose audited interval is one point is
    published before the certifying audit (``drop_pinned``); a primary cell never is."""
    cells, relations = example_b_frequency()
    system, primaries, primary, _ = _chooser_with(cells, relations, ())
    hidden = np.zeros(system.size, dtype=bool)
    for cell_id in ("A|female", "A|male", "C|male", "C|female", "B|total", "D|total"):
        hidden[system.index[cell_id]] = True
    report = audit_system(system, hidden, primaries)
    kept = protect_module._drop_pinned_secondaries(system, hidden, primary, report)
    assert not kept[system.index["B|total"]] and not kept[system.index["D|total"]]
    assert kept[system.index["A|female"]] and kept[system.index["C|female"]]


def test_a_release_hides_no_secondary_cell_that_the_audit_pins() -> None:
    """End to end: with every margin cheap to hide, the engine's pattern still holds no
    secondary cell whose interval is a single point."""
    cells, relations = example_b_frequency()
    cheap = {c.id: 0.0 for c in cells if "total" in c.id}
    result = protect(cells, relations, costs=cheap)
    assert result.passed, result.audit
    for cell in result.cells:
        if cell.status == "secondary":
            low, high = cell.interval
            assert high is None or high - low > 1e-6 * max(1.0, cell.value), cell


def _linked_3d_chooser():
    """A chooser (no MILP time) over a realistic linked 3-D release, nothing hidden yet."""
    shape = next(s for s in SHAPES if s.name.startswith("linked 3-D"))
    cells, relations = realistic_release(shape, seed=61)
    system = build_system(cells, relations)
    primaries = find_primaries(system, Rules())
    primary = np.zeros(system.size, dtype=bool)
    primary[list(primaries.requirements)] = True
    return (
        system,
        primaries,
        primary,
        Chooser(system, primaries, primary, ~primaries.empty, budget=0.0),
    )


def test_every_kept_proof_moves_only_hidden_cells_and_meets_its_need() -> None:
    # The chooser keeps one proof per need through the trim (including the proofs found by a
    # try that failed) and trusts it instead of solving again: each must stay a deviation of
    # the hidden cells that balances every relation and reaches its need's target.
    system, primaries, primary, chooser = _linked_3d_chooser()
    chooser.satisfy(suppress.needs_for_primaries(system, primaries))
    chooser.publish_fixed(primary)
    chooser.trim(primary)
    assert chooser.stats.get("trimmed", 0) > 0
    checked = 0
    for b, needs in chooser._needs.items():
        block = chooser.blocks[b]
        for need in needs:
            positions, values = chooser._witness[need]
            assert chooser.hidden[block.cells[positions]].all(), need
            if len(values) != len(positions):
                continue  # an unbounded LP: no values, every hidden cell of the block listed
            y = np.zeros(len(block.cells))
            y[positions] = values
            assert np.abs(block.matrix @ y).max(initial=0.0) <= 1e-6 * max(1.0, need.target)
            proved = [need] if need.alternative is None else [need, need.alternative]
            reached = [sum(w * y[chooser.local[c]] for c, w in n.weights) for n in proved]
            assert any(r >= n.target * (1 - 1e-6) for r, n in zip(reached, proved, strict=True)), (
                need
            )
            checked += 1
    assert checked > 10


def test_proofs_turned_round_stay_within_every_cell_s_limits() -> None:
    # A deviation found for one side of a cell, turned round, often proves the other side
    # without an LP; it was found within the limits one way only, so it is scaled down until
    # every cell it moves stays within the need's limits (the insider's, for an insider).
    system, primaries, _, chooser = _linked_3d_chooser()
    turned = []
    original = chooser._turned
    chooser._turned = lambda b, need, *a: _kept(turned, b, need, original(b, need, *a))
    chooser.satisfy(suppress.needs_for_primaries(system, primaries))
    assert len(turned) > 5
    for b, need, y in turned:
        fall, rise = chooser._limits(b, need.insider)
        tolerance = 1e-9 * np.maximum(1.0, system.values[chooser.blocks[b].cells])
        assert np.all(y >= -fall - tolerance) and np.all(y <= rise + tolerance), need
        assert np.abs(chooser.blocks[b].matrix @ y).max() <= 1e-6 * max(1.0, need.target)
        reached = sum(w * y[chooser.local[c]] for c, w in need.weights)
        assert reached >= need.target * (1 - 1e-6), need


def _kept(found, b, need, y):
    if y is not None:
        found.append((b, need, y))
    return y
