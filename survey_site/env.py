"""Strict reading of the environment: every variable the project reads is named here.

Settings read the environment only through `Environment`, so that the README table,
the defaults and the checks stay in one place. A misspelt variable (``DATABSE_URL``)
or an unparseable value (``DEBUG=ture``) stops the process at start-up instead of
silently falling back to a default.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True)
class Variable:
    name: str
    help: str
    default: str | None = None


# The one list of variables the project reads. A test keeps the README table in step.
VARIABLES: tuple[Variable, ...] = (
    Variable("DEBUG", "Development mode. Never on in production.", "false"),
    Variable("SECRET_KEY", "Django's signing key. Required unless DEBUG is on."),
    Variable(
        "SURVEY_LINK_KEY",
        "Secret from which council access links are derived (HMAC). Required unless DEBUG is on; "
        "changing it invalidates every link already sent.",
    ),
    Variable(
        "ALLOWED_HOSTS",
        "Comma-separated host names the site answers to.",
        "localhost,127.0.0.1 when DEBUG is on, else none",
    ),
    Variable(
        "DATABASE_URL",
        "Database, e.g. postgres://user@127.0.0.1:5432/survey.",
        "sqlite:///db.sqlite3",
    ),
    Variable(
        "REDIS_URL",
        "Redis for Celery and the cache. Unset: tasks run in process, cache in memory.",
    ),
    Variable(
        "CELERY_TASK_ALWAYS_EAGER",
        "Run Celery tasks in process even when REDIS_URL is set.",
        "true when REDIS_URL is unset",
    ),
    Variable(
        "EMAIL_URL",
        "Outgoing mail, e.g. smtp://user:pass@relay:587/?tls=True; filemail:// writes files.",
        "filemail:// into ./sent-emails",
    ),
    Variable("DEFAULT_FROM_EMAIL", "Sender of survey emails.", "survey@localdigital.example"),
    Variable(
        "SURVEY_BASE_URL",
        "Public base URL used in emailed links (never the request's Host header).",
        "http://127.0.0.1:8000 when DEBUG is on; required otherwise",
    ),
    Variable(
        "SURVEY_TEAM_EMAIL",
        "Address respondents are told to contact.",
        "survey-team@localdigital.example",
    ),
    Variable(
        "DATA_CONTROLLER",
        "Who the privacy notice names as data controller (completes 'The data controller is').",
        "the Local Government Association, for the Local Digital Alliance",
    ),
    Variable(
        "CONTACT_DETAILS_RETENTION_YEARS",
        "Years after a round closes that officers' contact details are kept, as the privacy "
        "notice says. 1 to 10.",
        "2",
    ),
    Variable(
        "RESPONDENT_SESSION_IDLE_MINUTES",
        "Respondent session idle timeout in minutes (answers are saved regardless).",
        "45",
    ),
    Variable("RESPONDENT_SESSION_MAX_HOURS", "Respondent session absolute limit.", "12"),
    Variable(
        "STAFF_SESSION_MAX_HOURS",
        "Staff session absolute limit (administrators, analysts, data stewards, the admin).",
        "12",
    ),
    Variable("CONTRIBUTORS_MAX", "Most contributors a council's response can have at once.", "25"),
    Variable(
        "CONTRIBUTOR_INVITATIONS_PER_HOUR",
        "Most contributors a council's response can add (each is emailed) in an hour.",
        "10",
    ),
    Variable("DISCLOSURE_MIN_CONTRIBUTORS", "Minimum councils behind a published cell.", "3"),
    Variable("DISCLOSURE_P_PERCENT", "p of the p% dominance rule.", "10"),
    Variable(
        "DISCLOSURE_NK", "Optional (n,k) dominance rule as 'n,k', e.g. '2,85'. Empty: off.", ""
    ),
    Variable(
        "DISCLOSURE_GROUP_MIN_SIZE",
        "Groups of councils smaller than this, all giving one answer, are protected.",
        "10",
    ),
    Variable(
        "SECURE_SSL_REDIRECT",
        "Redirect HTTP to HTTPS (production; off behind a proxy that already does it).",
        "true unless DEBUG",
    ),
    Variable(
        "EMAIL_RATE_PER_MINUTE", "Most campaign emails sent a minute, across all workers.", "50"
    ),
    Variable("EMAIL_BATCH_SIZE", "Campaign emails per worker task (one SMTP connection).", "50"),
    Variable("EMAIL_MAX_ATTEMPTS", "Tries before an email is marked failed on the tracker.", "5"),
    Variable(
        "EMAIL_STUCK_MINUTES",
        "Minutes beyond their expected wait before due emails count as stuck.",
        "15",
    ),
    Variable(
        "LATE_GRACE_MINUTES",
        "Minutes after an extended deadline that a submission is still accepted.",
        "60",
    ),
    Variable("LOG_LEVEL", "Level of the project's own loggers.", "INFO"),
    Variable(
        "SIGN_IN_MAX_FAILURES",
        "Failed staff sign-ins (service or admin) from one client before it is locked out.",
        "10",
    ),
    Variable(
        "SIGN_IN_LOCKOUT_MINUTES",
        "Minutes a locked-out client waits after its last failed sign-in.",
        "15",
    ),
    Variable(
        "SURVEY_ADMINISTRATOR_PASSWORD",
        "Password for `create_administrator` in scripts (otherwise it asks). Unset it after.",
    ),
    Variable(
        "TRUSTED_PROXY_COUNT",
        "Reverse proxies in front of the app that append to X-Forwarded-For. 0: the client "
        "address (for rate limits) is REMOTE_ADDR and X-Forwarded-For is ignored.",
        "0",
    ),
)

KNOWN_NAMES = frozenset(v.name for v in VARIABLES)


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a local .env file (the demo's)."""
    if not path.is_file():
        return {}
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ImproperlyConfigured(f"{path.name} line {number}: expected NAME=value")
        values[name.strip()] = value.strip().strip("'\"")
    return values


def dotenv_apply(path: Path) -> None:
    """Fill in unset variables from a local .env file (written by `make run`).

    Only manage.py calls this: the settings never read .env themselves, so the test
    suite, gunicorn and Celery see only their real environment, never a developer's
    demo file (whose DEBUG=true would otherwise leak into tests of production settings).
    """
    for name, value in read_dotenv(path).items():
        os.environ.setdefault(name, value)


class Environment:
    """Typed, strict access to the variables listed in VARIABLES."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.check_for_misspellings()

    def check_for_misspellings(self) -> None:
        """Refuse a variable whose name is close to, but not, one the project reads."""
        problems = []
        for name in self.environ:
            if name in KNOWN_NAMES or not name.isupper():
                continue
            close = difflib.get_close_matches(name, KNOWN_NAMES, n=1, cutoff=0.85)
            if close:
                problems.append(f"{name} (did you mean {close[0]}?)")
        if problems:
            raise ImproperlyConfigured(
                "Unknown environment variable: " + ", ".join(sorted(problems))
            )

    def _raw(self, name: str) -> str | None:
        if name not in KNOWN_NAMES:
            raise ImproperlyConfigured(f"{name} is not listed in survey_site.env.VARIABLES")
        return self.environ.get(name)

    def is_set(self, name: str) -> bool:
        value = self._raw(name)
        return value is not None and value.strip() != ""

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self._raw(name)
        if value is None or value.strip() == "":
            return default
        return value.strip()

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a yes/no value: use one of true, false, 1, 0, yes, no"
        )

    def int(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        value = self._raw(name)
        if value is None or value.strip() == "":
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
        if not minimum <= number <= maximum:
            raise ImproperlyConfigured(f"{name}={number} must be between {minimum} and {maximum}")
        return number

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self._raw(name)
        if value is None or value.strip() == "":
            return default
        return [item.strip() for item in value.split(",") if item.strip()]
