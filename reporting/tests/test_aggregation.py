"""Aggregation on small hand-made frames, checked against hand-computed totals."""

import pandas as pd

from reporting.derived import SHARE, TAKE_UP, derive
from reporting.tables import (
    Catalogue,
    ChannelInfo,
    Inputs,
    QuestionInfo,
    build_system,
    cell_key,
)

CATALOGUE = Catalogue(
    transactions=(("pay", "Pay council tax"), ("bins", "Report a missed bin")),
    channels=(
        ChannelInfo("WEB", "Online", True, 0.15),
        ChannelInfo("PHONE", "Telephone", False, 2.83),
        ChannelInfo("APP", "App", True, None),
    ),
    kinds=("district", "unitary"),
    regions=("east", "london"),
    invited={("district", "east"): 3, ("unitary", "east"): 2, ("unitary", "london"): 2},
    questions=(QuestionInfo("digital-lead", "capability", "Lead?", ("yes", "no")),),
)


def _inputs() -> Inputs:
    councils = pd.DataFrame(
        [
            (1, "E07000001", "district", "east"),
            (2, "E07000002", "district", "east"),
            (3, "E06000003", "unitary", "east"),
            (4, "E06000004", "unitary", "london"),
        ],
        columns=["response", "gss", "kind", "region"],
    ).set_index("response")
    transactions = pd.DataFrame(
        [
            (1, "pay", "yes", ["WEB", "PHONE"], "yes"),
            (2, "pay", "yes", ["WEB"], "partly"),
            (3, "pay", "yes", ["WEB", "PHONE", "APP"], "no"),
            (4, "pay", "other_organisation", [], ""),
            (1, "bins", "yes", ["PHONE"], "no"),
        ],
        columns=["response", "transaction", "provision", "offered", "end_to_end"],
    )
    figures = pd.DataFrame(
        [
            (1, "pay", "WEB", 100.0),
            (1, "pay", "PHONE", 50.0),
            (2, "pay", "WEB", 30.0),
            (2, "pay", "PHONE", 999.0),  # channel not offered: does not count
            (3, "pay", "WEB", 200.0),
            (3, "pay", "PHONE", 20.0),
            (3, "pay", "APP", 10.0),
            (4, "pay", "WEB", 777.0),  # not provided by the council: does not count
            (1, "bins", "PHONE", None),  # not recorded
        ],
        columns=["response", "transaction", "channel", "value"],
    )
    answers = pd.DataFrame(
        [
            (1, "digital-lead", "yes"),
            (2, "digital-lead", "no"),
            (3, "digital-lead", "yes"),
            (1, "unit-cost-web", "0.50"),
            (3, "unit-cost-phone", "£3.00"),
        ],
        columns=["response", "question", "value"],
    )
    return Inputs(councils, transactions, figures, answers)


def _value(system, table, **keys):
    return system.values[cell_key(table, keys)]


def test_volume_cells_and_margins_add_up_to_hand_computed_totals():
    system = build_system(CATALOGUE, _inputs())

    def vol(channel, kind, region):
        return _value(
            system, "volume", transaction="pay", channel=channel, council_type=kind, region=region
        )

    assert vol("WEB", "district", "east") == 130
    assert vol("PHONE", "district", "east") == 50
    assert vol("WEB", "unitary", "east") == 200
    assert vol("WEB", "unitary", "london") == 0
    assert vol("WEB", "total", "east") == 330
    assert vol("WEB", "total", "total") == 330
    assert vol("APP", "total", "total") == 10
    assert vol("total", "total", "total") == 330 + 70 + 10
    assert vol("total", "unitary", "total") == 230


def test_every_relation_holds_and_cells_are_linked_across_tables():
    system = build_system(CATALOGUE, _inputs())
    for relation in system.relations:
        assert system.values[relation.total] == sum(system.values[p] for p in relation.parts)
    totals = {r.total for r in system.relations}
    # The responding councils of a type are the total of the provision answers of that type.
    assert cell_key("responded", {"council_type": "unitary", "region": "total"}) in totals
    provision_parts = [
        r.parts
        for r in system.relations
        if r.total == cell_key("responded", {"council_type": "unitary", "region": "total"})
        and any(p.startswith("provision|pay") for p in r.parts)
    ]
    assert provision_parts


def test_frequency_tables_count_councils():
    system = build_system(CATALOGUE, _inputs())
    assert _value(system, "responded", council_type="total", region="total") == 4
    assert _value(system, "responded", council_type="unitary", region="london") == 1
    keys = {"transaction": "pay", "answer": "yes", "council_type": "total"}
    assert _value(system, "provision", **keys) == 3
    keys = {"transaction": "pay", "answer": "other_organisation", "council_type": "unitary"}
    assert _value(system, "provision", **keys) == 1
    keys = {"transaction": "bins", "answer": "not_answered", "council_type": "total"}
    assert _value(system, "provision", **keys) == 3
    keys = {"transaction": "pay", "channel": "PHONE", "council_type": "total"}
    assert _value(system, "offered", **keys) == 2
    keys = {"transaction": "pay", "answer": "no", "council_type": "unitary"}
    assert _value(system, "end_to_end", **keys) == 1
    keys = {"section": "capability", "question": "digital-lead", "answer": "yes"}
    assert _value(system, "answers", **keys, council_type="total") == 2
    assert (
        _value(system, "answers", **{**keys, "answer": "not_answered"}, council_type="total") == 1
    )


def test_own_costs_use_the_councils_unit_cost_or_the_published_default():
    system = build_system(CATALOGUE, _inputs())
    # District WEB: council 1 at its own £0.50 x 100, council 2 at the default £0.15 x 30.
    assert _value(system, "cost_own", channel="WEB", council_type="district") == 50 + 4.5
    # Unitary PHONE: council 3 at its own £3.00 x 20; APP has no cost at all.
    assert _value(system, "cost_own", channel="PHONE", council_type="unitary") == 60
    assert _value(system, "cost_own", channel="APP", council_type="total") == 0


def test_derived_figures_use_published_cells_only_and_are_withheld_otherwise():
    system = build_system(CATALOGUE, _inputs())
    hidden = {
        cell_key(
            "volume",
            {"transaction": "pay", "channel": "APP", "council_type": "unitary", "region": "east"},
        )
    }

    def lookup(cell_id):
        return None if cell_id in hidden else system.values[cell_id]

    cells = {c.cell_id: c for c in derive(CATALOGUE, lookup)}
    share = cells[
        cell_key(
            SHARE,
            {"transaction": "pay", "channel": "WEB", "council_type": "district", "region": "total"},
        )
    ]
    assert share.value == round(100 * 130 / 180, 1)
    # Take-up needs APP, which is hidden for unitaries in the east: withheld, not computed.
    take_up = cells[
        cell_key(TAKE_UP, {"transaction": "pay", "council_type": "unitary", "region": "east"})
    ]
    assert take_up.value is None and take_up.status == "withheld"
    district = cells[
        cell_key(TAKE_UP, {"transaction": "pay", "council_type": "district", "region": "east"})
    ]
    assert district.value == round(100 * 130 / 180, 1)
    empty = cells[
        cell_key(TAKE_UP, {"transaction": "bins", "council_type": "total", "region": "total"})
    ]
    assert empty.value is None and empty.status == "empty"
