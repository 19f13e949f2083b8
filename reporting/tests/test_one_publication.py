"""One publication: no number beside the tables, on any page or in any download.

Releases built from synthetic responses for the 353 councils of 2015 (the public register),
with every council responding and with 27% of them. Slow (a release of 14,000 cells each).
"""

from __future__ import annotations

import io
import json
import random
import re
import types

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reporting.models import ReleaseCell, ReleaseStatus
from reporting.publication import Publication
from reporting.selectors import Shown, SideNumber
from reporting.services import release_build, responses_generate
from surveys.choices import PopulationKind, ResponseStatus
from surveys.models import Response

from .attacker import worked_out
from .census import census
from .factories import close_round

pytestmark = [pytest.mark.django_db]

ENGLAND = "responded|total|total"


def _published_round(survey, *, seed: int, responding: float = 1.0) -> Publication:
    survey.population = PopulationKind.ENGLAND_2015
    survey.save(update_fields=["population"])
    responses_generate(survey_id=survey.pk, seed=seed)
    if responding < 1:
        ids = sorted(Response.objects.filter(survey=survey).values_list("pk", flat=True))
        keep = set(random.Random(seed).sample(ids, round(responding * len(ids))))
        Response.objects.filter(survey=survey).exclude(pk__in=keep).update(
            status=ResponseStatus.IN_PROGRESS
        )
    close_round(survey)
    release = release_build(survey_id=survey.pk)
    assert release.status == ReleaseStatus.READY, release.error
    assert release.published_at is not None
    return Publication(release)


@pytest.fixture
def full_round(survey, councils):
    return _published_round(survey, seed=2015)


@pytest.fixture
def low_round(survey, councils):
    return _published_round(survey, seed=2016, responding=0.27)


def _overview_summary(html: str) -> dict[str, str]:
    rows = re.findall(
        r'<dt class="govuk-summary-list__key">([^<]+)</dt>\s*'
        r'<dd class="govuk-summary-list__value"[^>]*>([^<]*)</dd>',
        html,
    )
    return {key.strip(): value.strip() for key, value in rows}


def _number(text: str) -> float | None:
    found = re.match(r"[\d,]+", text)
    return float(found.group().replace(",", "")) if found else None


def test_no_number_beside_the_tables_unlocks_hidden_cells(full_round, analyst_client):
    """The attack of issue 10: the overview and the cover sheet printed "353 of 353 invited"
    while the release hid the number of responding councils; with that number, the
    relations the JSON publishes pinned 243 hidden cells by subtraction alone."""
    slug = full_round.round.slug
    hidden = ReleaseCell.objects.get(release=full_round._release, cell_id=ENGLAND)
    assert hidden.value is None and hidden.status in ("primary", "secondary")
    data = json.loads(
        analyst_client.get(reverse("reporting:release-download", args=[slug, "json"])).content
    )
    assert worked_out(data) == {}

    overview = analyst_client.get(reverse("reporting:release-overview", args=[slug]))
    responding = _overview_summary(overview.content.decode())["Responding councils"]
    workbook = load_workbook(
        io.BytesIO(
            analyst_client.get(reverse("reporting:release-download", args=[slug, "xlsx"])).content
        )
    )
    cover = {row[0]: row[1] for row in workbook["Cover"].iter_rows(values_only=True)}
    printed = [_number(responding), cover["Responding councils"]]
    for number in printed:
        extra = {ENGLAND: float(number)} if isinstance(number, int | float) else {}
        assert worked_out(data, extra) == {}
    assert responding.startswith("[c]")
    assert cover["Responding councils"] == "[c]"


def _pinned_secondaries(publication: Publication) -> list[str]:
    """Secondary cells whose audited interval is one point: hidden for nothing (issue 10)."""
    cells = ReleaseCell.objects.filter(release=publication._release, status="secondary")
    assert cells.exists()
    return [
        c.cell_id
        for c in cells
        if c.interval_high is not None
        and c.interval_high - c.interval_low <= 1e-6 * max(1.0, abs(c.interval_low))
    ]


def test_the_census_of_a_full_response_finds_only_cells_labels_and_constants(
    full_round, client, internals_analyst
):
    client.force_login(internals_analyst)
    assert census(client, full_round) == []
    assert _pinned_secondaries(full_round) == []


def test_the_census_of_a_low_response_finds_only_cells_and_catches_side_numbers(
    low_round, client, internals_analyst, monkeypatch
):
    client.force_login(internals_analyst)
    assert census(client, low_round) == []
    assert _pinned_secondaries(low_round) == []
    # The response rate really is low, and it is a cell.
    summary = dict(low_round.summary())
    assert summary["Response rate"].cell == "response_rate|total|total"

    # A side number cannot be made as a figure: it needs a cell of the release.
    with pytest.raises(SideNumber):
        Shown(95.0)

    # Numbers printed beside the tables, as a template or an export computing them would.
    respondents = low_round._release.counts["respondents"]
    hidden = ReleaseCell.objects.filter(release=low_round._release, value__isnull=True)
    hidden_id = hidden.exclude(status="empty").values_list("cell_id", flat=True).first()
    real = Publication.summary
    injections = {
        "a count of responses": types.SimpleNamespace(text=str(respondents), cell=""),
        "a hidden cell's value": types.SimpleNamespace(text="95", cell=hidden_id),
        "a figure from a cell that does not exist": types.SimpleNamespace(text="7", cell="x|y"),
    }
    only = ("release-overview",)
    for name, side in injections.items():
        monkeypatch.setattr(Publication, "summary", lambda self, s=side: [*real(self), ("N", s)])
        assert census(client, low_round, pages=only) != [], name
    monkeypatch.setattr(Publication, "summary", real)
    monkeypatch.setattr(Publication, "relations", property(lambda self: [["a", ["b"]]]))
    assert census(client, low_round, pages=only) != []
