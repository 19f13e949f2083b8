"""Campaign settings with their defaults; survey_site.settings may set any of them.

Read through these functions (never at import time) so that tests can override settings.
"""

from __future__ import annotations

from django.conf import settings

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
    # Minutes after an extended deadline during which a submission is still accepted.
    "LATE_GRACE_MINUTES": 60,
}


def get(name: str) -> int:
    return int(getattr(settings, name, DEFAULTS[name]))


def email_rate_per_minute() -> int:
    return get("EMAIL_RATE_PER_MINUTE")


def email_batch_size() -> int:
    return get("EMAIL_BATCH_SIZE")


def email_max_attempts() -> int:
    return get("EMAIL_MAX_ATTEMPTS")


def email_retry_base_seconds() -> int:
    return get("EMAIL_RETRY_BASE_SECONDS")


def late_grace_minutes() -> int:
    return get("LATE_GRACE_MINUTES")
