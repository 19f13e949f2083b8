"""Every data steward page type's HTML, and the staff error pages, pass the Nu HTML checker."""

from pathlib import Path

import pytest
from django.urls import reverse

from tests.html import html_problems

pytestmark = pytest.mark.django_db


def test_every_steward_page_is_valid_html(submitted, steward_client, tmp_path: Path, settings):
    settings.DEBUG = False
    slug, gss = submitted.survey.slug, submitted.authority.gss_code
    for name, url in {
        "index": reverse("stewards:index"),
        "responses": reverse("stewards:responses", args=[slug]),
        "response": reverse("stewards:response", args=[slug, gss]),
    }.items():
        page = steward_client.get(url)
        assert page.status_code == 200, name
        (tmp_path / f"{name}.html").write_bytes(page.content)
    # A steward's own error pages (for staff, not respondents).
    for name, url, status in (
        ("staff-403", reverse("reporting:release-index"), 403),
        ("staff-404", reverse("stewards:responses", args=["no-such-round"]), 404),
    ):
        page = steward_client.get(url)
        assert page.status_code == status, name
        (tmp_path / f"{name}.html").write_bytes(page.content)
    problems = html_problems(tmp_path)
    assert problems == [], "\n".join(problems)
