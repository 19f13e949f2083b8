"""A record of every time someone read a council's own answers or exported raw figures.

Individual responses are the one thing the survey promises not to show: data stewards may
read them to check the data, and each reading is kept here, never changed or deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from survey_site.formatting import datetime_text
from surveys.models import Response, Survey


class AccessKind(models.TextChoices):
    VIEWED = "viewed", "Viewed a council's answers"
    EXPORTED = "exported", "Downloaded the round's raw figures"


class ResponseAccess(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="+")
    response = models.ForeignKey(
        Response, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=AccessKind.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "access to individual answers"
        verbose_name_plural = "accesses to individual answers"

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display().lower()} ({datetime_text(self.at)})"
