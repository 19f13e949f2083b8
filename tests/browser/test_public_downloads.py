"""A withdrawn version's file in a real browser: the 410 page is accessible (axe) and valid
HTML (Nu HTML checker), and says when and why it was withdrawn."""

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from publishing import services
from publishing.downloads import file_url
from survey_site.roles import SURVEY_ADMINISTRATORS, roles_ensure
from tests.browser.conftest import axe_violations
from tests.html import html_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def withdrawn(released_round):
    survey = released_round
    roles_ensure()
    user = User.objects.create_user("publisher", password="a-long-test-password")
    user.groups.add(*User.groups.field.related_model.objects.filter(name=SURVEY_ADMINISTRATORS))
    draft = services.draft_start(survey=survey, user=user)
    public = services.publish(draft=draft, user=user)
    return services.withdraw(public=public, user=user, reason="A council was counted twice.")


@pytest.mark.parametrize("width", [1280, 375])
def test_a_withdrawn_file_says_so_accessibly(page, withdrawn, width, tmp_path: Path):
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto(file_url(withdrawn, "ods"))
    assert response.status == 410
    page.get_by_role("heading", level=1, name="This file has been withdrawn").wait_for()
    page.get_by_text("A council was counted twice.").wait_for()
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width == 1280:
        (tmp_path / "withdrawn.html").write_text(page.content())
        problems = html_problems(tmp_path)
        assert problems == [], "\n".join(problems)
