"""The migration that introduced publication publishes, per round, what analysts may see."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("reporting", "0002_release")]
AFTER = [("reporting", "0003_release_published")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """Going back to reporting 0002 also unapplies what depends on it since (publishing):
    put every app back at its latest migration, or later tests find tables missing."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_first_ready_release_after_the_deadline_is_published_the_rest_withheld(questionnaire):
    apps = _migrate(BEFORE)
    Survey = apps.get_model("surveys", "Survey")
    Release = apps.get_model("reporting", "Release")
    now = timezone.now()
    survey = Survey.objects.create(
        questionnaire_id=questionnaire.pk,
        name="Old round",
        slug="old-round",
        opens_at=now - datetime.timedelta(days=40),
        closes_at=now - datetime.timedelta(days=10),
        status="closed",
    )
    numbers = {}
    for number, days_ago, status in [
        (1, 20, "ready"),
        (2, 5, "ready"),
        (3, 4, "refused"),
        (4, 3, "ready"),
    ]:
        release = Release.objects.create(
            survey=survey, number=number, status=status, inputs_fingerprint=str(number)
        )
        Release.objects.filter(pk=release.pk).update(
            created_at=now - datetime.timedelta(days=days_ago)
        )
        numbers[number] = release.pk
    apps = _migrate(AFTER)
    Release = apps.get_model("reporting", "Release")
    state = {r.number: (r.published_at is not None, r.withheld) for r in Release.objects.all()}
    assert state == {
        1: (False, "collecting"),
        2: (True, ""),
        3: (False, ""),
        4: (False, "superseded"),
    }
