"""Drafting, publishing, replacing and withdrawing a public release."""

from __future__ import annotations

import pytest

from publishing import services
from publishing.models import PublicRelease, PublicReleaseStatus
from reporting.publication import Publication


def a_published_figure(publication: Publication) -> str:
    value = next(cell["value"] for cell in publication.cells() if cell["value"])
    return f"{value:,.0f}"


def test_a_round_without_a_published_release_cannot_be_drafted(small_round, publisher):
    with pytest.raises(services.NotPublishable):
        services.draft_start(survey=small_round, user=publisher)


def test_draft_publish_replace_and_withdraw(published_round, publisher):
    draft = services.draft_start(survey=published_round, user=publisher)
    assert draft.version == 1 and draft.status == PublicReleaseStatus.DRAFT
    assert services.draft_start(survey=published_round, user=publisher) == draft
    publication = Publication.of(published_round)
    figure = a_published_figure(publication)
    services.draft_update(
        draft, title="Results", summary="", findings=[f"{figure} councils did so."], change_note=""
    )
    first = services.publish(draft=draft, user=publisher)
    assert first.status == PublicReleaseStatus.PUBLISHED and first.published_by == publisher
    live, shown = services.public_publication(published_round)
    assert live == first and shown.number == publication.number

    second = services.draft_start(survey=published_round, user=publisher)
    assert (second.version, second.findings) == (2, first.findings)
    with pytest.raises(services.ChangeNoteMissing):
        services.publish(draft=second, user=publisher)
    services.draft_update(
        second, title="Results", summary="", findings=[], change_note="Wording of the summary."
    )
    services.publish(draft=second, user=publisher)
    first.refresh_from_db()
    assert first.status == PublicReleaseStatus.SUPERSEDED and first.superseded_at
    assert services.live(published_round).version == 2

    with pytest.raises(services.ReasonMissing):
        services.withdraw(public=second, user=publisher, reason="  ")
    services.withdraw(public=second, user=publisher, reason="An error in the council register.")
    assert services.live(published_round) is None
    assert PublicRelease.objects.get(version=2).withdrawal_reason.startswith("An error")


def test_words_may_quote_only_published_figures(published_round, publisher):
    draft = services.draft_start(survey=published_round, user=publisher)
    publication = Publication.of(published_round)
    hidden = {cell["id"] for cell in publication.cells() if cell["value"] is None}
    assert hidden, "the small round hides some cells"
    figures = services.published_figures(publication)
    unpublished = next(str(n) for n in range(7919, 100000) if str(n) not in figures)
    with pytest.raises(services.FiguresNotPublished) as refused:
        services.draft_update(
            draft,
            title="Results",
            summary=f"About {unpublished} transactions.",
            findings=["Fine.", f"Up by {unpublished}%."],
            change_note="",
        )
    assert [(p.field, p.index) for p in refused.value.problems] == [
        ("summary", 0),
        ("findings", 1),
    ]
    draft.refresh_from_db()
    assert draft.summary == "" and draft.findings == []


def test_titles_and_change_notes_are_checked_too(published_round, publisher):
    draft = services.draft_start(survey=published_round, user=publisher)
    figures = services.published_figures(Publication.of(published_round))
    unpublished = next(str(n) for n in range(7919, 100000) if str(n) not in figures)
    with pytest.raises(services.FiguresNotPublished) as refused:
        services.draft_update(
            draft,
            title=f"{unpublished} councils",
            summary="",
            findings=[],
            change_note=f"Corrected {unpublished}.",
        )
    assert [p.field for p in refused.value.problems] == ["title", "change_note"]
    assert "the change note" in refused.value.problems[1].message
