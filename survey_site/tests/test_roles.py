"""Roles hold for superusers too, and the first administrator gets no access to answers."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.urls import reverse

from survey_site.roles import SURVEY_ADMINISTRATORS, holds

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-administrator-password"
DATA_ACCESS = (
    "surveys.view_individual_responses",
    "surveys.export_responses",
    "reporting.view_suppression_internals",
    "reporting.view_dashboards",
)


def _create(*args: str) -> str:
    out = StringIO()
    call_command("create_administrator", *args, stdout=out)
    return out.getvalue()


def test_create_administrator_makes_a_survey_administrator_without_data_access(client, monkeypatch):
    monkeypatch.setenv("SURVEY_ADMINISTRATOR_PASSWORD", PASSWORD)
    out = _create("chief-admin", "--email", "admin@localdigital.example")
    assert "Created administrator chief-admin" in out
    user = User.objects.get(username="chief-admin")
    assert user.check_password(PASSWORD) and user.email == "admin@localdigital.example"
    assert [g.name for g in user.groups.all()] == [SURVEY_ADMINISTRATORS]
    assert user.is_staff and user.is_superuser  # runs the admin and the accounts
    assert user.has_perm("surveys.view_individual_responses")  # Django's view...
    assert not any(holds(user, permission) for permission in DATA_ACCESS)  # ...not ours
    assert holds(user, "surveys.view_tracker")
    client.force_login(user)
    assert client.get(reverse("signed-in"))["Location"] == reverse("campaigns:index")
    assert client.get(reverse("stewards:index")).status_code == 403
    assert client.get(reverse("reporting:release-index")).status_code == 403
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("password", "args", "message"),
    [
        ("short", ["--email", "a@localdigital.example"], "Password refused: This password is too"),
        (PASSWORD, ["--email", "not-an-address"], "'not-an-address' is not an email address"),
        (None, ["--email", "a@localdigital.example"], "Set SURVEY_ADMINISTRATOR_PASSWORD"),
    ],
)
def test_create_administrator_refuses_bad_input_and_creates_nothing(
    monkeypatch, password, args, message
):
    if password:
        monkeypatch.setenv("SURVEY_ADMINISTRATOR_PASSWORD", password)
    else:
        monkeypatch.delenv("SURVEY_ADMINISTRATOR_PASSWORD", raising=False)
    with pytest.raises(CommandError, match=message):
        _create("chief-admin", *args)
    assert not User.objects.filter(username="chief-admin").exists()


def test_create_administrator_never_changes_an_existing_user(monkeypatch):
    User.objects.create_user("Chief-Admin", password="an-old-long-password")
    monkeypatch.setenv("SURVEY_ADMINISTRATOR_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="A user called chief-admin already exists"):
        _create("chief-admin", "--email", "admin@localdigital.example")
    assert User.objects.get().check_password("an-old-long-password")
