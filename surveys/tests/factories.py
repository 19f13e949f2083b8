"""Building rounds, councils and filled-in responses for tests."""

from __future__ import annotations

import datetime
import re

from django.test import Client
from django.utils import timezone

from authorities.choices import AuthorityKind, Region
from authorities.models import AccessLink, Authority
from surveys.choices import PopulationKind, Provision, SurveyStatus
from surveys.models import Questionnaire, Response, Survey
from surveys.services import (
    FigureInput,
    TransactionInput,
    link_issue,
    link_url,
    response_get_or_create,
    response_save_answers,
    response_save_transaction,
)

ANSWERS = {
    "respondent-name": "Pat Example",
    "respondent-job-title": "Head of Customer Services",
    "respondent-email": "pat.example@council.example",
    "period-start": "2014-04-01",
    "period-end": "2015-03-31",
    "figures-source": "mixed",
    "digital-lead": "yes",
    "digital-strategy": "in-development",
    "staff-skills-confidence": "3",
    "member-skills-confidence": "2",
}


def make_authority(gss: str = "E06000001", kind: str = AuthorityKind.UNITARY, **extra) -> Authority:
    number = gss[-3:]
    return Authority.objects.create(
        gss_code=gss,
        code=extra.pop("code", "X" + chr(65 + int(number) % 26) + chr(65 + int(number) // 26 % 26)),
        official_name=extra.pop("official_name", f"Council {gss}"),
        short_name=extra.pop("short_name", f"Council {gss}"),
        kind=kind,
        region=extra.pop("region", Region.NORTH_EAST),
        **extra,
    )


def make_survey(questionnaire: Questionnaire, **extra) -> Survey:
    now = timezone.now()
    defaults = {
        "name": "Channel baseline (test round)",
        "slug": "test-round",
        "opens_at": now - datetime.timedelta(days=1),
        "closes_at": now + datetime.timedelta(days=14),
        "population": PopulationKind.CHOSEN,
        "status": SurveyStatus.OPEN,
    }
    defaults.update(extra)
    return Survey.objects.create(questionnaire=questionnaire, **defaults)


def token_path(link: AccessLink) -> str:
    return re.sub(r"^https?://[^/]+", "", link_url(link))


def open_link(client: Client, response: Response) -> AccessLink:
    """Open the council's link as a person would: GET, then Continue (POST)."""
    link = link_issue(response=response)
    path = token_path(link)
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 303
    return link


def fill_everything(response: Response, actor: str = "Test") -> None:
    """Answer every required question and transaction through the services."""
    questionnaire = response.survey.questionnaire
    channels = {c.code: c.name for c in questionnaire.channels.all()}
    for key_transaction in questionnaire.transactions.all():
        response_save_transaction(
            response=response,
            key_transaction=key_transaction,
            data=TransactionInput(
                provision=Provision.YES,
                channels_offered=["WEB", "PHONE", "F2F"],
                end_to_end="partly",
                figures={
                    "WEB": FigureInput(1200 + key_transaction.number),
                    "PHONE": FigureInput(800, estimate=True),
                    "F2F": FigureInput(None, not_recorded=True),
                },
            ),
            loaded={},
            actor=actor,
            channel_names=channels,
        )
    questions = [q for s in questionnaire.sections.all() for q in s.questions.all()]
    values = dict(ANSWERS)
    for question in questions:
        if question.required and question.slug not in values:
            values[question.slug] = question.choices[0][0]
    response_save_answers(
        response=response, questions=questions, values=values, loaded={}, actor=actor
    )


def new_response(survey: Survey, authority: Authority) -> Response:
    survey.chosen_authorities.add(authority)
    return response_get_or_create(survey=survey, authority=authority)
