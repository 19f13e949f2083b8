"""Invitations are written in bulk: the same rows as one council at a time, still once each.

Issue 13: a round's responses, links and outbox rows are inserted set-based, CHUNK
councils per transaction. What each council gets must not change: its response with the
tier's pre-answers, its live link (the one it has, or the next generation), and an outbox
row with the same key, rendered content and link as the one-by-one path gives.
"""

import datetime
import re

import pytest
from django.core import mail
from django.db import IntegrityError
from django.utils import timezone

from authorities.choices import AuthorityKind, LinkKind
from authorities.models import AccessLink
from authorities.tokens import derive_token, hash_token
from campaigns import services
from campaigns.choices import TemplateKind
from campaigns.models import SendBatch
from campaigns.services import (
    _invitation_create,
    _invitations_create,
    _template,
    campaign_get_or_create,
    invitation_key,
    invitations_send,
)
from outbox import sending
from outbox.models import EmailAttempt, EmailStatus, OutboundEmail
from outbox.sending import email_dispatch, email_send, emails_due
from surveys.models import EmailKind, Response, TransactionAnswer
from surveys.services import (
    link_find,
    link_is_usable,
    link_issue,
    link_reissue,
    response_get_or_create,
)
from surveys.tests.factories import make_survey

from .conftest import make_council

pytestmark = pytest.mark.django_db
LINK = re.compile(r"^https?://\S+/s/([A-Za-z0-9_-]{43})$", re.MULTILINE)


def _councils(survey):
    """Councils of two tiers (different pre-answers), in the first round only."""
    district, county = AuthorityKind.DISTRICT, AuthorityKind.COUNTY
    return [
        make_council(survey, "E06000001", name="Hartlepool Borough Council"),
        make_council(survey, "E07000026", name="Allerdale Borough Council", kind=district),
        make_council(survey, "E10000002", name="Buckinghamshire County Council", kind=county),
        make_council(survey, "E06000004", name="Stockton <b>&</b>", chief_executive_name="Jo <x>"),
    ]


def _rows(survey, authority):
    """Everything the invitation wrote for one council, without ids and the round's own pk."""
    response = Response.objects.get(survey=survey, authority=authority)
    answers = sorted(
        TransactionAnswer.objects.filter(response=response).values_list(
            "transaction_id", "provision", "updated_by"
        )
    )
    links = [
        (link.kind, link.generation, link.contributor_id, link.revoked_at is None)
        for link in AccessLink.objects.filter(response=response).order_by("generation")
    ]
    email = OutboundEmail.objects.get(response=response, kind=EmailKind.INVITATION)
    live = response.links.get(kind=LinkKind.COUNCIL, revoked_at__isnull=True)
    # The link's token is derived from its nonce exactly as link_issue derives it.
    assert live.token_hash == hash_token(derive_token(purpose=LinkKind.COUNCIL, nonce=live.nonce))
    assert email.link_id == live.pk
    assert email.key == invitation_key(survey, authority)
    assert email.message_hash == OutboundEmail.hash_of(email.key)
    return {
        "response": (response.status, response.reference, response.submission_count),
        "answers": answers,
        "links": links,
        "email": (
            email.kind, email.to_address, email.subject, email.body_text, email.body_html,
            email.status, email.attempts,
        ),
    }  # fmt: skip


def test_bulk_invitations_write_the_same_rows_as_one_council_at_a_time(
    survey, questionnaire, django_capture_on_commit_callbacks
):
    # Two rounds alike but for their slug: one invited council by council, one in bulk.
    twin = make_survey(questionnaire, slug="test-round-twin", closes_at=survey.closes_at)
    councils = _councils(survey)
    twin.chosen_authorities.set(councils)
    for round_ in (survey, twin):
        # One council already has a response and a live link, one a revoked link only.
        link_issue(response=response_get_or_create(survey=round_, authority=councils[1]))
        revoked = link_reissue(
            response=response_get_or_create(survey=round_, authority=councils[2]),
            reason="Lost",
            actor="test",
        )
        AccessLink.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    now = timezone.now()
    subject, body = _template(campaign_get_or_create(survey=survey), TemplateKind.INVITATION)

    one_by_one = [_invitation_create(survey, c, subject, body, now) for c in councils]
    with django_capture_on_commit_callbacks(execute=False):
        bulk = _invitations_create(twin, councils, subject, body, now)

    assert all(one_by_one) and all(bulk)
    for council in councils:
        assert _rows(twin, council) == _rows(survey, council), council
    assert _rows(twin, councils[1])["links"] == [(LinkKind.COUNCIL, 1, None, True)]
    assert _rows(twin, councils[2])["links"] == [
        (LinkKind.COUNCIL, 1, None, False),
        (LinkKind.COUNCIL, 2, None, True),
    ]
    # Once more for the same councils: nothing new.
    assert _invitations_create(twin, councils, subject, body, now) == [None] * len(councils)
    assert OutboundEmail.objects.filter(response__survey=twin).count() == len(councils)

    # Sent, each bulk email carries the link that opens its own council's survey.
    for email in bulk:
        assert email_send(email_id=email.pk) == sending.SENT
    assert len(mail.outbox) == len(councils)
    for message, council in zip(mail.outbox, councils, strict=True):
        assert message.to == [council.chief_executive_email]
        (token,) = LINK.findall(message.body)
        link = link_find(token)
        assert link.response.survey == twin and link.response.authority == council
        assert link_is_usable(link, timezone.now())


def test_a_round_in_several_batches_is_queued_once_and_recorded_for_the_tracker(
    survey, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "CHUNK", 2)
    councils = [*_councils(survey), make_council(survey, "E06000005", email="")]
    with django_capture_on_commit_callbacks(execute=True):
        report = invitations_send(survey=survey, actor="admin")
    assert (report.queued, report.already, len(report.skipped)) == (4, 0, 1)
    emails = OutboundEmail.objects.filter(kind=EmailKind.INVITATION)
    assert sorted(report.email_ids) == sorted(emails.values_list("pk", flat=True))
    assert SendBatch.objects.get().email_ids == report.email_ids
    assert set(emails.values_list("status", flat=True)) == {EmailStatus.SENT}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        c.chief_executive_email for c in councils[:4]
    )
    assert report.seconds["preparing"] > 0 and report.seconds["queueing"] > 0
    # Running send_invitations again queues nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = invitations_send(survey=survey)
    assert (again.queued, again.already, again.email_ids) == (0, 4, [])
    assert emails.count() == 4 and len(mail.outbox) == 4
    assert SendBatch.objects.count() == 1


def test_a_response_created_meanwhile_falls_back_to_one_council_at_a_time(
    survey, monkeypatch, django_capture_on_commit_callbacks
):
    councils = _councils(survey)

    def raced(**kwargs):
        # Another process (issue_links, the admin) created this council's response first.
        response_get_or_create(survey=survey, authority=councils[0])
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(services, "responses_with_links", raced)
    with django_capture_on_commit_callbacks(execute=True):
        report = invitations_send(survey=survey)
    assert report.queued == len(councils)
    assert Response.objects.filter(survey=survey).count() == len(councils)
    assert len(mail.outbox) == len(councils)


def test_the_dispatcher_pages_through_due_emails(
    survey, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EMAIL_BATCH_SIZE = 2
    monkeypatch.setattr(sending, "DISPATCH_PAGE", 2)  # 4 ids read at a time
    councils = _councils(survey) + [make_council(survey, f"E06000{n:03d}") for n in range(10, 16)]
    with django_capture_on_commit_callbacks(execute=False):
        report = invitations_send(survey=survey)
    ids = sorted(report.email_ids)
    waiting = OutboundEmail.objects.get(pk=ids[1])
    waiting.attempts = 1
    waiting.save()
    EmailAttempt.objects.create(
        email=waiting, outcome="retry", next_attempt_at=timezone.now() + datetime.timedelta(hours=1)
    )
    assert emails_due(now=timezone.now(), after=ids[0], limit=3) == ids[2:5]
    assert email_dispatch() == len(councils) - 1
    assert len(mail.outbox) == len(councils) - 1
    assert OutboundEmail.objects.get(pk=ids[1]).status == EmailStatus.PENDING
