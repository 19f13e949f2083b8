"""Hand-made responses for reporting tests, written straight to the models."""

from __future__ import annotations

import datetime

from django.utils import timezone

from authorities.models import Authority
from surveys.choices import ResponseStatus, SurveyStatus
from surveys.models import Answer, Figure, Question, Response, Survey, TransactionAnswer
from surveys.tests.factories import make_authority

# (GSS code, type, region, {(transaction slug, channel): figure}, {question slug: answer}).
# Every council provides "pay-council-tax" and offers the channels it gives figures for.
SMALL_ROUND = [
    ("E06000001", "unitary", "north_east", {"WEB": 1000, "PHONE": 400, "F2F": 100}, {}),
    ("E06000002", "unitary", "north_east", {"WEB": 1200, "PHONE": 500, "F2F": 120}, {}),
    ("E06000003", "unitary", "north_east", {"WEB": 900, "PHONE": 450, "F2F": 90}, {}),
    ("E06000004", "unitary", "north_east", {"WEB": 1100, "PHONE": 380, "F2F": 110}, {}),
    ("E06000005", "unitary", "north_west", {"WEB": 800, "PHONE": 300, "F2F": 80}, {}),
    ("E06000006", "unitary", "north_west", {"WEB": 50000, "PHONE": 310, "F2F": 85}, {}),
]
TRANSACTION = "pay-council-tax"


def submitted_response(
    survey: Survey,
    authority: Authority,
    figures: dict[str, int | None],
    answers: dict[str, object] | None = None,
    *,
    transaction: str = TRANSACTION,
    actor: str = "Test",
) -> Response:
    """A submitted response that provides one transaction with the given channel figures."""
    survey.chosen_authorities.add(authority)
    response = Response.objects.create(
        survey=survey,
        authority=authority,
        status=ResponseStatus.SUBMITTED,
        submitted_at=timezone.now(),
        submitted_by=actor,
        submission_count=1,
    )
    questionnaire = survey.questionnaire
    key_transaction = questionnaire.transactions.get(slug=transaction)
    TransactionAnswer.objects.create(
        response=response,
        transaction=key_transaction,
        provision="yes",
        channels_offered=list(figures),
        end_to_end="partly",
        updated_by=actor,
    )
    channels = {c.code: c for c in questionnaire.channels.all()}
    for code, value in figures.items():
        Figure.objects.create(
            response=response,
            transaction=key_transaction,
            channel=channels[code],
            value=value,
            not_recorded=value is None,
            updated_by=actor,
        )
    for slug, value in (answers or {}).items():
        question = Question.objects.get(section__questionnaire=questionnaire, slug=slug)
        Answer.objects.create(response=response, question=question, value=value, updated_by=actor)
    return response


def make_small_round(survey: Survey, rows=SMALL_ROUND) -> list[Response]:
    responses = []
    for gss, kind, region, figures, answers in rows:
        authority = make_authority(gss, kind=kind, region=region)
        responses.append(submitted_response(survey, authority, figures, answers))
    return responses


def close_round(survey: Survey) -> Survey:
    """The round's deadline passed a minute ago: no council can answer any more."""
    survey.closes_at = timezone.now() - datetime.timedelta(minutes=1)
    survey.status = SurveyStatus.CLOSED
    survey.save(update_fields=["closes_at", "status"])
    return survey
