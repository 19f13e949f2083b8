"""`make run` relies on setup_demo: it must work on an empty database, and again."""

import shutil
import subprocess
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from campaigns.selectors import contact_problem
from campaigns.services import invitations_send
from outbox.models import OutboundEmail
from publishing.models import PublicRelease, PublicReleaseStatus
from reporting.models import Release, ReleaseStatus
from survey_site.roles import holds
from surveys.models import EmailKind, Survey
from surveys.selectors import survey_population


@pytest.mark.django_db
def test_setup_demo_builds_everything_once_and_is_safe_to_repeat(settings):
    settings.DEBUG = True  # the test runner turns it off; make run has it on
    out = StringIO()
    call_command("setup_demo", stdout=out)
    text = out.getvalue()
    assert "Demo ready." in text
    # Three sample council links for the open round, one for a comparison in the results round.
    assert text.count("/s/") == 4
    assert Survey.objects.filter(slug__in=["demo-2015", "demo-2015-results"]).count() == 2
    release = Release.objects.get(survey__slug="demo-2015-results")
    assert release.status == ReleaseStatus.READY and release.published_at is not None
    # Its public release is published (to everyone), and the council with a link is told.
    public = PublicRelease.objects.get(survey__slug="demo-2015-results")
    assert (public.status, public.version) == (PublicReleaseStatus.PUBLISHED, 1)
    assert public.findings and public.published_by.username == "admin"
    assert "/statistics/demo-2015-results/" in text
    assert OutboundEmail.objects.filter(kind=EmailKind.COMPARISON_READY).count() == 1
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
    # Every council of the demo round has a synthetic contact on a reserved domain, so
    # the campaign can be tried end to end: invitations go to all of them.
    demo = Survey.objects.get(slug="demo-2015")
    councils = list(survey_population(survey=demo))
    assert len(councils) == 353
    assert all(contact_problem(council) == "" for council in councils)
    hartlepool = next(c for c in councils if c.gss_code == "E06000001")
    assert hartlepool.chief_executive_email == "chief.executive@hartlepool.example"
    assert hartlepool.chief_executive_name == "Demo Chief Executive of Hartlepool"
    # Numbers for chasing by phone from Ofcom's range for drama: they reach no one.
    assert all(c.switchboard_phone.startswith("01632 960") for c in councils)
    report = invitations_send(survey=demo)
    assert (report.queued, report.skipped) == (353, {})
    assert set(OutboundEmail.objects.values_list("to_address", flat=True)) == {
        c.chief_executive_email for c in councils
    }
    again = StringIO()
    call_command("setup_demo", stdout=again)
    assert "Building synthetic results" not in again.getvalue()
    assert "Synthetic chief executive contacts" not in again.getvalue()  # kept as they are
    assert Release.objects.count() == 1
    assert PublicRelease.objects.count() == 1  # published once, and emailed once
    assert OutboundEmail.objects.filter(kind=EmailKind.COMPARISON_READY).count() == 1


def test_setup_demo_refuses_without_debug(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("setup_demo", stdout=StringIO())


def test_demo_reset_starts_afresh_but_keeps_the_virtual_environment(settings):
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    plan = subprocess.run(
        [make, "-n", "demo-reset", "DATABASE_URL="],
        cwd=settings.BASE_DIR, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "rm -rf db.sqlite3 db.sqlite3-journal sent-emails\n" in plan
    assert "setup_demo" in plan and "runserver" in plan
    assert "rm -rf .venv" not in plan and "rm -rf $(VENV)" not in plan
    refused = subprocess.run(
        [make, "demo-reset", "DATABASE_URL=postgres://postgres@127.0.0.1/other"],
        cwd=settings.BASE_DIR, capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "unset DATABASE_URL" in refused.stderr
