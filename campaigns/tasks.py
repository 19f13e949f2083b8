"""Celery adapters for campaigns: beat runs them; each is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=600)
def reminders_send_due_task() -> int:
    """Beat: record the reminders due now in every open round (sent by the dispatcher)."""
    from campaigns.services import reminders_send_due_all

    return reminders_send_due_all().queued
