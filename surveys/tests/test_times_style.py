"""Pages and emails write times and dates in GOV.UK style: '5pm on 15 July 2026', never 'p.m.'."""

import datetime
import html
import re

import pytest
import time_machine
from django.core import mail

from outbox.models import OutboundEmail
from survey_site.formatting import LONDON
from surveys.tests.test_html_valid import collect_pages

# "5:00p.m.", "6:11 a.m.", "5:00 PM", "17:00" as a time of day, "2026-07-15" in words for people.
NOT_GOVUK = re.compile(
    r"\d\s?[ap]\.m\.|\b\d{1,2}(:\d\d)?\s?[AP]M\b|\b[0-2]\d:[0-5]\d\b|\b\d{4}-\d\d-\d\d\b"
)


def visible_text(page: bytes | str) -> str:
    text = page.decode() if isinstance(page, bytes) else page
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def not_govuk(texts: dict[str, str]) -> list[str]:
    return [
        f"{name}: {match.group(0)!r}"
        for name, text in texts.items()
        for match in NOT_GOVUK.finditer(text)
    ]


def test_the_pattern_finds_what_django_date_filters_used_to_print():
    assert not_govuk({"old": "by 5:00p.m. on 2014-04-01, 6:11a.m.., 17:00"}) == [
        "old: '0p.m.'", "old: '2014-04-01'", "old: '1a.m.'", "old: '17:00'",
    ]  # fmt: skip
    assert not_govuk({"new": "5pm on Wednesday 15 July 2026, 6:03am, midday"}) == []


@pytest.mark.django_db
def test_respondent_pages_and_emails_show_govuk_times(response, settings):
    settings.DEBUG = False
    survey = response.survey
    survey.closes_at = datetime.datetime(2027, 7, 15, 17, 0, tzinfo=LONDON)
    survey.save(update_fields=["closes_at"])
    # 10:03am BST, so a change made now shows "10:03am" (the old filters gave "10:03a.m.").
    with time_machine.travel(datetime.datetime(2027, 7, 1, 9, 3, tzinfo=datetime.UTC), tick=False):
        pages = {name: visible_text(page) for name, page in collect_pages(response).items()}
    emails = {
        f"email {email.kind}": visible_text(
            email.subject + "\n" + email.body_text + email.body_html
        )
        for email in OutboundEmail.objects.filter(response=response)
    } | {f"mail {sent.subject}": sent.body for sent in mail.outbox}
    assert emails, "the journey sends emails to check"
    assert not_govuk(pages | emails) == []
    deadline = "5pm on Thursday 15 July 2027"
    assert deadline in pages["link-landing"]
    assert deadline in pages["task-list"]
    assert "10:03am on 1 July 2027" in pages["transaction-with-history"]
    assert any(deadline in text for text in emails.values())
