"""Privacy notice, accessibility statement and cookies: public, and linked from every page."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import Client

PUBLIC = {
    "/privacy/": "Privacy notice",
    "/accessibility/": "Accessibility statement for the Council digital channels survey",
    "/cookies/": "Cookies",
}
FOOTER = ('href="/privacy/">Privacy<', 'href="/accessibility/">Accessibility statement<',
          'href="/cookies/">Cookies<')  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "heading"), PUBLIC.items())
def test_public_pages_render_for_anyone(path, heading):
    page = Client().get(path)
    assert page.status_code == 200
    assert re.search(rf"<h1 class=\"govuk-heading-xl\">{heading}</h1>", page.content.decode())


@pytest.mark.django_db
def test_privacy_notice_says_what_article_13_asks(settings):
    settings.DATA_CONTROLLER = "the Example Controller"
    settings.SURVEY_TEAM_EMAIL = "team@example.org"
    settings.CONTACT_DETAILS_RETENTION_YEARS = 3
    text = Client().get("/privacy/").content.decode()
    for words in (
        "The data controller is the Example Controller",
        "mailto:team@example.org",
        "public task",
        "article 6(1)(e)",
        "telephone number",
        "for 3 years after the survey round",
        "Information Commissioner's Office",
        "ask for a copy of your personal data",
        "Every time they do, it is recorded",
    ):
        assert words in text, words


@pytest.mark.django_db
def test_cookies_page_names_the_cookies_the_service_sets(settings):
    client = Client()
    client.get("/sign-in/")  # a form page: Django sets the CSRF cookie
    set_cookies = set(client.cookies)
    text = client.get("/cookies/").content.decode()
    assert set_cookies and all(f">{name}</th>" in text for name in set_cookies)
    assert f">{settings.SESSION_COOKIE_NAME}</th>" in text
    assert "analytics" in text


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/sign-in/", "/no-such-page/", *PUBLIC])
def test_every_page_links_to_them_and_asks_for_feedback(path, settings):
    settings.SURVEY_TEAM_EMAIL = "team@example.org"
    text = Client().get(path).content.decode()
    footer = text[text.index('<footer class="govuk-footer">') :]
    assert all(link in footer for link in FOOTER)
    banner = text[text.index('class="govuk-phase-banner"') : text.index("</header>")]
    assert 'href="mailto:team@example.org?subject=Feedback"' in banner


def test_the_error_page_without_context_still_links_them():
    # Django's default 500 handler renders with no context and no request.
    text = render_to_string("500.html")
    assert all(link in text for link in FOOTER)
