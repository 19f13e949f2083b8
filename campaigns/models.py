"""A round's campaign: its reminder schedule and its editable emails.

The emails themselves are `outbox.OutboundEmail` rows (the exactly-once outbox), each try
to send one an `outbox.EmailAttempt`.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from campaigns.choices import TemplateKind
from survey_site.formatting import datetime_text
from surveys.models import Survey

days_validator = RegexValidator(
    r"^\s*\d{1,3}(\s*,\s*\d{1,3})*\s*$|^\s*$",
    "Enter days before the deadline separated by commas, like 7, 2, 0",
)


class Campaign(models.Model):
    """How a round chases councils: reminders relative to each council's deadline."""

    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="campaign")
    reminder_days = models.CharField(
        max_length=100,
        default="7, 2, 0",
        blank=True,
        validators=[days_validator],
        help_text="Days before the deadline, like 7, 2, 0 (0 is the morning of the last day). "
        "Empty: no scheduled reminders.",
    )
    reminder_time = models.TimeField(
        default=datetime.time(9, 0), help_text="Time of day reminders go, in UK time."
    )
    min_gap_hours = models.PositiveSmallIntegerField(
        "minimum gap between emails (hours)",
        default=24,
        validators=[MaxValueValidator(24 * 30)],
    )
    max_reminders = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "campaign"

    def __str__(self) -> str:
        return f"Campaign for {self.survey}"

    @property
    def days_before(self) -> list[int]:
        """Reminder days, furthest from the deadline first."""
        parts = [p.strip() for p in self.reminder_days.split(",") if p.strip()]
        return sorted({int(p) for p in parts}, reverse=True)

    def clean(self) -> None:
        from campaigns.schedule import schedule_errors

        if not self.survey_id:
            return
        try:
            days = self.days_before
        except ValueError:
            return  # the field validator reports it
        errors = schedule_errors(
            survey=self.survey,
            days_before=days,
            at=self.reminder_time,
            min_gap=datetime.timedelta(hours=self.min_gap_hours),
            max_reminders=self.max_reminders,
        )
        if errors:
            raise ValidationError({"reminder_days": errors})


class EmailTemplate(models.Model):
    """One editable email of a round: subject and body with ((placeholders)), as Notify."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="templates")
    kind = models.CharField(max_length=30, choices=TemplateKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(
        help_text="Plain text. Blank lines separate paragraphs; put ((link)) on a line of its "
        "own. Placeholders: ((chief_executive_name)), ((council_name)), ((survey_name)), "
        "((link)), ((deadline)), ((days_left)), ((team_email))."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "kind"], name="email_template_one_per_kind")
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    def clean(self) -> None:
        from campaigns.content import template_errors

        errors = template_errors(kind=self.kind, subject=self.subject, body=self.body)
        if errors:
            raise ValidationError(errors)


class SendBatch(models.Model):
    """The emails one send queued (invitations, reminders now, or beat's due reminders).

    The tracker and `send_* --wait` show a batch's progress from the emails' states. Ids,
    not keys or addresses: nothing personal is kept here.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="send_batches")
    what = models.CharField(max_length=40)
    started_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    email_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["survey", "created_at"])]
        verbose_name_plural = "send batches"

    def __str__(self) -> str:
        return f"{self.what} of {datetime_text(self.created_at)}"
