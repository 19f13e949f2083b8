"""Administrators issue and re-issue links from the admin, as CSV for mail merge."""

import csv
import io

import pytest
from django.contrib.auth.models import Group, User

from authorities.models import AccessLink
from survey_site.roles import SURVEY_ADMINISTRATORS
from surveys.models import LinkDownload, LinkDownloadKind, Response

from .factories import make_authority, new_response


@pytest.fixture
def admin_client(client, db):
    user = User.objects.create_superuser("boss", "boss@example.gov.uk", "a-long-password-123")
    client.force_login(user)
    return client


def rows_of(download) -> list[dict]:
    assert download["Content-Type"].startswith("text/csv")
    assert "no-store" in download["Cache-Control"]
    return list(csv.DictReader(io.StringIO(download.content.decode())))


def test_issue_links_action_downloads_every_council_link(admin_client, survey):
    survey.chosen_authorities.add(make_authority("E06000001"), make_authority("E06000002"))
    download = admin_client.post(
        "/admin/surveys/survey/", {"action": "issue_links", "_selected_action": [survey.pk]}
    )
    rows = rows_of(download)
    assert [r["gss_code"] for r in rows] == ["E06000001", "E06000002"]
    assert all(r["link"].startswith("http://127.0.0.1:8000/s/") for r in rows)
    again = rows_of(
        admin_client.post(
            "/admin/surveys/survey/", {"action": "issue_links", "_selected_action": [survey.pk]}
        )
    )
    assert again == rows
    assert AccessLink.objects.count() == 2


def test_reissue_action_replaces_the_link(admin_client, survey):
    response = new_response(survey, make_authority("E06000003"))
    first = rows_of(
        admin_client.post(
            "/admin/surveys/survey/", {"action": "issue_links", "_selected_action": [survey.pk]}
        )
    )
    second = rows_of(
        admin_client.post(
            "/admin/surveys/response/",
            {"action": "reissue_links", "_selected_action": [response.pk]},
        )
    )
    assert first[0]["link"] != second[0]["link"]
    assert AccessLink.objects.filter(revoked_at__isnull=True).count() == 1
    assert response.changes.filter(key="link").get().changed_by == "Administrator boss"


def test_response_admin_shows_status_not_answers(admin_client, response):
    page = admin_client.get(f"/admin/surveys/response/{response.pk}/change/")
    assert page.status_code == 200
    assert b"Not started" in page.content
    assert admin_client.get("/admin/surveys/response/add/").status_code == 403
    assert Response.objects.count() == 1


def test_every_download_of_live_links_is_recorded_and_cannot_be_changed(admin_client, survey):
    survey.chosen_authorities.add(make_authority("E06000001"), make_authority("E06000002"))
    admin_client.post(
        "/admin/surveys/survey/", {"action": "issue_links", "_selected_action": [survey.pk]}
    )
    response = new_response(survey, make_authority("E06000003"))
    admin_client.post(
        "/admin/surveys/response/", {"action": "reissue_links", "_selected_action": [response.pk]}
    )
    reissued, issued = LinkDownload.objects.all()
    assert (issued.user.username, issued.kind, issued.survey) == (
        "boss",
        LinkDownloadKind.ISSUED,
        survey,
    )
    assert (issued.council_count, issued.gss_codes) == (2, ["E06000001", "E06000002"])
    assert (reissued.kind, reissued.gss_codes) == (LinkDownloadKind.REISSUED, ["E06000003"])
    # Administrators (not superusers) read the record in the admin; nobody changes it.
    administrator = User.objects.create_user("clerk", password="a-long-password-123", is_staff=True)
    administrator.groups.add(Group.objects.get(name=SURVEY_ADMINISTRATORS))
    admin_client.force_login(administrator)
    listing = admin_client.get("/admin/surveys/linkdownload/")
    assert listing.status_code == 200
    assert b"Created missing links and downloaded them" in listing.content
    record = f"/admin/surveys/linkdownload/{issued.pk}/"
    assert b"E06000002" in admin_client.get(record + "change/").content
    assert admin_client.post(record + "change/", {"council_count": 0}).status_code == 403
    assert admin_client.post(record + "delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/surveys/linkdownload/add/").status_code == 403
    assert LinkDownload.objects.get(pk=issued.pk).council_count == 2
