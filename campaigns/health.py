"""Whether the outbox is moving: for the tracker's warning and /healthz/email.

Two signs that emails are stuck, both with EMAIL_STUCK_MINUTES of grace:

- No worker has tried to send anything for that long while emails have been due for at
  least that long (worker or beat down, queue lost).
- The email due longest has waited longer than expected: its place in the queue at
  EMAIL_RATE_PER_MINUTE, plus the grace. The queue it joined is the emails due with or
  before it that were still unsent then, so a large batch draining at the configured
  rate is not an alarm.

Counts and ages only: nothing here names a council, an address or an email.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.db.models import Max, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from outbox import conf
from outbox.models import EmailAttempt, EmailStatus, OutboundEmail

OK, NO_WORKER, QUEUED_TOO_LONG = "ok", "no_worker", "queued_too_long"


@dataclass(frozen=True)
class EmailHealth:
    status: str  # OK, NO_WORKER or QUEUED_TOO_LONG
    emails_due: int = 0
    oldest_due_minutes: int = 0
    detail: str = ""

    @property
    def stuck(self) -> bool:
        return self.status != OK

    def as_json(self) -> dict:
        return {
            "status": "ok" if not self.stuck else "stuck",
            "reason": self.status,
            "detail": self.detail,
            "emails_due": self.emails_due,
            "oldest_due_minutes": self.oldest_due_minutes,
        }


def _minutes(delta: datetime.timedelta) -> int:
    return max(int(delta.total_seconds() // 60), 0)


def email_health(*, now: datetime.datetime | None = None) -> EmailHealth:
    now = now or timezone.now()
    grace = datetime.timedelta(minutes=conf.get("EMAIL_STUCK_MINUTES"))
    due = (
        OutboundEmail.objects.filter(status=EmailStatus.PENDING)
        .annotate(retry_after=Max("tries__next_attempt_at"))
        .filter(Q(attempts=0) | Q(retry_after__isnull=True) | Q(retry_after__lte=now))
        .annotate(due_since=Coalesce("retry_after", "created_at"))
    )
    oldest = due.aggregate(oldest=Min("due_since"))["oldest"]
    if oldest is None:
        return EmailHealth(OK)
    count = due.count()
    waited = now - oldest
    last_try = EmailAttempt.objects.aggregate(last=Max("attempted_at"))["last"]
    if waited >= grace and (last_try is None or now - last_try >= grace):
        return EmailHealth(
            NO_WORKER,
            count,
            _minutes(waited),
            f"No email has been tried for {_minutes(grace)} minutes or more while "
            f"{count} {'is' if count == 1 else 'are'} due",
        )
    # The queue the oldest email joined: emails queued with or before it that were
    # still unsent then (pending now, or sent since).
    queue = OutboundEmail.objects.filter(created_at__lte=oldest).filter(
        Q(status=EmailStatus.PENDING) | Q(sent_at__gte=oldest)
    )
    expected = grace + datetime.timedelta(
        minutes=math.ceil(queue.count() / conf.get("EMAIL_RATE_PER_MINUTE"))
    )
    if waited > expected:
        return EmailHealth(
            QUEUED_TOO_LONG,
            count,
            _minutes(waited),
            f"An email has been due for {_minutes(waited)} minutes, longer than the "
            f"{_minutes(expected)} expected at the configured rate",
        )
    return EmailHealth(OK, count, _minutes(waited))
