"""Every analyst page type's HTML passes the Nu HTML checker."""

from pathlib import Path

import pytest

from reporting.services import release_build
from tests.html import html_problems

pytestmark = pytest.mark.django_db


def test_every_analyst_page_is_valid_html(small_round, analyst_client, tmp_path: Path, settings):
    settings.DEBUG = False
    slug = small_round.slug
    unpublished = analyst_client.get(f"/reporting/{slug}/")
    assert b"have not been published yet" in unpublished.content
    (tmp_path / "overview-unpublished.html").write_bytes(unpublished.content)
    release_build(survey_id=small_round.pk)
    for name, path in {
        "index": "/reporting/",
        "overview": f"/reporting/{slug}/",
        "channels": f"/reporting/{slug}/channels/",
        "take-up": f"/reporting/{slug}/take-up/",
        "costs": f"/reporting/{slug}/costs/",
        "answers": f"/reporting/{slug}/answers/",
    }.items():
        page = analyst_client.get(path)
        assert page.status_code == 200, name
        (tmp_path / f"{name}.html").write_bytes(page.content)
    problems = html_problems(tmp_path)
    assert problems == [], "\n".join(problems)
