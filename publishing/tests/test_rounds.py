"""Round after round: two real rounds, built and published through the normal services."""

from __future__ import annotations

import pytest

from authorities.models import Authority
from publishing import rounds, services
from reporting.publication import Publication
from reporting.services import release_build
from reporting.tests.factories import SMALL_ROUND, submitted_response
from surveys.questionnaires import questionnaire_copy, questionnaire_load
from surveys.tests.factories import make_authority

from .round_fixtures import ABOLISHED, FORMED, TRANSACTION, a_round, council, uk


def published(publication: Publication, table: str) -> dict[str, float]:
    return {
        c["id"]: c["value"]
        for c in publication.cells()
        if c["table"] == table and c["value"] is not None
    }


def test_the_previous_round_is_the_earlier_public_round_of_the_same_questionnaire(
    two_rounds, questionnaire_data
):
    assert rounds.previous_round(two_rounds["second"]) == two_rounds["first"]
    assert rounds.previous_round(two_rounds["first"]) is None
    _public, publication = rounds.previous_publication(two_rounds["second"])
    assert publication.round.slug == "round-2015"
    with pytest.raises(rounds.NotComparable):
        rounds.cell_changes(two_rounds["previous"], two_rounds["current"], "volume")

    other, _ = questionnaire_load(data={**questionnaire_data, "version": "another-survey"})
    unrelated = a_round(other, "another-2017", uk(2017, 6, 1), uk(2017, 7, 1))
    assert not rounds.same_questionnaire(unrelated, two_rounds["second"])
    assert rounds.previous_round(unrelated) is None


def test_a_round_without_a_live_public_release_is_not_compared(two_rounds, publisher):
    services.withdraw(public=services.live(two_rounds["first"]), user=publisher, reason="An error.")
    assert rounds.previous_round(two_rounds["second"]) is None
    own = rounds.own_previous(two_rounds["merged"], two_rounds["second"])
    assert own.figures is None and own.reason == "There is no earlier round to compare with."


def test_pairs_only_where_both_rounds_published_the_cell(two_rounds):
    current, previous = two_rounds["current"], two_rounds["previous"]
    for table in ("volume", "share", "responded", "take_up"):
        now, before = published(current, table), published(previous, table)
        changes = rounds.cell_changes(current, previous, table)
        assert set(changes) == set(now) & set(before), table
        assert changes, f"no {table} cell is published in both rounds"
        hidden_once = {c["id"] for c in current.cells() if c["table"] == table} ^ set(now)
        hidden_once |= {c["id"] for c in previous.cells() if c["table"] == table} ^ set(before)
        assert hidden_once, f"some {table} cell is hidden in one of the rounds"
        assert not hidden_once & set(changes)
        for cell_id, change in changes.items():
            assert (change.previous.number, change.current.number) == (
                before[cell_id],
                now[cell_id],
            )
            assert change.previous.cell == change.current.cell == cell_id
            if change.previous.text == change.current.text:
                assert change.direction == rounds.NO_CHANGE
                assert change.text == f"unchanged at {change.current.text}"
            else:
                expected = rounds.UP if now[cell_id] > before[cell_id] else rounds.DOWN
                assert change.direction == expected
                assert change.text == (
                    f"{expected} from {change.previous.text} to {change.current.text}"
                )


def test_directions_and_words_of_englands_totals(two_rounds):
    changes = rounds.cell_changes(two_rounds["current"], two_rounds["previous"], "volume")
    england = {
        c.keys["channel"]: c
        for c in changes.values()
        if c.keys["transaction"] == TRANSACTION
        and c.keys["council_type"] == "total"
        and c.keys["region"] == "total"
    }
    # From the inputs: the small round's councils (online up 300 each, telephone down 50,
    # face to face as it was) and the South West's reorganised councils.
    web_2015 = sum(row[3]["WEB"] for row in SMALL_ROUND) + 700 + 800 + 900 + 500
    web_2016 = sum(row[3]["WEB"] + 300 for row in SMALL_ROUND) + 4 * 2000
    phone_2015 = sum(row[3]["PHONE"] for row in SMALL_ROUND) + 3 * 100 + 60
    phone_2016 = sum(row[3]["PHONE"] - 50 for row in SMALL_ROUND) + 4 * 150
    face_to_face = sum(row[3]["F2F"] for row in SMALL_ROUND)
    assert england["WEB"].text == f"up from {web_2015:,} to {web_2016:,}"
    assert england["PHONE"].text == f"down from {phone_2015:,} to {phone_2016:,}"
    assert england["PHONE"].direction == rounds.DOWN
    assert england["F2F"].direction == rounds.NO_CHANGE
    assert england["F2F"].text == f"unchanged at {face_to_face:,}"
    shares = rounds.cell_changes(two_rounds["current"], two_rounds["previous"], "share")
    assert shares and all(c.current.text.endswith("%") for c in shares.values())


def test_a_round_sharing_the_reference_period_is_never_compared(two_rounds, publisher):
    """A re-run of 2016 (a copied questionnaire, the same answers): the same councils' figures
    for the same year, so one round's cell minus the other's could be one council's."""
    rerun_questionnaire = questionnaire_copy(
        source=two_rounds["second"].questionnaire, version="2016-rerun"
    )
    rerun = a_round(rerun_questionnaire, "round-2016-rerun", uk(2016, 9, 1), uk(2016, 9, 30))
    for response in two_rounds["second"].responses.all():
        figures = {f.channel.code: f.value for f in response.figures.all()}
        submitted_response(rerun, response.authority, figures)
    assert rounds.reference_period(rerun) == rounds.reference_period(two_rounds["second"])
    assert rounds.reference_period_text(rerun) == "the financial year 2015 to 2016"
    release = release_build(survey_id=rerun.pk)
    release.refresh_from_db()
    draft = services.draft_start(survey=rerun, user=publisher)
    with pytest.raises(services.SamePeriodPublished):
        services.publish(draft=draft, user=publisher)
    assert services.live(rerun) is None
    repeated = Publication.of(rerun)  # as analysts see it

    # The copy counts as the same questionnaire, but 2016 shares its period: the round
    # before it is 2015.
    assert rounds.same_questionnaire(rerun, two_rounds["first"])
    assert rounds.previous_round(rerun) == two_rounds["first"]
    assert rounds.same_period_rounds(rerun) == [two_rounds["second"]]
    with pytest.raises(rounds.SameReferencePeriod):
        rounds.cell_changes(repeated, two_rounds["current"], "volume")
    assert rounds.cell_changes(repeated, two_rounds["previous"], "volume")


def test_own_previous_figures_of_the_same_council_and_of_merged_ones(two_rounds):
    second = two_rounds["second"]
    hartlepool = Authority.objects.get(gss_code="E06000001")
    own = rounds.own_previous(hartlepool, second)
    assert own.round == two_rounds["first"] and not own.merged and own.reason == ""
    assert own.councils == (hartlepool,)
    assert own.figures == {
        (TRANSACTION, "WEB"): 1000,
        (TRANSACTION, "PHONE"): 400,
        (TRANSACTION, "F2F"): 100,
    }

    # A council under a new GSS code is the same council.
    old = Authority.objects.get(gss_code="E06000002")
    old.end_date = ABOLISHED
    old.save()
    renamed = make_authority("E06000990", code="RNM", former_gss_codes=["E06000002"])
    assert rounds.own_previous(renamed, second).figures[(TRANSACTION, "WEB")] == 1200

    # Two councils merged, both answered 2015: their figures summed.
    own = rounds.own_previous(two_rounds["merged"], second)
    assert own.merged and own.reason == ""
    assert {c.code for c in own.councils} == {"PRA", "PRB"}
    assert own.figures == {(TRANSACTION, "WEB"): 700 + 800, (TRANSACTION, "PHONE"): 200}


def test_no_previous_figures_unless_the_whole_area_answered(two_rounds):
    second = two_rounds["second"]
    own = rounds.own_previous(two_rounds["partly"], second)
    assert own.figures is None and own.merged
    assert {c.code for c in own.councils} == {"PRC", "PRD"}
    assert own.reason.startswith("Not every council your council replaced responded")
    assert "PRD" not in own.reason and "Council E06000914" not in own.reason

    own = rounds.own_previous(two_rounds["split"], second)
    assert own.figures is None
    assert "later split between several councils" in own.reason
    assert "Council E06000900" in own.reason

    newcomer = council("E06000905", "NEW", start_date=FORMED)
    own = rounds.own_previous(newcomer, second)
    assert own.figures is None and "did not exist" in own.reason
    silent = make_authority("E06000906", code="SIL")
    own = rounds.own_previous(silent, second)
    assert own.figures is None and own.reason.startswith("Your council did not respond")


def test_the_classification_note_says_each_round_uses_its_own_types():
    assert "each round's own classification" in rounds.CLASSIFICATION_NOTE
    assert "North Yorkshire" in rounds.CLASSIFICATION_NOTE
