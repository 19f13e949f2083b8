"""Benchmark of the respondent journey under load: gunicorn (2 workers) on PostgreSQL.

Run with `make bench` (it installs wrk from Debian when missing). Cases, 8 concurrent
clients for 20 s each: a bare Django response (/healthz), a bare Django page on the same
stack (the start page, a template rendered through every middleware with the respondent's
cookies, no database query), Django's admin login page (a form with CSRF through the full
middleware: the baseline a form page is compared with), a transaction page view, and a
transaction page save (a real one: see ``save_bodies``). Sessions are read through Redis, as
in production. BENCH_THREADS=4 runs the form cases again on threaded workers (gunicorn's
gthread, 2 workers x 4 threads), BENCH_WORKERS=4 on 4 sync workers (more processes than
cores: one runs while another waits for the database). Prints requests per second, p50,
p95 and p99 latency, the ratios to both baselines, SQL statements per request in steady
state (for the first and the last council of a round of 353: the same, since every query is
by one response and one transaction, never per transaction, channel or council), and the
time to save a whole questionnaire (22 transaction pages).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
DURATION = os.environ.get("BENCH_DURATION", "20s")
CONNECTIONS = 8
# BENCH_THREADS=4: the form cases once more on gunicorn's threaded workers (gthread).
THREADS = int(os.environ.get("BENCH_THREADS", "0"))
# BENCH_WORKERS=4: the form cases once more on that many sync workers.
WORKERS = int(os.environ.get("BENCH_WORKERS", "0"))
ENV = {
    **os.environ,
    "DEBUG": "false",
    "SECRET_KEY": "benchmark-secret-key-" + "b" * 40,
    "SURVEY_LINK_KEY": "benchmark-link-key-" + "l" * 40,
    "SURVEY_BASE_URL": "https://bench.invalid",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "false",
    "DATABASE_URL": os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/survey_bench"
    ),
    "EMAIL_URL": "dummymail://",
    "LOG_LEVEL": "WARNING",
    # The production stack: sessions read through Redis, rate limits in Redis. Nothing
    # in these cases queues a task.
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
}
ENV.pop("DJANGO_SETTINGS_MODULE", None)
WRK_SCRIPT = r"""
local headers_text = os.getenv("BENCH_HEADERS")
local body = os.getenv("BENCH_BODY")
local method = os.getenv("BENCH_METHOD") or "GET"
local counter = 0
request = function()
  local headers = {}
  for line in string.gmatch(headers_text, "[^\n]+") do
    local name, value = string.match(line, "^([^:]+): (.*)$")
    headers[name] = value
  end
  if method == "POST" then
    -- Two bodies taken in turn (BENCH_BODY and BENCH_BODY_OTHER): each puts back the value
    -- the other wrote, with the page's signed state of that value as its base.
    counter = counter + 1
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local other = os.getenv("BENCH_BODY_OTHER")
    local chosen = (other and counter % 2 == 0) and other or body
    return wrk.format("POST", nil, headers, chosen)
  end
  return wrk.format("GET", nil, headers)
end
-- A reply other than the one the case expects (BENCH_STATUS) is an error: a save that
-- shows the page again (a clash, an invalid figure) is not a save.
-- Counted in each thread's own Lua state, summed in done() through setup()'s list.
local expected = tonumber(os.getenv("BENCH_STATUS") or "200")
unexpected = 0
response = function(status, headers, body)
  if status ~= expected then unexpected = unexpected + 1 end
end
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end
done = function(summary, latency, requests)
  local unexpected = 0
  for _, thread in ipairs(threads) do unexpected = unexpected + thread:get("unexpected") end
  io.write(string.format("JSON{\"requests\": %d, \"seconds\": %f, \"p50\": %f, \"p95\": %f, "
    .. "\"p99\": %f, \"errors\": %d}\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout + unexpected))
end
"""


def manage(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=ENV, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip


def reset_redis() -> None:
    import redis

    for number in (0, 1):  # the broker's database and the cache's, after it
        url = urllib.parse.urlsplit(ENV["REDIS_URL"])
        database = int(url.path.strip("/") or 0) + number
        redis.Redis.from_url(urllib.parse.urlunsplit(url._replace(path=f"/{database}"))).flushdb()


def reset_database() -> None:
    url = urllib.parse.urlsplit(ENV["DATABASE_URL"])
    name = url.path.lstrip("/")
    admin = ENV["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


SETUP = """
import json
from django.conf import settings
from django.core.management import call_command
from authorities.models import Authority
from surveys.questionnaires import questionnaire_load
from authorities.models import ENGLAND_2015_DATE
from surveys.services import link_url, links_issue_for_survey
from surveys.tests.factories import make_survey

call_command("import_authorities", settings.BASE_DIR / "fixtures/authorities/england_councils.csv",
             verbosity=0)
data = json.loads((settings.BASE_DIR / "fixtures/questionnaire-2015.json").read_text())
questionnaire, _ = questionnaire_load(data=data)
survey = make_survey(questionnaire, slug="bench")
survey.chosen_authorities.set(Authority.objects.existing_on(ENGLAND_2015_DATE))
links = links_issue_for_survey(survey=survey, authorities=survey.chosen_authorities.all())
print(json.dumps({a.gss_code: link_url(l) for a, l in links}))
"""

SQL_COUNT = """
import json, re
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from surveys.models import Response
from surveys.services import link_issue
from surveys.tests.factories import open_link, token_path

out = {}
for label, response in (("first council of 353", Response.objects.order_by("pk").first()),
                        ("last council of 353", Response.objects.order_by("-pk").first())):
    client = Client()
    open_link(client, response)
    page = "/survey/transactions/pay-council-tax/"
    body = {"provision": "yes", "channels": ["WEB", "PHONE"], "end_to_end": "no",
            "figure_WEB": "1,200", "figure_PHONE": "340", "state": ""}
    client.get(page)  # steady state, as under load: the connection's setup is done
    client.post(page, body)
    body["figure_WEB"] = "1,300"
    with CaptureQueriesContext(connection) as view:
        text = client.get(page).content.decode()
    # A save as the browser sends it: the page's signed state as the base, one figure changed.
    body["state"] = re.search(r'name="state" value="([^"]*)"', text).group(1)
    with CaptureQueriesContext(connection) as save:
        status = client.post(page, body).status_code
    assert status == 303, status
    out[label] = [len(view.captured_queries), len(save.captured_queries)]
print(json.dumps(out))
"""


def shell(code: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=ENV, check=True,
        capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip


class Session:
    """A respondent's browser: cookies, and the CSRF token of the last form."""

    def __init__(self) -> None:
        # Production cookies are Secure (__Host-); the benchmark speaks plain HTTP on
        # loopback, so the jar must send them anyway.
        self.jar = http.cookiejar.CookieJar(policy=LoopbackCookiePolicy())
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        self.csrf = ""

    def get(self, path: str) -> str:
        with self.opener.open(BASE + path) as reply:
            text = reply.read().decode()
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
        self.csrf = found.group(1) if found else self.csrf
        return text

    def post(self, path: str, fields: dict) -> int:
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": self.csrf}, doseq=True)
        request = urllib.request.Request(BASE + path, data=data.encode())
        try:
            with self.opener.open(request) as reply:
                return reply.status
        except urllib.error.HTTPError as error:
            return error.code

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


class LoopbackCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    def return_ok_secure(self, cookie, request) -> bool:
        return True


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wrk(
    path: str, session: Session, method: str = "GET", bodies: tuple[str, ...] = (), status=200
) -> dict:
    """wrk on one path; a POST sends ``bodies`` in turn. Any reply but ``status`` counts as
    an error."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    env = {
        **os.environ,
        "BENCH_HEADERS": f"Cookie: {session.cookie_header()}\nX-CSRFToken: {session.csrf}",
        "BENCH_METHOD": method,
        "BENCH_STATUS": str(status),
        **({"BENCH_BODY": bodies[0]} if bodies else {}),
        **({"BENCH_BODY_OTHER": bodies[1]} if len(bodies) > 1 else {}),
    }
    result = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "-s", script.name, BASE + path],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    os.unlink(script.name)
    stats = json.loads(result.stdout.split("JSON", 1)[1])
    stats["rps"] = stats["requests"] / stats["seconds"]
    return stats


STATE = re.compile(r'name="state" value="([^"]*)"')


def save_bodies(session: Session, page: str) -> tuple[str, str]:
    """Two saves of the page that undo each other (one figure, 1,200 and 1,300), each with
    the page's signed state of the value the other one writes as its base, as a browser
    sends it: under load every save is a real one (a 303), and it writes its figure
    whenever the other one wrote last. A save with no base, or a stale one, would be a
    clash: the page shown again with both values, not a save."""
    fields = {"provision": "yes", "channels": ["WEB", "PHONE"], "end_to_end": "no",
              "figure_PHONE": "340"}  # fmt: skip
    states = {}
    for value in ("1,200", "1,300"):
        base = STATE.search(session.get(page)).group(1)
        assert session.post(page, {**fields, "figure_WEB": value, "state": base}) == 303, value
        states[value] = STATE.search(session.get(page)).group(1)
    token = session.csrf
    return tuple(
        urllib.parse.urlencode(
            {**fields, "figure_WEB": value, "state": states[base], "csrfmiddlewaretoken": token},
            doseq=True,
        )
        for value, base in (("1,300", "1,200"), ("1,200", "1,300"))
    )


def changes_recorded() -> int:
    """Rows of the answers' change history: one per figure a save wrote."""
    import psycopg

    with psycopg.connect(ENV["DATABASE_URL"]) as connection:
        return connection.execute("SELECT count(*) FROM surveys_changerecord").fetchone()[0]


def start_server(port: int, workers: int = 2, *options: str) -> subprocess.Popen:
    """gunicorn (2 workers unless told, and any further options) on ENV's database and
    Redis, once it answers /healthz."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "survey_site.wsgi:application",
         "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", *options],
        cwd=ROOT, env=ENV,
    )  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    return server


def table(results: dict[str, dict], baseline: float | None = None) -> None:
    """Each case's throughput, latency and ratios to the bare page (when given) and to the
    admin login form of the same run."""
    form_baseline = results["baseline: admin login form"]["rps"]
    print(f"{'case':34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'vs page':>8} {'vs form':>8} {'errors':>7}")  # fmt: skip
    for name, stats in results.items():
        page = f"{stats['rps'] / baseline:8.0%}" if baseline else f"{'':8}"
        print(f"{name:34} {stats['rps']:8.1f} {stats['p50']:8.1f} {stats['p95']:8.1f} "
              f"{stats['p99']:8.1f} {page} "
              f"{stats['rps'] / form_baseline:8.0%} {stats['errors']:7d}")  # fmt: skip


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (make bench does it)")
    print("Setting up: PostgreSQL database, 365 councils, 353 council links ...", flush=True)
    reset_database()
    reset_redis()
    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput")
    links = json.loads(shell(SETUP))
    sql = json.loads(shell(SQL_COUNT))
    server = start_server(PORT)
    try:
        session = Session()
        link_path = urllib.parse.urlsplit(links["E06000001"]).path
        session.get(link_path)
        assert session.post(link_path, {}) == 303, "could not open the council link"
        page = "/survey/transactions/pay-council-tax/"
        session.get(page)

        # Whole questionnaire: 22 transaction pages saved one after another.
        session.get("/survey/")
        slugs = re.findall(r'href="/survey/transactions/([a-z0-9-]+)/"', session.get("/survey/"))
        started = time.perf_counter()
        for number, slug in enumerate(slugs, start=1):
            status = session.post(
                f"/survey/transactions/{slug}/",
                {"provision": "yes", "channels": ["WEB", "PHONE", "F2F"], "end_to_end": "partly",
                 "figure_WEB": f"{1000 + number:,}", "figure_PHONE": "400",
                 "not_recorded_F2F": "on", "state": ""},
            )  # fmt: skip
            assert status == 303, (slug, status)
        whole = time.perf_counter() - started

        bodies = save_bodies(session, page)
        written = changes_recorded()
        print(
            f"Load: {CONNECTIONS} connections, {DURATION} per case, gunicorn 2 workers", flush=True
        )
        results = {
            "bare Django response (/healthz)": wrk("/healthz", session),
            "baseline: bare Django page": wrk("/", session),
            "baseline: admin login form": wrk("/admin/login/", session),
            "transaction page view": wrk(page, session),
            "transaction page save": wrk(page, session, "POST", bodies, status=303),
        }
        written = changes_recorded() - written
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    again = {}
    settings = []
    if THREADS:
        # The form cases again on threaded workers: a thread waiting for the database
        # leaves the worker's CPU to another request.
        settings.append((f"2 workers x {THREADS} threads (gthread)",
                         (2, "--worker-class", "gthread", "--threads", str(THREADS))))  # fmt: skip
    if WORKERS:
        settings.append((f"{WORKERS} sync workers", (WORKERS,)))
    for label, options in settings:
        server = start_server(PORT, *options)
        try:
            again[label] = {
                "baseline: admin login form": wrk("/admin/login/", session),
                "transaction page view": wrk(page, session),
                "transaction page save": wrk(page, session, "POST", bodies, status=303),
            }
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

    print()
    table(results, results["baseline: bare Django page"]["rps"])
    for label, cases in again.items():
        print(f"\nThe same on gunicorn {label}:")
        table(cases)
    print()
    for label, (view, save) in sql.items():
        print(f"SQL statements per request ({label}, 22 transactions x 10 channels): "
              f"view {view}, save {save}")  # fmt: skip
    saves = results["transaction page save"]
    print(
        f"Saves under load: {saves['requests']:,}, {saves['errors']:,} of them not a 303; "
        f"{written:,} wrote the figure, the others found the value already there (the two "
        "saves undo each other)"
    )
    print(
        f"Whole questionnaire: 22 transaction pages saved in {whole:.2f} s "
        "(sequential, loopback, client-measured)"
    )
    print(
        "Targets: view >= 50% and save >= 40% of the admin login form, p95 < 100 ms, "
        "SQL constant, whole < 2 s"
    )


if __name__ == "__main__":
    main()
