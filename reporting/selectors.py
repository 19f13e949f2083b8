"""Reads for dashboards and exports: only the precomputed cells of a round's published release.

One function per report table; pages, the XLSX workbook, the CSV and the JSON export all read
these through ``reporting.publication.Publication``, so a cell shows the same value or ``[c]``
everywhere. Nothing here touches responses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from authorities.choices import AuthorityKind, Region
from reporting.derived import (
    COST_DEFAULT,
    INVITED,
    RESPONSE_RATE,
    SCENARIO,
    SCENARIOS,
    SHARE,
    TAKE_UP,
)
from reporting.models import HIDDEN_STATUSES, Release, ReleaseCell
from reporting.tables import (
    ANSWERS,
    COST_OWN,
    END_TO_END,
    END_TO_END_ANSWERS,
    OFFERED,
    PROVISION,
    PROVISION_ANSWERS,
    RESPONDED,
    TOTAL,
    VOLUME,
    cell_key,
)
from survey_site.formatting import money_text
from surveys.models import Survey

CONFIDENTIAL = "[c]"
NOT_COSTED = "[x]"
NOT_APPLICABLE = "[z]"
# What each symbol means, on every page that shows one and in the downloads (ONS style).
SYMBOL_MEANINGS = {
    CONFIDENTIAL: "Confidential: hidden to protect individual councils (disclosure control).",
    NOT_COSTED: "Not available: for example a channel with no published unit cost, which is "
    "not costed.",
    NOT_APPLICABLE: "Not applicable: for example a share of zero transactions.",
}
KIND_LABELS = dict(AuthorityKind.choices) | {
    # Single-council types are published with their peers (reporting.tables.REPORTING_KIND).
    AuthorityKind.LONDON_BOROUGH: "London borough (with the City of London)",
    AuthorityKind.UNITARY: "Unitary authority (with the Isles of Scilly)",
}
REGION_LABELS = dict(Region.choices)
ANSWER_LABELS = {
    "yes": "Yes",
    "no": "No",
    "partly": "Partly",
    "not_responsible": "Not their responsibility",
    "other_organisation": "Provided by another organisation",
    "not_answered": "Not answered",
    "none": "None",
    "some": "Some",
    "strong": "Strong",
    "in-development": "In development",
}


# Figures that are constants of a definition, not data: printed without a cell.
CONSTANT_FIGURES = {
    # A transaction's channels make up all of it: "All channels" is 100% of itself
    # whenever there is anything to share, whatever any council answered.
    "all channels share": 100,
}


class SideNumber(ValueError):
    """A figure that is not read from a cell of the published release (see ``Shown``)."""


@dataclass(frozen=True)
class Shown:
    """One figure as published: a number, or a symbol when hidden or not applicable.

    ``cell`` is the id of the release cell it was read from. A number without one would be a
    figure computed on the side, which no audit has seen: it cannot be made (``SideNumber``),
    unless it is a constant of a definition, named in ``CONSTANT_FIGURES`` (``constant``).
    """

    number: float | None
    unit: str = "count"  # count, percent or pounds
    symbol: str = ""
    cell: str = ""
    constant: str = ""

    def __post_init__(self) -> None:
        if self.number is None or self.cell:
            return
        if CONSTANT_FIGURES.get(self.constant) != self.number:
            raise SideNumber(f"{self.number!r} is not read from a cell of the release")

    @property
    def text(self) -> str:
        if self.number is None:
            return self.symbol or CONFIDENTIAL
        if self.unit == "percent":
            return f"{self.number:.1f}%"
        if self.unit == "pounds":
            return money_text(self.number)
        return f"{self.number:,.0f}"

    @property
    def numeric(self) -> bool:
        return True


@dataclass(frozen=True)
class Tally:
    """A count of the release's protected cells: how many a table has, how many are hidden and
    why (primary rule, group rule, secondary), never which.

    Read from the summary stored with the release when it was built (``Release.counts``,
    "hidden"), not counted by a page. Cells, hidden cells and the share hidden follow from the
    published [c] pattern; the split by reason is the only addition, by table and never by
    cell. ``source`` says where in that summary: ``"<table>|<measure>"`` (``"all"`` for every
    table), so that the census of the outputs can trace it (``reporting/tests/census.py``).
    """

    number: float
    source: str
    unit: str = "count"  # count or percent

    @property
    def text(self) -> str:
        if self.unit == "percent":
            return f"{self.number:.1f}%"
        return f"{self.number:,.0f}"


def shown(cell: ReleaseCell | None, unit: str = "count") -> Shown:
    """A stored cell as shown: hidden cells never carry a number."""
    if cell is None:
        return Shown(None, unit, NOT_APPLICABLE)
    if cell.status in HIDDEN_STATUSES:
        return Shown(None, unit, CONFIDENTIAL, cell.cell_id)
    if cell.value is None:
        return Shown(None, unit, NOT_APPLICABLE, cell.cell_id)
    return Shown(plain_number(cell.value), unit, cell=cell.cell_id)


def plain_number(value: float | None) -> float | int | None:
    """A whole number as an int (5, not 5.0) for CSV, JSON and XLSX; others unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass
class ReportTable:
    """A table as pages and spreadsheets show it: text headings, labels and figures."""

    slug: str
    title: str
    head: list[str]
    rows: list[list[str | Shown | Tally]] = field(default_factory=list)
    label_columns: int = 1

    def symbols(self) -> dict[str, str]:
        """The symbols this table shows, with their meanings, for a legend beside it."""
        used = {
            v.text for row in self.rows for v in row if isinstance(v, Shown) and v.number is None
        }
        return {symbol: meaning for symbol, meaning in SYMBOL_MEANINGS.items() if symbol in used}

    def html_rows(self) -> list[list[object]]:
        return [
            [
                {"text": v.text, "numeric": True, "cell": v.cell}
                if isinstance(v, Shown)
                else {"text": v.text, "numeric": True, "tally": v.source}
                if isinstance(v, Tally)
                else v
                for v in row
            ]
            for row in self.rows
        ]


# --- Releases ------------------------------------------------------------------------


def surveys_with_releases() -> list[tuple[Survey, Release | None]]:
    """Every round with its published release (None if it has none yet)."""
    surveys = list(Survey.objects.order_by("-opens_at"))
    published = {r.survey_id: r for r in Release.objects.filter(published_at__isnull=False)}
    return [(s, published.get(s.pk)) for s in surveys]


def release_published(*, survey: Survey) -> Release | None:
    """The one release of a round that analysts see (see reporting.models)."""
    return Release.objects.filter(survey=survey, published_at__isnull=False).first()


def release_latest(*, survey: Survey) -> Release | None:
    """The latest release of any status (for progress and refusals on the overview)."""
    return Release.objects.filter(survey=survey).order_by("-number").first()


@dataclass
class ReleaseView:
    """The cells of one release, loaded once and looked up by table and keys."""

    release: Release
    cells: dict[str, ReleaseCell]

    def get(self, table: str, **keys: str) -> ReleaseCell | None:
        return self.cells.get(cell_key(table, keys))

    def of(self, table: str) -> list[ReleaseCell]:
        return sorted((c for c in self.cells.values() if c.table == table), key=lambda c: c.order)

    def values(self, table: str, key: str) -> list[str]:
        seen: dict[str, None] = {}
        for cell in self.of(table):
            seen.setdefault(cell.keys[key], None)
        return list(seen)


def release_view(*, release: Release, tables: Iterable[str] | None = None) -> ReleaseView:
    """Load the cells of a release (of some tables only) in one query."""
    query = ReleaseCell.objects.filter(release=release).only(
        "cell_id", "table", "keys", "value", "status", "order"
    )
    if tables is not None:
        query = query.filter(table__in=list(tables))
    return ReleaseView(release, {c.cell_id: c for c in query})


# --- Labels -------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    transactions: dict[str, str]
    channels: dict[str, str]
    questions: dict[str, str]
    # Channels with no published unit cost: not costed unless a council gave its own.
    uncosted: frozenset[str] = frozenset()

    def transaction(self, slug: str) -> str:
        return "All transactions" if slug == TOTAL else self.transactions.get(slug, slug)

    def channel(self, code: str) -> str:
        return "All channels" if code == TOTAL else self.channels.get(code, code)


def release_labels(*, release: Release) -> Labels:
    questionnaire = release.survey.questionnaire
    from surveys.models import Question

    channels = list(questionnaire.channels.values_list("code", "name", "default_unit_cost"))
    return Labels(
        transactions=dict(questionnaire.transactions.values_list("slug", "name")),
        channels={code: name for code, name, _cost in channels},
        questions=dict(
            Question.objects.filter(section__questionnaire=questionnaire).values_list(
                "slug", "text"
            )
        ),
        uncosted=frozenset(code for code, _name, cost in channels if cost is None),
    )


def kind_label(kind: str) -> str:
    return "England" if kind == TOTAL else KIND_LABELS.get(kind, kind)


def region_label(region: str) -> str:
    return "England" if region == TOTAL else REGION_LABELS.get(region, region)


def _kinds(view: ReleaseView) -> list[str]:
    return [k for k in view.values(RESPONDED, "council_type") if k != TOTAL]


def _regions(view: ReleaseView) -> list[str]:
    return [r for r in view.values(RESPONDED, "region") if r != TOTAL]


# --- Report tables ------------------------------------------------------------------


def table_response_rates(view: ReleaseView) -> ReportTable:
    table = ReportTable(
        "response-rates",
        "Response rates by council type and region",
        ["Council type", "Region", "Invited", "Responded", "Response rate"],
        label_columns=2,
    )
    pairs = [(k, TOTAL) for k in _kinds(view)] + [(TOTAL, r) for r in _regions(view)]
    for kind, region in [*pairs, (TOTAL, TOTAL)]:
        keys = {"council_type": kind, "region": region}
        table.rows.append(
            [
                kind_label(kind),
                region_label(region),
                shown(view.get(INVITED, **keys)),
                shown(view.get(RESPONDED, **keys)),
                shown(view.get(RESPONSE_RATE, **keys), "percent"),
            ]
        )
    return table


def table_channel_mix(
    view: ReleaseView, labels: Labels, transaction: str | None = None
) -> ReportTable:
    kinds = _kinds(view)
    table = ReportTable(
        "channel-mix",
        "Transactions by channel, England and by council type",
        ["Transaction", "Channel", "England", "Share of all channels"]
        + [kind_label(k) for k in kinds],
        label_columns=2,
    )
    slugs = [transaction] if transaction else list(labels.transactions)
    channels = [*labels.channels, TOTAL]
    for slug in slugs:
        for code in channels:
            base = {"transaction": slug, "channel": code}
            volume = shown(view.get(VOLUME, **base, council_type=TOTAL, region=TOTAL))
            if code == TOTAL:
                share = _whole_share(volume, [row[3] for row in table.rows if row[0] == slug])
            else:
                share = shown(view.get(SHARE, **base, council_type=TOTAL, region=TOTAL), "percent")
            row: list[str | Shown] = [labels.transaction(slug), labels.channel(code), volume, share]
            row += [shown(view.get(VOLUME, **base, council_type=k, region=TOTAL)) for k in kinds]
            table.rows.append(row)
    return table


def _whole_share(total: Shown, shares: list[Shown]) -> Shown:
    """The "All channels" share: 100% by definition, a constant, whenever there is anything
    to share (the total is published and above zero, or some channel's share is published);
    [z] when the total is zero; [c] when nothing shows the total is above zero."""
    if (total.number or 0) > 0 or any(s.number is not None for s in shares):
        return Shown(100, "percent", constant="all channels share")
    if total.number == 0 or all(s.symbol == NOT_APPLICABLE for s in shares):
        return Shown(None, "percent", NOT_APPLICABLE)
    return Shown(None, "percent", CONFIDENTIAL)


def table_take_up(view: ReleaseView, labels: Labels) -> ReportTable:
    kinds, regions = _kinds(view), _regions(view)
    table = ReportTable(
        "take-up",
        "Digital take-up ((web + app) / all recorded channels) by council type and region",
        ["Transaction", "England"]
        + [kind_label(k) for k in kinds]
        + [region_label(r) for r in regions],
    )
    for slug in [*labels.transactions, TOTAL]:
        row: list[str | Shown] = [labels.transaction(slug)]
        pairs = [(TOTAL, TOTAL)] + [(k, TOTAL) for k in kinds] + [(TOTAL, r) for r in regions]
        row += [
            shown(view.get(TAKE_UP, transaction=slug, council_type=k, region=r), "percent")
            for k, r in pairs
        ]
        table.rows.append(row)
    return table


def table_take_up_matrix(
    view: ReleaseView, labels: Labels, transaction: str = TOTAL
) -> ReportTable:
    kinds, regions = _kinds(view), _regions(view)
    table = ReportTable(
        "take-up-type-region",
        f"Digital take-up by council type and region: {labels.transaction(transaction)}",
        ["Council type"] + [region_label(r) for r in regions] + ["England"],
    )
    for kind in [*kinds, TOTAL]:
        row: list[str | Shown] = [kind_label(kind)]
        for region in [*regions, TOTAL]:
            cell = view.get(TAKE_UP, transaction=transaction, council_type=kind, region=region)
            row.append(shown(cell, "percent") if cell else Shown(None, "percent", "[z]"))
        table.rows.append(row)
    return table


def table_costs(view: ReleaseView, labels: Labels) -> ReportTable:
    scenario = SCENARIOS[0]
    table = ReportTable(
        "costs",
        "Estimated cost at published unit costs, and the channel-shift scenario: "
        + scenario.title.lower(),
        [
            "Transaction",
            "Council type",
            "Estimated cost",
            "Transactions moved",
            "Change in cost",
        ],
        label_columns=2,
    )
    for slug in [*labels.transactions, TOTAL]:
        for kind in [TOTAL, *_kinds(view)]:
            keys = {"transaction": slug, "council_type": kind}
            table.rows.append(
                [
                    labels.transaction(slug),
                    kind_label(kind),
                    shown(view.get(COST_DEFAULT, **keys), "pounds"),
                    shown(view.get(SCENARIO, **keys, scenario=scenario.slug, measure="moved")),
                    shown(
                        view.get(SCENARIO, **keys, scenario=scenario.slug, measure="cost_change"),
                        "pounds",
                    ),
                ]
            )
    return table


def table_own_costs(view: ReleaseView, labels: Labels) -> ReportTable:
    kinds = _kinds(view)
    table = ReportTable(
        "own-costs",
        "Estimated cost at councils' own unit costs (published defaults where none given)",
        ["Channel", "England"] + [kind_label(k) for k in kinds],
    )
    for code in [*labels.channels, TOTAL]:
        row: list[str | Shown] = [labels.channel(code)]
        for kind in [TOTAL, *kinds]:
            cost = shown(view.get(COST_OWN, channel=code, council_type=kind), "pounds")
            if code in labels.uncosted and cost.number == 0:
                cost = Shown(None, "pounds", NOT_COSTED)  # no unit cost, so not costed: not £0
            row.append(cost)
        table.rows.append(row)
    return table


def _frequency_table(
    view: ReleaseView,
    slug: str,
    title: str,
    table_name: str,
    first: list[str],
    groups: list[tuple[list[str], dict[str, str]]],
    answers_for,
) -> ReportTable:
    kinds = _kinds(view)
    table = ReportTable(
        slug,
        title,
        [*first, "Answer", "England"] + [kind_label(k) for k in kinds],
        label_columns=len(first) + 1,
    )
    for labels_row, base in groups:
        for answer in answers_for(base):
            row: list[str | Shown] = [*labels_row, ANSWER_LABELS.get(answer, answer)]
            row += [
                shown(view.get(table_name, **base, answer=answer, council_type=k))
                for k in [TOTAL, *kinds]
            ]
            table.rows.append(row)
    return table


def table_provision(view: ReleaseView, labels: Labels) -> ReportTable:
    return _frequency_table(
        view,
        "provision",
        "Councils providing each transaction",
        PROVISION,
        ["Transaction"],
        [([labels.transaction(s)], {"transaction": s}) for s in labels.transactions],
        lambda base: PROVISION_ANSWERS,
    )


def table_end_to_end(view: ReleaseView, labels: Labels) -> ReportTable:
    return _frequency_table(
        view,
        "end-to-end",
        "Councils providing a transaction: can it be completed end to end online?",
        END_TO_END,
        ["Transaction"],
        [([labels.transaction(s)], {"transaction": s}) for s in labels.transactions],
        lambda base: END_TO_END_ANSWERS,
    )


def table_offered(view: ReleaseView, labels: Labels) -> ReportTable:
    kinds = _kinds(view)
    table = ReportTable(
        "offered",
        "Councils offering each channel for a transaction they provide",
        ["Transaction", "Channel", "England"] + [kind_label(k) for k in kinds],
        label_columns=2,
    )
    for slug in labels.transactions:
        for code in labels.channels:
            row: list[str | Shown] = [labels.transaction(slug), labels.channel(code)]
            row += [
                shown(view.get(OFFERED, transaction=slug, channel=code, council_type=k))
                for k in [TOTAL, *kinds]
            ]
            table.rows.append(row)
    return table


def table_answers(view: ReleaseView, labels: Labels) -> ReportTable:
    questions: dict[tuple[str, str], list[str]] = {}
    for cell in view.of(ANSWERS):
        key = (cell.keys["section"], cell.keys["question"])
        answers = questions.setdefault(key, [])
        if cell.keys["answer"] not in answers:
            answers.append(cell.keys["answer"])
    return _frequency_table(
        view,
        "platforms-capability",
        "Platforms, capability and digital in complex services: councils by answer",
        ANSWERS,
        ["Question"],
        [([labels.questions.get(q, q)], {"section": s, "question": q}) for (s, q) in questions],
        lambda base: questions[base["section"], base["question"]],
    )


def table_volumes_detail(view: ReleaseView, labels: Labels) -> ReportTable:
    table = ReportTable(
        "volumes",
        "Transactions by transaction, channel, council type and region",
        ["Transaction", "Channel", "Council type", "Region", "Transactions"],
        label_columns=4,
    )
    for cell in view.of(VOLUME):
        k = cell.keys
        table.rows.append(
            [
                labels.transaction(k["transaction"]),
                labels.channel(k["channel"]),
                kind_label(k["council_type"]),
                region_label(k["region"]),
                shown(cell),
            ]
        )
    return table


def report_tables(*, view: ReleaseView, labels: Labels) -> list[ReportTable]:
    """Every table of a release, as the XLSX workbook has them (one sheet each)."""
    return [
        table_response_rates(view),
        table_channel_mix(view, labels),
        table_take_up(view, labels),
        table_take_up_matrix(view, labels),
        table_costs(view, labels),
        table_own_costs(view, labels),
        table_provision(view, labels),
        table_end_to_end(view, labels),
        table_offered(view, labels),
        table_answers(view, labels),
        table_volumes_detail(view, labels),
    ]


# --- Published cells (CSV and JSON) ---------------------------------------------------


KEY_COLUMNS = (
    "transaction",
    "channel",
    "council_type",
    "region",
    "section",
    "question",
    "answer",
    "scenario",
    "measure",
)


def published_cells(*, release: Release) -> list[dict]:
    """Every cell of a release as published: table, keys, value (None where [c])."""
    rows = []
    for cell in (
        ReleaseCell.objects.filter(release=release)
        .order_by("order")
        .only("cell_id", "table", "keys", "value", "status")
    ):
        hidden = cell.status in HIDDEN_STATUSES
        rows.append(
            {
                "id": cell.cell_id,
                "table": cell.table,
                "keys": cell.keys,
                "value": None if hidden else plain_number(cell.value),
                "symbol": CONFIDENTIAL
                if hidden
                else (NOT_APPLICABLE if cell.value is None else ""),
            }
        )
    return rows
