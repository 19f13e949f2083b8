"""Data stewards read councils' own answers, free text included; every reading is recorded."""

import csv
import io
import logging

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from stewards.models import AccessKind, ResponseAccess
from survey_site.roles import ANALYSTS, DATA_STEWARDS, SURVEY_ADMINISTRATORS
from surveys.tests.factories import fill_everything

from .conftest import make_user

pytestmark = pytest.mark.django_db


def test_a_steward_reads_a_councils_answers_with_free_text_and_it_is_recorded(
    submitted, steward_client, caplog
):
    slug, gss = submitted.survey.slug, submitted.authority.gss_code
    listing = steward_client.get(reverse("stewards:responses", args=[slug]))
    assert listing.status_code == 200
    assert submitted.authority.official_name.encode() in listing.content
    assert not ResponseAccess.objects.exists()  # the list shows who, not what
    with caplog.at_level(logging.INFO, logger="stewards"):
        page = steward_client.get(reverse("stewards:response", args=[slug, gss]))
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    text = page.content.decode()
    assert "our Acme CRM contract runs to 2017" in text
    assert "Pat Example" in text and submitted.reference in text
    (access,) = ResponseAccess.objects.all()
    assert (access.user.username, access.kind, access.response) == (
        "steward",
        AccessKind.VIEWED,
        submitted,
    )
    # The log says who and which by id only: no council, answer or username.
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert f"response {submitted.pk}" in logged
    for secret in ("Acme", submitted.authority.official_name, "steward", gss):
        assert secret not in logged


def test_drafts_and_unknown_councils_are_not_found(response, steward_client):
    fill_everything(response)  # answered but not submitted
    slug = response.survey.slug
    draft = steward_client.get(reverse("stewards:response", args=[slug, "E06000001"]))
    assert draft.status_code == 404
    unknown = steward_client.get(reverse("stewards:response", args=[slug, "E99999999"]))
    assert unknown.status_code == 404
    assert not ResponseAccess.objects.exists()


def test_raw_figures_download_is_recorded_and_formula_safe(submitted, steward_client):
    url = reverse("stewards:figures-csv", args=[submitted.survey.slug])
    download = steward_client.get(url)
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][:2] == ["gss_code", "council_type"]
    assert len(rows) > 1 and all(row[0] == "E06000001" for row in rows[1:])
    # Free text never goes into the raw figures.
    assert "Acme" not in download.content.decode()
    assert ResponseAccess.objects.get().kind == AccessKind.EXPORTED


def test_raw_figures_download_leaves_out_withdrawn_figures(submitted, steward_client):
    from surveys.models import TransactionAnswer

    url = reverse("stewards:figures-csv", args=[submitted.survey.slug])
    before = list(csv.reader(io.StringIO(steward_client.get(url).content.decode())))
    assert ["pay-council-tax", "F2F"] in [row[3:5] for row in before]
    # Corrected after the figures were entered: another organisation pays council tax
    # for them, and face to face was taken off a second transaction.
    answers = TransactionAnswer.objects.filter(response=submitted)
    answers.filter(transaction__slug="pay-council-tax").update(provision="other_organisation")
    answers.filter(transaction__slug="council-tax-discount").update(channels_offered=["WEB"])
    rows = list(csv.reader(io.StringIO(steward_client.get(url).content.decode())))
    assert rows[0] == before[0]
    kept = [row[3:5] for row in rows[1:]]
    assert not any(transaction == "pay-council-tax" for transaction, _ in kept)
    assert ["council-tax-discount", "WEB"] in kept
    assert ["council-tax-discount", "F2F"] not in kept
    assert ["council-tax-discount", "PHONE"] not in kept
    assert len(rows) == len(before) - 3 - 2


@pytest.mark.parametrize("role", [ANALYSTS, SURVEY_ADMINISTRATORS, None])
def test_other_roles_cannot_read_individual_answers(submitted, client, role):
    client.force_login(make_user("someone", role))
    slug, gss = submitted.survey.slug, submitted.authority.gss_code
    for url in (
        reverse("stewards:index"),
        reverse("stewards:responses", args=[slug]),
        reverse("stewards:response", args=[slug, gss]),
        reverse("stewards:figures-csv", args=[slug]),
    ):
        assert client.get(url).status_code == 403, url
    assert not ResponseAccess.objects.exists()


def test_signed_out_people_are_sent_to_sign_in(submitted, client):
    page = client.get(reverse("stewards:index"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("sign-in"))


def test_a_steward_lands_on_the_rounds_after_signing_in(submitted, steward_client):
    landing = steward_client.get(reverse("signed-in"))
    assert landing["Location"] == reverse("stewards:index")
    index = steward_client.get(landing["Location"])
    assert submitted.survey.name.encode() in index.content
    assert b"1 submitted response" in index.content


def test_a_superuser_reads_no_answers_without_the_data_stewards_role(submitted, client):
    """Superuser status grants no role: individual answers need the stewards' group."""
    slug, gss = submitted.survey.slug, submitted.authority.gss_code
    root = User.objects.create_superuser("root", password="a-long-test-password")
    client.force_login(root)
    for url in (
        reverse("stewards:index"),
        reverse("stewards:responses", args=[slug]),
        reverse("stewards:response", args=[slug, gss]),
        reverse("stewards:figures-csv", args=[slug]),
    ):
        page = client.get(url)
        assert page.status_code == 403, url
        assert b"Acme CRM" not in page.content
    assert client.get(reverse("signed-in"))["Location"] == reverse("admin:index")
    assert not ResponseAccess.objects.exists()
    root.groups.add(Group.objects.get(name=DATA_STEWARDS))
    client.force_login(User.objects.get(pk=root.pk))
    assert client.get(reverse("stewards:response", args=[slug, gss])).status_code == 200


def test_the_record_of_readings_cannot_be_changed_in_the_admin(submitted, steward_client):
    steward_client.get(
        reverse("stewards:response", args=[submitted.survey.slug, submitted.authority.gss_code])
    )
    superuser = User.objects.create_superuser("root", password="a-long-test-password")
    steward_client.force_login(superuser)
    access = ResponseAccess.objects.get()
    changelist = reverse("admin:stewards_responseaccess_changelist")
    assert steward_client.get(changelist).status_code == 200
    change = reverse("admin:stewards_responseaccess_change", args=[access.pk])
    assert steward_client.post(change, {"kind": "exported"}).status_code == 403
    delete = reverse("admin:stewards_responseaccess_delete", args=[access.pk])
    assert steward_client.post(delete, {"post": "yes"}).status_code == 403
    assert ResponseAccess.objects.get().kind == AccessKind.VIEWED
