"""The answers page shows one transaction at a time; charts are drawn for phones too."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from reporting.charts import NARROW_LABEL_CHARS, NARROW_WIDTH, bar_chart
from reporting.selectors import Shown
from reporting.services import release_build

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def answers_url(small_round):
    assert release_build(survey_id=small_round.pk).published_at is not None
    return reverse("reporting:release-answers", args=[small_round.slug])


def test_answers_page_shows_the_chosen_transaction_and_a_contents_list(analyst_client, answers_url):
    first = analyst_client.get(answers_url).content.decode()
    assert "(Pay council tax)</caption>" in first  # the first transaction by default
    chosen = analyst_client.get(answers_url, {"transaction": "fly-tipping"}).content.decode()
    assert 'value="fly-tipping" selected' in chosen
    start = chosen.index('id="provision"')
    tables = chosen[start : chosen.index("Platforms, capability", start)]
    assert "Report fly-tipping" in tables and "Pay council tax" not in tables
    nav = chosen.index('aria-labelledby="contents-heading"')
    contents = chosen[nav : chosen.index("</nav>", nav)]
    targets = re.findall(r'href="#([\w-]+)"', contents)
    assert len(targets) == 5 and all(f'id="{target}"' in chosen for target in targets)


@pytest.mark.parametrize("bad", ["no-such-transaction", "<script>", "x" * 5000, "total"])
def test_an_unknown_transaction_is_not_found_never_an_error(analyst_client, answers_url, bad):
    page = analyst_client.get(answers_url, {"transaction": bad})
    assert page.status_code == 404
    assert "Page not found" in page.content.decode()


def test_narrow_chart_wraps_labels_above_bars_inside_its_width():
    long = "Apply for a council tax discount (for example single person)"
    chart = bar_chart(
        "T", "D", [(long, Shown(120.0, cell="a")), ("Web", Shown(None, symbol="[c]"))]
    )
    first, hidden = chart.narrow_bars
    assert [line for line, _ in first.lines] == [
        "Apply for a council tax discount", "(for example single person)",
    ]  # fmt: skip
    assert all(len(line) <= NARROW_LABEL_CHARS for line, _ in first.lines)
    assert first.lines[-1][1] < first.y  # the label sits above its bar
    assert first.text_x + 9 * len(first.text) <= NARROW_WIDTH  # the value fits beside the bar
    assert hidden.width == 0 and hidden.text == "[c]"
    assert chart.narrow_height > hidden.y
