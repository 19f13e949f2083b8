"""How the analysts' pages and downloads write figures: symbols, money, shares and counts."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reporting import selectors
from reporting.services import release_build
from reporting.tables import TOTAL

pytestmark = [pytest.mark.django_db]

PAGES = ("release-overview", "release-channels", "release-take-up", "release-costs",
         "release-answers")  # fmt: skip
COUNT_TABLES = {"volume", "responded", "invited", "provision", "end_to_end", "offered", "answers"}


@pytest.fixture
def released(small_round):
    release = release_build(survey_id=small_round.pk)
    assert release.published_at is not None
    return release


def test_channels_without_a_published_unit_cost_are_not_costed(released):
    labels = selectors.release_labels(release=released)
    assert labels.uncosted == {"EMAIL", "APP", "SOCIAL", "CHAT", "OTHER"}
    view = selectors.release_view(release=released)
    own = selectors.table_own_costs(view, labels)
    rows = {row[0]: [v.text for v in row[1:]] for row in own.rows}
    for code in labels.uncosted:
        assert set(rows[labels.channel(code)]) == {"[x]"}, code
    for code in set(labels.channels) - labels.uncosted:  # a published default: costed
        assert "[x]" not in rows[labels.channel(code)], code
    assert "[x]" in own.symbols()


def test_money_losses_have_a_minus_sign_before_the_pound(released, analyst_client):
    assert selectors.Shown(-1176403.0, "pounds", cell="a").text == "\u2212£1,176,403"
    assert selectors.Shown(2810663.0, "pounds", cell="b").text == "£2,810,663"
    page = analyst_client.get(reverse("reporting:release-costs", args=[released.survey.slug]))
    assert "£-" not in page.content.decode()


def test_all_channels_share_is_100_percent_by_definition(released):
    labels = selectors.release_labels(release=released)
    view = selectors.release_view(release=released)
    mix = selectors.table_channel_mix(view, labels, "pay-council-tax")
    total = next(row for row in mix.rows if row[1] == labels.channel(TOTAL))
    assert total[3].text == "100.0%"


def test_all_channels_share_stays_not_applicable_with_nothing_to_share():
    zero = selectors.Shown(0, cell="a")
    nothing = selectors.Shown(None, "percent", selectors.NOT_APPLICABLE)
    hidden = selectors.Shown(None, "percent", selectors.CONFIDENTIAL)
    assert selectors._whole_share(zero, [nothing, nothing]).text == "[z]"
    assert selectors._whole_share(selectors.Shown(None), [hidden, hidden]).text == "[c]"
    published = selectors.Shown(40.0, "percent", cell="b")
    assert selectors._whole_share(selectors.Shown(None), [hidden, published]).text == "100.0%"


def test_every_symbol_a_page_shows_is_explained_beside_its_table(released, analyst_client):
    slug = released.survey.slug
    shown_somewhere = set()
    for name in PAGES:
        html = analyst_client.get(reverse(f"reporting:{name}", args=[slug])).content.decode()
        for table in re.findall(r"<table.*?</table>\s*</div>\s*(?:<dl.*?</dl>)?", html, re.S):
            cells = re.findall(r'govuk-table__cell--numeric"[^>]*>\s*(\[\w\])\s*<', table)
            legend = re.findall(r'app-symbols__symbol">(\[\w\])<', table)
            assert sorted(set(cells)) == legend, name
            shown_somewhere |= set(cells)
    assert shown_somewhere == {"[c]", "[x]", "[z]"}


def test_downloads_write_counts_as_whole_numbers(released, analyst_client):
    slug = released.survey.slug
    url = lambda fmt: reverse("reporting:release-download", args=[slug, fmt])  # noqa: E731
    rows = list(csv.DictReader(io.StringIO(analyst_client.get(url("csv")).content.decode())))
    counts = [r["value"] for r in rows if r["table"] in COUNT_TABLES and r["value"] != "[c]"]
    assert counts and all(re.fullmatch(r"\d+", v) for v in counts), counts[:5]
    cells = json.loads(analyst_client.get(url("json")).content)["cells"]
    values = [c["value"] for c in cells if c["table"] in COUNT_TABLES and c["value"] is not None]
    assert values and all(type(v) is int for v in values)
    workbook = load_workbook(io.BytesIO(analyst_client.get(url("xlsx")).content))
    detail = workbook["Transactions in detail"]
    numbers = [row[4] for row in detail.iter_rows(min_row=3, values_only=True) if row[4] != "[c]"]
    assert numbers and all(type(v) is int for v in numbers)
