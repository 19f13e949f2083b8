import pytest
from django.contrib.auth.models import Group, User

from survey_site.roles import ANALYSTS, SURVEY_ADMINISTRATORS
from surveys.tests import conftest as surveys_conftest
from surveys.tests.factories import make_authority

# The journey's fixtures: a loaded questionnaire and an open round.
questionnaire_data = surveys_conftest.questionnaire_data
questionnaire = surveys_conftest.questionnaire
survey = surveys_conftest.survey


def make_council(survey, gss: str, *, name: str = "", email: str | None = None, **extra):
    authority = make_authority(
        gss,
        official_name=name or f"Council {gss}",
        chief_executive_name=extra.pop("chief_executive_name", f"Chief {gss}"),
        chief_executive_email=email if email is not None else f"ce.{gss.lower()}@council.example",
        **extra,
    )
    survey.chosen_authorities.add(authority)
    return authority


@pytest.fixture
def councils3(survey):
    """Two councils with contacts and one without an email address."""
    return [
        make_council(survey, "E06000001", name="Hartlepool Borough Council"),
        make_council(survey, "E06000002", name="Middlesbrough Council"),
        make_council(survey, "E06000003", name="Redcar and Cleveland Council", email=""),
    ]


@pytest.fixture
def administrator(db):
    user = User.objects.create_user("admin-user", password="x-long-password-1")
    user.groups.add(Group.objects.get(name=SURVEY_ADMINISTRATORS))
    return user


@pytest.fixture
def analyst(db):
    user = User.objects.create_user("analyst-user", password="x-long-password-2")
    user.groups.add(Group.objects.get(name=ANALYSTS))
    return user
