"""Celery adapters for reporting: take ids, call one service. Safe to run twice."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

# Building the protected tables of a large round can take minutes (the audit solves LPs).
BUILD_SOFT_TIME_LIMIT = 30 * 60
# A build still "building" after this long lost its worker or its message: queue it again.
STALE_BUILD = datetime.timedelta(minutes=45)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=BUILD_SOFT_TIME_LIMIT,
)
def release_build_task(release_id: int) -> str:
    """Build one requested release; a finished one is never rebuilt in place."""
    from reporting.services import release_run

    return release_run(release_id=release_id)


@shared_task(acks_late=True, soft_time_limit=300)
def release_build_due_task() -> list[int]:
    """Beat: request the release of every round whose councils can no longer answer and
    that has no published release yet (see reporting.services.release_build_if_due)."""
    from django.utils import timezone

    from reporting.models import Release, ReleaseStatus
    from reporting.services import release_build_if_due
    from survey_site.queue import enqueue_on_commit
    from surveys.choices import SurveyStatus
    from surveys.models import Survey

    requested = []
    now = timezone.now()
    due = Survey.objects.exclude(status=SurveyStatus.DRAFT).filter(closes_at__lte=now)
    for survey_id in due.exclude(releases__published_at__isnull=False).values_list("pk", flat=True):
        release = release_build_if_due(survey_id=survey_id, now=now)
        if release is not None:
            requested.append(release.pk)
    stale = Release.objects.filter(
        status=ReleaseStatus.BUILDING, created_at__lt=now - STALE_BUILD
    ).values_list("pk", flat=True)
    for release_id in stale:
        enqueue_on_commit(release_build_task, release_id)
    return requested
