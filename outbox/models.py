"""The outbox: every email to send, exactly once, and every try at sending it.

This app is the bottom layer of email: it knows nothing of rounds, councils or
campaigns. Each email belongs to an owner row and may carry an access link, both named
by settings (OUTBOX_OWNER_MODEL, OUTBOX_LINK_MODEL, as AUTH_USER_MODEL names the user);
the layers above decide, through OUTBOX_POLICY (outbox.conf), whether a queued email is
still wanted and what link goes in place of the marker.

The tables keep the names they had when these models lived in surveys and campaigns:
moving them moved no data.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from survey_site.formatting import datetime_text


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class AttemptOutcome(models.TextChoices):
    SENT = "sent", "Sent"
    RETRY = "retry", "Not sent: will retry"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled (no longer needed)"


# Unchanged since the model lived in surveys: it fixes the Message-IDs of emails already
# sent, which bounce reports name.
MESSAGE_HASH_SALT = "surveys.OutboundEmail.message_hash"


class OutboundEmail(models.Model):
    """One email to send, exactly once: the unique key makes a second enqueue a no-op.

    Celery delivers at least once, so the send claims the row with
    select_for_update(skip_locked=True) and sends only while it is pending.

    The bodies never hold a working access link: where the link goes they hold
    outbox.sending.LINK_MARKER, and `link` says whose link it is. The URL is derived
    (by OUTBOX_POLICY) only when the message is sent, so a dump of this table lets
    nobody in.
    """

    key = models.CharField(max_length=200, unique=True)
    response = models.ForeignKey(
        settings.OUTBOX_OWNER_MODEL, on_delete=models.CASCADE, related_name="emails"
    )
    # The layers above name their kinds of email (surveys.models.EmailKind).
    kind = models.CharField(max_length=30)
    to_address = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    link = models.ForeignKey(
        settings.OUTBOX_LINK_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="emails",
        help_text="Whose access link is put in place of the marker when the email is sent.",
    )
    status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    # The relay's last refusal of this email, e.g. 550 and "5.1.1 mailbox unknown".
    reply_code = models.PositiveSmallIntegerField(null=True, blank=True)
    reply_text = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The local part of the Message-ID (outbox.sending.message_id), fixed by the key: how a
    # bounce report names the email it is about (outbox.bounces).
    message_hash = models.CharField(max_length=32, blank=True, db_index=True)

    class Meta:
        db_table = "surveys_outboundemail"
        indexes = [
            models.Index(fields=["status", "created_at"], name="surveys_out_status_59a959_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind} email {self.pk}"

    def save(self, *args, **kwargs) -> None:
        if not self.message_hash:
            self.message_hash = self.hash_of(self.key)
        super().save(*args, **kwargs)

    @staticmethod
    def hash_of(key: str) -> str:
        """Keyed (SECRET_KEY), so that nobody can work out an email's Message-ID from its
        predictable key and forge a bounce report about it."""
        return salted_hmac(MESSAGE_HASH_SALT, key, algorithm="sha256").hexdigest()[:32]


class EmailAttempt(models.Model):
    """One try at sending an outbox email: when, the outcome, and when to try again."""

    email = models.ForeignKey(OutboundEmail, on_delete=models.CASCADE, related_name="tries")
    attempted_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices)
    # The exception's class name only: no address or message content in the record.
    error = models.CharField(max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "campaigns_emailattempt"
        ordering = ["attempted_at", "id"]
        indexes = [
            models.Index(fields=["email", "attempted_at"], name="campaigns_e_email_i_c43812_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {datetime_text(self.attempted_at)}"
