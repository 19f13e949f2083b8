"""Reads for the data stewards' pages."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from surveys.choices import ResponseStatus
from surveys.models import Response, Survey


def rounds_with_counts() -> QuerySet[Survey]:
    """Every round, newest first, with how many councils have submitted."""
    submitted = Count("responses", filter=Q(responses__status=ResponseStatus.SUBMITTED))
    return Survey.objects.annotate(submitted=submitted).order_by("-opens_at")


def submitted_responses(*, survey: Survey) -> QuerySet[Response]:
    return (
        Response.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED)
        .select_related("authority")
        .order_by("authority__official_name")
    )
