"""Change since the previous round, as the public release page shows it.

Every change is a pair of published cells (``publishing.rounds.cell_changes``): the same cell
published in both rounds, shown as "up from 45.2% to 51.0%" with each figure marked with its
cell id, and the previous round's figure with that round's slug (``data-release``), so the
census checks it against the previous round's release. A cell hidden or not applicable in
either round reads ``NOT_COMPARED``, never a figure; no difference is ever computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from publishing.models import PublicRelease
from publishing.rounds import CLASSIFICATION_NOTE, CellChange, cell_changes, previous_publication
from reporting.derived import RESPONSE_RATE, TAKE_UP
from reporting.publication import Publication, Round
from reporting.selectors import kind_label, region_label
from reporting.tables import RESPONDED, TOTAL
from surveys.models import Survey

NOT_COMPARED = "Not compared"
# Why a comparison of rounds discloses nothing (README, "Across rounds"), for the notes.
ROUNDS_NOTE = (
    "Comparing rounds reveals no council's figures. Each round's figures are totals over the "
    "councils that responded to that round, for that round's own year, and each round was "
    "checked on its own before it was published. A figure of one round and the same figure of "
    "another count different councils' figures for different years, so setting them side by "
    "side, or subtracting one from the other, shows nothing about any council that either "
    "round's figures do not already show. Only figures published in both rounds are compared: "
    "a figure hidden in either round is not."
)


@dataclass
class ChangeTable:
    """A table of changes: label columns, then one change (or ``NOT_COMPARED``) per row."""

    slug: str
    title: str
    head: list[str]
    rows: list[list[str | CellChange]] = field(default_factory=list)


@dataclass
class Since:
    previous: Round
    public: PublicRelease  # the previous round's live public release
    tables: list[ChangeTable]
    classification_note: str = CLASSIFICATION_NOTE
    rounds_note: str = ROUNDS_NOTE


def _change(
    publication: Publication, changes: dict[str, CellChange], table: str, **keys: str
) -> str | CellChange:
    return changes.get(publication.figure(table, "percent", **keys).cell) or NOT_COMPARED


def since_previous(survey: Survey, current: Publication) -> Since | None:
    """The changes the public page shows, or None when there is no previous round."""
    found = previous_publication(survey)
    if found is None:
        return None
    public, previous = found
    heading = f"Change since {previous.round.name}"
    kinds = [k for k in current._view(RESPONDED).values(RESPONDED, "council_type") if k != TOTAL]
    regions = [r for r in current._view(RESPONDED).values(RESPONDED, "region") if r != TOTAL]

    rates = ChangeTable(
        "response-rates-change",
        f"Response rates: change since {previous.round.name}",
        ["Council type", "Region", heading],
    )
    changes = cell_changes(current, previous, RESPONSE_RATE)
    pairs = [(k, TOTAL) for k in kinds] + [(TOTAL, r) for r in regions] + [(TOTAL, TOTAL)]
    for kind, region in pairs:
        change = _change(current, changes, RESPONSE_RATE, council_type=kind, region=region)
        rates.rows.append([kind_label(kind), region_label(region), change])

    take_up = ChangeTable(
        "take-up-change",
        f"Digital take-up, England and by council type: change since {previous.round.name}",
        ["Transaction", "Council type", heading],
    )
    changes = cell_changes(current, previous, TAKE_UP)
    for slug in [*current.transactions, TOTAL]:
        for kind in (TOTAL, *kinds):
            change = _change(
                current, changes, TAKE_UP, transaction=slug, council_type=kind, region=TOTAL
            )
            take_up.rows.append([current.labels.transaction(slug), kind_label(kind), change])
    return Since(previous.round, public, [rates, take_up])
