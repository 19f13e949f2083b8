"""Deadline day on one small box: every council of the 2015 round at work in one hour.

All 353 councils of the 2015 round (`--councils` for fewer) are invited and start within
the first 55% of a simulated hour (`--window`, minutes), each with its link holder and up
to three contributors (three, or two for every tenth council: about 1,400 people). Each
person keeps a session as a browser does (cookies, the CSRF token of the page's form):

- the link holder opens the council's link (start page, Continue), reads the task list,
  answers "About this response" and, once every colleague has finished, opens the link
  again, checks the answers and submits, and reads the confirmation;
- one contributor answers the 22 transaction pages (10 channels each): each page viewed,
  autosaved twice as the person types (the JSON endpoint static/js/autosave.js posts to,
  `action=autosave`, carrying on with the signed state each reply returns), then saved
  with "Save and continue", following the redirect as a browser does. For a third of the
  councils this contributor instead downloads the spreadsheet template, fills it in
  (openpyxl), uploads it and confirms the preview;
- the other contributors answer the other sections' pages the same way (view, autosave
  with the last text half typed, save).

Think times are those of people typing figures (10-40 s before the first autosave, 5-20 s
before the second, 1-5 s before saving), divided by the speed-up: `--minutes 10` plays
the simulated hour in 10 real minutes, so the request rate is 6 times the real hour's.

At the same time a 2-process Celery worker sends a reminder to every council (at 10% of
the window, `send_reminders`' service: they were invited 8 days before) and everything
the journeys queue (contributors' section-complete emails, submission copies) to a local
SMTP server (aiosmtpd, in this process), and rebuilds a release over and over: the
previous round's (353 synthetic submitted responses, reporting.services.responses_generate)
requested through the worker again as soon as each build ends, or (``--rebuild-every``)
one build started every so many simulated minutes. The app is served by
gunicorn with 2 workers, then again (fresh database) with 4 (`--workers 2,4`).

Prints the input sizes; per request kind: count, failures, throughput, p50/p95/p99/max
latency (client-measured, every sample); the targets (0 failed requests, p99 < 500 ms for
page views and saves, no lost or duplicated answer: the database compared with what the
simulated people typed, every submission, reminder and email exactly once); the worker's
work (reminders, release rebuilds); and what the box ran short of: CPU per process group
sampled every second from /proc, PostgreSQL connections and lock waits from
pg_stat_activity and pg_locks, the load generator's own event-loop lag, with a diagnosis.
No token is printed: links appear as /s/[token]. Exits 1 when an answer was lost or
duplicated, an email not sent exactly once, or the simulation itself failed; a missed
latency target or a failed request is printed as such (a finding, not a crash).

    python -m benchmarks.deadline_day [--councils 353] [--minutes 60] [--workers 2,4]

BENCH_DEADLINE_DATABASE_URL (dropped and created: a database of its own),
BENCH_DEADLINE_REDIS_URL (that database and the next are flushed), BENCH_DEADLINE_PORT and
BENCH_DEADLINE_SMTP_PORT say where.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import html
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy

from benchmarks import journey
from benchmarks.forms import (
    ANSWERS,
    CHECK,
    CONFIRMATION,
    READY_TO_SUBMIT,
    TASK_LINK,
    TASK_LIST,
    TRANSACTION,
    PageForm,
    first_problem,
    scrub,
)

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_DEADLINE_PORT", "8767"))
SMTP_PORT = int(os.environ.get("BENCH_DEADLINE_SMTP_PORT", "8768"))
DATABASE_URL = os.environ.get(
    "BENCH_DEADLINE_DATABASE_URL",
    journey.ENV["DATABASE_URL"].rsplit("/", 1)[0] + "/survey_bench_deadline",
)
REDIS_URL = os.environ.get("BENCH_DEADLINE_REDIS_URL", "redis://127.0.0.1:6379/10")
TARGET_P99_MS = 500
START_SPREAD = 0.55  # councils start within this share of the window
REMINDERS_AT = 0.10  # share of the window
CONTRIBUTOR_LAG = (0, 300)  # simulated seconds after the council's link holder
SECTIONS_BY_CONTRIBUTORS = {
    3: [["transactions"], ["costs", "complex-services"], ["platforms", "capability"]],
    2: [["transactions"], ["costs", "complex-services", "platforms", "capability"]],
    1: [["transactions", "costs", "complex-services", "platforms", "capability"]],
    0: [],
}
ALL_SECTIONS = ["about", "transactions", "costs", "complex-services", "platforms", "capability"]
TEXT_KINDS = ("text", "textarea", "email")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_VIEWS = "page views"
SAVES = "saves"
# Request kinds, in the table's order, with the target group each belongs to.
KINDS = {
    "GET start page (link)": PAGE_VIEWS,
    "POST continue (link)": "other",
    "GET task list": PAGE_VIEWS,
    "GET transaction page": PAGE_VIEWS,
    "POST transaction autosave": SAVES,
    "POST transaction save": SAVES,
    "GET questions page": PAGE_VIEWS,
    "POST questions autosave": SAVES,
    "POST questions save": SAVES,
    "GET spreadsheet page": PAGE_VIEWS,
    "GET spreadsheet download": "other",
    "POST spreadsheet upload": "other",
    "POST spreadsheet confirm": SAVES,
    "GET check answers": PAGE_VIEWS,
    "POST submit": SAVES,
    "GET confirmation": PAGE_VIEWS,
}


def field_value(page: str, name: str) -> str:
    """A hidden input's value, whatever the order of its attributes."""
    for pattern in (
        rf'name="{name}"[^>]*?value="([^"]*)"',
        rf'value="([^"]*)"[^>]*?name="{name}"',
    ):
        found = re.search(pattern, page)
        if found:
            return html.unescape(found.group(1))
    return ""


# --- What the simulated people type -------------------------------------------------


def transaction_typed(council: int, number: int) -> dict:
    """The answer council `council` gives for transaction `number`: three channels, one
    figure "not recorded" or an estimate; no channel 100 times another (nothing to confirm)."""
    f2f_not_recorded = (council + number) % 2 == 0
    return {
        "provision": "yes",
        "channels": ["F2F", "PHONE", "WEB"],
        "end_to_end": "partly",
        "WEB": (1000 + 7 * council + number, False, False),
        "PHONE": (600 + 3 * council + number, False, False),
        "F2F": (None, True, False) if f2f_not_recorded else (300 + council + number, False, True),
    }


def transaction_fields(typed: dict, *, partial: bool = False) -> dict:
    fields: dict[str, str | list[str]] = {
        "provision": typed["provision"],
        "channels": typed["channels"],
        "end_to_end": typed["end_to_end"],
    }
    for code in typed["channels"]:
        value, not_recorded, estimate = typed[code]
        if not_recorded:
            fields[f"not_recorded_{code}"] = "on"
        else:
            text = f"{value:,}"
            # Half typed: what an autosave after a typing pause sends.
            fields[f"figure_{code}"] = text[: len(text) // 2] if partial else text
            if estimate:
                fields[f"estimate_{code}"] = "on"
    return fields


def question_typed(council: int, slug: str, kind: str) -> str:
    if kind == "email":
        return f"officer.{council}@council.example"
    base = ANSWERS.get(slug, slug.replace("-", " ").capitalize())
    return f"{base} (council {council})"


# --- Measurements -------------------------------------------------------------------


@dataclass
class Recorder:
    started: float = field(default_factory=time.monotonic)
    samples: list[tuple[str, float, bool, float]] = field(default_factory=list)
    problems: Counter = field(default_factory=Counter)
    bugs: Counter = field(default_factory=Counter)

    def add(self, kind: str, ms: float, problem: str | None) -> None:
        self.samples.append((kind, ms, problem is not None, time.monotonic() - self.started))
        if problem:
            self.problems[f"{kind}: {scrub(problem)}"] += 1


class JourneyFailed(Exception):
    """A request failed (recorded as such): this person's journey cannot go on."""


class Browser:
    """One person's browser: their own cookie jar (session, CSRF cookie) and requests
    that do not follow redirects by themselves, so that each is timed on its own."""

    def __init__(self, connector: aiohttp.BaseConnector, recorder: Recorder) -> None:
        base = f"http://127.0.0.1:{PORT}"
        # Production cookies are Secure (__Host-): plain HTTP on loopback must send them.
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[base])
        self.session = aiohttp.ClientSession(
            base_url=base,
            connector=connector,
            connector_owner=False,
            cookie_jar=jar,
            timeout=aiohttp.ClientTimeout(total=120),
        )
        self.recorder = recorder

    async def close(self) -> None:
        await self.session.close()

    async def send(
        self,
        kind: str,
        method: str,
        path: str,
        expect: int,
        *,
        data=None,
        headers: dict | None = None,
        must_show: str | None = None,
    ) -> tuple[bytes, str | None]:
        started = time.perf_counter()
        try:
            async with self.session.request(
                method, path, data=data, headers=headers, allow_redirects=False
            ) as reply:
                body = await reply.read()
                status, location = reply.status, reply.headers.get("Location")
        except (aiohttp.ClientError, TimeoutError) as error:
            ms = (time.perf_counter() - started) * 1000
            problem = f"no reply: {type(error).__name__} {error}"
            self.recorder.add(kind, ms, problem)
            raise JourneyFailed(problem) from None
        ms = (time.perf_counter() - started) * 1000
        problem = None
        if status != expect:
            text = body.decode(errors="replace")
            problem = f"{status} instead of {expect}: {first_problem(text)}"
        elif must_show and must_show.encode() not in body:
            problem = f"page without {must_show!r}: {first_problem(body.decode(errors='replace'))}"
        self.recorder.add(kind, ms, problem)
        if problem:
            raise JourneyFailed(problem)
        return body, location

    async def page(self, kind: str, path: str, must_show: str | None = None) -> str:
        body, _ = await self.send(kind, "GET", path, 200, must_show=must_show)
        return body.decode()

    async def save(self, kind: str, path: str, fields: dict) -> str:
        """A form posted with Save and continue: the 303's target."""
        _, location = await self.send(kind, "POST", path, 303, data=multi(fields))
        return location or TASK_LIST

    async def autosave(self, kind: str, path: str, fields: dict, csrf: str) -> str:
        """What autosave.js posts: the form with action=autosave, the token in a header.
        The reply's new state, which the next save must carry."""
        body, _ = await self.send(
            kind,
            "POST",
            path,
            200,
            data=multi({**fields, "action": "autosave"}),
            headers={"Accept": "application/json", "X-CSRFToken": csrf},
        )
        reply = json.loads(body)
        if not reply.get("saved") or reply.get("conflicts"):
            problem = f"autosave reply {reply.get('saved')=}, {reply.get('conflicts')=}"
            self.recorder.problems[f"{kind}: {problem}"] += 1
            raise JourneyFailed(problem)
        return reply["state"]

    async def open_link(self, link: str) -> str:
        landing = await self.page("GET start page (link)", link)
        fields = {"csrfmiddlewaretoken": field_value(landing, "csrfmiddlewaretoken")}
        location = await self.save("POST continue (link)", link, fields)
        return await self.page("GET task list", location)


def multi(fields: dict) -> list[tuple[str, str]]:
    """Form fields as a browser sends them: a list value is the same name repeated."""
    pairs = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, item))
    return pairs


@dataclass
class Council:
    index: int
    gss: str
    link: str
    contributors: list[tuple[str, list[str]]]  # link path, section slugs
    holder_sections: list[str]
    spreadsheet: bool
    start: float  # simulated seconds
    contributor_starts: list[float]


@dataclass
class Run:
    """What the simulation shares: the plan, what was typed, and how journeys ended."""

    speed: float
    recorder: Recorder
    numbers: dict[str, int]  # transaction slug -> number
    question_kinds: dict[str, str]  # text-like question slug -> kind
    channel_names: dict[str, str]
    typed_transactions: dict[tuple[str, str], dict] = field(default_factory=dict)
    typed_answers: dict[tuple[str, str], str] = field(default_factory=dict)
    journeys: Counter = field(default_factory=Counter)
    submitted: set[str] = field(default_factory=set)  # the confirmation was shown
    submit_sent: set[str] = field(default_factory=set)  # the submit was posted
    people_active: int = 0
    form_cache: dict[str, dict] = field(default_factory=dict)

    async def think(self, rng: random.Random, low: float, high: float) -> None:
        await asyncio.sleep(rng.uniform(low, high) / self.speed)

    async def at(self, simulated: float) -> None:
        delay = simulated / self.speed - (time.monotonic() - self.recorder.started)
        if delay > 0:
            await asyncio.sleep(delay)


async def transaction_pages(run: Run, browser: Browser, council: Council, task_list: str, rng):
    paths = [p for p in TASK_LINK.findall(task_list) if TRANSACTION.match(p)]
    path = paths[0] if paths else None
    page = await browser.page("GET transaction page", path) if path else ""
    while path and TRANSACTION.match(path):
        slug = path.rstrip("/").rsplit("/", 1)[1]
        typed = transaction_typed(council.index, run.numbers[slug])
        csrf = field_value(page, "csrfmiddlewaretoken")
        state = field_value(page, "state")
        base = {"csrfmiddlewaretoken": csrf}
        await run.think(rng, 10, 40)
        fields = transaction_fields(typed, partial=True)
        state = await browser.autosave(
            "POST transaction autosave", path, base | fields | {"state": state}, csrf
        )
        await run.think(rng, 5, 20)
        fields = transaction_fields(typed)
        state = await browser.autosave(
            "POST transaction autosave", path, base | fields | {"state": state}, csrf
        )
        await run.think(rng, 1, 5)
        location = await browser.save(
            "POST transaction save",
            path,
            base | fields | {"state": state, "action": "continue"},
        )
        run.typed_transactions[(council.gss, slug)] = typed
        if TRANSACTION.match(location):
            page = await browser.page("GET transaction page", location)
        path = location
    await browser.page("GET task list", TASK_LIST)


async def spreadsheet_upload(run: Run, browser: Browser, council: Council, rng) -> None:
    from openpyxl import load_workbook

    page = await browser.page("GET spreadsheet page", "/survey/spreadsheet/")
    raw, _ = await browser.send(
        "GET spreadsheet download", "GET", "/survey/spreadsheet/download/", 200
    )
    await run.think(rng, 300, 900)  # filling the figures in, in Excel
    book = load_workbook(io.BytesIO(raw))
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    codes = {name: code for code, name in run.channel_names.items()}
    planned = {}
    for row in sheet.iter_rows(min_row=2, max_row=len(run.numbers) + 1):
        number = int(row[0].value)
        typed = transaction_typed(council.index, number)
        row[2].value, row[3].value = "Yes", "Partly"
        for cell, name in zip(row[4:], header[4:], strict=False):
            code = codes.get(name)
            if code not in typed["channels"]:
                cell.value = None
                continue
            value, not_recorded, estimate = typed[code]
            cell.value = "Not recorded" if not_recorded else (
                f"{value} (estimate)" if estimate else value
            )  # fmt: skip
        planned[number] = typed
    out = io.BytesIO()
    book.save(out)
    upload = aiohttp.FormData()
    upload.add_field("csrfmiddlewaretoken", field_value(page, "csrfmiddlewaretoken"))
    upload.add_field("action", "upload")
    upload.add_field("spreadsheet", out.getvalue(), filename="figures.xlsx", content_type=XLSX)
    body, _ = await browser.send(
        "POST spreadsheet upload", "POST", "/survey/spreadsheet/", 200,
        data=upload, must_show="Save these changes",
    )  # fmt: skip
    preview = body.decode()
    await run.think(rng, 20, 60)  # reading the list of changes
    fields = {
        "csrfmiddlewaretoken": field_value(preview, "csrfmiddlewaretoken"),
        "action": "confirm",
    }
    location = await browser.save("POST spreadsheet confirm", "/survey/spreadsheet/", fields)
    by_number = {number: slug for slug, number in run.numbers.items()}
    for number, typed in planned.items():
        run.typed_transactions[(council.gss, by_number[number])] = typed
    task_list = await browser.page("GET task list", location)
    # A look at two of the pages the upload filled in.
    for path in [p for p in TASK_LINK.findall(task_list) if TRANSACTION.match(p)][:2]:
        await run.think(rng, 5, 20)
        await browser.page("GET transaction page", path)


def answered(run: Run, path: str, page: str, council: int) -> dict:
    """The questions page's form as this council's person fills it in. The form's
    layout is read once per page (the same for every council), its token each time."""
    if path not in run.form_cache:
        run.form_cache[path] = PageForm(page).answered()
    fields = dict(run.form_cache[path])
    for name in fields:
        if name in run.question_kinds:
            fields[name] = question_typed(council, name, run.question_kinds[name])
    fields["csrfmiddlewaretoken"] = field_value(page, "csrfmiddlewaretoken")
    fields["state"] = field_value(page, "state")
    return fields


async def question_pages(run, browser, council: Council, task_list: str, sections, rng) -> None:
    for section in sections:
        paths = [p for p in TASK_LINK.findall(task_list) if p.startswith(f"/survey/{section}/")]
        path = paths[0] if paths else None
        page = await browser.page("GET questions page", path) if path else ""
        while path and path.startswith(f"/survey/{section}/"):
            fields = answered(run, path, page, council.index)
            texts = [name for name in fields if name in run.question_kinds]
            await run.think(rng, 10, 40)
            partial = dict(fields)
            if texts:  # the last text half typed when the person paused
                partial[texts[-1]] = fields[texts[-1]][: len(fields[texts[-1]]) // 2]
            fields["state"] = await browser.autosave(
                "POST questions autosave", path, partial, fields["csrfmiddlewaretoken"]
            )
            await run.think(rng, 1, 5)
            location = await browser.save("POST questions save", path, fields)
            for name in texts:
                run.typed_answers[(council.gss, name)] = fields[name]
            if location.startswith(f"/survey/{section}/"):
                page = await browser.page("GET questions page", location)
            path = location
        task_list = await browser.page("GET task list", TASK_LIST)


async def person(run, connector, council: Council, role: str, link: str, sections, start):
    """One person's day: True when they have done their part."""
    rng = random.Random(f"{council.gss}:{role}")
    await run.at(start)
    browser = Browser(connector, run.recorder)
    run.people_active += 1
    try:
        task_list = await browser.open_link(link)
        if "transactions" in sections:
            if council.spreadsheet:
                await spreadsheet_upload(run, browser, council, rng)
            else:
                await transaction_pages(run, browser, council, task_list, rng)
        others = [s for s in sections if s != "transactions"]
        await question_pages(run, browser, council, task_list, others, rng)
        run.journeys[f"{role}: completed"] += 1
        return True
    except JourneyFailed:
        run.journeys[f"{role}: stopped by a failed request"] += 1
        return False
    except Exception as error:  # a bug in the simulation: reported, never hidden
        run.recorder.bugs[f"{type(error).__name__}: {scrub(str(error))}"] += 1
        run.journeys[f"{role}: stopped by an error in the simulation"] += 1
        return False
    finally:
        run.people_active -= 1
        await browser.close()


async def council_day(run: Run, connector, council: Council) -> None:
    colleagues = [
        asyncio.create_task(person(run, connector, council, "contributor", link, sections, start))
        for (link, sections), start in zip(
            council.contributors, council.contributor_starts, strict=True
        )
    ]
    ok = await person(
        run, connector, council, "link holder", council.link, council.holder_sections,
        council.start,
    )  # fmt: skip
    results = await asyncio.gather(*colleagues)
    if not ok or not all(results):
        run.journeys["councils not submitted: a journey failed"] += 1
        return
    rng = random.Random(f"{council.gss}:submit")
    await run.think(rng, 30, 120)
    browser = Browser(connector, run.recorder)
    try:
        await browser.open_link(council.link)  # back from the email, to submit
        check = await browser.page("GET check answers", CHECK, must_show=READY_TO_SUBMIT)
        await run.think(rng, 20, 60)
        fields = PageForm(check).values | {
            "submitted_by": question_typed(council.index, "respondent-name", "text"),
            "declaration": "on",
        }
        run.submit_sent.add(council.gss)
        location = await browser.save("POST submit", CHECK, fields)
        await browser.page("GET confirmation", location or CONFIRMATION, "Response submitted")
        run.submitted.add(council.gss)
        run.journeys["councils submitted"] += 1
    except JourneyFailed:
        run.journeys["councils not submitted: a journey failed"] += 1
    finally:
        await browser.close()


async def loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    """How late the load generator's own event loop wakes up (its CPU is the box's too)."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.1)
        lags.append((time.perf_counter() - before - 0.1) * 1000)


async def simulate(run: Run, councils: list[Council], limit: float, lags: list[float]):
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    stop = asyncio.Event()
    lagging = asyncio.create_task(loop_lag(stop, lags))
    days = [asyncio.create_task(council_day(run, connector, c)) for c in councils]
    _, pending = await asyncio.wait(days, timeout=limit)
    for task in pending:
        task.cancel()
    run.journeys["councils still at work when the time limit ended the run"] += len(pending)
    stop.set()
    await lagging
    await connector.close()


# --- Set-up, through the project's own services ---------------------------------------


def plan_councils(args, links, contributor_links, rng) -> list[Council]:
    window = args.window * 60
    councils = []
    for index, (gss, link) in enumerate(links):
        count = min(args.contributors, 2 if index % 10 == 9 else 3)
        assigned = SECTIONS_BY_CONTRIBUTORS[count]
        taken = {s for sections in assigned for s in sections}
        start = rng.uniform(0, START_SPREAD * window)
        councils.append(
            Council(
                index=index,
                gss=gss,
                link=link,
                contributors=list(zip(contributor_links[gss], assigned, strict=True)),
                holder_sections=[s for s in ALL_SECTIONS if s not in taken],
                spreadsheet=index % 3 == 0 and count > 0,
                start=start,
                contributor_starts=[start + rng.uniform(*CONTRIBUTOR_LAG) for _ in assigned],
            )
        )
    return councils


def path_of(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def set_up(args) -> dict:
    """The round, its councils' links and contributors, the previous round to rebuild.
    Runs in this process, through the services an administrator's actions call."""
    from django.core.management import call_command

    from authorities.choices import LinkKind
    from authorities.models import ENGLAND_2015_DATE, AccessLink, Authority
    from campaigns.services import invitations_send
    from reporting.services import responses_generate
    from surveys.choices import SurveyStatus
    from surveys.contributors import contributor_add, contributor_link
    from surveys.models import Question
    from surveys.questionnaires import questionnaire_load
    from surveys.services import link_url
    from surveys.tests.factories import make_survey

    call_command(
        "import_authorities", ROOT / "fixtures/authorities/england_councils.csv", verbosity=0
    )
    data = json.loads((ROOT / "fixtures/questionnaire-2015.json").read_text())
    questionnaire, _ = questionnaire_load(data=data)
    every = list(Authority.objects.existing_on(ENGLAND_2015_DATE).order_by("gss_code"))
    if args.councils > len(every):
        sys.exit(f"--councils {args.councils}: the 2015 round has {len(every)}")
    chosen = every[:: len(every) // args.councils][: args.councils]
    for authority in chosen:
        authority.chief_executive_name = f"Chief Executive of {authority.short_name}"
        authority.chief_executive_email = f"chief.executive.{authority.code.lower()}@example.org"
    Authority.objects.bulk_update(chosen, ["chief_executive_name", "chief_executive_email"])
    now = datetime.datetime.now(datetime.UTC)
    survey = make_survey(
        questionnaire, slug="deadline", name="Deadline day",
        closes_at=now + datetime.timedelta(hours=12),
    )  # fmt: skip
    survey.chosen_authorities.set(chosen)
    previous = make_survey(
        questionnaire, slug="previous", name="The previous round (rebuilt)",
        opens_at=now - datetime.timedelta(days=400), closes_at=now - datetime.timedelta(days=30),
        status=SurveyStatus.CLOSED,
    )  # fmt: skip
    previous.chosen_authorities.set(every)
    synthetic = responses_generate(survey_id=previous.pk)
    report = invitations_send(survey=survey)
    links, contributor_links = [], {}
    sections = {s.slug: s for s in questionnaire.sections.all()}
    council_links = AccessLink.objects.filter(
        response__survey=survey, kind=LinkKind.COUNCIL, revoked_at__isnull=True
    ).select_related("response__authority")
    for link in sorted(council_links, key=lambda k: k.response.authority.gss_code):
        authority = link.response.authority
        links.append((authority.gss_code, path_of(link_url(link))))
        index = len(links) - 1
        count = min(args.contributors, 2 if index % 10 == 9 else 3)
        contributor_links[authority.gss_code] = []
        for number, slugs in enumerate(SECTIONS_BY_CONTRIBUTORS[count], start=1):
            contributor = contributor_add(
                response=link.response,
                name=f"Officer {number} of {authority.short_name}",
                email=f"officer{number}.{authority.code.lower()}@example.org",
                role="Service manager",
                sections=[sections[s] for s in slugs],
                all_sections=False,
                can_submit=False,
                actor="Chief executive (benchmark set-up)",
            )
            contributor_links[authority.gss_code].append(
                path_of(link_url(contributor_link(contributor=contributor)))
            )
    kinds = dict(
        Question.objects.filter(section__questionnaire=questionnaire).values_list("slug", "kind")
    )
    return {
        "survey": survey,
        "previous": previous,
        "synthetic": synthetic,
        "invitations": report.queued,
        "links": links,
        "contributor_links": contributor_links,
        "numbers": dict(questionnaire.transactions.values_list("slug", "number")),
        "question_kinds": {s: k for s, k in kinds.items() if k in TEXT_KINDS},
        "channel_names": dict(questionnaire.channels.values_list("code", "name")),
    }


def wait_for_outbox(timeout: float) -> int:
    """Seconds until no email is pending (the worker has sent everything queued)."""
    from outbox.models import EmailStatus, OutboundEmail

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not OutboundEmail.objects.filter(status=EmailStatus.PENDING).exists():
            break
        time.sleep(1)
    return OutboundEmail.objects.filter(status=EmailStatus.PENDING).count()


# --- The worker's side: reminders and release rebuilds --------------------------------


@dataclass
class WorkerLog:
    reminders_queued: int = 0
    reminders_seconds: float | None = None
    rebuilds: list[tuple[str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def send_reminders(survey, log: WorkerLog, start_at: float, started: float, stop) -> None:
    from django.db import close_old_connections

    from campaigns.services import reminders_send_now
    from outbox.models import EmailStatus, OutboundEmail

    try:
        if stop.wait(max(0.0, start_at - (time.monotonic() - started))):
            return
        begun = time.monotonic()
        report = reminders_send_now(survey=survey, actor="Benchmark: send reminders now")
        log.reminders_queued = report.queued
        while not stop.is_set():
            pending = OutboundEmail.objects.filter(pk__in=report.email_ids).exclude(
                status=EmailStatus.SENT
            )
            if not pending.exists():
                log.reminders_seconds = time.monotonic() - begun
                break
            time.sleep(0.5)
    except Exception as error:
        log.errors.append(f"reminders: {type(error).__name__}: {error}")
    finally:
        close_old_connections()


def rebuild_releases(previous, log: WorkerLog, stop, every: float = 0.0) -> None:
    """Request the previous round's release through the worker until the journeys are over:
    again as soon as each build has ended, or (``every`` real seconds) at most that often,
    each start that many seconds after the last."""
    from django.db import close_old_connections

    from reporting.models import ReleaseStatus
    from reporting.services import release_request

    try:
        while not stop.is_set():
            begun = time.monotonic()
            release = release_request(survey_id=previous.pk)
            while not stop.wait(0.5):
                release.refresh_from_db()
                if release.status != ReleaseStatus.BUILDING:
                    log.rebuilds.append((release.status, time.monotonic() - begun))
                    break
            if every:
                stop.wait(max(0.0, begun + every - time.monotonic()))
    except Exception as error:
        log.errors.append(f"release rebuild: {type(error).__name__}: {error}")
    finally:
        close_old_connections()


# --- What the box runs short of --------------------------------------------------------


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WEB = "gunicorn (web)"
OTHERS = "everything else (other developers, system)"


def processes() -> dict[int, tuple[str, int, int, int, int]]:
    """pid -> (command, parent, process group, CPU ticks used, nanoseconds spent runnable
    but waiting for a CPU: /proc/PID/schedstat, the scheduler's run-queue delay)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        try:
            with open(f"/proc/{entry}/schedstat") as schedstat:
                waited = int(schedstat.read().split()[1])
        except (OSError, IndexError, ValueError):
            waited = 0
        command = text[text.index("(") + 1 : text.rindex(")")]
        rest = text[text.rindex(")") + 2 :].split()
        ticks = int(rest[11]) + int(rest[12])
        found[int(entry)] = (command, int(rest[1]), int(rest[2]), ticks, waited)
    return found


def machine_ticks() -> tuple[int, int]:
    with open("/proc/stat") as stat:
        numbers = [int(n) for n in stat.readline().split()[1:]]
    idle = numbers[3] + numbers[4]
    return sum(numbers) - idle, sum(numbers)


class Sampler(threading.Thread):
    """Every second: CPU (cores used) per process group, PostgreSQL connections, lock
    waits. Runs beside the simulation."""

    def __init__(self, server_pid: int, worker_pgid: int, database: str) -> None:
        super().__init__(daemon=True)
        self.server_pid, self.worker_pgid, self.database = server_pid, worker_pgid, database
        self.stop = threading.Event()
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.waiting: dict[str, list[float]] = defaultdict(list)  # runnable, no CPU free
        self.pressure: list[float] = []  # /proc/pressure/cpu "some" avg10, percent
        self.busiest_web_worker: list[float] = []
        self.machine: list[float] = []
        self.pg: list[dict] = []
        self.max_connections = 0

    def group(self, pid: int, info, backends: set[int]) -> str:
        command, parent, pgid, *_ = info
        if pid == os.getpid():
            return "load generator (this process)"
        if pid == self.server_pid or parent == self.server_pid:
            return WEB
        if pgid == self.worker_pgid:
            return "celery worker (2 processes)"
        if pid in backends:
            return "postgres: this benchmark's connections"
        if command.startswith("postgres"):
            return "postgres: other (other databases, background)"
        if command.startswith("redis"):
            return "redis (shared)"
        return OTHERS

    def run(self) -> None:
        import psycopg

        with psycopg.connect(DATABASE_URL, autocommit=True) as pg:
            self.max_connections = int(pg.execute("SHOW max_connections").fetchone()[0])
            before, machine_before, clock = processes(), machine_ticks(), time.monotonic()
            while not self.stop.wait(1.0):
                rows = pg.execute(
                    "SELECT pid, state, wait_event_type FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchall()
                waiting_locks = pg.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE NOT l.granted AND a.datname = current_database()"
                ).fetchone()[0]
                every = pg.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0]
                self.pg.append(
                    {
                        "connections": len(rows),
                        "active": sum(state == "active" for _, state, _ in rows),
                        "waiting_on_lock": sum(wait == "Lock" for *_, wait in rows),
                        "locks_not_granted": waiting_locks,
                        "all_databases": every,
                    }
                )
                backends = {pid for pid, *_ in rows}
                now, machine_now, at = processes(), machine_ticks(), time.monotonic()
                seconds = at - clock
                used: Counter[str] = Counter()
                waited: Counter[str] = Counter()
                web_workers = []
                for pid, info in now.items():
                    old = before.get(pid, info)
                    cores = (info[3] - old[3]) / CLOCK_TICKS / seconds
                    name = self.group(pid, info, backends)
                    used[name] += cores
                    waited[name] += (info[4] - old[4]) / 1e9 / seconds
                    if info[1] == self.server_pid:
                        web_workers.append(cores)
                for name in set(used) | set(self.cpu):
                    self.cpu[name].append(used.get(name, 0.0))
                    self.waiting[name].append(waited.get(name, 0.0))
                self.pressure.append(cpu_pressure())
                self.busiest_web_worker.append(max(web_workers, default=0.0))
                busy = machine_now[0] - machine_before[0]
                total = machine_now[1] - machine_before[1]
                self.machine.append(busy / total if total else 0.0)
                before, machine_before, clock = now, machine_now, at


def cpu_pressure() -> float:
    """The share of the last 10 s in which some runnable task waited for a CPU (PSI)."""
    try:
        with open("/proc/pressure/cpu") as pressure:
            return float(pressure.readline().split()[1].split("=")[1])
    except (OSError, IndexError, ValueError):
        return float("nan")


# --- The report --------------------------------------------------------------------


def percentiles(values) -> list[float]:
    if not values:
        return [0.0, 0.0, 0.0, 0.0]
    return [*numpy.percentile(values, (50, 95, 99)), max(values)]


def table(recorder: Recorder, elapsed: float) -> dict[str, dict]:
    """Prints the table by request kind and by target group; returns the groups' figures."""
    by_kind = defaultdict(list)
    for kind, ms, failed, _ in recorder.samples:
        by_kind[kind].append((ms, failed))
    print()
    print(f"{'request kind':28} {'count':>7} {'failed':>6} {'req/s':>7} "
          f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")  # fmt: skip
    groups: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for kind in [*KINDS, *sorted(set(by_kind) - set(KINDS))]:
        samples = by_kind.get(kind)
        if not samples:
            continue
        groups[KINDS.get(kind, "other")].extend(samples)
        groups["all requests"].extend(samples)
        print(line(kind, samples, elapsed))
    print()
    result = {}
    for name in (PAGE_VIEWS, SAVES, "other", "all requests"):
        if groups.get(name):
            print(line(name, groups[name], elapsed))
            p50, p95, p99, _ = percentiles([ms for ms, _ in groups[name]])
            result[name] = {
                "count": len(groups[name]),
                "failed": sum(f for _, f in groups[name]),
                "rate": len(groups[name]) / elapsed,
                "p50": p50,
                "p95": p95,
                "p99": p99,
            }
    return result


def line(label: str, samples, elapsed: float) -> str:
    times = [ms for ms, _ in samples]
    failed = sum(f for _, f in samples)
    p50, p95, p99, most = percentiles(times)
    return (f"{label:28} {len(samples):7d} {failed:6d} {len(samples) / elapsed:7.1f} "
            f"{p50:8.1f} {p95:8.1f} {p99:8.1f} {most:8.1f}")  # fmt: skip


def server_side(access_log: Path, offset: int) -> float:
    """The same requests timed inside gunicorn (from reading the request to writing the
    reply): what the client measured beyond it waited for a free worker or a CPU.
    Returns the seconds the web workers spent on requests, in all."""
    times: dict[str, list[float]] = defaultdict(list)
    with contextlib.suppress(OSError):
        with access_log.open() as lines:
            lines.seek(offset)  # from the start of the simulation: not the start-up probes
            entries = lines.read().splitlines()
        for entry in entries:
            method, _, milliseconds = entry.split()
            times[method].append(float(milliseconds))
        access_log.unlink()
    for method, values in sorted(times.items()):
        p50, p95, p99, most = percentiles(values)
        print(f"{'  in gunicorn: ' + method:28} {len(values):7d} {'':6} {'':7} "
              f"{p50:8.1f} {p95:8.1f} {p99:8.1f} {most:8.1f}")  # fmt: skip
    return sum(sum(values) for values in times.values()) / 1000


def peak_rate(recorder: Recorder, seconds: float = 10.0) -> float:
    buckets = Counter(int(at // seconds) for *_, at in recorder.samples)
    return max(buckets.values(), default=0) / seconds


def verify(run: Run, survey, sink_messages: list[tuple[str, str]]) -> list[str]:
    """`sink_messages`: every message the SMTP server received, set-up included."""
    """The database against what the simulated people typed and did. Returns what is wrong."""
    from django.db.models import Count

    from outbox.models import EmailStatus, OutboundEmail
    from surveys.models import Answer, Figure, Response, TransactionAnswer

    wrong: list[str] = []
    figures = {
        (gss, slug, code): (value, not_recorded, estimate)
        for gss, slug, code, value, not_recorded, estimate in Figure.objects.filter(
            response__survey=survey
        ).values_list(
            "response__authority__gss_code",
            "transaction__slug",
            "channel__code",
            "value",
            "not_recorded",
            "estimate",
        )
    }
    answers = {
        (gss, slug): (provision, sorted(channels or []), end_to_end)
        for gss, slug, provision, channels, end_to_end in TransactionAnswer.objects.filter(
            response__survey=survey
        ).values_list(
            "response__authority__gss_code",
            "transaction__slug",
            "provision",
            "channels_offered",
            "end_to_end",
        )
    }
    lost = 0
    for (gss, slug), typed in run.typed_transactions.items():
        if answers.get((gss, slug)) != (typed["provision"], typed["channels"], typed["end_to_end"]):
            lost += 1
        for code in typed["channels"]:
            if figures.get((gss, slug, code)) != typed[code]:
                lost += 1
    stored_answers = dict(
        (((gss, slug), value))
        for gss, slug, value in Answer.objects.filter(response__survey=survey).values_list(
            "response__authority__gss_code", "question__slug", "value"
        )
    )
    for key, value in run.typed_answers.items():
        if stored_answers.get(key) != value:
            lost += 1
    typed_figures = sum(len(t["channels"]) for t in run.typed_transactions.values())
    print(f"Typed and saved: {len(run.typed_transactions):,} transaction answers with "
          f"{typed_figures:,} figures, {len(run.typed_answers):,} text answers; "
          f"in the database but different or missing: {lost}")  # fmt: skip
    if lost:
        wrong.append(f"{lost} answers lost or different from what was typed")
    duplicates = sum(
        model.objects.filter(response__survey=survey)
        .values(*keys)
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
        for model, keys in (
            (Figure, ("response", "transaction", "channel")),
            (TransactionAnswer, ("response", "transaction")),
            (Answer, ("response", "question")),
        )
    )
    submitted = dict(
        Response.objects.filter(survey=survey, status="submitted").values_list(
            "authority__gss_code", "submission_count"
        )
    )
    twice = sum(count != 1 for count in submitted.values())
    print(f"Answers stored twice: {duplicates}; councils submitted: {len(submitted)} in the "
          f"database, {len(run.submitted)} by the simulation; "
          f"submitted more than once: {twice}")  # fmt: skip
    if duplicates or twice:
        wrong.append(f"{duplicates} answers stored twice, {twice} councils submitted twice")
    # A run cut short by its time limit may stop between a submit and its reply.
    if not run.submitted <= set(submitted) <= run.submit_sent:
        wrong.append("the submitted councils differ from the journeys that submitted")
    emails = OutboundEmail.objects.filter(response__survey=survey)
    by_kind = dict(emails.values_list("kind").annotate(n=Count("pk")).order_by("kind"))
    status = dict(emails.values_list("status").annotate(n=Count("pk")).order_by("status"))
    sent = OutboundEmail.objects.filter(status=EmailStatus.SENT).count()
    per_council_kind = (
        emails.filter(kind__in=["reminder", "submission_copy"])
        .values("response", "kind")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    ids = [message_id for _, message_id in sink_messages]
    print(f"Emails of the round by kind: {by_kind}; by status: {status}")
    print(f"SMTP server received {len(sink_messages):,} messages, {len(set(ids)):,} distinct "
          f"Message-IDs; councils with two reminders or two submission copies: "
          f"{per_council_kind}")  # fmt: skip
    if len(set(ids)) != len(ids) or per_council_kind or sent != len(ids):
        wrong.append(f"emails not exactly once ({sent} sent, {len(ids)} received)")
    return wrong


def diagnose(sampler: Sampler, lags: list[float], workers: int, occupied: float) -> None:
    """`occupied`: the share of the time the web workers were serving a request."""

    def mean(values):
        return sum(values) / len(values) if values else 0.0

    print()
    print(f"Resources, sampled every second (the box has {os.cpu_count()} cores; CPU in cores "
          "used, mean / peak; then processes runnable but waiting for a CPU, mean):")  # fmt: skip
    for name, values in sorted(sampler.cpu.items(), key=lambda kv: -mean(kv[1])):
        print(f"  {name:48} {mean(values):5.2f} / {max(values):5.2f}   waiting "
              f"{mean(sampler.waiting[name]):5.2f}")  # fmt: skip
    busy = sampler.machine
    saturated = sum(b > 0.95 for b in busy) / len(busy) if busy else 0.0
    print(f"  whole machine busy: mean {mean(busy):.0%}, over 95% in {saturated:.0%} of "
          f"seconds; CPU pressure (PSI some avg10) mean {mean(sampler.pressure):.0f}%")  # fmt: skip
    others = mean(sampler.cpu.get(OTHERS, []))
    web_cpu = mean(sampler.cpu.get(WEB, []))
    web_waiting = mean(sampler.waiting.get(WEB, []))
    print(f"  gunicorn's {workers} sync workers serving a request {occupied:.0%} of the time "
          "(from the access log; the rest of the time they were free)")  # fmt: skip
    web = sampler.busiest_web_worker
    print(f"  busiest gunicorn worker: mean {mean(web):.2f} cores, over 0.9 in "
          f"{(sum(w > 0.9 for w in web) / len(web) if web else 0):.0%} of seconds")  # fmt: skip
    pg = sampler.pg
    most = max((p["connections"] for p in pg), default=0)
    every = max((p["all_databases"] for p in pg), default=0)
    waits = [p["locks_not_granted"] for p in pg]
    waiting = sum(w > 0 for w in waits) / len(waits) if waits else 0.0
    print(f"  PostgreSQL connections to this database: peak {most} (active peak "
          f"{max((p['active'] for p in pg), default=0)}); all databases peak {every} of "
          f"max_connections {sampler.max_connections}")  # fmt: skip
    print(f"  lock waits (pg_locks not granted): peak {max(waits, default=0)}, seen in "
          f"{waiting:.0%} of seconds")  # fmt: skip
    lag = percentiles(lags)
    print(f"  load generator's event loop late by p50 {lag[0]:.1f} ms, p99 {lag[2]:.1f} ms, "
          f"max {lag[3]:.1f} ms (a late loop adds to every latency measured)")  # fmt: skip
    print()
    print("What runs out first:")
    findings = []
    if saturated > 0.2 or mean(busy) > 0.85:
        findings.append(
            f"CPU: the machine is busy most of the time; processes outside this benchmark "
            f"used {others:.2f} cores of {os.cpu_count()} on average, the web workers "
            f"{web_cpu:.2f}, and the web workers waited for a CPU {web_waiting:.2f} "
            "core-seconds a second. Fix: a box (or cores) of its own for the web workers; "
            "then cheaper pages (see benchmarks.journey's profile), the release build and "
            "email sending on another machine or outside peak hours."
        )
    if occupied > 0.85:
        findings.append(
            f"gunicorn's {workers} sync workers: serving a request {occupied:.0%} of the time, "
            "so requests queue in the listen backlog for a free worker (the client's times "
            "above against those in gunicorn). A worker's time on a request is its CPU plus "
            "its waits for PostgreSQL, Redis and, on a crowded machine, for a CPU (above). Fix: "
            "more workers while the machine has spare CPU (each costs ~100 MB); otherwise "
            "more CPU, or cheaper requests."
        )
    if sampler.max_connections and every > 0.9 * sampler.max_connections:
        findings.append(
            "PostgreSQL connections: near max_connections. Fix: a pooler (PgBouncer, "
            "transaction mode with prepared statements) or a shorter CONN_MAX_AGE."
        )
    if waiting > 0.05:
        findings.append(
            "locks: sessions wait on locks in over 5% of seconds. Fix: shorter transactions "
            "around the per-response lock (saves), the release build's snapshot outside them."
        )
    if lag[2] > 100:
        findings.append(
            "the load generator: its event loop is late by over 100 ms at p99, so part of "
            "the latency measured is the client's. Fix: run the load from another machine."
        )
    for finding in findings or ["nothing clearly: no resource was saturated in the samples"]:
        print(f"  - {finding}")


def main_one(args) -> int:
    journey.ENV.update(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL)
    speed = args.window / args.minutes
    print(f"Deadline day, gunicorn {args.workers} workers: setting up (PostgreSQL, 365 "
          f"councils, {args.councils} invited, contributors, a previous round) ...",
          flush=True)  # fmt: skip
    journey.reset_database()
    journey.reset_redis()
    journey.manage("migrate", "--noinput")
    journey.manage("collectstatic", "--noinput")
    os.environ.update(journey.ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "survey_site.settings"
    import django

    django.setup()
    from benchmarks.campaign import _sink_class
    from campaigns.tests.worker import CeleryWorker, worker_environment
    from survey_site.celery import app

    sink = _sink_class()()
    sink.port = SMTP_PORT
    sink.controller = type(sink.controller)(sink, hostname="127.0.0.1", port=SMTP_PORT)
    load_before = os.getloadavg()
    with sink:
        env = worker_environment(
            database_url=DATABASE_URL, redis_url=REDIS_URL, smtp_port=SMTP_PORT
        )
        worker = CeleryWorker(
            env, concurrency=2, log=Path(tempfile.gettempdir()) / "deadline-day-worker.log"
        )
        worker.start()
        try:
            return run_day(args, speed, sink, worker, app, load_before)
        finally:
            worker.stop()


def run_day(args, speed, sink, worker, app, load_before) -> int:
    from outbox.models import OutboundEmail
    from surveys.models import EmailKind

    ready_by = time.monotonic() + 60
    while not app.control.ping(timeout=1) and time.monotonic() < ready_by:
        pass
    plan = set_up(args)
    left = wait_for_outbox(600)  # invitations and contributors' emails
    # Invited a week ago: the reminders' minimum gap has passed.
    OutboundEmail.objects.filter(kind=EmailKind.INVITATION).update(
        created_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=8)
    )
    setup_messages = sink.count()
    rng = random.Random(args.seed)
    councils = plan_councils(args, plan["links"], plan["contributor_links"], rng)
    people = sum(1 + len(c.contributors) for c in councils)
    recorder = Recorder()
    run = Run(
        speed=speed, recorder=recorder, numbers=plan["numbers"],
        question_kinds=plan["question_kinds"], channel_names=plan["channel_names"],
    )  # fmt: skip
    print(f"Set-up done: {plan['invitations']} invitations and "
          f"{people - len(councils)} contributors' emails sent ({setup_messages} messages, "
          f"{left} left pending); {plan['synthetic']} synthetic responses in the previous "
          "round", flush=True)  # fmt: skip
    counts = Counter(len(c.contributors) for c in councils)
    print("Input sizes:")
    print(f"  councils {len(councils)} (of the 2015 round's 353), people {people}: "
          f"{len(councils)} link holders and {people - len(councils)} contributors "
          f"(councils by number of contributors: {dict(sorted(counts.items()))})")  # fmt: skip
    print(f"  spreadsheet uploads: {sum(c.spreadsheet for c in councils)} councils; the others "
          f"type 22 transaction pages x 10 channels; 20 questions pages (84 "
          "questions)")  # fmt: skip
    print(f"  window: {args.window} simulated minutes in {args.minutes} real minutes "
          f"(speed-up x{speed:g}: {speed:g} times the request rate of a real hour); councils "
          f"start in the first {START_SPREAD:.0%}")  # fmt: skip
    rebuilds = (
        f"every {args.rebuild_every:g} simulated minutes" if args.rebuild_every else "back to back"
    )
    print(f"  web: gunicorn {args.workers} sync workers; worker: Celery, 2 processes, "
          f"reminders at {REMINDERS_AT:.0%} of the window, release of the previous round "
          f"({plan['synthetic']} responses) rebuilt {rebuilds}")  # fmt: skip
    # Each request's method, status and time in the server (no path: links hold tokens).
    access_log = Path(tempfile.gettempdir()) / f"deadline-day-access-{os.getpid()}.log"
    access_log.unlink(missing_ok=True)
    server = journey.start_server(
        PORT, args.workers, "--access-logfile", str(access_log),
        "--access-logformat", "%(m)s %(s)s %(M)s",
    )  # fmt: skip
    sampler = Sampler(server.pid, worker.process.pid, DATABASE_URL.rsplit("/", 1)[1])
    log = WorkerLog()
    stop = threading.Event()
    lags: list[float] = []
    threads = [
        threading.Thread(
            target=send_reminders,
            args=(
                plan["survey"],
                log,
                REMINDERS_AT * args.window * 60 / speed,
                recorder.started,
                stop,
            ),
        ),
        threading.Thread(
            target=rebuild_releases,
            args=(plan["previous"], log, stop, args.rebuild_every * 60 / speed),
        ),
    ]
    load_start = os.getloadavg()
    access_offset = access_log.stat().st_size if access_log.exists() else 0
    try:
        recorder.started = time.monotonic()
        sampler.start()
        for thread in threads:
            thread.start()
        limit = 2 * args.window * 60 / speed + 300
        asyncio.run(simulate(run, councils, limit, lags))
        elapsed = time.monotonic() - recorder.started
        load_end = os.getloadavg()
    finally:
        stop.set()
        sampler.stop.set()
        for thread in threads:
            thread.join(timeout=120)
        server.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=30)
    left = wait_for_outbox(120)
    time.sleep(2)  # anything sent twice would arrive now
    messages = list(sink.messages)
    print()
    print(f"Ran {elapsed:.0f} s for {len(recorder.samples):,} requests "
          f"({len(recorder.samples) / elapsed:.1f} a second, peak {peak_rate(recorder):.1f} "
          f"over 10 s); load average (1, 5, 15 min) before set-up {fmt(load_before)}, at "
          f"the start {fmt(load_start)}, at the end {fmt(load_end)}")  # fmt: skip
    groups = table(recorder, elapsed)
    busy_seconds = server_side(access_log, access_offset)
    print()
    for outcome, count in sorted(run.journeys.items()):
        print(f"  {outcome}: {count}")
    for problem, count in recorder.problems.most_common(15):
        print(f"  failed {count}x: {problem}")
    for bug, count in recorder.bugs.most_common():
        print(f"  error in the simulation {count}x: {bug}")
    print()
    reminder_time = "not all sent" if log.reminders_seconds is None else (
        f"all sent {log.reminders_seconds:.0f} s after queueing"
    )  # fmt: skip
    builds = Counter(status for status, _ in log.rebuilds)
    seconds = [s for _, s in log.rebuilds]
    print(f"Worker: {log.reminders_queued} reminders queued at {REMINDERS_AT:.0%} of the "
          f"window, {reminder_time}; release rebuilds finished {dict(builds)}, "
          f"{numpy.median(seconds) if seconds else 0:.1f} s median, "
          f"{max(seconds, default=0):.1f} s max; emails still pending at the end: "
          f"{left}")  # fmt: skip
    for error in log.errors:
        print(f"  worker side error: {error}")
    wrong = verify(run, plan["survey"], messages)
    failed = sum(f for _, _, f, _ in recorder.samples)
    missed = []
    if failed:
        missed.append(f"{failed} failed requests")
    for name in (PAGE_VIEWS, SAVES):
        p99 = groups.get(name, {}).get("p99", 0.0)
        if p99 >= TARGET_P99_MS:
            missed.append(f"p99 of {name} {p99:.0f} ms")
    if recorder.bugs or log.errors or run.journeys.get("councils submitted", 0) < len(councils):
        missed.append("not every council submitted")
    missed += wrong
    print()
    print(f"Targets: 0 failed requests, p99 < {TARGET_P99_MS} ms for page views and saves, no "
          "lost or duplicated answer, every council submitted, emails exactly once")  # fmt: skip
    print("Result: " + ("all met" if not missed else "missed: " + "; ".join(missed)))
    diagnose(sampler, lags, args.workers, busy_seconds / (elapsed * args.workers))
    if os.environ.get("BENCH_DEADLINE_SUMMARY"):
        Path(os.environ["BENCH_DEADLINE_SUMMARY"]).write_text(
            json.dumps(
                {
                    "workers": args.workers,
                    "groups": groups,
                    "load": fmt(load_end),
                    "result": "all met" if not missed else "missed: " + "; ".join(missed),
                }
            )
        )
    # A missed latency target is a finding on a shared box; wrong data is a bug.
    return 1 if wrong or recorder.bugs or log.errors else 0


def fmt(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{n:.2f}" for n in load)


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--councils", type=int, default=353, help="of the 2015 round's 353")
    parser.add_argument(
        "--contributors", type=int, default=3, choices=(0, 1, 2, 3),
        help="most contributors per council (every tenth council has at most 2)",
    )  # fmt: skip
    parser.add_argument("--window", type=float, default=60, help="simulated minutes")
    parser.add_argument("--minutes", type=float, help="real minutes to play the window in")
    parser.add_argument("--speed", type=float, help="speed-up (instead of --minutes)")
    parser.add_argument("--workers", default="2,4", help="gunicorn workers, one run each")
    parser.add_argument("--seed", type=int, default=2015, help="start times")
    parser.add_argument(
        "--rebuild-every", type=float, default=0, metavar="MINUTES",
        help="simulated minutes from one release rebuild's start to the next (0: back to back)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.minutes is None:
        args.minutes = args.window / args.speed if args.speed else args.window
    return args


def main() -> None:
    args = arguments()
    workers = [int(n) for n in str(args.workers).split(",")]
    if len(workers) == 1:
        args.workers = workers[0]
        sys.exit(main_one(args))
    # One process per size: each run's Django, database and caches start afresh.
    argv, skip = [], False
    for argument in sys.argv[1:]:
        if not skip and not argument.startswith("--workers"):
            argv.append(argument)
        skip = argument == "--workers"
    codes, summaries = [], []
    for number in workers:
        with tempfile.NamedTemporaryFile(suffix=".json") as summary:
            codes.append(
                subprocess.run(
                    [sys.executable, "-m", "benchmarks.deadline_day", *argv,
                     f"--workers={number}"],
                    cwd=ROOT, env={**os.environ, "BENCH_DEADLINE_SUMMARY": summary.name},
                ).returncode
            )  # fmt: skip
            text = Path(summary.name).read_text()
            summaries.append(json.loads(text) if text else {"workers": number})
    compare(summaries)
    sys.exit(max(codes))


def compare(summaries: list[dict]) -> None:
    """The runs side by side: what changes with the number of web workers."""
    print()
    print(f"{'gunicorn workers':18} {'group':12} {'count':>7} {'failed':>6} {'req/s':>7} "
          f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  load at end / result")  # fmt: skip
    for summary in summaries:
        groups = summary.get("groups", {})
        if not groups:
            print(f"{summary['workers']:<18} (the run did not finish)")
        for name in (PAGE_VIEWS, SAVES):
            if name in groups:
                g = groups[name]
                note = summary["load"] if name == PAGE_VIEWS else summary["result"]
                print(f"{summary['workers']:<18} {name:12} {g['count']:7d} {g['failed']:6d} "
                      f"{g['rate']:7.1f} {g['p50']:8.1f} {g['p95']:8.1f} {g['p99']:8.1f}  "
                      f"{note}")  # fmt: skip


if __name__ == "__main__":
    main()
