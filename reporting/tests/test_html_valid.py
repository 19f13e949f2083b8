"""Every analyst page type's HTML passes the Nu HTML checker."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from reporting.services import release_build
from surveys.tests.test_html_valid import VNU_JAR
from tests.conftest import require

pytestmark = pytest.mark.django_db


def test_every_analyst_page_is_valid_html(small_round, analyst_client, tmp_path: Path, settings):
    settings.DEBUG = False
    require(Path(VNU_JAR).is_file(), "vnu.jar is not installed (make test installs it)")
    require(shutil.which("java") is not None, "Java is not installed")
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
    result = subprocess.run(
        ["java", "-jar", VNU_JAR, "--errors-only", "--format", "json", "--exit-zero-always",
         str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    messages = json.loads(result.stderr or result.stdout)["messages"]
    problems = [f"{Path(m['url']).name}:{m.get('lastLine')}: {m['message']}" for m in messages]
    assert problems == [], "\n".join(problems)
