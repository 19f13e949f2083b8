"""The public statistics release and the pages that prepare it, in a real browser, on a
desktop and a phone: accessible (axe), valid HTML (Nu HTML checker), never wider than the
screen."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from publishing import services
from reporting.publication import Publication
from survey_site.roles import SURVEY_ADMINISTRATORS, roles_ensure
from tests.browser.conftest import axe_violations, sign_in
from tests.html import html_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check(page, width: int, name: str, folder: Path) -> None:
    page.get_by_role("heading", level=1).wait_for()
    assert axe_violations(page) == [], name
    # Nothing wider than the screen: wide tables scroll in their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= width, name
    (folder / f"{name}.html").write_text(page.content())


@pytest.mark.parametrize("width", [1280, 375])
def test_public_release_preview_error_and_withdrawal(page, released_round, width, tmp_path):
    roles_ensure()
    admin = User.objects.create_user("publisher", password="a-long-test-password")
    admin.groups.add(Group.objects.get(name=SURVEY_ADMINISTRATORS))
    publication = Publication.of(released_round)
    figure = next(f"{c['value']:,.0f}" for c in publication.cells() if c["value"])
    draft = services.draft_start(survey=released_round, user=admin)
    services.draft_update(
        draft, title="Digital channels of English councils, 2015", summary="What councils said.",
        findings=[f"{figure} is a published figure."], change_note="",
    )  # fmt: skip
    services.publish(draft=draft, user=admin)
    slug = released_round.slug
    page.set_viewport_size({"width": width, "height": 900})

    # Anyone, without signing in: the live release, and another transaction's channel mix.
    page.goto("/statistics/")
    page.get_by_role("link", name="Digital channels of English councils, 2015").click()
    _check(page, width, "public", tmp_path)
    assert page.get_by_text(f"{figure} is a published figure.").is_visible()
    page.get_by_label("Transaction", exact=True).select_option(label="Report fly-tipping")
    page.get_by_role("button", name="Show transaction").click()
    page.wait_for_url(f"**/statistics/{slug}/?transaction=fly-tipping#about-channels")
    _check(page, width, "public-transaction", tmp_path)

    # A new version whose finding quotes a figure the release does not publish.
    page.goto("/sign-in/?next=/statistics/manage/")
    sign_in(page, "publisher", "a-long-test-password")
    _check(page, width, "manage-index", tmp_path)
    page.get_by_role("link", name=released_round.name).click()
    page.get_by_label("Finding 2").fill("Up by 7,919,999 transactions.")
    page.get_by_role("button", name="Save draft").click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    _check(page, width, "manage-error", tmp_path)
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "finding-2"
    assert page.get_by_label("Finding 2").input_value() == "Up by 7,919,999 transactions."

    page.get_by_label("Finding 2").fill("A sentence without figures.")
    page.get_by_label("Change note").fill("A second finding.")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Version 2 saved as a draft").wait_for()
    page.get_by_role("link", name="Preview", exact=True).click()
    page.get_by_text("Preview: not published").wait_for()
    _check(page, width, "preview", tmp_path)
    page.get_by_role("link", name="publish it").click()
    _check(page, width, "publish-confirm", tmp_path)
    assert page.get_by_role("button", name="Publish version 2").is_visible()

    # Withdraw the live version: the public page says when and why, and shows no figure.
    page.goto(f"/statistics/manage/{slug}/withdraw/")
    _check(page, width, "withdraw", tmp_path)
    page.get_by_label("Why is it withdrawn?").fill("Councils were counted twice.")
    page.get_by_role("button", name="Withdraw version 1").click()
    page.get_by_text("Version 1 is withdrawn").wait_for()
    page.goto(f"/statistics/{slug}/")
    _check(page, width, "withdrawn", tmp_path)
    assert page.get_by_text("Councils were counted twice.").is_visible()
    assert page.locator("[data-cell]").count() == 0

    if width == 1280:
        problems = html_problems(tmp_path)
        assert problems == [], "\n".join(problems)
