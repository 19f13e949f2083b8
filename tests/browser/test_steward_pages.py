"""Data stewards' pages in a real browser, checked by axe."""

import re

import pytest

from stewards.models import ResponseAccess
from stewards.tests.conftest import (  # noqa: F401 (fixtures)
    hartlepool,
    make_user,
    questionnaire,
    questionnaire_data,
    response,
    submitted,
    survey,
)
from survey_site.roles import DATA_STEWARDS
from tests.browser.conftest import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_steward_signs_in_and_reads_a_response_accessibly(page, submitted):  # noqa: F811
    make_user("steward", DATA_STEWARDS)
    page.goto("/responses/")
    page.wait_for_url(re.compile(r".*/sign-in/\?next=/responses/$"))
    sign_in(page, "steward", "a-long-test-password")
    page.wait_for_url("**/responses/")
    assert axe_violations(page) == []
    page.get_by_role("link", name=submitted.survey.name).click()
    page.get_by_role("heading", name="Submitted responses").wait_for()
    assert axe_violations(page) == []
    page.get_by_role("link", name=submitted.authority.official_name).click()
    page.get_by_role("heading", name=submitted.authority.official_name).wait_for()
    assert page.get_by_text("our Acme CRM contract runs to 2017").is_visible()
    assert axe_violations(page) == []
    assert ResponseAccess.objects.count() == 1


def test_a_steward_refused_a_page_is_sent_back_to_their_own(page, submitted):  # noqa: F811
    make_user("steward", DATA_STEWARDS)
    page.goto("/sign-in/")
    sign_in(page, "steward", "a-long-test-password")
    page.wait_for_url("**/responses/")
    page.goto("/reporting/")
    page.get_by_role("heading", name="You do not have permission to view this page").wait_for()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Go to the councils' answers").click()
    page.wait_for_url("**/responses/")
    page.goto("/reporting/")
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in/")
    assert page.get_by_text("You have signed out").is_visible()
