"""One publication: everything analysts see of a round, read from its published release's cells.

Pages, charts, captions, the overview's summary, the workbook's cover and every download
(XLSX, CSV, JSON) receive a :class:`Publication` and nothing else: not the round, not the
release, not a response. A figure can only be a ``Shown`` read from a release cell (a number
with no cell id raises ``SideNumber``), so the only numbers an analyst can see are the
release's cells (protected, or derived from published ones while it was built), labels and
constants of the questionnaire and the council register. The release's other records (its
counts, audit, intervals, inputs) are the builders' and stewards' business and are never
reachable from a template: they sit behind an underscore, which Django templates refuse.

Why: one number printed beside the tables that the release hides (the responding councils on
the overview) made hundreds of hidden cells computable by subtraction. There are no numbers
"on the side": the responding councils are a cell like any other, shown as ``[c]`` when hidden.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cached_property

from reporting import selectors
from reporting.derived import (
    COST_DEFAULT,
    INVITED,
    RESPONSE_RATE,
    SCENARIO,
    SHARE,
    TAKE_UP,
)
from reporting.models import CellStatus, Release, ReleaseStatus
from reporting.selectors import Labels, ReleaseView, ReportTable, Shown, Tally, shown
from reporting.tables import (
    ANSWERS,
    COST_OWN,
    END_TO_END,
    NOT_OFFERED,
    OFFERED,
    PROVISION,
    RESPONDED,
    TOTAL,
    VOLUME,
)
from surveys.models import Survey

# The tables of a release, as the hidden-cells table names them (in this order).
HIDDEN_TABLE_LABELS = {
    INVITED: "Invited councils",
    RESPONDED: "Responding councils",
    RESPONSE_RATE: "Response rates",
    VOLUME: "Transactions by channel",
    OFFERED: "Channels offered",
    NOT_OFFERED: "Channels not offered",
    PROVISION: "Provision",
    END_TO_END: "End to end online",
    ANSWERS: "Platforms and capability",
    SHARE: "Channel shares",
    TAKE_UP: "Digital take-up",
    COST_DEFAULT: "Costs at default unit costs",
    SCENARIO: "Cost scenarios",
    COST_OWN: "Costs at own unit costs",
}
ALL_TABLES = "all"
HIDDEN_SHARES_HEAD = [
    "Table",
    "Cells",
    "Hidden [c]",
    "Share hidden",
    "Hidden: too few councils or one council dominates",
    "Hidden: every council of a small group gave one answer",
    "Hidden to protect other hidden cells",
    "Withheld: computed from a hidden figure",
]
# Measures of the stored summary, column by column after the table's name.
HIDDEN_MEASURES = (
    "cells",
    "hidden",
    "hidden_share",
    "primary_rule",
    "group_rule",
    "secondary",
    "withheld",
)


@dataclass(frozen=True)
class Round:
    """What pages may say about a round: its name, address and deadline (all public)."""

    name: str
    slug: str
    closes_at: datetime.datetime

    @classmethod
    def of(cls, survey: Survey) -> Round:
        return cls(survey.name, survey.slug, survey.closes_at)


@dataclass(frozen=True)
class Progress:
    """The latest build of a round, for the overview: its stage, never its figures."""

    number: int
    status: str
    progress_stage: str
    progress_percent: int

    @classmethod
    def of(cls, release: Release | None) -> Progress | None:
        if release is None:
            return None
        return cls(release.number, release.status, release.progress_stage, release.progress_percent)


class Publication:
    """The published release of one round, as analysts may see it."""

    def __init__(self, release: Release) -> None:
        if release.status != ReleaseStatus.READY or release.published_at is None:
            raise ValueError(f"release {release.pk} is not published")
        self._release = release
        self._views: dict[tuple[str, ...] | None, ReleaseView] = {}
        self.round = Round.of(release.survey)
        self.number = release.number
        self.finished_at = release.finished_at

    @classmethod
    def of(cls, survey: Survey) -> Publication | None:
        """The round's publication, or None before its one release is published."""
        release = selectors.release_published(survey=survey)
        return None if release is None else cls(release)

    def _view(self, *tables: str) -> ReleaseView:
        key = tuple(sorted(tables)) or None
        if key not in self._views:
            self._views[key] = selectors.release_view(release=self._release, tables=key)
        return self._views[key]

    @cached_property
    def labels(self) -> Labels:
        return selectors.release_labels(release=self._release)

    @property
    def transactions(self) -> dict[str, str]:
        return self.labels.transactions

    # --- Figures ----------------------------------------------------------------------

    def summary(self) -> list[tuple[str, Shown]]:
        """The overview's figures, the cover sheet's first two: cells of England's response."""
        view = self._view(INVITED, RESPONDED, RESPONSE_RATE)
        england = {"council_type": TOTAL, "region": TOTAL}
        return [
            ("Responding councils", shown(view.get(RESPONDED, **england))),
            ("Invited councils", shown(view.get(INVITED, **england))),
            ("Response rate", shown(view.get(RESPONSE_RATE, **england), "percent")),
        ]

    def response_rates(self) -> ReportTable:
        return selectors.table_response_rates(self._view(INVITED, RESPONDED, RESPONSE_RATE))

    def channel_mix(self, transaction: str) -> ReportTable:
        view = self._view("volume", "share", RESPONDED)
        return selectors.table_channel_mix(view, self.labels, transaction)

    def take_up(self) -> ReportTable:
        return selectors.table_take_up(self._view("take_up", RESPONDED), self.labels)

    def take_up_matrix(self) -> ReportTable:
        view = self._view("take_up", RESPONDED)
        return selectors.table_take_up_matrix(view, self.labels, TOTAL)

    def costs(self) -> ReportTable:
        view = self._view("cost_default", "scenario", "cost_own", RESPONDED)
        return selectors.table_costs(view, self.labels)

    def own_costs(self) -> ReportTable:
        view = self._view("cost_default", "scenario", "cost_own", RESPONDED)
        return selectors.table_own_costs(view, self.labels)

    def answer_tables(self) -> list[ReportTable]:
        view, labels = self._view(), self.labels
        return [
            selectors.table_provision(view, labels),
            selectors.table_end_to_end(view, labels),
            selectors.table_offered(view, labels),
            selectors.table_answers(view, labels),
        ]

    def report_tables(self) -> list[ReportTable]:
        """Every table, as the workbook has them (one sheet each)."""
        return selectors.report_tables(view=self._view(), labels=self.labels)

    def figure(self, table: str, unit: str = "count", **keys: str) -> Shown:
        """One cell as published, by its table and keys in the release's order (a council's
        comparison reads its type's, region's and England's); ``[z]`` where there is none."""
        return shown(self._view(table).get(table, **keys), unit)

    def cells(self) -> list[dict]:
        """Every cell as published (CSV and JSON): table, keys, value (None where [c])."""
        return selectors.published_cells(release=self._release)

    @property
    def relations(self) -> list[list]:
        """Every additive relation between the protected cells (published in the JSON)."""
        return self._release.relations

    def hidden_shares(self) -> ReportTable | None:
        """How many cells of each protected table are hidden, and why (the release's notes).

        Read from the summary stored with the release when it was built
        (``reporting.services``); None for a release built before it was stored. Counts by
        table and reason only: which cell is hidden for which reason is never shown.
        """
        stored = self._release.counts.get("hidden")
        if not stored:
            return None
        tables = stored["tables"]
        order = [t for t in HIDDEN_TABLE_LABELS if t in tables]
        order += sorted(t for t in tables if t not in HIDDEN_TABLE_LABELS)
        rows: list[list[str | Shown | Tally]] = [
            [HIDDEN_TABLE_LABELS.get(table, table), *_tallies(table, tables[table])]
            for table in order
        ]
        rows.append(["All tables", *_tallies(ALL_TABLES, stored[ALL_TABLES])])
        return ReportTable(
            "hidden-shares", "Cells hidden, by table and why", list(HIDDEN_SHARES_HEAD), rows
        )

    # --- For statisticians (reporting.view_suppression_internals) ----------------------

    def internals(self) -> list[tuple[str, int]]:
        """How many protected cells were published, structural zeros, primary, secondary."""
        counts = self._release.counts
        return [
            ("Protected cells", counts.get("cells", 0)),
            ("Additive relations", counts.get("relations", 0)),
            ("Published", counts.get(CellStatus.PUBLISHED, 0)),
            ("Structural zeros", counts.get(CellStatus.EMPTY, 0)),
            ("Primary suppression", counts.get(CellStatus.PRIMARY, 0)),
            ("Secondary suppression", counts.get(CellStatus.SECONDARY, 0)),
        ]


def _tallies(table: str, tally: dict) -> list[Tally]:
    """One row of the hidden-cells table: the stored counts of ``table``, the share in %."""
    return [
        Tally(100 * tally[m], f"{table}|{m}", "percent")
        if m == "hidden_share"
        else Tally(tally[m], f"{table}|{m}")
        for m in HIDDEN_MEASURES
    ]
