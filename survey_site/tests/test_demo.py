"""`make run` relies on setup_demo: it must work on an empty database, and again."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from reporting.models import Release, ReleaseStatus
from survey_site.roles import holds
from surveys.models import Survey


@pytest.mark.django_db
def test_setup_demo_builds_everything_once_and_is_safe_to_repeat(settings):
    settings.DEBUG = True  # the test runner turns it off; make run has it on
    out = StringIO()
    call_command("setup_demo", stdout=out)
    text = out.getvalue()
    assert "Demo ready." in text
    assert text.count("/s/") == 3  # three sample council links
    assert Survey.objects.filter(slug__in=["demo-2015", "demo-2015-results"]).count() == 2
    release = Release.objects.get(survey__slug="demo-2015-results")
    assert release.status == ReleaseStatus.READY and release.published_at is not None
    admin = User.objects.get(username="admin")
    assert admin.check_password("demo-admin-password")
    # The demo administrator runs the admin but reads no answers and no suppression
    # internals: those need their own role, which superuser status does not give.
    for permission in (
        "surveys.view_individual_responses",
        "surveys.export_responses",
        "reporting.view_suppression_internals",
    ):
        assert not holds(admin, permission)
    # The analyst signs in on the service's page and needs no access to the admin.
    assert not User.objects.get(username="analyst").is_staff
    assert "/sign-in/" in text
    again = StringIO()
    call_command("setup_demo", stdout=again)
    assert "Building synthetic results" not in again.getvalue()
    assert Release.objects.count() == 1


def test_setup_demo_refuses_without_debug(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("setup_demo", stdout=StringIO())
