"""Links between tables that the audit must see: channels offered and costs at own unit costs.

Each test protects a small round end to end (aggregation, engine, derivation) and then plays
the attacker with a linear programme written here: every relation of the release, published
cells fixed, hidden cells within [0, public upper bound], plus what the attacker knows besides.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from reporting.derived import derive
from reporting.disclosure import Rules, protect
from reporting.services import disclosure_rules
from reporting.tables import (
    NOT_OFFERED,
    OFFERED,
    TOTAL,
    VOLUME,
    Catalogue,
    ChannelInfo,
    Inputs,
    build_system,
    cell_key,
)

RULES = Rules(min_contributors=3, p=10, group_min_size=10)
PHONE_COST = 2.83
CATALOGUE = Catalogue(
    transactions=(("pay", "Pay council tax"), ("bins", "Report a missed bin")),
    channels=(
        ChannelInfo("WEB", "Online", True, 0.15),
        ChannelInfo("PHONE", "Telephone", False, PHONE_COST),
        ChannelInfo("APP", "App", True, None),
    ),
    kinds=("district", "unitary"),
    regions=("east",),
    invited={("district", "east"): 5, ("unitary", "east"): 5},
)


def _round(
    offered: dict[int, list[str]], figures: list[tuple], own_costs: list[tuple] = ()
) -> Inputs:
    """Councils 1-5 are districts and 6-10 unitaries; all provide "pay" but council 5."""
    councils = pd.DataFrame(
        [(i, f"E0{i:07d}", "district" if i <= 5 else "unitary", "east") for i in range(1, 11)],
        columns=["response", "gss", "kind", "region"],
    ).set_index("response")
    transactions = pd.DataFrame(
        [
            (i, "pay", "not_responsible" if i == 5 else "yes", offered.get(i, []), "yes")
            for i in range(1, 11)
        ]
        + [(i, "bins", "yes", ["PHONE"], "no") for i in range(1, 11) if i != 5],
        columns=["response", "transaction", "provision", "offered", "end_to_end"],
    )
    return Inputs(
        councils,
        transactions,
        pd.DataFrame(figures, columns=["response", "transaction", "channel", "value"]),
        pd.DataFrame(list(own_costs), columns=["response", "question", "value"]),
    )


def _attacker_interval(system, hidden, target, extra=()) -> tuple[float, float]:
    """[min, max] of a hidden cell; ``extra``: more equations ({cell: factor}, value)."""
    ids = sorted(hidden)
    position = {c: i for i, c in enumerate(ids)}
    equations = [({r.total: 1.0} | {p: -1.0 for p in r.parts}, 0.0) for r in system.relations]
    rows, rhs = [], []
    for terms, value in [*equations, *extra]:
        row = np.zeros(len(ids))
        constant = value
        for cell, factor in terms.items():
            if cell in position:
                row[position[cell]] += factor
            else:
                constant -= factor * system.values[cell]
        if row.any():
            rows.append(row)
            rhs.append(constant)
    uppers = {c.id: c.upper for c in system.cells}
    bounds = [(0, uppers[c]) for c in ids]
    found = []
    for sign in (1.0, -1.0):
        objective = np.zeros(len(ids))
        objective[position[target]] = sign
        result = linprog(objective, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=bounds)
        found.append(np.inf if result.status == 3 else sign * result.fun)
    return found[0], found[1]


def _protected(inputs: Inputs):
    system = build_system(CATALOGUE, inputs)
    result = protect(system.cells, system.relations, rules=RULES)
    assert result.passed, result.audit
    hidden = {c.id for c in result.cells if c.status in ("primary", "secondary")}
    return system, result, hidden


def _offered_key(table: str, channel: str) -> str:
    return cell_key(table, {"transaction": "pay", "channel": channel, "council_type": "district"})


def test_every_district_provider_offering_a_channel_is_no_longer_published_as_all() -> None:
    # The 4 district providers of "pay" all offer WEB, none offers APP; unitaries vary.
    offered = {1: ["WEB", "PHONE"], 2: ["WEB", "PHONE"], 3: ["WEB"], 4: ["WEB"]}
    offered |= {6: ["WEB", "APP"], 7: ["WEB", "APP"], 8: ["WEB", "APP"], 9: ["PHONE"]}
    offered |= {10: ["PHONE", "WEB", "APP"]}
    system, result, hidden = _protected(_round(offered, [(1, "pay", "WEB", 10.0)]))
    # "All 4 offer WEB": the count is hidden and "not offered" could be positive.
    everyone = _offered_key(OFFERED, "WEB")
    assert everyone in hidden
    low, high = _attacker_interval(system, hidden, _offered_key(NOT_OFFERED, "WEB"))
    assert low == pytest.approx(0) and high >= 1 - 1e-6
    # "None offers APP": the zero is hidden and could be positive.
    nobody = _offered_key(OFFERED, "APP")
    assert nobody in hidden
    low, high = _attacker_interval(system, hidden, nobody)
    assert high >= 1 - 1e-6
    # 2 of 4 offer PHONE: no group disclosure (only the n rule: 2 councils are hidden).
    assert result.cell(_offered_key(NOT_OFFERED, "PHONE")).value == 2


def test_providers_split_into_offered_and_not_offered_for_every_channel() -> None:
    offered = {1: ["WEB"], 2: ["WEB", "PHONE"], 6: ["APP"]}
    system = build_system(CATALOGUE, _round(offered, [(1, "pay", "WEB", 10.0)]))
    for channel in ("WEB", "PHONE", "APP"):
        for kind in ("district", "unitary", TOTAL):
            keys = {"transaction": "pay", "channel": channel, "council_type": kind}
            yes = cell_key(
                "provision", {"transaction": "pay", "answer": "yes", "council_type": kind}
            )
            both = (
                system.values[cell_key(OFFERED, keys)] + system.values[cell_key(NOT_OFFERED, keys)]
            )
            assert both == system.values[yes]


def _vol(slug: str, kind: str = "district") -> str:
    return cell_key(
        VOLUME, {"transaction": slug, "channel": "PHONE", "council_type": kind, "region": TOTAL}
    )


def test_cost_at_default_unit_costs_does_not_reveal_a_hidden_volume_cell() -> None:
    # Districts 1-4 price PHONE at the published default; only council 1 reports bins by PHONE,
    # so that volume is hidden. Unitaries give their own PHONE costs.
    offered = {i: ["PHONE"] for i in range(1, 11) if i != 5}
    figures = [(i, "pay", "PHONE", 40.0 + 10 * i) for i in range(1, 11) if i != 5]
    figures += [(1, "bins", "PHONE", 7.0)]
    own = [(i, "unit-cost-phone", f"{2 + i / 10:.2f}") for i in range(6, 11)]
    system, result, hidden = _protected(_round(offered, figures, own))
    assert _vol("bins") in hidden
    published = {c.id: c.published_value for c in result.cells}
    derived = {c.cell_id: c for c in derive(CATALOGUE, published.__getitem__, system.linear)}
    cost = cell_key("cost_own", {"channel": "PHONE", "council_type": "district"})
    shown = derived[cost].value if cost in derived else published[cost]
    extra = []
    if shown is not None:
        # Everyone knows the default; whoever guesses that all districts used it divides.
        extra.append(({_vol("pay"): PHONE_COST, _vol("bins"): PHONE_COST}, shown))
    low, high = _attacker_interval(system, hidden, _vol("bins"), extra)
    assert high - low > 1e-6
    # The unitaries' cell (own costs) stays a protected cell of the release.
    assert cell_key("cost_own", {"channel": "PHONE", "council_type": "unitary"}) in published


def test_group_size_limit_comes_from_settings(settings) -> None:
    settings.DISCLOSURE_GROUP_MIN_SIZE = 25
    assert disclosure_rules().group_min_size == 25
