"""Public releases: a round's audited results, published to everyone without sign-in.

A public release shows the cells of the round's one published release (``reporting``) and
nothing else: the same ``Publication`` analysts see, with words an analyst wrote around it
(a title, a summary, headline findings that may quote only published figures). Every version
of a round's public release reads the same release's cells, so everything ever published for
the round is the one audited pattern: a later version corrects words, never figures, and
cannot be subtracted from an earlier one (see README, "Public release").

A version is drafted, previewed and then published by an administrator (who, and when, is
recorded); publishing a new version supersedes the live one; an administrator can withdraw
the live version, which then says when and why, and its files are gone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from reporting.models import Release
from surveys.models import Survey


class PublicReleaseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    SUPERSEDED = "superseded", "Replaced by a later version"
    WITHDRAWN = "withdrawn", "Withdrawn"


class PublicRelease(models.Model):
    """One version of a round's public statistics release."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="public_releases")
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="public_releases")
    version = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=PublicReleaseStatus.choices, default=PublicReleaseStatus.DRAFT
    )
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, help_text="What the release shows, in a paragraph.")
    # Headline findings, one sentence each, in order; each may quote only published figures.
    findings = models.JSONField(default=list, blank=True)
    # Required from version 2: what changed and why.
    change_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["survey", "-version"]
        permissions = [
            ("draft_public_release", "Can draft a public release's words and findings"),
            ("publish_public_release", "Can publish and withdraw public releases"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "version"], name="public_release_version_unique"
            ),
            models.UniqueConstraint(
                fields=["survey"],
                condition=Q(status="published"),
                name="public_release_one_live_per_survey",
            ),
            models.UniqueConstraint(
                fields=["survey"],
                condition=Q(status="draft"),
                name="public_release_one_draft_per_survey",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="public_release_published_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn")
                | (Q(withdrawn_at__isnull=False) & ~Q(withdrawal_reason="")),
                name="public_release_withdrawn_has_date_and_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} public release, version {self.version} ({self.get_status_display()})"

    @property
    def is_live(self) -> bool:
        return self.status == PublicReleaseStatus.PUBLISHED
