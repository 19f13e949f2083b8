"""Aggregation: from submitted answers (pandas frames) to the cells and relations of a release.

Pure Python (pandas and numpy, no Django), so the benchmark can feed it synthetic frames.
Every table of a release is one part of a single linked system handed to
``reporting.disclosure.protect``: margins are relations, and tables share cells (the number of
responding councils of a type is the total of every answer table of that type; councils
providing a transaction are the total of its end-to-end answers). Contributors are council GSS
codes, so the audit can play each council as an insider.

Cell ids read ``table|key|key|...``; ``keys`` name the dimensions (``TOTAL`` for a margin).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from reporting.disclosure import Cell, Contributions, Relation

TOTAL = "total"
NOT_ANSWERED = "not_answered"
PROVISION_ANSWERS = ("yes", "not_responsible", "other_organisation", NOT_ANSWERED)
END_TO_END_ANSWERS = ("yes", "partly", "no", NOT_ANSWERED)

# Tables in the protected system.
RESPONDED = "responded"
VOLUME = "volume"
OFFERED = "offered"
PROVISION = "provision"
END_TO_END = "end_to_end"
ANSWERS = "answers"
COST_OWN = "cost_own"
PROTECTED_TABLES = (RESPONDED, VOLUME, OFFERED, PROVISION, END_TO_END, ANSWERS, COST_OWN)


@dataclass(frozen=True)
class ChannelInfo:
    code: str
    name: str
    is_digital: bool
    default_cost: float | None


@dataclass(frozen=True)
class QuestionInfo:
    """A closed question whose answers are published as a frequency table."""

    slug: str
    section: str
    text: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """What a round asks and who it invites: all public, structural knowledge."""

    transactions: tuple[tuple[str, str], ...]  # (slug, name)
    channels: tuple[ChannelInfo, ...]
    kinds: tuple[str, ...]
    regions: tuple[str, ...]
    # (council type, region) groups that exist in the population, and how many were invited.
    invited: dict[tuple[str, str], int]
    questions: tuple[QuestionInfo, ...] = ()

    @property
    def groups(self) -> list[tuple[str, str]]:
        return [(k, r) for k in self.kinds for r in self.regions if (k, r) in self.invited]

    def regions_of(self, kind: str) -> list[str]:
        return [r for r in self.regions if (kind, r) in self.invited]

    def kinds_in(self, region: str) -> list[str]:
        return [k for k in self.kinds if (k, region) in self.invited]


@dataclass
class Inputs:
    """Submitted answers as frames.

    councils: gss, kind, region (one row per submitted response, index = response id).
    transactions: response, transaction, provision, offered (list), end_to_end.
    figures: response, transaction, channel, value (not-recorded figures left out).
    answers: response, question, value (closed questions and unit costs only).
    """

    councils: pd.DataFrame
    transactions: pd.DataFrame
    figures: pd.DataFrame
    answers: pd.DataFrame


@dataclass
class CellMeta:
    table: str
    keys: dict[str, str]
    order: int


@dataclass
class System:
    """The cells and relations handed to ``protect``, with each cell's table and keys."""

    cells: list[Cell] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    meta: dict[str, CellMeta] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)

    def _add(self, cell: Cell, table: str, keys: dict[str, str], value: float) -> str:
        self.cells.append(cell)
        self.meta[cell.id] = CellMeta(table, keys, len(self.meta))
        self.values[cell.id] = value
        return cell.id

    def magnitude(
        self, table: str, keys: dict[str, str], gss: np.ndarray, values: np.ndarray
    ) -> str:
        cell_id = cell_key(table, keys)
        cell = Cell(cell_id, contributions=Contributions(gss, values.astype(np.float64)))
        return self._add(cell, table, keys, float(values.sum()))

    def frequency(self, table: str, keys: dict[str, str], gss: Sequence[str]) -> str:
        cell_id = cell_key(table, keys)
        return self._add(Cell(cell_id, contributors=list(gss)), table, keys, float(len(gss)))

    def total(
        self, table: str, keys: dict[str, str], parts: Sequence[str], *, group_check: bool = False
    ) -> str:
        """A margin: its value is the sum of its parts, and the relation says so."""
        cell_id = cell_key(table, keys)
        value = float(sum(self.values[p] for p in parts))
        self._add(Cell(cell_id, value=value), table, keys, value)
        self.relations.append(Relation(cell_id, tuple(parts), group_check=group_check))
        return cell_id

    def relate(self, total: str, parts: Sequence[str], *, group_check: bool = False) -> None:
        """A relation between cells that exist already."""
        self.relations.append(Relation(total, tuple(parts), group_check=group_check))


def cell_key(table: str, keys: dict[str, str]) -> str:
    return "|".join((table, *keys.values()))


def parse_pounds(value: object) -> float | None:
    """A money answer ("2.50", "£2.50") as pounds, or None when it is not a usable amount."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().lstrip("£").replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return float(amount)


def _split(keys: pd.DataFrame, gss: np.ndarray, values: np.ndarray):
    """Group rows by key tuple: {key tuple: (gss array, value array)} in one sort."""
    if keys.empty:
        return {}
    frame = keys.copy()
    frame["_gss"] = gss
    frame["_value"] = values
    result = {}
    for key, group in frame.groupby(list(keys.columns), sort=False, observed=True):
        result[key if isinstance(key, tuple) else (key,)] = (
            group["_gss"].to_numpy(),
            group["_value"].to_numpy(dtype=np.float64),
        )
    return result


# Council types of a single council are reported with their nearest peers, as official
# statistics do: a breakdown by type would otherwise show that one council's answers
# (every council of the group in one category: group disclosure).
REPORTING_KIND = {"city_of_london": "london_borough", "isles_of_scilly": "unitary"}


def merge_small_kinds(catalogue: Catalogue) -> Catalogue:
    """The catalogue with single-council types merged into their peers (idempotent)."""
    kinds = tuple(dict.fromkeys(REPORTING_KIND.get(k, k) for k in catalogue.kinds))
    invited: Counter[tuple[str, str]] = Counter()
    for (kind, region), count in catalogue.invited.items():
        invited[REPORTING_KIND.get(kind, kind), region] += count
    return replace(catalogue, kinds=kinds, invited=dict(invited))


def build_system(catalogue: Catalogue, inputs: Inputs) -> System:
    """All protected tables of a release as one linked system."""
    catalogue = merge_small_kinds(catalogue)
    councils = inputs.councils.assign(kind=inputs.councils["kind"].replace(REPORTING_KIND))
    inputs = replace(inputs, councils=councils)
    system = System()
    councils = inputs.councils
    responded = _responded(system, catalogue, councils)
    provided = _provision(system, catalogue, inputs, responded)
    _end_to_end(system, catalogue, inputs, provided)
    _offered(system, catalogue, inputs)
    _volumes(system, catalogue, inputs)
    _answers(system, catalogue, inputs, responded)
    _own_costs(system, catalogue, inputs)
    return system


def _responded(system: System, cat: Catalogue, councils: pd.DataFrame) -> dict[str, str]:
    """Responding councils by type x region with margins; returns the type totals' ids."""
    by_group = {key: list(g["gss"]) for key, g in councils.groupby(["kind", "region"])}
    inner = {}
    for kind, region in cat.groups:
        keys = {"council_type": kind, "region": region}
        inner[kind, region] = system.frequency(RESPONDED, keys, by_group.get((kind, region), []))
    by_kind = {}
    for kind in cat.kinds:
        parts = [inner[kind, r] for r in cat.regions_of(kind)]
        by_kind[kind] = system.total(RESPONDED, {"council_type": kind, "region": TOTAL}, parts)
    for region in cat.regions:
        parts = [inner[k, region] for k in cat.kinds_in(region)]
        system.total(RESPONDED, {"council_type": TOTAL, "region": region}, parts)
    by_kind[TOTAL] = system.total(
        RESPONDED, {"council_type": TOTAL, "region": TOTAL}, [by_kind[k] for k in cat.kinds]
    )
    return by_kind


def _categorical(
    system: System,
    cat: Catalogue,
    table: str,
    base: dict[str, str],
    answers: pd.DataFrame,
    categories: Iterable[str],
    totals: dict[str, str],
) -> dict[str, str]:
    """Councils by answer category and type; each type's categories add up to ``totals``.

    ``answers`` has columns gss, kind, answer (one row per council in the group's total).
    Returns the ids of the type cells of the first category (used for linked tables).
    """
    categories = list(categories)
    grouped = {key: list(g["gss"]) for key, g in answers.groupby(["answer", "kind"])}
    first = {}
    by_category: dict[str, list[str]] = {c: [] for c in categories}
    for kind in cat.kinds:
        parts = []
        for category in categories:
            keys = {**base, "answer": category, "council_type": kind}
            cell = system.frequency(table, keys, grouped.get((category, kind), []))
            parts.append(cell)
            by_category[category].append(cell)
        # Everyone of this type in one answer category would disclose each council's answer.
        system.relate(totals[kind], parts, group_check=True)
        first[kind] = parts[0]
    england = []
    for category in categories:
        keys = {**base, "answer": category, "council_type": TOTAL}
        england.append(system.total(table, keys, by_category[category]))
    system.relate(totals[TOTAL], england, group_check=True)
    first[TOTAL] = england[0]
    return first


def _provision(
    system: System, cat: Catalogue, inputs: Inputs, responded: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Provision answers per transaction; returns the "yes" cells by transaction and type."""
    councils = inputs.councils
    # One column per transaction, one row per responding council (vectorised: a lookup
    # per council and transaction took most of the time at 35,000 councils).
    answered = inputs.transactions.pivot(
        index="response", columns="transaction", values="provision"
    ).reindex(councils.index)
    provided = {}
    for slug, _name in cat.transactions:
        column = answered[slug] if slug in answered else pd.Series(index=councils.index)
        answer = column.fillna("").replace("", NOT_ANSWERED)
        frame = pd.DataFrame({"gss": councils["gss"], "kind": councils["kind"], "answer": answer})
        provided[slug] = _categorical(
            system, cat, PROVISION, {"transaction": slug}, frame, PROVISION_ANSWERS, responded
        )
    return provided


def _providers(inputs: Inputs) -> pd.DataFrame:
    """Transaction answers of councils that provide the transaction, with type and region."""
    rows = inputs.transactions[inputs.transactions["provision"] == "yes"]
    return rows.join(inputs.councils, on="response", how="inner")


def _end_to_end(
    system: System, cat: Catalogue, inputs: Inputs, provided: dict[str, dict[str, str]]
) -> None:
    providers = _providers(inputs)
    for slug, _name in cat.transactions:
        rows = providers[providers["transaction"] == slug]
        frame = pd.DataFrame(
            {
                "gss": rows["gss"],
                "kind": rows["kind"],
                "answer": rows["end_to_end"].replace("", NOT_ANSWERED).fillna(NOT_ANSWERED),
            }
        )
        _categorical(
            system,
            cat,
            END_TO_END,
            {"transaction": slug},
            frame,
            END_TO_END_ANSWERS,
            provided[slug],
        )


def _offered(system: System, cat: Catalogue, inputs: Inputs) -> None:
    """Councils offering each channel, per transaction and type (several channels each)."""
    exploded = _providers(inputs)[["transaction", "offered", "gss", "kind"]].explode("offered")
    grouped = {
        key: list(g["gss"]) for key, g in exploded.groupby(["transaction", "offered", "kind"])
    }
    for slug, _name in cat.transactions:
        for channel in cat.channels:
            base = {"transaction": slug, "channel": channel.code}
            parts = [
                system.frequency(
                    OFFERED,
                    {**base, "council_type": kind},
                    grouped.get((slug, channel.code, kind), []),
                )
                for kind in cat.kinds
            ]
            system.total(OFFERED, {**base, "council_type": TOTAL}, parts)


def counted_figures(inputs: Inputs) -> pd.DataFrame:
    """Figures that count: the council provides the transaction, offers the channel, gave a
    number. Columns: response, transaction, channel, value, gss, kind, region."""
    figures = inputs.figures[inputs.figures["value"].notna()]
    offered = _providers(inputs)[["response", "transaction", "offered"]].explode("offered")
    offered = offered.rename(columns={"offered": "channel"}).dropna()
    counted = figures.merge(offered, on=["response", "transaction", "channel"], how="inner")
    return counted.join(inputs.councils, on="response", how="inner")


def _volumes(system: System, cat: Catalogue, inputs: Inputs) -> None:
    """Transactions by transaction x channel x type x region, with every margin, and the
    all-channels total of each (the denominator of shares and take-up)."""
    counted = counted_figures(inputs)
    split = _split(
        counted[["transaction", "channel", "kind", "region"]],
        counted["gss"].to_numpy(),
        counted["value"].to_numpy(dtype=np.float64),
    )
    empty = (np.array([], dtype=object), np.array([], dtype=np.float64))
    channels = [c.code for c in cat.channels]
    for slug, _name in cat.transactions:
        layers: dict[str, dict[tuple[str, str], str]] = {}
        for code in channels:
            inner = {}
            for kind, region in cat.groups:
                gss, values = split.get((slug, code, kind, region), empty)
                keys = _vkeys(slug, code, kind, region)
                inner[kind, region] = system.magnitude(VOLUME, keys, gss, values)
            layers[code] = _margins(system, cat, VOLUME, slug, code, inner)
        # All channels: one cell per (type, region) including the margins.
        inner_all = {}
        for (kind, region), _ in layers[channels[0]].items():
            parts = [layers[code][kind, region] for code in channels]
            keys = _vkeys(slug, TOTAL, kind, region)
            inner_all[kind, region] = system.total(VOLUME, keys, parts)
        _margin_relations(system, cat, inner_all)


def _vkeys(slug: str, channel: str, kind: str, region: str) -> dict[str, str]:
    return {"transaction": slug, "channel": channel, "council_type": kind, "region": region}


def _margins(
    system: System,
    cat: Catalogue,
    table: str,
    slug: str,
    code: str,
    inner: dict[tuple[str, str], str],
) -> dict[tuple[str, str], str]:
    """Type, region and England margins of one type x region table."""
    cells = dict(inner)
    for kind in cat.kinds:
        parts = [inner[kind, r] for r in cat.regions_of(kind)]
        cells[kind, TOTAL] = system.total(table, _vkeys(slug, code, kind, TOTAL), parts)
    for region in cat.regions:
        parts = [inner[k, region] for k in cat.kinds_in(region)]
        cells[TOTAL, region] = system.total(table, _vkeys(slug, code, TOTAL, region), parts)
    parts = [cells[k, TOTAL] for k in cat.kinds]
    cells[TOTAL, TOTAL] = system.total(table, _vkeys(slug, code, TOTAL, TOTAL), parts)
    return cells


def _margin_relations(system: System, cat: Catalogue, cells: dict[tuple[str, str], str]) -> None:
    """The margins of a table whose cells were all created as totals of another dimension."""
    for kind in cat.kinds:
        system.relate(cells[kind, TOTAL], [cells[kind, r] for r in cat.regions_of(kind)])
    for region in cat.regions:
        system.relate(cells[TOTAL, region], [cells[k, region] for k in cat.kinds_in(region)])
    system.relate(cells[TOTAL, TOTAL], [cells[k, TOTAL] for k in cat.kinds])


def _answers(system: System, cat: Catalogue, inputs: Inputs, responded: dict[str, str]) -> None:
    """Closed questions (platforms, capability, complex services) by answer and type."""
    councils = inputs.councils
    given = inputs.answers.pivot(index="response", columns="question", values="value").reindex(
        councils.index
    )
    for question in cat.questions:
        column = (
            given[question.slug]
            if question.slug in given
            else pd.Series(None, index=councils.index, dtype=object)
        )
        answer = column.map(lambda value, q=question: _category(value, q))
        frame = pd.DataFrame({"gss": councils["gss"], "kind": councils["kind"], "answer": answer})
        base = {"section": question.section, "question": question.slug}
        _categorical(
            system, cat, ANSWERS, base, frame, (*question.categories, NOT_ANSWERED), responded
        )


def _category(value: object, question: QuestionInfo) -> str:
    text = "" if value is None else str(value)
    return text if text in question.categories else NOT_ANSWERED


def unit_costs(cat: Catalogue, inputs: Inputs) -> pd.DataFrame:
    """Each council's unit cost per channel: its own answer, else the published default.

    Columns: response, channel, cost, own (bool). Channels with neither are left out.
    """
    rows = []
    own_answers = inputs.answers[inputs.answers["question"].str.startswith("unit-cost-")]
    own = {
        (rid, question[len("unit-cost-") :].upper()): parse_pounds(value)
        for rid, question, value in own_answers[["response", "question", "value"]].itertuples(
            index=False
        )
    }
    for rid in inputs.councils.index:
        for channel in cat.channels:
            cost = own.get((rid, channel.code))
            if cost is not None:
                rows.append((rid, channel.code, cost, True))
            elif channel.default_cost is not None:
                rows.append((rid, channel.code, channel.default_cost, False))
    return pd.DataFrame(rows, columns=["response", "channel", "cost", "own"])


def _own_costs(system: System, cat: Catalogue, inputs: Inputs) -> None:
    """Estimated cost (pounds) at councils' own unit costs, by channel and type."""
    counted = counted_figures(inputs)
    costs = unit_costs(cat, inputs)
    priced = counted.merge(costs, on=["response", "channel"], how="inner")
    priced["pounds"] = (priced["value"] * priced["cost"]).round(2)
    per_council = priced.groupby(["channel", "kind", "gss"], as_index=False)["pounds"].sum()
    split = _split(
        per_council[["channel", "kind"]],
        per_council["gss"].to_numpy(),
        per_council["pounds"].to_numpy(dtype=np.float64),
    )
    empty = (np.array([], dtype=object), np.array([], dtype=np.float64))
    by_kind: dict[str, list[str]] = {k: [] for k in cat.kinds}
    channel_totals = []
    for channel in cat.channels:
        parts = []
        for kind in cat.kinds:
            gss, values = split.get((channel.code, kind), empty)
            keys = {"channel": channel.code, "council_type": kind}
            cell = system.magnitude(COST_OWN, keys, gss, values)
            parts.append(cell)
            by_kind[kind].append(cell)
        keys = {"channel": channel.code, "council_type": TOTAL}
        channel_totals.append(system.total(COST_OWN, keys, parts))
    kind_totals = [
        system.total(COST_OWN, {"channel": TOTAL, "council_type": kind}, by_kind[kind])
        for kind in cat.kinds
    ]
    england = system.total(COST_OWN, {"channel": TOTAL, "council_type": TOTAL}, kind_totals)
    system.relate(england, channel_totals)
