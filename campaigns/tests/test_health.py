"""Stuck emails: the tracker warns, and /healthz/email answers 503 for a monitor."""

import datetime
import json

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from campaigns.services import invitations_send
from outbox.models import EmailStatus, OutboundEmail
from outbox.sending import email_send

pytestmark = pytest.mark.django_db
MINUTE = datetime.timedelta(minutes=1)


def _health(at: datetime.datetime) -> tuple[int, dict]:
    with time_machine.travel(at, tick=False):
        answer = Client().get("/healthz/email")
    assert answer["Content-Type"] == "application/json"
    assert "no-cache" in answer["Cache-Control"]
    return answer.status_code, json.loads(answer.content)


def test_health_is_ok_with_nothing_due_or_emails_moving_at_the_expected_rate(survey, councils3):
    now = timezone.now()
    assert _health(now) == (200, {"status": "ok", "reason": "ok", "detail": "",
                                  "emails_due": 0, "oldest_due_minutes": 0})  # fmt: skip
    with time_machine.travel(now, tick=False):
        invitations_send(survey=survey)  # not committed in this test: left queued
    status, body = _health(now + 10 * MINUTE)
    assert (status, body["emails_due"], body["oldest_due_minutes"]) == (200, 2, 10)


def test_no_worker_sending_while_emails_are_due_is_stuck_without_personal_data(
    survey, councils3, administrator
):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        invitations_send(survey=survey)
    status, body = _health(now + 16 * MINUTE)
    assert status == 503
    assert body["status"] == "stuck" and body["reason"] == "no_worker"
    assert body["detail"] == "No email has been tried for 15 minutes or more while 2 are due"
    text = json.dumps(body)
    for personal in ("Hartlepool", "Middlesbrough", "council.example", "E06000001"):
        assert personal not in text
    client = Client()
    client.force_login(administrator)
    with time_machine.travel(now + 16 * MINUTE, tick=False):
        html = client.get(f"/campaigns/{survey.slug}/").content.decode()
    warning = html[html.index('id="emails-stuck"') :].split("</div>")[0]
    assert "Emails are stuck. No email has been tried for 15 minutes" in warning
    # Once they are sent the warning and the 503 go.
    for email_id in OutboundEmail.objects.values_list("pk", flat=True):
        email_send(email_id=email_id)
    assert _health(now + 17 * MINUTE)[0] == 200
    with time_machine.travel(now + 17 * MINUTE, tick=False):
        assert 'id="emails-stuck"' not in client.get(f"/campaigns/{survey.slug}/").content.decode()


def test_an_email_due_longer_than_its_place_in_the_queue_allows_is_stuck(
    survey, councils3, settings
):
    """At 1 email a minute, two queued together are expected within 15 + 2 minutes."""
    settings.EMAIL_RATE_PER_MINUTE = 1
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        invitations_send(survey=survey)
    first, second = OutboundEmail.objects.order_by("pk")
    with time_machine.travel(now + 16 * MINUTE, tick=False):
        email_send(email_id=first.pk)  # a worker is alive, but slow
    assert _health(now + 17 * MINUTE)[0] == 200
    status, body = _health(now + 18 * MINUTE)
    assert (status, body["reason"], body["emails_due"]) == (503, "queued_too_long", 1)
    assert body["detail"] == (
        "An email has been due for 18 minutes, longer than the 17 expected at the configured rate"
    )
    settings.EMAIL_STUCK_MINUTES = 60  # configurable grace
    assert _health(now + 18 * MINUTE)[0] == 200
    OutboundEmail.objects.filter(pk=second.pk).update(status=EmailStatus.FAILED)
    assert _health(now + 18 * MINUTE)[0] == 200  # failed emails are on the tracker
