"""The public pages in a real browser: styles load under the CSP, and axe finds nothing."""

import pytest

from tests.browser.conftest import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_start_page_is_accessible_and_styled(page):
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text() == "Council digital channels survey"
    assert page.title() == "Home – Council digital channels survey"
    # govuk-frontend's JavaScript ran (the body class is set by an external script).
    assert "govuk-frontend-supported" in page.locator("body").get_attribute("class")
    font = page.locator("h1").evaluate("e => getComputedStyle(e).fontWeight")
    assert font == "700"
    assert blocked == []
    assert failed == []
    assert axe_violations(page) == []


def test_skip_link_moves_focus_to_main_content(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("e => e === document.activeElement")
    skip.press("Enter")
    assert page.url.endswith("#main-content")


def test_not_found_page_is_accessible(page, settings):
    response = page.goto("/no-such-page/")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    assert axe_violations(page) == []


def test_admin_sign_in_page_loads(page):
    page.goto("/admin/login/")
    assert page.get_by_label("Username").is_visible()


def test_sign_in_page_is_accessible_and_reports_errors(page):
    page.goto("/sign-in/")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    assert axe_violations(page) == []
    page.get_by_role("button", name="Sign in").click()
    summary = page.get_by_role("alert")
    summary.get_by_role("link", name="Enter your username").wait_for()
    assert summary.get_by_role("link", name="Enter your password").is_visible()
    # govuk-frontend moves focus to the error summary.
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    assert page.title().startswith("Error: Sign in")
    assert axe_violations(page) == []
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Enter a correct username and password").wait_for()
    assert axe_violations(page) == []
