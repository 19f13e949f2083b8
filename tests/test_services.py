"""The real services behind the app: PostgreSQL and Redis when configured (always in CI)."""

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from tests.conftest import require


def test_cache_round_trips_through_redis():
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache.set("survey-test-key", {"n": 1}, timeout=10)
    assert cache.get("survey-test-key") == {"n": 1}
    cache.delete("survey-test-key")


@pytest.mark.django_db
def test_database_is_postgresql_when_configured():
    require(
        os.environ.get("DATABASE_URL", "").startswith("postgres"), "DATABASE_URL is not PostgreSQL"
    )
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW TIMEZONE")
        assert cursor.fetchone()[0] == "UTC"


def test_celery_uses_redis_as_broker_when_configured():
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    from survey_site.celery import app

    assert app.conf.broker_url.startswith("redis://")
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
