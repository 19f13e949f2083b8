"""Primary rules: which cells are unsafe, and how wide their feasibility intervals must be.

Protection levels follow the Handbook on SDC (2024), chapter 4:

* p% rule: unsafe when ``X - x1 - x2 < p/100 * x1``. The upper protection level is
  ``UPL = p/100 * x1 - (X - x1 - x2)``: the interval must reach ``X + UPL``. The lower protection
  level is the same distance, so the interval must reach down to ``X - UPL``. That bound can never
  be negative for p < 100 (``X - UPL >= (1 - p/100) * x1 + x2 > 0``), so no clipping is needed.
* (n,k) dominance: unsafe when ``x1 + ... + xn > k/100 * X``; the interval must reach
  ``100/k * (x1 + ... + xn)`` (Handbook example: 100/85 * 300 = 352.94) and, symmetrically, down
  to ``X - UPL``. For small k that can fall below 0; since every value is >= 0 the audit can never
  show less than 0, so the lower target is clipped at 0 (an interval reaching 0 is as uncertain as
  a non-negative figure can be).
* minimum frequency: unsafe when ``0 < N < n``; frequency cells need only a non-zero width.
* group disclosure (frequency tables): see :func:`group_flags`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from .model import BoolArray, ContributionStore, FloatArray, IntArray, Rules, System

# Reasons a cell is primary (internal only: never printed, since they would reveal parameters).
MIN_CONTRIBUTORS = "min_contributors"
P_PERCENT = "p_percent"
DOMINANCE = "dominance"
FORCED = "forced"
GROUP = "group"


@dataclass(frozen=True)
class Requirement:
    """Protection a primary cell needs: interval reaching ``upper`` and ``lower``, width > 0."""

    cell: int
    reasons: tuple[str, ...]
    upper: float
    lower: float
    # The p% rule protects the largest contribution against the second-largest contributor,
    # who knows all of its own figures in every table of the release: per such contributor
    # (code), the values the cell's interval must reach above and below *as that council sees
    # it*. Reaching ``upper`` here means: upper bound - own value >= (1 + p/100) * x1.
    insiders: tuple[tuple[int, float, float], ...] = ()


@dataclass(frozen=True)
class GroupFlag:
    """A frequency group whose councils all fall in one category: ``part`` equals ``total``."""

    total: int
    part: int
    siblings: tuple[int, ...]


@dataclass(frozen=True)
class Primaries:
    """Result of the primary rules over a whole system."""

    requirements: dict[int, Requirement]
    groups: tuple[GroupFlag, ...]
    empty: BoolArray


def p_percent_unsafe(total: float, x1: float, x2: float, p: float) -> bool:
    """True when the second-largest contributor could estimate the largest within p%."""
    return total - x1 - x2 < p / 100 * x1


def p_percent_protection(total: float, x1: float, x2: float, p: float) -> float:
    """Distance the interval must reach above (and below) the value under the p% rule."""
    return p / 100 * x1 - (total - x1 - x2)


def p_percent_insiders(
    codes: IntArray, values: FloatArray, total: float, p: float
) -> tuple[tuple[int, float, float], ...]:
    """(contributor, upper, lower) targets of a p%-unsafe cell for its second-largest council(s).

    The second-largest contributor x2 subtracts its own value from the upper bound it can
    derive: the rule needs ``upper - x2 >= (1 + p/100) * x1``, i.e. the interval must reach
    ``X + UPL`` as that council sees it, and likewise ``X - UPL`` below. Ties: every council
    whose value equals x2 is a second-largest contributor (when x1 == x2, both top councils).
    """
    positive = values > 0
    codes, values = codes[positive], values[positive]
    if len(values) < 2:
        return ()
    top = np.sort(values)[::-1]
    x1, x2 = float(top[0]), float(top[1])
    distance = p_percent_protection(total, x1, x2, p)
    if distance <= 0:
        return ()
    tied = np.abs(values - x2) <= 1e-9 * max(1.0, x2)
    return tuple((int(code), total + distance, max(0.0, total - distance)) for code in codes[tied])


def dominance_unsafe(top: FloatArray, total: float, n: int, k: float) -> bool:
    """True when the n largest contributions exceed k% of the total."""
    return float(np.sum(top[:n])) > k / 100 * total


def dominance_upper_bound(top: FloatArray, n: int, k: float) -> float:
    """Value the upper bound of the interval must reach under the (n,k) rule."""
    return 100 / k * float(np.sum(top[:n]))


def assess(
    total: float,
    contributions: FloatArray | None,
    n_contributors: int | None,
    frequency: bool,
    rules: Rules,
) -> tuple[tuple[str, ...], float]:
    """Reasons a cell is unsafe and its protection distance (0: only a non-zero width needed).

    ``contributions`` are the cell's values aggregated per contributor (any order).
    """
    reasons: list[str] = []
    distance = 0.0
    if contributions is not None:
        top = np.sort(contributions[contributions > 0])[::-1]
        count = len(top)
    else:
        top = None
        count = n_contributors if n_contributors is not None else -1
    if 0 < count < rules.min_contributors:
        reasons.append(MIN_CONTRIBUTORS)
    # Magnitude rules need the individual values; counts of councils only need a non-zero width.
    if top is not None and not frequency and count > 0:
        x1 = float(top[0])
        x2 = float(top[1]) if count > 1 else 0.0
        if rules.p is not None and p_percent_unsafe(total, x1, x2, rules.p):
            reasons.append(P_PERCENT)
            distance = max(distance, p_percent_protection(total, x1, x2, rules.p))
        if rules.nk is not None:
            n, k = rules.nk
            if dominance_unsafe(top, total, int(n), k):
                reasons.append(DOMINANCE)
                distance = max(distance, dominance_upper_bound(top, int(n), k) - total)
    return tuple(reasons), distance


def group_flags(system: System, rules: Rules) -> tuple[GroupFlag, ...]:
    """Frequency groups smaller than ``group_min_size`` with all councils in one category.

    A relation qualifies when its total is a count of councils, every part is a count or zero,
    the total is positive, exactly one part equals it and all other parts are zero. Knowing the
    group size then tells everyone each member's answer. The part is made primary and its zero
    siblings become hideable: protection means some sibling could be positive.
    """
    if rules.group_min_size <= 0:
        return ()
    values = system.values
    flags = []
    for total, parts, check in system.relations:
        if not check or len(parts) < 2 or not system.frequency[total]:
            continue
        size = values[total]
        if not 0 < size < rules.group_min_size:
            continue
        if not all(system.frequency[p] or values[p] == 0 for p in parts):
            continue
        full = [p for p in parts if values[p] == size]
        zeros = [p for p in parts if values[p] == 0]
        if len(full) == 1 and len(zeros) == len(parts) - 1:
            flags.append(GroupFlag(total=total, part=full[0], siblings=tuple(zeros)))
    return tuple(flags)


def _forget_read(store: ContributionStore, readers: Counter[int], cell: int) -> None:
    """Once ``cell`` is read (cells in order), drop the memoised totals that no cell
    still to be read derives from: ``cell`` itself, and its parts assessed already."""
    for part in store.derive_from.get(cell, ()):
        readers[part] -= 1
        if not readers[part] and part < cell:
            store.forget(part)
    if not readers[cell]:
        store.forget(cell)


def find_primaries(system: System, rules: Rules) -> Primaries:
    """Apply every primary rule to every cell of the system."""
    requirements: dict[int, Requirement] = {}
    empty = np.zeros(system.size, dtype=bool)
    store = system.store
    # A derived total's contributions are kept only until every total derived from it has
    # been assessed: all of them at once were a big release's peak of memory.
    readers = Counter(part for parts in store.derive_from.values() for part in parts)
    for cell in range(system.size):
        total = float(system.values[cell])
        # A count held as bits: the rules need only how many it counts, not who (no magnitude
        # rule applies to a count), so its codes are not made here.
        ones = store.counted_values(cell)
        found = store.get(cell) if ones is None else None
        _forget_read(store, readers, cell)  # found stays in hand for this cell
        contributions = ones if found is None else found[1]
        count = system.count_only.get(cell)
        positive = int(np.count_nonzero(contributions > 0)) if contributions is not None else count
        # Structural zeros (nothing contributed) are published as they are, not suppressed.
        if total == 0 and not positive:
            empty[cell] = not system.forced[cell]
        if system.public[cell]:
            # A public fact discloses nothing that the world does not know: never primary.
            continue
        reasons, distance = assess(total, contributions, count, bool(system.frequency[cell]), rules)
        if system.forced[cell]:
            reasons = (*reasons, FORCED)
        if reasons:
            insiders = ()
            if P_PERCENT in reasons and found is not None and rules.p is not None:
                insiders = p_percent_insiders(found[0], found[1], total, rules.p)
            requirements[cell] = Requirement(
                cell=cell,
                reasons=reasons,
                upper=total + distance,
                lower=max(0.0, total - distance),
                insiders=insiders,
            )
    store.clear_derived()
    groups = tuple(f for f in group_flags(system, rules) if not system.public[f.part])
    for flag in groups:
        known = requirements.get(flag.part)
        value = float(system.values[flag.part])
        reasons = (*known.reasons, GROUP) if known else (GROUP,)
        upper = known.upper if known else value
        lower = known.lower if known else value
        insiders = known.insiders if known else ()
        requirements[flag.part] = Requirement(flag.part, reasons, upper, lower, insiders)
    return Primaries(requirements=requirements, groups=groups, empty=empty)
