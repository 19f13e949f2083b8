"""Staff sign in on a GOV.UK page, with no staff status, and are rate-limited on failures."""

from __future__ import annotations

import datetime
import logging
import re

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from survey_site import ratelimit
from survey_site.roles import ANALYSTS, SURVEY_ADMINISTRATORS

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
WRONG = "not-the-password"
SIGN_IN = "/sign-in/"
# The start of a fixed rate-limit window (a whole quarter hour), so that a test's
# failures all fall in one window however slowly it runs.
WINDOW_START = datetime.datetime(2025, 3, 3, 9, 0, tzinfo=datetime.UTC)


def _member(username: str, group: str) -> User:
    user = User.objects.create_user(username, password=PASSWORD)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def analyst() -> User:
    return _member("analyst", ANALYSTS)


@pytest.fixture
def administrator() -> User:
    return _member("administrator", SURVEY_ADMINISTRATORS)


def _sign_in(client: Client, username: str, password: str, **extra: str):
    return client.post(SIGN_IN, {"username": username, "password": password, **extra})


def _error_summary(html: bytes) -> list[str]:
    """The messages in the page's GOV.UK error summary, in order."""
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', html.decode(), re.S)
    return re.findall(r'<a href="#[\w-]+">([^<]+)</a>', summary.group(1)) if summary else []


def _signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def test_analyst_without_staff_status_signs_in_and_reaches_the_dashboard(client, analyst):
    assert not analyst.is_staff
    refused = client.get("/reporting/")
    assert refused.status_code == 302
    assert refused["Location"] == f"{SIGN_IN}?next=/reporting/"
    page = client.get(refused["Location"])
    assert page.status_code == 200
    assert b'<h1 class="govuk-heading-l">Sign in</h1>' in page.content
    assert b'name="next" value="/reporting/"' in page.content
    assert "no-store" in page["Cache-Control"]
    signed_in = _sign_in(client, "analyst", PASSWORD, next="/reporting/")
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/reporting/"
    dashboard = client.get("/reporting/")
    assert dashboard.status_code == 200
    assert b"Protected releases" in dashboard.content
    assert b'action="/sign-out/"' in dashboard.content
    # The Django admin still wants staff status.
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_analyst_without_next_lands_on_the_dashboard(client, analyst):
    signed_in = _sign_in(client, "analyst", PASSWORD)
    assert signed_in["Location"] == reverse("signed-in")
    assert client.get(signed_in["Location"])["Location"] == reverse("reporting:release-index")


def test_survey_administrator_lands_on_the_tracker(client, administrator):
    landed = client.post(SIGN_IN, {"username": "administrator", "password": PASSWORD}, follow=True)
    assert landed.redirect_chain[-1][0] == reverse("campaigns:index")
    assert landed.status_code == 200
    assert b"Survey rounds" in landed.content
    assert b'action="/sign-out/"' in landed.content


def test_someone_with_no_role_lands_on_the_start_page(client):
    User.objects.create_user("visitor", password=PASSWORD)
    signed_in = _sign_in(client, "visitor", PASSWORD)
    assert client.get(signed_in["Location"])["Location"] == reverse("home")


def test_wrong_password_or_unknown_user_gets_one_error_that_does_not_say_which(client, analyst):
    wrong_password = _sign_in(client, "analyst", WRONG)
    unknown_user = _sign_in(client, "nobody", PASSWORD)
    for page in (wrong_password, unknown_user):
        assert page.status_code == 200
        assert b"govuk-error-summary" in page.content
        assert _error_summary(page.content) == ["Enter a correct username and password"]
        assert b"<title>Error: Sign in" in page.content
        assert WRONG.encode() not in page.content
    assert not _signed_in(client)


def test_empty_fields_show_their_errors(client):
    page = client.post(SIGN_IN, {"username": "", "password": ""})
    assert page.status_code == 200
    assert _error_summary(page.content) == ["Enter your username", "Enter your password"]
    assert page.content.count(b"govuk-form-group--error") == 2
    only_password = client.post(SIGN_IN, {"username": "analyst", "password": ""})
    assert _error_summary(only_password.content) == ["Enter your password"]


@pytest.mark.parametrize(
    "target",
    ["https://attacker.example/", "//attacker.example/reporting/", "http://testserver.evil/"],
)
def test_next_pointing_to_another_site_is_ignored(client, analyst, target):
    page = client.get(SIGN_IN, {"next": target})
    assert target.encode() not in page.content
    signed_in = _sign_in(client, "analyst", PASSWORD, next=target)
    assert signed_in.status_code == 302
    assert signed_in["Location"] == reverse("signed-in")


def test_sign_in_form_needs_its_csrf_token(analyst):
    client = Client(enforce_csrf_checks=True)
    assert _sign_in(client, "analyst", PASSWORD).status_code == 403
    assert not _signed_in(client)


def test_repeated_wrong_passwords_for_one_user_are_refused_then_released(analyst, caplog):
    caplog.set_level(logging.INFO)
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    with time_machine.travel(WINDOW_START):
        for _ in range(ratelimit.SIGN_IN_FAILURES):
            assert _sign_in(attacker, "analyst", WRONG).status_code == 200
        # The analyst, from elsewhere and with the right password, is refused too.
        analyst_client = Client(REMOTE_ADDR="203.0.113.20")
        blocked = _sign_in(analyst_client, "analyst", PASSWORD)
        assert blocked.status_code == 429
        assert b"Too many attempts to sign in" in blocked.content
        assert not _signed_in(analyst_client)
        # Other users are not locked out by it.
        _member("colleague", ANALYSTS)
        assert _sign_in(Client(), "colleague", PASSWORD).status_code == 302
    assert any(r.getMessage() == "staff sign-in failed" for r in caplog.records)
    for record in caplog.records:
        for secret in ("analyst", WRONG, PASSWORD, "198.51.100.7", "203.0.113.20"):
            assert secret not in record.getMessage()
    later = WINDOW_START + datetime.timedelta(seconds=ratelimit.WINDOW_SECONDS + 1)
    with time_machine.travel(later):
        assert _sign_in(analyst_client, "analyst", PASSWORD).status_code == 302
        assert _signed_in(analyst_client)


def test_one_client_trying_many_usernames_is_refused_then_released(analyst):
    client = Client(REMOTE_ADDR="198.51.100.8")
    with time_machine.travel(WINDOW_START):
        for attempt in range(ratelimit.SIGN_IN_FAILURES):
            _sign_in(client, f"guess-{attempt}", WRONG)
        assert _sign_in(client, "analyst", PASSWORD).status_code == 429
        assert _sign_in(Client(REMOTE_ADDR="203.0.113.21"), "analyst", PASSWORD).status_code == 302
    later = WINDOW_START + datetime.timedelta(seconds=ratelimit.WINDOW_SECONDS + 1)
    with time_machine.travel(later):
        assert _sign_in(client, "analyst", PASSWORD).status_code == 302


def test_empty_submissions_are_not_counted_as_guesses(client, analyst):
    with time_machine.travel(WINDOW_START):
        for _ in range(ratelimit.SIGN_IN_FAILURES + 1):
            client.post(SIGN_IN, {"username": "analyst", "password": ""})
        assert _sign_in(client, "analyst", PASSWORD).status_code == 302


def test_sign_out_needs_a_post_and_ends_the_session(client, analyst):
    _sign_in(client, "analyst", PASSWORD)
    assert client.get("/sign-out/").status_code == 405
    assert client.get("/reporting/").status_code == 200
    signed_out = client.post("/sign-out/", follow=True)
    assert signed_out.redirect_chain == [(SIGN_IN, 302)]
    assert b"You have signed out" in signed_out.content
    assert b'action="/sign-out/"' not in signed_out.content
    assert not _signed_in(client)
    assert client.get("/reporting/")["Location"] == f"{SIGN_IN}?next=/reporting/"
