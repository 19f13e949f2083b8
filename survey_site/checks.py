"""System checks on the project's own settings: wrong values fail `manage.py check`."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=False)
def check_survey_settings(app_configs, **kwargs) -> list:
    problems: list = []
    base = urlsplit(settings.SURVEY_BASE_URL)
    if base.scheme not in {"http", "https"} or not base.netloc:
        problems.append(
            Error(
                "SURVEY_BASE_URL must be an absolute http(s) URL",
                hint="For example https://survey.localdigital.example",
                id="survey_site.E001",
            )
        )
    elif not settings.DEBUG and base.scheme != "https":
        problems.append(
            Error(
                "SURVEY_BASE_URL must use https when DEBUG is off: links carry access tokens",
                id="survey_site.E002",
            )
        )
    if settings.RESPONDENT_SESSION_IDLE_MINUTES > settings.RESPONDENT_SESSION_MAX_HOURS * 60:
        problems.append(
            Error(
                "RESPONDENT_SESSION_IDLE_MINUTES is longer than RESPONDENT_SESSION_MAX_HOURS",
                id="survey_site.E003",
            )
        )
    if not settings.DEBUG and settings.SURVEY_LINK_KEY == settings.SECRET_KEY:
        problems.append(
            Error(
                "SURVEY_LINK_KEY must differ from SECRET_KEY",
                hint="Rotating one must not silently rotate the other.",
                id="survey_site.E004",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def check_production_services(app_configs, **kwargs) -> list:
    problems: list = []
    if settings.EMAIL_BACKEND.endswith(("filebased.EmailBackend", "console.EmailBackend")):
        problems.append(
            Warning(
                "Email is written locally, not sent",
                hint="Set EMAIL_URL=smtp+tls://user:password@relay:587 for production.",
                id="survey_site.W001",
            )
        )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        problems.append(
            Warning(
                "Celery tasks run inside web requests",
                hint="Set REDIS_URL and run a worker for production.",
                id="survey_site.W002",
            )
        )
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(
            Warning(
                "SQLite is for the local demo only",
                hint="Set DATABASE_URL=postgres://... for production.",
                id="survey_site.W003",
            )
        )
    return problems
