"""The Celery application. Tasks run in process when REDIS_URL is unset (the demo)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "survey_site.settings")

app = Celery("survey_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
