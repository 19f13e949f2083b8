"""Celery adapters: take ids, call one service. Every task is safe to run twice."""

from __future__ import annotations

import datetime

from celery import shared_task

from surveys.emails import EmailNotSent, email_mark_failed, email_requeue_pending, email_send

EMAIL_MAX_RETRIES = 5


@shared_task(bind=True, acks_late=True, max_retries=EMAIL_MAX_RETRIES, soft_time_limit=60)
def email_send_task(self, email_id: int) -> str:
    """Send one recorded email; retry transient failures with backoff, then mark failed."""
    try:
        return email_send(email_id=email_id)
    except EmailNotSent as error:
        if self.request.retries >= EMAIL_MAX_RETRIES:
            email_mark_failed(email_id=email_id)
            return "failed"
        raise self.retry(exc=error, countdown=min(30 * 2**self.request.retries, 900)) from None


@shared_task(acks_late=True, soft_time_limit=120)
def email_requeue_pending_task() -> int:
    """Beat: re-queue emails whose task never reached the broker."""
    return email_requeue_pending(older_than=datetime.timedelta(minutes=10))


@shared_task(acks_late=True, soft_time_limit=300)
def responses_close_due_task() -> int:
    """Beat: close responses whose deadline has passed."""
    from django.utils import timezone

    from surveys.selectors import response_data, response_progress
    from surveys.services import responses_close_due

    return responses_close_due(
        now=timezone.now(),
        is_complete=lambda r: response_progress(data=response_data(response=r)).complete,
    )
