"""A council completes the whole survey in a real browser, checked by axe on every page type."""

import json
import os
import re
import time
from importlib import import_module

import pytest
from django.conf import settings

from surveys.choices import ResponseStatus
from surveys.models import Response
from surveys.questionnaires import questionnaire_load
from surveys.respondent import SESSION_KEY
from surveys.services import link_issue
from surveys.tests.factories import make_authority, make_survey, new_response, token_path
from tests.browser.conftest import axe_violations
from tests.html import html_problems

# The autosave status, with the time in GOV.UK style ("Saved at 10:03am").
SAVED_AT = re.compile(r"^Saved at (\d{1,2}(:\d\d)?[ap]m|midday|midnight)$")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def council_response():
    data = json.loads((settings.BASE_DIR / "fixtures" / "questionnaire-2015.json").read_text())
    questionnaire, _ = questionnaire_load(data=data)
    survey = make_survey(questionnaire, name="Channel baseline 2015")
    return new_response(
        survey, make_authority("E06000001", official_name="Hartlepool Borough Council")
    )


def check_accessible(page, seen: set[str], kind: str) -> None:
    """Run axe once per page type; no serious or critical violations."""
    if kind in seen:
        return
    seen.add(kind)
    assert axe_violations(page) == [], kind


def open_survey(page, response, link=None) -> None:
    """Open a council's (or a contributor's) link and continue to the task list."""
    page.goto(token_path(link or link_issue(response=response)))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", level=1).wait_for()


def check_page(page, folder, name: str) -> None:
    """No serious axe violation now; the page's HTML is kept for one vnu run (vnu_clean).

    With SCREENSHOT_DIR set, the page is also photographed 1280 and 375 pixels wide.
    """
    assert axe_violations(page) == [], name
    (folder / f"{name}.html").write_text(page.content(), encoding="utf-8")
    if os.environ.get("SCREENSHOT_DIR"):
        size = page.viewport_size
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 800})
            shot = f"{os.environ['SCREENSHOT_DIR']}/{name}-{width}"
            page.screenshot(path=f"{shot}.png")  # the top of the page
            page.screenshot(path=f"{shot}-full.png", full_page=True)
        page.set_viewport_size(size)


def vnu_clean(folder) -> None:
    problems = html_problems(folder)
    assert problems == [], "\n".join(problems)


def answer_transaction(page, number: int) -> None:
    page.get_by_role("group", name="Does your council provide this?").get_by_label("Yes").check()
    page.get_by_role("checkbox", name="Online self-service", exact=True).check()
    page.get_by_role("checkbox", name="Telephone (agent)", exact=True).check()
    page.get_by_role("group", name=re.compile("end to end online")).get_by_label("Partly").check()
    page.get_by_label("Number of online self-service transactions").fill(f"{1000 + number:,}")
    page.get_by_role("group", name="Telephone (agent)").get_by_label("Not recorded").check()
    page.get_by_role("button", name="Save and continue").click()


def answer_questions(page) -> None:
    """Answer whatever required questions a page of questions shows."""
    for label, value in (
        ("Your full name", "Pat Example"),
        ("Your job title", "Head of Customer Services"),
        ("Your email address", "pat.example@council.example"),
    ):
        field = page.get_by_label(label, exact=True)
        if field.count():
            field.fill(value)
    for group in page.get_by_role("group").all():
        radios = group.get_by_role("radio")
        if radios.count() and not group.locator("input:checked").count():
            radios.first.check()
    page.get_by_role("button", name="Save and continue").click()


def test_council_completes_submits_and_reopens_the_link(page, council_response, tmp_path):
    seen: set[str] = set()
    path = token_path(link_issue(response=council_response))
    page.goto(path)
    assert page.get_by_role("heading", level=1).inner_text() == "Channel baseline 2015"
    check_accessible(page, seen, "landing")
    page.get_by_role("button", name="Continue").click()
    assert page.url.endswith("/survey/")
    assert "/s/" not in page.url
    check_accessible(page, seen, "task list")

    # An error first: the summary links to the field and takes the focus.
    page.get_by_role("link", name="Pay council tax").click()
    page.get_by_role("button", name="Save and continue").click()
    summary = page.get_by_role("alert")
    assert "Select whether your council provides this" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    assert page.title().startswith("Error: ")
    check_accessible(page, seen, "transaction page with errors")

    for number in range(1, 23):
        answer_transaction(page, number)
        if number == 1:
            check_accessible(page, seen, "transaction page")
    assert page.url.endswith("/survey/")

    sections = ["about", "complex-services", "platforms", "capability"]
    for section in sections:
        page.locator(f"#section-{section} a").first.click()
        while f"/survey/{section}/" in page.url:
            check_accessible(page, seen, "questions page")
            answer_questions(page)
    page.get_by_role("link", name="Check your answers and submit").click()
    check_accessible(page, seen, "check answers")
    page.get_by_label("Your full name").fill("Pat Example")
    page.get_by_label(re.compile("I confirm that")).check()
    page.get_by_role("button", name="Submit response").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Response submitted"
    check_accessible(page, seen, "confirmation")
    council_response.refresh_from_db()
    assert council_response.status == ResponseStatus.SUBMITTED
    assert council_response.reference in page.content()

    # The same link again, later: it says at once that the response was submitted.
    page.context.clear_cookies()
    page.goto(path)
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Response submitted"
    assert council_response.reference in page.locator("#submitted").inner_text()
    assert "about 45 minutes" not in page.content()
    check_page(page, tmp_path, "landing-after-submitting")
    page.get_by_role("button", name="View your response").click()
    assert "response has been submitted by Pat Example" in page.content()
    vnu_clean(tmp_path)
    assert Response.objects.get(pk=council_response.pk).figures.count() == 44


def test_invalid_link_page_is_accessible(page, council_response):
    response = page.goto("/s/" + "x" * 43)
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "This link does not work"
    assert axe_violations(page) == []


def _save_and_continue_to(page, path: str) -> None:
    page.get_by_role("button", name="Save and continue").click()
    # A background save still in flight holds the submission back until it answers (its
    # reply is the base the save merges from): the navigation can start after click() returns.
    page.wait_for_url("**" + path)


def _still_signed_in_and_saving(page) -> None:
    """The council-tax page still saves and moves on: the session was not ended."""
    page.get_by_role("group", name="Does your council provide this?").get_by_label(
        "Not our responsibility"
    ).check()
    _save_and_continue_to(page, "/survey/transactions/council-tax-discount/")


def test_timeout_warning_lets_the_person_stay_signed_in(page, council_response, settings):
    """WCAG 2.2.1: warned before the idle timeout, and able to extend it."""
    settings.SESSION_COOKIE_AGE = 24  # the warning comes at half of that on short sessions
    path = token_path(link_issue(response=council_response))
    page.goto(path)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Pay council tax").click()
    dialog = page.get_by_role("dialog", name="You are about to be signed out")
    dialog.wait_for(state="visible", timeout=20_000)
    assert axe_violations(page) == []
    with page.expect_response(lambda r: r.url.endswith("/survey/keep-alive/")) as kept:
        dialog.get_by_role("button", name="Stay signed in").click()
    assert kept.value.status == 200
    assert not dialog.is_visible()
    _still_signed_in_and_saving(page)


def test_the_absolute_end_of_a_session_is_announced_with_what_to_do(page, council_response):
    """WCAG 2.2.1 and ASVS 7.3.2: the 12-hour end cannot be extended, so it is announced."""
    page.goto(token_path(link_issue(response=council_response)))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", level=1).wait_for()
    # The link was opened 11 h 58 min 20 s ago: 100 seconds are left.
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    store = import_module(settings.SESSION_ENGINE).SessionStore(cookie["value"])
    state = store[SESSION_KEY]
    hours = settings.RESPONDENT_SESSION_MAX_HOURS
    state["since"] = time.time() - hours * 3600 + 100
    store[SESSION_KEY] = state
    store.save()
    page.get_by_role("link", name="Pay council tax").click()
    dialog = page.get_by_role("dialog", name="You will be signed out soon")
    dialog.wait_for(state="visible", timeout=10_000)
    assert "open the link in your email again" in dialog.inner_text()
    assert f"{hours} hours after they open their link" in dialog.inner_text()
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Continue for now").click()
    assert not dialog.is_visible()
    _still_signed_in_and_saving(page)


def test_two_people_editing_one_page_see_each_others_change(browser, live_server, council_response):
    """Two browser contexts save the same figure in turn: the second is shown the clash."""
    path = token_path(link_issue(response=council_response))
    pages = []
    for _ in range(2):
        context = browser.new_context(base_url=live_server.url)
        person = context.new_page()
        person.goto(path)
        person.get_by_role("button", name="Continue").click()
        person.goto("/survey/transactions/pay-council-tax/")
        pages.append(person)
    first, second = pages
    for person, figure in ((first, "100"), (second, "200")):
        person.get_by_role("group", name="Does your council provide this?").get_by_label(
            "Yes"
        ).check()
        person.get_by_role("checkbox", name="Online self-service", exact=True).check()
        person.get_by_role("group", name=re.compile("end to end online")).get_by_label("No").check()
        person.get_by_label("Number of online self-service transactions").fill(figure)
    first.get_by_role("button", name="Save and continue").click()
    second.get_by_role("button", name="Save and continue").click()
    clash = second.get_by_role("alert")
    assert "changed it to 100" in clash.inner_text()
    assert "yours is 200" in clash.inner_text()
    assert axe_violations(second) == []
    assert council_response.figures.get(channel__code="WEB").value == 100
    second.get_by_role("button", name="Save and continue").click()
    assert council_response.figures.get(channel__code="WEB").value == 200
    for person in pages:
        person.context.close()


def test_delegation_pages_are_accessible(page, council_response):
    path = token_path(link_issue(response=council_response))
    page.goto(path)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Manage contributors").click()
    page.get_by_role("button", name="Add and send their link").click()
    assert "Enter their full name" in page.get_by_role("alert").inner_text()
    assert axe_violations(page) == []
    page.get_by_label("Full name").fill("Sam Officer")
    page.get_by_label("Email address").fill("sam@council.example")
    page.get_by_label("Role or team").fill("Revenues")
    page.get_by_label("Channels for key transactions").check()
    page.get_by_role("button", name="Add and send their link").click()
    assert "Sam Officer has been added" in page.content()
    assert axe_violations(page) == []
    page.goto("/survey/spreadsheet/")
    assert axe_violations(page) == []


def test_typing_is_saved_once_the_person_pauses_without_leaving_the_field(page, council_response):
    """A figure typed into a field that keeps the focus is stored after a pause."""
    page.goto(token_path(link_issue(response=council_response)))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Pay council tax").click()
    page.get_by_role("group", name="Does your council provide this?").get_by_label("Yes").check()
    page.get_by_role("checkbox", name="Online self-service", exact=True).check()
    figure = page.get_by_label("Number of online self-service transactions")
    with page.expect_response(
        lambda r: r.request.method == "POST" and "figure_WEB=987" in (r.request.post_data or ""),
        timeout=10_000,
    ) as autosaved:
        figure.press_sequentially("987")
    assert autosaved.value.status == 200
    assert page.evaluate("document.activeElement.name") == "figure_WEB"  # never left it
    page.get_by_text(SAVED_AT).wait_for(state="visible")
    assert council_response.figures.get(channel__code="WEB").value == 987


def test_a_change_is_saved_in_the_background_and_kept_after_reloading(page, council_response):
    """Autosave: no button pressed, yet the figure is stored and the page says when."""
    path = token_path(link_issue(response=council_response))
    page.goto(path)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Pay council tax").click()
    page.get_by_role("group", name="Does your council provide this?").get_by_label("Yes").check()
    page.get_by_role("checkbox", name="Online self-service", exact=True).check()
    figure = page.get_by_label("Number of online self-service transactions")
    figure.fill("4,321")
    with page.expect_response(
        lambda r: r.request.method == "POST" and "figure_WEB=4%2C321" in (r.request.post_data or "")
    ) as autosaved:
        figure.press("Tab")
    assert autosaved.value.status == 200
    status = page.get_by_text(SAVED_AT)
    status.wait_for(state="visible")
    assert axe_violations(page) == []
    page.reload()
    assert page.get_by_label("Number of online self-service transactions").input_value() == "4,321"
    assert council_response.figures.get(channel__code="WEB").value == 4321


def test_save_and_come_back_later_saves_what_is_valid_and_lets_the_person_leave(
    page, council_response, tmp_path
):
    open_survey(page, council_response)
    page.locator("#section-about a").first.click()
    page.get_by_label("Your full name", exact=True).fill("Pat Example")
    page.get_by_label("Your email address", exact=True).fill("not an address")
    page.get_by_role("button", name="Save and come back later").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your answers have been saved"
    assert page.url.endswith("/survey/saved/")
    assert "Enter an email address in the correct format" in page.content()
    assert "Your job title" in page.locator("#still-to-answer").inner_text()
    check_page(page, tmp_path, "saved")
    vnu_clean(tmp_path)
    page.locator("#main-content").get_by_role("button", name="Sign out").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You have signed out"
    assert council_response.answers.get(question__slug="respondent-name").value == "Pat Example"


def test_a_removed_contributor_is_told_what_happened_and_whom_to_ask(
    page, council_response, tmp_path
):
    from surveys.contributors import contributor_add, contributor_link, contributor_revoke

    officer = contributor_add(
        response=council_response, name="Sam Officer", email="sam@council.example",
        role="Revenues", sections=[], all_sections=True, can_submit=False, actor="holder",
    )  # fmt: skip
    open_survey(page, council_response, contributor_link(contributor=officer))
    contributor_revoke(contributor=officer, actor="holder")
    page.get_by_role("link", name="Pay council tax").click()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Your access to this survey has been removed"
    assert "contact your chief executive's office" in page.content()
    assert "period without activity" not in page.content()
    check_page(page, tmp_path, "session-ended-removed")
    vnu_clean(tmp_path)


def test_figures_to_confirm_are_shown_wherever_the_person_looks(page, council_response, tmp_path):
    from surveys.services import FigureInput, TransactionInput, response_save_transaction

    response_save_transaction(
        response=council_response,
        key_transaction=council_response.survey.questionnaire.transactions.get(number=1),
        data=TransactionInput(
            provision="yes",
            channels_offered=["WEB", "PHONE"],
            end_to_end="no",
            figures={"WEB": FigureInput(2_000_000), "PHONE": FigureInput(50)},
        ),
        loaded={},
        actor="Earlier visit",
        channel_names={"WEB": "Online self-service", "PHONE": "Telephone (agent)"},
    )
    open_survey(page, council_response)
    task = page.locator("#section-transactions li").first
    assert "Check figures" in task.inner_text()
    check_page(page, tmp_path, "task-list-check-figures")
    page.get_by_role("link", name="Check your answers and submit").click()
    summary = page.locator("#cannot-submit")
    assert "You cannot submit yet" in summary.inner_text()
    check_page(page, tmp_path, "check-answers-incomplete")
    summary.get_by_role("link", name=re.compile("Pay council tax: confirm the figures")).click()
    assert page.url.endswith("/survey/transactions/pay-council-tax/#id_figure_WEB")
    warning = page.locator("#check-figures")
    assert "2,000,000 is more than 100 times" in warning.inner_text()
    check_page(page, tmp_path, "transaction-check-figures")
    page.get_by_label("I have checked these figures and they are right").check()
    page.get_by_role("button", name="Save and continue").click()
    # (The browser keeps the fragment through the redirect.)
    assert "/survey/transactions/council-tax-discount/" in page.url
    page.goto("/survey/")
    assert "Check figures" not in page.locator("#section-transactions").inner_text()
    vnu_clean(tmp_path)


def _pay_page(page, council_response) -> None:
    open_survey(page, council_response)
    page.get_by_role("link", name="Pay council tax").click()
    page.get_by_role("group", name="Does your council provide this?").get_by_label("Yes").check()


def test_a_channels_figure_shows_once_it_is_ticked_with_javascript(
    page, council_response, tmp_path
):
    _pay_page(page, council_response)
    web = page.get_by_label("Number of online self-service transactions")
    post = page.get_by_label("Number of post or paper form transactions")
    assert not web.is_visible() and not post.is_visible()
    check_page(page, tmp_path, "transaction-nothing-ticked")
    page.get_by_role("checkbox", name="Online self-service", exact=True).check()
    assert web.is_visible() and not post.is_visible()
    page.get_by_role("checkbox", name="Post or paper form", exact=True).check()
    post.fill("25")
    # Unticked again: the figure is hidden, and neither saved nor an error.
    page.get_by_role("checkbox", name="Post or paper form", exact=True).uncheck()
    assert not post.is_visible()
    web.fill("1,250")
    page.get_by_role("group", name=re.compile("end to end online")).get_by_label("No").check()
    check_page(page, tmp_path, "transaction-one-ticked")
    _save_and_continue_to(page, "/survey/transactions/council-tax-discount/")
    saved = {f.channel.code: f.value for f in council_response.figures.all()}
    assert saved.get("WEB") == 1250
    assert saved.get("POST") is None
    vnu_clean(tmp_path)


def test_without_javascript_every_channels_figure_shows(browser, live_server, council_response):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    _pay_page(page, council_response)
    for channel in ("online self-service", "post or paper form", "telephone (agent)"):
        assert page.get_by_label(f"Number of {channel} transactions").is_visible()
    # A figure for a channel not ticked is explained, not lost or saved.
    page.get_by_label("Number of post or paper form transactions").fill("25")
    page.get_by_role("button", name="Save and continue").click()
    summary = page.locator(".govuk-error-summary")
    assert "You gave a figure for post or paper form" in summary.inner_text()
    assert page.get_by_label("Number of post or paper form transactions").input_value() == "25"
    context.close()


def test_check_answers_folds_complete_sections_into_cards(page, council_response, tmp_path):
    from surveys.tests.factories import fill_everything

    fill_everything(council_response)
    open_survey(page, council_response)
    page.goto("/survey/check/")
    cards = page.locator(".govuk-summary-card")
    assert cards.count() == council_response.survey.questionnaire.sections.count()
    transactions = page.locator("#answers-transactions")
    assert not transactions.get_by_text("Pay council tax", exact=True).is_visible()
    transactions.get_by_text("Show the 22 answers").click()
    assert transactions.get_by_text("Pay council tax", exact=True).is_visible()
    check_page(page, tmp_path, "check-answers-complete")
    vnu_clean(tmp_path)
