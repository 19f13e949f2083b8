from django.db import models


class TemplateKind(models.TextChoices):
    """The editable emails of a round. Reminders have two wordings."""

    INVITATION = "invitation", "Invitation"
    REMINDER_NOT_STARTED = "reminder_not_started", "Reminder: not started"
    REMINDER_STARTED = "reminder_started", "Reminder: started but not submitted"
    EXTENSION = "extension", "Deadline extension"


class TrackerStatus(models.TextChoices):
    """Where a council stands in a round, most advanced first (see campaigns.selectors)."""

    SUBMITTED = "submitted", "Submitted"
    REOPENED = "reopened", "Reopened"
    IN_PROGRESS = "in_progress", "In progress"
    FAILED = "failed", "Bounced or failed"
    LINK_OPENED = "link_opened", "Link opened"
    INVITED = "invited", "Invited"
    QUEUED = "queued", "Invitation queued, not sent yet"
    NOT_INVITED = "not_invited", "Not invited"
