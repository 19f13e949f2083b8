"""Tampered or garbage values on the respondent journey: a clear answer, never a 500."""

from django.test import Client

from surveys.models import Contributor

from .factories import open_link

GARBAGE = [
    "abc",
    "-1",
    "1.5",
    "99999999999999999999999",
    "1\x00",
    "\x00",
    "💥" * 50,
    "x" * 10_000,
]
PAY = "/survey/transactions/pay-council-tax/"


def test_garbage_on_every_respondent_form_never_gives_a_500(response):
    client = Client(raise_request_exception=False)
    open_link(client, response)
    for value in GARBAGE:
        fields = {
            "state": value,
            "provision": value,
            "channels": [value],
            "end_to_end": value,
            "figure_WEB": value,
            "confirm_figures": value,
            "name": value,
            "email": value,
            "role": value,
            "sections": [value],
            "can_submit": value,
            "submitted_by": value,
            "declaration": value,
        }
        for action in (value, "autosave", "later", "confirm", "upload"):
            for url in (
                PAY,
                "/survey/about/contact/",
                "/survey/check/",
                "/survey/contributors/",
                "/survey/spreadsheet/",
            ):
                page = client.post(url, {**fields, "action": action})
                assert page.status_code < 500, (url, action, repr(value))
    assert not Contributor.objects.exists()
    for path in (
        "/survey/contributors/99999999999999999999999/",
        "/survey/contributors/99999999999999999999999/remove/",
    ):
        assert client.get(path).status_code == 404
        assert client.post(path).status_code == 404
    for token in ("%00", "A" * 42 + "%00", "💥", "x" * 5000):
        assert Client(raise_request_exception=False).get(f"/s/{token}").status_code == 404
