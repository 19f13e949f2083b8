"""Sending recorded emails exactly once, through Django's email backends.

Every email is first an `OutboundEmail` row with a unique key (the outbox). Sending
claims the row with select_for_update(skip_locked=True), sends only while it is pending,
and marks it sent in the same transaction, so a second delivery of a task (Celery on
Redis is at-least-once: late acks, a killed worker, two beat processes) finds the row
locked or already sent and sends nothing.

The outbox never holds a working access link (a database dump alone must let nobody in):
bodies carry LINK_MARKER where the link goes and the row points at the link's row. The
URL is put in while the claimed row is sent, by the policy of the layers above
(settings.OUTBOX_POLICY, see outbox.conf), and exists only in the message handed to the
backend. The policy may also hold an email back: no longer wanted (cancelled), or its
link cannot go (failed, offered for resending).

One window remains, as for any SMTP client: the relay has accepted a message and the
process dies before the commit. The row is then still pending and is sent again; its
Message-ID is derived from the outbox key, so the copy carries the same Message-ID and
receiving systems can tell it is the same message.

Bulk campaign email goes out in batches (EMAIL_BATCH_SIZE per task, one SMTP connection)
at no more than EMAIL_RATE_PER_MINUTE across all workers. A failure is recorded as an
`EmailAttempt` with the time of the next try (exponential backoff, scheduled from the
database by beat rather than with long countdowns); after EMAIL_MAX_ATTEMPTS the email
is marked failed and the tracker offers to resend it. One recipient's failure never stops
the others.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import smtplib
from collections import Counter

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from outbox import conf
from outbox.models import EmailAttempt, EmailStatus, OutboundEmail
from survey_site.queue import enqueue_on_commit

logger = logging.getLogger(__name__)
SEND_ERRORS = (smtplib.SMTPException, OSError)
# Refusals of this email itself (MAIL FROM, RCPT TO, DATA). A 5xx reply to one is final;
# a 4xx (greylisting, a full queue) is tried again after the backoff, as are failures to
# reach or sign in to the relay and dropped connections.
REFUSALS = (smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)
CANCELLED = "Cancelled"

# Stands for the recipient's access link in stored bodies. Private-use characters: no
# template, name or answer contains them, and HTML escaping leaves them alone.
LINK_MARKER = "\ue000access-link\ue001"

SENT, SKIPPED, RETRY, FAILED = "sent", "skipped", "retry", "failed"
CANCELLED_OUTCOME, NOT_DUE, RATE_LIMITED = "cancelled", "not_due", "rate_limited"


class EmailNotSent(Exception):
    """A transient failure: the email stays pending and is tried again after a backoff."""


def render_email(template: str, context: dict) -> tuple[str, str, str]:
    """Subject, text and HTML of a message from its template trio under emails/."""
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    return " ".join(subject.split()), text, html


def message_id(email: OutboundEmail) -> str:
    """A Message-ID fixed by the outbox key: a copy sent again is visibly the same message."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return f"<{email.message_hash or OutboundEmail.hash_of(email.key)}@{domain}>"


def _message(email: OutboundEmail, connection, url: str) -> EmailMultiAlternatives:
    """The message as delivered: the only place the link is put into the bodies."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text.replace(LINK_MARKER, url),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to_address],
        headers={"Message-ID": message_id(email)},
        connection=connection,
    )
    if email.body_html:
        message.attach_alternative(email.body_html.replace(LINK_MARKER, escape(url)), "text/html")
    return message


def retry_at(attempts: int, now: datetime.datetime) -> datetime.datetime:
    """Exponential backoff: base, 2 x base, 4 x base... capped at an hour."""
    delay = min(conf.get("EMAIL_RETRY_BASE_SECONDS") * 2 ** max(attempts - 1, 0), 3600)
    return now + datetime.timedelta(seconds=delay)


def rate_take(now: datetime.datetime) -> bool:
    """Take one send from this minute's allowance, shared by every worker (the cache)."""
    key = f"email-rate:{now:%Y%m%d%H%M}"
    cache.add(key, 0, timeout=120)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=120)
        used = 1
    return used <= conf.get("EMAIL_RATE_PER_MINUTE")


def rate_used(now: datetime.datetime) -> int:
    return int(cache.get(f"email-rate:{now:%Y%m%d%H%M}") or 0)


def smtp_reply(error: Exception) -> tuple[int | None, str]:
    """The relay's reply code and text behind a failure; (None, "") when it gave none."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = list(error.recipients.values())
        if not replies:
            return None, ""
        code, text = replies[0]
    elif isinstance(error, smtplib.SMTPResponseException):
        code, text = error.smtp_code, error.smtp_error
    else:
        return None, ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return code, " ".join(str(text).split())[:300]  # a multi-line reply on one line


def _is_permanent(error: Exception, code: int | None) -> bool:
    return isinstance(error, REFUSALS) and code is not None and 500 <= code < 600


def _record(email: OutboundEmail, outcome: str, error: str = "", next_at=None) -> None:
    EmailAttempt.objects.create(email=email, outcome=outcome, error=error, next_attempt_at=next_at)


def _send_claimed(
    email_id: int, *, connection, now: datetime.datetime, paced: bool
) -> tuple[str, Exception | None]:
    """Claim one pending email, send it, and record the outcome, all in one transaction."""
    policy = conf.policy()
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(*policy.select_related)
            .filter(pk=email_id, status=EmailStatus.PENDING)
            .first()
        )
        if email is None:
            return SKIPPED, None  # sent, failed, or being sent by another worker
        if email.attempts:
            # A duplicate or early task must not hurry a retry that is not due yet.
            latest = email.tries.order_by("-attempted_at", "-id").first()
            if latest and latest.next_attempt_at and latest.next_attempt_at > now:
                return NOT_DUE, None
        url = ""
        reason = policy.hold_reason(email, now)
        if not reason and (LINK_MARKER in email.body_text or LINK_MARKER in email.body_html):
            reason, url = policy.link_url(email)
        if reason:
            # Not wanted any more (cancelled), or its link is lost: failed, offered to resend.
            cancelled = reason.startswith(CANCELLED)
            email.status = EmailStatus.FAILED
            email.last_error = reason[:300]
            email.save(update_fields=["status", "last_error"])
            _record(email, "cancelled" if cancelled else "failed", reason[:200])
            return (CANCELLED_OUTCOME if cancelled else FAILED), None
        if paced and not rate_take(now):
            return RATE_LIMITED, None
        email.attempts += 1
        failure: Exception | None = None
        try:
            _message(email, connection, url).send()
        except SEND_ERRORS as error:
            failure = error
            email.reply_code, email.reply_text = smtp_reply(error)
            final = email.attempts >= conf.get("EMAIL_MAX_ATTEMPTS")
            outcome = FAILED if final or _is_permanent(error, email.reply_code) else RETRY
        else:
            outcome = SENT
        if outcome == SENT:
            email.status = EmailStatus.SENT
            email.sent_at = timezone.now()
            email.last_error = ""
            email.reply_code, email.reply_text = None, ""
            _record(email, "sent")
        else:
            # The class name and the reply code only in the attempt and the log. The
            # relay's text, kept on the row for the tracker, may name the address the
            # email went to, which the row holds already.
            email.last_error = type(failure).__name__
            error = " ".join(filter(None, [email.last_error, str(email.reply_code or "")]))
            if outcome == FAILED:
                email.status = EmailStatus.FAILED
                _record(email, "failed", error)
            else:
                _record(email, "retry", error, retry_at(email.attempts, now))
        email.save(
            update_fields=[
                "attempts", "status", "sent_at", "last_error", "reply_code", "reply_text", "link",
            ]
        )  # fmt: skip
    if failure is not None:
        logger.warning(
            "email %s not sent (attempt %s, %s): %s %s",
            email_id,
            email.attempts,
            outcome,
            type(failure).__name__,
            email.reply_code or "",
        )
    return outcome, failure


def email_send(*, email_id: int) -> str:
    """Send one recorded email if it is still pending; return what happened.

    Transactional emails (a copy of the answers, an extension notice) go at once,
    outside the campaign's rate. A transient failure raises EmailNotSent; the email
    stays pending and beat's dispatcher tries it again after the backoff.
    """
    outcome, failure = _send_claimed(email_id, connection=None, now=timezone.now(), paced=False)
    if outcome == RETRY:
        raise EmailNotSent(email_id) from failure
    return outcome


def _ensure_open(connection) -> None:
    """Keep one SMTP connection for the batch (backends without one need nothing)."""
    if getattr(connection, "connection", False) is None:
        with contextlib.suppress(*SEND_ERRORS):
            connection.open()


def _reset(connection) -> None:
    with contextlib.suppress(*SEND_ERRORS):
        connection.close()
    if hasattr(connection, "connection"):
        connection.connection = None


def email_send_batch(*, email_ids: list[int], paced: bool | None = None) -> dict[str, int]:
    """Send a batch of emails over one connection; each is claimed on its own.

    One email failing (a refused address, a dropped connection) is recorded and the
    batch goes on. When this minute's allowance is used up the batch stops; the rest
    stay pending for the next dispatch.
    """
    if paced is None:
        paced = not current_app.conf.task_always_eager
    counts: Counter[str] = Counter()
    connection = get_connection()
    try:
        for email_id in email_ids:
            _ensure_open(connection)
            try:
                outcome, _ = _send_claimed(
                    email_id, connection=connection, now=timezone.now(), paced=paced
                )
            except SoftTimeLimitExceeded:
                break
            except Exception:  # one email's problem never stops the others
                logger.exception("email %s could not be processed", email_id)
                counts["error"] += 1
                _reset(connection)
                continue
            counts[outcome] += 1
            if outcome == RATE_LIMITED:
                break
            if outcome in (RETRY, FAILED):
                _reset(connection)
    finally:
        _reset(connection)
    return dict(counts)


def emails_due(*, now: datetime.datetime, after: int = 0, limit: int | None = None) -> list[int]:
    """Pending emails that may be tried now: never tried, or their backoff has passed.

    In order of id, from after `after`, at most `limit` of them: the dispatcher pages
    through them rather than loading every pending id at once.
    """
    waiting = EmailAttempt.objects.filter(email=OuterRef("pk"), next_attempt_at__gt=now)
    due = (
        OutboundEmail.objects.filter(status=EmailStatus.PENDING, pk__gt=after)
        .filter(Q(attempts=0) | ~Exists(waiting))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return list(due if limit is None else due[:limit])


DISPATCH_PAGE = 20  # batches' worth of ids read at a time by the dispatcher


def email_dispatch(*, now: datetime.datetime | None = None) -> int:
    """Queue batches of the pending emails this minute's rate allows; beat runs it.

    Safe to run twice or from two beat processes: a row queued twice is claimed once.
    """
    from outbox.tasks import email_send_batch_task

    now = now or timezone.now()
    eager = current_app.conf.task_always_eager
    budget = None if eager else max(conf.get("EMAIL_RATE_PER_MINUTE") - rate_used(now), 0)
    size = conf.get("EMAIL_BATCH_SIZE")
    queued = after = 0
    while budget is None or queued < budget:
        page = size * DISPATCH_PAGE
        if budget is not None:
            page = min(page, budget - queued)
        ids = emails_due(now=now, after=after, limit=page)
        for start in range(0, len(ids), size):
            email_send_batch_task.delay(ids[start : start + size])
        queued += len(ids)
        if len(ids) < page:
            break
        after = ids[-1]
    return queued


def email_mark_failed(*, email_id: int) -> None:
    OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.PENDING).update(
        status=EmailStatus.FAILED
    )


def email_requeue_pending(*, older_than: datetime.timedelta) -> int:
    """Queue again pending emails whose task was lost (Redis down at commit time).

    Goes through the dispatcher, so recovery keeps to the rate and the backoff.
    """
    cutoff = timezone.now() - older_than
    if not OutboundEmail.objects.filter(status=EmailStatus.PENDING, created_at__lt=cutoff).exists():
        return 0
    return email_dispatch()


def email_enqueue(
    *,
    response,
    kind: str,
    key: str,
    to_address: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    link=None,
    send_at_once: bool = True,
) -> OutboundEmail | None:
    """Record an email to send once, and queue its sending after commit.

    `response` is the owner row (settings.OUTBOX_OWNER_MODEL). The unique key makes
    enqueueing the same event twice a no-op (None is returned). Bulk emails pass
    send_at_once=False: the dispatcher sends them in paced batches.
    """
    from outbox.tasks import email_send_task

    try:
        with transaction.atomic():
            email = OutboundEmail.objects.create(
                response=response,
                kind=kind,
                key=key,
                to_address=to_address,
                subject=subject,
                body_text=body_text,
                body_html=body_html,
                link=link,
            )
    except IntegrityError:
        return None
    if send_at_once:
        enqueue_on_commit(email_send_task, email.pk)
    return email


def emails_send_on_commit(email_ids: list[int]) -> None:
    """Queue the sending of these new emails in batches once the transaction commits.

    The batches keep to the rate (email_send_batch stops when this minute's allowance is
    used; beat's dispatcher sends the rest later), and only these ids are queued: asking
    the dispatcher after each part of a large send would queue every pending row again.
    """
    from outbox.tasks import email_send_batch_task

    size = conf.get("EMAIL_BATCH_SIZE")
    for start in range(0, len(email_ids), size):
        enqueue_on_commit(email_send_batch_task, email_ids[start : start + size])


def dispatch_on_commit() -> None:
    """Ask the dispatcher to send what is pending once the transaction commits."""
    from outbox.tasks import email_dispatch_task

    enqueue_on_commit(email_dispatch_task)
