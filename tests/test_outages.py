"""Submitting works while the broker or the mail relay is down; the email follows later.

Real failures, not mocks: the broker is a Redis URL on a port nothing listens on, the
relay is refused the same way and later is a real SMTP server (aiosmtpd).
"""

import datetime
import logging

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError

from campaigns.tests.worker import SmtpSink, free_port
from outbox.models import EmailStatus, OutboundEmail
from outbox.sending import email_dispatch
from outbox.tasks import email_send_task
from survey_site.celery import app
from surveys.choices import ResponseStatus
from surveys.models import EmailKind
from surveys.tests.conftest import (  # noqa: F401 (fixtures)
    client_in,
    hartlepool,
    questionnaire,
    questionnaire_data,
    response,
    survey,
)
from surveys.tests.factories import fill_everything

pytestmark = pytest.mark.django_db

DECLARATION = {"submitted_by": "Pat Example", "declaration": "on"}


@pytest.fixture
def broker_down():
    """Tasks are sent to a broker that refuses connections, at once and without retries.

    The overrides are taken out again afterwards, not set back to their old values: set,
    they would hide the Django settings that later tests change (a worker test turns
    eager execution off through them).
    """
    app.conf.update(
        CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0",
        CELERY_TASK_ALWAYS_EAGER=False,
        CELERY_TASK_PUBLISH_RETRY=False,
    )
    _forget_connections()
    # The outage is real: sending a task now fails.
    with pytest.raises(OperationalError):
        email_send_task.delay(0)
    yield
    for key in ("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "CELERY_TASK_PUBLISH_RETRY"):
        app.conf.changes.pop(key, None)
    _forget_connections()
    assert app.conf.broker_url == django_settings.CELERY_BROKER_URL


def _forget_connections() -> None:
    """Drop the app's cached connection and producer pools (made for the last broker URL)."""
    app._pool = None
    app.amqp._producer_pool = None


def _submit(client: Client, capture) -> None:
    with capture(execute=True):
        done = client.post("/survey/check/", DECLARATION)
    assert done.status_code == 303 and done["Location"] == "/survey/confirmation/"


def test_a_council_submits_while_the_broker_is_down_and_its_copy_goes_later(
    client_in,  # noqa: F811
    response,  # noqa: F811
    broker_down,
    caplog,
    django_capture_on_commit_callbacks,
):
    fill_everything(response)
    caplog.set_level(logging.WARNING, logger="survey_site.queue")
    _submit(client_in, django_capture_on_commit_callbacks)
    response.refresh_from_db()
    assert response.status == ResponseStatus.SUBMITTED and response.reference
    assert "could not queue" in caplog.text
    copy = OutboundEmail.objects.get(kind=EmailKind.SUBMISSION_COPY)
    assert copy.status == EmailStatus.PENDING and not mail.outbox
    assert client_in.get("/survey/confirmation/").status_code == 200


def test_the_copy_waits_in_the_outbox_while_the_relay_is_down_then_arrives(
    client_in,  # noqa: F811
    response,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2
    fill_everything(response)
    _submit(client_in, django_capture_on_commit_callbacks)
    response.refresh_from_db()
    assert response.status == ResponseStatus.SUBMITTED
    copy = OutboundEmail.objects.get(kind=EmailKind.SUBMISSION_COPY)
    assert copy.status == EmailStatus.PENDING and copy.attempts == 1
    with SmtpSink() as relay:
        settings.EMAIL_PORT = relay.port
        later = timezone.now() + datetime.timedelta(hours=1)  # past the retry backoff
        with time_machine.travel(later, tick=True):
            email_dispatch()  # what beat runs every minute
        assert relay.wait_for(1, timeout=10)
    copy.refresh_from_db()
    assert copy.status == EmailStatus.SENT
    assert relay.messages[0]["Subject"] == f"Your survey answers: reference {response.reference}"
