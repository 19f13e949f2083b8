"""The campaign's pages and emails write deadlines in GOV.UK style, like the journey's."""

import datetime

import pytest
from django.test import Client

from campaigns.forms import parse_time
from campaigns.services import invitations_send
from outbox.models import OutboundEmail
from survey_site.formatting import LONDON
from surveys.tests.test_times_style import not_govuk, visible_text


@pytest.mark.django_db
def test_campaign_pages_and_invitations_show_govuk_times(
    survey, councils3, administrator, settings, django_capture_on_commit_callbacks
):
    settings.DEBUG = False
    survey.closes_at = datetime.datetime(2027, 1, 29, 12, 0, tzinfo=LONDON)
    survey.save(update_fields=["closes_at"])
    with django_capture_on_commit_callbacks(execute=True):
        invitations_send(survey=survey)
    client = Client()
    client.force_login(administrator)
    base = f"/campaigns/{survey.slug}"
    paths = {
        "index": "/campaigns/",
        "tracker": f"{base}/",
        "preview": f"{base}/preview/?kind=invitation&council=E06000001",
        "extension": f"{base}/councils/E06000001/extend/",
    }
    pages = {name: visible_text(client.get(path).content) for name, path in paths.items()}
    emails = {
        f"email {email.pk}": visible_text(f"{email.subject}\n{email.body_text}{email.body_html}")
        for email in OutboundEmail.objects.all()
    }
    assert len(emails) == 2
    assert not_govuk(pages | emails) == []
    deadline = "midday on Friday 29 January 2027"
    assert all(deadline in text for text in [*pages.values(), *emails.values()])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("17:00", datetime.time(17, 0)), ("5pm", datetime.time(17, 0)),
        ("5:30PM", datetime.time(17, 30)), ("5.30 pm", datetime.time(17, 30)),
        ("5p.m.", datetime.time(17, 0)), ("12am", datetime.time(0, 0)),
        ("12pm", datetime.time(12, 0)), ("midday", datetime.time(12, 0)),
        ("Midnight", datetime.time(0, 0)), ("9", datetime.time(9, 0)),
        ("13pm", None), ("0am", None), ("24:00", None), ("5:60pm", None), ("soon", None),
    ],
)  # fmt: skip
def test_an_extension_time_can_be_typed_as_the_hint_shows(typed, expected):
    assert parse_time(typed) == expected


@pytest.mark.django_db
def test_an_extension_given_as_5_30pm_is_shown_back_in_govuk_style(
    survey, councils3, administrator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitations_send(survey=survey, authorities=councils3[:1])
    client = Client()
    client.force_login(administrator)
    url = f"/campaigns/{survey.slug}/councils/E06000001/extend/"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"day": "1", "month": "2", "year": "2099", "time": "5:30pm"})
    assert done.status_code == 303
    tracker = visible_text(client.get(f"/campaigns/{survey.slug}/").content)
    assert "Extended to 5:30pm on 1 February 2099" in tracker
