"""Change since the previous round on the public page and on a council's comparison, and the
census that traces each figure to its own round's release."""

from __future__ import annotations

import re

import pytest
from django.utils.html import escape

from publishing import rounds
from publishing.since import NOT_COMPARED
from reporting.derived import RESPONSE_RATE, TAKE_UP
from reporting.tests.census import Census

from .test_pages import public_metadata, public_url

pytestmark = [pytest.mark.django_db]

# "up from <span data-cell="id" data-release="slug">X</span> to <span data-cell="id">Y</span>"
CHANGE = re.compile(
    r'(up|down) from <span data-cell="([^"]+)" data-release="([^"]+)">([^<]+)</span> '
    r'to <span data-cell="([^"]+)">([^<]+)</span>'
)


def public_page(client, survey) -> str:
    page = client.get(public_url(survey))
    assert page.status_code == 200
    return page.content.decode()


def section(html: str) -> str:
    """The "Change since" section of the public page."""
    start = html.index('id="since-previous"')
    return html[start : html.index('id="methods"', start)]


def test_the_later_round_shows_changes_of_cells_published_in_both(two_rounds, client):
    current, previous = two_rounds["current"], two_rounds["previous"]
    html = public_page(client, two_rounds["second"])
    name = previous.round.name
    assert f"Change since {name}" in html
    assert escape(rounds.CLASSIFICATION_NOTE) in html
    assert "Comparing rounds reveals no council" in html

    shown = CHANGE.findall(section(html))
    assert shown
    expected = {
        **rounds.cell_changes(current, previous, TAKE_UP),
        **rounds.cell_changes(current, previous, RESPONSE_RATE),
    }
    for direction, before_id, release, before, now_id, now in shown:
        change = expected[before_id]
        assert (before_id, release) == (now_id, previous.round.slug)
        assert (direction, before, now) == (
            change.direction,
            change.previous.text,
            change.current.text,
        )
    assert {d for d, *_ in shown} >= {"up"}
    # Every cell published in both rounds that the tables cover, and no other.
    listed = {before_id for _d, before_id, *_ in shown}
    unchanged = set(re.findall(r'unchanged at <span data-cell="([^"]+)">', section(html)))
    covered = {
        cell_id
        for cell_id, change in expected.items()
        if change.keys["region"] == "total"
        or (change.table == RESPONSE_RATE and change.keys["council_type"] == "total")
    }
    assert listed | unchanged == covered

    # A cell hidden (or not applicable) in either round has no change words: "Not compared".
    rows = {
        c["id"]
        for c in current.cells()
        if (c["table"] == TAKE_UP and c["keys"]["region"] == "total")
        or (c["table"] == RESPONSE_RATE and "total" in c["keys"].values())
    }
    hidden = {
        c["id"]
        for publication in (current, previous)
        for c in publication.cells()
        if c["value"] is None and c["id"] in rows
    }
    assert hidden, "no cell of the tables is hidden in either round"
    assert not hidden & (listed | unchanged)
    assert section(html).count(f">{NOT_COMPARED}<") == len(rows - listed - unchanged)

    # The first round has no previous one: no change, no note.
    first = public_page(client, two_rounds["first"])
    assert 'id="since-previous"' not in first and escape(rounds.CLASSIFICATION_NOTE) not in first


def test_the_census_traces_each_figure_to_its_own_round(two_rounds, client):
    current, previous = two_rounds["current"], two_rounds["previous"]
    html = public_page(client, two_rounds["second"])
    check = Census(current, extra=public_metadata(two_rounds["second"]), earlier=(previous,))
    check.page("2016", html)
    assert check.problems == []

    # Without the earlier round, its figures are no cell of the page's release.
    alone = Census(current, extra=public_metadata(two_rounds["second"]))
    alone.page("2016", html)
    assert alone.problems and all("round-2015" in p for p in alone.problems)

    # A planted wrong previous figure: the current figure passed off as the previous one.
    _direction, cell_id, _release, before, _now_id, now = CHANGE.search(section(html)).groups()
    wrong = html.replace(
        f'data-release="{previous.round.slug}">{before}</span>',
        f'data-release="{previous.round.slug}">{now}</span>',
        1,
    )
    check = Census(current, extra=public_metadata(two_rounds["second"]), earlier=(previous,))
    check.page("2016", wrong)
    assert len(check.problems) == 1 and cell_id in check.problems[0]
