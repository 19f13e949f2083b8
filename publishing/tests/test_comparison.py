"""How your council compares: its own figures beside published cells, through its link."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutboundEmail
from outbox.sending import LINK_MARKER, email_send
from publishing import services
from publishing.emails import comparison_key
from reporting.derived import SCENARIOS
from reporting.publication import Publication
from reporting.services import release_build
from reporting.tests.census import Census
from reporting.tests.factories import SMALL_ROUND, TRANSACTION, close_round
from survey_site.formatting import datetime_text, money_text
from surveys.choices import ResponseStatus, SurveyStatus
from surveys.contributors import contributor_link
from surveys.models import Answer, Contributor, EmailKind, Question, Response
from surveys.services import link_issue, link_url
from surveys.tests.factories import make_authority, new_response, open_link, token_path

pytestmark = [pytest.mark.django_db]

COMPARE = "/survey/compare/"
OWN_PHONE_COST = "3.10"  # the first council's own unit cost for the telephone


@pytest.fixture
def counted_round(small_round):
    """The small round with chief executives' addresses, council links, one council's own
    unit cost, and a council that opened its link but never submitted; release built."""
    survey = small_round
    for response in Response.objects.filter(survey=survey):
        authority = response.authority
        authority.chief_executive_name = f"Chief of {authority.gss_code}"
        authority.chief_executive_email = f"chief@{authority.gss_code.lower()}.example"
        authority.save()
        link_issue(response=response)
    first = Response.objects.get(survey=survey, authority__gss_code=SMALL_ROUND[0][0])
    question = Question.objects.get(
        section__questionnaire=survey.questionnaire, slug="unit-cost-phone"
    )
    Answer.objects.create(
        response=first, question=question, value=OWN_PHONE_COST, updated_by="Test"
    )
    silent = new_response(
        survey,
        make_authority(
            "E06000009", chief_executive_email="chief@e06000009.example", region="north_east"
        ),
    )
    Response.objects.filter(pk=silent.pk).update(status=ResponseStatus.CLOSED)
    link_issue(response=silent)
    release = release_build(survey_id=survey.pk)
    assert release.published_at is not None, release.status
    return survey


def publish(survey, user, *, note: str = ""):
    draft = services.draft_start(survey=survey, user=user)
    services.draft_update(draft, title="Results", summary="", findings=[], change_note=note)
    return services.publish(draft=draft, user=user)


def response_of(survey, gss: str) -> Response:
    return Response.objects.get(survey=survey, authority__gss_code=gss)


def open_after_close(client: Client, link) -> str:
    """Open a link of a closed round: its landing page, then Continue to the comparison."""
    path = token_path(link)
    landing = client.get(path)
    assert landing.status_code == 200
    assert "How your council compares" in landing.content.decode()
    moved = client.post(path)
    assert (moved.status_code, moved["Location"]) == (303, COMPARE)
    page = client.get(COMPARE)
    assert page.status_code == 200
    return page.content.decode()


def expected_own(survey, figures: dict[str, int], own_costs: dict[str, float]) -> dict[str, str]:
    """The first council's own figures, worked out here from its answers (one transaction)."""
    channels = list(survey.questionnaire.channels.all())
    default = {c.code: float(c.default_unit_cost) for c in channels if c.default_unit_cost}
    own_cost = {**default, **own_costs}
    total = sum(figures.values())
    digital = sum(v for code, v in figures.items() if code in ("WEB", "APP"))
    expected = {f"total|{TRANSACTION}": f"{total:,}"}
    for code, value in figures.items():
        expected[f"volume|{TRANSACTION}|{code}"] = f"{value:,}"
        expected[f"share|{TRANSACTION}|{code}"] = f"{100 * value / total:.1f}%"
    for code, cost in default.items():
        expected[f"default_unit_cost|{code}"] = money_text(cost, pence=True)
        expected[f"channel_cost_default|{code}"] = money_text(figures.get(code, 0) * cost)
        expected[f"channel_cost_own|{code}"] = money_text(figures.get(code, 0) * own_cost[code])
    for code, cost in own_costs.items():
        expected[f"unit_cost|{code}"] = money_text(cost, pence=True)
    scenario = SCENARIOS[0]
    for slug in (TRANSACTION, "total"):
        expected[f"take_up|{slug}"] = f"{100 * digital / total:.1f}%"
        expected[f"cost_default|{slug}"] = money_text(
            sum(v * default[c] for c, v in figures.items() if c in default)
        )
        expected[f"cost_own|{slug}"] = money_text(
            sum(v * own_cost[c] for c, v in figures.items() if c in own_cost)
        )
        moved = sum(figures.get(c, 0) * f for c, f in scenario.moved.items())
        expected[f"moved|{slug}"] = f"{moved:,.0f}"
        for name, costs in (("cost_change", default), ("cost_change_own", own_cost)):
            change = sum(
                figures.get(c, 0) * f * (costs[scenario.to] - costs[c])
                for c, f in scenario.moved.items()
            )
            expected[f"{name}|{slug}"] = money_text(change)
            if name == "cost_change" and slug == "total":
                expected["saving"] = money_text(-change)
    return expected


def test_a_responding_council_sees_its_own_figures_and_only_published_cells(
    counted_round, publisher
):
    public = publish(counted_round, publisher)
    gss, kind, region, figures, _ = SMALL_ROUND[0]
    response = response_of(counted_round, gss)
    html = open_after_close(Client(), response.links.get())

    assert "Your council" in html and "Published: England" in html
    census = Census(Publication.of(counted_round))
    census.allow(datetime_text(public.published_at))
    census.allow(datetime_text(response.submitted_at))
    census.allow(response.authority.official_name)
    own = expected_own(counted_round, figures, {"PHONE": float(OWN_PHONE_COST)})
    census.page(COMPARE, html, own=own)
    assert census.problems == []
    # Every own figure is on the page, and the published cells are of its type, its region
    # and England only: nothing about another group, let alone another council.
    shown_own = set(re.findall(r'data-own="([^"]+)"', html))
    assert set(own) <= shown_own
    cells = set(re.findall(r'data-cell="([^"]+)"', html))
    assert cells, "published cells beside the council's own"
    for cell_id in cells:
        parts = set(cell_id.split("|")[1:])
        other_groups = {k for k in ("unitary", "north_east", "north_west") if k in parts} - {
            kind,
            region,
        }
        assert not other_groups, cell_id
    assert "[c]" not in html or "Confidential: hidden" in html


def test_a_hidden_published_cell_reads_c_with_its_meaning(counted_round, publisher):
    public = publish(counted_round, publisher)
    # North west has two councils: its cells are hidden.
    gss, _kind, _region, figures, _ = next(row for row in SMALL_ROUND if row[2] == "north_west")
    response = response_of(counted_round, gss)
    html = open_after_close(Client(), response.links.get())
    assert re.search(r'data-cell="share\|[^"]*north_west">\[c\]<', html)
    assert "Confidential: hidden to protect individual councils" in html
    census = Census(Publication.of(counted_round))
    census.allow(datetime_text(public.published_at))
    census.allow(datetime_text(response.submitted_at))
    census.allow(response.authority.official_name)
    census.page(COMPARE, html, own=expected_own(counted_round, figures, {}))
    assert census.problems == []


def test_a_contributor_sees_the_comparison(counted_round, publisher):
    publish(counted_round, publisher)
    response = response_of(counted_round, SMALL_ROUND[1][0])
    contributor = Contributor.objects.create(
        response=response, name="Sam Officer", email="sam@example.gov.uk", all_sections=True
    )
    html = open_after_close(Client(), contributor_link(contributor=contributor))
    assert f'data-own="volume|{TRANSACTION}|WEB">1,200<' in html


def test_before_publication_the_page_is_not_ready_and_the_closed_link_opens_nothing(
    counted_round, survey
):
    # A session of the round while it was open: the page says the comparison is not ready.
    response = response_of(counted_round, SMALL_ROUND[0][0])
    client = Client()
    survey.closes_at = timezone.now() + datetime.timedelta(days=1)
    survey.status = SurveyStatus.OPEN
    survey.save()
    open_link(client, response)
    close_round(survey)
    page = client.get(COMPARE)
    assert page.status_code == 200
    assert "not ready yet" in page.content.decode()
    # The closed round's link itself: the ordinary invalid-link page, as before.
    landing = Client().get(token_path(response.links.get()))
    assert landing.status_code == 404


def test_a_council_that_did_not_respond_is_invited_to_the_next_round(counted_round, publisher):
    publish(counted_round, publisher)
    silent = response_of(counted_round, "E06000009")
    html = open_after_close(Client(), silent.links.get())
    assert 'id="not-responded"' in html and "Take part next round" in html
    assert "/statistics/" in html and "data-own" not in html and "data-cell" not in html


def test_after_withdrawal_the_page_says_the_release_was_withdrawn(counted_round, publisher):
    public = publish(counted_round, publisher)
    client = Client()
    open_after_close(client, response_of(counted_round, SMALL_ROUND[0][0]).links.get())
    services.withdraw(public=public, user=publisher, reason="An error in the register.")
    html = client.get(COMPARE).content.decode()
    assert 'id="withdrawn"' in html and "An error in the register." in html
    assert "data-own" not in html and "data-cell" not in html


def test_a_session_opened_after_the_close_reaches_no_page_of_the_journey(counted_round, publisher):
    publish(counted_round, publisher)
    response = response_of(counted_round, SMALL_ROUND[0][0])
    client = Client()
    open_after_close(client, response.links.get())
    assert client.get(reverse("surveys:tasks"))["Location"] == COMPARE
    page = reverse("surveys:transaction", args=[TRANSACTION])
    assert client.post(page, {"action": "autosave", "provision": "no"}).status_code == 409
    assert client.post(page, {"provision": "no"})["Location"] == COMPARE
    assert client.post(reverse("surveys:reopen"))["Location"] == COMPARE
    response.refresh_from_db()
    assert response.status == ResponseStatus.SUBMITTED
    assert response.transaction_answers.get().provision == "yes"


def test_the_task_list_of_a_session_points_to_the_results(counted_round, publisher, survey):
    response = response_of(counted_round, SMALL_ROUND[0][0])
    client = Client()
    survey.closes_at = timezone.now() + datetime.timedelta(days=1)
    survey.status = SurveyStatus.OPEN
    survey.save()
    open_link(client, response)
    close_round(survey)
    assert 'id="round-results"' not in client.get(reverse("surveys:tasks")).content.decode()
    publish(counted_round, publisher)
    tasks = client.get(reverse("surveys:tasks")).content.decode()
    assert 'id="round-results"' in tasks and COMPARE in tasks


def test_the_email_is_queued_once_per_responding_council_without_a_token(counted_round, publisher):
    publish(counted_round, publisher)
    emails = OutboundEmail.objects.filter(kind=EmailKind.COMPARISON_READY)
    counted = Response.objects.filter(survey=counted_round, status=ResponseStatus.SUBMITTED)
    assert sorted(e.response_id for e in emails) == sorted(r.pk for r in counted)
    assert not emails.filter(response__authority__gss_code="E06000009").exists()
    for email in emails:
        link = email.response.links.get()
        assert email.key == comparison_key(email.response)
        assert email.to_address == email.response.authority.chief_executive_email
        assert email.link == link
        assert LINK_MARKER in email.body_text and LINK_MARKER in email.body_html
        token = link_url(link).rsplit("/", 1)[1]
        stored = email.subject + email.body_text + email.body_html
        assert token not in stored and "/s/" not in stored
    # A second version (a correction) emails nobody again.
    publish(counted_round, publisher, note="Corrected wording.")
    assert OutboundEmail.objects.filter(kind=EmailKind.COMPARISON_READY).count() == len(counted)
    # Sent, the email carries the council's link, which opens its comparison.
    email = emails.get(response__authority__gss_code=SMALL_ROUND[0][0])
    assert email_send(email_id=email.pk) == "sent"
    message = mail.outbox[-1]
    assert link_url(email.link) in message.body
    assert message.subject.startswith("Your council's comparison is ready")


def test_the_email_is_queued_in_the_publishing_transaction(counted_round, publisher, monkeypatch):
    draft = services.draft_start(survey=counted_round, user=publisher)
    services.draft_update(draft, title="Results", summary="", findings=[], change_note="")

    def refuse(ids):
        assert OutboundEmail.objects.filter(pk__in=ids).count() == len(ids) > 0
        raise RuntimeError("the queue failed")

    monkeypatch.setattr("publishing.emails.emails_send_on_commit", refuse)
    with pytest.raises(RuntimeError):
        services.publish(draft=draft, user=publisher)
    # One transaction: neither the publication nor the emails stayed.
    draft.refresh_from_db()
    assert draft.status == "draft" and services.live(counted_round) is None
    assert not OutboundEmail.objects.filter(kind=EmailKind.COMPARISON_READY).exists()
