"""What a release says about its own protection: the share hidden by table and why (notes),
and what its audit proved (the audit record).

Issue 10, part 3: the release's notes and overview report the share of cells hidden per table
and why (primary rule, group rule, secondary), stored with the release when it is built; the
census traces every such count to that stored summary and to the cells' statuses.
"""

from __future__ import annotations

import dataclasses
import io
import types

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reporting import services as reporting_services
from reporting.disclosure import InsiderDisclosure
from reporting.exports import workbook_sheets
from reporting.models import ReleaseCell, ReleaseStatus
from reporting.publication import HIDDEN_SHARES_HEAD, Publication
from reporting.selectors import Tally
from reporting.services import release_build

from .census import census

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def publication(small_round) -> Publication:
    release = release_build(survey_id=small_round.pk)
    assert release.status == ReleaseStatus.READY, release.error
    return Publication(release)


def _by_statuses(release) -> dict[str, dict[str, int]]:
    counted: dict[str, dict[str, int]] = {}
    for table, status in ReleaseCell.objects.filter(release=release).values_list("table", "status"):
        tally = counted.setdefault(table, {"cells": 0, "primary": 0, "secondary": 0})
        tally["cells"] += 1
        tally[status] = tally.get(status, 0) + 1
    return counted


def test_the_release_stores_the_share_hidden_by_table_and_why(publication):
    release = publication._release
    stored = release.counts["hidden"]
    counted = _by_statuses(release)
    assert set(stored["tables"]) == set(counted)
    for table, tally in stored["tables"].items():
        truth = counted[table]
        assert tally["cells"] == truth["cells"]
        assert tally["primary_rule"] + tally["group_rule"] == truth["primary"]
        assert tally["secondary"] == truth["secondary"]
        assert tally["withheld"] == truth.get("withheld", 0)
        assert tally["hidden"] == truth["primary"] + truth["secondary"] + tally["withheld"]
        assert tally["hidden_share"] == round(tally["hidden"] / tally["cells"], 4)
    everything = stored["all"]
    assert everything["cells"] == release.counts["cells"] + release.counts["derived"]
    assert everything["secondary"] == release.counts["secondary"]
    assert everything["primary_rule"] + everything["group_rule"] == release.counts["primary"]
    assert everything["primary_rule"] > 0  # the dominant council's cells at least
    assert everything["withheld"] > 0  # and the shares computed from them
    # Counts only: no cell and no rule parameter.
    assert set(everything) == {
        "cells",
        "hidden",
        "hidden_share",
        "primary_rule",
        "group_rule",
        "secondary",
        "withheld",
    }


def test_the_overview_and_the_notes_sheet_show_it_and_the_census_traces_it(
    publication, analyst_client, monkeypatch
):
    table = publication.hidden_shares()
    assert table is not None and table.head == HIDDEN_SHARES_HEAD
    stored = publication._release.counts["hidden"]
    assert [row[0] for row in table.rows][-1] == "All tables"
    assert len(table.rows) == len(stored["tables"]) + 1
    everything = table.rows[-1][1:]
    assert [t.number for t in everything] == [
        stored["all"]["cells"],
        stored["all"]["hidden"],
        100 * stored["all"]["hidden_share"],
        stored["all"]["primary_rule"],
        stored["all"]["group_rule"],
        stored["all"]["secondary"],
        stored["all"]["withheld"],
    ]

    slug = publication.round.slug
    overview = analyst_client.get(reverse("reporting:release-overview", args=[slug]))
    html = overview.content.decode()
    assert "Cells hidden, by table and why" in html
    assert f'data-tally="all|hidden">{everything[1].text}<' in html
    book = load_workbook(
        io.BytesIO(
            analyst_client.get(reverse("reporting:release-download", args=[slug, "xlsx"])).content
        )
    )
    notes = [list(row) for row in book["Notes"].iter_rows(values_only=True)]
    heading = notes.index([*HIDDEN_SHARES_HEAD])
    assert notes[heading - 1][0] == "Cells hidden, by table and why"
    assert notes[-1][:3] == ["All tables", stored["all"]["cells"], stored["all"]["hidden"]]
    layout = next(s for s in workbook_sheets(publication=publication) if s.name == "Notes")
    assert any(isinstance(v, Tally) for row in layout.rows for v in row)

    assert census(analyst_client, publication, pages=("release-overview",)) == []
    # Any other count beside the tables is still caught: a wrong one, one that names no
    # stored count, and a stored summary that disagrees with the cells.
    real = Publication.hidden_shares
    wrong = [
        ("Side", Tally(stored["all"]["hidden"] + 1, "all|hidden")),
        ("Side", Tally(3, "nowhere|cells")),
        ("Side", Tally(3, "all|respondents")),
    ]
    for label, side in wrong:

        def patched(self, side=side, label=label):
            shown = real(self)
            return types.SimpleNamespace(**{**vars(shown), "rows": [*shown.rows, [label, side]]})

        monkeypatch.setattr(Publication, "hidden_shares", patched)
        assert census(analyst_client, publication, pages=("release-overview",)) != [], side
    monkeypatch.setattr(Publication, "hidden_shares", real)
    counts = publication._release.counts
    tampered = {**counts["hidden"], "all": {**counts["hidden"]["all"], "secondary": 10**6}}
    monkeypatch.setitem(counts, "hidden", tampered)
    problems = census(analyst_client, publication, pages=("release-overview",))
    assert any("all|secondary" in p for p in problems), problems


def test_a_release_built_before_the_summary_was_stored_shows_no_table(publication):
    publication._release.counts.pop("hidden")
    assert publication.hidden_shares() is None
    notes = next(s for s in workbook_sheets(publication=publication) if s.name == "Notes")
    assert not any(isinstance(v, Tally) for row in notes.rows for v in row)


def test_the_audit_record_says_what_the_audit_proved(publication):
    audit = publication._release.audit
    assert audit["passed"] is True
    # The all-figures insider (p% from each second-largest contributor's viewpoint) was
    # audited and found nothing; the public facts were the attacker's.
    assert audit["insider_under_protected"] == []
    facts = audit["public_facts"]
    assert facts["passed"] is True
    assert facts["public_cells_hidden"] == [] and facts["intervals_beyond_bound"] == []
    # The responding councils of every group are bounded by the councils invited (public).
    assert facts["bounded_cells"] > 0
    assert (
        facts["bounded_cells"]
        == ReleaseCell.objects.filter(release=publication._release, table="responded").count()
    )


def _forged(monkeypatch, change):
    """Build with the engine's result changed by ``change`` (as a faulty engine would give)."""
    real = reporting_services.protect

    def forged(cells, relations, **kwargs):
        return change(real(cells, relations, **kwargs))

    monkeypatch.setattr(reporting_services, "protect", forged)


def test_an_insider_finding_is_recorded_and_refuses_the_release(small_round, monkeypatch):
    def narrowed(result):
        cell = next(c.id for c in result.cells if c.status == "primary")
        found = (InsiderDisclosure("E06000005", cell),)
        return dataclasses.replace(
            result, audit=dataclasses.replace(result.audit, insider_under_protected=found)
        )

    _forged(monkeypatch, narrowed)
    release = release_build(survey_id=small_round.pk)
    assert release.status == ReleaseStatus.REFUSED
    assert release.audit["passed"] is False
    assert len(release.audit["insider_under_protected"]) == 1
    assert release.audit["insider_under_protected"][0][0] == "E06000005"


def test_an_audit_that_did_not_bound_a_hidden_cell_as_the_world_can_refuses_the_release(
    small_round, monkeypatch
):
    def unbounded(result):
        # As if the audit had not used the councils invited: a hidden responded cell's
        # interval left open above.
        hidden = [c for c in result.cells if c.status in ("primary", "secondary")]
        target = next(c.id for c in hidden if c.id.startswith("responded|"))
        cells = tuple(
            dataclasses.replace(c, interval=(0.0, None)) if c.id == target else c
            for c in result.cells
        )
        return dataclasses.replace(result, cells=cells)

    _forged(monkeypatch, unbounded)
    release = release_build(survey_id=small_round.pk)
    assert release.status == ReleaseStatus.REFUSED
    facts = release.audit["public_facts"]
    assert facts["passed"] is False and len(facts["intervals_beyond_bound"]) == 1
    assert release.audit["passed"] is False
