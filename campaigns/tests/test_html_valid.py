"""Every campaign page type's HTML passes the Nu HTML checker, like the journey's pages."""

import datetime
from pathlib import Path

import pytest
from django.test import Client

from campaigns.services import deadline_extend, invitations_send
from surveys.services import response_get_or_create
from tests.html import html_problems

ONE_DAY = datetime.timedelta(days=1)


@pytest.mark.django_db
def test_every_campaign_page_is_valid_html(
    survey, councils3, administrator, tmp_path: Path, settings, django_capture_on_commit_callbacks
):
    settings.DEBUG = False
    with django_capture_on_commit_callbacks(execute=True):
        invitations_send(survey=survey)
    # Redcar has no contact: given more time, it is listed as not told.
    redcar = response_get_or_create(survey=survey, authority=councils3[2])
    deadline_extend(response=redcar, until=survey.closes_at + ONE_DAY, actor="Administrator")
    client = Client()
    client.force_login(administrator)
    base = f"/campaigns/{survey.slug}"
    pages = {
        "index": client.get("/campaigns/"),
        "tracker": client.get(f"{base}/"),
        "tracker-filtered": client.get(f"{base}/?status=invited&region=north_east&q=x"),
        "preview": client.get(f"{base}/preview/"),
        "preview-shown": client.get(f"{base}/preview/?kind=invitation&council=E06000001"),
        "preview-errors": client.get(f"{base}/preview/?kind=&council="),
        "extension": client.get(f"{base}/councils/E06000001/extend/"),
        "extension-no-contact": client.get(f"{base}/councils/E06000003/extend/"),
        "extension-errors": client.post(f"{base}/councils/E06000001/extend/", {"day": "x"}),
        "send-confirm": client.post(f"{base}/send/", {"action": "remind"}),
        "send-confirm-nothing": client.post(f"{base}/send/", {"action": "invite"}),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        assert page.content.startswith(b"<!DOCTYPE html>"), name
        (tmp_path / f"{name}.html").write_bytes(page.content)
    problems = html_problems(tmp_path)
    assert problems == [], "\n".join(problems)
