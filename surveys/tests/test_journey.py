"""The questionnaire journey through views: saving, validation, submission, re-entry."""

import datetime
import html
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client

from authorities.choices import AuthorityKind
from outbox.models import OutboundEmail
from survey_site.formatting import datetime_text as govuk_datetime
from surveys.choices import Provision, ResponseStatus
from surveys.forms import parse_whole_number
from surveys.models import ChangeRecord, Figure, Response, TransactionAnswer
from surveys.services import (
    ResponseNotEditable,
    TransactionInput,
    link_issue,
    response_deadline,
    response_save_transaction,
)

from .factories import fill_everything, make_authority, new_response, open_link, token_path

PAY = "/survey/transactions/pay-council-tax/"


def state_of(page) -> str:
    return re.search(r'name="state" value="([^"]*)"', page.content.decode()).group(1)


def errors_of(page) -> list[str]:
    found = re.findall(r'<li><a href="#[^"]*">(.*?)</a></li>', page.content.decode())
    return [html.unescape(error) for error in found]


def post_pay(client: Client, **fields) -> object:
    page = client.get(PAY)
    data = {"state": state_of(page), "action": "continue", **fields}
    return client.post(PAY, data)


def figures(response) -> dict:
    return {
        f.channel.code: (f.value, f.not_recorded, f.estimate)
        for f in Figure.objects.filter(response=response, transaction__slug="pay-council-tax")
    }


def test_saving_a_transaction_page_persists_figures_and_audit_trail(client_in, response):
    saved = post_pay(
        client_in,
        provision="yes",
        channels=["WEB", "PHONE"],
        end_to_end="partly",
        figure_WEB=" 12,500 ",
        not_recorded_PHONE="on",
        estimate_WEB="on",
    )
    assert saved.status_code == 303
    assert saved["Location"] == "/survey/transactions/council-tax-discount/"
    assert figures(response) == {"WEB": (12500, False, True), "PHONE": (None, True, False)}
    response.refresh_from_db()
    assert response.status == ResponseStatus.IN_PROGRESS
    record = ChangeRecord.objects.get(response=response, key="pay-council-tax/WEB")
    assert record.changed_by == "Council link holder"
    assert record.old_value["value"] is None
    assert record.new_value == {"value": 12500, "not_recorded": False, "estimate": True}
    # Going back shows the saved answers.
    again = client_in.get(PAY)
    assert 'value="12,500"' in again.content.decode()


def test_page_history_shows_the_latest_changes_and_the_audit_trail_keeps_all(client_in, response):
    for number in range(1, 23):
        saved = post_pay(
            client_in, provision="yes", channels=["WEB"], end_to_end="yes", figure_WEB=number
        )
        assert saved.status_code == 303
    page = client_in.get(PAY).content.decode()
    assert "History of this page (the latest 20 changes)" in page
    history = page.split('id="history"', 1)[1]
    assert history.count('<tr class="govuk-table__row">') == 1 + 20  # heading row + 20
    assert "Older changes are kept in the audit trail" in history
    # provision, channels, end to end and the figure, then 21 more figures
    trail = ChangeRecord.objects.filter(response=response, key__startswith="pay-council-tax/")
    assert trail.count() == 4 + 21


def test_save_and_come_back_later_says_what_was_saved_and_how_to_come_back(client_in, response):
    saved = post_pay(client_in, provision="not_responsible", action="later")
    assert saved["Location"] == "/survey/saved/"
    page = client_in.get("/survey/saved/").content.decode()
    assert "Your answers have been saved" in page
    assert "Not our responsibility" in page
    assert "Open the link in the email sent to your chief executive" in page
    assert f"before {govuk_datetime(response_deadline(response))} (UK time)" in page
    assert "Still to answer" not in page
    assert 'id="not-saved"' not in page


def test_save_and_come_back_later_saves_an_incomplete_page_without_required_errors(
    client_in, response
):
    """GOV.UK save and return: the valid answers are saved, nothing is refused for being
    unanswered, and what could not be saved is named (never echoed) on the next page."""
    later = client_in.post(
        "/survey/about/contact/",
        {"respondent-name": "Pat Example", "respondent-email": "nope", "action": "later"},
    )
    assert later.status_code == 303
    assert later["Location"] == "/survey/saved/"
    assert answers_given(response) == {"respondent-name": "Pat Example"}
    page = client_in.get("/survey/saved/").content.decode()
    assert "Pat Example" in page
    not_saved = page.split('id="not-saved"', 1)[1].split("Still to answer", 1)[0]
    assert "Enter an email address in the correct format" in not_saved
    assert "nope" not in page
    still = page.split('id="still-to-answer"', 1)[1]
    assert "Your job title" in still
    assert "Your email address" in still
    assert "Enter your job title" not in page
    # Save and continue still asks for every required answer.
    refused = client_in.post("/survey/about/contact/", {"respondent-name": "Pat Example"})
    assert "Enter your job title" in errors_of(refused)


def test_save_and_come_back_later_keeps_the_valid_figures_of_a_transaction(client_in, response):
    later = post_pay(
        client_in,
        action="later",
        provision="yes",
        channels=["WEB", "PHONE"],
        figure_WEB="1,250",
        figure_PHONE="12,5x0",
    )
    assert later["Location"] == "/survey/saved/"
    assert figures(response) == {"WEB": (1250, False, False)}
    page = client_in.get("/survey/saved/").content.decode()
    assert "Online self-service: 1,250" in page
    assert "Enter the number of telephone (agent) transactions as a whole number" in page
    assert "12,5x0" not in page
    assert "whether it can be done end to end online" in page


@pytest.mark.parametrize(
    ("utc", "text"),
    [
        ("2026-07-09T16:00:00", "5pm on 9 July 2026"),
        ("2026-12-09T06:03:00", "6:03am on 9 December 2026"),
        ("2026-12-09T12:00:00", "midday on 9 December 2026"),
        ("2026-12-09T00:00:00", "midnight on 9 December 2026"),
    ],
)
def test_times_follow_the_govuk_style(utc, text):
    moment = datetime.datetime.fromisoformat(utc).replace(tzinfo=datetime.UTC)
    assert govuk_datetime(moment) == text


def answers_given(response) -> dict:
    return dict(response.answers.values_list("question__slug", "value"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Select whether your council provides this"),
        ({"provision": "maybe"}, "Select a valid choice"),
        ({"provision": "yes", "end_to_end": "yes"}, "Select the channels you offer"),
        (
            {"provision": "yes", "channels": ["WEB"], "figure_WEB": "5"},
            "Select whether a resident can complete it end to end online",
        ),
        (
            {"provision": "yes", "channels": ["WEB"], "end_to_end": "no"},
            "Enter the number of online self-service transactions, or select 'Not recorded'",
        ),
        (
            {"provision": "yes", "channels": ["WEB"], "end_to_end": "no", "figure_WEB": "-4"},
            "The number of online self-service transactions must be 0 or more",
        ),
        (
            {"provision": "yes", "channels": ["WEB"], "end_to_end": "no", "figure_WEB": "lots"},
            "Enter the number of online self-service transactions as a whole number, like 1,250",
        ),
        (
            {"provision": "yes", "channels": ["WEB"], "end_to_end": "no", "figure_WEB": "2.5"},
            "The number of online self-service transactions must be a whole number",
        ),
        (
            {
                "provision": "yes",
                "channels": ["WEB"],
                "end_to_end": "no",
                "figure_WEB": "1" * 40,
            },
            "Enter the number of online self-service transactions as a whole number",
        ),
        (
            {
                "provision": "yes",
                "channels": ["WEB"],
                "end_to_end": "no",
                "figure_WEB": "999,999,999",
            },
            "must be 100,000,000 or fewer",
        ),
        (
            {
                "provision": "yes",
                "channels": ["WEB"],
                "end_to_end": "no",
                "figure_WEB": "10",
                "not_recorded_WEB": "on",
            },
            "or select 'Not recorded', not both",
        ),
        (
            {
                "provision": "yes",
                "channels": ["WEB"],
                "end_to_end": "no",
                "figure_WEB": "10",
                "figure_POST": "3",
            },
            "You gave a figure for post or paper form",
        ),
        (
            {"provision": "yes", "channels": ["WEB", "FAX"], "end_to_end": "no"},
            "Select channels from the list",
        ),
    ],
)
def test_bad_input_gets_a_govuk_error_and_changes_nothing(client_in, response, fields, message):
    before = (figures(response), list(ChangeRecord.objects.values_list("pk", flat=True)))
    page = post_pay(client_in, **fields)
    assert page.status_code == 200
    assert any(message in error for error in errors_of(page)), errors_of(page)
    assert page.content.decode().count('class="govuk-error-summary"') == 1
    assert "<title>Error: " in page.content.decode()
    assert (figures(response), list(ChangeRecord.objects.values_list("pk", flat=True))) == before


@pytest.mark.parametrize(
    ("text", "number"), [("0", 0), ("1,250", 1250), (" 1250 ", 1250), ("100,000,000", 10**8)]
)
def test_figures_accept_thousands_separators_and_spaces(text, number):
    assert parse_whole_number(text, "x") == number


def test_unknown_transaction_or_section_is_not_found(client_in):
    assert client_in.get("/survey/transactions/fly-to-the-moon/").status_code == 404
    assert client_in.get("/survey/about/no-such-group/").status_code == 404
    assert client_in.post("/survey/transactions/fly-to-the-moon/", {}).status_code == 404


def test_tampered_state_does_not_break_saving(client_in, response):
    page = client_in.post(
        PAY,
        {
            "state": "tampered",
            "provision": "yes",
            "channels": ["WEB"],
            "end_to_end": "yes",
            "figure_WEB": "7",
        },
    )
    assert page.status_code == 303
    assert figures(response) == {"WEB": (7, False, False)}


def test_pages_without_a_session_send_people_to_open_their_link(client):
    for path in ("/survey/", PAY, "/survey/check/", "/survey/about/contact/"):
        page = client.get(path)
        assert page.status_code == 302
        assert page["Location"] == "/survey/session-ended/"
    assert b"open your link again" in client.get("/survey/session-ended/").content


def test_district_sees_county_transactions_pre_answered(survey, questionnaire):
    district = make_authority("E07000001", kind=AuthorityKind.DISTRICT)
    response = new_response(survey, district)
    pre = TransactionAnswer.objects.filter(response=response)
    assert set(pre.values_list("transaction__slug", flat=True)) == {
        "pothole", "street-light", "blue-badge", "bus-pass", "school-place", "free-school-meals",
    }  # fmt: skip
    assert set(pre.values_list("provision", flat=True)) == {Provision.NOT_RESPONSIBLE}
    client = Client()
    open_link(client, response)
    page = client.get("/survey/transactions/pothole/")
    assert b"Councils of your type do not usually provide this service" in page.content
    assert b'value="not_responsible" checked' in page.content


def test_questions_page_saves_answers_and_validates(client_in, response):
    bad = client_in.post(
        "/survey/about/contact/", {"respondent-name": "Pat", "respondent-email": "nope"}
    )
    assert "Enter your job title" in errors_of(bad)
    assert "Enter an email address in the correct format, like name@example.gov.uk" in errors_of(
        bad
    )
    assert not response.answers.exists()
    good = client_in.post(
        "/survey/about/contact/",
        {
            "respondent-name": " Pat Example ",
            "respondent-job-title": "Head of digital",
            "respondent-email": "pat@council.example",
            "respondent-phone": "01632 960 001",
        },
    )
    assert good.status_code == 303
    assert good["Location"] == "/survey/about/period/"
    assert response.answers.get(question__slug="respondent-name").value == "Pat Example"
    dates = client_in.post(
        "/survey/about/period/",
        {"period-start_0": "31", "period-start_1": "2", "period-start_2": "2014"},
    )
    assert dates.status_code == 200
    assert not response.answers.filter(question__slug="period-start").exists()


def submit(client: Client, **fields):
    data = {"submitted_by": "Pat Example", "declaration": "on", **fields}
    return client.post("/survey/check/", data)


def test_submit_needs_every_answer(client_in, response):
    page = client_in.get("/survey/check/")
    assert b"You cannot submit yet" in page.content
    refused = submit(client_in)
    assert refused.status_code == 303
    response.refresh_from_db()
    assert response.status == ResponseStatus.NOT_STARTED


def test_submission_gives_a_reference_and_emails_a_copy_once(
    client_in, response, django_capture_on_commit_callbacks
):
    fill_everything(response)
    missing_declaration = client_in.post("/survey/check/", {"submitted_by": "Pat"})
    assert "Confirm the declaration to submit your answers" in errors_of(missing_declaration)
    with django_capture_on_commit_callbacks(execute=True):
        done = submit(client_in)
    assert done["Location"] == "/survey/confirmation/"
    response.refresh_from_db()
    assert response.status == ResponseStatus.SUBMITTED
    assert re.fullmatch(r"LDA-[2-9A-HJ-NP-Z]{8}", response.reference)
    confirmation = client_in.get("/survey/confirmation/")
    assert response.reference.encode() in confirmation.content
    # Double click, a second tab, a replayed POST: nothing happens twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = submit(client_in)
    assert again["Location"] == "/survey/confirmation/"
    response.refresh_from_db()
    assert response.submission_count == 1
    assert OutboundEmail.objects.filter(response=response).count() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["pat.example@council.example"]
    assert response.reference in message.subject
    assert "Pay council tax" in message.body
    assert "1,201" in message.body


def test_opening_the_link_after_submitting_says_so_at_once(client_in, response):
    fill_everything(response)
    path = token_path(link_issue(response=response))
    before = Client().get(path).content.decode()
    assert "about 45 minutes" in before
    assert "has been submitted" not in before
    submit(client_in)
    response.refresh_from_db()
    page = Client().get(path).content.decode()
    panel = page.split('id="submitted"', 1)[1].split("</div>\n      </div>", 1)[0]
    assert "<h1" in panel and "Response submitted" in panel
    assert response.reference in panel
    assert govuk_datetime(response.submitted_at) in panel
    assert "reopen the response to correct an answer, until" in page
    assert "View your response" in page
    assert "survey-team@" in page
    assert "about 45 minutes" not in page
    assert "Before you start" not in page


def test_a_contributor_opening_their_link_after_submission_is_told_whom_to_ask(response):
    from surveys.contributors import contributor_add, contributor_link

    officer = contributor_add(
        response=response, name="Sam", email="sam@council.example", role="", sections=[],
        all_sections=True, can_submit=False, actor="holder",
    )  # fmt: skip
    fill_everything(response)
    holder = Client()
    open_link(holder, response)
    submit(holder)
    page = Client().get(token_path(contributor_link(contributor=officer))).content.decode()
    assert "Response submitted" in page
    assert "ask your chief executive's office if an answer needs correcting" in page
    assert "reopen the response to correct an answer" not in page


def test_reentry_after_submit_shows_submitted_state_and_refuses_changes(client_in, response):
    fill_everything(response)
    submit(client_in)
    other_device = Client()
    open_link(other_device, response)
    tasks = other_device.get("/survey/")
    assert b"Hartlepool Borough Council's response has been submitted by Pat Example" in (
        tasks.content
    )
    before = figures(response)
    refused = post_pay(
        other_device, provision="yes", channels=["WEB"], end_to_end="no", figure_WEB="9,876"
    )
    assert refused.status_code == 200
    assert b"Your last changes could not be saved" in refused.content
    assert b'value="9,876"' in refused.content  # nothing typed is lost from view
    assert figures(response) == before
    page = other_device.get(PAY)
    assert b"response was submitted by Pat Example at " in page.content
    assert b"Save and continue" not in page.content


def test_reopen_correct_and_resubmit(client_in, response, django_capture_on_commit_callbacks):
    fill_everything(response)
    with django_capture_on_commit_callbacks(execute=True):
        submit(client_in)
    reference = Response.objects.get(pk=response.pk).reference
    assert client_in.post("/survey/reopen/").status_code == 303
    response.refresh_from_db()
    assert response.status == ResponseStatus.REOPENED
    saved = post_pay(
        client_in,
        provision="yes",
        channels=["WEB", "PHONE", "F2F"],
        end_to_end="yes",
        figure_WEB="1,300",
        figure_PHONE="800",
        estimate_PHONE="on",
        not_recorded_F2F="on",
    )
    assert saved.status_code == 303
    with django_capture_on_commit_callbacks(execute=True):
        submit(client_in)
    response.refresh_from_db()
    assert (response.status, response.reference, response.submission_count) == (
        ResponseStatus.SUBMITTED, reference, 2,
    )  # fmt: skip
    assert len(mail.outbox) == 2
    assert list(
        ChangeRecord.objects.filter(response=response, key="status").values_list(
            "new_value", flat=True
        )
    ) == ["in_progress", "submitted", "reopened", "submitted"]


def close_soon(response) -> datetime.datetime:
    """Move the round's deadline to five minutes from now (inside the session's life)."""
    survey = response.survey
    survey.closes_at = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=5)
    survey.save()
    return survey.closes_at


def test_after_the_deadline_answers_are_read_only_and_kept(client_in, response):
    post_pay(client_in, provision="yes", channels=["WEB"], end_to_end="no", figure_WEB="10")
    close_soon(response)
    after = response_deadline(response) + datetime.timedelta(minutes=1)
    with time_machine.travel(after):
        page = client_in.get(PAY)
        assert b"The deadline has passed" in page.content
        assert b'value="10"' in page.content
        refused = post_pay(
            client_in, provision="yes", channels=["WEB"], end_to_end="no", figure_WEB="99"
        )
        assert refused.status_code == 200
        assert b"Not saved" in refused.content
        assert b'value="99"' in refused.content
        assert client_in.post("/survey/reopen/").status_code == 303
        with pytest.raises(ResponseNotEditable):
            response_save_transaction(
                response=response,
                key_transaction=response.survey.questionnaire.transactions.first(),
                data=TransactionInput(provision="no"),
                loaded={},
                actor="x",
                channel_names={},
            )
    assert figures(response) == {"WEB": (10, False, False)}


def test_a_per_council_extension_keeps_the_journey_open(client_in, response):
    closes = close_soon(response)
    response.deadline_extended_to = closes + datetime.timedelta(days=3)
    response.save()
    with time_machine.travel(closes + datetime.timedelta(minutes=1)):
        saved = post_pay(client_in, provision="not_responsible")
        assert saved.status_code == 303
    assert (
        TransactionAnswer.objects.get(
            response=response, transaction__slug="pay-council-tax"
        ).provision
        == Provision.NOT_RESPONSIBLE
    )


def test_session_has_an_absolute_limit(client_in, settings):
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(
        hours=settings.RESPONDENT_SESSION_MAX_HOURS, minutes=1
    )
    with time_machine.travel(later):
        assert client_in.get("/survey/")["Location"] == "/survey/session-ended/"


def test_implausible_figures_are_saved_but_need_confirming(client_in, response):
    page = post_pay(
        client_in,
        provision="yes",
        channels=["WEB", "PHONE"],
        end_to_end="no",
        figure_WEB="0",
        figure_PHONE="0",
    )
    assert page.status_code == 200
    assert b"Every figure is 0" in page.content
    assert figures(response)["WEB"] == (0, False, False)
    tasks = client_in.get("/survey/").content.decode()
    assert "Pay council tax" in tasks
    # Whenever the page is opened again, until confirmed: the warning and the box.
    again = client_in.get(PAY).content.decode()
    summary = again.split('id="check-figures"', 1)[1].split("</ul>", 1)[0]
    assert "Every figure is 0" in summary
    assert 'href="#id_confirm_figures"' in summary
    assert 'id="id_confirm_figures"' in again
    # The task list says so, and links to the warnings.
    task = tasks.split('href="/survey/transactions/pay-council-tax/', 1)[1].split("</li>", 1)[0]
    assert task.startswith("#check-figures")
    assert "Check figures" in task
    # Check answers: a summary linking to each answer still needed and to the box.
    check = client_in.get("/survey/check/").content.decode()
    cannot = check.split('id="cannot-submit"', 1)[1].split("</ul>", 1)[0]
    assert "You cannot submit yet" in cannot
    assert (
        'href="/survey/transactions/pay-council-tax/#id_confirm_figures">Pay council tax: '
        "confirm the figures flagged for checking</a>"
    ) in cannot
    assert 'href="/survey/transactions/council-tax-discount/#id_provision_0"' in cannot
    assert 'href="/survey/about/source/#id_figures-source_1"' in cannot
    assert 'href="/survey/about/period/#id_period-start_0"' in cannot
    source = client_in.get("/survey/about/source/").content.decode()
    assert 'id="id_figures-source_1"' in source
    confirmed = post_pay(
        client_in,
        provision="yes",
        channels=["WEB", "PHONE"],
        end_to_end="no",
        figure_WEB="0",
        figure_PHONE="0",
        confirm_figures="on",
    )
    assert confirmed.status_code == 303
    answer = TransactionAnswer.objects.get(response=response, transaction__slug="pay-council-tax")
    assert answer.confirmed_figures
    assert 'id="check-figures"' not in client_in.get(PAY).content.decode()
    assert "Check figures" not in client_in.get("/survey/").content.decode()


def test_a_figure_far_above_the_others_is_linked_from_its_warning(client_in, response):
    post_pay(
        client_in,
        provision="yes",
        channels=["WEB", "PHONE"],
        end_to_end="no",
        figure_WEB="2,000,000",
        figure_PHONE="50",
    )
    page = client_in.get(PAY).content.decode()
    summary = page.split('id="check-figures"', 1)[1].split("</ul>", 1)[0]
    assert '<a href="#id_figure_WEB">Online self-service: 2,000,000 is more than 100' in summary
    check = client_in.get("/survey/check/").content.decode()
    assert "pay-council-tax/#id_figure_WEB" in check


def test_two_people_editing_different_figures_both_keep_their_work(response):
    first, second = Client(), Client()
    open_link(first, response)
    open_link(second, response)
    common = {
        "provision": "yes",
        "channels": ["WEB", "PHONE"],
        "end_to_end": "no",
        "action": "continue",
    }
    first.post(
        PAY, {**common, "state": state_of(first.get(PAY)), "figure_WEB": "10", "figure_PHONE": "20"}
    )
    state_first = state_of(first.get(PAY))
    state_second = state_of(second.get(PAY))
    # Both loaded the page; the first changes WEB, the second (still seeing WEB 10) PHONE.
    first.post(PAY, {**common, "state": state_first, "figure_WEB": "100", "figure_PHONE": "20"})
    page = second.post(
        PAY, {**common, "state": state_second, "figure_WEB": "10", "figure_PHONE": "50"}
    )
    assert page.status_code == 303
    assert figures(response)["WEB"] == (100, False, False)
    assert figures(response)["PHONE"] == (50, False, False)


def test_a_conflicting_edit_is_never_silently_overwritten(response):
    first, second = Client(), Client()
    open_link(first, response)
    open_link(second, response)
    common = {"provision": "yes", "channels": ["WEB"], "end_to_end": "no", "action": "continue"}
    base = state_of(first.get(PAY))
    first.post(PAY, {**common, "state": base, "figure_WEB": "100"})
    clash = second.post(PAY, {**common, "state": base, "figure_WEB": "200"})
    assert clash.status_code == 200
    text = clash.content.decode()
    assert "changed it to 100" in text
    assert "yours is 200" in text
    assert figures(response)["WEB"] == (100, False, False)
    # Saving again from the re-shown page keeps the second person's value, knowingly.
    resolved = second.post(PAY, {**common, "state": state_of(clash), "figure_WEB": "200"})
    assert resolved.status_code == 303
    assert figures(response)["WEB"] == (200, False, False)


def test_the_page_shown_again_after_a_clash_has_what_the_save_wrote(response):
    """The re-shown page is built from the rows the save left (no second read): a figure
    it wrote shows, and is the base of the next save, so changing it again is no clash."""
    first, second = Client(), Client()
    open_link(first, response)
    open_link(second, response)
    common = {"provision": "yes", "channels": ["WEB", "PHONE"], "end_to_end": "no"}
    figures_in = {"figure_WEB": "10", "figure_PHONE": "20", "action": "continue"}
    assert (
        first.post(PAY, {**common, "state": state_of(first.get(PAY)), **figures_in}).status_code
        == 303
    )
    base = state_of(second.get(PAY))
    figures_in |= {"figure_WEB": "100"}
    assert first.post(PAY, {**common, "state": base, **figures_in}).status_code == 303
    figures_in |= {"figure_WEB": "200", "figure_PHONE": "50"}
    clash = second.post(PAY, {**common, "state": base, **figures_in})
    assert clash.status_code == 200
    text = clash.content.decode()
    assert re.search(r'name="figure_PHONE"[^>]*value="50"', text)
    assert "yours is 200" in text
    assert figures(response) == {"WEB": (100, False, False), "PHONE": (50, False, False)}
    figures_in |= {"figure_WEB": "100", "figure_PHONE": "60"}
    again = second.post(PAY, {**common, "state": state_of(clash), **figures_in})
    assert again.status_code == 303
    assert figures(response) == {"WEB": (100, False, False), "PHONE": (60, False, False)}


def another_pages_state(client) -> str:
    """A genuine signed state, but for another transaction: no base for this page."""
    return state_of(client.get("/survey/transactions/council-tax-discount/"))


STALE_STATES = {
    "missing": lambda client: None,
    "empty": lambda client: "",
    "forged": lambda client: "eyJwYXktY291bmNpbC10YXgvV0VCIjp7fX0:forged:signature",
    "another page's": another_pages_state,
}


@pytest.mark.parametrize("kind", STALE_STATES)
def test_a_stale_form_without_a_valid_state_shows_the_clash(response, kind):
    first, second = Client(), Client()
    open_link(first, response)
    open_link(second, response)
    common = {"provision": "yes", "channels": ["WEB"], "end_to_end": "no", "action": "continue"}
    second.get(PAY)  # the second person's page is loaded before the first person saves
    first.post(PAY, {**common, "state": state_of(first.get(PAY)), "figure_WEB": "100"})
    state = STALE_STATES[kind](second)
    stale = {**common, "figure_WEB": "200"} | ({} if state is None else {"state": state})
    clash = second.post(PAY, stale)
    assert clash.status_code == 200
    text = clash.content.decode()
    assert "changed it to 100" in text
    assert "yours is 200" in text
    assert figures(response)["WEB"] == (100, False, False)
    assert ChangeRecord.objects.filter(key="pay-council-tax/WEB").count() == 1
    # The re-shown page carries a valid state: saving again keeps the choice, knowingly.
    resolved = second.post(PAY, {**common, "state": state_of(clash), "figure_WEB": "200"})
    assert resolved.status_code == 303
    assert figures(response)["WEB"] == (200, False, False)


def test_a_form_without_a_state_still_saves_answers_nobody_has_given(client_in, response):
    page = client_in.post(
        PAY,
        {"provision": "yes", "channels": ["WEB"], "end_to_end": "no", "figure_WEB": "7",
         "action": "continue"},
    )  # fmt: skip
    assert page.status_code == 303
    assert figures(response) == {"WEB": (7, False, False)}


def test_task_list_query_count_does_not_grow_with_answers(
    client_in, response, django_assert_max_num_queries
):
    with django_assert_max_num_queries(25):
        client_in.get("/survey/")
    fill_everything(response)
    with django_assert_max_num_queries(25):
        client_in.get("/survey/")
    with django_assert_max_num_queries(25):
        client_in.get(PAY)


def test_deadline_closes_unsubmitted_and_resubmits_complete_reopened(survey, questionnaire):
    from surveys.tasks import responses_close_due_task

    started = new_response(survey, make_authority("E06000011"))
    reopened = new_response(survey, make_authority("E06000012"))
    submitted = new_response(survey, make_authority("E06000013"))
    fill_everything(reopened)
    fill_everything(submitted)
    Response.objects.filter(pk=reopened.pk).update(status=ResponseStatus.REOPENED)
    Response.objects.filter(pk=submitted.pk).update(status=ResponseStatus.SUBMITTED)
    assert responses_close_due_task() == 0
    with time_machine.travel(survey.closes_at + datetime.timedelta(seconds=1)):
        assert responses_close_due_task() == 2
        assert responses_close_due_task() == 0
    statuses = dict(Response.objects.values_list("authority__gss_code", "status"))
    assert statuses == {
        "E06000011": ResponseStatus.CLOSED,
        "E06000012": ResponseStatus.SUBMITTED,
        "E06000013": ResponseStatus.SUBMITTED,
    }
    assert started.figures.count() == 0


def test_each_section_has_its_own_check_answers_page(client_in, response):
    post_pay(client_in, provision="yes", channels=["WEB"], end_to_end="no", figure_WEB="1,234")
    page = client_in.get("/survey/check/transactions/")
    assert page.status_code == 200
    assert b"1,234" in page.content
    assert b"Your full name" not in page.content
    assert client_in.get("/survey/check/no-such-section/").status_code == 404
    assert b"/survey/check/transactions/" in client_in.get("/survey/").content


def test_save_and_come_back_later_shows_a_clash_instead_of_leaving(response):
    first, second = Client(), Client()
    open_link(first, response)
    open_link(second, response)
    common = {"provision": "yes", "channels": ["WEB"], "end_to_end": "no"}
    base = state_of(first.get(PAY))
    first.post(PAY, {**common, "state": base, "figure_WEB": "100", "action": "continue"})
    clash = second.post(PAY, {**common, "state": base, "figure_WEB": "200", "action": "later"})
    assert clash.status_code == 200
    assert "yours is 200" in clash.content.decode()
    assert figures(response)["WEB"] == (100, False, False)


def test_a_channels_figure_is_revealed_only_when_it_is_ticked(client_in, response):
    post_pay(client_in, provision="yes", channels=["WEB"], end_to_end="no", figure_WEB="10")
    page = client_in.get(PAY).content.decode()
    assert page.count('class="govuk-checkboxes__conditional') == 10
    assert page.count("govuk-checkboxes__conditional--hidden") == 9
    web = page.split('id="conditional-WEB"', 1)[0].rsplit("<div", 1)[1]
    assert "--hidden" not in web
    assert 'data-aria-controls="conditional-WEB"' in page
    # Each figure sits in the reveal of its own channel.
    reveal = page.split('id="conditional-PHONE"', 1)[1].split('id="conditional-', 1)[0]
    assert 'name="figure_PHONE"' in reveal
    assert 'name="figure_WEB"' not in reveal


def card(page: str, section: str) -> str:
    return page.split(f'id="answers-{section}"', 1)[1].split('class="govuk-summary-card"')[0]


def test_check_answers_has_one_card_per_section_folded_when_complete(client_in, response):
    post_pay(client_in, provision="yes", channels=["WEB"], end_to_end="no", figure_WEB="10")
    page = client_in.get("/survey/check/").content.decode()
    sections = response.survey.questionnaire.sections.count()
    assert page.count('<div class="govuk-summary-card"') == sections
    transactions = page.split('id="answers-transactions"', 1)[1].split(
        'class="govuk-summary-card"'
    )[0]
    assert "<details" not in transactions
    assert "In progress" in transactions
    fill_everything(response)
    page = client_in.get("/survey/check/").content.decode()
    transactions = page.split('id="answers-transactions"', 1)[1].split(
        'class="govuk-summary-card"'
    )[0]
    assert "Show the 22 answers" in transactions
    assert transactions.index("<details") < transactions.index("Pay council tax")


def test_contact_inputs_carry_autocomplete_hints_and_the_phone_is_a_telephone_input(client_in):
    page = client_in.get("/survey/about/contact/").content.decode()
    tags = [tag for tag in re.findall(r"<input([^>]*)>", page) if 'name="respondent-' in tag]
    inputs = {re.search(r'name="([^"]+)"', tag).group(1): tag for tag in tags}
    assert 'autocomplete="name"' in inputs["respondent-name"]
    assert 'autocomplete="organization-title"' in inputs["respondent-job-title"]
    assert 'autocomplete="email"' in inputs["respondent-email"]
    assert 'autocomplete="tel"' in inputs["respondent-phone"]
    assert 'type="tel"' in inputs["respondent-phone"]


def test_the_submit_pages_error_summary_follows_the_page_order(client_in, response):
    fill_everything(response)
    page = client_in.post("/survey/check/", {})
    assert errors_of(page) == [
        "Enter your full name",
        "Confirm the declaration to submit your answers",
    ]
