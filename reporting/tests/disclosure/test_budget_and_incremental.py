"""The time-bounded chooser and the incremental audit never weaken protection.

* With no MILP time at all (``time_budget=0``) every need is met by the pruned LP-relaxation
  pattern, and the release is still fully protected (outsider and insider), as with a budget.
* An audit of only the blocks whose hidden cells changed, merged with the previous audit, equals
  a complete audit of the new pattern (blocks share no cell or relation).
* The ``scipy`` fallbacks of the HiGHS calls give protected releases too.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.disclosure import Cell, Relation, Rules, protect, solver
from reporting.disclosure.audit import audit_system, merge_audits
from reporting.disclosure.model import build_system
from reporting.disclosure.rules import find_primaries
from reporting.disclosure.suppress import Chooser

from .examples import example_a_magnitude, example_b_frequency
from .test_speed_paths import _whole_system_bound, linked_tables

RULES = Rules(min_contributors=3, p=10.0)


def _prefixed(prefix: str, cells: list[Cell], relations: list[Relation]):
    """The same tables under other ids: an independent block of a bigger release."""
    cells = [
        Cell(
            f"{prefix}{c.id}",
            value=c.value,
            contributions=c.contributions,
            contributors=c.contributors,
            frequency=c.frequency,
        )
        for c in cells
    ]
    relations = [
        Relation(f"{prefix}{r.total}", tuple(f"{prefix}{p}" for p in r.parts)) for r in relations
    ]
    return cells, relations


@st.composite
def several_blocks(draw: st.DrawFn) -> tuple[list[Cell], list[Relation]]:
    cells: list[Cell] = []
    relations: list[Relation] = []
    for b in range(draw(st.integers(min_value=2, max_value=3))):
        more_cells, more_relations = _prefixed(f"B{b}:", *draw(linked_tables()))
        cells += more_cells
        relations += more_relations
    return cells, relations


def _assert_protected(cells, relations, result) -> None:
    """Every primary cell meets its protection level in one LP over the whole system."""
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
        if contributions:
            x1 = contributions[0]
            x2 = contributions[1] if len(contributions) > 1 else 0
            distance = 0.1 * x1 - (value - x1 - x2)
            if distance > 0:
                assert high >= value + distance - 1e-6, outcome.id
                assert low <= value - distance + 1e-6, outcome.id


def test_no_milp_budget_still_protects_the_published_examples() -> None:
    for cells, relations in (example_a_magnitude(), example_b_frequency()):
        result = protect(cells, relations, time_budget=0.0)
        assert result.passed, result.audit
        assert any(c.status == "primary" for c in result.cells)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(several_blocks())
def test_budget_exhausted_still_fully_protected(table) -> None:
    cells, relations = table
    _assert_protected(cells, relations, protect(cells, relations, RULES, time_budget=0.0))
    _assert_protected(cells, relations, protect(cells, relations, RULES, time_budget=5.0))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(several_blocks(), st.integers(min_value=0, max_value=2**32 - 1))
def test_incremental_audit_equals_full_audit(table, seed) -> None:
    cells, relations = table
    system = build_system(cells, relations)
    primaries = find_primaries(system, RULES)
    primary = np.zeros(system.size, dtype=bool)
    primary[list(primaries.requirements)] = True
    hideable = ~primaries.empty | primary
    chooser = Chooser(system, primaries, primary, hideable)
    rng = np.random.default_rng(seed)
    # Any pattern will do (leaks included): the merged audit must report exactly the same.
    before = primary | (hideable & (rng.random(system.size) < 0.3))
    changed_blocks = [b for b in range(len(chooser.blocks)) if rng.random() < 0.5]
    region = chooser.block_cells(changed_blocks)
    after = before.copy()
    flip = region & hideable & ~primary & (rng.random(system.size) < 0.4)
    after[flip] = ~after[flip]
    previous = audit_system(system, before, primaries)
    partial = audit_system(system, after, primaries, region=region)
    merged = merge_audits(system, primaries, previous, partial, region)
    full = audit_system(system, after, primaries)
    assert merged.intervals.keys() == full.intervals.keys()
    for key, (low, high) in full.intervals.items():
        assert np.isclose(merged.intervals[key][0], low, rtol=1e-6, atol=1e-6), key
        if high is None:
            assert merged.intervals[key][1] is None, key
        else:
            assert np.isclose(merged.intervals[key][1], high, rtol=1e-6, atol=1e-6), key
    assert merged.exact_disclosures == full.exact_disclosures
    assert merged.under_protected == full.under_protected
    assert merged.insider_disclosures == full.insider_disclosures
    assert merged.group_disclosures == full.group_disclosures
    assert sorted(merged.insider_codes) == sorted(full.insider_codes)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(several_blocks())
def test_scipy_fallback_protects_as_well(table) -> None:
    cells, relations = table
    original = solver._highs
    try:
        solver._highs = None
        result = protect(cells, relations, RULES, time_budget=5.0)
    finally:
        solver._highs = original
    _assert_protected(cells, relations, result)


def test_a_milp_time_budget_is_respected() -> None:
    cells, relations = example_a_magnitude()
    result = protect(cells, relations, time_budget=0.0)
    assert result.passed
    assert result.timings["suppression"] < 5.0
