"""Round after round: which earlier round a release compares with, the published cells of
both rounds side by side, and each council's own figures in the earlier round.

Across rounds
-------------
Each round's release is audited alone: no hidden cell of that round can be worked out, or
bounded within its rule's protection, from that round's published cells and what the world
knows (see README, "Across rounds"). Subtracting one round's published cell from the cell
with the same keys in another round discloses nothing more, because the two are different
quantities. A cell is a total over the councils that responded to that round, of figures for
that round's reference period (the financial year before the round opened): the 2016 cell
minus the 2015 cell is (2015/16 figures of the 2016 respondents) minus (2014/15 figures of the
2015 respondents), a change in a total across different councils and years. No council's
figure for one year is in any cell of the other round, so the two rounds' systems of
equations share no unknown: joining them gives an attacker no equation about a hidden cell of
either round that it did not have already, and its bounds on every hidden cell are those the
round's own audit checked. A difference can show one council's figure only if the within-round
audit already failed. A council that responded to both rounds knows its own figures for both
years; taking them out leaves sums over other councils in different years. Someone who guesses
that a council's figures did not change between years is guessing, not working out: the audit
proves what can be derived, and a guess is as good or bad with one round as with two.

Every public version of one round reads the same audited release's cells
(``publishing.models``: a later version corrects words, never figures), so versions of one
round cannot be subtracted from each other either.

Where two rounds' cells are the same quantity, the argument fails: two rounds with the same
reference period (a re-run of a round, or one that copies answers) count the same councils'
figures for the same year, and one round's cell minus the other's is the figures of the councils
that responded to one and not the other, attack 4 of the disclosure rules within a round. Such
rounds are never compared: ``previous_round`` passes over a round that shares the reference
period, and ``cell_changes`` refuses it (``SameReferencePeriod``). ``same_period_rounds`` lists
them, for whoever publishes a second round for a period already public: that needs the two
releases audited together, which is not built.

What pages print
----------------
Only published cells: "up from 45.2% to 51.0%", never a difference, which would be a number
no audit has seen. A cell hidden (or not applicable) in either round gives no pair.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils import timezone

from authorities.models import Authority
from authorities.selectors import area_on, same_council
from publishing.models import PublicRelease, PublicReleaseStatus
from publishing.services import public_publication
from reporting.derived import COST_DEFAULT, RESPONSE_RATE, SCENARIO, SHARE, TAKE_UP
from reporting.publication import Publication
from reporting.selectors import Shown, shown
from reporting.services import transaction_answers_frame
from reporting.tables import COST_OWN, standing_channels
from surveys.choices import ResponseStatus
from surveys.models import Figure, Questionnaire, Response, Survey, TransactionAnswer

UP = "up"
DOWN = "down"
NO_CHANGE = "no change"

CLASSIFICATION_NOTE = (
    "Tables by council type use each round's own classification: a council is counted under "
    "the type it had in that round. Councils reorganised between rounds are counted as they "
    "were in each round (for example, the county and seven district councils of North "
    "Yorkshire, replaced by North Yorkshire Council, a unitary authority, in April 2023), so a "
    "type's figures in two rounds cover different councils. In every round the City of London "
    "is counted with the London boroughs and the Isles of Scilly with the unitary authorities. "
    "Each round's figures are totals over the councils that responded to that round, for its "
    "own reference period."
)

# The unit each table's cells are shown in (count for the others), as the tables show them.
UNITS = {
    SHARE: "percent",
    TAKE_UP: "percent",
    RESPONSE_RATE: "percent",
    COST_DEFAULT: "pounds",
    SCENARIO: "pounds",
    COST_OWN: "pounds",
}


class NotComparable(Exception):
    """The two rounds' cells are not to be set side by side."""


class SameReferencePeriod(NotComparable):
    """Both rounds count figures for the same period: their cells may be the same quantity."""


# --- Rounds -------------------------------------------------------------------------


def round_day(survey: Survey) -> datetime.date:
    """The day a round's councils are taken from: its deadline, in UK time."""
    return timezone.localdate(survey.closes_at)


def reference_period(survey: Survey) -> tuple[datetime.date, datetime.date]:
    """The period a round's figures cover: the financial year that ended before it opened.

    The 2015 round opened in the summer of 2015 and asked for 2014 to 2015 (1 April 2014 to
    31 March 2015); a council may answer for another period, but the round asks for this one.
    """
    opened = timezone.localdate(survey.opens_at)
    end_year = opened.year if opened >= datetime.date(opened.year, 4, 1) else opened.year - 1
    return datetime.date(end_year - 1, 4, 1), datetime.date(end_year, 3, 31)


def reference_period_text(survey: Survey) -> str:
    """'the financial year 2014 to 2015' (GOV.UK style)."""
    start, end = reference_period(survey)
    return f"the financial year {start.year} to {end.year}"


def shares_reference_period(one: Survey, other: Survey) -> bool:
    return reference_period(one) == reference_period(other)


def _lineage_root(questionnaire: Questionnaire) -> int:
    """The questionnaire a chain of copies started from (``surveys.questionnaires``)."""
    seen = {questionnaire.pk}
    while questionnaire.copied_from_id and questionnaire.copied_from_id not in seen:
        questionnaire = questionnaire.copied_from
        seen.add(questionnaire.pk)
    return questionnaire.pk


def same_questionnaire(one: Survey, other: Survey) -> bool:
    """The same questionnaire version, or copies of one (cells then match by slugs and codes:
    transactions by slug, channels by code, as the release's cell keys name them)."""
    return _lineage_root(one.questionnaire) == _lineage_root(other.questionnaire)


def _publicly_released(surveys) -> Iterable[Survey]:
    return surveys.filter(public_releases__status=PublicReleaseStatus.PUBLISHED).distinct()


def previous_round(survey: Survey) -> Survey | None:
    """The latest earlier round with a live public release and the same questionnaire (or a
    copy of it), passing over rounds that share this round's reference period."""
    earlier = (
        Survey.objects.filter(opens_at__lt=survey.opens_at, closes_at__lt=survey.closes_at)
        .exclude(pk=survey.pk)
        .select_related("questionnaire")
        .order_by("-closes_at", "-opens_at")
    )
    for candidate in _publicly_released(earlier):
        if same_questionnaire(candidate, survey) and not shares_reference_period(candidate, survey):
            return candidate
    return None


def previous_publication(survey: Survey) -> tuple[PublicRelease, Publication] | None:
    """The previous round's live public release and its publication, if there is one."""
    previous = previous_round(survey)
    return None if previous is None else public_publication(previous)


def same_period_rounds(survey: Survey) -> list[Survey]:
    """Other rounds with a live public release for the same reference period."""
    others = _publicly_released(Survey.objects.exclude(pk=survey.pk))
    return [other for other in others if shares_reference_period(other, survey)]


# --- Published cells of two rounds ---------------------------------------------------


@dataclass(frozen=True)
class CellChange:
    """One cell published in both rounds: the two published figures and which way it went."""

    table: str
    keys: Mapping[str, str]
    previous: Shown
    current: Shown
    direction: str  # UP, DOWN or NO_CHANGE
    # The previous round's slug: pages mark its figure with it (data-release), so the census
    # checks it against that round's release, not the current one.
    previous_round: str = ""

    @property
    def text(self) -> str:
        """'up from 45.2% to 51.0%', 'down from £1,200 to £950', 'unchanged at 12'."""
        if self.direction == NO_CHANGE:
            return f"unchanged at {self.current.text}"
        return f"{self.direction} from {self.previous.text} to {self.current.text}"


def _direction(previous: Shown, current: Shown) -> str:
    # As printed: two figures that read the same are no change, whatever their digits beyond.
    if previous.text == current.text:
        return NO_CHANGE
    return UP if current.number > previous.number else DOWN


def _survey(publication: Publication) -> Survey:
    return publication._release.survey


def cell_changes(current: Publication, previous: Publication, table: str) -> dict[str, CellChange]:
    """Each cell of ``table`` published with a value in both rounds under the same keys, by
    cell id (the same in both rounds), in the current release's order.

    Refused (``NotComparable``) unless ``previous`` is an earlier round than ``current``, and
    (``SameReferencePeriod``) when the two rounds cover the same period.
    """
    now, before = _survey(current), _survey(previous)
    if not (before.opens_at < now.opens_at and before.closes_at < now.closes_at):
        raise NotComparable(f"{before} is not a round before {now}")
    if shares_reference_period(before, now):
        raise SameReferencePeriod(
            f"{before} and {now} both cover {reference_period_text(now)}: their cells are "
            "not compared"
        )
    unit = UNITS.get(table, "count")
    earlier = {cell.cell_id: cell for cell in previous._view(table).of(table)}
    changes: dict[str, CellChange] = {}
    for cell in current._view(table).of(table):
        if cell.cell_id not in earlier:
            continue
        was, now_shown = shown(earlier[cell.cell_id], unit), shown(cell, unit)
        if was.number is None or now_shown.number is None:
            continue
        changes[cell.cell_id] = CellChange(
            table, dict(cell.keys), was, now_shown, _direction(was, now_shown), before.slug
        )
    return changes


# --- Each council's own figures in the previous round -------------------------------

# (transaction slug, channel code) -> the figure, or None where it was not recorded.
OwnFigures = dict[tuple[str, str], int | None]


@dataclass(frozen=True)
class OwnPrevious:
    """A council's own figures in the previous round, or why there are none.

    The council's own submitted figures, or the sum of its predecessors' when it was formed
    by merging councils that all responded. For that council's own pages only: never
    published, never shown to anyone else. (A merged council holds its predecessors' records
    anyway; note that the earlier round's audit played each predecessor as an insider alone,
    not the group of them that the merged council now is.)
    """

    round: Survey | None
    # Whose figures these are: the council itself, or the councils it replaced.
    councils: tuple[Authority, ...] = ()
    figures: OwnFigures | None = None
    reason: str = ""
    merged: bool = field(default=False)


def _figures(responses: list[int]) -> OwnFigures:
    """Figures the councils' answers stand behind (the releases' rule), summed over them;
    None where any of them offered the channel but did not record a number."""
    answers = transaction_answers_frame(TransactionAnswer.objects.filter(response__in=responses))
    standing = set(standing_channels(answers).itertuples(index=False, name=None))
    totals: OwnFigures = {}
    for response, transaction, channel, value in Figure.objects.filter(
        response__in=responses
    ).values_list("response_id", "transaction__slug", "channel__code", "value"):
        if (response, transaction, channel) not in standing:
            continue
        key = (transaction, channel)
        if value is None or (key in totals and totals[key] is None):
            totals[key] = None
        else:
            totals[key] = totals.get(key, 0) + value
    # A standing channel with no figure saved at all is not recorded either.
    for _response, transaction, channel in standing:
        totals.setdefault((transaction, channel), None)
    return totals


def _submitted(survey: Survey, council: Authority) -> int | None:
    return (
        Response.objects.filter(
            survey=survey, status=ResponseStatus.SUBMITTED, authority__in=same_council(council)
        )
        .values_list("pk", flat=True)
        .first()
    )


def own_previous(authority: Authority, survey: Survey) -> OwnPrevious:
    """``authority``'s own figures in the round before ``survey`` (see ``previous_round``).

    The same council (or a record under one of its former GSS codes): its figures. A council
    formed by merging others: their figures summed, only if every one of them responded to
    that round. A council whose area was part of a council split between several: none, since
    the split council's figures cannot be divided.
    """
    previous = previous_round(survey)
    if previous is None:
        return OwnPrevious(None, reason="There is no earlier round to compare with.")
    area = area_on(authority, round_day(previous))
    name = previous.name
    if not area.councils:
        return OwnPrevious(previous, reason=f"Your council did not exist at the time of {name}.")
    if area.split:
        split = ", ".join(council.official_name for council in area.split)
        return OwnPrevious(
            previous,
            area.councils,
            reason=(
                f"At the time of {name} your council's area was part of {split}, whose area "
                "was later split between several councils, so its figures cannot be divided."
            ),
        )
    merged = area.councils != (authority,)
    responses = [_submitted(previous, council) for council in area.councils]
    if None in responses:
        reason = (
            "Not every council your council replaced responded to "
            f"{name}, so there are no figures for your whole area."
            if merged
            else f"Your council did not respond to {name}."
        )
        return OwnPrevious(previous, area.councils, reason=reason, merged=merged)
    return OwnPrevious(previous, area.councils, _figures(responses), merged=merged)
