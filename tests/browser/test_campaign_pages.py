"""Administrators' campaign pages in a real browser, checked by axe."""

import json

import pytest
from django.conf import settings

from survey_site.roles import administrator_create
from surveys.questionnaires import questionnaire_load
from surveys.tests.factories import make_authority, make_survey
from tests.browser.conftest import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def survey():
    data = json.loads((settings.BASE_DIR / "fixtures" / "questionnaire-2015.json").read_text())
    questionnaire, _ = questionnaire_load(data=data)
    survey = make_survey(questionnaire, name="Channel baseline 2015", slug="baseline-2015")
    survey.chosen_authorities.add(
        make_authority("E06000001", official_name="Hartlepool Borough Council",
                       chief_executive_email="ce@hartlepool.example",
                       chief_executive_name="Pat Chief"),
        make_authority("E06000002", official_name="Middlesbrough Council"),
    )  # fmt: skip
    return survey


def test_tracker_is_accessible_and_shows_no_answers(page, survey):
    administrator_create(
        username="boss", email="boss@example.gov.uk", password="a-long-password-123"
    )
    page.goto(f"/sign-in/?next=/campaigns/{survey.slug}/")
    sign_in(page, "boss", "a-long-password-123")
    page.wait_for_url(f"**/campaigns/{survey.slug}/")
    page.get_by_role("heading", level=1).wait_for()
    assert "Hartlepool Borough Council" in page.content()
    assert axe_violations(page) == []
    page.goto("/campaigns/")
    assert axe_violations(page) == []
