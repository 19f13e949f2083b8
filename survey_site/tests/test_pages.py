"""Every page carries the security headers; errors are GOV.UK pages, never a stack trace."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission, User
from django.contrib.sessions.models import Session
from django.test import Client

from survey_site.roles import ANALYSTS, DATA_STEWARDS, SURVEY_ADMINISTRATORS


@pytest.mark.django_db
def test_start_page_explains_the_survey_with_security_headers(client: Client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Council digital channels survey" in response.content
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert "Server" not in response


@pytest.mark.django_db
def test_unknown_page_is_a_govuk_404(client: Client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


@pytest.mark.django_db
def test_csrf_failure_is_a_govuk_page(settings):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert b"govuk-heading-l" in response.content
    assert b"CSRF verification failed" not in response.content


@pytest.mark.django_db
def test_oversized_body_is_refused_cleanly(client: Client, settings):
    settings.DEBUG = False
    response = client.post(
        "/admin/login/",
        data="next=" + "x" * (300 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


@pytest.mark.django_db
def test_roles_exist_after_migrate_with_their_permissions():
    administrators = Group.objects.get(name=SURVEY_ADMINISTRATORS)
    analysts = Group.objects.get(name=ANALYSTS)
    admin_perms = set(administrators.permissions.values_list("codename", flat=True))
    assert {"change_authority", "change_survey", "view_tracker"} <= admin_perms
    assert "publish_public_release" in admin_perms
    assert "view_dashboards" not in admin_perms
    # Analysts read releases and draft the public release's words; administrators publish.
    assert set(analysts.permissions.values_list("codename", flat=True)) == {
        "view_dashboards",
        "draft_public_release",
    }
    # Only data stewards read individual answers; the group has no members until given.
    for codename in ("view_individual_responses", "export_responses"):
        holders = Permission.objects.get(codename=codename).group_set
        assert list(holders.values_list("name", flat=True)) == [DATA_STEWARDS]
    assert not Group.objects.get(name=DATA_STEWARDS).user_set.exists()


@pytest.mark.django_db
def test_session_expiry_slides_without_a_write_on_every_request(client: Client, settings):
    session = client.session
    session["anything"] = 1
    session.save()
    client.get("/admin/login/")  # reads the session: the first refresh is written
    first = Session.objects.get().expire_date
    client.get("/admin/login/")
    assert Session.objects.get().expire_date == first  # no write within the minute
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=90)
    with time_machine.travel(later):
        client.get("/admin/login/")
    assert Session.objects.get().expire_date > first


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "start", "start_text"),
    [
        (ANALYSTS, "/reporting/", "Go to the protected releases"),
        (SURVEY_ADMINISTRATORS, "/campaigns/", "Go to the survey rounds"),
    ],
)
def test_staff_error_pages_speak_to_staff(client: Client, settings, role, start, start_text):
    settings.DEBUG = False
    user = User.objects.create_user("staff-member", password="a-long-test-password")
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    refused = client.get("/responses/")  # the data stewards' pages
    missing = client.get(start + "no-such-round/")
    assert (refused.status_code, missing.status_code) == (403, 404)
    for page, heading in (
        (refused, "You do not have permission to view this page"),
        (missing, "Page not found"),
    ):
        html = page.content.decode()
        assert f'<h1 class="govuk-heading-l">{heading}</h1>' in html
        assert f'<a class="govuk-link" href="{start}">{start_text}</a>' in html
        assert html.count('action="/sign-out/"') == 2  # in the navigation and the page
        assert "start of the survey" not in html
    assert "signed in as staff-member" in refused.content.decode()


@pytest.mark.django_db
def test_respondents_error_pages_stay_as_they_were(client: Client, settings):
    settings.DEBUG = False
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    assert b"go to the start of the survey" in missing.content
    assert b'action="/sign-out/"' not in missing.content
