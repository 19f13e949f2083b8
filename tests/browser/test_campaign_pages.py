"""Administrators' campaign pages in a real browser, checked by axe."""

import datetime
import json

import pytest
from django.conf import settings
from django.utils import timezone

from authorities.models import Authority
from campaigns.services import deadline_extend, invitations_send
from outbox.models import EmailAttempt, OutboundEmail
from survey_site.roles import administrator_create
from surveys.questionnaires import questionnaire_load
from surveys.services import response_get_or_create
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
    # Middlesbrough has no contact: given more time, the tracker lists it as not told.
    middlesbrough = response_get_or_create(
        survey=survey, authority=Authority.objects.get(gss_code="E06000002")
    )
    deadline_extend(
        response=middlesbrough,
        until=survey.closes_at + datetime.timedelta(days=1),
        actor="Administrator boss",
    )
    # Hartlepool's invitation has waited half an hour with no worker sending: stuck.
    invitations_send(survey=survey)
    OutboundEmail.objects.update(
        status="pending", sent_at=None, created_at=timezone.now() - datetime.timedelta(hours=1)
    )
    EmailAttempt.objects.all().delete()
    administrator_create(
        username="boss", email="boss@example.gov.uk", password="a-long-password-123"
    )
    page.goto(f"/sign-in/?next=/campaigns/{survey.slug}/")
    sign_in(page, "boss", "a-long-password-123")
    page.wait_for_url(f"**/campaigns/{survey.slug}/")
    page.get_by_role("heading", level=1).wait_for()
    assert "Hartlepool Borough Council" in page.content()
    assert "Extensions the councils have not been told about" in page.content()
    assert "Emails are stuck." in page.content()
    assert axe_violations(page) == []
    # On a phone the wide tables scroll in their own boxes, not the page.
    page.set_viewport_size({"width": 375, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/campaigns/{survey.slug}/councils/E06000002/extend/")
    assert "No email can tell the council" in page.content()
    assert axe_violations(page) == []
    page.goto("/campaigns/")
    assert axe_violations(page) == []


def test_sending_invitations_is_confirmed_on_an_accessible_page(page, survey):
    administrator_create(
        username="boss", email="boss@example.gov.uk", password="a-long-password-123"
    )
    page.goto(f"/sign-in/?next=/campaigns/{survey.slug}/")
    sign_in(page, "boss", "a-long-password-123")
    page.wait_for_url(f"**/campaigns/{survey.slug}/")
    page.get_by_role("button", name="Send invitations to every council not yet invited").click()
    page.get_by_role("heading", level=1, name="Send invitations to 1 council?").wait_for()
    assert "No chief executive email address" in page.content()  # Middlesbrough
    assert not OutboundEmail.objects.exists()
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert axe_violations(page) == [], width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("button", name="Send 1 email").click()
    page.wait_for_url(f"**/campaigns/{survey.slug}/")
    assert "Invitations: 1 queued" in page.content()
    assert OutboundEmail.objects.count() == 1
