"""Administrators issue and re-issue links from the admin, as CSV for mail merge."""

import csv
import io

import pytest
from django.contrib.auth.models import User

from authorities.models import AccessLink
from surveys.models import Response

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
