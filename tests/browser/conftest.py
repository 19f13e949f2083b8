from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from reporting.services import release_build
from reporting.tests.factories import SMALL_ROUND, close_round, make_small_round
from surveys.questionnaires import questionnaire_load
from surveys.tests.factories import make_survey
from tests.conftest import CHROMIUM, require

AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe.min.js"
# Chromium as root in a sandboxless container, with no background traffic: the machine
# has no network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator:
    require(os.path.exists(CHROMIUM), "Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; Django must allow ORM use beside it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the current page (WCAG 2.2 A and AA)."""
    # Evaluated over the DevTools protocol, so the page's strict CSP stays in force.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                            'wcag22aa', 'best-practice']}
        })"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sign_in(page, username: str, password: str) -> None:
    """Fill in and send the service's sign-in page, which the browser is on."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def released_round():
    """The 2015 questionnaire's small round, closed, with its release published to analysts."""
    data = json.loads((settings.BASE_DIR / "fixtures" / "questionnaire-2015.json").read_text())
    questionnaire, _ = questionnaire_load(data=data)
    survey = make_survey(questionnaire, name="Channel baseline 2015", slug="baseline-2015")
    make_small_round(survey, SMALL_ROUND)
    close_round(survey)
    assert release_build(survey_id=survey.pk).published_at is not None
    return survey
