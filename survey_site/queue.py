"""Queueing Celery tasks after commit without making a request depend on Redis."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """Queue `task` once the transaction commits; a broker outage is logged, not raised.

    The work is recorded in the database first (an outbox row), and a beat task queues
    anything left pending, so a lost message delays the work but never loses it.
    """

    def send() -> None:
        try:
            task.delay(*args)
        except (OperationalError, OSError) as error:
            logger.warning("could not queue %s: %s", task.name, type(error).__name__)

    transaction.on_commit(send)
