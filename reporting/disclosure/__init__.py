"""Disclosure control for released tables: primary rules, secondary suppression and an audit.

Pure Python (numpy and scipy only, no Django). See ``docs/disclosure-control.md``.

Typical use by a release builder::

    result = protect(cells, relations, rules=Rules())
    result.require_passed()          # refuses the release when the audit finds any leak
    for cell in result.cells: ...    # status, published value, feasibility interval

A release whose audit fails is never silently returned as safe: ``protect`` returns the result
with ``audit.passed`` false and ``require_passed`` raises :class:`ReleaseRefusedError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from .audit import Audit, InsiderDisclosure, audit_system, merge_audits, tolerance
from .model import (
    BoolArray,
    Cell,
    Contributions,
    DeferredMembers,
    DisclosureInputError,
    IntArray,
    Members,
    Relation,
    Rules,
    System,
    build_system,
)
from .parallel import chunks, run_shared, worker_count
from .rules import GROUP, Primaries, find_primaries
from .suppress import (
    Chooser,
    Need,
    drop_pinned,
    insider_p_needs,
    needs_for_primaries,
    width_need,
)

__all__ = [
    "REASONS",
    "Audit",
    "Cell",
    "CellOutcome",
    "Contributions",
    "DeferredMembers",
    "DisclosureInputError",
    "InsiderDisclosure",
    "Members",
    "ProtectionResult",
    "Relation",
    "ReleaseRefusedError",
    "Rules",
    "audit",
    "protect",
]

Status = Literal["published", "primary", "secondary", "empty"]
Reason = Literal["primary_rule", "group_rule", "secondary"]
REASONS: tuple[Reason, ...] = ("primary_rule", "group_rule", "secondary")
# Audit-and-repair rounds after the first pass; each round only adds cells.
MAX_REPAIR_ROUNDS = 10


class ReleaseRefusedError(RuntimeError):
    """The audit found a disclosure: the release must not be published."""


@dataclass(frozen=True)
class CellOutcome:
    """What happens to one cell in the release."""

    id: str
    status: Status
    value: float
    interval: tuple[float, float | None] | None
    # Why a hidden cell is hidden: "primary_rule" (minimum frequency, p%, dominance or given
    # as primary), "group_rule" (all of a small group in one answer) or "secondary"; None when
    # published. For notes and benchmarks; outputs for the public mark every hidden cell alike.
    reason: Reason | None = None

    @property
    def published_value(self) -> float | None:
        """The value to publish, or None when the cell is suppressed."""
        return self.value if self.status in ("published", "empty") else None


@dataclass(frozen=True)
class ProtectionResult:
    """Statuses of all cells (sorted by id) and the audit of the suppression pattern."""

    cells: tuple[CellOutcome, ...]
    audit: Audit
    # Seconds spent in each stage ("rules", "suppression", "audit"), for logs and benchmarks.
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    # Secondary cells of the chosen pattern before the trim published the unneeded ones (a
    # reference for benchmarks; None when not known).
    secondary_untrimmed: int | None = field(default=None, compare=False)

    def summary(self, table_of: Callable[[str], str] | None = None) -> dict[str, Any]:
        """How many cells are hidden and why, overall and per table (for a release's notes).

        ``table_of`` names the table (or table kind) of a cell id; by default the part of the
        id before its first ``|``. Counts only: no rule parameter and no cell is named.
        """
        name = table_of or (lambda cell_id: cell_id.split("|", 1)[0])
        tables: dict[str, dict[str, Any]] = {}
        overall = _tally()
        for outcome in self.cells:
            table = tables.setdefault(name(outcome.id), _tally())
            for tally in (overall, table):
                tally["cells"] += 1
                if outcome.reason is not None:
                    tally["hidden"] += 1
                    tally[outcome.reason] += 1
        for tally in (overall, *tables.values()):
            tally["hidden_share"] = round(tally["hidden"] / max(tally["cells"], 1), 4)
        return {
            **overall,
            "secondary_untrimmed": self.secondary_untrimmed,
            "tables": dict(sorted(tables.items())),
        }

    @property
    def passed(self) -> bool:
        """True when the release may be published."""
        return self.audit.passed

    def require_passed(self) -> None:
        """Raise :class:`ReleaseRefusedError` unless the audit passed."""
        if not self.audit.passed:
            raise ReleaseRefusedError(
                "disclosure audit failed: "
                f"{len(self.audit.exact_disclosures)} exact, "
                f"{len(self.audit.under_protected)} under-protected, "
                f"{len(self.audit.insider_disclosures)} insider, "
                f"{len(self.audit.insider_under_protected)} insider under-protected, "
                f"{len(self.audit.group_disclosures)} group disclosures"
            )

    def cell(self, cell_id: str) -> CellOutcome:
        """The outcome of one cell by id."""
        for outcome in self.cells:
            if outcome.id == cell_id:
                return outcome
        raise KeyError(cell_id)


def _tally() -> dict[str, Any]:
    return {"cells": 0, "hidden": 0, **dict.fromkeys(REASONS, 0)}


def protect(
    cells: Iterable[Cell],
    relations: Iterable[Relation],
    rules: Rules | None = None,
    costs: Mapping[str, float] | None = None,
    *,
    time_budget: float | None = None,
    workers: int | None = None,
    trim: bool = True,
) -> ProtectionResult:
    """Find primary cells, choose secondary ones across all relations at once, and audit.

    ``time_budget``: seconds the secondary suppression may spend in MILPs (None: a default that
    grows with the number of primary cells, see :func:`.suppress.default_budget`). When it is
    spent, further cells are chosen by a cheaper rule that may hide more than needed; the
    protection of every primary cell is still required by the final audit, as always.

    ``workers``: processes over independent blocks (None: 2 for a big release on a machine with
    two or more cores, else 1; see :mod:`.parallel`). The results do not depend on it, except
    through the share of the MILP time budget each process gets.

    ``trim``: publish the secondary cells that no protection needs any more once a pattern is
    chosen (False: keep the chosen pattern, e.g. as a reference in benchmarks).
    """
    rules = rules or Rules()
    timings = {"rules": 0.0, "suppression": 0.0, "audit": 0.0}
    clock = time.perf_counter()
    # The cells are read once, here (an iterator that lets them go is enough: the compiled
    # system holds what protection needs).
    system = build_system(cells, relations, costs)
    primaries = find_primaries(system, rules)
    primary = _mask(system, primaries.requirements)
    hideable = ~primaries.empty
    hideable[list(group_zero_cells(system, primaries))] = True
    # Public facts are published whatever it costs: the attacker knows them anyway.
    hideable &= ~system.public
    clock = _lap(timings, "rules", clock)
    chooser = Chooser(system, primaries, primary, hideable, budget=time_budget)
    chooser.trims = trim
    needs = needs_for_primaries(system, primaries)
    count = worker_count(workers, len(chooser.blocks), int(hideable.sum()))
    if count > 1:
        planned, report = _plan_shared(chooser, needs, primary, count)
    else:
        planned = [_plan_and_audit(chooser, needs, primary, None)]
        report = planned[0].audit
    chooser.untrimmed = sum(part.untrimmed for part in planned)
    clock = _share_laps(timings, planned, clock)
    audited = chooser.hidden.copy()
    for _ in range(MAX_REPAIR_ROUNDS):
        if report.passed:
            break
        before = chooser.hidden.copy()
        chooser.satisfy(_repair_needs(system, primaries, report))
        clock = _lap(timings, "suppression", clock)
        changed = before != chooser.hidden
        if not changed.any():
            break
        # Only the blocks whose hidden cells changed are audited again between rounds: blocks
        # share no cell or relation, so the others' findings stand.
        region = chooser.block_cells(np.unique(chooser.block_of[changed]).tolist())
        part = audit_system(system, chooser.hidden, primaries, region=region)
        report = merge_audits(system, primaries, report, part, region)
        clock = _lap(timings, "audit", clock)
    hidden = _drop_pinned_secondaries(system, chooser.hidden, primary, report)
    if not np.array_equal(hidden, audited):
        # The certificate of the release: one complete, independent audit of the final pattern.
        report = audit_system(system, hidden, primaries)
        clock = _lap(timings, "audit", clock)
    result = _result(system, primaries, hidden, primary, report, timings)
    return replace(result, secondary_untrimmed=chooser.untrimmed if trim else None)


@dataclass(frozen=True)
class _Planned:
    """What planning and auditing one share of the blocks found (returned by a child)."""

    hidden: IntArray
    spent: float
    untrimmed: int
    audit: Audit
    seconds: tuple[float, float]


def _plan_shared(
    chooser: Chooser, needs: list[Need], primary: BoolArray, processes: int
) -> tuple[list[_Planned], Audit]:
    """Plan and audit the blocks chunk by chunk in several processes (see :mod:`.parallel`).

    Each chunk gets the share of the MILP budget that its needs are of all needs, so what a
    chunk may spend does not depend on which process takes it, or when.
    """
    system, primaries = chooser.system, chooser.primaries
    split = chunks([len(block.cells) for block in chooser.blocks], processes)
    per_block = np.bincount(
        [int(chooser.block_of[need.weights[0][0]]) for need in needs],
        minlength=len(chooser.blocks),
    )
    total = max(1, int(per_block.sum()))
    allowances = [chooser.budget * int(per_block[chunk].sum()) / total for chunk in split]
    budget, spent = chooser.budget, chooser.spent

    def chunk_work(index: int) -> _Planned:
        # Only what this chunk may spend from here is left to it.
        chooser.budget = chooser.spent + allowances[index]
        return _plan_and_audit(chooser, needs, primary, split[index])

    planned = run_shared(range(len(split)), chunk_work, processes)
    chooser.budget = budget
    chooser.spent = spent + sum(part.spent for part in planned)
    report = planned[0].audit
    for chunk, part in zip(split, planned, strict=True):
        # The chunks done in a child: their cells as it left them (those done here already are).
        region = chooser.block_cells(chunk)
        chooser.hidden[region] = False
        chooser.hidden[part.hidden] = True
        if part is not planned[0]:
            report = merge_audits(system, primaries, report, part.audit, region)
    return planned, report


def _plan_and_audit(
    chooser: Chooser,
    needs: list[Need],
    primary: BoolArray,
    share: Sequence[int] | None,
) -> _Planned:
    """Plan some blocks (None: all), then audit them (exact for a union of blocks)."""
    started = time.perf_counter()
    found, spent, untrimmed = _plan(chooser, needs, primary, share)
    planned = time.perf_counter()
    region = None if share is None else chooser.block_cells(share)
    report = audit_system(chooser.system, chooser.hidden, chooser.primaries, region=region)
    seconds = (planned - started, time.perf_counter() - planned)
    return _Planned(found, spent, untrimmed, report, seconds)


def _share_laps(timings: dict[str, float], planned: Sequence[_Planned], since: float) -> float:
    """Split the wall time of planning and auditing between the two stages, in the proportion
    of the seconds the processes spent in each (they run together, chunk by chunk)."""
    now = time.perf_counter()
    plan = sum(part.seconds[0] for part in planned)
    audited = sum(part.seconds[1] for part in planned)
    share = plan / (plan + audited) if plan + audited > 0 else 1.0
    timings["suppression"] += (now - since) * share
    timings["audit"] += (now - since) * (1 - share)
    return now


def _plan(
    chooser: Chooser,
    needs: list[Need],
    primary: BoolArray,
    share: Sequence[int] | None,
) -> tuple[IntArray, float, int]:
    """Choose the secondary cells of some blocks (None: all): outsider needs, then insiders.

    Cells fixed by the published ones protect nothing and are published again before the
    audit, so that its first pass already certifies the final pattern. Then secondary cells
    that no need requires any more are published (:meth:`.suppress.Chooser.trim`). Returns the
    hidden cells of the share, the MILP seconds spent and the number of secondary cells before
    the trim (a child process reports them this way).
    """
    if share is not None:
        chosen = set(share)
        needs = [n for n in needs if int(chooser.block_of[n.weights[0][0]]) in chosen]
    spent, untrimmed = chooser.spent, chooser.untrimmed
    chooser.satisfy(needs)
    chooser.satisfy_insiders(share)
    chooser.publish_fixed(primary, share)
    if chooser.trims:
        before = chooser.hidden.copy()
        chooser.trim(primary, share)
        changed = np.unique(chooser.block_of[before != chooser.hidden]).tolist()
        if changed:
            # Publishing cells can let an insider pin a cell again: plan for it as before.
            chooser.satisfy_insiders(changed)
            chooser.publish_fixed(primary, changed)
    region = chooser.block_cells(share) if share is not None else np.ones(len(primary), bool)
    found = np.flatnonzero(chooser.hidden & region)
    return found, chooser.spent - spent, chooser.untrimmed - untrimmed


def _lap(timings: dict[str, float], stage: str, since: float) -> float:
    now = time.perf_counter()
    timings[stage] += now - since
    return now


def audit(
    cells: Iterable[Cell],
    relations: Iterable[Relation],
    hidden: Iterable[str],
    rules: Rules | None = None,
) -> Audit:
    """Audit a given suppression pattern on its own (primary cells not hidden are disclosed)."""
    system = build_system(cells, relations)
    primaries = find_primaries(system, rules or Rules())
    mask = np.zeros(system.size, dtype=bool)
    for cell_id in hidden:
        if cell_id not in system.index:
            raise DisclosureInputError(f"hidden cell {cell_id} is not in the table")
        if system.public[system.index[cell_id]]:
            raise DisclosureInputError(f"cell {cell_id} is public: it cannot be hidden")
        mask[system.index[cell_id]] = True
    return audit_system(system, mask, primaries)


def _mask(system: System, cells: Iterable[int]) -> BoolArray:
    mask = np.zeros(system.size, dtype=bool)
    mask[list(cells)] = True
    return mask


def _repair_needs(system: System, primaries: Primaries, report: Audit) -> list[Need]:
    """Needs for everything the audit still found open, insiders included."""
    failing = {system.index[c] for c in (*report.under_protected, *report.exact_disclosures)}
    subset = Primaries(
        requirements={c: r for c, r in primaries.requirements.items() if c in failing},
        groups=tuple(
            f for f in primaries.groups if system.ids[f.total] in report.group_disclosures
        ),
        empty=primaries.empty,
    )
    needs = needs_for_primaries(system, subset)
    for contributor, cell in report.insider_codes:
        needs.append(width_need(cell, float(system.values[cell]), insider=contributor))
    narrowed = set(report.insider_under_codes)
    for cell, requirement in primaries.requirements.items():
        for contributor, upper, lower in requirement.insiders:
            if (contributor, cell) in narrowed:
                needs.extend(insider_p_needs(system, cell, contributor, upper, lower))
    return needs


def _drop_pinned_secondaries(
    system: System, hidden: BoolArray, primary: BoolArray, report: Audit
) -> BoolArray:
    pinned = np.zeros(system.size, dtype=bool)
    for cell_id, (low, high) in report.intervals.items():
        cell = system.index[cell_id]
        if high is not None and high - low <= tolerance(float(system.values[cell])):
            pinned[cell] = True
    return drop_pinned(hidden, hidden & ~primary, pinned)


def group_zero_cells(system: System, primaries: Primaries) -> set[int]:
    """Zero cells that protecting a flagged group may need hidden.

    A group whose councils all gave one answer is protected when one of its zero siblings
    could hold a council. A zero margin over such a sibling (the England count of an answer
    no group gave, say) would pin it at zero if published, so it may be hidden too: every
    zero cell linked to a sibling through relations of zero cells.
    """
    wanted = {sibling for flag in primaries.groups for sibling in flag.siblings}
    if not wanted:
        return wanted
    linked: dict[int, list[tuple[int, ...]]] = {}
    for total, parts, _check in system.relations:
        members = (total, *parts)
        for member in members:
            linked.setdefault(member, []).append(members)
    frontier = list(wanted)
    while frontier:
        cell = frontier.pop()
        for members in linked.get(cell, ()):
            for member in members:
                if member not in wanted and system.values[member] == 0:
                    wanted.add(member)
                    frontier.append(member)
    return wanted


def _result(
    system: System,
    primaries: Primaries,
    hidden: BoolArray,
    primary: BoolArray,
    report: Audit,
    timings: dict[str, float],
) -> ProtectionResult:
    outcomes = []
    for cell, cell_id in enumerate(system.ids):
        status: Status
        if primary[cell]:
            status = "primary"
        elif hidden[cell]:
            status = "secondary"
        elif primaries.empty[cell]:
            status = "empty"
        else:
            status = "published"
        interval = report.intervals.get(cell_id) if hidden[cell] else None
        reason: Reason | None = None
        if status == "primary":
            rules = set(primaries.requirements[cell].reasons)
            reason = "group_rule" if rules == {GROUP} else "primary_rule"
        elif status == "secondary":
            reason = "secondary"
        outcomes.append(CellOutcome(cell_id, status, float(system.values[cell]), interval, reason))
    outcomes.sort(key=lambda outcome: outcome.id)
    return ProtectionResult(cells=tuple(outcomes), audit=report, timings=timings)
