"""Load benchmark in the shape of ONS's nightly questionnaire load test: whole journeys.

60 simulated respondents (locust users, benchmarks/locustfile.py), one council link each,
start within 10 s and each do one whole journey with 1 to 2 s think time between
requests: open the link, the task list, every page of the questionnaire viewed and saved
(22 transaction pages, 20 questions pages), check answers, submit, confirmation. The
server is gunicorn with 2 workers on PostgreSQL and Redis, set up as benchmarks.journey
does (365 councils, 353 links), but in its own database (survey_bench_load), Redis
database (12) and port (8766), so the two benchmarks never collide.

Prints, for GET and for POST and per page type: requests, failures (any unexpected
status, with the page's first error message) and p50, p90, p95, p99 and p99.9 latency,
client-measured, computed from every sample; then totals, journeys completed and the
responses submitted in the database, which must equal the journeys completed.

Run with `make bench` or `python -m benchmarks.journey_load`. BENCH_LOAD_USERS (60, at
most 353) and BENCH_LOAD_TIME (5m, or seconds; the run ends once every journey has)
change the load; BENCH_LOAD_DATABASE_URL, BENCH_LOAD_REDIS_URL and BENCH_LOAD_PORT where.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.parse
from collections import Counter
from typing import Any

import gevent
import numpy
from locust.env import Environment
from locust.util.timespan import parse_timespan

from benchmarks import journey
from benchmarks.locustfile import JOURNEYS, Respondent, scrub

USERS = int(os.environ.get("BENCH_LOAD_USERS", "60"))
TIME_LIMIT = parse_timespan(os.environ.get("BENCH_LOAD_TIME", "5m"))
SPAWN_SECONDS = 10
PORT = int(os.environ.get("BENCH_LOAD_PORT", "8766"))
DATABASE_URL = os.environ.get(
    "BENCH_LOAD_DATABASE_URL",
    journey.ENV["DATABASE_URL"].rsplit("/", 1)[0] + "/survey_bench_load",
)
REDIS_URL = os.environ.get("BENCH_LOAD_REDIS_URL", "redis://127.0.0.1:6379/12")
PERCENTILES = (50, 90, 95, 99, 99.9)

SUBMITTED = """
from surveys.choices import ResponseStatus
from surveys.models import Figure, Response
submitted = Response.objects.filter(survey__slug="bench", status=ResponseStatus.SUBMITTED)
print(submitted.count(), Figure.objects.filter(response__in=submitted).count())
"""

Sample = tuple[str, str, float, bool]  # method, request name, milliseconds, failed


class Recorder:
    """Every request's time (locust's own statistics round them to 2 significant
    figures), and what went wrong."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.problems: Counter[str] = Counter()
        self.user_errors: Counter[str] = Counter()

    def request(
        self, request_type: str, name: str, response_time: float, exception: Any, **_: Any
    ) -> None:
        self.samples.append((request_type, name, response_time, exception is not None))
        if exception is not None:
            self.problems[f"{request_type} {name}: {scrub(str(exception))}"] += 1

    def user_error(self, exception: Exception, **_: Any) -> None:
        self.user_errors[scrub(repr(exception))] += 1


def spread(links: dict[str, str], count: int) -> list[str]:
    """Link paths of `count` councils spread over the list in GSS code order, so
    unitaries, districts, counties and boroughs are all in."""
    paths = [urllib.parse.urlsplit(url).path for _, url in sorted(links.items())]
    if count > len(paths):
        sys.exit(f"BENCH_LOAD_USERS={count}: there are only {len(paths)} council links")
    return paths[:: len(paths) // count][:count]


def run_load(links: list[str], recorder: Recorder) -> float:
    """Seconds until every journey has ended, or the time limit."""
    Respondent.host = f"http://127.0.0.1:{PORT}"
    JOURNEYS.links = links
    # A bug in the user code stops that user (reported below) instead of looping.
    environment = Environment(user_classes=[Respondent], catch_exceptions=False)
    environment.events.request.add_listener(recorder.request)
    environment.events.user_error.add_listener(recorder.user_error)
    runner = environment.create_local_runner()
    started = time.monotonic()
    runner.start(USERS, spawn_rate=USERS / SPAWN_SECONDS)
    while JOURNEYS.ended < USERS and time.monotonic() - started < TIME_LIMIT:
        gevent.sleep(0.5)
    runner.quit()
    return time.monotonic() - started


def row(label: str, samples: list[Sample]) -> str:
    times = [ms for _, _, ms, _ in samples]
    failures = sum(failed for *_, failed in samples)
    figures = numpy.percentile(times, PERCENTILES) if times else [0.0] * len(PERCENTILES)
    return f"{label:36} {len(samples):6d} {failures:6d} " + " ".join(f"{p:7.1f}" for p in figures)


def report(recorder: Recorder, elapsed: float) -> None:
    samples = recorder.samples
    print()
    print(f"{'requests (ms)':36} {'count':>6} {'fails':>6} "
          + " ".join(f"{'p' + format(p, 'g'):>7}" for p in PERCENTILES))  # fmt: skip
    for method in ("GET", "POST"):
        mine = [s for s in samples if s[0] == method]
        print(row(f"{method} (all)", mine))
        for name in dict.fromkeys(s[1] for s in mine):
            print(row(f"  {name}", [s for s in mine if s[1] == name]))
    print(row("all requests", samples))
    failures = sum(failed for *_, failed in samples)
    print()
    print(f"Total: {len(samples)} requests, {failures} failed, in {elapsed:.0f} s "
          f"({len(samples) / elapsed:.1f} requests/s)")  # fmt: skip
    for problem, count in recorder.problems.most_common():
        print(f"  failed {count}x: {problem}")
    for problem, count in recorder.user_errors.most_common():
        print(f"  error in a simulated user {count}x: {problem}")
    print(f"Journeys: {JOURNEYS.completed} completed of {JOURNEYS.started} started "
          f"({USERS} users)")  # fmt: skip


def main() -> None:
    # journey's helpers (manage, shell, reset_*, start_server) read journey.ENV.
    journey.ENV.update(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL)
    print("Setting up: PostgreSQL database, 365 councils, 353 council links ...", flush=True)
    journey.reset_database()
    journey.reset_redis()
    journey.manage("migrate", "--noinput")
    journey.manage("collectstatic", "--noinput")
    links = spread(json.loads(journey.shell(journey.SETUP)), USERS)
    recorder = Recorder()
    server = journey.start_server(PORT)
    try:
        print(f"Load: {USERS} users (one council and one whole journey each) started over "
              f"{SPAWN_SECONDS} s, 1-2 s think time, limit {TIME_LIMIT} s; "
              "gunicorn 2 workers", flush=True)  # fmt: skip
        elapsed = run_load(links, recorder)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    report(recorder, elapsed)
    submitted, figures = (int(n) for n in journey.shell(SUBMITTED).split())
    print(f"In the database: {submitted} responses submitted, with {figures} figures "
          "(66 each: 22 transactions x 3 channels)")  # fmt: skip
    print("Targets: 0 failures, p99 < 500 ms")
    if submitted != JOURNEYS.completed:
        sys.exit(f"{submitted} responses submitted, but {JOURNEYS.completed} journeys completed")


if __name__ == "__main__":
    main()
