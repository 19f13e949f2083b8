"""Derived figures (shares, digital take-up, costs, scenarios, response rates).

Computed only from the published cells of a protected release: a derived figure whose
inputs include any hidden cell is itself withheld ([c]), so no ratio or sum can leak a hidden
cell. Pure Python, like ``reporting.tables``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from reporting.tables import (
    RESPONDED,
    TOTAL,
    VOLUME,
    Catalogue,
    LinearCell,
    cell_key,
    merge_small_kinds,
)

SHARE = "share"
TAKE_UP = "take_up"
COST_DEFAULT = "cost_default"
SCENARIO = "scenario"
INVITED = "invited"
RESPONSE_RATE = "response_rate"
DERIVED_TABLES = (SHARE, TAKE_UP, COST_DEFAULT, SCENARIO, INVITED, RESPONSE_RATE)

PUBLISHED = "published"
WITHHELD = "withheld"
NOT_APPLICABLE = "empty"  # no denominator: shown as [z]


@dataclass(frozen=True)
class Scenario:
    slug: str
    title: str
    moved: Mapping[str, float]  # channel code -> fraction moved
    to: str


SCENARIOS = (
    Scenario(
        "half-phone-f2f-to-web",
        "Half of telephone and face-to-face transactions moved to online self-service",
        {"PHONE": 0.5, "F2F": 0.5},
        "WEB",
    ),
)


@dataclass(frozen=True)
class DerivedCell:
    table: str
    keys: dict[str, str]
    value: float | None
    status: str

    @property
    def cell_id(self) -> str:
        return cell_key(self.table, self.keys)


# Looks up the published value of a protected cell; None when it is hidden.
Lookup = Callable[[str], float | None]


class _Hidden(Exception):
    pass


def _sum(lookup: Lookup, ids: Iterable[str]) -> float:
    total = 0.0
    for cell_id in ids:
        value = lookup(cell_id)
        if value is None:
            raise _Hidden
        total += value
    return total


def _ratio(
    table: str, keys: dict[str, str], numerator: Callable[[], float], denominator
) -> DerivedCell:
    try:
        top, bottom = numerator(), denominator()
    except _Hidden:
        return DerivedCell(table, keys, None, WITHHELD)
    if bottom == 0:
        return DerivedCell(table, keys, None, NOT_APPLICABLE)
    return DerivedCell(table, keys, round(100 * top / bottom, 1), PUBLISHED)


def _amount(table: str, keys: dict[str, str], compute: Callable[[], float]) -> DerivedCell:
    try:
        return DerivedCell(table, keys, round(compute(), 2), PUBLISHED)
    except _Hidden:
        return DerivedCell(table, keys, None, WITHHELD)


def _vol(slug: str, channel: str, kind: str, region: str) -> str:
    return cell_key(
        VOLUME, {"transaction": slug, "channel": channel, "council_type": kind, "region": region}
    )


def margins(cat: Catalogue) -> list[tuple[str, str]]:
    """(type, region) pairs of the type margins, the region margins and England."""
    return [(k, TOTAL) for k in (*cat.kinds, TOTAL)] + [(TOTAL, r) for r in cat.regions]


def derive(cat: Catalogue, lookup: Lookup, linear: Sequence[LinearCell] = ()) -> list[DerivedCell]:
    """Every derived figure of a release, from its published cells only.

    ``linear``: figures of protected tables that are sums of protected cells (e.g. a cost at
    councils' own unit costs where all of them used the default, see ``reporting.tables``).
    """
    cat = merge_small_kinds(cat)  # the same groups as the protected tables
    cells: list[DerivedCell] = []
    slugs = [slug for slug, _ in cat.transactions]
    codes = [c.code for c in cat.channels]
    digital = [c.code for c in cat.channels if c.is_digital]
    for slug in slugs:
        for kind, region in margins(cat):
            for code in codes:
                keys = {
                    "transaction": slug,
                    "channel": code,
                    "council_type": kind,
                    "region": region,
                }
                cells.append(
                    _ratio(
                        SHARE,
                        keys,
                        lambda s=slug, c=code, k=kind, r=region: _sum(lookup, [_vol(s, c, k, r)]),
                        lambda s=slug, k=kind, r=region: _sum(lookup, [_vol(s, TOTAL, k, r)]),
                    )
                )
    everything = [*cat.groups, *margins(cat)]
    for slug in (*slugs, TOTAL):
        chosen = slugs if slug == TOTAL else [slug]
        for kind, region in everything:
            keys = {"transaction": slug, "council_type": kind, "region": region}
            cells.append(
                _ratio(
                    TAKE_UP,
                    keys,
                    lambda t=chosen, k=kind, r=region: _sum(
                        lookup, [_vol(s, c, k, r) for s in t for c in digital]
                    ),
                    lambda t=chosen, k=kind, r=region: _sum(
                        lookup, [_vol(s, TOTAL, k, r) for s in t]
                    ),
                )
            )
    cells.extend(_costs(cat, lookup, slugs))
    cells.extend(_response_rates(cat, lookup))
    cells.extend(_linear(cell, lookup) for cell in linear)
    return cells


def _linear(cell: LinearCell, lookup: Lookup) -> DerivedCell:
    """The first way of computing the figure whose cells are all published, else withheld."""
    for way in cell.ways:
        try:
            total = sum(_sum(lookup, [cell_id]) * factor for cell_id, factor in way)
        except _Hidden:
            continue
        return DerivedCell(cell.table, cell.keys, round(total, 2), PUBLISHED)
    return DerivedCell(cell.table, cell.keys, None, WITHHELD)


def _costs(cat: Catalogue, lookup: Lookup, slugs: list[str]) -> list[DerivedCell]:
    cells = []
    costs = {c.code: c.default_cost for c in cat.channels if c.default_cost is not None}
    for slug in (*slugs, TOTAL):
        chosen = slugs if slug == TOTAL else [slug]
        for kind in (*cat.kinds, TOTAL):
            keys = {"transaction": slug, "council_type": kind}
            cells.append(
                _amount(
                    COST_DEFAULT,
                    keys,
                    lambda t=chosen, k=kind: sum(
                        _sum(lookup, [_vol(s, code, k, TOTAL) for s in t]) * cost
                        for code, cost in costs.items()
                    ),
                )
            )
            for scenario in SCENARIOS:
                if scenario.to not in costs or not set(scenario.moved) <= set(costs):
                    continue
                base = {**keys, "scenario": scenario.slug}
                moved = {
                    code: (
                        lambda t=chosen, k=kind, c=code: _sum(
                            lookup, [_vol(s, c, k, TOTAL) for s in t]
                        )
                    )
                    for code in scenario.moved
                }
                cells.append(
                    _amount(
                        SCENARIO,
                        {**base, "measure": "moved"},
                        lambda m=moved, sc=scenario: sum(sc.moved[c] * f() for c, f in m.items()),
                    )
                )
                cells.append(
                    _amount(
                        SCENARIO,
                        {**base, "measure": "cost_change"},
                        lambda m=moved, sc=scenario: sum(
                            sc.moved[c] * f() * (costs[sc.to] - costs[c]) for c, f in m.items()
                        ),
                    )
                )
    return cells


def _response_rates(cat: Catalogue, lookup: Lookup) -> list[DerivedCell]:
    cells = []
    for kind, region in [*cat.groups, *margins(cat)]:
        invited = sum(
            n for (k, r), n in cat.invited.items() if kind in (k, TOTAL) and region in (r, TOTAL)
        )
        keys = {"council_type": kind, "region": region}
        # Who is invited is public (the population of councils), so it is published as is.
        cells.append(DerivedCell(INVITED, keys, float(invited), PUBLISHED))
        responded = cell_key(RESPONDED, keys)
        cells.append(
            _ratio(
                RESPONSE_RATE,
                keys,
                lambda c=responded: _sum(lookup, [c]),
                lambda n=invited: float(n),
            )
        )
    return cells
