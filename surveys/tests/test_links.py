"""Access links: GET changes nothing, POST starts a session, bad links say nothing."""

import datetime
import logging
import re
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from authorities.models import AccessLink
from authorities.tokens import derive_token
from survey_site import ratelimit
from surveys.choices import ResponseStatus
from surveys.models import ChangeRecord, Response
from surveys.services import link_issue, link_reissue, link_url

from .factories import fill_everything, make_authority, new_response, open_link, token_path


def database_state() -> tuple:
    return (
        list(AccessLink.objects.values_list("pk", "first_used_at", "last_used_at", "revoked_at")),
        list(Response.objects.values_list("pk", "status", "updated_at")),
        Session.objects.count(),
        ChangeRecord.objects.count(),
    )


def test_token_has_256_bits_and_is_stored_only_as_a_hash(response):
    link = link_issue(response=response)
    token = token_path(link).removeprefix("/s/")
    assert len(token) == 43
    assert token not in str(AccessLink.objects.values().get(pk=link.pk))
    assert link.token_hash != token
    # The same link comes back for reminders: issuing again does not change it.
    assert link_url(link_issue(response=response)) == link_url(link)


def test_opening_the_link_with_get_changes_nothing(client: Client, response):
    path = token_path(link_issue(response=response))
    before = database_state()
    for _ in range(2):
        page = Client().get(path)
        assert page.status_code == 200
        assert page["Referrer-Policy"] == "no-referrer"
        assert "no-store" in page["Cache-Control"]
        assert b"Hartlepool Borough Council" in page.content
    assert database_state() == before


def test_continue_starts_a_new_session_and_leaves_the_token_behind(client: Client, response):
    link = link_issue(response=response)
    path = token_path(link)
    client.get(path)
    old_key = client.session.session_key
    answer = client.post(path)
    assert answer.status_code == 303
    assert answer["Location"] == "/survey/"
    assert client.session.session_key != old_key
    link.refresh_from_db()
    assert link.first_used_at is not None
    tasks = client.get("/survey/")
    assert tasks.status_code == 200
    assert path.encode() not in tasks.content


def test_continue_without_csrf_token_is_refused_and_changes_nothing(response):
    path = token_path(link_issue(response=response))
    client = Client(enforce_csrf_checks=True)
    client.get(path)
    before = database_state()
    refused = client.post(path)
    assert refused.status_code == 403
    assert b"govuk-heading-l" in refused.content
    assert database_state() == before


@pytest.fixture
def unusable_links(response, survey, questionnaire):
    """An unknown token, a revoked link and an expired link, all for the same page."""
    revoked = link_issue(response=response)
    link_reissue(response=response, reason="leaked", actor="test")
    other = new_response(survey, make_authority("E06000002"))
    expired = link_issue(response=other)
    return {
        "unknown": "/s/" + derive_token(purpose="council", nonce="not-a-real-nonce"),
        "malformed": "/s/short",
        "revoked": token_path(revoked),
        "expired": token_path(expired),
    }


def test_unknown_revoked_and_expired_links_get_the_same_page(client, unusable_links, survey):
    survey.closes_at = survey.opens_at + datetime.timedelta(hours=1)
    survey.save()
    pages = {}
    for name, path in unusable_links.items():
        page = client.get(path)
        assert page.status_code == 404, name
        pages[name] = page.content
        assert b"This link does not work" in page.content
        assert b"Hartlepool" not in page.content
    assert len(set(pages.values())) == 1
    for path in unusable_links.values():
        assert client.post(path).status_code == 404


def test_repeated_wrong_links_are_rate_limited_then_released(client, response, caplog):
    good = token_path(link_issue(response=response))
    wrong = "/s/" + "A" * 43
    caplog.set_level(logging.WARNING)
    for _ in range(50):
        client.get(wrong)
    blocked = client.get(good)
    assert blocked.status_code == 429
    assert b"Too many" in blocked.content
    assert not any(good.removeprefix("/s/") in r.getMessage() for r in caplog.records)
    assert not any("A" * 43 in r.getMessage() for r in caplog.records)
    # Another client is not blocked by this one's failures.
    assert Client(REMOTE_ADDR="203.0.113.9").get(good).status_code == 200
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(
        seconds=ratelimit.WINDOW_SECONDS + 1
    )
    with time_machine.travel(later):
        assert client.get(good).status_code == 200


def test_link_works_again_from_another_device(response):
    first, second = Client(), Client()
    open_link(first, response)
    open_link(second, response)
    assert first.get("/survey/").status_code == 200
    assert second.get("/survey/").status_code == 200


def test_reissue_revokes_old_link_ends_its_sessions_and_keeps_the_draft(response, questionnaire):
    holder = Client()
    old = open_link(holder, response)
    from .factories import fill_everything

    fill_everything(response)
    new = link_reissue(response=response, reason="chief executive changed", actor="admin")
    assert new.generation == old.generation + 1
    assert holder.get("/survey/")["Location"] == "/survey/session-ended/"
    told = holder.get("/survey/session-ended/").content.decode()
    assert "The link you used has been replaced" in told
    assert "contact the survey team" in told
    assert "period without activity" not in told
    # Someone never signed in learns nothing: the ordinary page.
    stranger = Client().get("/survey/session-ended/").content.decode()
    assert "replaced" not in stranger
    assert "You need to open your link again" in stranger
    assert Client().get(token_path(old)).status_code == 404
    successor = Client()
    path = token_path(new)
    successor.get(path)
    successor.post(path)
    tasks = successor.get("/survey/")
    assert tasks.status_code == 200
    assert response.figures.count() == 22 * 3
    assert ChangeRecord.objects.filter(response=response, key="link").exists()


def test_link_before_the_round_opens_does_not_work(client, response, survey):
    survey.opens_at = survey.closes_at - datetime.timedelta(hours=1)
    survey.save()
    assert client.get(token_path(link_issue(response=response))).status_code == 404


def test_issue_links_command_exports_a_safe_csv_and_is_idempotent(survey, tmp_path: Path):
    authority = make_authority("E06000003", official_name='=HYPERLINK("x")')
    survey.chosen_authorities.add(authority, make_authority("E06000004"))
    out = tmp_path / "links.csv"
    call_command("issue_links", survey.slug, "--csv", out, stdout=StringIO())
    first = out.read_text(encoding="utf-8").splitlines()
    assert first[0] == '"gss_code","council_name","link"'
    assert len(first) == 3
    assert '"\'=HYPERLINK(""x"")"' in first[1]
    call_command("issue_links", survey.slug, "--csv", out, stdout=StringIO())
    assert out.read_text(encoding="utf-8").splitlines() == first
    call_command(
        "issue_links", survey.slug, "--councils", "E06000003", "--reissue", "--csv", out,
        stdout=StringIO(),
    )  # fmt: skip
    reissued = out.read_text(encoding="utf-8").splitlines()
    assert len(reissued) == 2
    assert reissued[1] != first[1]
    assert Response.objects.get(authority=authority).status == ResponseStatus.NOT_STARTED


def test_issue_links_command_refuses_unknown_councils_and_rounds(survey, tmp_path: Path):
    with pytest.raises(CommandError, match="E09999999 is unknown"):
        call_command(
            "issue_links", survey.slug, "--councils", "E09999999", "--csv", tmp_path / "x.csv"
        )
    with pytest.raises(CommandError, match="No survey round"):
        call_command("issue_links", "nope", "--csv", tmp_path / "x.csv")


def test_continue_works_over_https_with_the_null_origin_browsers_send(response):
    """no-referrer makes browsers send Origin: null and no Referer; the token still counts."""
    path = token_path(link_issue(response=response))
    client = Client(enforce_csrf_checks=True)
    page = client.get(path, secure=True)
    token = client.cookies["csrftoken"].value
    form_token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1)
    accepted = client.post(
        path, {"csrfmiddlewaretoken": form_token.decode()}, secure=True, HTTP_ORIGIN="null"
    )
    assert accepted.status_code == 303
    stranger = Client(enforce_csrf_checks=True)
    stranger.cookies["csrftoken"] = token
    refused = stranger.post(
        path, {"csrfmiddlewaretoken": "x" * 64}, secure=True, HTTP_ORIGIN="null"
    )
    assert refused.status_code == 403


def test_other_forms_keep_the_full_origin_check(response, questionnaire):
    client = Client(enforce_csrf_checks=True)
    open_path = token_path(link_issue(response=response))
    page = client.get(open_path, secure=True)
    form_token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1)
    client.post(
        open_path, {"csrfmiddlewaretoken": form_token.decode()}, secure=True, HTTP_ORIGIN="null"
    )
    refused = client.post(
        "/survey/transactions/pay-council-tax/",
        {"csrfmiddlewaretoken": form_token.decode(), "provision": "no"},
        secure=True,
        HTTP_ORIGIN="null",
    )
    assert refused.status_code == 403


def test_behind_a_proxy_one_clients_bad_links_do_not_lock_out_the_others(settings, response):
    settings.TRUSTED_PROXY_COUNT = 1
    good = token_path(link_issue(response=response))
    # Every request arrives from the proxy; X-Forwarded-For names the client (the part
    # the attacker writes itself, on the left, is not believed).
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.66")
    council = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.20")
    for number in range(ratelimit.PER_CLIENT_FAILURES + 5):
        attacker.get(f"/s/{'A' * 42}{number % 10}")
    assert attacker.get(good).status_code == 429
    forged = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.21, 198.51.100.66")
    assert forged.get(good).status_code == 429
    assert council.get(good).status_code == 200
    assert council.post(good).status_code == 303


def test_the_limit_on_all_clients_refuses_bad_links_never_a_right_one(monkeypatch, response):
    monkeypatch.setattr(ratelimit, "GLOBAL_FAILURES", 5)
    good = token_path(link_issue(response=response))
    for number in range(5):
        Client(REMOTE_ADDR=f"198.51.100.{number}").get("/s/" + "A" * 43)
    newcomer = Client(REMOTE_ADDR="203.0.113.77")
    refused = newcomer.get("/s/" + "B" * 43)
    assert refused.status_code == 429
    assert b"Too many" in refused.content
    assert newcomer.get(good).status_code == 200
    assert newcomer.post(good).status_code == 303
    assert newcomer.get("/survey/").status_code == 200


def test_a_council_taken_out_of_the_round_loses_its_links_and_keeps_its_answers(
    response, django_capture_on_commit_callbacks
):
    from surveys.contributors import contributor_add, contributor_link

    survey, council = response.survey, response.authority
    council_path = token_path(link_issue(response=response))
    person = Client()
    open_link(person, response)
    assert person.get("/survey/").status_code == 200
    officer = contributor_add(
        response=response, name="Sam Officer", email="sam@council.example", role="Officer",
        sections=[], all_sections=True, can_submit=False, actor="Chief Executive",
    )  # fmt: skip
    officer_path = token_path(contributor_link(contributor=officer))
    fill_everything(response)
    with django_capture_on_commit_callbacks(execute=True):
        survey.chosen_authorities.remove(council)
    # Both links now get the page for links that do not work; the open session has ended.
    for path in (council_path, officer_path):
        page = Client().get(path)
        assert page.status_code == 404 and b"This link does not work" in page.content
    assert person.get("/survey/")["Location"] == "/survey/session-ended/"
    assert not AccessLink.objects.filter(response=response, revoked_at__isnull=True).exists()
    assert response.figures.exists()  # nothing typed is lost
    # Added back, a re-issued link works again with every answer still there.
    survey.chosen_authorities.add(council)
    fresh = token_path(link_reissue(response=response, reason="Back in the round", actor="Admin"))
    assert Client().get(fresh).status_code == 200


def test_a_link_of_a_council_outside_the_round_does_not_open_it(response):
    path = token_path(link_issue(response=response))
    # Taken out without the signal (a bulk change straight in the database).
    response.survey.chosen_authorities.through.objects.filter(
        survey=response.survey, authority=response.authority
    ).delete()
    assert Client().get(path).status_code == 404


def test_a_withdrawn_link_says_so_and_to_contact_the_survey_team(response):
    holder = Client()
    link = open_link(holder, response)
    AccessLink.objects.filter(pk=link.pk).update(
        revoked_at=timezone.now(), revoked_reason="Left the round"
    )
    assert holder.get("/survey/")["Location"] == "/survey/session-ended/"
    told = holder.get("/survey/session-ended/").content.decode()
    assert "The link you used no longer works" in told
    assert "Contact the survey team" in told
