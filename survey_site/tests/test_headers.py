"""Permissions-Policy on every response; analysts' pages kept out of every cache."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from reporting.services import release_build
from reporting.tests.conftest import small_round  # noqa: F401 (fixture)
from survey_site.roles import ANALYSTS
from surveys.tests.conftest import (  # noqa: F401 (fixtures)
    councils,
    questionnaire,
    questionnaire_data,
    survey,
)

pytestmark = pytest.mark.django_db

DENIED = ("camera", "microphone", "geolocation", "payment", "usb", "display-capture")


def _denied(response) -> set[str]:
    policy = response["Permissions-Policy"]
    return {part.strip().removesuffix("=()") for part in policy.split(",") if "=()" in part}


@pytest.mark.parametrize(
    "url", ["/", "/sign-in/", "/admin/login/", "/no-such-page/", "/s/" + "x" * 43, "/healthz"]
)
def test_every_response_denies_device_features(client: Client, url):
    response = client.get(url)
    assert set(DENIED) <= _denied(response), response.get("Permissions-Policy")


def test_analysts_pages_and_downloads_are_private_and_never_stored(client, small_round):  # noqa: F811
    release_build(survey_id=small_round.pk)
    analyst = User.objects.create_user("analyst", password="a-long-test-password")
    analyst.groups.add(Group.objects.get(name=ANALYSTS))
    client.force_login(analyst)
    slug = small_round.slug
    for url in (
        reverse("reporting:release-index"),
        reverse("reporting:release-overview", args=[slug]),
        reverse("reporting:release-take-up", args=[slug]),
        reverse("reporting:release-download", args=[slug, "csv"]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, url
        assert set(DENIED) <= _denied(response), url
