"""Change since the previous round in a real browser: the 2016 public release and a merged
council's comparison, wide and narrow, accessible (axe) and valid HTML (Nu HTML checker)."""

import re
from pathlib import Path

import pytest

from publishing.tests.conftest import publisher, questionnaire, questionnaire_data  # noqa: F401
from publishing.tests.round_fixtures import two_rounds  # noqa: F401 (fixture)
from surveys.models import Response
from surveys.services import link_issue
from surveys.tests.factories import token_path
from tests.browser.conftest import axe_violations
from tests.html import html_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 375])
def test_change_since_the_previous_round_is_accessible(page, two_rounds, width, tmp_path: Path):  # noqa: F811
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/statistics/round-2016/")
    page.get_by_role("heading", level=2, name="Change since Channel baseline round-2015").wait_for()
    assert page.locator("#take-up-change [data-release]").count() > 0
    assert axe_violations(page) == [], "public"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    (tmp_path / "public.html").write_text(page.content())

    response = Response.objects.get(survey=two_rounds["second"], authority=two_rounds["merged"])
    page.goto(token_path(link_issue(response=response)))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/survey/compare/$"))
    page.get_by_role("heading", level=2, name="Since Channel baseline round-2015").wait_for()
    assert page.locator('#since-volumes [data-own^="previous|"]').count() > 0
    assert axe_violations(page) == [], "comparison"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    (tmp_path / "comparison.html").write_text(page.content())
    if width == 1280:
        problems = html_problems(tmp_path)
        assert problems == [], "\n".join(problems)
