"""Django settings. Every environment variable is read here, through survey_site.env.

Embedded defaults (no variable set, DEBUG on) give SQLite, Celery tasks run in process
and email written to ./sent-emails. Production is safe by default: DEBUG is off unless set,
and SECRET_KEY, SURVEY_LINK_KEY, SURVEY_BASE_URL and ALLOWED_HOSTS must then be given.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from survey_site.env import Environment

BASE_DIR = Path(__file__).resolve().parent.parent
# Only the environment: a local .env (the demo's) is read by manage.py alone, never here.
env = Environment()

DEBUG = env.bool("DEBUG", default=False)


def _required_in_production(name: str, development_default: str) -> str:
    value = env.str(name)
    if value:
        return value
    if DEBUG:
        return development_default
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")


# Keys copied from an example (docker-compose.yml's, a "change-me") are public: production
# refuses them, and anything too short to be a generated key.
PLACEHOLDER_KEY = re.compile(
    r"change[-_ ]?me|replace[-_ ]?me|placeholder|example|insecure|dummy|your[-_ ]", re.IGNORECASE
)
MIN_KEY_LENGTH = 32


def _production_key(name: str, development_default: str) -> str:
    value = _required_in_production(name, development_default)
    if not DEBUG and (PLACEHOLDER_KEY.search(value) or len(value) < MIN_KEY_LENGTH):
        raise ImproperlyConfigured(
            f"{name} looks like an example or placeholder, or is shorter than {MIN_KEY_LENGTH} "
            "characters: set a secret of your own, for example the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    return value


SECRET_KEY = _production_key("SECRET_KEY", "insecure-development-key-" + "x" * 40)
SURVEY_LINK_KEY = _production_key("SURVEY_LINK_KEY", "insecure-development-link-key")
SURVEY_BASE_URL = _required_in_production("SURVEY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
SURVEY_TEAM_EMAIL = env.str("SURVEY_TEAM_EMAIL", "survey-team@localdigital.example")
# The privacy notice (UK GDPR article 13): who decides how personal data is used, and how
# long officers' contact details are kept after a round closes. Set both for production.
DATA_CONTROLLER = env.str(
    "DATA_CONTROLLER", "the Local Government Association, for the Local Digital Alliance"
)
CONTACT_DETAILS_RETENTION_YEARS = env.int(
    "CONTACT_DETAILS_RETENTION_YEARS", 2, minimum=1, maximum=10
)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_forms_gds",
    "csp",
    "django_permissions_policy",
    "axes",
    "survey_site",
    "outbox",
    "authorities",
    "surveys",
    "reporting",
    "campaigns",
    "stewards",
    "publishing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "survey_site.middleware.SlidingSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "survey_site.middleware.StaffSessionLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into our refusal page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Static files from gunicorn in production; runserver and the test server serve them
    # themselves in development.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "survey_site.urls"
WSGI_APPLICATION = "survey_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "survey_site.context_processors.service",
                # A respondent's pointer to the round's published results (publishing).
                "publishing.context_processors.round_results",
            ],
            # GOV.UK-style date, time and money filters in every template and email.
            "builtins": [
                "survey_site.templatetags.govuk_format",
                "survey_site.templatetags.routes",
            ],
        },
    },
]

# Database: PostgreSQL in production and CI (psycopg 3), SQLite for the embedded demo.
DATABASES = {
    "default": environ.Env.db_url_config(
        env.str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: opening a PostgreSQL connection per request cost more than
# the page itself. Health checks drop a connection the server closed meanwhile.
DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side binding lets psycopg prepare the statements a connection runs often:
    # PostgreSQL then plans the respondent's lookups once per connection instead of on
    # every request (planning cost more than running them). Behind a connection pooler
    # in transaction mode, the pooler must support prepared statements (PgBouncer 1.21+
    # with max_prepared_statements set).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=2
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: the Celery broker and the cache (rate limits, copies of sessions). Sessions are
# stored in the database, so saving answers never depends on Redis being up.
REDIS_URL = env.str("REDIS_URL")


def _next_redis_db(url: str) -> str:
    """The cache lives in the database after the broker's, so clearing it (tests do)
    never empties the task queue."""
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{number + 1}"))


if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _next_redis_db(REDIS_URL),
            "KEY_PREFIX": "survey",
            # A Redis that stops answering costs a request a second at most, never a hang.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    # Sessions live in PostgreSQL and are read through Redis; they keep working, from
    # the database, while Redis is down (survey_site.sessions).
    SESSION_ENGINE = "survey_site.sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# At-least-once delivery: a task may run twice, so every task is idempotent through the
# database. Late acks and one message at a time keep a killed worker from losing work.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "email-requeue-pending": {
        "task": "outbox.tasks.email_requeue_pending_task",
        "schedule": 300.0,
    },
    "responses-close-due": {
        "task": "surveys.tasks.responses_close_due_task",
        "schedule": 300.0,
    },
    "email-dispatch": {"task": "outbox.tasks.email_dispatch_task", "schedule": 60.0},
    "reminders-send-due": {
        "task": "campaigns.tasks.reminders_send_due_task",
        "schedule": 900.0,
    },
    # A round's results are built once its last deadline has passed (never before).
    "release-build-due": {
        "task": "reporting.tasks.release_build_due_task",
        "schedule": 900.0,
    },
}

# Email: django-environ's EMAIL_URL form (smtp://, smtp+tls://, filemail://, consolemail://).
EMAIL_URL = env.str("EMAIL_URL", "filemail://")
_email = environ.Env.email_url_config(EMAIL_URL)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
vars().update({k: v for k, v in _email.items() if v not in (None, "")})
if EMAIL_BACKEND.endswith("filebased.EmailBackend") and not _email.get("EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = str(BASE_DIR / "sent-emails")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "survey@localdigital.example")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 30
# Campaign sending: batches over one SMTP connection, paced across all workers.
EMAIL_RATE_PER_MINUTE = env.int("EMAIL_RATE_PER_MINUTE", 50, minimum=1, maximum=100_000)
EMAIL_BATCH_SIZE = env.int("EMAIL_BATCH_SIZE", 50, minimum=1, maximum=1000)
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", 5, minimum=1, maximum=20)
# The outbox (outbox/) knows nothing of surveys: what its emails belong to, whose link
# they carry, and what decides whether a queued email still goes, are named here.
OUTBOX_OWNER_MODEL = "surveys.Response"
OUTBOX_LINK_MODEL = "authorities.AccessLink"
OUTBOX_POLICY = "surveys.email_policy.SurveyEmailPolicy"
# Emails due this long beyond their expected wait count as stuck (campaigns.health).
EMAIL_STUCK_MINUTES = env.int("EMAIL_STUCK_MINUTES", 15, minimum=1, maximum=24 * 60)
# Answers and submission are accepted this long after a council's extended deadline.
LATE_GRACE_MINUTES = env.int("LATE_GRACE_MINUTES", 60, minimum=0, maximum=7 * 24 * 60)

# Rate limits count per client address. Behind reverse proxies every request comes from
# the nearest proxy, so the client is read from X-Forwarded-For, this many entries from
# the right (the ones our own proxies wrote); entries further left are the client's word
# and are never trusted. 0: no proxy, REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=5)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Every way to sign in (the service's /sign-in/ and the Django admin's login) goes through
# django-axes first: failures are recorded in the database (they survive a Redis outage
# and are visible in the admin) and a client over the limit is refused, even with the
# right password, until SIGN_IN_LOCKOUT_MINUTES after its last failure.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("SIGN_IN_MAX_FAILURES", 10, minimum=3, maximum=100)
AXES_COOLOFF_TIME = datetime.timedelta(
    minutes=env.int("SIGN_IN_LOCKOUT_MINUTES", 15, minimum=1, maximum=24 * 60)
)
# Locked by (client, username) and by client, never by username alone: whoever knows a
# username cannot lock its owner out, who can still sign in from a client that has not
# failed (OWASP ASVS 2.2.1). With one limit for both, a client's failures over all
# usernames decide; guessing one username from many clients is slowed per client and
# met by the password rules (12 characters or more, no common passwords).
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"], "ip_address"]
# The client as the link limiter counts it (TRUSTED_PROXY_COUNT, IPv6 by /64).
AXES_CLIENT_IP_CALLABLE = "survey_site.ratelimit.sign_in_client_address"
AXES_LOCKOUT_CALLABLE = "survey_site.views.sign_in_refused"
# Logs and stored request data mask these (passwords always): no username or address in
# the log lines django-axes writes.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = False

LOGIN_URL = "sign-in"
LOGIN_REDIRECT_URL = "signed-in"

LANGUAGE_CODE = "en-gb"
# Stored in UTC (USE_TZ); shown in Europe/London, where the councils are.
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "survey_site.storage.StaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

# Requests: small bodies (the questionnaire's largest page is a few kB; uploads have
# their own limit), and no more fields than a page can have.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
DATA_UPLOAD_MAX_NUMBER_FILES = 5
# The one upload (a spreadsheet) is capped while it is read, not after: a body declared
# larger than the cap is never read, and a file stops being stored at the cap
# (survey_site.uploads).
SURVEY_UPLOAD_MAX_BYTES = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = SURVEY_UPLOAD_MAX_BYTES
FILE_UPLOAD_HANDLERS = [
    "survey_site.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Sessions: an idle timeout and an absolute limit (OWASP ASVS 7.3). Nothing is lost when
# one ends: every accepted answer is already saved against the council's response.
RESPONDENT_SESSION_IDLE_MINUTES = env.int(
    "RESPONDENT_SESSION_IDLE_MINUTES", 45, minimum=5, maximum=24 * 60
)
RESPONDENT_SESSION_MAX_HOURS = env.int("RESPONDENT_SESSION_MAX_HOURS", 12, minimum=1, maximum=24)
# Staff (signed in at /sign-in/ or the admin) share the idle timeout and have their own
# absolute limit, counted from signing in (survey_site.middleware.StaffSessionLimitMiddleware).
STAFF_SESSION_MAX_HOURS = env.int("STAFF_SESSION_MAX_HOURS", 12, minimum=1, maximum=24)
# Each contributor added is emailed a link: limits keep a council's session (or whoever
# holds a leaked link) from using the survey as a mailer.
CONTRIBUTORS_MAX = env.int("CONTRIBUTORS_MAX", 25, minimum=1, maximum=500)
CONTRIBUTOR_INVITATIONS_PER_HOUR = env.int(
    "CONTRIBUTOR_INVITATIONS_PER_HOUR", 10, minimum=1, maximum=500
)
SESSION_COOKIE_AGE = RESPONDENT_SESSION_IDLE_MINUTES * 60
# Idle timeout: the expiry slides forward at most once a minute (SlidingSessionMiddleware).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "survey_site.views.csrf_failure"

# Headers.
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin: nothing leaves for other sites. The link landing page, whose URL holds
# the token, sends no Referer at all (surveys.views.link_landing).
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The service uses no device or browser feature that needs a permission: deny them all,
# for this site and anything it might ever embed (django-permissions-policy).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "clipboard-read",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading commits the whole parent domain to HTTPS in browsers for good: a decision
    # for the domain's owner, not this app, so the preload warning is silenced.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies are only accepted over HTTPS, with no Domain and Path=/.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
else:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)

# Disclosure control. These parameters are confidential: never printed on outputs.
DISCLOSURE_MIN_CONTRIBUTORS = env.int("DISCLOSURE_MIN_CONTRIBUTORS", 3, minimum=2, maximum=100)
DISCLOSURE_P_PERCENT = env.int("DISCLOSURE_P_PERCENT", 10, minimum=1, maximum=99)
DISCLOSURE_GROUP_MIN_SIZE = env.int("DISCLOSURE_GROUP_MIN_SIZE", 10, minimum=2, maximum=1000)
_nk = env.str("DISCLOSURE_NK", "")
if _nk:
    try:
        _n, _k = (int(part) for part in _nk.split(","))
    except ValueError:
        raise ImproperlyConfigured(f"DISCLOSURE_NK={_nk!r} must look like '2,85'") from None
    if not (_n >= 1 and 0 < _k <= 100):
        raise ImproperlyConfigured(f"DISCLOSURE_NK={_nk!r}: n must be >= 1 and k in 1..100")
    DISCLOSURE_NK: tuple[int, int] | None = (_n, _k)
else:
    DISCLOSURE_NK = None

LOG_LEVEL = env.str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not a logging level")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # Access links carry a bearer token in the path: scrub it from every record.
        "scrub_tokens": {"()": "survey_site.logging.ScrubTokensFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["scrub_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "outbox": {"level": LOG_LEVEL},
        "authorities": {"level": LOG_LEVEL},
        "surveys": {"level": LOG_LEVEL},
        "reporting": {"level": LOG_LEVEL},
        "campaigns": {"level": LOG_LEVEL},
    },
}

SERVICE_NAME = "Council digital channels survey"
