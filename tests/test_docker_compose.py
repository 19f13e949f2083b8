"""docker-compose.yml cannot run here (no Docker engine): check it by reading it."""

from pathlib import Path

import yaml

from survey_site.env import KNOWN_NAMES

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def command(service: str) -> str:
    value = COMPOSE["services"][service]["command"]
    return value if isinstance(value, str) else " ".join(value)


def test_compose_describes_the_production_like_stack():
    assert set(COMPOSE["services"]) == {"postgres", "redis", "web", "worker", "beat", "mailpit"}


def test_web_runs_migrations_then_gunicorn_with_two_workers():
    web = command("web")
    assert web.index("migrate") < web.index("gunicorn")
    assert "survey_site.wsgi:application" in web
    assert "--workers 2" in web


def test_worker_and_beat_run_the_project_celery_app():
    assert command("worker").startswith("celery -A survey_site worker")
    assert command("beat").startswith("celery -A survey_site beat")


def test_app_services_share_settings_that_the_app_reads():
    for name in ("web", "worker", "beat"):
        service = COMPOSE["services"][name]
        environment = service["environment"]
        assert set(environment) <= KNOWN_NAMES, set(environment) - KNOWN_NAMES
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://redis:")
        assert environment["EMAIL_URL"] == "smtp://mailpit:1025"
        assert set(service["depends_on"]) == {"postgres", "redis"}


def test_dockerfile_installs_with_the_constraints():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "-c constraints.txt" in dockerfile
    assert "FROM python:3.11" in dockerfile


def test_compose_holds_no_usable_keys():
    """Keys come from the operator (`${NAME:?...}` stops compose without them): an example
    key in a public file would sign sessions and derive links that anyone could forge."""
    for name in ("web", "worker", "beat"):
        environment = COMPOSE["services"][name]["environment"]
        for key in ("SECRET_KEY", "SURVEY_LINK_KEY"):
            assert environment[key].startswith("${" + key + ":?"), (name, key)
