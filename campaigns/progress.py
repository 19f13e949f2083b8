"""How far a send has gone: its emails queued, sent and failed, for the tracker and --wait.

A batch (campaigns.models.SendBatch) lists the emails one send queued; their states come
from the outbox, so the numbers are the same wherever they are shown.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from campaigns.models import SendBatch
from campaigns.selectors import CANCELLED_EMAILS, FAILED, QUEUED, SENT, email_state
from outbox.models import OutboundEmail
from surveys.models import Survey


@dataclass(frozen=True)
class BatchProgress:
    what: str
    total: int
    queued: int
    sent: int
    failed: int
    cancelled: int

    @property
    def done(self) -> bool:
        return self.queued == 0

    def __str__(self) -> str:
        text = f"{self.what}: {self.sent} of {self.total} sent, {self.queued} queued, "
        text += f"{self.failed} failed"
        if self.cancelled:
            text += f", {self.cancelled} cancelled (no longer needed)"
        return text


def batch_progress(batch: SendBatch) -> BatchProgress:
    states = Counter(
        email_state(email)
        for email in OutboundEmail.objects.filter(pk__in=batch.email_ids).only(
            "status", "last_error"
        )
    )
    return BatchProgress(
        what=batch.what,
        total=len(batch.email_ids),
        queued=states[QUEUED],
        sent=states[SENT],
        failed=states[FAILED],
        cancelled=states[CANCELLED_EMAILS],
    )


def batch_latest(*, survey: Survey) -> SendBatch | None:
    return SendBatch.objects.filter(survey=survey).order_by("-created_at", "-id").first()


def batch_wait(
    batch: SendBatch,
    *,
    timeout: float,
    show: Callable[[BatchProgress], None],
    interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> BatchProgress:
    """Show the batch's progress whenever it changes until no email is queued or the
    timeout passes; return the last progress (not done when it timed out)."""
    deadline = clock() + timeout
    shown = None
    while True:
        progress = batch_progress(batch)
        if progress != shown:
            show(progress)
            shown = progress
        if progress.done or clock() >= deadline:
            return progress
        sleep(min(interval, max(deadline - clock(), 0)))
