"""The questionnaire is data: loaded from a versioned file, copied, locked once answered."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from authorities.models import Authority
from surveys.choices import PopulationKind, QuestionKind, SectionKind
from surveys.models import (
    Channel,
    Figure,
    KeyTransaction,
    Question,
    Questionnaire,
    QuestionnaireLocked,
    Response,
    Survey,
)
from surveys.questionnaires import questionnaire_copy, questionnaire_export, questionnaire_load
from surveys.selectors import survey_population

from .conftest import QUESTIONNAIRE_2015


def make_survey(questionnaire, population=PopulationKind.ENGLAND_2015, slug="round"):
    now = timezone.now()
    return Survey.objects.create(
        name=slug,
        slug=slug,
        questionnaire=questionnaire,
        opens_at=now,
        closes_at=now + datetime.timedelta(days=14),
        population=population,
    )


def test_questionnaire_2015_has_22_transactions_with_lgsl_codes_and_tiers(questionnaire):
    transactions = list(questionnaire.transactions.order_by("number"))
    assert [t.number for t in transactions] == list(range(1, 23))
    assert [t.lgsl_code for t in transactions] == [
        57, 59, 58, 69, 63, 70, 524, 526, 528, 530, 587,
        557, 564, 474, 471, 279, 280, 13, 4, 487, 89, 364,
    ]  # fmt: skip
    assert transactions[0].tiers == "DU"
    assert transactions[0].lgsl_label == "Council tax annual notification"
    assert transactions[11].tiers == "CU"
    assert transactions[13].tiers == ""  # parking permits: varies
    assert not transactions[11].normally_delivered_by("D")
    assert transactions[13].normally_delivered_by("D")


def test_questionnaire_2015_has_10_channels_with_published_unit_costs(questionnaire):
    channels = {c.code: c for c in questionnaire.channels.all()}
    assert list(questionnaire.channels.values_list("code", flat=True)) == [
        "F2F", "PHONE", "IVR", "WEB", "EMAIL", "POST", "APP", "SOCIAL", "CHAT", "OTHER",
    ]  # fmt: skip
    assert {c for c, ch in channels.items() if ch.is_digital} == {"WEB", "APP"}
    assert {c for c, ch in channels.items() if ch.is_assisted} == {
        "F2F", "PHONE", "EMAIL", "POST", "CHAT", "SOCIAL",
    }  # fmt: skip
    assert channels["F2F"].default_unit_cost == Decimal("8.62")
    assert channels["WEB"].default_unit_cost == Decimal("0.15")
    assert channels["EMAIL"].default_unit_cost is None


def test_questionnaire_2015_sections_and_free_text_questions(questionnaire):
    sections = list(questionnaire.sections.all())
    assert [s.slug for s in sections] == [
        "about", "transactions", "costs", "complex-services", "platforms", "capability",
    ]  # fmt: skip
    assert [s.kind for s in sections].count(SectionKind.TRANSACTIONS) == 1
    assert questionnaire.sections.get(slug="costs").optional
    free_text = set(
        Question.objects.filter(section__questionnaire=questionnaire, free_text=True).values_list(
            "slug", flat=True
        )
    )
    assert "biggest-barrier" in free_text
    assert "platform-partners" in free_text
    assert all(
        q.kind in (QuestionKind.TEXT, QuestionKind.TEXTAREA)
        for q in Question.objects.filter(free_text=True)
    )
    period_start = Question.objects.get(slug="period-start")
    assert period_start.default == "2014-04-01"


def test_loading_the_same_file_twice_changes_nothing(questionnaire, questionnaire_data):
    ids = list(KeyTransaction.objects.values_list("pk", flat=True))
    again, outcome = questionnaire_load(data=questionnaire_data)
    assert (again.pk, outcome) == (questionnaire.pk, "unchanged")
    assert list(KeyTransaction.objects.values_list("pk", flat=True)) == ids


def test_export_then_load_round_trips(questionnaire, questionnaire_data):
    exported = questionnaire_export(questionnaire=questionnaire)
    assert questionnaire_load(data=exported)[1] == "unchanged"


def test_an_unanswered_questionnaire_can_be_changed(questionnaire, questionnaire_data):
    questionnaire_data["transactions"][0]["name"] = "Pay your council tax"
    _, outcome = questionnaire_load(data=questionnaire_data)
    assert outcome == "updated"
    assert KeyTransaction.objects.get(number=1).name == "Pay your council tax"


def test_changing_an_answered_questionnaire_is_refused(questionnaire, questionnaire_data, councils):
    survey = make_survey(questionnaire)
    Response.objects.create(survey=survey, authority=Authority.objects.first())
    questionnaire_data["transactions"][0]["name"] = "Pay your council tax"
    with pytest.raises(QuestionnaireLocked):
        questionnaire_load(data=questionnaire_data)
    transaction_1 = KeyTransaction.objects.get(number=1)
    assert transaction_1.name == "Pay council tax"
    transaction_1.name = "Changed in place"
    with pytest.raises(QuestionnaireLocked):
        transaction_1.save()
    with pytest.raises(QuestionnaireLocked):
        Channel.objects.get(code="WEB").delete()


def test_a_copy_is_a_new_editable_version(questionnaire, councils):
    survey = make_survey(questionnaire)
    Response.objects.create(survey=survey, authority=Authority.objects.first())
    copy = questionnaire_copy(source=questionnaire, version="2026", title="Channel baseline 2026")
    assert copy.copied_from == questionnaire
    assert copy.transactions.count() == 22
    assert copy.sections.count() == 6
    web = copy.channels.get(code="WEB")
    web.name = "Website"
    web.save()
    assert questionnaire.channels.get(code="WEB").name == "Online self-service"
    with pytest.raises(ValidationError):
        questionnaire_copy(source=questionnaire, version="2026")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="other"), '"format" must be'),
        (lambda d: d["channels"].append(dict(d["channels"][0])), "Channel codes must be unique"),
        (lambda d: d["transactions"][1].update(number=1), "Transaction numbers must be unique"),
        (lambda d: d["sections"][0]["questions"][0].update(kind="slider"), "unknown kind"),
        (lambda d: d["sections"].pop(1), "Exactly one section must be of kind transactions"),
    ],
)
def test_an_invalid_questionnaire_file_is_refused(db, questionnaire_data, change, message):
    change(questionnaire_data)
    with pytest.raises(ValidationError, match=message):
        questionnaire_load(data=questionnaire_data)
    assert not Questionnaire.objects.exists()


def test_load_questionnaire_command_reports_outcome(db, tmp_path):
    out = StringIO()
    call_command("load_questionnaire", QUESTIONNAIRE_2015, stdout=out)
    call_command("load_questionnaire", QUESTIONNAIRE_2015, stdout=out)
    assert out.getvalue().splitlines() == [
        "Questionnaire 2015: created",
        "Questionnaire 2015: unchanged",
    ]
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("load_questionnaire", broken)


def test_survey_population_2015_current_and_chosen(questionnaire, councils):
    assert survey_population(survey=make_survey(questionnaire, slug="a")).count() == 353
    current = make_survey(questionnaire, PopulationKind.CURRENT, slug="b")
    assert survey_population(survey=current).count() == 317
    chosen = make_survey(questionnaire, PopulationKind.CHOSEN, slug="c")
    chosen.chosen_authorities.set(Authority.objects.filter(gss_code__in=["E06000001", "E09000001"]))
    assert set(survey_population(survey=chosen).values_list("gss_code", flat=True)) == {
        "E06000001",
        "E09000001",
    }


def test_a_survey_must_close_after_it_opens(questionnaire):
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Survey.objects.create(
            name="x", slug="x", questionnaire=questionnaire, opens_at=now, closes_at=now,
            population=PopulationKind.CURRENT,
        )  # fmt: skip


@pytest.fixture
def response(questionnaire, councils):
    return Response.objects.create(
        survey=make_survey(questionnaire), authority=Authority.objects.get(gss_code="E06000001")
    )


def test_one_figure_per_response_transaction_and_channel(response, questionnaire):
    key = {
        "response": response,
        "transaction": questionnaire.transactions.get(number=1),
        "channel": questionnaire.channels.get(code="WEB"),
    }
    Figure.objects.create(value=10, **key)
    with pytest.raises(IntegrityError), transaction.atomic():
        Figure.objects.create(value=11, **key)


def test_a_figure_cannot_be_both_a_number_and_not_recorded(response, questionnaire):
    with pytest.raises(IntegrityError), transaction.atomic():
        Figure.objects.create(
            response=response,
            transaction=questionnaire.transactions.get(number=1),
            channel=questionnaire.channels.get(code="WEB"),
            value=5,
            not_recorded=True,
        )


def test_one_response_per_council_and_round(response):
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(survey=response.survey, authority=response.authority)
