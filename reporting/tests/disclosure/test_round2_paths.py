"""Insider-aware planning, the audit's direction proofs, publishing fixed cells, two processes.

* The null-space basis of the chooser and the audit spans exactly ``{y : A y = 0}``.
* The audit's insider findings are the same with and without the random-direction proofs
  (they only skip LPs whose answer two explicit feasible points already give).
* Implied bounds are valid (the LP optimum never lies outside them) and reach finite upper
  limits where a published total caps its hidden parts.
* After the chooser plans for insiders and publishes fixed cells, the first audit finds no leak
  on the published examples and on random linked tables; the release is protected.
* Two processes give the same release as one (no MILP time, so nothing depends on timing).
"""

from __future__ import annotations

import sys

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.disclosure import Rules, protect
from reporting.disclosure.audit import audit_system
from reporting.disclosure.model import build_system
from reporting.disclosure.rules import find_primaries
from reporting.disclosure.solver import null_basis
from reporting.disclosure.suppress import Chooser, needs_for_primaries

from .examples import example_a_magnitude, example_b_frequency
from .test_budget_and_incremental import _assert_protected, several_blocks
from .test_speed_paths import _whole_system_bound

audit_module = sys.modules["reporting.disclosure.audit"]
RULES = Rules(min_contributors=3, p=10.0)


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=15), st.data())
def test_null_basis_spans_the_null_space(rows, cols, data) -> None:
    entries = data.draw(
        st.lists(st.sampled_from([-1.0, 0.0, 0.0, 1.0]), min_size=rows * cols, max_size=rows * cols)
    )
    matrix = np.array(entries).reshape(rows, cols)
    basis = null_basis(matrix)
    assert basis.shape == (cols, cols - np.linalg.matrix_rank(matrix))
    assert np.allclose(matrix @ basis, 0.0, atol=1e-9)
    if basis.shape[1]:
        assert np.linalg.matrix_rank(basis) == basis.shape[1]


def _random_pattern(table, seed):
    cells, relations = table
    system = build_system(cells, relations)
    primaries = find_primaries(system, RULES)
    primary = np.zeros(system.size, dtype=bool)
    primary[list(primaries.requirements)] = True
    rng = np.random.default_rng(seed)
    hidden = primary | (~primaries.empty & (rng.random(system.size) < 0.4))
    return system, primaries, hidden


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(several_blocks(), st.integers(min_value=0, max_value=2**32 - 1))
def test_direction_proofs_do_not_change_the_audit(table, seed) -> None:
    system, primaries, hidden = _random_pattern(table, seed)
    fast = audit_system(system, hidden, primaries)
    saved = audit_module.DIRECTIONS, audit_module.TARGETED
    try:
        audit_module.DIRECTIONS, audit_module.TARGETED = 0, 0
        slow = audit_system(system, hidden, primaries)
    finally:
        audit_module.DIRECTIONS, audit_module.TARGETED = saved
    assert fast == slow
    assert sorted(fast.insider_codes) == sorted(slow.insider_codes)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(several_blocks(), st.integers(min_value=0, max_value=2**32 - 1))
def test_implied_bounds_contain_the_lp_optimum(table, seed) -> None:
    cells, relations = table
    system, _, hidden = _random_pattern(table, seed)
    lp = audit_module._AttackerLP(system, hidden)
    bounds = np.column_stack([np.zeros(len(lp.cells)), np.full(len(lp.cells), np.inf)])
    implied = lp.implied_bounds(bounds)
    ids = {system.ids[c] for c in lp.cells}
    for v, cell in enumerate(lp.cells[:6]):
        name = system.ids[cell]
        low = _whole_system_bound(cells, relations, ids, name, 1.0)
        high = _whole_system_bound(cells, relations, ids, name, -1.0)
        assert implied[v, 0] <= low + 1e-6 * max(1.0, abs(low))
        if np.isinf(high):
            assert np.isinf(implied[v, 1])
        else:
            assert implied[v, 1] >= high - 1e-6 * max(1.0, abs(high))


def test_implied_bounds_cap_parts_of_a_published_total() -> None:
    cells, relations = example_b_frequency()
    system = build_system(cells, relations)
    hidden = np.zeros(system.size, dtype=bool)
    for name in ("A|female", "A|male", "C|male", "C|female"):
        hidden[system.index[name]] = True
    lp = audit_module._AttackerLP(system, hidden)
    bounds = np.column_stack([np.zeros(len(lp.cells)), np.full(len(lp.cells), np.inf)])
    implied = lp.implied_bounds(bounds)
    # A|female + A|male = 20 (published): neither exceeds 20.
    assert np.all(np.isfinite(implied[:, 1]))
    assert implied[lp.local[list(lp.cells).index(system.index["A|female"])], 1] <= 20


def _planned(cells, relations):
    system = build_system(cells, relations)
    primaries = find_primaries(system, RULES)
    primary = np.zeros(system.size, dtype=bool)
    primary[list(primaries.requirements)] = True
    hideable = ~primaries.empty
    for flag in primaries.groups:
        hideable[list(flag.siblings)] = True
    chooser = Chooser(system, primaries, primary, hideable, budget=0.0)
    chooser.satisfy(needs_for_primaries(system, primaries))
    chooser.satisfy_insiders()
    chooser.publish_fixed(primary)
    return system, primaries, primary, chooser


def test_first_audit_passes_on_the_published_examples() -> None:
    for cells, relations in (example_a_magnitude(), example_b_frequency()):
        system, primaries, _, chooser = _planned(cells, relations)
        assert audit_system(system, chooser.hidden, primaries).passed


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(several_blocks())
def test_insider_planning_leaves_nothing_to_repair(table) -> None:
    system, primaries, primary, chooser = _planned(*table)
    report = audit_system(system, chooser.hidden, primaries)
    assert not report.insider_disclosures, report
    # Publishing fixed cells left no secondary cell whose interval is a single point.
    for name, (low, high) in report.intervals.items():
        cell = system.index[name]
        if not primary[cell]:
            assert high is None or high - low > 1e-6 * max(1.0, abs(low)), name


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(several_blocks())
def test_two_processes_give_the_same_release(table) -> None:
    cells, relations = table
    one = protect(cells, relations, RULES, time_budget=0.0, workers=1)
    two = protect(cells, relations, RULES, time_budget=0.0, workers=2)
    assert [(c.id, c.status) for c in one.cells] == [(c.id, c.status) for c in two.cells]
    assert one.audit == two.audit
    _assert_protected(cells, relations, two)
    # Planning and auditing ran together in each process; the time is still told per stage.
    assert two.timings["suppression"] > 0 and two.timings["audit"] > 0
