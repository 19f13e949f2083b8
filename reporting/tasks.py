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
def release_rebuild_open_rounds_task() -> list[int]:
    """Beat: request a new release of every open round whose submitted answers changed."""
    from django.utils import timezone

    from reporting.models import Release, ReleaseStatus
    from reporting.services import release_rebuild_if_changed
    from survey_site.queue import enqueue_on_commit
    from surveys.choices import SurveyStatus
    from surveys.models import Survey

    requested = []
    for survey_id in Survey.objects.filter(status=SurveyStatus.OPEN).values_list("pk", flat=True):
        release = release_rebuild_if_changed(survey_id=survey_id)
        if release is not None:
            requested.append(release.pk)
    stale = Release.objects.filter(
        status=ReleaseStatus.BUILDING, created_at__lt=timezone.now() - STALE_BUILD
    ).values_list("pk", flat=True)
    for release_id in stale:
        enqueue_on_commit(release_build_task, release_id)
    return requested
