"""Analysts' dashboards in a real browser: accessible, and never a hidden number."""

import json
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User

from reporting.services import release_build
from reporting.tests.factories import SMALL_ROUND, close_round, make_small_round
from surveys.questionnaires import questionnaire_load
from surveys.tests.factories import make_survey
from tests.browser.conftest import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def released_round():
    data = json.loads((settings.BASE_DIR / "fixtures" / "questionnaire-2015.json").read_text())
    questionnaire, _ = questionnaire_load(data=data)
    survey = make_survey(questionnaire, name="Channel baseline 2015", slug="baseline-2015")
    make_small_round(survey, SMALL_ROUND)
    close_round(survey)
    assert release_build(survey_id=survey.pk).published_at is not None
    return survey


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
