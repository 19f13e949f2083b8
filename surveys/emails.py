"""Sending recorded emails exactly once, through Django's email backends."""

from __future__ import annotations

import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from surveys.models import EmailStatus, OutboundEmail

logger = logging.getLogger(__name__)
SEND_ERRORS = (smtplib.SMTPException, OSError)


class EmailNotSent(Exception):
    """A transient failure: the task retries with backoff."""


def render_email(template: str, context: dict) -> tuple[str, str, str]:
    """Subject, text and HTML of a message from its template trio under emails/."""
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    return " ".join(subject.split()), text, html


def email_send(*, email_id: int) -> str:
    """Send one recorded email if it is still pending; return what happened.

    The row is claimed with select_for_update(skip_locked=True) and marked sent in the
    same transaction, so a second delivery of the task (at-least-once) finds it either
    locked or already sent, and never sends it twice.
    """
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=EmailStatus.PENDING)
            .first()
        )
        if email is None:
            return "skipped"
        email.attempts += 1
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=email.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.to_address],
        )
        if email.body_html:
            message.attach_alternative(email.body_html, "text/html")
        try:
            message.send()
        except SEND_ERRORS as error:
            email.last_error = type(error).__name__
            failure = error
        else:
            email.status = EmailStatus.SENT
            email.sent_at = timezone.now()
            email.last_error = ""
            failure = None
        email.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    if failure is not None:
        # No address or content in the log: the id is enough to find it.
        logger.warning(
            "email %s not sent (attempt %s): %s", email_id, email.attempts, type(failure).__name__
        )
        raise EmailNotSent(email_id) from failure
    return "sent"


def email_mark_failed(*, email_id: int) -> None:
    OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.PENDING).update(
        status=EmailStatus.FAILED
    )


def email_requeue_pending(*, older_than: datetime.timedelta) -> int:
    """Queue again any pending email whose task was lost (Redis down at commit time)."""
    from surveys.tasks import email_send_task

    cutoff = timezone.now() - older_than
    ids = list(
        OutboundEmail.objects.filter(status=EmailStatus.PENDING, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    for email_id in ids:
        email_send_task.delay(email_id)
    return len(ids)
