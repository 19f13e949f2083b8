"""Settings of the real Celery worker started by tests/test_campaign_worker.py and the
campaign benchmark: the project's settings, fast sending, and a short visibility timeout
so that messages held by a killed worker come back within seconds, not an hour."""

from survey_site.settings import *  # noqa: F403

EMAIL_RATE_PER_MINUTE = 1_000_000
EMAIL_BATCH_SIZE = 25
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 15}
