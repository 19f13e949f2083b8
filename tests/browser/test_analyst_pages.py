"""Analysts' dashboards in a real browser: accessible, and never a hidden number."""

import re

import pytest
from django.contrib.auth.models import Permission, User

from tests.browser.conftest import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_analyst_pages_are_accessible(page, released_round):
    # No staff status: analysts sign in on the service's own page.
    analyst = User.objects.create_user("analyst", password="a-long-test-password")
    analyst.user_permissions.add(Permission.objects.get(codename="view_dashboards"))
    page.goto("/reporting/")
    page.wait_for_url(re.compile(r".*/sign-in/\?next=/reporting/$"))
    sign_in(page, "analyst", "a-long-test-password")
    page.wait_for_url("**/reporting/")
    page.get_by_role("heading", level=1).wait_for()
    assert axe_violations(page) == []
    slug = released_round.slug
    for path in ("", "channels/", "take-up/", "costs/", "answers/"):
        page.goto(f"/reporting/{slug}/{path}")
        page.get_by_role("heading", level=1).wait_for()
        assert axe_violations(page) == [], path
        # Hidden cells read [c]; the SVG charts carry a title (the overview and the
        # answers' frequency tables have none).
        assert page.locator("svg[role='img'] title").count() or path in ("", "answers/")
        # No figure renders as Python's None ("None" is also an answer label, so only
        # numeric cells are checked).
        assert not re.search(r"--numeric\">\s*None\s*<", page.content())
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in/")
    assert page.get_by_role("heading", name="You have signed out").is_visible()
    assert axe_violations(page) == []


def _analyst_page(page, width: int):
    analyst = User.objects.create_user("phone-analyst", password="a-long-test-password")
    analyst.user_permissions.add(Permission.objects.get(codename="view_dashboards"))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/sign-in/")
    sign_in(page, "phone-analyst", "a-long-test-password")
    page.wait_for_url("**/")
    return page


def _rendered_label_heights(page) -> list[float]:
    """On-screen heights (px) of the visible chart's label texts: the SVG scales them."""
    return page.evaluate(
        """() => [...document.querySelectorAll('svg.app-chart__svg')]
            .filter(svg => svg.getBoundingClientRect().width > 0)
            .flatMap(svg => [...svg.querySelectorAll('text')])
            .map(text => text.getBoundingClientRect().height)"""
    )


@pytest.mark.parametrize("width", [375, 1280])
def test_charts_and_wide_tables_read_on_a_phone_and_a_desktop(page, released_round, width):
    _analyst_page(page, width)
    slug = released_round.slug
    for path in ("", "channels/", "take-up/", "costs/"):
        page.goto(f"/reporting/{slug}/{path}")
        page.get_by_role("heading", level=1).wait_for()
        heights = _rendered_label_heights(page)
        # One drawing shows; its labels are at least 14 px on screen (they were 5 px).
        assert heights and min(heights) >= 14, (path, min(heights, default=0))
        assert page.locator("svg[role='img']:visible").count() == 1, path
        # The page itself never scrolls sideways: a wide table scrolls in its own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        assert axe_violations(page) == [], path
    page.goto(f"/reporting/{slug}/take-up/")
    box = page.get_by_role("region", name=re.compile(r"^Digital take-up \(\(web"))
    overflow = box.evaluate("box => box.scrollWidth - box.clientWidth")
    if width == 1280:
        assert overflow <= 0  # all 16 columns fit a desktop screen
    else:
        assert overflow > 0  # scrolls in its box, keyboard-reachable
        assert box.get_attribute("tabindex") == "0"


def test_answers_page_has_contents_and_one_transaction_at_a_time(page, released_round):
    _analyst_page(page, 375)
    page.goto(f"/reporting/{released_round.slug}/answers/")
    contents = page.get_by_role("navigation", name="Contents")
    assert contents.get_by_role("link").count() >= 4
    page.get_by_label("Transaction", exact=True).select_option(label="Report fly-tipping")
    page.get_by_role("button", name="Show transaction").click()
    page.wait_for_url("**/answers/?transaction=fly-tipping*")
    region = page.get_by_role("region", name=re.compile(r"^Councils providing each transaction"))
    assert "(Report fly-tipping)" in region.get_attribute("aria-label")
    assert "Pay council tax" not in page.locator("#provision").inner_text()
    contents.get_by_role("link", name=re.compile("end to end online")).click()
    assert page.evaluate("location.hash") == "#end-to-end"
    assert axe_violations(page) == []
