"""Benchmark: invite N synthetic councils through a real Celery worker to a local SMTP server.

    DATABASE_URL is ignored; the benchmark uses its own database (BENCH_DATABASE_URL,
    default postgres://postgres@127.0.0.1:5432/survey_campaign_bench), created and
    migrated when missing, and emptied of campaign data first. REDIS_URL is required
    (use a Redis database of your own: the queue is purged).

    BENCH_COUNCILS=10000 .venv/bin/python benchmarks/campaign.py

It reports where the time went (preparing the rows: responses, links, rendered emails,
outbox rows; queueing them for the worker: the commits and the hand-over to the broker;
sending, until the last message arrived), throughput, the peak memory of the worker (all
its processes) and its memory as the messages arrived (flat, not growing with the round),
the load average, and checks that every council got exactly one message. The worker runs
with the rate limit lifted (campaigns/tests/worker_settings.py): in production
EMAIL_RATE_PER_MINUTE paces it.

BENCH_COUNCILS=100000 is the scale test (every parish and town council and public body in
England): the SMTP sink keeps only each message's recipient and Message-ID.
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COUNCILS = int(os.environ.get("BENCH_COUNCILS", "10000"))
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/survey_campaign_bench"
)
REDIS_URL = os.environ.get("REDIS_URL", "")


def _ensure_database() -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    admin = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity=0"],
        cwd=ROOT, env=_env(), check=True,
    )  # fmt: skip


def _env() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return {
        **keep,
        "DEBUG": "true",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "campaigns.tests.worker_settings",
    }


def _group_memory_kb(pgid: int) -> tuple[int, int]:
    """Resident memory (RSS) of every process in a process group (the worker and its pool),
    and its proportional share (PSS): forked pool processes share the parent's pages, which
    the RSS sum counts once per process."""
    rss = pss = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            with open(f"/proc/{entry}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
            continue
    return rss, pss


def _letters(number: int) -> str:
    """A unique four-letter code (real councils have three letters)."""
    return "".join(chr(65 + (number // 26**i) % 26) for i in (3, 2, 1, 0))


def _sink_class():
    from email.parser import BytesHeaderParser

    from campaigns.tests.worker import SmtpSink

    class HeaderSink(SmtpSink):
        """Keeps each message's recipient and Message-ID only: memory stays small at 100,000."""

        async def handle_DATA(self, server, session, envelope) -> str:
            headers = BytesHeaderParser().parsebytes(envelope.content)
            with self.lock:
                self.messages.append((headers["To"], headers["Message-ID"]))
            return "250 Message accepted for delivery"

    return HeaderSink


def _load(averages: tuple[float, float, float]) -> str:
    return ", ".join(f"{a:.2f}" for a in averages)


def main() -> None:
    if not REDIS_URL:
        sys.exit("Set REDIS_URL (a Redis database of your own: its queue is purged)")
    _ensure_database()
    os.environ.update(_env())
    import django

    django.setup()
    from django.db import transaction
    from django.db.models import Count
    from django.utils import timezone

    from authorities.models import Authority
    from campaigns.services import invitations_send
    from campaigns.tests.worker import CeleryWorker, worker_environment
    from outbox.models import EmailAttempt, EmailStatus, OutboundEmail
    from survey_site.celery import app
    from surveys.choices import PopulationKind, SurveyStatus
    from surveys.models import (
        Questionnaire,
        Response,
        Survey,
        TransactionAnswer,
    )
    from surveys.questionnaires import questionnaire_load

    print(f"Setting up {COUNCILS:,} synthetic councils...", flush=True)
    with transaction.atomic():
        EmailAttempt.objects.all().delete()
        OutboundEmail.objects.all().delete()
        TransactionAnswer.objects.all().delete()
        Response.objects.all().delete()
        Survey.objects.filter(slug="campaign-bench").delete()
        Authority.objects.filter(official_name__startswith="Synthetic parish council").delete()
        data = json.loads((ROOT / "fixtures" / "questionnaire-2015.json").read_text())
        questionnaire = Questionnaire.objects.filter(version=data["version"]).first()
        if questionnaire is None:
            questionnaire, _ = questionnaire_load(data=data)
        now = timezone.now()
        survey = Survey.objects.create(
            name="Campaign benchmark",
            slug="campaign-bench",
            questionnaire=questionnaire,
            opens_at=now - datetime.timedelta(days=1),
            closes_at=now + datetime.timedelta(days=30),
            population=PopulationKind.CHOSEN,
            status=SurveyStatus.OPEN,
        )
        authorities = Authority.objects.bulk_create(
            (
                Authority(
                    gss_code=f"E99{n:06d}",
                    code=_letters(n),
                    official_name=f"Synthetic parish council {n:06d}",
                    short_name=f"Synthetic {n:06d}",
                    kind="district",
                    region="south_west",
                    chief_executive_name=f"Clerk {n:06d}",
                    chief_executive_email=f"clerk{n:06d}@parish.example",
                )
                for n in range(COUNCILS)
            ),
            batch_size=5000,
        )
        chosen = Survey.chosen_authorities.through
        chosen.objects.bulk_create(
            (chosen(survey_id=survey.pk, authority_id=a.pk) for a in authorities), batch_size=5000
        )
        del authorities
    app.control.purge()
    load_before = os.getloadavg()

    arrived = threading.Event()
    with _sink_class()() as sink:
        env = worker_environment(
            database_url=DATABASE_URL, redis_url=REDIS_URL, smtp_port=sink.port
        )
        env["DJANGO_SETTINGS_MODULE"] = "campaigns.tests.worker_settings"
        worker = CeleryWorker(
            env,
            concurrency=2,
            log=Path(tempfile.gettempdir()) / "campaign-bench-worker.log",
            loglevel=os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
        )
        worker.start()
        ready_by = time.monotonic() + 60
        while not app.control.ping(timeout=1) and time.monotonic() < ready_by:
            pass  # the worker and its pool start
        idle_kb = _group_memory_kb(worker.process.pid)
        peak_kb = peak_pss_kb = 0
        by_quarter: dict[int, int] = {}  # worker memory when each quarter had arrived

        def sample() -> None:
            nonlocal peak_kb, peak_pss_kb
            while not arrived.is_set():
                rss, pss = _group_memory_kb(worker.process.pid)
                peak_kb, peak_pss_kb = max(peak_kb, rss), max(peak_pss_kb, pss)
                by_quarter.setdefault(min(4 * sink.count() // COUNCILS, 4), rss)
                time.sleep(0.25)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        report = invitations_send(survey=survey)
        recorded = time.perf_counter() - started
        arrived_by_then = sink.count()
        print(f"Recorded {report.queued:,} invitations in {recorded:.1f} s", flush=True)
        ok = sink.wait_for(COUNCILS, timeout=float(os.environ.get("BENCH_TIMEOUT", "900")))
        total = time.perf_counter() - started
        time.sleep(3)  # anything sent twice would arrive now
        load_after = os.getloadavg()
        arrived.set()
        sampler.join()
        worker.stop()
        messages = list(sink.messages)

    recipients = [to for to, _ in messages]
    ids = [message_id for _, message_id in messages]
    statuses = dict(OutboundEmail.objects.values_list("status").annotate(n=Count("id")))
    self_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    preparing, queueing = report.seconds["preparing"], report.seconds["queueing"]
    print(f"Councils:                     {COUNCILS:,}")
    print(f"Load average (1, 5, 15 min):  before {_load(load_before)}, after {_load(load_after)}")
    print(f"All arrived:                  {ok}")
    print(f"Time to record invitations:   {recorded:.1f} s ({COUNCILS / recorded:.0f} a second)")
    print(f"  preparing rows:             {preparing:.1f} s")
    print(f"  queueing (commit, broker):  {queueing:.1f} s")
    print(f"  choosing councils, other:   {recorded - preparing - queueing:.1f} s")
    print(f"  arrived meanwhile:          {arrived_by_then:,}")
    print(f"Sending the rest:             {total - recorded:.1f} s")
    print(f"Time until the last arrived:  {total:.1f} s ({len(messages) / total:.0f} a second)")
    print(
        f"Worker peak memory (all processes): {peak_kb / 1024:.0f} MB RSS, "
        f"{peak_pss_kb / 1024:.0f} MB PSS; idle before sending: {idle_kb[0] / 1024:.0f} MB RSS, "
        f"{idle_kb[1] / 1024:.0f} MB PSS"
    )
    quarters = ", ".join(
        f"{25 * q}%: {kb / 1024:.0f} MB" for q, kb in sorted(by_quarter.items()) if q
    )
    print(f"Worker memory (RSS) as messages arrived: {quarters}")
    print(f"This process peak memory (producer + SMTP sink): {self_peak_mb:.0f} MB")
    print(f"Messages received:            {len(messages):,}")
    print(f"Distinct recipients:          {len(set(recipients)):,}")
    print(f"Distinct Message-IDs:         {len(set(ids)):,}")
    print(f"Outbox rows by status:        {statuses}")
    exactly_once = len(messages) == COUNCILS == len(set(recipients)) == len(
        set(ids)
    ) and statuses == {EmailStatus.SENT: COUNCILS}
    print(f"Exactly once:                 {exactly_once}")
    if not exactly_once:
        sys.exit(1)


if __name__ == "__main__":
    main()
