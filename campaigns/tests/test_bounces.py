"""Bounce reports mark the emails they name as bounced, for the tracker to show and resend."""

import io
import mailbox
import sys

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from campaigns.services import email_resend, invitations_send
from outbox.models import EmailStatus, OutboundEmail

pytestmark = pytest.mark.django_db

REPORT = """\
From: MAILER-DAEMON@relay.council.example
To: survey@localdigital.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.council.example

Final-Recipient: rfc822; {recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected:
 User unknown in virtual mailbox table

--b1
Content-Type: text/rfc822-headers

From: survey@localdigital.example
To: {recipient}
Subject: Channel baseline survey
Message-ID: {message_id}

--b1--
"""


def report(message_id: str, recipient: str, status="5.1.1", action="failed") -> bytes:
    text = REPORT.format(message_id=message_id, recipient=recipient, status=status, action=action)
    return text.replace("\n", "\r\n").encode()


@pytest.fixture
def invited(survey, councils3, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitations_send(survey=survey)
    return {m.to[0]: m.extra_headers["Message-ID"] for m in mail.outbox}


def test_a_bounce_report_marks_the_email_bounced_and_the_tracker_offers_a_resend(
    survey, invited, administrator, tmp_path, capsys, django_capture_on_commit_callbacks
):
    address = "ce.e06000001@council.example"
    path = tmp_path / "bounce.eml"
    path.write_bytes(report(invited[address], address))
    call_command("process_bounces", str(path))
    assert "1 messages read: 1 emails marked bounced, 0 reports" in capsys.readouterr().out
    assert bounced_hash_is_keyed(address)
    bounced = OutboundEmail.objects.get(to_address=address)
    assert bounced.status == EmailStatus.FAILED
    assert bounced.last_error.startswith("Bounced: 5.1.1 (smtp; 550 5.1.1")
    assert OutboundEmail.objects.get(to_address="ce.e06000002@council.example").status == "sent"
    # The same report again changes nothing.
    call_command("process_bounces", str(path))
    assert OutboundEmail.objects.get(pk=bounced.pk).last_error == bounced.last_error
    client = Client()
    client.force_login(administrator)
    page = client.get(f"/campaigns/{survey.slug}/").content.decode()
    row = page[page.index('id="outstanding"') :]
    row = row[row.index("Hartlepool Borough Council") :].split("</tr>")[0]
    assert "Bounced or failed" in row and "Bounced: 5.1.1" in row
    assert f'name="resend" value="{bounced.pk}"' in row
    with django_capture_on_commit_callbacks(execute=True):
        assert email_resend(email=bounced, actor="Administrator test") is not None


def bounced_hash_is_keyed(address: str) -> bool:
    """The Message-ID is not the bare SHA-256 of the predictable outbox key."""
    import hashlib

    email = OutboundEmail.objects.get(to_address=address)
    return email.message_hash != hashlib.sha256(email.key.encode()).hexdigest()[:32]


def test_delays_unknown_forged_and_other_mail_change_nothing(invited, tmp_path, capsys):
    address = "ce.e06000002@council.example"
    files = {
        "delay.eml": report(invited[address], address, status="4.4.1", action="delayed"),
        "other.eml": report("<" + "f" * 32 + "@localdigital.example>", address),
        # Right Message-ID, someone else's address: not about this email.
        "elsewhere.eml": report(invited[address], "someone@elsewhere.example"),
        "reply.eml": b"From: ce@council.example\r\nSubject: Out of office\r\n\r\nAway.\r\n",
        # Raw 8-bit bytes in a header: read, not a crash.
        "latin.eml": report(invited[address], address).replace(b"User unknown", b"caf\xe9"),
    }
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
    call_command("process_bounces", *(str(tmp_path / name) for name in files))
    out = capsys.readouterr().out
    assert "5 messages read: 1 emails marked bounced, 2 reports about no email" in out
    assert "0 unreadable" in out
    (bounced,) = OutboundEmail.objects.filter(status=EmailStatus.FAILED)
    assert bounced.to_address == address and "caf" in bounced.last_error


def test_a_report_about_an_email_not_yet_sent_changes_nothing(
    survey, councils3, tmp_path, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # queued, never sent
        invitations_send(survey=survey)
    pending = OutboundEmail.objects.get(to_address="ce.e06000001@council.example")
    message_id = f"<{pending.message_hash}@localdigital.example>"
    (tmp_path / "early.eml").write_bytes(report(message_id, pending.to_address))
    call_command("process_bounces", str(tmp_path / "early.eml"))
    pending.refresh_from_db()
    assert pending.status == EmailStatus.PENDING


def test_reports_are_read_from_a_maildir_or_a_mail_servers_pipe(
    invited, tmp_path, monkeypatch, capsys
):
    first, second = "ce.e06000001@council.example", "ce.e06000002@council.example"
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(report(invited[first], first))
    call_command("process_bounces", "--maildir", str(tmp_path / "bounces"), "--remove")
    assert len(box) == 0
    stdin = io.TextIOWrapper(io.BytesIO(report(invited[second], second)))
    monkeypatch.setattr(sys, "stdin", stdin)
    call_command("process_bounces", "-")
    assert OutboundEmail.objects.filter(status=EmailStatus.FAILED).count() == 2
    with pytest.raises(CommandError, match="Give message files"):
        call_command("process_bounces")
    with pytest.raises(CommandError, match="Not a Maildir"):
        call_command("process_bounces", "--maildir", str(tmp_path))
