"""A council's comparison in a real browser: opened from its link after the round closed,
accessible (axe) and valid HTML (Nu HTML checker), wide and narrow, and printable."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from publishing import services
from reporting.tests.factories import SMALL_ROUND
from surveys.models import Response
from surveys.services import link_issue
from surveys.tests.factories import token_path
from tests.browser.conftest import axe_violations
from tests.html import html_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def council_link(released_round):
    """The link of a council that responded to a closed round whose release is public."""
    survey = released_round
    publisher = User.objects.create_user("publisher", password="a-long-test-password")
    draft = services.draft_start(survey=survey, user=publisher)
    services.draft_update(draft, title="Results", summary="", findings=[], change_note="")
    services.publish(draft=draft, user=publisher)
    response = Response.objects.get(survey=survey, authority__gss_code=SMALL_ROUND[0][0])
    return token_path(link_issue(response=response))


@pytest.mark.parametrize("width", [1280, 375])
def test_the_comparison_page_is_accessible_and_prints_cleanly(
    page, council_link, width, tmp_path: Path
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(council_link)
    page.get_by_role("heading", level=1, name="How your council compares").wait_for()
    assert axe_violations(page) == [], "landing"
    (tmp_path / "landing.html").write_text(page.content())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/survey/compare/$"))
    page.get_by_role("heading", level=1, name="How your council compares").wait_for()
    assert axe_violations(page) == []
    # Wide tables scroll in their own boxes: the page itself is never wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # With JavaScript, the print link takes the place of the sentence saying how to print.
    assert page.get_by_role("link", name="Print this page").is_visible()
    assert not page.get_by_text("use your browser's print command").is_visible()
    (tmp_path / "comparison.html").write_text(page.content())
    # Printed: no navigation, banner, footer, print link or contents; the figures stay.
    page.emulate_media(media="print")
    for selector in (".govuk-service-navigation", ".govuk-footer", ".govuk-phase-banner",
                     "#print-this-page", ".app-contents"):  # fmt: skip
        assert not page.locator(selector).is_visible(), selector
    assert page.locator("[data-own]").first.is_visible()
    assert page.locator("#take-up-table").is_visible()
    page.emulate_media(media="screen")
    if width == 1280:
        problems = html_problems(tmp_path)
        assert problems == [], "\n".join(problems)


def test_without_javascript_the_page_says_how_to_print(browser, live_server, council_link):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto(council_link)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/survey/compare/$"))
    assert page.get_by_text("use your browser's print command").is_visible()
    assert not page.get_by_role("link", name="Print this page").is_visible()
    context.close()
