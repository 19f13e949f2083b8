"""Every page of the journey carries the security headers and is never stored by a cache."""

import pytest
from django.urls import reverse

from .factories import fill_everything

pytestmark = pytest.mark.django_db


def _journey_pages(response) -> list[str]:
    questionnaire = response.survey.questionnaire
    transaction = questionnaire.transactions.order_by("number").first()
    section = questionnaire.sections.exclude(slug="transactions").first()
    return [
        reverse("surveys:tasks"),
        reverse("surveys:transaction", args=[transaction.slug]),
        reverse("surveys:questions", args=["about", "contact"]),
        reverse("surveys:check"),
        reverse("surveys:section-check", args=[section.slug]),
        reverse("surveys:contributors"),
        reverse("surveys:spreadsheet"),
        reverse("surveys:spreadsheet-download"),
    ]


def _assert_protected(page, url):
    assert page.status_code == 200, url
    assert "no-store" in page["Cache-Control"], url
    assert page["X-Content-Type-Options"] == "nosniff", url
    assert page["X-Frame-Options"] == "DENY", url
    assert page["Referrer-Policy"] in ("same-origin", "no-referrer"), url
    policy = page["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy, url


def test_every_journey_page_has_security_headers_and_no_store(client_in, response):
    fill_everything(response)
    pages = _journey_pages(response)
    for url in pages:
        _assert_protected(client_in.get(url), url)
    # After submission too: the confirmation page holds the reference number.
    submitted = client_in.post(
        reverse("surveys:check"), {"submitted_by": "Pat Example", "declaration": "on"}
    )
    assert submitted.status_code in (302, 303)
    confirmation = client_in.get(submitted["Location"])
    _assert_protected(confirmation, submitted["Location"])


def test_journey_pages_without_a_session_send_people_to_the_session_ended_page(client, response):
    for url in _journey_pages(response):
        page = client.get(url)
        assert page.status_code == 302, url
        assert page["Location"] == reverse("surveys:session-ended"), url
        assert "no-store" in page["Cache-Control"], url
