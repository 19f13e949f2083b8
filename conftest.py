"""Test-wide checks. With CI=true, PostgreSQL and Redis are required: a missing service
fails the run, never skips it. Test settings: survey_site/settings_test.py.
"""

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") == "true":
        database = os.environ.get("DATABASE_URL", "")
        if not database.startswith(("postgres://", "postgresql://")):
            raise pytest.UsageError("CI must run against PostgreSQL: set DATABASE_URL")
        if not os.environ.get("REDIS_URL"):
            raise pytest.UsageError("CI must run against Redis: set REDIS_URL")


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    """Rate-limit counters (link guesses, staff sign-ins) live in the cache, Redis in CI,
    which outlives a test: start each test clean, whatever ran before it."""
    from django.core.cache import cache

    cache.clear()
