"""The outbox's settings with their defaults, and the policy of the layers above.

Read through these functions (never at import time) so that tests can override settings.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from outbox.models import OutboundEmail

DEFAULTS = {
    # Sending: at most this many emails a minute across all workers (a mail relay's limit).
    "EMAIL_RATE_PER_MINUTE": 50,
    # Emails handed to one worker task, sent over one SMTP connection.
    "EMAIL_BATCH_SIZE": 50,
    # Attempts before an email is marked failed and shown on the tracker.
    "EMAIL_MAX_ATTEMPTS": 5,
    # First retry after this many seconds, doubling each time (capped at an hour).
    "EMAIL_RETRY_BASE_SECONDS": 60,
    # Grace before emails count as stuck (tracker warning, /healthz/email answers 503).
    "EMAIL_STUCK_MINUTES": 15,
}


def get(name: str) -> int:
    return int(getattr(settings, name, DEFAULTS[name]))


LINK_LOST = "The link in this email could not be restored: resend it"


class OutboxPolicy:
    """What the layers above decide about an email as it is sent. This default sends
    every email as it was queued; settings.OUTBOX_POLICY names the project's subclass."""

    # Related rows the policy reads, fetched with the claimed email.
    select_related: tuple[str, ...] = ()

    def hold_reason(self, email: OutboundEmail, now: datetime.datetime) -> str:
        """Why the email must not go now; empty to send it. A reason starting with
        outbox.sending.CANCELLED means it is no longer wanted; any other means it failed
        (and can be resent)."""
        return ""

    def link_url(self, email: OutboundEmail) -> tuple[str, str]:
        """The URL to put in place of the marker, or ("reason", "") when the email must not
        go. May set email.link to the link actually used; it is saved with the outcome."""
        return LINK_LOST, ""


def policy() -> OutboxPolicy:
    path = getattr(settings, "OUTBOX_POLICY", "")
    return import_string(path)() if path else OutboxPolicy()
