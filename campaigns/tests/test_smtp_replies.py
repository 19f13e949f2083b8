"""What a relay's refusal does to an email: 4xx is tried again later, 5xx is final.

Against a real SMTP server (aiosmtpd) answering RCPT TO as a council's gateway would.
"""

import datetime
import io

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from campaigns.selectors import tracker_get
from campaigns.services import invitations_send
from campaigns.tests.worker import SmtpSink
from outbox.models import AttemptOutcome, EmailStatus, OutboundEmail
from outbox.sending import email_dispatch

from .conftest import make_council

pytestmark = pytest.mark.django_db
START = datetime.datetime(2026, 1, 10, 10, tzinfo=datetime.UTC)
GREYLISTED = "451 4.7.1 Greylisted, please try again later"
UNKNOWN = "550 5.1.1 mailbox unknown"


@pytest.fixture
def relay(settings):
    """Point Django's SMTP backend at a sink; the test sets how it answers."""

    def start(rcpt_reply):
        sink = SmtpSink(rcpt_reply=rcpt_reply)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        return sink

    return start


def _invite_one(survey, capture):
    make_council(survey, "E06000001", name="Hartlepool Borough Council")
    survey.opens_at, survey.closes_at = START, START + datetime.timedelta(days=20)
    survey.save()
    with time_machine.travel(START, tick=False), capture(execute=True):
        invitations_send(survey=survey)
    return OutboundEmail.objects.get()


def _outcome(survey) -> str:
    return tracker_get(survey=survey).rows[0].last_contact_outcome


def test_greylisting_is_tried_again_after_the_backoff_and_then_delivered(
    survey, relay, django_capture_on_commit_callbacks
):
    with relay(lambda n: GREYLISTED if n == 1 else None) as sink:
        email = _invite_one(survey, django_capture_on_commit_callbacks)
        assert (email.status, email.attempts) == (EmailStatus.PENDING, 1)
        assert (email.reply_code, email.reply_text) == (
            451,
            "4.7.1 Greylisted, please try again later",
        )
        attempt = email.tries.get()
        assert attempt.outcome == AttemptOutcome.RETRY
        assert attempt.next_attempt_at == START + datetime.timedelta(seconds=60)
        assert (
            _outcome(survey)
            == "Queued (attempt 2): last reply 451 4.7.1 Greylisted, please try again later"
        )
        with time_machine.travel(START + datetime.timedelta(seconds=61), tick=False):
            assert email_dispatch() == 1
        email.refresh_from_db()
        assert (email.status, email.attempts) == (EmailStatus.SENT, 2)
        assert sink.count() == 1
        assert _outcome(survey) == "Sent"


def test_a_gateway_that_keeps_greylisting_fails_after_five_attempts(
    survey, relay, django_capture_on_commit_callbacks
):
    with relay(lambda n: GREYLISTED) as sink:
        email = _invite_one(survey, django_capture_on_commit_callbacks)
        moment = START
        for delay in (60, 120, 240, 480):  # the documented backoff: 1, 2, 4, 8 minutes
            moment += datetime.timedelta(seconds=delay + 1)
            with time_machine.travel(moment, tick=False):
                assert email_dispatch() == 1
        email.refresh_from_db()
        assert (email.status, email.attempts) == (EmailStatus.FAILED, 5)
        assert sink.count() == 0
    assert _outcome(survey) == f"Failed after 5 attempts: {GREYLISTED}"


def test_a_permanent_refusal_fails_at_once_and_shows_the_reply_everywhere(
    survey, relay, administrator, django_capture_on_commit_callbacks
):
    with relay(lambda n: UNKNOWN) as sink:
        email = _invite_one(survey, django_capture_on_commit_callbacks)
        assert sink.rcpt_count == 1  # not tried again
    assert (email.status, email.attempts) == (EmailStatus.FAILED, 1)
    assert (email.reply_code, email.reply_text) == (550, "5.1.1 mailbox unknown")
    assert email.tries.get().outcome == AttemptOutcome.FAILED
    shown = f"Failed after 1 attempt: {UNKNOWN}"
    assert _outcome(survey) == shown

    client = Client()
    client.force_login(administrator)
    url = f"/campaigns/{survey.slug}/"
    assert shown in client.get(url).content.decode()
    assert shown in client.get(f"{url}outstanding.csv").content.decode()
    sheet = load_workbook(io.BytesIO(client.get(f"{url}outstanding.xlsx").content)).active
    assert shown in [cell.value for cell in sheet[2]]
