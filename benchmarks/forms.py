"""What the load benchmarks share about the respondent's pages: where they are, what a
simulated person types, and how a page's form and first error are read from its HTML.
No load-testing library here: benchmarks.locustfile (locust) and benchmarks.deadline_day
(aiohttp) both use it."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

TASK_LIST = "/survey/"
CHECK = "/survey/check/"
CONFIRMATION = "/survey/confirmation/"
TASK_LINK = re.compile(r'class="govuk-link govuk-task-list__link" href="(/survey/[^"]+)"')
TRANSACTION = re.compile(r"^/survey/transactions/[a-z0-9-]+/$")
READY_TO_SUBMIT = "Now submit your response"

# Values typed into the questions pages; every other radio group gets its first option
# and every other text field is left as the page shows it.
ANSWERS = {
    "respondent-name": "Pat Example",
    "respondent-job-title": "Head of Customer Services",
    "respondent-email": "pat.example@council.example",
    "respondent-phone": "01632 960 001",
    "figures-source": "mixed",
    "unit-cost-f2f": "8.62",
    "unit-cost-phone": "2.83",
    "unit-cost-web": "0.15",
    "platform-crm-supplier": "Example CRM",
    "digital-lead": "yes",
    "digital-strategy": "in-development",
    "staff-skills-confidence": "3",
    "member-skills-confidence": "2",
    "biggest-barrier": "Systems that cannot share data",
}


class PageForm(HTMLParser):
    """The fields of the page's own form (the one without an action attribute, not the
    sign-out form): the values a browser would send untouched, and the radio options."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.inside = False
        self.textarea: str | None = None
        self.values: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        name, value = attributes.get("name"), attributes.get("value") or ""
        if tag == "form":
            self.inside = "action" not in attributes
        elif not self.inside or not name:
            return
        elif tag == "textarea":
            self.textarea, self.values[name] = name, ""
        elif tag == "input" and attributes.get("type") == "radio":
            self.radios.setdefault(name, []).append(value)
            if "checked" in attributes:
                self.values[name] = value
        elif tag == "input" and (attributes.get("type") != "checkbox" or "checked" in attributes):
            self.values[name] = value

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea] += data.removeprefix("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None

    def answered(self) -> dict[str, str | list[str]]:
        """The form as a respondent who answers every question sends it."""
        fields: dict[str, str | list[str]] = dict(self.values)
        for name, options in self.radios.items():
            fields.setdefault(name, ANSWERS.get(name, options[0]))
        for name, value in ANSWERS.items():
            if fields.get(name) == "":
                fields[name] = value
        return fields | {"action": "continue"}


def first_problem(page: str) -> str:
    """The first error (or missing answer) a page shows, else its title."""
    for pattern in (
        r'govuk-error-summary__list">\s*<li>(.*?)</li>',
        r"Answer these before you submit:</p>\s*<ul[^>]*>\s*<li>(.*?)</li>",
        r"<title>(.*?)</title>",
    ):
        found = re.search(pattern, page, re.DOTALL)
        if found:
            return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())
    return "no message on the page"


def scrub(text: str) -> str:
    """An error message without the access token a link's URL carries."""
    return re.sub(r"/s/[^\s'\"]+", "/s/[token]", text)
