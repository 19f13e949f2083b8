"""Settings: production is safe by default, and a mistyped setting never passes silently."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from survey_site.env import VARIABLES, Environment

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "production-secret-key-for-tests-" + "k" * 40,
    "SURVEY_LINK_KEY": "production-link-key-for-tests-" + "l" * 40,
    "SURVEY_BASE_URL": "https://survey.localdigital.example",
    "ALLOWED_HOSTS": "survey.localdigital.example",
    "DATABASE_URL": "postgres://survey@127.0.0.1:5432/survey",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@relay.localdigital.example:587",
}


def manage(
    *args: str, cwd: Path = settings.BASE_DIR, **environ: str
) -> subprocess.CompletedProcess:
    """Run a management command on the real settings with only the given variables (and
    PATH) in its environment. Through `python -m django`, not manage.py: manage.py also
    reads a developer's .env (`make run` writes DEBUG=true there), settings never do."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(settings.BASE_DIR)),
        "DJANGO_SETTINGS_MODULE": "survey_site.settings",
        **environ,
    }
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    environ = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", **environ)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


# The example keys docker-compose.yml held until it required keys of the operator's own.
OLD_COMPOSE_KEYS = {
    "SECRET_KEY": "change-me-docker-compose-secret-key-0123456789abcdefghij",
    "SURVEY_LINK_KEY": "change-me-docker-compose-link-key-0123456789abcdefghij",
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        *OLD_COMPOSE_KEYS.items(),
        ("SECRET_KEY", "replace-me-with-a-long-random-secret-key-for-production"),
        ("SURVEY_LINK_KEY", "short-key"),
    ],
)
def test_production_refuses_placeholder_keys(name, value):
    result = manage("check", **(PRODUCTION | {name: value}))
    assert result.returncode != 0
    assert f"{name} looks like an example or placeholder" in result.stderr
    assert value not in result.stderr  # the message never repeats a key


def test_debug_is_off_unless_set():
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)",
        **{k: v for k, v in PRODUCTION.items() if k != "DEBUG"},
    )  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_only_manage_py_reads_the_demo_env_file(tmp_path):
    """`make run` writes .env with DEBUG=true: `make test` afterwards must not see it."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    # A checkout of its own, so that its .env is found where settings and manage.py look.
    for entry in settings.BASE_DIR.iterdir():
        if entry.name not in {"survey_site", "manage.py", ".env", ".git"}:
            (checkout / entry.name).symlink_to(entry)
    shutil.copytree(
        settings.BASE_DIR / "survey_site",
        checkout / "survey_site",
        ignore=shutil.ignore_patterns("__pycache__", "tests"),
    )
    shutil.copy(settings.BASE_DIR / "manage.py", checkout)
    (checkout / ".env").write_text("DEBUG=true\nSURVEY_TEAM_EMAIL=team@dotenv.example\n")
    show = "from django.conf import settings as s; print(s.DEBUG, s.SURVEY_TEAM_EMAIL)"
    production = {k: v for k, v in PRODUCTION.items() if k != "DEBUG"}

    for module in ("survey_site.settings", "survey_site.settings_test"):
        result = manage(
            "shell", "-c", show, cwd=checkout, DJANGO_SETTINGS_MODULE=module, **production
        )
        assert result.returncode == 0, result.stderr
        debug = "True" if module.endswith("_test") else "False"  # the test settings' own default
        assert result.stdout.splitlines()[-1].split() == [debug, "survey-team@localdigital.example"]

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    demo = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", show],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert demo.stdout.splitlines()[-1].split() == ["True", "team@dotenv.example"], demo.stderr


def test_production_links_must_use_https():
    result = manage("check", **(PRODUCTION | {"SURVEY_BASE_URL": "http://survey.example"}))
    assert result.returncode != 0
    assert "survey_site.E002" in result.stderr


def test_demo_defaults_warn_under_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="true")
    assert result.returncode != 0
    for warning in ("survey_site.W001", "survey_site.W002", "survey_site.W003"):
        assert warning in result.stderr


def test_a_misspelt_variable_stops_start_up():
    result = manage("check", **(PRODUCTION | {"DATABSE_URL": "postgres://x@y/z"}))
    assert result.returncode != 0
    assert "DATABSE_URL (did you mean DATABASE_URL?)" in result.stderr


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DEBUG": "ture"}, "DEBUG='ture' is not a yes/no value"),
        ({"RESPONDENT_SESSION_IDLE_MINUTES": "forty"}, "is not a whole number"),
        ({"RESPONDENT_SESSION_IDLE_MINUTES": "0"}, "must be between 5 and 1440"),
        ({"DISCLOSURE_P_PERCENT": "100"}, "must be between 1 and 99"),
        ({"SURVEY_LINK_KEYS": "x"}, "did you mean SURVEY_LINK_KEY?"),
    ],
)
def test_environment_rejects_bad_values(environ, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        env = Environment(environ)
        env.bool("DEBUG", default=False)
        env.int("RESPONDENT_SESSION_IDLE_MINUTES", 45, minimum=5, maximum=1440)
        env.int("DISCLOSURE_P_PERCENT", 10, minimum=1, maximum=99)


def test_bad_disclosure_rule_fails_start_up():
    result = manage("check", DEBUG="true", DISCLOSURE_NK="85")
    assert result.returncode != 0
    assert "DISCLOSURE_NK='85' must look like '2,85'" in result.stderr


def test_reading_an_unlisted_variable_is_a_programming_error():
    with pytest.raises(ImproperlyConfigured, match="not listed"):
        Environment({}).str("SOME_NEW_SETTING")


def test_readme_documents_every_variable():
    readme = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    missing = [v.name for v in VARIABLES if f"`{v.name}`" not in readme]
    assert missing == []


def test_test_suite_uses_postgres_and_redis_in_ci():
    if os.environ.get("CI") != "true":
        pytest.skip("outside CI the suite may run on SQLite")
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
