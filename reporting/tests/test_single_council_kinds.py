"""Attack 6, structure: a council type holding one council is published with its peers.

The City of London is the only council of its type, as the Isles of Scilly are of theirs: a
row for either type would be that one council's answers. ``reporting.tables.REPORTING_KIND``
counts them with the London boroughs and the unitaries.
"""

from __future__ import annotations

import pytest

from authorities.choices import AuthorityKind, Region
from reporting.models import Release, ReleaseCell, ReleaseStatus
from reporting.services import release_build, release_catalogue, release_load
from reporting.tables import build_system
from surveys.tests.factories import make_authority

from .analyst_outputs import analyst_outputs, xlsx_texts
from .factories import SMALL_ROUND, TRANSACTION, close_round, make_small_round, submitted_response

pytestmark = [pytest.mark.django_db]

SINGLE_KINDS = (AuthorityKind.CITY_OF_LONDON.value, AuthorityKind.ISLES_OF_SCILLY.value)
SINGLE_LABELS = ("City of London", "Isles of Scilly")
# (GSS code, three-letter code, type, region, figures): the City's and Scilly's figures are
# odd numbers that no other council's figures add up to.
PEERS = [
    ("E09000002", "BDG", "london_borough", "london", {"WEB": 2000, "PHONE": 600, "F2F": 150}),
    ("E09000003", "BNE", "london_borough", "london", {"WEB": 2100, "PHONE": 650, "F2F": 160}),
    ("E09000004", "BEX", "london_borough", "london", {"WEB": 2300, "PHONE": 700, "F2F": 170}),
    ("E09000001", "LND", "city_of_london", "london", {"WEB": 77, "PHONE": 31, "F2F": 13}),
    ("E06000022", "BAS", "unitary", "south_west", {"WEB": 1500, "PHONE": 420, "F2F": 95}),
    ("E06000023", "BST", "unitary", "south_west", {"WEB": 1600, "PHONE": 430, "F2F": 105}),
    ("E06000024", "NSM", "unitary", "south_west", {"WEB": 1700, "PHONE": 440, "F2F": 115}),
    ("E06000053", "IOS", "isles_of_scilly", "south_west", {"WEB": 19, "PHONE": 7, "F2F": 3}),
]
LONDON_WEB = 2000 + 2100 + 2300 + 77
SOUTH_WEST_WEB = 1500 + 1600 + 1700 + 19


@pytest.fixture
def merged_round(survey):
    make_small_round(survey, SMALL_ROUND)
    for gss, code, kind, region, figures in PEERS:
        authority = make_authority(gss, kind=kind, region=region, code=code)
        submitted_response(survey, authority, figures)
    return close_round(survey)


@pytest.fixture
def merged_release(merged_round) -> Release:
    # Every council here answers no closed question, so each type's group falls in one
    # category: the default group rule protects them (hiding the zero margins too).
    built = release_build(survey_id=merged_round.pk)
    assert built.status == ReleaseStatus.READY, built.error
    assert built.published_at is not None
    return built


def _names_a_single_kind(text: str) -> bool:
    return any(kind in text for kind in SINGLE_KINDS)


def test_the_engine_counts_single_council_types_with_their_peers(merged_round):
    catalogue = release_catalogue(survey=merged_round)
    # The population knows both types; the protected system does not.
    assert {AuthorityKind.CITY_OF_LONDON, AuthorityKind.ISLES_OF_SCILLY} <= set(catalogue.kinds)
    system = build_system(catalogue, release_load(survey=merged_round, catalogue=catalogue))
    assert not any(_names_a_single_kind(cell.id) for cell in system.cells)
    assert system.values["responded|london_borough|london"] == 4
    assert system.values["responded|unitary|south_west"] == 4
    assert system.values["responded|unitary|total"] == len(SMALL_ROUND) + 4
    web = f"volume|{TRANSACTION}|WEB"
    assert system.values[f"{web}|london_borough|london"] == LONDON_WEB
    assert system.values[f"{web}|unitary|south_west"] == SOUTH_WEST_WEB


def test_no_released_cell_key_or_relation_names_a_single_council_type(merged_release):
    cells = list(ReleaseCell.objects.filter(release=merged_release))
    assert cells
    for cell in cells:
        assert not _names_a_single_kind(cell.cell_id), cell.cell_id
        assert not any(_names_a_single_kind(v) for v in cell.keys.values()), cell.cell_id
    for total, parts in merged_release.relations:
        assert not _names_a_single_kind(total)
        assert not any(_names_a_single_kind(p) for p in parts)
    kinds = {c.keys["council_type"] for c in cells if "council_type" in c.keys}
    assert kinds == {"london_borough", "unitary", "total"}


def test_single_council_types_are_counted_under_the_merged_groups(merged_release):
    def cell(table, kind, region):
        return ReleaseCell.objects.get(
            release=merged_release, table=table, keys={"council_type": kind, "region": region}
        )

    # Invitations are public and always published: the City and Scilly are in their peers'.
    assert cell("invited", "london_borough", "london").value == 4
    assert cell("invited", "unitary", "south_west").value == 4
    assert cell("invited", "unitary", "total").value == len(SMALL_ROUND) + 4
    assert cell("invited", "total", "total").value == len(SMALL_ROUND) + len(PEERS)
    assert merged_release.counts["respondents"] == len(SMALL_ROUND) + len(PEERS)
    for kind, region, count in (("london_borough", "london", 4), ("unitary", "south_west", 4)):
        responded = cell("responded", kind, region)
        if responded.hidden:
            assert responded.interval_low <= count <= responded.interval_high
        else:
            assert responded.value == count
            assert cell("response_rate", kind, region).value == 100.0


def test_no_page_or_download_shows_a_single_council_type(merged_release, analyst_client):
    outputs = analyst_outputs(analyst_client, merged_release.survey)
    for url, text in outputs.items():
        assert not _names_a_single_kind(text), url
        for label in SINGLE_LABELS:
            # Only the merged rows' labels mention them ("London borough (with the City of
            # London)"); no row or column is headed by the single type alone.
            assert f">{label}<" not in text, (url, label)
            assert f'"{label}"' not in text, (url, label)
    overview = outputs[next(u for u in outputs if u.endswith(f"/{merged_release.survey.slug}/"))]
    assert "London borough (with the City of London)" in overview
    assert "Unitary authority (with the Isles of Scilly)" in overview


def test_the_workbook_has_no_row_for_a_single_council_type(merged_release):
    from reporting.exports import release_xlsx
    from reporting.publication import Publication

    texts = xlsx_texts(release_xlsx(publication=Publication(merged_release)))
    assert "London borough (with the City of London)" in texts
    for label in SINGLE_LABELS:
        assert label not in texts
    assert Region.LONDON.label in texts
