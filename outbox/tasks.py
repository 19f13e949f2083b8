"""Celery adapters: take ids, call one service. Every task is safe to run twice.

Sending tasks acknowledge late and are rejected (so redelivered) when their worker dies;
the outbox row, claimed with select_for_update(skip_locked=True), makes the second run a
no-op (see outbox.sending). Retries are scheduled in the database and picked up by beat
(email_dispatch_task), never with long countdowns that could outlive Redis's visibility
timeout.
"""

from __future__ import annotations

import datetime

from celery import shared_task

from outbox.sending import (
    EmailNotSent,
    email_dispatch,
    email_requeue_pending,
    email_send,
    email_send_batch,
)

SENDING = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**SENDING, soft_time_limit=60)
def email_send_task(email_id: int) -> str:
    """Send one recorded email; a transient failure is retried by beat after a backoff."""
    try:
        return email_send(email_id=email_id)
    except EmailNotSent:
        return "retry scheduled"


@shared_task(**SENDING, soft_time_limit=600)
def email_send_batch_task(email_ids: list[int]) -> dict[str, int]:
    """Send a batch of recorded emails over one connection, within the rate."""
    return email_send_batch(email_ids=email_ids)


@shared_task(acks_late=True, soft_time_limit=120)
def email_dispatch_task() -> int:
    """Beat (every minute) and after each campaign send: queue what the rate allows."""
    return email_dispatch()


@shared_task(acks_late=True, soft_time_limit=120)
def email_requeue_pending_task() -> int:
    """Beat: re-queue emails whose task never reached the broker."""
    return email_requeue_pending(older_than=datetime.timedelta(minutes=10))
