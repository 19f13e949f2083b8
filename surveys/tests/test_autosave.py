"""Autosave: a change on a page is saved in the background, as far as it is valid."""

import datetime
import re

import pytest
import time_machine
from django.test import Client

from surveys.choices import ResponseStatus
from surveys.models import ChangeRecord, TransactionAnswer

from .factories import open_link
from .test_journey import (
    PAY,
    STALE_STATES,
    close_soon,
    errors_of,
    figures,
    post_pay,
    state_of,
)

CONTACT = "/survey/about/contact/"
WEB_ONLY = {"provision": "yes", "channels": ["WEB"], "end_to_end": "no"}


def autosave(client: Client, path: str, state: str, **fields) -> object:
    """As the page's script sends it: the form's fields, action=autosave, JSON wanted."""
    return client.post(
        path,
        {"state": state, "action": "autosave", **fields},
        headers={"accept": "application/json"},
    )


def autosave_pay(client: Client, **fields) -> object:
    """Load the pay council tax page, change it, and let its script save the change."""
    return autosave(client, PAY, state_of(client.get(PAY)), **fields)


def pay_answer(response) -> TransactionAnswer | None:
    return TransactionAnswer.objects.filter(
        response=response, transaction__slug="pay-council-tax"
    ).first()


def answers(response) -> dict:
    return dict(response.answers.values_list("question__slug", "value"))


def test_a_partial_transaction_page_saves_its_valid_parts(client_in, response):
    # Provides it, channels ticked, no end-to-end answer yet, one figure mistyped.
    partial = {"provision": "yes", "channels": ["WEB", "PHONE", "F2F"], "not_recorded_F2F": "on"}
    saved = autosave_pay(client_in, **partial, figure_WEB="1,250", figure_PHONE="12,5x0")
    assert saved.status_code == 200
    reply = saved.json()
    assert reply["saved"] is True
    assert reply["conflicts"] is False
    assert re.fullmatch(r"\d{1,2}(:\d\d)?[ap]m|midday|midnight", reply["saved_at"])  # GOV.UK style
    answer = pay_answer(response)
    assert (answer.provision, sorted(answer.channels_offered), answer.end_to_end) == (
        "yes", ["F2F", "PHONE", "WEB"], "",
    )  # fmt: skip
    assert figures(response) == {"WEB": (1250, False, False), "F2F": (None, True, False)}
    assert set(ChangeRecord.objects.filter(response=response).values_list("key", flat=True)) >= {
        "pay-council-tax/provision",
        "pay-council-tax/channels_offered",
        "pay-council-tax/WEB",
    }
    response.refresh_from_db()
    assert response.status == ResponseStatus.IN_PROGRESS
    # The explicit save, from the state the autosave returned, merges without a clash.
    done = client_in.post(
        PAY,
        {
            "state": reply["state"],
            "action": "continue",
            "provision": "yes",
            "channels": ["WEB", "PHONE", "F2F"],
            "end_to_end": "partly",
            "figure_WEB": "1,300",
            "figure_PHONE": "12,500",
            "not_recorded_F2F": "on",
        },
    )
    assert done.status_code == 303
    assert figures(response) == {
        "WEB": (1300, False, False),
        "PHONE": (12500, False, False),
        "F2F": (None, True, False),
    }


def test_a_second_autosave_from_the_returned_state_changes_the_same_figure(client_in, response):
    common = {"provision": "yes", "channels": ["WEB"]}
    first = autosave_pay(client_in, **common, figure_WEB="5")
    second = autosave(client_in, PAY, first.json()["state"], **common, figure_WEB="6")
    assert second.json()["conflicts"] is False
    assert figures(response) == {"WEB": (6, False, False)}


def test_an_invalid_figure_is_not_saved_and_no_error_page_is_returned(client_in, response):
    saved = autosave_pay(client_in, **WEB_ONLY, figure_WEB="lots")
    assert saved.status_code == 200
    assert saved["Content-Type"] == "application/json"
    assert saved.json()["saved"] is True
    assert figures(response) == {}
    assert pay_answer(response).end_to_end == "no"
    # The explicit save still gives its GOV.UK error.
    page = post_pay(client_in, **WEB_ONLY, figure_WEB="lots")
    assert "Enter the number of online self-service transactions as a whole number, like 1,250" in (
        errors_of(page)
    )


def test_a_number_with_not_recorded_is_skipped(client_in, response):
    post_pay(client_in, **WEB_ONLY, figure_WEB="10")
    saved = autosave_pay(client_in, **WEB_ONLY, figure_WEB="20", not_recorded_WEB="on")
    assert saved.status_code == 200
    assert figures(response) == {"WEB": (10, False, False)}


def test_a_questions_page_saves_valid_answers_and_skips_invalid_ones(client_in, response):
    saved = autosave(
        client_in,
        CONTACT,
        state_of(client_in.get(CONTACT)),
        **{
            "respondent-name": " Pat Example ",
            "respondent-job-title": "",
            "respondent-email": "not an email",
            "respondent-phone": "01632 960 001",
        },
    )
    assert saved.status_code == 200
    assert saved.json()["saved"] is True
    assert answers(response) == {
        "respondent-name": "Pat Example",
        "respondent-phone": "01632 960 001",
    }


def test_a_required_answer_left_empty_is_not_erased_but_an_optional_one_is(client_in, response):
    fields = {
        "respondent-name": "Pat Example",
        "respondent-job-title": "Head of digital",
        "respondent-email": "pat@council.example",
        "respondent-phone": "01632 960 001",
    }
    client_in.post(CONTACT, {"state": state_of(client_in.get(CONTACT)), **fields})
    cleared = {**fields, "respondent-name": "", "respondent-phone": ""}
    saved = autosave(client_in, CONTACT, state_of(client_in.get(CONTACT)), **cleared)
    assert saved.status_code == 200
    stored = answers(response)
    assert stored["respondent-name"] == "Pat Example"
    assert stored["respondent-phone"] is None


def test_an_autosave_keeps_someone_elses_change_and_says_so(response):
    first, second = Client(), Client()
    open_link(first, response)
    open_link(second, response)
    loaded_by_first = state_of(first.get(PAY))
    second.post(
        PAY,
        {**WEB_ONLY, "state": state_of(second.get(PAY)), "action": "continue", "figure_WEB": "200"},
    )
    reply = autosave(first, PAY, loaded_by_first, **WEB_ONLY, figure_WEB="100")
    assert_the_clash_is_kept(first, response, reply, mine=100, theirs=200)


def assert_the_clash_is_kept(client, response, reply, *, mine: int, theirs: int) -> None:
    """The autosave kept the other person's figure, and so does Save and continue from the
    state it returned: the clash is shown, not silently overwritten."""
    assert reply.status_code == 200
    assert reply.json()["saved"] is True
    assert reply.json()["conflicts"] is True
    assert figures(response)["WEB"] == (theirs, False, False)
    clash = client.post(
        PAY,
        {**WEB_ONLY, "state": reply.json()["state"], "action": "continue", "figure_WEB": mine},
    )
    assert clash.status_code == 200
    assert f"yours is {mine}" in clash.content.decode()
    assert figures(response)["WEB"] == (theirs, False, False)


@pytest.mark.parametrize("kind", STALE_STATES)
def test_an_autosave_without_a_valid_state_keeps_someone_elses_change(response, kind):
    first, second = Client(), Client()
    open_link(first, response)
    open_link(second, response)
    second.get(PAY)
    first.post(PAY, {**WEB_ONLY, "state": state_of(first.get(PAY)), "action": "continue",
                     "figure_WEB": "100"})  # fmt: skip
    state = STALE_STATES[kind](second)
    fields = {**WEB_ONLY, "figure_WEB": "200", "action": "autosave"}
    reply = second.post(
        PAY, fields | ({} if state is None else {"state": state}),
        headers={"accept": "application/json"},
    )  # fmt: skip
    assert_the_clash_is_kept(second, response, reply, mine=200, theirs=100)


@pytest.mark.parametrize("action", ["continue", "autosave"])
def test_a_questions_page_without_its_state_keeps_someone_elses_answer(response, action):
    first, second = Client(), Client()
    open_link(first, response)
    open_link(second, response)
    second.get(CONTACT)
    contact = {"respondent-job-title": "Head of Revenues", "respondent-email": "a@council.example"}
    first.post(CONTACT, {**contact, "state": state_of(first.get(CONTACT)),
                         "respondent-name": "Alex First", "action": "continue"})  # fmt: skip
    page = second.post(
        CONTACT, {**contact, "respondent-name": "Sam Second", "action": action},
        headers={"accept": "application/json"} if action == "autosave" else {},
    )  # fmt: skip
    assert page.status_code == 200
    if action == "autosave":
        assert page.json()["conflicts"] is True
    else:
        assert "yours is Sam Second" in page.content.decode()
    assert answers(response)["respondent-name"] == "Alex First"


def test_a_response_that_cannot_be_changed_refuses_autosave(client_in, response):
    post_pay(client_in, **WEB_ONLY, figure_WEB="10")
    state = state_of(client_in.get(PAY))
    before = list(ChangeRecord.objects.values_list("pk", flat=True))
    close_soon(response)
    with time_machine.travel(response.survey.closes_at + datetime.timedelta(minutes=1)):
        refused = autosave(
            client_in, PAY, state, provision="yes", channels=["WEB"], figure_WEB="99"
        )
        questions = autosave(client_in, CONTACT, "", **{"respondent-name": "Sam"})
    assert refused.status_code == 409
    assert refused.json()["saved"] is False
    assert "can no longer be changed" in refused.json()["reason"]
    assert questions.status_code == 409
    assert figures(response) == {"WEB": (10, False, False)}
    assert answers(response) == {}
    assert list(ChangeRecord.objects.values_list("pk", flat=True)) == before


def test_autosave_without_a_session_is_told_so_in_json(client, response):
    for path in (PAY, CONTACT):
        refused = autosave(client, path, "", provision="yes")
        assert refused.status_code == 401
        assert refused.json()["saved"] is False
    assert client.post(PAY, {"provision": "yes"})["Location"] == "/survey/session-ended/"
    assert not ChangeRecord.objects.filter(response=response).exists()


def test_autosave_never_confirms_unusual_figures(client_in, response):
    fields = {
        "provision": "yes",
        "channels": ["WEB", "PHONE"],
        "end_to_end": "no",
        "figure_WEB": "0",
        "figure_PHONE": "0",
    }
    assert post_pay(client_in, **fields).status_code == 200  # "Every figure is 0"
    saved = autosave_pay(client_in, **fields, confirm_figures="on")
    assert saved.status_code == 200
    assert pay_answer(response).confirmed_figures == ""
    confirmed = post_pay(client_in, **fields, confirm_figures="on")
    assert confirmed.status_code == 303
    assert pay_answer(response).confirmed_figures != ""


def test_pages_of_answers_offer_autosave_only_while_editable(client_in, response):
    for path in (PAY, CONTACT):
        page = client_in.get(path).content.decode()
        assert "data-autosave" in page
        assert 'aria-live="polite"' in page
        assert "js/autosave" in page
    response.status = ResponseStatus.SUBMITTED
    response.save()
    page = client_in.get(PAY).content.decode()
    assert "data-autosave" not in page
    assert "js/autosave" not in page
