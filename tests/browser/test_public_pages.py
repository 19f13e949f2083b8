"""Privacy notice, accessibility statement and cookies in a real browser: reached from the
footer of any page, accessible (axe) and valid HTML (Nu HTML checker), wide and narrow."""

from pathlib import Path

import pytest

from tests.browser.conftest import axe_violations
from tests.html import html_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOOTER_LINKS = {
    "Privacy": "Privacy notice",
    "Accessibility statement": "Accessibility statement for the Council digital channels survey",
    "Cookies": "Cookies",
}


@pytest.mark.parametrize("width", [1280, 375])
def test_public_pages_from_the_footer_are_accessible(page, width, tmp_path: Path):
    page.set_viewport_size({"width": width, "height": 900})
    for link, heading in FOOTER_LINKS.items():
        page.goto("/")
        page.get_by_role("contentinfo").get_by_role("link", name=link, exact=True).click()
        page.get_by_role("heading", level=1, name=heading).wait_for()
        assert axe_violations(page) == [], link
        # Nothing wider than the screen: these pages reflow at 375 px.
        assert page.evaluate("document.documentElement.scrollWidth") <= width, link
        (tmp_path / f"{link.split()[0].lower()}.html").write_text(page.content())
    banner = page.get_by_role("banner").get_by_role("link", name="give your feedback by email")
    assert banner.get_attribute("href").startswith("mailto:")
    if width == 1280:
        problems = html_problems(tmp_path)
        assert problems == [], "\n".join(problems)
