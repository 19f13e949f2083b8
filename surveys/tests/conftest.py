import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from surveys.questionnaires import questionnaire_load

QUESTIONNAIRE_2015 = settings.BASE_DIR / "fixtures" / "questionnaire-2015.json"
REFERENCE_CSV = settings.BASE_DIR / "fixtures" / "authorities" / "england_councils.csv"


@pytest.fixture
def questionnaire_data() -> dict:
    return json.loads(QUESTIONNAIRE_2015.read_text(encoding="utf-8"))


@pytest.fixture
def questionnaire(db, questionnaire_data):
    loaded, _ = questionnaire_load(data=questionnaire_data)
    return loaded


@pytest.fixture
def councils(db):
    call_command("import_authorities", REFERENCE_CSV, verbosity=0)


@pytest.fixture
def survey(questionnaire):
    from .factories import make_survey

    return make_survey(questionnaire)


@pytest.fixture
def hartlepool(db):
    from .factories import make_authority

    return make_authority("E06000001", official_name="Hartlepool Borough Council")


@pytest.fixture
def response(survey, hartlepool):
    from .factories import new_response

    return new_response(survey, hartlepool)


@pytest.fixture
def client_in(response) -> Client:
    """A person who has opened the council's link: a live respondent session."""
    from .factories import open_link

    client = Client()
    open_link(client, response)
    return client
