"""A real Celery worker on Redis builds a release requested through the service."""

import time

import pytest

from reporting.models import Release, ReleaseCell, ReleaseStatus
from reporting.services import release_request
from reporting.tests.factories import SMALL_ROUND, close_round, make_small_round
from survey_site.celery import app
from surveys.tests.conftest import questionnaire, questionnaire_data  # noqa: F401 (fixtures)
from surveys.tests.factories import make_survey
from tests.worker import celery_worker  # noqa: F401 (fixture)

pytestmark = pytest.mark.worker

BUILD_TIMEOUT = 180


def test_worker_builds_a_release_once(celery_worker, questionnaire):  # noqa: F811
    survey = make_survey(questionnaire)
    make_small_round(survey, SMALL_ROUND)
    close_round(survey)
    release = release_request(survey_id=survey.pk)  # queued on commit (autocommit here)
    # A second request while it builds returns the same release: nothing is built twice.
    assert release_request(survey_id=survey.pk).pk == release.pk
    deadline = time.monotonic() + BUILD_TIMEOUT
    while True:
        release.refresh_from_db()
        if release.status != ReleaseStatus.BUILDING:
            break
        assert celery_worker.poll() is None, "the worker died"
        assert time.monotonic() < deadline, f"still {release.progress_stage} after timeout"
        time.sleep(0.5)
    assert release.status == ReleaseStatus.READY, release.error
    assert release.audit["passed"] is True
    assert release.progress_percent == 100
    assert release.published_at is not None
    assert ReleaseCell.objects.filter(release=release).exists()
    assert Release.objects.filter(survey=survey).count() == 1
    # Built by the worker process, not in this one.
    assert release.attempt == 1 and not app.conf.CELERY_TASK_ALWAYS_EAGER
