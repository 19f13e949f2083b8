"""Every page type's HTML passes the Nu HTML checker (vnu.jar; `make test` installs it)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from surveys.contributors import contributor_add, contributor_link
from surveys.services import link_issue, link_url
from surveys.tests.factories import fill_everything, open_link, token_path
from surveys.tests.test_spreadsheet import download, upload, with_a_problem_in_every_cell
from tests.html import html_problems


def collect_pages(response) -> dict[str, bytes]:
    pages: dict[str, bytes] = {}
    visitor = Client()
    pages["home"] = visitor.get("/").content
    pages["not-found"] = visitor.get("/no-such-page/").content
    pages["link-invalid"] = visitor.get("/s/" + "x" * 43).content
    pages["session-ended"] = visitor.get("/survey/session-ended/").content
    pages["sign-in"] = visitor.get("/sign-in/?next=/reporting/").content
    pages["sign-in-errors"] = visitor.post("/sign-in/", {}).content
    wrong = {"username": "nobody", "password": "wrong"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        pages["sign-in-wrong-details"] = visitor.post("/sign-in/", wrong).content
    pages["sign-in-refused"] = visitor.post("/sign-in/", wrong).content
    path = token_path(link_issue(response=response))
    pages["link-landing"] = visitor.get(path).content
    respondent = Client()
    open_link(respondent, response)
    pages["task-list"] = respondent.get("/survey/").content
    pages["transaction"] = respondent.get("/survey/transactions/pay-council-tax/").content
    pages["transaction-errors"] = respondent.post(
        "/survey/transactions/pay-council-tax/", {"provision": "yes", "figure_WEB": "x"}
    ).content
    pages["questions"] = respondent.get("/survey/about/contact/").content
    respondent.post(
        "/survey/about/contact/",
        {"respondent-name": "Pat", "respondent-email": "nope", "action": "later"},
    )
    pages["saved-for-later"] = respondent.get("/survey/saved/").content
    pages["contributors"] = respondent.get("/survey/contributors/").content
    pages["contributors-errors"] = respondent.post("/survey/contributors/", {}).content
    section = response.survey.questionnaire.sections.get(slug="transactions")
    contributor = contributor_add(
        response=response, name="Sam", email="sam@council.example", role="Revenues",
        sections=[section], all_sections=False, can_submit=False, actor="holder",
    )  # fmt: skip
    pages["contributor-change"] = respondent.get(f"/survey/contributors/{contributor.pk}/").content
    with override_settings(CONTRIBUTORS_MAX=1):  # refused with an error for the whole form
        pages["contributors-limit"] = respondent.post(
            "/survey/contributors/",
            {"name": "Kim", "email": "kim@council.example", "sections": "all"},
        ).content
    assert b"You can have up to 1 contributor at once." in pages["contributors-limit"]
    pages["contributor-remove"] = respondent.get(
        f"/survey/contributors/{contributor.pk}/remove/"
    ).content
    pages["spreadsheet"] = respondent.get("/survey/spreadsheet/").content
    pages["spreadsheet-refused"] = respondent.post(
        "/survey/spreadsheet/", {"action": "upload"}
    ).content
    pages["spreadsheet-problems"] = upload(
        respondent, with_a_problem_in_every_cell(download(respondent))
    ).content
    officer = Client()
    officer_path = re.sub(
        r"^https?://[^/]+", "", link_url(contributor_link(contributor=contributor))
    )
    officer.get(officer_path)
    officer.post(officer_path)
    pages["not-assigned"] = officer.get("/survey/about/contact/").content
    respondent.post(
        "/survey/transactions/pay-council-tax/",
        {"provision": "yes", "channels": ["WEB"], "end_to_end": "no", "figure_WEB": "5"},
    )
    pages["transaction-with-history"] = respondent.get(
        "/survey/transactions/pay-council-tax/"
    ).content
    pages["questions-errors"] = respondent.post("/survey/about/period/", {}).content
    pages["check-incomplete"] = respondent.get("/survey/check/").content
    fill_everything(response)
    pages["check-complete"] = respondent.get("/survey/check/").content
    respondent.post("/survey/check/", {"submitted_by": "Pat", "declaration": "on"})
    pages["confirmation"] = respondent.get("/survey/confirmation/").content
    pages["link-landing-submitted"] = visitor.get(path).content
    pages["reopen-refused"] = officer.post("/survey/reopen/").content
    respondent.post("/survey/sign-out/")
    pages["signed-out"] = respondent.get("/survey/signed-out/").content
    return pages


@pytest.mark.django_db
def test_every_page_type_is_valid_html(response, tmp_path: Path, settings):
    settings.DEBUG = False
    for name, html in collect_pages(response).items():
        assert html.startswith(b"<!DOCTYPE html>"), name
        (tmp_path / f"{name}.html").write_bytes(html)
    problems = html_problems(tmp_path)
    assert problems == [], "\n".join(problems)
