"""Access links never rest in the database: the outbox holds a marker, sending puts the link in.

docs/security.md: tokens are "never stored or logged in plain text"; a dump of every table
must let nobody in, yet each email still carries its recipient's full, working link.
"""

import datetime
import importlib
import re

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client

from authorities.models import AccessLink
from campaigns.services import (
    campaign_get_or_create,
    deadline_extend,
    email_resend,
    invitations_send,
    reminders_send_now,
)
from outbox.models import EmailAttempt, EmailStatus, OutboundEmail
from outbox.sending import LINK_MARKER, email_dispatch, email_send
from survey_site.roles import administrator_create
from surveys.contributors import contributor_add, contributor_revoke
from surveys.email_policy import CONTRIBUTOR_REMOVED, LINK_LOST, LINK_REVOKED
from surveys.models import Contributor, EmailKind, Response
from surveys.services import (
    email_enqueue,
    link_issue,
    link_reissue,
    link_url,
    response_get_or_create,
)

pytestmark = pytest.mark.django_db
LINK = re.compile(r"^(https?://\S+/s/([A-Za-z0-9_-]{43}))$", re.MULTILINE)
redaction = importlib.import_module("surveys.migrations.0006_outboundemail_redact_links")


def _apps_after_redaction():
    """The models as the redaction migration saw them (the outbox was still in surveys)."""
    state = MigrationLoader(connection).project_state(
        ("surveys", "0006_outboundemail_redact_links")
    )
    return state.apps


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _database_text() -> str:
    """Every row of every table as text: what a dump of the database would show."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            if connection.vendor == "postgresql":
                cursor.execute(f"SELECT t::text FROM {quoted} AS t")  # noqa: S608 (own tables)
            else:
                cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608
            parts.extend(" | ".join(map(str, row)) for row in cursor.fetchall())
    return "\n".join(parts)


def _assert_nowhere_in_database(tokens: set[str]) -> None:
    assert tokens
    dump = _database_text()
    assert "outboundemail" in " ".join(connection.introspection.table_names())
    for token in tokens:
        assert token not in dump
    # ...and the outbox still says where each link goes.
    assert LINK_MARKER in dump


def _live_tokens() -> set[str]:
    return {LINK.match(link_url(link)).group(2) for link in AccessLink.objects.all()}


def _contributor(response: Response) -> Contributor:
    return contributor_add(
        response=response,
        name="Sam Officer",
        email="sam.officer@council.example",
        role="Revenues",
        sections=[],
        all_sections=True,
        can_submit=False,
        actor="Council link holder",
    )


@pytest.fixture
def response(survey, councils3) -> Response:
    return response_get_or_create(survey=survey, authority=councils3[0])


@pytest.fixture
def invited(survey, councils3, django_capture_on_commit_callbacks):
    """Two councils invited and their invitations sent; reminders allowed at once."""
    with django_capture_on_commit_callbacks(execute=True):
        invitations_send(survey=survey)
    campaign = campaign_get_or_create(survey=survey)
    campaign.min_gap_hours = 0
    campaign.save()
    return survey, [Response.objects.get(authority=c) for c in councils3[:2]]


def test_no_table_holds_a_link_after_emails_are_queued_or_sent(
    survey, councils3, django_capture_on_commit_callbacks
):
    # Queued, not yet sent: invitations, then (once they are sent) reminders, an
    # extension and a contributor's invitation.
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert invitations_send(survey=survey).queued == 2
    assert OutboundEmail.objects.filter(status=EmailStatus.PENDING).count() == 2
    _assert_nowhere_in_database(_live_tokens())
    for callback in queued:
        callback()
    campaign = campaign_get_or_create(survey=survey)
    campaign.min_gap_hours = 0
    campaign.save()
    hartlepool = Response.objects.get(authority=councils3[0])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert reminders_send_now(survey=survey).queued == 2
        deadline_extend(
            response=hartlepool,
            until=survey.closes_at + datetime.timedelta(days=7),
            actor="admin",
        )
        _contributor(hartlepool)
    pending = OutboundEmail.objects.filter(status=EmailStatus.PENDING)
    assert sorted(pending.values_list("kind", flat=True)) == sorted(
        [EmailKind.REMINDER, EmailKind.REMINDER, EmailKind.EXTENSION, EmailKind.CONTRIBUTOR_ADDED]
    )
    assert not pending.filter(link__isnull=True).exists()
    _assert_nowhere_in_database(_live_tokens())

    # Sent: the tokens as delivered are still nowhere in the database.
    for callback in queued:
        callback()
    email_dispatch()
    assert not OutboundEmail.objects.exclude(status=EmailStatus.SENT).exists()
    assert len(mail.outbox) == 6
    delivered = {token for m in mail.outbox for _, token in LINK.findall(m.body)}
    assert len(delivered) == 3  # two councils' links and the contributor's
    assert delivered == _live_tokens()
    _assert_nowhere_in_database(delivered)


def test_each_delivered_email_carries_its_recipients_working_link_on_its_own_line(
    invited, django_capture_on_commit_callbacks
):
    survey, (hartlepool, _) = invited
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send_now(survey=survey)
        officer = _contributor(hartlepool)
    by_kind = {}
    for message in mail.outbox:
        (url, _token) = LINK.search(message.body).groups()
        assert f"\n{url}\n" in message.body
        html = message.alternatives[0][0]
        assert f'<a href="{url}"' in html and LINK_MARKER not in html + message.body
        client = Client()
        assert client.get(_path(url)).status_code == 200  # the start page
        assert client.post(_path(url)).status_code == 303  # Continue: a session
        by_kind.setdefault(message.to[0], []).append(url)
    council_url = link_url(link_issue(response=hartlepool))
    assert by_kind["ce.e06000001@council.example"] == [council_url, council_url]  # same link
    officer_link = AccessLink.objects.get(contributor=officer)
    assert by_kind["sam.officer@council.example"] == [link_url(officer_link)]


def _queued_reminder(survey, response, capture) -> OutboundEmail:
    """A reminder to the council, recorded in the outbox and not sent yet."""
    with capture(execute=False):
        reminders_send_now(survey=survey, authorities=[response.authority])
    return OutboundEmail.objects.get(kind=EmailKind.REMINDER)


def test_reminder_queued_before_a_reissue_carries_the_councils_new_link(
    invited, django_capture_on_commit_callbacks
):
    survey, (hartlepool, _) = invited
    old_url = link_url(link_issue(response=hartlepool))
    reminder = _queued_reminder(survey, hartlepool, django_capture_on_commit_callbacks)
    new_link = link_reissue(response=hartlepool, reason="Chief executive changed", actor="admin")
    mail.outbox.clear()

    assert email_send(email_id=reminder.pk) == "sent"
    (message,) = mail.outbox
    new_url = link_url(new_link)
    assert f"\n{new_url}\n" in message.body
    assert old_url not in message.body and old_url not in message.alternatives[0][0]
    assert Client().get(_path(new_url)).status_code == 200
    assert Client().get(_path(old_url)).status_code == 404  # the old link stays dead
    reminder.refresh_from_db()
    assert (reminder.status, reminder.link) == (EmailStatus.SENT, new_link)


def test_a_link_reissued_to_a_new_address_is_never_sent_to_the_old_one(
    invited, django_capture_on_commit_callbacks
):
    survey, (hartlepool, _) = invited
    reminder = _queued_reminder(survey, hartlepool, django_capture_on_commit_callbacks)
    authority = hartlepool.authority
    old_address = authority.chief_executive_email
    authority.chief_executive_email = "new.ce@council.example"
    authority.save(update_fields=["chief_executive_email"])
    new_link = link_reissue(response=hartlepool, reason="Sent to the wrong person", actor="admin")
    mail.outbox.clear()

    assert email_send(email_id=reminder.pk) == "failed"
    assert mail.outbox == []  # the new link never goes to the old address
    reminder.refresh_from_db()
    assert reminder.status == EmailStatus.FAILED and reminder.to_address == old_address
    assert reminder.last_error.startswith("The link was re-issued to a new address")
    # The tracker's resend goes to the address the council has now, with the new link.
    with django_capture_on_commit_callbacks(execute=True):
        resent = email_resend(email=reminder, actor="Administrator test")
    email_send(email_id=resent.pk)
    (message,) = mail.outbox
    assert message.to == ["new.ce@council.example"]
    assert f"\n{link_url(new_link)}\n" in message.body


def test_email_to_a_removed_contributor_is_cancelled_not_sent(
    response, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        officer = _contributor(response)
    email = OutboundEmail.objects.get(kind=EmailKind.CONTRIBUTOR_ADDED)
    contributor_revoke(contributor=officer, actor="Council link holder")

    assert email_send(email_id=email.pk) == "cancelled"
    assert mail.outbox == []
    email.refresh_from_db()
    assert (email.status, email.last_error) == (EmailStatus.FAILED, CONTRIBUTOR_REMOVED)
    assert EmailAttempt.objects.get(email=email).outcome == "cancelled"
    assert email_send(email_id=email.pk) == "skipped"  # and never later


def test_council_email_whose_link_was_revoked_without_a_successor_is_cancelled(
    invited, django_capture_on_commit_callbacks
):
    survey, (hartlepool, _) = invited
    reminder = _queued_reminder(survey, hartlepool, django_capture_on_commit_callbacks)
    AccessLink.objects.filter(response=hartlepool).update(revoked_at=hartlepool.created_at)
    mail.outbox.clear()

    assert email_send(email_id=reminder.pk) == "cancelled"
    assert mail.outbox == []
    reminder.refresh_from_db()
    assert (reminder.status, reminder.last_error) == (EmailStatus.FAILED, LINK_REVOKED)


def test_outbox_refuses_a_link_email_holding_a_plain_link_or_no_link_row(response):
    link = link_issue(response=response)
    email = {
        "response": response,
        "kind": EmailKind.INVITATION,
        "to_address": "ce@council.example",
        "subject": "Survey",
    }
    with pytest.raises(ValueError, match="must not be stored"):
        email_enqueue(key="a", body_text=f"Use\n\n{link_url(link)}\n", link=link, **email)
    with pytest.raises(ValueError, match="must not be stored"):
        email_enqueue(key="b", body_text=f"Use\n\n{LINK_MARKER}\n", **email)
    assert not OutboundEmail.objects.exists()
    assert email_enqueue(key="c", body_text=f"Use\n\n{LINK_MARKER}\n", link=link, **email)


def test_staff_pages_never_show_a_link(invited, django_capture_on_commit_callbacks):
    survey, (hartlepool, _) = invited
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send_now(survey=survey)
    tokens = {token for m in mail.outbox for _, token in LINK.findall(m.body)}
    assert len(tokens) == 2
    staff = Client()
    staff.force_login(
        administrator_create(
            username="root", email="root@example.gov.uk", password="x-long-password-9"
        )
    )
    gss = hartlepool.authority.gss_code
    for url in (
        f"/campaigns/{survey.slug}/",
        f"/campaigns/{survey.slug}/outstanding.csv",
        f"/campaigns/{survey.slug}/preview/?kind=reminder_not_started&council={gss}",
        "/admin/outbox/emailattempt/",
        f"/admin/surveys/response/{hartlepool.pk}/change/",
    ):
        page = staff.get(url)
        assert page.status_code == 200, url
        assert not any(token.encode() in page.content for token in tokens), url


def test_migration_takes_plain_links_out_of_existing_rows(
    invited, django_capture_on_commit_callbacks
):
    _, (hartlepool, middlesbrough) = invited
    url = link_url(link_issue(response=hartlepool))
    unknown = "http://127.0.0.1:8000/s/" + "A" * 43  # a link whose row is gone

    def legacy(key, body, response, **extra):
        # Written as the outbox used to be: the plain link in both parts.
        return OutboundEmail.objects.create(
            response=response,
            kind=extra.pop("kind", EmailKind.REMINDER),
            key=key,
            to_address="ce@council.example",
            subject="Reminder",
            body_text=f"Dear Chief,\n\n{body}\n\nThanks",
            body_html=f'<p><a href="{body}">{body}</a></p>',
            **extra,
        )

    matched = legacy("old:1", url, hartlepool)
    lost = legacy("old:2", unknown, middlesbrough)
    sent = legacy("old:3", url, hartlepool, status=EmailStatus.SENT)
    copy = legacy("old:4", unknown, hartlepool, kind=EmailKind.SUBMISSION_COPY)
    redaction.redact_links(_apps_after_redaction(), None)

    for email in (matched, lost, sent):
        email.refresh_from_db()
        assert "/s/" not in email.body_text + email.body_html
        assert email.body_text == f"Dear Chief,\n\n{LINK_MARKER}\n\nThanks"
    assert (matched.link, matched.status) == (link_issue(response=hartlepool), EmailStatus.PENDING)
    assert (lost.link, lost.status, lost.last_error) == (None, EmailStatus.FAILED, LINK_LOST)
    assert sent.link == matched.link
    copy.refresh_from_db()
    assert unknown in copy.body_text  # what people typed in their answers is left alone
    redaction.redact_links(_apps_after_redaction(), None)  # running again changes nothing
    matched.refresh_from_db()
    assert matched.body_text.count(LINK_MARKER) == 1

    mail.outbox.clear()
    assert email_send(email_id=matched.pk) == "sent"
    assert f"\n{url}\n" in mail.outbox[0].body
    assert f'<a href="{url}">{url}</a>' in mail.outbox[0].alternatives[0][0]
    # The lost one is offered for resending, and goes with the council's current link.
    with django_capture_on_commit_callbacks(execute=True):
        resent = email_resend(email=lost, actor="admin")
    resent.refresh_from_db()
    assert resent.status == EmailStatus.SENT
    assert f"\n{link_url(link_issue(response=middlesbrough))}\n" in mail.outbox[-1].body


def test_rolling_the_redaction_back_holds_marked_emails_instead_of_sending_the_marker(
    invited, django_capture_on_commit_callbacks
):
    survey, (hartlepool, _) = invited
    pending = _queued_reminder(survey, hartlepool, django_capture_on_commit_callbacks)
    assert pending.status == EmailStatus.PENDING and LINK_MARKER in pending.body_text
    redaction.hold_marked_emails(_apps_after_redaction(), None)
    pending.refresh_from_db()
    assert (pending.status, pending.last_error) == (EmailStatus.FAILED, LINK_LOST)
