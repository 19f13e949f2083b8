"""Change since the previous round on the public page and on a council's comparison, and the
census that traces each figure to its own round's release."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils.html import escape

from authorities.models import Authority
from publishing import rounds, services
from publishing.since import NOT_COMPARED
from reporting.derived import RESPONSE_RATE, TAKE_UP
from reporting.tests.census import Census
from reporting.tests.factories import SMALL_ROUND, TRANSACTION
from survey_site.formatting import datetime_text
from surveys.models import Response
from surveys.services import link_issue

from .test_comparison import COMPARE, expected_own, open_after_close
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


# --- A council's comparison -----------------------------------------------------------------


def comparison_page(survey, authority) -> tuple[Response, str]:
    response = Response.objects.get(survey=survey, authority=authority)
    return response, open_after_close(Client(), link_issue(response=response))


def comparison_census(two_rounds, response, html, own: dict[str, str], *names: str) -> list[str]:
    current, previous = two_rounds["current"], two_rounds["previous"]
    check = Census(current, earlier=(previous,))
    check.allow(datetime_text(services.live(two_rounds["second"]).published_at))
    check.allow(datetime_text(response.submitted_at))
    for name in (response.authority.official_name, *names):
        check.allow(name)
    check.page(COMPARE, html, own=own)
    return check.problems


def test_a_merged_council_sees_its_predecessors_figures_and_published_changes(two_rounds):
    second, merged = two_rounds["second"], two_rounds["merged"]
    response, html = comparison_page(second, merged)
    name = two_rounds["previous"].round.name
    assert f'id="since-previous">Since {name}<' in html
    predecessors = [two_rounds["predecessors"][code].official_name for code in ("PRA", "PRB")]
    assert "those of the councils it replaced, added together: " in html
    assert all(council in html for council in predecessors)
    assert f"Councils your council replaced: {name}" in html

    # Its figures now (as test_comparison works them out), and the two councils' in 2015
    # summed, from the fixture's inputs: online 700 + 800, telephone 100 each.
    own = expected_own(second, {"WEB": 2000, "PHONE": 150}, {})
    web, phone = 700 + 800, 100 + 100
    own |= {
        f"previous|volume|{TRANSACTION}|WEB": f"{web:,}",
        f"previous|volume|{TRANSACTION}|PHONE": f"{phone:,}",
        f"previous|take_up|{TRANSACTION}": f"{100 * web / (web + phone):.1f}%",
        "previous|take_up|total": f"{100 * web / (web + phone):.1f}%",
    }
    assert comparison_census(two_rounds, response, html, own, *predecessors) == []
    earlier = {key for key in own if key.startswith("previous|")}
    assert earlier and earlier <= set(re.findall(r'data-own="([^"]+)"', html))

    # The published changes of its type, its region and England, each traced to its round.
    since = html[html.index('id="since-take-up"') :]
    assert CHANGE.search(since) or "unchanged at" in since
    for _direction, cell_id, release, *_ in CHANGE.findall(since):
        assert release == "round-2015"
        assert cell_id.split("|")[1] in (TRANSACTION, "total"), cell_id

    # A planted wrong previous figure of its own is reported.
    planted = html.replace(
        f'data-own="previous|volume|{TRANSACTION}|WEB">{web:,}<',
        f'data-own="previous|volume|{TRANSACTION}|WEB">{web + 1:,}<',
    )
    assert planted != html
    problems = comparison_census(two_rounds, response, planted, own, *predecessors)
    assert len(problems) == 1 and "previous|volume" in problems[0]


def test_the_same_council_sees_its_own_previous_figures(two_rounds):
    second = two_rounds["second"]
    gss, _kind, _region, figures, _ = SMALL_ROUND[0]
    authority = Authority.objects.get(gss_code=gss)
    response, html = comparison_page(second, authority)
    name = two_rounds["previous"].round.name
    assert f"Your council: {name}" in html and "Councils your council replaced" not in html
    later = {"WEB": figures["WEB"] + 300, "PHONE": figures["PHONE"] - 50, "F2F": figures["F2F"]}
    own = expected_own(second, later, {})
    digital = figures["WEB"] / sum(figures.values())
    own |= {f"previous|volume|{TRANSACTION}|{code}": f"{v:,}" for code, v in figures.items()}
    own |= {f"previous|take_up|{s}": f"{100 * digital:.1f}%" for s in (TRANSACTION, "total")}
    assert comparison_census(two_rounds, response, html, own) == []
    earlier = {key for key in own if key.startswith("previous|")}
    assert earlier and earlier <= set(re.findall(r'data-own="([^"]+)"', html))


def test_a_council_without_previous_figures_is_told_why(two_rounds):
    second = two_rounds["second"]
    response, html = comparison_page(second, two_rounds["partly"])
    reason = rounds.own_previous(two_rounds["partly"], second).reason
    assert reason and escape(reason) in html
    assert "previous|" not in html
    own = expected_own(second, {"WEB": 2000, "PHONE": 150}, {})
    assert comparison_census(two_rounds, response, html, own) == []
