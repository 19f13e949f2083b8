"""Redis holds copies of sessions and the link rate limits; answers never depend on it.

Sessions are stored in PostgreSQL and read through the cache (survey_site.sessions).
These tests point the cache at a Redis that is not there, and at a real one that loses
its data, and check that councils still open their links and save, and that signing
out still ends a session.
"""

import logging
import socket

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from surveys.models import Figure

from .factories import open_link

PAY = "/survey/transactions/pay-council-tax/"
ANSWERS = {
    "provision": "yes",
    "channels": ["WEB"],
    "end_to_end": "yes",
    "figure_WEB": "1,500",
    "action": "continue",
}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: nobody listens


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.SESSION_ENGINE = "survey_site.sessions"


def test_with_redis_down_a_council_opens_its_link_saves_and_signs_out(
    redis_down, settings, response, caplog
):
    caplog.set_level(logging.WARNING)
    client = Client()
    open_link(client, response)
    assert client.get(PAY).status_code == 200
    saved = client.post(PAY, ANSWERS)
    assert saved.status_code == 303
    figure = Figure.objects.get(response=response, channel__code="WEB")
    assert figure.value == 1500
    assert any("session cache unavailable" in r.getMessage() for r in caplog.records)
    assert any("rate-limit cache unavailable" in r.getMessage() for r in caplog.records)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert not any(session_key in r.getMessage() for r in caplog.records)

    assert client.post("/survey/sign-out/").status_code in (302, 303)
    assert client.get(PAY)["Location"] == "/survey/session-ended/"


def test_sessions_survive_the_cache_losing_everything(settings, response):
    settings.SESSION_ENGINE = "survey_site.sessions"
    client = Client()
    open_link(client, response)
    cache.clear()  # what a Redis restart without persistence does
    assert client.get(PAY).status_code == 200
    assert client.post(PAY, ANSWERS).status_code == 303
    assert Figure.objects.filter(response=response, channel__code="WEB", value=1500).exists()


def test_signing_out_removes_the_cached_copy_too(settings, response):
    settings.SESSION_ENGINE = "survey_site.sessions"
    client = Client()
    open_link(client, response)
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get(PAY).status_code == 200
    client.post("/survey/sign-out/")
    assert not Session.objects.filter(session_key=stolen).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert replay.get(PAY)["Location"] == "/survey/session-ended/"
