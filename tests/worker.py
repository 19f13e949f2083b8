"""A real Celery worker in a subprocess, connected to the pytest test database and Redis.

Use with ``transactional_db`` (the worker only sees committed rows)::

    from tests.worker import celery_worker  # noqa: F401 (fixture)

With CI=true a missing Redis fails the test (tests.conftest.require); elsewhere it skips.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from tests.conftest import require

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60


def _redis_reachable(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


def _test_database_url() -> str:
    """DATABASE_URL with the database name pytest-django created for this run."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[subprocess.Popen]:
    """Start ``celery -A survey_site worker --pool solo --concurrency 1``; stop it afterwards.

    Tasks sent while the fixture is active go through Redis to that worker.
    """
    redis_url = os.environ.get("REDIS_URL", "")
    require(bool(redis_url) and _redis_reachable(redis_url), "Redis is not reachable")
    require(
        connection.vendor == "postgresql",
        "the worker needs a server database (PostgreSQL) shared with the test",
    )
    from survey_site.celery import app

    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "DJANGO_SETTINGS_MODULE": "survey_site.settings_test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    # A private queue name so that no other worker on this Redis takes the test's tasks.
    queue = f"test-worker-{os.getpid()}"
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in the finally block)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "survey_site",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--queues",
            queue,
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # The app reads Django settings under the CELERY_ namespace: override those keys.
    saved = (app.conf.CELERY_TASK_ALWAYS_EAGER, app.conf.get("CELERY_TASK_DEFAULT_QUEUE", "celery"))
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_TASK_DEFAULT_QUEUE=queue)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            log.seek(0)
            if "ready." in log.read():
                break
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"Celery worker did not start:\n{log.read()[-3000:]}")
            time.sleep(0.2)
        yield process
    finally:
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=saved[0], CELERY_TASK_DEFAULT_QUEUE=saved[1])
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
