"""A reference secondary suppression for the held-out comparison (tests and benchmarks only).

The classical row-and-column method, greedy, as the textbooks describe it before optimal or
modular methods (Cox 1980; Hundepool et al. 2024, chapter 4, "the simple heuristic"):

1. every relation (row, column, margin) that holds exactly one hidden cell gets a second one:
   its cheapest other cell that may be hidden (cost as the engine's: the cell's value), until
   no relation has a lone hidden cell;
2. the full audit (``reporting.disclosure.audit``: outsider intervals, the all-figures
   insider, groups) names the primary cells still unprotected; for each, the cheapest cell
   that may be hidden in a relation with it is hidden (if its relations are all hidden
   already, the search widens through the hidden cells of those relations), and step 1 runs
   again, until the audit passes or ``max_rounds`` audits have been spent.

It shares the primary rules and the audit with the engine, so the comparison is between the
ways the secondary cells are chosen. It never publishes a hidden cell again (no trim), so the
cells it hides when it stops are a lower bound of what it would hide to pass the audit; it may
stop without a protected pattern (``passed`` false, after ``max_rounds`` audits: each takes
tens of seconds on a release of 14,000 cells), and the comparison says so.
Not used in production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from reporting.disclosure import Audit, Cell, Relation, Rules
from reporting.disclosure.audit import audit_system, merge_audits
from reporting.disclosure.model import build_system
from reporting.disclosure.rules import find_primaries
from reporting.disclosure.suppress import Chooser


@dataclass(frozen=True)
class ReferenceResult:
    hidden: frozenset[str]
    primary: frozenset[str]
    audit: Audit
    rounds: int

    @property
    def passed(self) -> bool:
        return self.audit.passed

    @property
    def secondary(self) -> frozenset[str]:
        return self.hidden - self.primary


def reference_suppression(
    cells: Iterable[Cell],
    relations: Iterable[Relation],
    rules: Rules | None = None,
    *,
    max_rounds: int = 8,
    progress: Callable[[str], None] | None = None,
) -> ReferenceResult:
    """Hide the primary cells and then, greedily by rows and columns, further cells."""
    system = build_system(cells, relations)
    primaries = find_primaries(system, rules or Rules())
    hidden = np.zeros(system.size, dtype=bool)
    hidden[list(primaries.requirements)] = True
    primary = hidden.copy()
    hideable = ~primaries.empty
    for flag in primaries.groups:
        # A group all in one answer is protected by hiding a zero sibling that could hold one.
        hideable[list(flag.siblings)] = True
    hideable &= ~system.public
    members = [(total, *parts) for total, parts, _check in system.relations]
    relations_of: dict[int, list[int]] = {}
    for r, cells_of in enumerate(members):
        for cell in cells_of:
            relations_of.setdefault(cell, []).append(r)
    costs = system.costs

    def cheapest(candidates: Sequence[int]) -> int | None:
        free = [c for c in candidates if hideable[c] and not hidden[c]]
        return min(free, key=lambda c: (costs[c], c)) if free else None

    def rows_and_columns() -> None:
        changed = True
        while changed:
            changed = False
            for cells_of in members:
                if sum(hidden[c] for c in cells_of) == 1:
                    chosen = cheapest(cells_of)
                    if chosen is not None:
                        hidden[chosen] = True
                        changed = True

    def widen(cell: int) -> int | None:
        """The cheapest hideable cell in a relation with ``cell``, or with the hidden cells
        linked to it through relations (breadth first)."""
        seen, frontier = {cell}, [cell]
        while frontier:
            found = cheapest(
                [m for c in frontier for r in relations_of.get(c, ()) for m in members[r]]
            )
            if found is not None:
                return found
            nxt = []
            for c in frontier:
                for r in relations_of.get(c, ()):
                    for m in members[r]:
                        if hidden[m] and m not in seen:
                            seen.add(m)
                            nxt.append(m)
            frontier = nxt
        return None

    # Only the blocks (cells linked through relations) whose hidden cells changed are audited
    # again between rounds, as the engine does; the result is certified by a full audit.
    blocks = Chooser(system, primaries, primary, hideable, budget=0.0)
    rows_and_columns()
    report = audit_system(system, hidden, primaries)
    rounds = 1
    if progress:
        progress(f"round 1: {int(hidden.sum())} hidden, {_open(report)} open")
    while not report.passed and rounds < max_rounds:
        before = hidden.copy()
        failing = {
            *report.exact_disclosures,
            *report.under_protected,
            *(d.cell for d in report.insider_disclosures),
            *(d.cell for d in report.insider_under_protected),
        }
        added = False
        for cell_id in sorted(failing):
            chosen = widen(system.index[cell_id])
            if chosen is not None:
                hidden[chosen] = True
                added = True
        if not added:
            break
        rows_and_columns()
        changed = np.unique(blocks.block_of[before != hidden])
        region = blocks.block_cells([int(b) for b in changed if b >= 0])
        part = audit_system(system, hidden, primaries, region=region)
        report = merge_audits(system, primaries, report, part, region)
        rounds += 1
        if progress:
            progress(f"round {rounds}: {int(hidden.sum())} hidden, {_open(report)} open")
    report = audit_system(system, hidden, primaries)
    ids = system.ids
    return ReferenceResult(
        hidden=frozenset(ids[c] for c in np.flatnonzero(hidden)),
        primary=frozenset(ids[c] for c in np.flatnonzero(primary)),
        audit=report,
        rounds=rounds,
    )


def _open(report: Audit) -> int:
    return (
        len(report.exact_disclosures)
        + len(report.under_protected)
        + len(report.insider_disclosures)
        + len(report.insider_under_protected)
        + len(report.group_disclosures)
    )
