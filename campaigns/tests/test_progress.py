"""Following a send: --wait on the commands, the tracker's latest send, skips by reason."""

import itertools
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from campaigns.models import SendBatch
from campaigns.progress import batch_progress, batch_wait
from campaigns.services import invitations_send
from outbox.models import EmailStatus, OutboundEmail
from outbox.sending import email_send

from .conftest import make_council


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def _pending() -> list[int]:
    return list(
        OutboundEmail.objects.filter(status=EmailStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_waiting_shows_queued_sent_and_failed_until_the_batch_is_done(survey, councils3):
    # Not committed in this test's transaction, so no task has sent them: all queued.
    report = invitations_send(survey=survey, actor="Administrator test")
    batch = report.batch
    assert (batch.what, batch.started_by, len(batch.email_ids)) == (
        "Invitations",
        "Administrator test",
        2,
    )
    shown = []

    def worker(_seconds):  # a worker sending one email while the command waits
        email_send(email_id=_pending()[0])

    progress = batch_wait(batch, timeout=60, show=shown.append, interval=0, sleep=worker)
    assert progress.done
    assert [str(p) for p in shown] == [
        "Invitations: 0 of 2 sent, 2 queued, 0 failed",
        "Invitations: 1 of 2 sent, 1 queued, 0 failed",
        "Invitations: 2 of 2 sent, 0 queued, 0 failed",
    ]


@pytest.mark.django_db
def test_waiting_stops_at_the_timeout_and_says_what_is_still_queued(survey, councils3):
    out = StringIO()
    with pytest.raises(CommandError, match="after 0 seconds with 2 emails still queued"):
        call_command("send_invitations", survey.slug, "--wait", "--timeout", "0", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Invitations: 0 of 2 sent, 2 queued, 0 failed"
    clock = itertools.count()  # a second a look
    progress = batch_wait(
        SendBatch.objects.get(), timeout=5, show=lambda p: None, sleep=lambda s: None,
        clock=lambda: next(clock),
    )  # fmt: skip
    assert not progress.done and progress.queued == 2
    with pytest.raises(CommandError, match="whole number of seconds"):
        call_command("send_reminders", survey.slug, "--wait", "--timeout", "-1")


@pytest.mark.django_db(transaction=True)
def test_send_invitations_wait_redraws_one_line_on_a_terminal(survey, councils3):
    # Committed: the in-process worker sends them at once, and the wait ends.
    terminal = Terminal()
    call_command("send_invitations", survey.slug, "--wait", stdout=terminal)
    text = terminal.getvalue()
    assert "\rInvitations: 2 of 2 sent, 0 queued, 0 failed\n" in text
    assert "Emails are sent by the workers" not in text
    plain = StringIO()
    call_command("send_invitations", survey.slug, "--wait", stdout=plain)
    assert "Nothing was queued: nothing to wait for." in plain.getvalue()
    assert "\r" not in plain.getvalue()


@pytest.mark.django_db
def test_a_repeated_send_reminders_summarises_skips_by_reason(survey, councils3):
    for number in range(4, 9):
        make_council(survey, f"E06{number:06d}")
    invitations_send(survey=survey)
    OutboundEmail.objects.update(status=EmailStatus.SENT)  # delivered
    out = StringIO()
    call_command("send_reminders", survey.slug, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1:] == ["  No reminder, emailed less than the minimum gap ago: 7 councils"]
    detailed = StringIO()
    call_command("send_reminders", survey.slug, "-v", "2", stdout=detailed)
    assert "    Middlesbrough Council\n" in detailed.getvalue()


@pytest.mark.django_db
def test_the_tracker_shows_the_latest_send_s_progress(survey, councils3, administrator):
    invitations_send(survey=survey, actor="Administrator admin-user")
    client = Client()
    client.force_login(administrator)
    html = client.get(f"/campaigns/{survey.slug}/").content.decode()
    latest = html[html.index('id="latest-send"') :].split("</p>")[0]
    assert "Invitations: 0 of 2 sent, 2 queued, 0 failed." in latest
    assert "by Administrator admin-user" in latest and "Refresh this page" in latest
    email_send(email_id=_pending()[0])
    OutboundEmail.objects.filter(pk__in=_pending()).update(status=EmailStatus.FAILED)
    html = client.get(f"/campaigns/{survey.slug}/").content.decode()
    latest = html[html.index('id="latest-send"') :].split("</p>")[0]
    assert "Invitations: 1 of 2 sent, 0 queued, 1 failed." in latest
    assert "Refresh this page" not in latest
    assert batch_progress(SendBatch.objects.get()).done
