"""Celery adapters for surveys: take ids, call one service. Every task is safe to run twice.

The email tasks are the outbox's (outbox.tasks).
"""

from __future__ import annotations

from celery import shared_task


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
