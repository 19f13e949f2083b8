"""Invitations, reminders, extensions and failures, through the services and the outbox."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from campaigns.deadlines import response_grace_deadline
from campaigns.schedule import LONDON
from campaigns.selectors import tracker_get
from campaigns.services import (
    campaign_get_or_create,
    campaign_schedule_set,
    deadline_extend,
    email_resend,
    invitations_send,
    reminders_send_due,
    reminders_send_now,
)
from outbox.models import AttemptOutcome, EmailAttempt, EmailStatus, OutboundEmail
from outbox.sending import email_dispatch, email_send, email_send_batch
from surveys.choices import ResponseStatus
from surveys.models import ChangeRecord, EmailKind, Response

from .conftest import make_council

pytestmark = pytest.mark.django_db
LINK = re.compile(r"^(https?://\S+/s/[A-Za-z0-9_-]+)$", re.MULTILINE)


def invite(survey, capture, **kwargs):
    with capture(execute=True):
        return invitations_send(survey=survey, **kwargs)


def test_invitations_go_once_to_each_council_and_list_those_without_contact(
    survey, councils3, django_capture_on_commit_callbacks
):
    report = invite(survey, django_capture_on_commit_callbacks)
    assert (report.queued, report.already) == (2, 0)
    assert report.skipped == {"Redcar and Cleveland Council": "No chief executive email address"}
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ce.e06000001@council.example",
        "ce.e06000002@council.example",
    ]
    # Sending again (a second click, a rerun of the command) sends nothing twice.
    again = invite(survey, django_capture_on_commit_callbacks)
    assert (again.queued, again.already) == (0, 2)
    assert len(mail.outbox) == 2
    assert OutboundEmail.objects.filter(kind=EmailKind.INVITATION).count() == 2
    # Each link opens its own council's response.
    for message in mail.outbox:
        (url,) = LINK.findall(message.body)
        page = Client().get(re.sub(r"^https?://[^/]+", "", url))
        assert page.status_code == 200
        council = next(c for c in councils3 if c.chief_executive_email == message.to[0])
        assert council.official_name.encode() in page.content


def test_invitation_follows_notify_rules(survey, councils3, django_capture_on_commit_callbacks):
    invite(survey, django_capture_on_commit_callbacks, authorities=councils3[:1])
    (message,) = mail.outbox
    response = Response.objects.get(authority=councils3[0])
    from surveys.services import link_issue, link_url

    url = link_url(link_issue(response=response))
    assert message.body.startswith("Dear Chief E06000001,")
    assert f"\n{url}\n" in message.body  # the full link on a line of its own
    assert url.startswith("http://127.0.0.1:8000/s/")
    assert "/s/" not in message.subject and "Hartlepool" not in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'<a href="{url}" style="color: #1d70b8;">{url}</a>' in html
    assert "<img" not in html and not message.attachments
    message_id = message.extra_headers["Message-ID"]
    assert re.fullmatch(r"<[0-9a-f]{32}@localdigital\.example>", message_id)


def test_placeholders_values_are_escaped_in_html(survey, django_capture_on_commit_callbacks):
    council = make_council(
        survey, "E06000004", name="Council <b>&</b>", chief_executive_name="Jo <script>"
    )
    invite(survey, django_capture_on_commit_callbacks, authorities=[council])
    html = mail.outbox[0].alternatives[0][0]
    assert "Jo &lt;script&gt;" in html and "<script>" not in html
    assert "Dear Jo <script>," in mail.outbox[0].body  # plain text stays as typed


def test_template_without_link_line_or_with_unknown_placeholder_is_refused(survey):
    campaign = campaign_get_or_create(survey=survey)
    template = campaign.templates.get(kind="invitation")
    template.body = "Dear ((chief_executive_name)), see ((link)) and ((secret))"
    with pytest.raises(ValidationError) as error:
        template.full_clean()
    text = " ".join(error.value.messages)
    assert "Put ((link)) on a line of its own" in text
    assert "((secret)) is not a placeholder" in text


def test_a_cadence_that_cannot_fit_before_the_deadline_is_refused(survey):
    # A deadline at 17:00 London, whatever the time of day the test runs: a reminder
    # "0 days before" at 09:00 then falls before it, and the 48-hour gap is what fails.
    closes = timezone.localtime(timezone.now() + datetime.timedelta(days=14), LONDON)
    _survey_closing(survey, closes.replace(hour=17, minute=0, second=0, microsecond=0))
    campaign = campaign_get_or_create(survey=survey)
    with pytest.raises(ValidationError) as error:
        campaign_schedule_set(
            campaign=campaign, days_before=[30, 1, 0], at=datetime.time(9), min_gap_hours=48,
            max_reminders=2,
        )  # fmt: skip
    text = " ".join(error.value.messages)
    assert "maximum is 2" in text
    assert "before the round opens" in text
    assert "closer than the minimum gap of 48 hours" in text
    campaign_schedule_set(
        campaign=campaign, days_before=[7, 2], at=datetime.time(9), min_gap_hours=24,
        max_reminders=3,
    )  # fmt: skip
    assert campaign.days_before == [7, 2]


def _survey_closing(survey, closes_at):
    survey.opens_at = closes_at - datetime.timedelta(days=28)
    survey.closes_at = closes_at
    survey.save()
    return survey


def test_scheduled_reminders_use_the_right_wording_and_go_once(
    survey, councils3, django_capture_on_commit_callbacks
):
    deadline = datetime.datetime(2026, 3, 20, 17, 0, tzinfo=LONDON)
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, tzinfo=LONDON), tick=False):
        _survey_closing(survey, deadline)
        invite(survey, django_capture_on_commit_callbacks)
    started = Response.objects.get(authority=councils3[1])
    started.status, started.started_at = ResponseStatus.IN_PROGRESS, deadline
    started.save()
    mail.outbox.clear()
    # Before the first step (7 days before, 9am): nothing.
    with time_machine.travel(datetime.datetime(2026, 3, 13, 8, 59, tzinfo=LONDON), tick=False):
        assert reminders_send_due(survey=survey).queued == 0
    with (
        time_machine.travel(datetime.datetime(2026, 3, 13, 9, 5, tzinfo=LONDON), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert reminders_send_due(survey=survey).queued == 2
        assert reminders_send_due(survey=survey).queued == 0  # a second beat process
        assert reminders_send_now(survey=survey).queued == 0  # the minimum gap holds
    by_address = {m.to[0]: m for m in mail.outbox}
    assert "We have not yet had" in by_address["ce.e06000001@council.example"].body
    assert "have not been submitted yet" in by_address["ce.e06000002@council.example"].body
    assert "You have 7 days left" in by_address["ce.e06000001@council.example"].body
    # A council that submits is never reminded again.
    Response.objects.filter(authority=councils3[0]).update(status=ResponseStatus.SUBMITTED)
    with (
        time_machine.travel(datetime.datetime(2026, 3, 18, 9, 1, tzinfo=LONDON), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert reminders_send_due(survey=survey).queued == 1
    assert mail.outbox[-1].to == ["ce.e06000002@council.example"]
    assert "You have 2 days left" in mail.outbox[-1].body
    # After the deadline nothing is sent.
    with time_machine.travel(deadline + datetime.timedelta(minutes=1), tick=False):
        assert reminders_send_due(survey=survey).queued == 0
        assert reminders_send_now(survey=survey).queued == 0


def test_reminder_queued_before_a_submission_is_not_sent(
    survey, councils3, django_capture_on_commit_callbacks
):
    invite(survey, django_capture_on_commit_callbacks, authorities=councils3[:1])
    OutboundEmail.objects.update(created_at=OutboundEmail.objects.get().created_at
                                 - datetime.timedelta(days=2))  # fmt: skip
    reminders_send_now(survey=survey)  # recorded, not yet sent (no commit callbacks)
    reminder = OutboundEmail.objects.get(kind=EmailKind.REMINDER)
    Response.objects.filter(authority=councils3[0]).update(status=ResponseStatus.SUBMITTED)
    assert email_send_batch(email_ids=[reminder.pk]) == {"cancelled": 1}
    reminder.refresh_from_db()
    assert reminder.status == EmailStatus.FAILED
    assert reminder.last_error.startswith("Cancelled")
    assert len(mail.outbox) == 1  # only the invitation
    assert tracker_get(survey=survey).rows[0].failed_email_id is None


def test_one_failing_council_does_not_stop_the_others_and_failures_retry_then_show(
    survey, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "campaigns.tests.backends.FlakyBackend"
    settings.EMAIL_MAX_ATTEMPTS = 3
    flaky = make_council(survey, "E06000005", email="flaky@council.example")
    make_council(survey, "E06000006", email="refused@council.example")
    make_council(survey, "E06000007")
    start = datetime.datetime(2026, 1, 10, 10, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        survey.opens_at, survey.closes_at = start, start + datetime.timedelta(days=20)
        survey.save()
        invite(survey, django_capture_on_commit_callbacks)
    assert [m.to[0] for m in mail.outbox] == ["ce.e06000007@council.example"]
    refused = OutboundEmail.objects.get(to_address="refused@council.example")
    assert (refused.status, refused.attempts) == (EmailStatus.FAILED, 1)  # a hard bounce
    email = OutboundEmail.objects.get(to_address="flaky@council.example")
    assert (email.status, email.attempts) == (EmailStatus.PENDING, 1)
    retry = EmailAttempt.objects.get(email=email)
    assert retry.outcome == AttemptOutcome.RETRY
    assert retry.error == "SMTPServerDisconnected"  # no address or content recorded
    assert retry.next_attempt_at == start + datetime.timedelta(seconds=60)
    with time_machine.travel(start + datetime.timedelta(seconds=30), tick=False):
        assert email_dispatch() == 0  # not due yet: backoff
        assert email_send(email_id=email.pk) == "not_due"
    with time_machine.travel(start + datetime.timedelta(seconds=61), tick=False):
        assert email_dispatch() == 1
    with time_machine.travel(start + datetime.timedelta(seconds=61 + 121), tick=False):
        assert email_dispatch() == 1  # backoff doubled: third and last attempt
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.FAILED, 3)
    rows = {row.authority.gss_code: row for row in tracker_get(survey=survey).rows}
    assert rows["E06000005"].status == "failed"
    assert rows["E06000006"].status == "failed"
    assert rows["E06000005"].failed_email_id == email.pk
    # The administrator fixes the address and resends.
    flaky.chief_executive_email = "ce.fixed@council.example"
    flaky.save()
    with (
        time_machine.travel(start + datetime.timedelta(hours=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        email_resend(email=email, actor="Administrator test")
        assert email_resend(email=email, actor="Administrator test") is None  # double click
    assert mail.outbox[-1].to == ["ce.fixed@council.example"]
    rows = {row.authority.gss_code: row for row in tracker_get(survey=survey).rows}
    assert rows["E06000005"].status == "invited"


def test_sending_keeps_to_the_rate(survey, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_RATE_PER_MINUTE = 2
    for number in range(8, 13):
        make_council(survey, f"E060000{number:02d}")
    invitations_send(survey=survey)  # recorded; nothing sent without the commit callbacks
    ids = list(OutboundEmail.objects.order_by("pk").values_list("pk", flat=True))
    minute = (survey.opens_at + datetime.timedelta(hours=2)).replace(second=5, microsecond=0)
    with time_machine.travel(minute, tick=False):
        assert email_send_batch(email_ids=ids, paced=True) == {"sent": 2, "rate_limited": 1}
    with time_machine.travel(minute + datetime.timedelta(minutes=1), tick=False):
        assert email_send_batch(email_ids=ids, paced=True) == {
            "skipped": 2, "sent": 2, "rate_limited": 1,
        }  # fmt: skip
    assert len(mail.outbox) == 4


def test_extension_emails_the_new_deadline_and_opens_a_grace_period(
    survey, councils3, settings, django_capture_on_commit_callbacks
):
    settings.LATE_GRACE_MINUTES = 30
    invite(survey, django_capture_on_commit_callbacks, authorities=councils3[:1])
    response = Response.objects.get(authority=councils3[0])
    assert response_grace_deadline(response) == survey.closes_at  # no extension: no grace
    until = datetime.datetime(2099, 8, 7, 17, 0, tzinfo=LONDON)
    with django_capture_on_commit_callbacks(execute=True):
        deadline_extend(response=response, until=until, actor="Administrator test")
        deadline_extend(response=response, until=until, actor="Administrator test")
    response.refresh_from_db()
    assert response.deadline_extended_to == until
    assert response_grace_deadline(response) == until + datetime.timedelta(minutes=30)
    extensions = [m for m in mail.outbox if "new deadline" in m.subject]
    assert len(extensions) == 1
    assert "The new deadline is 5pm on Friday 7 August 2099 (UK time)" in extensions[0].body
    assert ChangeRecord.objects.filter(response=response, key="deadline").count() == 2
    with pytest.raises(ValidationError):
        deadline_extend(response=response, until=survey.closes_at, actor="Administrator test")


def test_an_extension_lets_a_council_that_submitted_correct_its_answers_after_the_deadline(
    survey, councils3, django_capture_on_commit_callbacks
):
    from surveys.services import ResponseNotEditable, response_reopen, response_submit
    from surveys.tests.factories import fill_everything

    invite(survey, django_capture_on_commit_callbacks, authorities=councils3[:1])
    response = Response.objects.get(authority=councils3[0])
    fill_everything(response)
    response_submit(response=response, actor="Pat Example", missing=[])
    after = survey.closes_at + datetime.timedelta(hours=1)
    with time_machine.travel(after, tick=False):
        with pytest.raises(ResponseNotEditable):  # the deadline has passed
            response_reopen(response=response, actor="Pat Example")
        with django_capture_on_commit_callbacks(execute=True):
            deadline_extend(
                response=response, until=after + datetime.timedelta(days=2), actor="Admin"
            )
        reopened = response_reopen(response=response, actor="Pat Example")
    assert reopened.status == ResponseStatus.REOPENED
    notice = next(m for m in mail.outbox if "new deadline" in m.subject)
    assert "you can reopen your response to correct it" in notice.body


def test_no_extension_once_the_rounds_results_are_published(
    survey, councils3, django_capture_on_commit_callbacks
):
    from reporting.services import release_build

    invite(survey, django_capture_on_commit_callbacks, authorities=councils3[:2])
    late = Response.objects.get(authority=councils3[0])
    _survey_closing(survey, timezone.now() - datetime.timedelta(minutes=5))
    until = timezone.now() + datetime.timedelta(days=7)
    release = release_build(survey_id=survey.pk)
    assert release.published_at is not None
    with pytest.raises(ValidationError, match="results have been published"):
        deadline_extend(response=late, until=until, actor="Administrator test")
    late.refresh_from_db()
    assert late.deadline_extended_to is None


def test_no_extension_while_a_build_that_may_be_published_is_running(
    survey, councils3, django_capture_on_commit_callbacks
):
    from reporting.services import release_request

    invite(survey, django_capture_on_commit_callbacks, authorities=councils3[:1])
    late = Response.objects.get(authority=councils3[0])
    with django_capture_on_commit_callbacks(execute=False):  # queued, not yet run
        release_request(survey_id=survey.pk)
    _survey_closing(survey, timezone.now() - datetime.timedelta(minutes=5))
    until = timezone.now() + datetime.timedelta(days=7)
    with pytest.raises(ValidationError, match="being built"):
        deadline_extend(response=late, until=until, actor="Administrator test")


def test_commands_send_invitations_and_reminders(survey, councils3, capsys):
    call_command("send_invitations", survey.slug)
    out = capsys.readouterr().out
    assert "2 queued, 0 already sent or queued, 1 skipped" in out
    assert "Not invited, no chief executive email address: 1 council\n" in out
    call_command("send_invitations", survey.slug, "--councils", "E06000001")
    assert "0 queued, 1 already" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No survey round"):
        call_command("send_invitations", "no-such-round")
    with pytest.raises(CommandError, match="Unknown GSS codes: E09999999"):
        call_command("send_reminders", survey.slug, "--councils", "E09999999")
    call_command("send_reminders", survey.slug)
    # Not invited yet as far as sending goes (the invitations are still pending): no reminder.
    assert "0 queued" in capsys.readouterr().out
