"""A council respondent's whole journey, for the load benchmark in benchmarks.journey_load.

Each simulated user takes one council link from JOURNEYS.links and answers the whole
questionnaire through the web forms: opens the link (GET, then Continue), reads the task
list, saves every page on it in order (22 transaction pages and the questions pages),
checks the answers and submits, then reads the confirmation page. It waits 1 to 2 s
(uniform) before every request but its first, and does one journey.

A reply with any status but the expected one (a 200 where a 303 is expected is a
validation error) is a failure, described by the page's first error message; the user
then stops, since the pages after it could not be answered. Run it through
`python -m benchmarks.journey_load`, which sets Respondent.host and JOURNEYS.links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from locust import HttpUser, between, task
from locust.exception import StopUser

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


@dataclass
class Journeys:
    """What the users share: the links not yet taken, and how their journeys went."""

    links: list[str] = field(default_factory=list)
    started: int = 0
    completed: int = 0
    ended: int = 0


JOURNEYS = Journeys()


class JourneyFailed(Exception):
    """A request failed (and was reported to locust as such): the journey cannot go on."""


class Respondent(HttpUser):
    wait_time = between(1, 2)

    def on_start(self) -> None:
        self.requests_sent = 0

    def send(
        self,
        method: str,
        path: str,
        name: str,
        expect: int,
        data: Mapping[str, str | list[str]] | None = None,
        location: str | None = None,
        must_show: str | None = None,
    ) -> str:
        """One request after the think time; the page, or JourneyFailed if it was not
        the expected status (and redirect, and content)."""
        if self.requests_sent:
            self.wait()
        self.requests_sent += 1
        with self.client.request(
            method, path, name=name, data=data, allow_redirects=False, catch_response=True
        ) as reply:
            self.keep_secure_cookies()
            page = reply.text or ""
            if reply.status_code == 0:
                problem = f"no reply: {scrub(str(reply.error))}"
            elif reply.status_code != expect:
                problem = f"{reply.status_code} instead of {expect}: {first_problem(page)}"
            elif location and reply.headers.get("Location") != location:
                problem = f"redirected to {reply.headers.get('Location')} instead of {location}"
            elif must_show and must_show not in page:
                problem = f"page without {must_show!r}: {first_problem(page)}"
            else:
                reply.success()
                return page
            reply.failure(problem)
        raise JourneyFailed(problem)

    def keep_secure_cookies(self) -> None:
        """Production cookies are Secure (__Host-), and requests only sends them over
        HTTPS: this benchmark speaks plain HTTP on loopback, where TLS would add nothing
        to measure. (A cookie policy does not help: requests copies the cookies into a
        jar of its own for every request.)"""
        for cookie in self.client.cookies:
            cookie.secure = False

    @task
    def journey(self) -> None:
        if not JOURNEYS.links:
            # Locust replaces a user that stops while it is still starting users.
            raise StopUser
        JOURNEYS.started += 1
        try:
            self.answer_everything(JOURNEYS.links.pop())
            JOURNEYS.completed += 1
        except JourneyFailed:
            pass  # already counted as a failed request, with its message
        finally:
            JOURNEYS.ended += 1
        raise StopUser

    def answer_everything(self, link: str) -> None:
        landing = self.send("GET", link, "/s/[token]", 200)
        self.send("POST", link, "/s/[token]", 303, PageForm(landing).values, TASK_LIST)
        tasks = TASK_LINK.findall(self.send("GET", TASK_LIST, TASK_LIST, 200))
        number = 0
        for path in tasks:
            if TRANSACTION.match(path):
                name, number = "/survey/transactions/[slug]/", number + 1
                form = PageForm(self.send("GET", path, name, 200))
                fields: dict[str, str | list[str]] = {
                    "csrfmiddlewaretoken": form.values["csrfmiddlewaretoken"],
                    "state": form.values["state"],
                    "provision": "yes",
                    "channels": ["WEB", "PHONE", "F2F"],
                    "end_to_end": "partly",
                    "figure_WEB": f"{1200 + number:,}",
                    "figure_PHONE": "800",
                    "not_recorded_F2F": "on",
                    "action": "continue",
                }
            else:
                name = "/survey/[section]/[group]/"
                fields = PageForm(self.send("GET", path, name, 200)).answered()
            self.send("POST", path, name, 303, fields)
        check = self.send("GET", CHECK, CHECK, 200, must_show=READY_TO_SUBMIT)
        submission = PageForm(check).values | {
            "submitted_by": ANSWERS["respondent-name"],
            "declaration": "on",
        }
        self.send("POST", CHECK, CHECK, 303, submission, CONFIRMATION)
        self.send("GET", CONFIRMATION, CONFIRMATION, 200, must_show="Response submitted")
