"""Staff sign in on a GOV.UK page, with no staff status, and are rate-limited on failures
(django-axes, on /sign-in/ and the admin's login alike)."""

from __future__ import annotations

import datetime
import logging
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from survey_site.roles import ANALYSTS, SURVEY_ADMINISTRATORS

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
WRONG = "not-the-password"
SIGN_IN = "/sign-in/"
ADMIN_LOGIN = "/admin/login/"
# A fixed start for tests of the lockout and its 15 minutes.
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


def _sign_in(client: Client, username: str, password: str, path: str = SIGN_IN, **extra: str):
    return client.post(path, {"username": username, "password": password, **extra})


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


def _fail_until_refused(client: Client, username: str, path: str = SIGN_IN) -> None:
    """The limit's failures from one client: each a normal error, the last one refused."""
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        page = _sign_in(client, username, WRONG, path=path)
        assert page.status_code == 200
        assert b"govuk-error-summary" in page.content or b"errornote" in page.content
    _assert_refused(_sign_in(client, username, WRONG, path=path))


def _assert_refused(page) -> None:
    assert page.status_code == 429
    assert b"Too many attempts to sign in" in page.content
    assert b"Wait 15 minutes" in page.content


def test_someone_who_knows_a_username_cannot_lock_its_owner_out(analyst, caplog):
    caplog.set_level(logging.DEBUG)
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    with time_machine.travel(WINDOW_START):
        _fail_until_refused(attacker, "analyst")
        # The attacker's client is refused even the right password...
        _assert_refused(_sign_in(attacker, "analyst", PASSWORD))
        # ...but the analyst, from a client that has not failed, signs in.
        analyst_client = Client(REMOTE_ADDR="203.0.113.20")
        assert _sign_in(analyst_client, "analyst", PASSWORD).status_code == 302
        assert _signed_in(analyst_client)
    assert any("staff sign-in refused" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        for secret in ("analyst", WRONG, PASSWORD, "198.51.100.7", "203.0.113.20"):
            assert secret not in record.getMessage()
    # What django-axes stores of the attempts holds no password.
    for attempt in AccessAttempt.objects.all():
        assert WRONG not in attempt.post_data and PASSWORD not in attempt.post_data
    later = WINDOW_START + datetime.timedelta(minutes=15, seconds=30)
    with time_machine.travel(later):
        assert _sign_in(attacker, "analyst", PASSWORD).status_code == 302


def test_one_client_trying_many_usernames_is_refused_then_released(analyst):
    client = Client(REMOTE_ADDR="198.51.100.8")
    with time_machine.travel(WINDOW_START):
        for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
            assert _sign_in(client, f"guess-{attempt}", WRONG).status_code == 200
        _assert_refused(_sign_in(client, "another-guess", WRONG))
        _assert_refused(_sign_in(client, "analyst", PASSWORD))
        assert _sign_in(Client(REMOTE_ADDR="203.0.113.21"), "analyst", PASSWORD).status_code == 302
    later = WINDOW_START + datetime.timedelta(minutes=15, seconds=30)
    with time_machine.travel(later):
        assert _sign_in(client, "analyst", PASSWORD).status_code == 302


def test_the_admin_login_shares_the_limit(analyst):
    """One limiter for every way to sign in: failures on the admin's login and on
    /sign-in/ count together, and the admin's refusal is the same GOV.UK page."""
    root = User.objects.create_superuser("root", password=PASSWORD)
    client = Client(REMOTE_ADDR="198.51.100.9")
    with time_machine.travel(WINDOW_START):
        half = settings.AXES_FAILURE_LIMIT // 2
        for _ in range(half):
            assert _sign_in(client, "root", WRONG).status_code == 200
        _fail_until_refused_from(client, "root", settings.AXES_FAILURE_LIMIT - half)
        _assert_refused(_sign_in(client, "root", PASSWORD, path=ADMIN_LOGIN))
        _assert_refused(_sign_in(client, "analyst", PASSWORD))
        admin = Client(REMOTE_ADDR="203.0.113.22")
        assert _sign_in(admin, "root", PASSWORD, path=ADMIN_LOGIN).status_code == 302
        assert admin.session[SESSION_KEY] == str(root.pk)


def _fail_until_refused_from(client: Client, username: str, failures: int) -> None:
    for _ in range(failures - 1):
        assert _sign_in(client, username, WRONG, path=ADMIN_LOGIN).status_code == 200
    _assert_refused(_sign_in(client, username, WRONG, path=ADMIN_LOGIN))


def test_behind_a_proxy_the_client_is_the_forwarded_address(analyst, settings):
    """The lockout counts the address TRUSTED_PROXY_COUNT finds, not the proxy's."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    attacker = Client(HTTP_X_FORWARDED_FOR="198.51.100.10", **proxy)
    with time_machine.travel(WINDOW_START):
        _fail_until_refused(attacker, "analyst")
        colleague = Client(HTTP_X_FORWARDED_FOR="203.0.113.23", **proxy)
        assert _sign_in(colleague, "analyst", PASSWORD).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.10"}


def test_empty_submissions_are_not_counted_as_guesses(client, analyst):
    with time_machine.travel(WINDOW_START):
        for _ in range(settings.AXES_FAILURE_LIMIT + 1):
            client.post(SIGN_IN, {"username": "analyst", "password": ""})
        assert _sign_in(client, "analyst", PASSWORD).status_code == 302


@pytest.mark.parametrize("hours", [12, 2])
def test_an_analyst_polling_every_40_minutes_is_signed_out_after_the_limit(
    client, analyst, settings, hours
):
    """Activity keeps the idle timeout away, never the absolute limit (OWASP ASVS 7.3.2)."""
    if hours != 12:  # 12 is the default
        settings.STAFF_SESSION_MAX_HOURS = hours
    with time_machine.travel(WINDOW_START, tick=False) as clock:
        assert _sign_in(client, "analyst", PASSWORD).status_code == 302
        polls = 0
        # A day at most: the test must end even if the limit were never enforced.
        while (page := client.get("/reporting/")).status_code == 200 and polls < 36:
            polls += 1
            clock.shift(datetime.timedelta(minutes=40))
        # Every poll up to the limit was answered; the first at or after it was not.
        assert polls == hours * 60 // 40
        assert page["Location"] == f"{SIGN_IN}?next=/reporting/"
        assert not _signed_in(client)
        notice = client.get(page["Location"])
        assert f"signed in for {hours} hours".encode() in notice.content
        assert _sign_in(client, "analyst", PASSWORD).status_code == 302
        assert client.get("/reporting/").status_code == 200


def test_the_admin_session_has_the_same_absolute_limit(client):
    User.objects.create_superuser("root", password=PASSWORD)
    with time_machine.travel(WINDOW_START, tick=False) as clock:
        assert _sign_in(client, "root", PASSWORD, path=ADMIN_LOGIN).status_code == 302
        for _ in range(12 * 60 // 40 - 1):
            clock.shift(datetime.timedelta(minutes=40))
            assert client.get("/admin/").status_code == 200
        clock.shift(datetime.timedelta(minutes=40))  # 12 hours since signing in
        assert client.get("/admin/")["Location"].startswith(ADMIN_LOGIN)


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
