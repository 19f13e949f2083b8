"""Releases: immutable, audited snapshots of protected tables built from submitted responses.

A release is written once, while its status is "building"; once it is ready, refused or
failed, neither it nor its cells can change (like surveys.models.QuestionnairePart). Every
page, download and export reads the cells of one ready release, so a cell has the same status
wherever it appears.

Only one release of a round is ever published to analysts: the first ready one built after
every council's deadline has passed. Two published releases of the same round, built from
different answers (or the same answers protected differently), could be subtracted from each
other to work out the councils whose answers changed between them; see ``Withheld``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from surveys.models import Survey


class ReleaseImmutable(Exception):
    """A finished release (ready, refused or failed) never changes."""


class ReportingAccess(models.Model):
    """Holds the reporting permissions."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_dashboards", "Can view protected dashboards and download releases"),
            ("view_suppression_internals", "Can see primary versus secondary suppression"),
        ]

    def __str__(self) -> str:
        return "Reporting access"


class ReleaseStatus(models.TextChoices):
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    REFUSED = "refused", "Refused by the disclosure audit"
    FAILED = "failed", "Failed"


class CellStatus(models.TextChoices):
    PUBLISHED = "published", "Published"
    PRIMARY = "primary", "Primary suppression"
    SECONDARY = "secondary", "Secondary suppression"
    EMPTY = "empty", "Structural zero"
    # A derived figure (share, take-up, cost) withheld because one of its inputs is hidden.
    WITHHELD = "withheld", "Derived from a hidden cell"


HIDDEN_STATUSES = (CellStatus.PRIMARY, CellStatus.SECONDARY, CellStatus.WITHHELD)


class Withheld(models.TextChoices):
    """Why a ready release is not shown to analysts."""

    COLLECTING = "collecting", "Built while councils could still answer"
    SUPERSEDED = "superseded", "Built after this round's results were published"


class Release(models.Model):
    """One build of a round's protected tables: inputs, rules and audit kept for the record."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="releases")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=ReleaseStatus.choices, default=ReleaseStatus.BUILDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Which responses went in: [[response id, GSS code, fingerprint of its answers], ...].
    inputs = models.JSONField(default=list, blank=True)
    inputs_fingerprint = models.CharField(max_length=64, db_index=True)
    # Confidential rule parameters, kept for audit only: never rendered or exported.
    rules = models.JSONField(default=dict, blank=True)
    audit = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    # Every additive relation between protected cells: [[total id, [part ids]], ...].
    relations = models.JSONField(default=list, blank=True)
    # Progress while building, for the overview page.
    progress_stage = models.CharField(max_length=40, blank=True)
    progress_percent = models.PositiveSmallIntegerField(default=0)
    # Each run of the build claims the release by raising this; a run that finds a later
    # attempt has taken over writes nothing (Celery may deliver the task twice).
    attempt = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # Set, once, when the build finishes: the release analysts see, or why it is withheld.
    published_at = models.DateTimeField(null=True, blank=True)
    withheld = models.CharField(max_length=10, choices=Withheld.choices, blank=True)

    class Meta:
        ordering = ["survey", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="release_number_unique"),
            # A round's results are published once: a second release could be subtracted.
            models.UniqueConstraint(
                fields=["survey"],
                condition=Q(published_at__isnull=False),
                name="release_one_published_per_survey",
            ),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | Q(status="ready"),
                name="release_published_only_when_ready",
            ),
            # At most one build at a time per round: a second enqueue cannot start another.
            models.UniqueConstraint(
                fields=["survey"],
                condition=Q(status="building"),
                name="release_one_building_per_survey",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} release {self.number} ({self.get_status_display()})"

    def save(self, *args, **kwargs) -> None:
        if self._stored_is_final():
            raise ReleaseImmutable(f"Release {self.pk} is finished and cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_is_final():
            raise ReleaseImmutable(f"Release {self.pk} is finished and cannot be deleted")
        return super().delete(*args, **kwargs)

    @property
    def is_ready(self) -> bool:
        return self.status == ReleaseStatus.READY

    def _stored_is_final(self) -> bool:
        if not self.pk:
            return False
        stored = Release.objects.filter(pk=self.pk).values_list("status", flat=True).first()
        return stored is not None and stored != ReleaseStatus.BUILDING


class ReleaseCell(models.Model):
    """One cell of one table of a release: only its published value is stored."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="cells")
    cell_id = models.CharField(max_length=200)
    table = models.CharField(max_length=40)
    keys = models.JSONField(default=dict)
    # The published value; null whenever the cell is hidden ([c]).
    value = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=CellStatus.choices)
    interval_low = models.FloatField(null=True, blank=True)
    interval_high = models.FloatField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["release", "table", "order"]
        constraints = [
            models.UniqueConstraint(fields=["release", "cell_id"], name="release_cell_unique"),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(status__in=["published", "empty"]),
                name="release_cell_hidden_has_no_value",
            ),
        ]
        indexes = [models.Index(fields=["release", "table", "order"])]

    def __str__(self) -> str:
        return self.cell_id

    def save(self, *args, **kwargs) -> None:
        if self.release._stored_is_final():
            raise ReleaseImmutable("Cells of a finished release cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.release._stored_is_final():
            raise ReleaseImmutable("Cells of a finished release cannot be deleted")
        return super().delete(*args, **kwargs)

    @property
    def hidden(self) -> bool:
        return self.status in HIDDEN_STATUSES
