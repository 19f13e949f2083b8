"""URLs worked out once per process: the static storage's and ``{% fixed_url %}``'s are the
ones Django would give on every render."""

import json

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix

from survey_site.storage import StaticFilesStorage


@pytest.fixture
def storage(tmp_path):
    manifest = {"paths": {"css/app.css": "css/app.0123456789ab.css"}, "version": "1.1"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    return StaticFilesStorage(location=tmp_path, base_url="/static/")


def test_a_static_url_is_the_manifests_and_is_remembered(storage):
    assert storage.url("css/app.css") == "/static/css/app.0123456789ab.css"
    storage.hashed_files["css/app.css"] = "css/app.changed.css"
    # The manifest is read once at start-up, so the first answer stands.
    assert storage.url("css/app.css") == "/static/css/app.0123456789ab.css"
    assert storage.url("css/app.css", force=True) == "/static/css/app.changed.css"


def test_a_file_missing_from_the_manifest_is_refused_every_time(storage):
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("css/missing.css")


def test_fixed_url_is_the_url_tags_and_follows_the_script_prefix():
    template = Template(
        "{% fixed_url 'privacy' %} {% fixed_url 'surveys:tasks' as tasks %}{{ tasks }}"
    )
    assert template.render(Context()) == f"{reverse('privacy')} {reverse('surveys:tasks')}"
    set_script_prefix("/channels/")
    try:
        assert template.render(Context()) == "/channels/privacy/ /channels/survey/"
    finally:
        set_script_prefix("/")
