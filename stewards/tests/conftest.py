"""Fixtures: a submitted response with a free-text answer, and a signed-in data steward."""

import pytest
from django.contrib.auth.models import Group, User

from survey_site.roles import DATA_STEWARDS
from surveys.models import Question
from surveys.services import response_save_answers, response_submit
from surveys.tests.conftest import (  # noqa: F401 (fixtures)
    hartlepool,
    questionnaire,
    questionnaire_data,
    response,
    survey,
)
from surveys.tests.factories import fill_everything

# A formula-looking free-text answer: it must never reach an export as a formula.
BARRIER = '=HYPERLINK("x") our Acme CRM contract runs to 2017'


def make_user(username: str, role: str | None) -> User:
    user = User.objects.create_user(username, password="a-long-test-password")
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def submitted(response):  # noqa: F811
    fill_everything(response)
    barrier = Question.objects.get(
        section__questionnaire=response.survey.questionnaire, slug="biggest-barrier"
    )
    response_save_answers(
        response=response, questions=[barrier], values={barrier.slug: BARRIER}, loaded={},
        actor="Test",
    )  # fmt: skip
    submitted, _ = response_submit(response=response, actor="Pat Example", missing=[])
    return submitted


@pytest.fixture
def steward_client(client):
    client.force_login(make_user("steward", DATA_STEWARDS))
    return client
