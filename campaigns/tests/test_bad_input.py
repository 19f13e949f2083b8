"""Tampered or garbage values on the staff campaign pages: a clear error, never a 500."""

import pytest
from django.test import Client

from outbox.models import OutboundEmail
from surveys.services import response_get_or_create

pytestmark = pytest.mark.django_db

# What a tampered form or a fuzzer sends: not numbers, numbers out of range, the NUL
# character PostgreSQL refuses in text, and very long values.
GARBAGE = [
    "abc",
    "-1",
    "1.5",
    "0x10",
    "١٢",
    "99999999999999999999999",
    "1\x00",
    "\x00",
    "E06000001\x00",
    "💥" * 50,
    "x" * 10_000,
]
BAD_REQUEST = b"there is a problem with your request"


@pytest.fixture
def staff(administrator) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(administrator)
    return client


def test_resending_a_garbage_email_id_is_a_bad_request_not_a_500(staff, survey, councils3):
    url = f"/campaigns/{survey.slug}/send/"
    for value in GARBAGE:
        page = staff.post(url, {"resend": value})
        assert page.status_code in (400, 404), repr(value)
        if page.status_code == 400:
            assert BAD_REQUEST in page.content
    assert staff.post(url, {"resend": "12345"}).status_code == 404
    # No resend value at all is no resend: the tracker asks what to send.
    assert staff.post(url, {"resend": ""}).status_code == 303
    assert not OutboundEmail.objects.exists()


def test_sending_to_garbage_council_codes_is_a_bad_request_not_a_500(staff, survey, councils3):
    url = f"/campaigns/{survey.slug}/send/"
    for value in ["", *GARBAGE]:
        for action in ("invite", "remind"):
            page = staff.post(
                url, {"action": action, "scope": "selected", "council": ["E06000001", value]}
            )
            assert page.status_code == 400, repr(value)
            assert BAD_REQUEST in page.content
        page = staff.post(url, {"action": value, "scope": value})
        assert page.status_code == 303, repr(value)
    assert not OutboundEmail.objects.exists()


def test_tracker_filters_and_pages_with_garbage_never_fail(staff, survey, councils3):
    for value in GARBAGE:
        query = {"status": value, "kind": value, "region": value, "q": value, "page": value}
        assert staff.get(f"/campaigns/{survey.slug}/", query).status_code == 200, repr(value)
        for fmt in ("csv", "xlsx"):
            export = staff.get(f"/campaigns/{survey.slug}/outstanding.{fmt}", query)
            assert export.status_code == 200, repr(value)


def test_preview_with_garbage_shows_govuk_errors(staff, survey, councils3):
    for value in GARBAGE:
        page = staff.get(f"/campaigns/{survey.slug}/preview/", {"kind": value, "council": value})
        assert page.status_code == 200, repr(value)
        assert b"There is a problem" in page.content


def test_extension_with_garbage_shows_govuk_errors(staff, survey, councils3):
    response_get_or_create(survey=survey, authority=councils3[0])
    url = f"/campaigns/{survey.slug}/councils/E06000001/extend/"
    for value in GARBAGE:
        page = staff.post(url, {"day": value, "month": value, "year": value, "time": value})
        assert page.status_code == 200, repr(value)
        assert b"There is a problem" in page.content


def test_extension_of_a_garbage_council_code_is_not_found(staff, survey, councils3):
    for code in ["%00", "E06000001%00", "x" * 500, "%F0%9F%92%A5", "E06000001%0A"]:
        page = staff.get(f"/campaigns/{survey.slug}/councils/{code}/extend/")
        assert page.status_code == 404, code
        assert staff.post(f"/campaigns/{survey.slug}/councils/{code}/extend/").status_code == 404
