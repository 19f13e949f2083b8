"""Exactly-once invitations through a real Celery worker on Redis and a real SMTP server.

The acceptance test of trusted systems (docs/security.md, "Background work"): send 300
invitations, kill -9 the worker in the middle of a batch, drop the Redis connections,
start a worker again, and exactly 300 messages arrive, each with the link that opens
its own council's response.

The first worker runs one process, killed while the relay holds its message unanswered,
so the kill falls outside the window no SMTP client can close: the relay has accepted a
message and the sender dies before recording it (see outbox.sending). With two processes
the other one can be exactly there, and its message then arrives twice (same Message-ID).
The restarted worker runs two processes, racing the redelivered messages of the dead one
with the dispatcher's new batches over the same rows.
"""

from __future__ import annotations

import os
import re
import threading
import time
from io import StringIO

import pytest
import redis
from django.core.management import call_command
from django.db import connection
from django.test import Client

from campaigns.services import invitations_send
from campaigns.tests.worker import CeleryWorker, SmtpSink, worker_environment
from outbox.models import EmailStatus, OutboundEmail
from survey_site.celery import app
from surveys.services import link_find
from surveys.tests import conftest as surveys_conftest
from surveys.tests.factories import make_authority
from tests.conftest import require

questionnaire_data = surveys_conftest.questionnaire_data
questionnaire = surveys_conftest.questionnaire
survey = surveys_conftest.survey

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
COUNCILS = 300
KILL_AT = 100
LINK = re.compile(r"^https?://[^/\s]+/s/([A-Za-z0-9_-]+)\r?$", re.MULTILINE)


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _drop_redis_connections(url: str) -> int:
    """Drop every client connection to our Redis database (never the server itself,
    which other people use): what a Redis restart does to the worker and the producer."""
    client = redis.Redis.from_url(url)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    own = client.client_id()
    dropped = 0
    for entry in client.client_list():
        if int(entry.get("db", -1)) == db and int(entry["id"]) != own:
            dropped += client.client_kill_filter(_id=entry["id"])
    client.close()
    return dropped


def _body(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


@pytest.fixture
def broker(settings):
    redis_url = os.environ.get("REDIS_URL", "")
    require(bool(redis_url), "REDIS_URL is not set")
    require(connection.vendor == "postgresql", "DATABASE_URL is not PostgreSQL")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.control.purge()
    yield redis_url
    app.control.purge()
    app.conf.task_always_eager = eager


def test_300_invitations_arrive_exactly_once_when_the_worker_is_killed_mid_batch(
    broker, survey, tmp_path
):
    authorities = [
        make_authority(
            f"E06000{n:03d}",
            official_name=f"Test council {n:03d}",
            chief_executive_name=f"Chief Executive {n:03d}",
            chief_executive_email=f"ce{n:03d}@council.example",
        )
        for n in range(1, COUNCILS + 1)
    ]
    survey.chosen_authorities.set(authorities)
    killed = threading.Event()
    workers: list[CeleryWorker] = []

    def before_accept(number: int) -> bool:
        # The KILL_AT-th message is being handed over: kill -9 the worker before the
        # relay accepts it. Its claim rolls back with its database connection, and the
        # rest of its batch was never sent.
        if number == KILL_AT and not killed.is_set():
            workers[0].kill()
            killed.set()
            return False
        return True

    with SmtpSink(before_accept) as sink:
        env = worker_environment(
            database_url=_database_url(), redis_url=broker, smtp_port=sink.port
        )
        log = tmp_path / "worker.log"
        workers.append(CeleryWorker(env, concurrency=1, log=log).start())
        try:
            report = invitations_send(survey=survey)
            assert report.queued == COUNCILS
            assert killed.wait(timeout=120), log.read_text()
            assert not workers[0].alive
            assert sink.count() == KILL_AT - 1
            assert _drop_redis_connections(broker) >= 0
            workers.append(CeleryWorker(env, log=log).start())
            # Beat's dispatcher finds the rows the dead worker left pending.
            from outbox.tasks import email_dispatch_task

            email_dispatch_task.delay()
            assert sink.wait_for(COUNCILS, timeout=180), (sink.count(), log.read_text())
            # The dead worker's messages come back after the visibility timeout (15 s in
            # the worker's settings) and are run again: they must send nothing more.
            time.sleep(25)
            email_dispatch_task.delay()
            time.sleep(3)
        finally:
            for worker in workers:
                worker.stop()
        messages = list(sink.messages)

    assert len(messages) == COUNCILS
    recipients = [m["To"] for m in messages]
    assert len(set(recipients)) == COUNCILS
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    for message in messages:
        (token,) = LINK.findall(_body(message))
        link = link_find(token)
        assert link is not None
        assert link.response.authority.chief_executive_email == message["To"]
        assert link.response.survey_id == survey.pk
    # And a few of them open the right council's start page over HTTP.
    for message in messages[:5]:
        (token,) = LINK.findall(_body(message))
        page = Client().get(f"/s/{token}")
        assert page.status_code == 200
        number = message["To"][2:5]
        assert f"Test council {number}".encode() in page.content


def test_send_invitations_wait_follows_a_real_worker_until_the_batch_is_sent(
    broker, survey, tmp_path
):
    """--wait shows the batch as a real worker sends it, and the health check stays 200."""
    survey.chosen_authorities.set(
        make_authority(
            f"E06000{n:03d}",
            official_name=f"Test council {n:03d}",
            chief_executive_name=f"Chief Executive {n:03d}",
            chief_executive_email=f"ce{n:03d}@council.example",
        )
        for n in range(1, 21)
    )
    with SmtpSink() as sink:
        env = worker_environment(
            database_url=_database_url(), redis_url=broker, smtp_port=sink.port
        )
        log = tmp_path / "worker.log"
        with CeleryWorker(env, log=log):
            out = StringIO()
            call_command("send_invitations", survey.slug, "--wait", "--timeout", "120", stdout=out)
            assert Client().get("/healthz/email").status_code == 200
        assert sink.count() == 20, log.read_text()
    lines = out.getvalue().splitlines()
    assert lines[-1] == "Invitations: 20 of 20 sent, 0 queued, 0 failed"
    assert all(line.startswith("Invitations: ") for line in lines[1:])
