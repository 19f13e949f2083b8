"""How your council compares: one council's own figures beside the published cells.

A council that responded sees, through its own link, its figures (computed here from its own
submitted answers, with the definitions the release uses) beside the published aggregates of
its council type, its region and England. Nothing else: every other number on the page is a
``Shown`` read from a cell of the live public release (``reporting.publication``), hidden
cells read ``[c]``, and nothing about any other council is computed (no rank, percentile,
average or difference with another council). A council's own figures are its own business:
the page is behind its link, like its answers.

Definitions follow the release's (``reporting.tables`` and ``reporting.derived``): a figure
counts when the council provides the transaction, offers the channel and gave a number;
shares and digital take-up are over the recorded channels; costs are volumes times unit
costs (the published defaults, or the council's own where it gave one, else the default);
the channel-shift scenario is ``reporting.derived.SCENARIOS[0]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.urls import reverse

from publishing.models import PublicRelease, PublicReleaseStatus
from reporting.derived import COST_DEFAULT, SCENARIO, SCENARIOS, SHARE, TAKE_UP
from reporting.publication import Publication
from reporting.selectors import (
    NOT_COSTED,
    SYMBOL_MEANINGS,
    Shown,
    kind_label,
    region_label,
)
from reporting.tables import COST_OWN, REPORTING_KIND, TOTAL, parse_pounds
from survey_site.formatting import money_text
from surveys.choices import Provision
from surveys.models import Answer, Figure, Response, TransactionAnswer

if TYPE_CHECKING:
    from publishing.rounds import CellChange, OwnPrevious

SCENARIO_SHOWN = SCENARIOS[0]
# Why a council's own figure has no number.
NOT_PROVIDED, NOT_OFFERED, NOT_RECORDED, NO_FIGURE = (
    "Not provided",
    "Not offered",
    "Not recorded",
    "No figure",
)
NOT_COSTED_OWN = "Not costed"
NOTHING_TO_SHARE = "No transactions"
OWN_NOTES = (NOT_PROVIDED, NOT_OFFERED, NOT_RECORDED, NO_FIGURE, NOT_COSTED_OWN, NOTHING_TO_SHARE)


@dataclass(frozen=True)
class Own:
    """One of the council's own figures: computed from its own answers, never published.

    ``key`` names what it is (e.g. ``share|pay-council-tax|WEB``): pages mark the figure
    with it (``data-own``), so a test can check every number on the page.
    """

    number: float | None
    unit: str
    key: str
    note: str = ""
    own = True

    @property
    def text(self) -> str:
        if self.number is None:
            return self.note
        if self.unit == "percent":
            return f"{self.number:.1f}%"
        if self.unit == "pounds":
            return money_text(self.number)
        if self.unit == "unit_cost":
            return money_text(self.number, pence=True)
        return f"{self.number:,.0f}"


Figure_ = Own | Shown


@dataclass
class Table:
    caption: str
    head: list[str]
    # A change since the previous round (``CellChange``) only in its "Since" tables.
    rows: list[list[str | Figure_ | CellChange]] = field(default_factory=list)

    def symbols(self) -> dict[str, str]:
        used = {
            v.text for row in self.rows for v in row if isinstance(v, Shown) and v.number is None
        }
        return {s: meaning for s, meaning in SYMBOL_MEANINGS.items() if s in used}


@dataclass
class Channel:
    code: str
    name: str
    digital: bool
    default_cost: float | None


@dataclass
class Answers:
    """What the council answered, as the release counts it."""

    provided: dict[str, bool]  # transaction slug -> provides it
    offered: dict[str, set[str]]  # transaction slug -> channels offered
    volumes: dict[tuple[str, str], float]  # (transaction, channel) -> counted figure
    not_recorded: set[tuple[str, str]]
    own_costs: dict[str, float]  # channel -> the council's own unit cost, where it gave one


def answers_of(response: Response, channels: Iterable[Channel]) -> Answers:
    provided: dict[str, bool] = {}
    offered: dict[str, set[str]] = {}
    for slug, provision, codes in TransactionAnswer.objects.filter(response=response).values_list(
        "transaction__slug", "provision", "channels_offered"
    ):
        provided[slug] = provision == Provision.YES
        offered[slug] = set(codes or []) if provided[slug] else set()
    volumes, not_recorded = {}, set()
    for slug, code, value, unrecorded in Figure.objects.filter(response=response).values_list(
        "transaction__slug", "channel__code", "value", "not_recorded"
    ):
        if code not in offered.get(slug, set()):
            continue  # a figure that does not stand (reporting.tables.standing_channels)
        if value is not None:
            volumes[slug, code] = float(value)
        elif unrecorded:
            not_recorded.add((slug, code))
    wanted = {f"unit-cost-{c.code.lower()}": c.code for c in channels}
    own_costs = {}
    for slug, value in Answer.objects.filter(
        response=response, question__slug__in=list(wanted)
    ).values_list("question__slug", "value"):
        cost = parse_pounds(value)
        if cost is not None:
            own_costs[wanted[slug]] = cost
    return Answers(provided, offered, volumes, not_recorded, own_costs)


@dataclass
class SincePrevious:
    """The council's figures in the previous round beside its own now (``own_previous``:
    its own, or the councils' it replaced, summed), and the published changes of its type,
    its region and England (``cell_changes``: cells published in both rounds)."""

    name: str  # the previous round's name
    own: OwnPrevious
    replaced: list[str]  # the councils it replaced, when merged
    volumes: Table | None  # None when there are no previous figures (own.reason says why)
    take_up: Table
    classification_note: str


@dataclass
class Comparison:
    """Everything the page shows, each figure an ``Own`` or a published ``Shown``."""

    kind: str
    region: str
    kind_name: str
    region_name: str
    columns: list[str]  # "Published: <type>", "Published: <region>", "Published: England"
    channel_mix: list[tuple[str, Own, Table]]  # (transaction name, its total, table)
    not_provided: list[str]
    take_up: Table
    costs: Table
    channel_costs: Table
    scenario: Table
    scenario_title: str
    saving: Own | None
    gave_own_costs: bool
    since: SincePrevious | None = None


def council_groups(response: Response) -> tuple[str, str]:
    """The council's type as the release reports it (single-council types with their peers)
    and its region."""
    authority = response.authority
    return REPORTING_KIND.get(authority.kind, authority.kind), authority.region


class Builder:
    def __init__(self, response: Response, publication: Publication) -> None:
        self.publication = publication
        self.response = response
        self.kind, self.region = council_groups(response)
        questionnaire = response.survey.questionnaire
        self.channels = [
            Channel(
                c.code,
                c.name,
                c.is_digital,
                float(c.default_unit_cost) if c.default_unit_cost is not None else None,
            )
            for c in questionnaire.channels.order_by("order")
        ]
        self.transactions = list(publication.transactions.items())
        self.answers = answers_of(response, self.channels)
        self.published_labels = [
            f"Published: {kind_label(self.kind)}",
            f"Published: {region_label(self.region)}",
            "Published: England",
        ]

    # --- The council's own figures ------------------------------------------------------

    def provided(self) -> list[str]:
        return [slug for slug, _ in self.transactions if self.answers.provided.get(slug)]

    def volume(self, slugs: Iterable[str], codes: Iterable[str]) -> float:
        return sum(self.answers.volumes.get((s, c), 0.0) for s in slugs for c in codes)

    def has_figures(self, slugs: Iterable[str]) -> bool:
        slugs = set(slugs)
        return any(s in slugs for s, _ in self.answers.volumes)

    def unit_cost(self, code: str, *, own: bool) -> float | None:
        default = next(c.default_cost for c in self.channels if c.code == code)
        return self.answers.own_costs.get(code, default) if own else default

    def cost(self, slugs: list[str], codes: Iterable[str], *, own: bool) -> float | None:
        """Volumes times unit costs; None when no channel with a figure has a unit cost."""
        total, costed = 0.0, False
        for code in codes:
            cost = self.unit_cost(code, own=own)
            volume = self.volume(slugs, [code])
            if cost is None:
                continue
            costed = True
            total += volume * cost
        return round(total, 2) if costed else None

    def scenario_figures(self, slugs: list[str], *, own: bool) -> tuple[float, float] | None:
        """(transactions moved, change in cost) of the scenario, as reporting.derived."""
        sc = SCENARIO_SHOWN
        costs = {c.code: self.unit_cost(c.code, own=own) for c in self.channels}
        if costs.get(sc.to) is None or any(costs.get(c) is None for c in sc.moved):
            return None
        moved = sum(f * self.volume(slugs, [c]) for c, f in sc.moved.items())
        change = sum(
            f * self.volume(slugs, [c]) * (costs[sc.to] - costs[c]) for c, f in sc.moved.items()
        )
        return round(moved, 2), round(change, 2)

    def own_volume(self, slug: str, code: str) -> Own:
        key, own_key = (slug, code), f"volume|{slug}|{code}"
        if code not in self.answers.offered.get(slug, set()):
            return Own(None, "count", own_key, NOT_OFFERED)
        if key in self.answers.volumes:
            return Own(self.answers.volumes[key], "count", own_key)
        if key in self.answers.not_recorded:
            return Own(None, "count", own_key, NOT_RECORDED)
        return Own(None, "count", own_key, NO_FIGURE)

    def own_take_up(self, volumes: dict[tuple[str, str], float], slugs, key: str) -> Own:
        """Web and app as a share of the recorded channels of ``slugs``."""
        digital = {c.code for c in self.channels if c.digital}
        counted = [(code, v) for (s, code), v in volumes.items() if s in slugs and v is not None]
        total = sum(v for _code, v in counted)
        if total <= 0:
            return Own(None, "percent", key, NOTHING_TO_SHARE)
        return Own(
            round(100 * sum(v for c, v in counted if c in digital) / total, 1), "percent", key
        )

    # --- Published cells ------------------------------------------------------------------

    def published(self, table: str, unit: str, **keys: str) -> list[Shown]:
        """The cell for the council's type, its region and England (keys in the release's
        order, council_type and region last)."""
        return [
            self.publication.figure(table, unit, **keys, council_type=k, region=r)
            for k, r in ((self.kind, TOTAL), (TOTAL, self.region), (TOTAL, TOTAL))
        ]

    def published_by_type(self, table: str, unit: str, **keys: str) -> list[Shown]:
        """Tables published by type only (costs): the council's type and England."""
        figure = self.publication.figure
        return [figure(table, unit, **keys, council_type=k) for k in (self.kind, TOTAL)]

    # --- Tables -------------------------------------------------------------------------

    def channel_mix(self) -> list[tuple[str, Own, Table]]:
        mixes = []
        for slug, name in self.transactions:
            if not self.answers.provided.get(slug):
                continue
            total = self.volume([slug], [c.code for c in self.channels])
            table = Table(
                f"{name}: transactions by channel",
                ["Channel", "Your council: transactions", "Your council: share"]
                + [f"{label}: share" for label in self.published_labels],
            )
            for channel in self.channels:
                volume = self.own_volume(slug, channel.code)
                share_key = f"share|{slug}|{channel.code}"
                if volume.number is not None and total > 0:
                    share = Own(round(100 * volume.number / total, 1), "percent", share_key)
                else:
                    share = Own(None, "percent", share_key, volume.note or NOTHING_TO_SHARE)
                published = self.published(SHARE, "percent", transaction=slug, channel=channel.code)
                table.rows.append([channel.name, volume, share, *published])
            mixes.append((name, Own(total, "count", f"total|{slug}"), table))
        return mixes

    def take_up(self) -> Table:
        table = Table(
            "Digital take-up: web and app transactions as a share of all recorded channels",
            ["Transaction", "Your council", *self.published_labels],
        )
        provided = self.provided()
        for slug, name in [*[(s, n) for s, n in self.transactions if s in provided], (TOTAL, "")]:
            slugs = provided if slug == TOTAL else [slug]
            own = self.own_take_up(self.answers.volumes, slugs, f"take_up|{slug}")
            label = "All transactions" if slug == TOTAL else name
            table.rows.append([label, own, *self.published(TAKE_UP, "percent", transaction=slug)])
        return table

    def costs(self) -> Table:
        type_label, england = self.published_labels[0], self.published_labels[2]
        table = Table(
            "Estimated cost of each transaction",
            [
                "Transaction",
                "Your council: at published unit costs",
                "Your council: at your own unit costs",
                f"{type_label}: all responding councils, at published unit costs",
                f"{england}: all responding councils, at published unit costs",
            ],
        )
        provided = self.provided()
        codes = [c.code for c in self.channels]
        for slug, name in [*[(s, n) for s, n in self.transactions if s in provided], (TOTAL, "")]:
            slugs = provided if slug == TOTAL else [slug]
            row: list[str | Figure_] = ["All transactions" if slug == TOTAL else name]
            for own, key in ((False, "cost_default"), (True, "cost_own")):
                row.append(_own(self.cost(slugs, codes, own=own), "pounds", f"{key}|{slug}"))
            row += self.published_by_type(COST_DEFAULT, "pounds", transaction=slug)
            table.rows.append(row)
        return table

    def channel_costs(self) -> Table:
        type_label, england = self.published_labels[0], self.published_labels[2]
        table = Table(
            "Estimated cost by channel, all transactions",
            [
                "Channel",
                "Published unit cost",
                "Your unit cost",
                "Your council: at published unit costs",
                "Your council: at your own unit costs",
                f"{type_label}: at councils' own unit costs",
                f"{england}: at councils' own unit costs",
            ],
        )
        provided = self.provided()
        for channel in self.channels:
            code = channel.code
            default = Own(
                channel.default_cost, "unit_cost", f"default_unit_cost|{code}", NOT_COSTED_OWN
            )
            own_cost = self.answers.own_costs.get(code)
            yours = (
                Own(own_cost, "unit_cost", f"unit_cost|{code}")
                if own_cost is not None
                else "Not given (published used)"
                if channel.default_cost is not None
                else "Not given"
            )
            row: list[str | Figure_] = [channel.name, default, yours]
            for own, key in ((False, "channel_cost_default"), (True, "channel_cost_own")):
                row.append(_own(self.cost(provided, [code], own=own), "pounds", f"{key}|{code}"))
            for shown in self.published_by_type(COST_OWN, "pounds", channel=code):
                if code in self.publication.labels.uncosted and shown.number == 0:
                    shown = Shown(None, "pounds", NOT_COSTED)  # as reporting.selectors does
                row.append(shown)
            table.rows.append(row)
        return table

    def scenario(self) -> Table:
        type_label, england = self.published_labels[0], self.published_labels[2]
        table = Table(
            f"Channel shift: {SCENARIO_SHOWN.title.lower()}",
            [
                "Transaction",
                "Your council: transactions moved",
                "Your council: change in cost at published unit costs",
                "Your council: change in cost at your own unit costs",
                f"{type_label}: transactions moved",
                f"{type_label}: change in cost",
                f"{england}: transactions moved",
                f"{england}: change in cost",
            ],
        )
        provided = self.provided()
        for slug, name in [*[(s, n) for s, n in self.transactions if s in provided], (TOTAL, "")]:
            slugs = provided if slug == TOTAL else [slug]
            row: list[str | Figure_] = ["All transactions" if slug == TOTAL else name]
            at_default = self.scenario_figures(slugs, own=False)
            at_own = self.scenario_figures(slugs, own=True)
            row.append(_own(at_default and at_default[0], "count", f"moved|{slug}"))
            row.append(_own(at_default and at_default[1], "pounds", f"cost_change|{slug}"))
            row.append(_own(at_own and at_own[1], "pounds", f"cost_change_own|{slug}"))
            for kind in (self.kind, TOTAL):
                base = {
                    "transaction": slug,
                    "council_type": kind,
                    "scenario": SCENARIO_SHOWN.slug,
                }
                row.append(self.publication.figure(SCENARIO, "count", **base, measure="moved"))
                row.append(
                    self.publication.figure(SCENARIO, "pounds", **base, measure="cost_change")
                )
            table.rows.append(row)
        return table

    def since(self) -> SincePrevious | None:
        """The council's previous figures and the published changes, if there is a round
        before this one (``publishing.rounds``)."""
        # Imported here: publishing.rounds reads publishing.services, whose emails read
        # this module.
        from publishing.rounds import (
            CLASSIFICATION_NOTE,
            cell_changes,
            own_previous,
            previous_publication,
        )
        from publishing.since import NOT_COMPARED

        survey = self.response.survey
        found = previous_publication(survey)
        if found is None:
            return None
        previous = found[1]
        own = own_previous(self.response.authority, survey)
        name, now = previous.round.name, self.publication.round.name
        whose = "Councils your council replaced" if own.merged else "Your council"
        figures = own.figures
        provided = self.provided()
        rows = [*[(s, n) for s, n in self.transactions if s in provided], (TOTAL, "")]

        volumes = None
        if figures is not None:
            volumes = Table(
                f"Transactions by channel: {name} and {now}",
                ["Transaction and channel", f"{whose}: {name}", f"Your council: {now}"],
            )
            for slug, tname in rows[:-1]:
                for channel in self.channels:
                    key = (slug, channel.code)
                    current = self.own_volume(slug, channel.code)
                    if key not in figures and current.note == NOT_OFFERED:
                        continue
                    before_key = f"previous|volume|{slug}|{channel.code}"
                    if key not in figures:
                        before = Own(None, "count", before_key, NO_FIGURE)
                    elif figures[key] is None:
                        before = Own(None, "count", before_key, NOT_RECORDED)
                    else:
                        before = Own(figures[key], "count", before_key)
                    volumes.rows.append([f"{tname}: {channel.name}", before, current])

        take_up = Table(
            f"Digital take-up: {name} and {now}",
            [
                "Transaction",
                *([f"{whose}: {name}"] if figures is not None else []),
                f"Your council: {now}",
                *[f"{label}: change since {name}" for label in self.published_labels],
            ],
        )
        changes = cell_changes(self.publication, previous, TAKE_UP)
        before_slugs = {s for s, _code in figures or {}}
        for slug, tname in rows:
            row: list = ["All transactions" if slug == TOTAL else tname]
            if figures is not None:
                slugs = before_slugs if slug == TOTAL else {slug}
                row.append(self.own_take_up(figures, slugs, f"previous|take_up|{slug}"))
            slugs = provided if slug == TOTAL else [slug]
            row.append(self.own_take_up(self.answers.volumes, slugs, f"take_up|{slug}"))
            for shown in self.published(TAKE_UP, "percent", transaction=slug):
                row.append(changes.get(shown.cell) or NOT_COMPARED)
            take_up.rows.append(row)
        replaced = [c.official_name for c in own.councils] if own.merged else []
        return SincePrevious(name, own, replaced, volumes, take_up, CLASSIFICATION_NOTE)

    def build(self) -> Comparison:
        scenario = self.scenario()
        provided = self.provided()
        tables = [self.costs(), self.channel_costs(), scenario]
        if not self.answers.own_costs:
            for table in tables:  # at "its own unit costs" only where it gave them
                _drop_columns(table, "at your own unit costs")
        overall = self.scenario_figures(provided, own=False)
        saving = None
        if overall is not None and overall[1] < 0:
            saving = Own(-overall[1], "pounds", "saving")
        return Comparison(
            kind=self.kind,
            region=self.region,
            kind_name=kind_label(self.kind),
            region_name=region_label(self.region),
            columns=self.published_labels,
            channel_mix=self.channel_mix(),
            not_provided=[n for s, n in self.transactions if s not in provided],
            take_up=self.take_up(),
            costs=tables[0],
            channel_costs=tables[1],
            scenario=scenario,
            scenario_title=SCENARIO_SHOWN.title,
            saving=saving,
            gave_own_costs=bool(self.answers.own_costs),
            since=self.since(),
        )


def _drop_columns(table: Table, ending: str) -> None:
    keep = [i for i, head in enumerate(table.head) if not head.endswith(ending)]
    table.head = [table.head[i] for i in keep]
    table.rows = [[row[i] for i in keep] for row in table.rows]


def _own(value: float | None, unit: str, key: str) -> Own:
    return Own(value, unit, key, "" if value is not None else NOT_COSTED_OWN)


def comparison(response: Response, publication: Publication) -> Comparison:
    return Builder(response, publication).build()


# --- Which page a council sees --------------------------------------------------------

READY, NOT_RESPONDED, WITHDRAWN, NOT_READY = "ready", "not_responded", "withdrawn", "not_ready"


@dataclass
class State:
    status: str
    public: PublicRelease | None = None


def responded(response: Response, public: PublicRelease) -> bool:
    """Whether the release counted this council's answers (its inputs name the response)."""
    return any(row and row[0] == response.pk for row in public.release.inputs)


def state_of(response: Response) -> State:
    """The live version (ready, or not responded), a withdrawn one, or nothing yet."""
    versions = PublicRelease.objects.filter(survey_id=response.survey_id).exclude(
        status=PublicReleaseStatus.DRAFT
    )
    live = versions.filter(status=PublicReleaseStatus.PUBLISHED).select_related("release").first()
    if live is not None:
        return State(READY if responded(response, live) else NOT_RESPONDED, live)
    withdrawn = versions.filter(status=PublicReleaseStatus.WITHDRAWN).order_by("-version").first()
    if withdrawn is not None:
        return State(WITHDRAWN, withdrawn)
    return State(NOT_READY)


def ever_published(survey_id: int) -> bool:
    return (
        PublicRelease.objects.filter(survey_id=survey_id)
        .exclude(status=PublicReleaseStatus.DRAFT)
        .exists()
    )


def public_release_url(public: PublicRelease) -> str:
    """The public release page of the round (publishing's public pages)."""
    return reverse("publishing:release", args=[public.survey.slug])


# --- Where a council's link goes after its round has closed (surveys.after_close) ---------


def after_close(response: Response):
    """A closed round's link opens the council's comparison once any version of the round's
    public release has been published (withdrawn since: the page says so)."""
    from surveys.after_close import AfterClose

    if not ever_published(response.survey_id):
        return None
    return AfterClose(
        url=reverse("comparison:compare"),
        title="How your council compares",
        description="The round's results are published. See your council's own figures "
        "beside the published figures for councils of its type, its region and England.",
    )
