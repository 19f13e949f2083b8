"""A real Celery worker and a real SMTP server, for tests and benchmarks across processes.

`SmtpSink` is an aiosmtpd server in a thread that keeps every message it accepts;
`CeleryWorker` runs `celery -A survey_site worker` in its own process group, pointed at
the test database, so that it can be killed with SIGKILL like a crashed machine.
"""

from __future__ import annotations

import contextlib
import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """An SMTP server that records what it accepts. `before_accept(n)` runs before the
    n-th message is accepted; when it returns False the message is refused (4xx).
    `rcpt_reply(n)` answers the n-th RCPT TO: a reply such as "451 4.7.1 Greylisted"
    refuses the recipient, None accepts it."""

    def __init__(
        self,
        before_accept: Callable[[int], bool] | None = None,
        rcpt_reply: Callable[[int], str | None] | None = None,
    ) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.before_accept = before_accept
        self.rcpt_reply = rcpt_reply
        self.rcpt_count = 0
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        with self.lock:
            self.rcpt_count += 1
            number = self.rcpt_count
        reply = self.rcpt_reply(number) if self.rcpt_reply is not None else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            number = len(self.messages) + 1
            if self.before_accept is not None and not self.before_accept(number):
                return "451 4.3.0 Not accepted, try again later"
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= count:
                return True
            time.sleep(0.1)
        return self.count() >= count

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def worker_environment(*, database_url: str, redis_url: str, smtp_port: int) -> dict[str, str]:
    # The worker derives the links it sends: it needs the test process's link key and URL.
    shared = ("PATH", "HOME", "LANG", "TZ", "SURVEY_LINK_KEY", "SURVEY_BASE_URL")
    keep = {k: v for k, v in os.environ.items() if k in shared}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "campaigns.tests.worker_settings",
        "DEBUG": "true",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "LOG_LEVEL": "WARNING",
    }


class CeleryWorker:
    def __init__(
        self,
        env: dict[str, str],
        *,
        concurrency: int = 2,
        log: Path | None = None,
        loglevel: str = "WARNING",
    ):
        self.env = env
        self.loglevel = loglevel
        self.concurrency = concurrency
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryWorker:
        output = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "survey_site", "worker",
                "--pool=prefork", f"--concurrency={self.concurrency}",
                "--prefetch-multiplier=1", "--without-gossip", "--without-mingle",
                "--without-heartbeat", f"--loglevel={self.loglevel}",
            ],
            cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 takes the children too
        )  # fmt: skip
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """kill -9 the worker and its pool processes, as a crash or an OOM kill would."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> CeleryWorker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
